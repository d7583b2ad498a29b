"""SQLite's insert path of an import (``_sqlite_insert``: one tuple per row, columns named in its
own order) stores exactly the rows of the general Core path (``_bulk_insert``), column for column:
the same texts for dates and times, the same numbers, the same NULLs, in the same id order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from magnus_desktop.services.imports import import_file
from magnus_desktop.services.imports import service as imports_service
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def _stored(path: Path, files: list[Path]) -> dict[str, list[tuple[object, ...]]]:
    db = Database.open(f"sqlite:///{path}")
    try:
        for file in files:
            assert import_file(db, file).rows_imported > 0
    finally:
        db.close()
    con = sqlite3.connect(path)
    try:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in ("history_events", "history_positions")}
    finally:
        con.close()


POSITIONS = (
    '<OpenPositions>\n<OpenPosition currency="EUR" fxRateToBase="1" assetCategory="OPT" symbol="C ODAX DEC 18 12000" '
    'conid="156329870" underlyingSymbol="DAX" multiplier="5" strike="12000" expiry="20181221" putCall="C" '
    'reportDate="20181109" position="2" markPrice="55.7" costBasisMoney="553.4" levelOfDetail="SUMMARY" />\n'
    '<OpenPosition currency="USD" fxRateToBase="0.88221" assetCategory="STK" symbol="ESV" conid="1" '
    'reportDate="20181109" position="300" markPrice="5.5" costBasisMoney="1600" levelOfDetail="SUMMARY" />\n'
    '</OpenPositions>\n'
)


def test_the_sqlite_path_stores_the_rows_of_the_core_path(tmp_path: Path, shared_data: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    flex = tmp_path / "with_positions.xml"
    flex.write_text(FLEX.read_text().replace("</FlexStatement>", POSITIONS + "</FlexStatement>", 1))
    files = [flex, shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv"]
    calls: list[str] = []
    real = imports_service._sqlite_insert

    def counted(connection, table, *args):  # type: ignore[no-untyped-def]
        calls.append(table.name)
        return real(connection, table, *args)

    monkeypatch.setattr(imports_service, "_sqlite_insert", counted)
    fast = _stored(tmp_path / "fast.sqlite3", files)
    assert "history_events" in calls and "history_positions" in calls
    monkeypatch.setattr(imports_service, "_sqlite_insert", lambda *_args: False)  # the Core path
    core = _stored(tmp_path / "core.sqlite3", files)
    assert fast["history_events"] and fast["history_positions"]
    assert fast == core
    # columns: id, import_id, account, broker, event_key, kind, occurred_at, ..., expiry (11th)
    events = fast["history_events"]
    assert all(isinstance(row[6], str) and len(row[6]) == 26 and row[6][10] == " " for row in events)  # ISO, µs
    assert any(row[10] is None for row in events) and any(isinstance(row[10], str) for row in events)
    assert len(fast["history_positions"]) == 2
