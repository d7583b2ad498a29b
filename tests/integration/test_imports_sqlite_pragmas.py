"""The SQLite settings an import changes for its own transaction only: ``synchronous=NORMAL``
(``Database.bulk_session``) and ``ignore_check_constraints`` while the events go in (the CHECK
constraints tested in Python first). Each is back to its value after the import, also after an
error, and an event that breaks a CHECK constraint is still refused with nothing stored."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from magnus_desktop.services.imports import count_rows, import_file, parse_file
from magnus_desktop.services.imports import service as imports_service
from magnus_desktop.services.imports.service import _event_checks_hold, store_parsed
from magnus_desktop.services.storage import ConstraintViolation, Database, StorageError

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"
EMPTY = {"history_imports": 0, "history_events": 0, "history_positions": 0}
FULL, NORMAL = 2, 1


@pytest.fixture
def db(tmp_path: Path):
    database = Database.open(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield database
    database.close()


def _pragma(raw: sqlite3.Connection, name: str) -> int:
    return int(raw.execute(f"PRAGMA {name}").fetchone()[0])


class _Spy:
    """Wraps ``store_parsed`` (and ``_sqlite_insert``): records the import connection and its
    pragmas while the file is stored; optionally fails after the rows went in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> None:
        self.raw: sqlite3.Connection | None = None
        self.seen: dict[str, int] = {}
        real_store, real_insert = imports_service.store_parsed, imports_service._sqlite_insert

        def store(session: Any, *args: Any) -> Any:
            self.raw = session.connection().connection.driver_connection
            self.seen["synchronous"] = _pragma(self.raw, "synchronous")
            out = real_store(session, *args)
            if fail:
                raise RuntimeError("disk full in the middle of the import")
            return out

        def insert(connection: Any, table: Any, *args: Any) -> Any:
            if table.name == "history_events":
                self.seen["ignore_check_constraints"] = _pragma(self.raw, "ignore_check_constraints")  # type: ignore[arg-type]
            return real_insert(connection, table, *args)

        monkeypatch.setattr(imports_service, "store_parsed", store)
        monkeypatch.setattr(imports_service, "_sqlite_insert", insert)


def test_an_import_runs_with_synchronous_normal_and_unchecked_inserts_then_restores_both(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session() as session:  # the application's setting: FULL (SQLite's default)
        assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
    spy = _Spy(monkeypatch)
    report = import_file(db, FLEX)
    assert report.rows_imported == FLEX.read_text().count("<Trade ")
    assert spy.seen == {"synchronous": NORMAL, "ignore_check_constraints": 1}
    assert spy.raw is not None
    assert (_pragma(spy.raw, "synchronous"), _pragma(spy.raw, "ignore_check_constraints")) == (FULL, 0)
    with db.session() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar() == FULL
        assert session.execute(text("PRAGMA ignore_check_constraints")).scalar() == 0
    assert import_file(db, FLEX).rows_imported == 0  # a second import: every row a duplicate


def test_a_failed_import_stores_nothing_and_restores_the_settings(db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch, fail=True)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(db, FLEX)
    assert spy.seen == {"synchronous": NORMAL, "ignore_check_constraints": 1}
    assert spy.raw is not None
    assert (_pragma(spy.raw, "synchronous"), _pragma(spy.raw, "ignore_check_constraints")) == (FULL, 0)
    assert count_rows(db) == EMPTY


@pytest.mark.parametrize("change", [
    {"multiplier": 0.0}, {"multiplier": -100.0}, {"fx_rate_to_base": 0.0}, {"right": "X"}, {"kind": "gift"},
    {"multiplier": float("nan")},  # no verdict in Python: SQLite stores NaN as NULL and refuses it
])
def test_an_event_breaking_a_check_constraint_is_still_refused_with_nothing_stored(
        db: Database, change: dict[str, object]) -> None:
    parsed = parse_file(FLEX)
    parsed.events[3] = dataclasses.replace(parsed.events[3], **change)  # type: ignore[arg-type]
    assert not _event_checks_hold(parsed.events)
    with pytest.raises(ConstraintViolation, match="nothing was stored"), db.bulk_session() as session:
        store_parsed(session, parsed, "0" * 64)
    assert count_rows(db) == EMPTY


def test_valid_events_pass_the_python_checks() -> None:
    events = parse_file(FLEX).events
    assert _event_checks_hold(events)
    assert _event_checks_hold([dataclasses.replace(events[0], kind="dividend", right=None, multiplier=1)])


def test_bulk_session_commits_rolls_back_and_translates_like_session(db: Database) -> None:
    with db.bulk_session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(RuntimeError), db.bulk_session() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("crash")
    with pytest.raises(StorageError, match="refused the change"), db.bulk_session() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with db.session() as session:
        assert session.execute(text("SELECT x FROM t")).scalars().all() == [1]


def test_a_unique_violation_while_checks_are_skipped_is_refused_and_the_flag_restored(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write SQLite refuses while the CHECKs are skipped (here: one key twice, which the duplicate
    check would normally catch) reports the database's own error; the flag is back afterwards."""
    parsed = parse_file(FLEX)
    parsed.events.append(dataclasses.replace(parsed.events[0], source_line=999))  # same event_key
    monkeypatch.setattr(imports_service, "_new_events", lambda _session, events: list(events))
    spy = _Spy(monkeypatch)
    with pytest.raises(ConstraintViolation, match="UNIQUE constraint failed"), db.bulk_session() as session:
        imports_service.store_parsed(session, parsed, "0" * 64)
    assert spy.seen["ignore_check_constraints"] == 1
    assert spy.raw is not None
    assert (_pragma(spy.raw, "synchronous"), _pragma(spy.raw, "ignore_check_constraints")) == (FULL, 0)
    assert count_rows(db) == EMPTY
