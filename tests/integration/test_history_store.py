"""The stored trade-history snapshot (``services.history.store``) on the real broker exports: it is
exactly the computed one, it is never used once the events or the code changed, and a broken one
(garbage row, dropped table) only makes the history be computed from the events again."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from magnus_desktop.cli import main
from magnus_desktop.services.history import HistoryService, HistorySnapshot, load_snapshot, store
from magnus_desktop.services.imports import import_file
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"
RH_NAME = "broker_exports/robinhood_activity_Dec2023.csv"
SHARED_FLEX_NAME = "broker_exports/ibkr_flex_TestForCoding_20181109.xml"


@pytest.fixture
def db(tmp_path: Path):
    database = Database.open(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield database
    database.close()


class _Context:
    """What ``HistoryService`` needs of ``AppContext``: the database and executors (here: inline)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.history = HistoryService(self)  # type: ignore[arg-type]

    async def run_db(self, fn: Any, *args: Any) -> Any:
        return fn(*args)

    async def run_compute(self, fn: Any, *args: Any) -> Any:
        return fn(*args)


def _stored(db: Database) -> HistorySnapshot | None:
    version, payload = store.read_stored(db)
    return None if payload is None else store.decode(payload, version)


def _same(a: HistorySnapshot | None, b: HistorySnapshot) -> bool:
    """Equal field by field (dataclass equality, which also compares the wheel cycles' private
    state) and in every printed figure (``repr``: ints stay ints, floats to the last bit)."""
    return a == b and repr(a) == repr(b)


def test_stored_snapshot_is_the_computed_one_and_follows_a_second_import(db: Database, shared_data: Path) -> None:
    assert _stored(db) is None  # nothing stored yet
    import_file(db, FLEX)
    assert _stored(db) is None  # the import alone stores no result
    assert store.update_stored(db)
    first = load_snapshot(db)
    assert first.matches and first.cycles and first.month_bars
    assert _same(_stored(db), first)
    # a second import adds events (another account): the stored result is stale until updated
    import_file(db, shared_data / RH_NAME)
    assert _stored(db) is None
    assert store.update_stored(db)
    second = load_snapshot(db)
    assert second.accounts == ["U1234567", "robinhood"] and second.events > first.events
    assert _same(_stored(db), second)
    # the shared copy of the Flex file under another account name: new events again
    import_file(db, shared_data / SHARED_FLEX_NAME, account="U7654321")
    assert store.update_stored(db)
    third = load_snapshot(db)
    assert len(third.accounts) == 3
    assert _same(_stored(db), third)


@pytest.mark.parametrize("name", ["flex", "robinhood"])
def test_the_first_import_stores_the_snapshot_of_its_own_events_exactly(
        db: Database, shared_data: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = FLEX if name == "flex" else shared_data / RH_NAME
    report = import_file(db, path)
    assert report.rows_imported and report.duplicates == 0
    with monkeypatch.context() as patch:  # computed from the report's events, not read back
        patch.setattr(store, "load_events", lambda _db: pytest.fail("the events were read back"))
        assert store.update_stored(db, report)
    assert _same(_stored(db), load_snapshot(db))
    # a second file: its events are not the whole history, so they are read back
    other = import_file(db, shared_data / SHARED_FLEX_NAME, account="U7654321")
    assert store.update_stored(db, other)
    assert _same(_stored(db), load_snapshot(db))
    assert len(load_snapshot(db).accounts) == 2


def test_a_removed_and_reimported_file_or_changed_code_invalidates_the_stored_result(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import_file(db, FLEX)
    assert store.update_stored(db)
    version = store.events_version(db)
    with db.session() as session:  # the newest import removed (its events cascade), then imported again
        session.execute(text("DELETE FROM history_imports WHERE id = (SELECT max(id) FROM history_imports)"))
    import_file(db, FLEX)
    assert store.events_version(db) != version  # same count, same largest id, another import
    assert _stored(db) is None
    assert store.update_stored(db) and _stored(db) is not None
    monkeypatch.setattr(store, "_code_version", "another analytics code")
    assert _stored(db) is None


def test_service_reads_the_stored_result_and_recomputes_a_broken_one_quietly(
        db: Database, shared_data: Path, caplog: pytest.LogCaptureFixture) -> None:
    import_file(db, FLEX)
    import_file(db, shared_data / RH_NAME)
    computed = load_snapshot(db)
    service = _Context(db).history
    caplog.set_level(logging.INFO)

    def refresh() -> HistorySnapshot:
        return asyncio.run(service.refresh())

    def rewrite(payload: bytes) -> None:
        with db.session() as session:
            session.execute(text("UPDATE history_results SET payload = :p"), {"p": payload})

    assert _same(refresh(), computed) and not service.from_stored  # nothing stored: computed, written back
    assert _same(refresh(), computed) and service.from_stored
    good = store.read_stored(db)[1]
    assert good is not None
    data = zlib.decompress(good)
    size = int.from_bytes(data[:4], "little")
    doc = json.loads(data[4:4 + size])

    def payload(document: dict[str, Any], binary: bytes = data[4 + size:]) -> bytes:
        text = json.dumps(document).encode()
        return zlib.compress(len(text).to_bytes(4, "little") + text + binary)

    short = json.loads(json.dumps(doc))
    short["matches"]["symbol"] = short["matches"]["symbol"][:-1]  # a column one short
    cut = json.loads(json.dumps(doc))
    cut["matches"]["qty"]["f64"][1] += 1  # a float column past the end of the binary part
    broken = [b"\x00garbage", zlib.compress(b"{not json"), payload(short), payload(cut), payload({"format": 1}),
              zlib.compress(data[:4] + b"\xf0" * size), payload(doc, b"")]
    for payload in broken:
        rewrite(payload)
        assert _same(refresh(), computed) and not service.from_stored
        assert _same(refresh(), computed) and service.from_stored  # written back whole
    with db.session() as session:
        session.execute(text("DROP TABLE history_results"))
    assert _same(refresh(), computed) and not service.from_stored
    assert _same(refresh(), computed) and service.from_stored  # the table was created again
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_import_command_stores_the_dock_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    assert main(["import", str(FLEX), "--format", "json", "--db-url", url]) == 0
    capsys.readouterr()
    db = Database.open(url)
    try:
        assert _same(_stored(db), load_snapshot(db))
    finally:
        db.close()


def test_stored_snapshot_round_trips_on_each_backend(db_url: str) -> None:
    database = Database.open(db_url)
    try:
        import_file(database, FLEX)
        service = _Context(database).history
        computed = asyncio.run(service.refresh())  # computed, then written back
        assert not service.from_stored
        assert _same(asyncio.run(service.refresh()), computed) and service.from_stored
        assert _same(computed, load_snapshot(database))
    finally:
        database.close()
