from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from magnus_desktop.services import settings as settings_module
from magnus_desktop.services.scanner import scan_params_from_settings
from magnus_desktop.services.settings import (
    SCHEMA_VERSION,
    Settings,
    SettingsSaveError,
    SettingsStore,
    split_db_url,
    strip_db_password,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    s = Settings(theme="light", risk_free_rate=0.02, log_level="DEBUG", log_dir=tmp_path / "logs")
    s.scanner.dte_max = 45
    store.save(s)
    loaded = store.load()
    assert loaded == s and loaded.scanner.dte_max == 45 and loaded.log_dir == tmp_path / "logs"
    assert store.problem is None


def test_corrupt_file_is_kept_aside_and_defaults_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{ not json", encoding="utf-8")
    store = SettingsStore(path)
    s = store.load()
    assert s == Settings()
    assert store.problem and "defaults" in store.problem.lower()
    aside = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == "{ not json"
    assert not path.exists()


def test_invalid_values_are_rejected_not_silently_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "risk_free_rate": 7}), encoding="utf-8")
    store = SettingsStore(path)
    assert store.load().risk_free_rate == Settings().risk_free_rate
    assert store.problem is not None and "field risk_free_rate:" in store.problem


def test_newer_schema_is_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}), encoding="utf-8")
    store = SettingsStore(path)
    store.load()
    assert store.problem and "newer" in store.problem


# ---- every valid-JSON-but-wrong-shape document (hypothesis is not installed: a list) ----------
NASTY_DOCUMENTS = [
    '{"schema_version": 0}', '{"schema_version": -3}', '{"schema_version": "x"}', '{"schema_version": true}',
    '{"schema_version": 1.5}', '{"schema_version": null}', '{"schema_version": 10000000000000000000000}',
    "null", "[1]", "[]", '"a JSON string"', "42", "true", '{"scanner": 5}', '{"scanner": null}',
    '{"scanner": [1, 2]}', '{"theme": 3}', '{"theme": "blue"}', '{"risk_free_rate": "high"}',
    '{"risk_free_rate": NaN}', '{"commission_per_contract": Infinity}', '{"demo_starting_cash": 1e999}',
    '{"demo_starting_cash": 1e308}', '{"scanner": {"dte_max": ' + "9" * 5000 + "}}",
    '{"scanner": {"dte_max": 99999999999999999999999999}}', '{"scanner": {"dte_min": 50, "dte_max": 10}}',
    '{"scanner": {"delta_min": 0.4, "delta_max": 0.1}}', '{"scanner": {"right": "X", "premium_source": 1}}',
    '{"replay_date": "2018-13-45"}', '{"replay_date": 17}', '{"db_url": "not a url"}',
    '{"db_url": "mysql://u@h/x"}', '{"db_url": 5}', '{"log_level": "LOUD"}', '{"log_dir": "relative/dir"}',
    '{"log_dir": 7}', "[" * 100_000, '{"a": ' * 100_000, "{}" * 3, "",
    json.dumps({"theme": 1, "risk_free_rate": "x", "replay_speed": -1, "scanner": {"dte_min": -1}, "log_level": 0}),
]


@pytest.mark.parametrize("document", NASTY_DOCUMENTS, ids=lambda d: d[:40])
def test_nasty_documents_fall_back_to_defaults_with_a_readable_message(tmp_path: Path, document: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(document, encoding="utf-8")
    store = SettingsStore(path)
    assert store.load() == Settings()
    problem = store.problem
    assert problem is not None
    assert problem.startswith(f"Settings file {path} could not be used: ") and "Defaults are used" in problem
    assert "\n" not in problem and len(problem) < 600  # one paragraph, not a validation dump
    assert "pydantic" not in problem and "errors.pydantic.dev" not in problem and "For further" not in problem
    assert problem.count("field ") <= 4
    aside = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == document
    assert not path.exists()


def test_many_invalid_fields_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(NASTY_DOCUMENTS[-1], encoding="utf-8")
    store = SettingsStore(path)
    store.load()
    assert store.problem is not None
    assert "field theme: input should be 'light' or 'dark'" in store.problem
    assert "and 2 more" in store.problem


@pytest.mark.parametrize("content", [b"\xff\xfe{\x00", b"{" + b" " * (settings_module.MAX_FILE_BYTES + 1) + b"}"])
def test_binary_and_huge_files_are_set_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "Defaults are used" in store.problem
    assert [p.read_bytes() for p in tmp_path.glob("settings.json.corrupt-*")] == [content]


def test_a_folder_at_the_settings_path_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    (path / "inner").mkdir(parents=True)
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "it is a folder, not a file" in store.problem
    assert not path.exists() and len(list(tmp_path.glob("settings.json.corrupt-*/inner"))) == 1
    store.save(Settings(theme="light"))  # and the app can save again
    assert store.load().theme == "light"


def test_unreadable_file_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}", encoding="utf-8")

    def denied(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "cannot be read (Permission denied)" in store.problem


def test_file_that_cannot_be_moved_aside_still_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.json"
    path.write_text("null", encoding="utf-8")

    def no_rename(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(settings_module.os, "replace", no_rename)
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "could not be moved aside (Permission denied)" in store.problem
    assert path.read_text(encoding="utf-8") == "null"


def test_no_exception_escapes_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}", encoding="utf-8")

    def broken(*_a: object, **_k: object) -> Settings:
        raise RuntimeError("bug")

    monkeypatch.setattr(Settings, "model_validate", broken)
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.problem and "unexpected RuntimeError" in store.problem


def test_two_bad_files_in_one_second_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    for doc in ("null", "[1]"):
        path.write_text(doc, encoding="utf-8")
        SettingsStore(path).load()
    assert sorted(p.read_text(encoding="utf-8") for p in tmp_path.glob("settings.json.corrupt-*")) == ["[1]", "null"]


def test_inverted_scanner_ranges_no_longer_crash_the_workstation(tmp_path: Path) -> None:
    """Before: the file loaded and ``scan_params_from_settings`` raised ScanError at start."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "scanner": {"dte_min": 50, "dte_max": 10}}), encoding="utf-8")
    store = SettingsStore(path)
    loaded = store.load()
    assert store.problem and "field scanner.dte_max: must be at least the minimum DTE (50)" in store.problem
    assert scan_params_from_settings(loaded).dte_max == Settings().scanner.dte_max


# ---- schema migration ----------------------------------------------------------------------------
def test_version_1_file_migrates_and_keeps_its_values(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    v1 = {"schema_version": 1, "theme": "light", "risk_free_rate": 0.021, "replay_date": "2018-01-29",
          "scanner": {"dte_max": 30, "premium_source": "mid"}}
    path.write_text(json.dumps(v1), encoding="utf-8")
    store = SettingsStore(path)
    loaded = store.load()
    assert store.problem is None
    assert loaded.schema_version == SCHEMA_VERSION == 4
    assert (loaded.theme, loaded.risk_free_rate, str(loaded.replay_date)) == ("light", 0.021, "2018-01-29")
    assert (loaded.scanner.dte_max, loaded.scanner.premium_source) == (30, "mid")
    assert (loaded.log_level, loaded.log_dir) == ("INFO", None)
    store.save(loaded)
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION


def test_file_without_version_is_treated_as_version_1(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "light"}', encoding="utf-8")
    store = SettingsStore(path)
    assert store.load().theme == "light" and store.problem is None


def test_every_field_is_described() -> None:
    for model in (Settings, settings_module.ScannerSettings):
        for name, field in model.model_fields.items():
            assert field.description and len(field.description) > 15, f"{model.__name__}.{name}"


# ---- no password in db_url -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "bare", "password"),
    [
        ("postgresql://bob:s3cret@db.example.com:5432/magnus?sslmode=require",
         "postgresql://bob@db.example.com:5432/magnus?sslmode=require", "s3cret"),
        ("postgresql://bob:p%40ss%3Aw%2Frd%25@db/x", "postgresql://bob@db/x", "p@ss:w/rd%"),
        ("postgresql://bob@db/x", "postgresql://bob@db/x", None),
        ("sqlite:////tmp/a b/magnus.sqlite3", "sqlite:////tmp/a b/magnus.sqlite3", None),
    ],
)
def test_split_db_url(url: str, bare: str, password: str | None) -> None:
    assert split_db_url(url) == (bare, password)
    assert strip_db_password(url) == bare


def test_db_url_never_holds_a_password(tmp_path: Path) -> None:
    s = Settings(db_url="postgresql://bob:s3cret@db/x")
    assert s.db_url == "postgresql://bob@db/x"
    s.db_url = "postgresql://eve:other@db/y"  # assignment is validated too
    assert s.db_url == "postgresql://eve@db/y"
    assert Settings(db_url="  ").db_url is None


def test_password_in_an_old_file_is_dropped_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "db_url": "postgresql://bob:s3cret@db/x"}), encoding="utf-8")
    store = SettingsStore(path)
    loaded = store.load()
    assert loaded.db_url == "postgresql://bob@db/x"
    assert store.problem and "password was removed" in store.problem and "s3cret" not in store.problem
    store.save(loaded)
    assert "s3cret" not in path.read_text(encoding="utf-8")


def test_invalid_db_url_message_does_not_repeat_the_url() -> None:
    with pytest.raises(ValueError) as info:
        Settings(db_url="postgresql://bob:s3cret@db:notaport/x")
    assert "s3cret" not in str(info.value)


# ---- file mode 0600 ----------------------------------------------------------------------------------
def test_saved_file_and_its_temp_file_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o644)  # an older, world-readable file is replaced by a private one
    temp_modes: list[int] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        temp_modes.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(settings_module.os, "replace", spy)
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        SettingsStore(path).save(Settings())
    finally:
        os.umask(old_umask)
    assert temp_modes == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temp file left


# ---- failed saves -------------------------------------------------------------------------------------
def _store_with_previous(tmp_path: Path) -> tuple[SettingsStore, str]:
    store = SettingsStore(tmp_path / "settings.json")
    store.save(Settings(theme="light"))
    return store, store.path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "error"),
    [("replace", errno.EACCES), ("open", errno.EROFS), ("write", errno.ENOSPC), ("fsync", errno.EIO)],
)
def test_failed_save_raises_typed_error_and_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, error: int
) -> None:
    store, before = _store_with_previous(tmp_path)
    real = getattr(os, target)

    def fail(*args: object, **kwargs: object) -> object:
        if target == "open" and not str(args[0]).endswith(".tmp"):
            return real(*args, **kwargs)
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(settings_module.os, target, fail)
    with pytest.raises(SettingsSaveError) as info:
        store.save(Settings(theme="dark"))
    assert str(store.path) in str(info.value) and os.strerror(error) in str(info.value)
    assert info.value.path == store.path
    monkeypatch.undo()
    assert store.path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # the temp file was removed


def _drop_dac_command() -> list[str]:
    """Run a child without the power to ignore file permissions (root keeps it otherwise)."""
    if os.name != "posix":
        pytest.skip("file permission bits are POSIX-only")
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is missing: cannot drop CAP_DAC_OVERRIDE for a real read-only test")
    command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", sys.executable]
    probe = subprocess.run([*command, "-c", "pass"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode(errors='replace').strip()}")
    return command


def test_save_into_a_really_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    store, before = _store_with_previous(folder)
    folder.chmod(0o555)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from magnus_desktop.services.settings import Settings, SettingsSaveError, SettingsStore
        try:
            SettingsStore(Path({str(store.path)!r})).save(Settings(theme="dark"))
        except SettingsSaveError as exc:
            print("SAVE-ERROR", exc)
        else:
            print("SAVED")
    """)
    try:
        done = subprocess.run([*_drop_dac_command(), "-c", script], capture_output=True, text=True, timeout=60,
                              cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"SAVE-ERROR Could not save the settings to {store.path} (Permission denied)")
    assert store.path.read_text(encoding="utf-8") == before
    assert [p.name for p in folder.iterdir()] == ["settings.json"]
