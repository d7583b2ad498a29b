"""Fault cases a trader meets, run on the real app process: unwritable folders and a read-only
database never crash the start, never lose stored data, and say what happened."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

from magnus_desktop.services.storage import Database


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_only_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True) + [root]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable_tree(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _run_with_read_only(start_app, home: Path, read_only: Path, prefix: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Start the app on ``home`` with ``read_only`` (a folder tree) unwritable, quit it with SIGTERM,
    assert exit 0, make the tree writable again; returns the finished AppProcess."""
    _read_only_tree(read_only)
    try:
        app = start_app(home, {"QT_QPA_PLATFORM": "offscreen"}, prefix=prefix)
        app.wait_ready()
        app.terminate()
        assert app.wait_exit() == 0, app.text()
    finally:
        _writable_tree(read_only)
    return app


def test_unwritable_home_starts_in_memory_and_quits_cleanly(start_app, unprivileged, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = _run_with_read_only(start_app, home, home, unprivileged).text()
    assert "Traceback" not in out
    assert f"The config folder {home / 'config'} cannot be created" in out
    assert "in-memory database" in out
    assert list(home.iterdir()) == []  # nothing written anywhere


def test_read_only_database_shows_the_traders_data_and_changes_nothing(start_app, unprivileged,
                                                                         tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_app(home, {"QT_QPA_PLATFORM": "offscreen"})
    first.wait_ready()
    first.terminate()
    assert first.wait_exit() == 0, first.text()
    db_file = home / "data" / "magnus.sqlite3"
    conn = sqlite3.connect(db_file)
    try:
        (fills,) = conn.execute("select count(*) from fills").fetchone()
    finally:
        conn.close()  # (a `with` block commits but keeps the connection, and so the -wal/-shm files)
    assert fills > 0  # the demo seed
    before = _sha(db_file)
    out = _run_with_read_only(start_app, home, home / "data", unprivileged).text()
    assert "is read-only: your data is shown" in out
    assert "Working on a temporary in-memory database" not in out
    assert _sha(db_file) == before
    db = Database.open(f"sqlite:///{db_file}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("select count(*) from fills").scalar() == fills
    finally:
        db.close()


def test_garbage_database_file_is_left_untouched(start_app, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    garbage = home / "data" / "magnus.sqlite3"
    garbage.write_bytes(os.urandom(4096))
    before = _sha(garbage)
    app = start_app(home, {"QT_QPA_PLATFORM": "offscreen"})
    app.wait_ready()
    app.terminate()
    assert app.wait_exit() == 0, app.text()
    assert "not a readable SQLite database" in app.text()
    assert _sha(garbage) == before
