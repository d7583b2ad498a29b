"""The starting capital a statement states: derived from the import's reconciliation, stored once,
converted to the base currency with the file's own rates (a currency without a rate is named)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from magnus_desktop.services.imports import import_file
from magnus_desktop.services.performance.inputs import statement_capital
from magnus_desktop.services.performance.service import statement_cash_rows, store_statement_cash
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[2] / "tests" / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def test_flex_starting_cash_is_the_files_own_and_stored_once(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        report = import_file(db, FLEX)
        rows = statement_cash_rows(report)
        root = ET.parse(FLEX).getroot()
        stated = {e.get("currency"): float(e.get("startingCash")) for e in root.iter("CashReportCurrency")
                  if e.get("currency") != "BASE_SUMMARY"}
        rates = {}
        for t in root.iter("Trade"):
            rates.setdefault(t.get("currency"), float(t.get("fxRateToBase")))
        assert {r["currency"]: r["starting"] for r in rows} == pytest.approx(stated)
        assert {r["currency"]: r["fx_rate_to_base"] for r in rows} == {c: rates.get(c) for c in stated}
        assert store_statement_cash(db, rows) == len(stated)
        assert store_statement_cash(db, rows) == 0  # the same statement again: nothing new
        capital = statement_capital(db)["U1234567"]
        assert capital.amount == pytest.approx(sum(v * rates[c] for c, v in stated.items() if c in rates))
        missing = [c for c in stated if c not in rates]
        assert missing and all(f"{c} " in capital.source.split("not converted")[1] for c in missing)
    finally:
        db.close()
