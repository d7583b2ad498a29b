"""Import service against a real SQLite file: storing, duplicates, dry run, one transaction per file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.services.imports import (
    ImportFormatError,
    count_rows,
    import_file,
    load_events,
    parse_file,
)
from magnus_desktop.services.imports.service import store_parsed
from magnus_desktop.services.storage import Database, StorageError

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"
EMPTY = {"history_imports": 0, "history_events": 0, "history_positions": 0}


@pytest.fixture
def db(tmp_path: Path):
    database = Database.open(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield database
    database.close()


def test_import_stores_every_event_and_a_second_import_only_counts_duplicates(db: Database) -> None:
    n = FLEX.read_text().count("<Trade ")
    first = import_file(db, FLEX)
    assert (first.rows_imported, first.duplicates, first.by_kind) == (n, 0, {"trade": n})
    assert first.reconciled
    second = import_file(db, FLEX)
    assert (second.rows_imported, second.duplicates, second.by_kind) == (0, n, {})
    assert count_rows(db)["history_events"] == n
    stored = load_events(db)
    assert sorted(e.event_key for e in stored) == sorted(e.event_key for e in first.events)
    assert stored == sorted(first.events, key=lambda e: e.occurred_at)


def test_another_account_name_is_not_a_duplicate(db: Database) -> None:
    import_file(db, FLEX)
    other = import_file(db, FLEX, account="paper-copy")
    assert other.rows_imported == len(other.events) and other.duplicates == 0


def test_robinhood_file_round_trips_and_reimport_is_all_duplicates(db: Database, shared_data: Path) -> None:
    path = shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv"
    first = import_file(db, path)
    again = import_file(db, path)
    assert first.rows_imported == len(first.events) > 80
    assert (again.rows_imported, again.duplicates) == (0, first.rows_imported)


def test_dry_run_stores_nothing(db: Database) -> None:
    report = import_file(db, FLEX, dry_run=True)
    assert report.dry_run and report.rows_imported == FLEX.read_text().count("<Trade ")
    assert count_rows(db) == EMPTY


def test_second_insert_failing_rolls_back_the_whole_file(db: Database) -> None:
    parsed = parse_file(FLEX)
    broken: HistoryEvent = dataclasses.replace(parsed.events[1], multiplier=0.0)  # violates the CHECK
    parsed.events[1] = broken
    with pytest.raises(StorageError, match="nothing was stored"):
        with db.session() as session:
            store_parsed(session, parsed, "0" * 64)  # 1st insert: the import row; 2nd: the events
    assert count_rows(db) == EMPTY


def test_bad_file_changes_no_stored_row(db: Database, tmp_path: Path) -> None:
    import_file(db, FLEX)
    before = count_rows(db)
    bad = tmp_path / "bad.xml"
    bad.write_text(FLEX.read_text().replace('currency="EUR"', 'currency="EURO"'))
    with pytest.raises(ImportFormatError, match="bad.xml, line"):
        import_file(db, bad)
    assert count_rows(db) == before


def test_bulk_store_writes_the_same_stored_values_and_types_as_the_orm(tmp_path: Path) -> None:
    """The executemany path (bind processors applied per column, date/time texts memoised, SQLite
    Float processors left to REAL affinity) stores byte-for-byte what a plain ORM insert stores."""
    import sqlite3

    from magnus_desktop.models.orm_history import HistoryEventRow, HistoryImportRow

    events = parse_file(FLEX).events
    events = [*events, dataclasses.replace(events[0], event_key="int-values", qty=2, multiplier=100, amount=-5)]
    bulk, orm = (Database.open(f"sqlite:///{tmp_path / name}") for name in ("bulk.sqlite3", "orm.sqlite3"))
    try:
        with bulk.session() as session:
            store_parsed(session, dataclasses.replace(parse_file(FLEX), events=events), "0" * 64)
        with orm.session() as session:
            session.add(HistoryImportRow(id=1, file_name="x", file_sha256="0" * 64, file_kind="ibkr-flex",
                                         account="x", rows_imported=0, duplicates=0))
            session.flush()
            session.add_all(HistoryEventRow(import_id=1, **{f: getattr(e, f) for f in HistoryEvent.__slots__})
                            for e in sorted(events, key=lambda e: e.occurred_at))
    finally:
        bulk.close()
        orm.close()
    columns = ", ".join(f'"{f}", typeof("{f}")' for f in HistoryEvent.__slots__)

    def stored(name: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(tmp_path / name) as con:
            return con.execute(f"SELECT {columns} FROM history_events ORDER BY id").fetchall()

    assert stored("bulk.sqlite3") == stored("orm.sqlite3")
    qty_type = 2 * HistoryEvent.__slots__.index("qty") + 1
    assert {row[qty_type] for row in stored("bulk.sqlite3")} == {"real"}


def test_position_events_for_the_analytics_are_the_stored_position_events_read_lean(
        db: Database, shared_data: Path) -> None:
    """``load_position_events`` (the trade-history dock's input) returns the stored events that move
    a position, without the columns the analytics never read, plus the count of every stored event;
    the snapshot built from it equals the one built from whole events."""
    from magnus_desktop.models.history import POSITION_KINDS
    from magnus_desktop.services.history import build_snapshot
    from magnus_desktop.services.imports import load_position_events

    import_file(db, FLEX)
    import_file(db, shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv")
    whole = load_events(db)
    stored, lean = load_position_events(db)
    assert stored == len(whole) > len(lean) > 0  # the Robinhood file has dividends, interest, fees
    blank = {"broker": "", "event_key": "", "description": "", "source_line": 0}
    assert lean == [dataclasses.replace(e, **blank) for e in whole if e.kind in POSITION_KINDS and e.qty != 0]
    assert repr(build_snapshot(lean, stored)) == repr(build_snapshot(whole))
    one = whole[0].account
    assert load_position_events(db, one)[0] == sum(e.account == one for e in whole)
