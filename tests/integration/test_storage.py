"""Database: migrations, connection settings and failure modes on SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from magnus_desktop.models import (
    orm_alerts,  # noqa: F401 - its table is part of the schema
    orm_assistant,  # noqa: F401 - its tables are part of the schema
    orm_history,  # noqa: F401 - its tables are part of the schema
    orm_journal,  # noqa: F401 - its tables are part of the schema
    orm_kalshi,  # noqa: F401 - its tables are part of the schema
)
from magnus_desktop.models.orm import AccountRow, Base
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.storage import (
    ConstraintViolation,
    Database,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    MigrationError,
    alembic_config,
    head_revision,
)
from magnus_desktop.services.storage.repositories import AccountRepo, WatchlistRepo

ORM_TABLES = set(Base.metadata.tables)


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


# ------------------------------------------------------------------------------ migrations
def test_migration_from_empty_database_reaches_head(db_url: str) -> None:
    db = Database.open(db_url, migrate=False)
    try:
        assert db.current_revision() is None
        assert not _tables(db) & ORM_TABLES
        db.migrate()
        assert db.current_revision() == head_revision() is not None
        assert _tables(db) == ORM_TABLES | {"alembic_version"}
        db.migrate()  # second run is a no-op
        assert db.current_revision() == head_revision()
    finally:
        db.close()


def test_migrations_produce_the_orm_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)
    assert diffs == []


def test_downgrade_to_base_removes_every_table_then_upgrade_restores(db: Database) -> None:
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not _tables(db) & ORM_TABLES
    db.migrate()
    assert _tables(db) >= ORM_TABLES


def test_database_newer_than_the_application_is_a_migration_error(db_url: str) -> None:
    db = Database.open(db_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    AccountRepo(db).get_or_create("kept", "demo", 1000.0)
    db.close()
    with pytest.raises(MigrationError, match="newer Magnus Desktop"):
        Database.open(db_url)
    reopened = Database.open(db_url, migrate=False)
    with reopened.session() as s:
        assert s.scalars(select(AccountRow.name)).all() == ["kept"]
    reopened.close()


# ------------------------------------------------------------------------- transactions
def test_failed_unit_of_work_rolls_back_and_keeps_earlier_data(db: Database) -> None:
    AccountRepo(db).get_or_create("before", "demo", 1.0)
    with pytest.raises(RuntimeError), db.session() as s:
        s.add(AccountRow(name="half-done", kind="demo", starting_cash=2.0))
        s.flush()
        raise RuntimeError("crash in the middle")
    with pytest.raises(ConstraintViolation, match="refused the change"), db.session() as s:
        s.add(AccountRow(name="also-lost", kind="demo", starting_cash=3.0))
        s.add(AccountRow(name="before", kind="ib", starting_cash=4.0))  # duplicate name
    with db.session() as s:
        assert s.scalars(select(AccountRow.name)).all() == ["before"]


def test_url_masks_the_password(pg_url: str) -> None:
    secret_url = pg_url.replace("postgres@", "postgres:hunter2@")
    db = Database.open(secret_url)  # trust auth ignores the password
    try:
        assert "hunter2" not in db.url and "***" in db.url
        assert db.backend == "postgresql"
    finally:
        db.close()


# ------------------------------------------------------------------------------- SQLite
def test_sqlite_default_file_is_in_the_user_data_dir_with_wal_and_foreign_keys(isolated_home: Path) -> None:
    db = Database.open(None)
    try:
        assert db.backend == "sqlite"
        assert db.sqlite_path == app_paths().default_db_file
        assert db.sqlite_path.is_file() and db.sqlite_path.is_relative_to(isolated_home)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.close()


def _seed_sqlite(path: Path) -> None:
    db = Database.open(f"sqlite:///{path}")
    AccountRepo(db).get_or_create("Demo", "demo", 100_000.0)
    WatchlistRepo(db).create("Tech")
    db.close()


def _assert_seed_intact(path: Path) -> None:
    db = Database.open(f"sqlite:///{path}")
    assert [w.name for w in WatchlistRepo(db).list()] == ["Tech"]
    assert AccountRepo(db).get_or_create("Demo", "demo", 1.0).starting_cash == 100_000.0
    db.close()


def test_sqlite_read_only_database_reads_but_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite3"
    _seed_sqlite(path)
    db = Database.open(f"sqlite:///file:{path}?mode=ro&uri=true")  # what SQLite does for a 0444 file
    try:
        assert [w.name for w in WatchlistRepo(db).list()] == ["Tech"]
        with pytest.raises(DatabaseReadOnly, match="read-only") as err:
            WatchlistRepo(db).create("Energy")
        assert not isinstance(err.value, DatabaseLocked)
        assert str(path) in str(err.value)
    finally:
        db.close()
    _assert_seed_intact(path)


def test_sqlite_locked_by_another_program_fails_fast_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    _seed_sqlite(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    db = Database.open(f"sqlite:///{path}", busy_timeout_s=0.3)
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseLocked, match="locked by another program") as err:
            WatchlistRepo(db).create("Energy")
        assert time.perf_counter() - started < 3.0
        assert isinstance(err.value, DatabaseReadOnly) and str(path) in str(err.value)
        other.execute("ROLLBACK")
        WatchlistRepo(db).create("Energy")  # works again once the lock is gone
        assert [w.name for w in WatchlistRepo(db).list()] == ["Tech", "Energy"]
    finally:
        other.close()
        db.close()


def test_corrupt_sqlite_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    garbage = b"not sqlite " + os.urandom(8192)
    path.write_bytes(garbage)
    with pytest.raises(DatabaseCorrupt, match="not a readable SQLite database") as err:
        Database.open(f"sqlite:///{path}")
    assert str(path) in str(err.value) and "move it aside" in str(err.value)
    assert path.read_bytes() == garbage


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DatabaseUnavailable, match="Cannot create the folder"):
        Database.open(None, sqlite_path=blocker / "sub" / "magnus.sqlite3")


# --------------------------------------------------------------------------- PostgreSQL
def test_unreachable_postgresql_fails_fast_without_the_password() -> None:
    started = time.perf_counter()
    with pytest.raises(DatabaseUnavailable) as err:
        Database.open("postgresql://u:s3cretpw@127.0.0.1:1/x", connect_timeout_s=2)
    assert time.perf_counter() - started < 5.0
    message = str(err.value)
    assert "s3cretpw" not in message and "127.0.0.1:1" in message and "Settings" in message


def test_postgresql_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailable, match="Cannot connect to PostgreSQL"):
            Database.open(f"postgresql://u:pw@127.0.0.1:{port}/x", connect_timeout_s=1)
        elapsed = time.perf_counter() - started
    assert 0.9 < elapsed < 4.0


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:s3cretpw@host:notaport/db", "mysql://u:s3cretpw@host/db", "::not a url::"],
)
def test_bad_or_unsupported_url(url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as err:
        Database.open(url)
    assert "s3cretpw" not in str(err.value)
    assert err.value.__cause__ is None or "s3cretpw" not in str(err.value.__cause__)


@pytest.mark.postgres
def test_postgresql_read_only_database_refuses_writes(pg_url: str) -> None:
    db = Database.open(pg_url)
    WatchlistRepo(db).create("Tech")
    dbname = db.engine.url.database
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{dbname}" SET default_transaction_read_only = on'))
    db.close()
    db = Database.open(pg_url)  # new connections are read-only
    try:
        with pytest.raises(DatabaseReadOnly, match="read-only"):
            WatchlistRepo(db).create("Energy")
        assert [w.name for w in WatchlistRepo(db).list()] == ["Tech"]
    finally:
        db.close()
