"""Backup and restore: round trip through the AppContext with nothing lost, and every bad zip refused
with the current data untouched."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.health.backup import (
    DB_NAME,
    MANIFEST,
    BackupError,
    RestoreRefused,
    create_backup,
    validate_backup,
)
from magnus_desktop.services.health.service import known_revisions
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.storage import Database


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def dump(db_file: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, read with plain sqlite3 (independent of our code)."""
    conn = sqlite3.connect(db_file)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


async def started(ctx_home: Path, market: ReplayMarketData) -> AppContext:
    store = SettingsStore(ctx_home / "config" / "settings.json")
    ctx = AppContext(store, store.load(), market=market)
    await ctx.start()
    await ctx.refreshed.wait()
    return ctx


@pytest.mark.asyncio
async def test_round_trip_restores_rows_settings_layout_and_notes(isolated_home: Path, tmp_path: Path,
                                                               market: ReplayMarketData) -> None:
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "wheel.md").write_text("# sell puts at 30 delta\n", encoding="utf-8")
    (notes / "sub" / "ideas.txt").write_text("SPY condor\n", encoding="utf-8")
    ctx = await started(isolated_home, market)
    try:
        wl = await ctx.watchlists.create("Backed up")
        assert wl is not None
        ctx.settings.risk_free_rate = 0.0314
        ctx.settings.assistant.notes_folder = notes
        await ctx.save_settings()
        layout = ctx.paths.config_dir / "layout.ini"
        layout.write_text("[General]\nstate=@ByteArray(before)\n", encoding="utf-8")
        db_file = ctx.db.sqlite_path
        assert db_file is not None
        before_rows = dump(db_file)
        before_config = tree(ctx.paths.config_dir)
        before_notes = tree(notes)
        assert any("Backed up" in repr(rows) for rows in before_rows.values())

        result = await ctx.health.backup(tmp_path / "out")
        assert result.path.is_file() and DB_NAME in result.files and "notes/sub/ideas.txt" in result.files
        snap = await ctx.health.snapshot()
        assert snap.last_backup == result.path

        # change everything after the backup
        await ctx.watchlists.create("After the backup")
        ctx.settings.risk_free_rate = 0.05
        await ctx.save_settings()
        layout.write_text("[General]\nstate=@ByteArray(after)\n", encoding="utf-8")
        (notes / "wheel.md").write_text("changed\n", encoding="utf-8")
        assert dump(db_file) != before_rows

        message = await ctx.health.restore(result.path)
        assert "before-restore" in message
        assert ctx.db is not None and ctx.db_problem is None
        assert dump(ctx.db.sqlite_path) == before_rows
        assert tree(ctx.paths.config_dir) == before_config
        assert tree(notes) == before_notes
        assert ctx.settings.risk_free_rate == 0.0314
        assert {w.name for w in ctx.watchlists.watchlists} >= {"Backed up"}
        assert "After the backup" not in {w.name for w in ctx.watchlists.watchlists}
        # the safety copy holds the data as it was just before the restore
        safety = sorted((ctx.health.backup_dir / "before-restore").glob("*.zip"))
        assert len(safety) == 1
        with zipfile.ZipFile(safety[0]) as zf:
            assert b"0.05" in zf.read("config/settings.json")
    finally:
        await ctx.aclose()


def _backup(tmp_path: Path) -> tuple[Path, Path]:
    """A real backup of a migrated database (+ settings), and the folder it was made from."""
    src = tmp_path / "src"
    (src / "config").mkdir(parents=True)
    db = Database.open(f"sqlite:///{src / 'm.db'}")
    db.close()
    SettingsStore(src / "config" / "settings.json").save(Settings(risk_free_rate=0.02))
    result = create_backup(tmp_path / "backups", db_file=src / "m.db", config_dir=src / "config")
    return result.path, src


def _rewrite(zip_path: Path, dest: Path, change: dict[str, bytes | None], manifest_fix: bool = False) -> Path:
    """A copy of ``zip_path`` with members replaced (None = dropped); optionally the manifest updated to match."""
    with zipfile.ZipFile(zip_path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for name, data in change.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    if manifest_fix:
        manifest = json.loads(members[MANIFEST])
        for name, data in change.items():
            if data is not None and name != MANIFEST:
                manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dest


def test_a_valid_backup_passes(tmp_path: Path) -> None:
    zip_path, _src = _backup(tmp_path)
    (tmp_path / "x").mkdir()
    ok = validate_backup(zip_path, tmp_path / "x", known_revisions())
    assert ok.has_db and ok.schema_revision in known_revisions()


@pytest.mark.parametrize("case", ["truncated", "not_a_zip", "foreign", "altered_db", "corrupt_db",
                                  "inconsistent_db", "wrong_revision", "missing_file", "extra_file"])
def test_bad_zips_are_refused(tmp_path: Path, case: str) -> None:
    zip_path, _src = _backup(tmp_path)
    with zipfile.ZipFile(zip_path) as zf:
        db_bytes = zf.read(DB_NAME)
    bad = tmp_path / f"{case}.zip"
    if case == "truncated":
        raw = zip_path.read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])
    elif case == "not_a_zip":
        bad.write_text("hello", encoding="utf-8")
    elif case == "foreign":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("report.txt", "some other zip")
    elif case == "altered_db":  # bytes changed, manifest not updated
        _rewrite(zip_path, bad, {DB_NAME: db_bytes[:-1] + b"\x01"})
    elif case == "corrupt_db":  # manifest updated to match: the integrity check must catch it
        mangled = bytearray(db_bytes)
        mangled[100:4096] = b"\xff" * (4096 - 100)
        _rewrite(zip_path, bad, {DB_NAME: bytes(mangled)}, manifest_fix=True)
    elif case == "inconsistent_db":  # opens fine, but an index disagrees with its table: integrity_check only
        work = tmp_path / "bad-index.db"
        work.write_bytes(db_bytes)
        conn = sqlite3.connect(work)
        conn.execute("CREATE TABLE zz(a)")
        conn.execute("CREATE INDEX zz_i ON zz(a)")
        conn.executemany("INSERT INTO zz VALUES (?)", [(i,) for i in range(50)])
        conn.commit()
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute("UPDATE sqlite_master SET sql='CREATE INDEX zz_i ON zz(-a)' WHERE name='zz_i'")
        conn.commit()
        conn.close()
        _rewrite(zip_path, bad, {DB_NAME: work.read_bytes()}, manifest_fix=True)
    elif case == "wrong_revision":
        work = tmp_path / "rev.db"
        work.write_bytes(db_bytes)
        conn = sqlite3.connect(work)
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
        conn.commit()
        conn.close()
        with zipfile.ZipFile(zip_path) as zf:
            manifest = json.loads(zf.read(MANIFEST))
        manifest["schema_revision"] = "9999_future"
        _rewrite(zip_path, bad, {DB_NAME: work.read_bytes(), MANIFEST: json.dumps(manifest).encode()},
                 manifest_fix=True)
    elif case == "missing_file":
        _rewrite(zip_path, bad, {"config/settings.json": None})
    elif case == "extra_file":
        _rewrite(zip_path, bad, {"notes/evil.md": b"x"})
    (tmp_path / "x").mkdir()
    with pytest.raises(RestoreRefused) as info:
        validate_backup(bad, tmp_path / "x", known_revisions())
    assert "not touched" in str(info.value) or "does not exist" in str(info.value)
    if case == "wrong_revision":
        assert "9999_future" in str(info.value)
    if case == "inconsistent_db":
        assert "integrity check" in str(info.value) and "zz_i" in str(info.value)


def test_zip_slip_names_are_refused(tmp_path: Path) -> None:
    zip_path, _src = _backup(tmp_path)
    bad = _rewrite(zip_path, tmp_path / "slip.zip", {"notes/../../evil.md": b"x"}, manifest_fix=True)
    (tmp_path / "x").mkdir()
    with pytest.raises(RestoreRefused):
        validate_backup(bad, tmp_path / "x", known_revisions())
    assert not (tmp_path / "evil.md").exists()


@pytest.mark.asyncio
async def test_a_corrupt_zip_leaves_the_current_data_untouched(isolated_home: Path, tmp_path: Path,
                                                                market: ReplayMarketData) -> None:
    ctx = await started(isolated_home, market)
    try:
        result = await ctx.health.backup(tmp_path / "out")
        raw = result.path.read_bytes()
        bad = tmp_path / "bad.zip"
        bad.write_bytes(raw[: len(raw) - 200])  # truncated: the central directory is gone
        await ctx.watchlists.create("Current data")
        db_file = ctx.db.sqlite_path
        before_rows, before_config = dump(db_file), tree(ctx.paths.config_dir)
        with pytest.raises(RestoreRefused):
            await ctx.health.restore(bad)
        assert dump(db_file) == before_rows and tree(ctx.paths.config_dir) == before_config
        assert not (ctx.health.backup_dir / "before-restore").exists()  # refused before the safety copy
        assert "Current data" in {w.name for w in ctx.watchlists.watchlists}
        assert not ctx.health.busy
    finally:
        await ctx.aclose()


def test_unwritable_backup_target_under_a_file_gives_a_clear_message(tmp_path: Path) -> None:
    """A folder that cannot be created (a file is in the way; chmod is no barrier for root here)."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(BackupError) as info:
        create_backup(blocker / "backups", db_file=None, config_dir=tmp_path)
    assert "cannot be created" in str(info.value) and "Choose another folder" in str(info.value)


def test_a_database_backup_is_not_restored_into_postgresql(tmp_path: Path) -> None:
    from magnus_desktop.services.health.backup import PG_NOTE, restore_targets

    zip_path, _src = _backup(tmp_path)
    (tmp_path / "x").mkdir()
    ok = validate_backup(zip_path, tmp_path / "x", known_revisions())
    with pytest.raises(RestoreRefused, match="PostgreSQL"):
        restore_targets(ok, db_file=None, config_dir=tmp_path / "cfg", notes_folder=None)
    settings_only = create_backup(tmp_path / "pg", db_file=None, config_dir=_src / "config", db_note=PG_NOTE)
    assert settings_only.files == ("config/settings.json",) and "pg_dump" in settings_only.note


@pytest.mark.asyncio
async def test_restore_over_an_unreadable_database_keeps_its_bytes(isolated_home: Path, tmp_path: Path,
                                                                   market: ReplayMarketData) -> None:
    ctx = await started(isolated_home, market)
    try:
        result = await ctx.health.backup(tmp_path / "out")
        db_file = ctx.db.sqlite_path
    finally:
        await ctx.aclose()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    junk = b"not a database " * 100
    db_file.write_bytes(junk)
    ctx = await started(isolated_home, market)
    try:
        assert ctx.db_problem is not None  # working on a temporary database
        message = await ctx.health.restore(result.path)
        assert ctx.db_problem is None and ctx.db.sqlite_path == db_file and len(ctx.portfolio.fills) > 0
        kept = [p for p in (ctx.health.backup_dir / "before-restore").iterdir() if p.read_bytes() == junk]
        assert len(kept) == 1 and str(kept[0]) in message
    finally:
        await ctx.aclose()


def test_restored_settings_keep_the_database_in_use(tmp_path: Path) -> None:
    from magnus_desktop.services.health.service import _keep_database_setting

    path = tmp_path / "settings.json"
    old = Settings(db_url=f"sqlite:///{tmp_path / 'old.db'}", risk_free_rate=0.031)
    old.assistant.notes_folder = tmp_path
    SettingsStore(path).save(old)
    current = f"sqlite:///{tmp_path / 'now.db'}"
    assert _keep_database_setting(path, current) == tmp_path
    restored = SettingsStore(path).load()
    assert restored.db_url == current and restored.risk_free_rate == 0.031
