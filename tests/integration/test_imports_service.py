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
