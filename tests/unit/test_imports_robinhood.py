"""Robinhood activity CSV parser on the real (test-only) export; expectations come from a plain
``csv`` read of the same file, not typed in here. Bad-input files are built in tmp_path."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.analytics.realized import realized_pnl
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.imports import ImportFormatError, detect_kind
from magnus_desktop.services.imports.robinhood_csv import parse_option_description, parse_robinhood_csv

HEADER = '"Activity Date","Process Date","Settle Date","Instrument","Description","Trans Code","Quantity","Price","Amount"\n'
DISCLAIMER = '""\n"","","","","","","","","","The data provided is for informational purposes only."\n'


@pytest.fixture
def rh_file(shared_data: Path) -> Path:
    return shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv"


def _money(text: str) -> float:
    neg = text.startswith("(")
    value = float(text.strip("()").lstrip("$").replace(",", ""))
    return -value if neg else value


def _raw(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return [r for r in list(csv.reader(fh))[1:] if len(r) == 9 and r[0]]


def test_every_record_is_read_with_its_amount(rh_file: Path) -> None:
    raw = _raw(rh_file)
    parsed = parse_robinhood_csv(rh_file)
    assert len(parsed.events) + len(parsed.skipped) == len(raw) > 80
    assert sum(e.amount for e in parsed.events) == pytest.approx(sum(_money(r[8]) for r in raw if r[5] in {
        "BTO", "STC", "STO", "BTC", "Buy", "Sell", "CDIV", "INT", "GOLD", "SLIP"}), abs=1e-6)
    codes = Counter(r[5] for r in raw)
    kinds = Counter(e.kind for e in parsed.events)
    assert kinds["trade"] == sum(codes[c] for c in ("BTO", "STC", "STO", "BTC", "Buy", "Sell"))
    assert kinds["dividend"] == codes["CDIV"] and kinds["interest"] == codes["INT"]
    assert kinds["fee"] == codes["GOLD"] and kinds["lending"] == codes["SLIP"]
    multi_line = [e for e in parsed.events if "\n" in e.description]
    assert multi_line and all(e.asset_category == "STK" for e in multi_line)


def test_quantities_are_signed_by_trans_code_and_events_come_oldest_first(rh_file: Path) -> None:
    raw = _raw(rh_file)
    parsed = parse_robinhood_csv(rh_file)
    signs = {"BTO": 1, "BTC": 1, "Buy": 1, "STO": -1, "STC": -1, "Sell": -1}
    codes = Counter(r[5] for r in raw)
    trades = [e for e in parsed.events if e.kind == "trade"]
    assert sum(e.qty > 0 for e in trades) == sum(codes[c] for c, sign in signs.items() if sign > 0)
    assert sum(e.qty < 0 for e in trades) == sum(codes[c] for c, sign in signs.items() if sign < 0)
    days = [e.occurred_at for e in parsed.events]
    assert days == sorted(days)


def test_option_description_gives_the_contract() -> None:
    assert parse_option_description("SPY 12/15/2023 Call $470.00") == OptionContract("SPY", date(2023, 12, 15), 470.0, "C")
    assert parse_option_description("Option Expiration for MSFT 12/29/2023 Put $372.50") == OptionContract(
        "MSFT", date(2023, 12, 29), 372.5, "P")
    assert parse_option_description("Ford Motor\nCUSIP: 345370860") is None


def test_option_round_trips_realize_the_sum_of_their_amounts(rh_file: Path) -> None:
    qty: dict[str, float] = defaultdict(float)
    cash: dict[str, float] = defaultdict(float)
    for r in _raw(rh_file):
        if r[5] in {"BTO", "STC", "STO", "BTC"}:
            qty[r[4]] += float(r[6]) * (1 if r[5] in {"BTO", "BTC"} else -1)
            cash[r[4]] += _money(r[8])
    closed = [d for d, q in qty.items() if q == 0]
    assert len(closed) >= 10
    report = realized_pnl(parse_robinhood_csv(rh_file).events)
    assert report.lot_method == "FIFO"
    by_contract = {}
    for p in report.positions:
        if p.asset_category == "OPT":
            by_contract[p.contract_key] = p
    for description in closed:
        c = parse_option_description(description)
        assert c is not None
        key = f"OPT:{c.underlying}:{c.expiry.isoformat()}:{c.strike:g}:{c.right}"
        assert by_contract[key].realized == pytest.approx(cash[description], abs=0.01)
    month = {m.month: m.realized for m in report.months}
    assert month["2023-12"] == pytest.approx(sum(p.realized for p in report.positions), abs=1e-6)


def test_detects_the_kind(rh_file: Path) -> None:
    assert detect_kind(rh_file) == "robinhood-csv"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "activity.csv"
    path.write_text(HEADER + body)
    return path


GOOD = '"12/29/2023","12/29/2023","1/2/2024","SPY","SPY 1/2/2024 Put $474.00","BTO","12","$1.25","($1,500.36)"\n'


def test_a_small_file_parses_with_fee_and_disclaimer(tmp_path: Path) -> None:
    parsed = parse_robinhood_csv(_write(tmp_path, GOOD + DISCLAIMER))
    (event,) = parsed.events
    assert (event.qty, event.price, event.amount, event.commission) == (12.0, 1.25, -1500.36, pytest.approx(0.36))
    assert (event.underlying, event.strike, event.right, event.multiplier) == ("SPY", 474.0, "P", 100.0)


def test_malformed_row_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + '"12/28/2023","12/28/2023","SPY","BTO","1","$1.00"\n')
    with pytest.raises(ImportFormatError, match=r"activity\.csv, line 3: 6 fields, expected 9"):
        parse_robinhood_csv(path)


def test_truncated_file_inside_a_quoted_description_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + '"12/22/2023","12/22/2023","12/27/2023","F","Ford Motor\nCUSIP: 3453')
    with pytest.raises(ImportFormatError, match=r"line 3: malformed or truncated CSV"):
        parse_robinhood_csv(path)


def test_wrong_currency_amount_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + GOOD.replace("($1,500.36)", "(€1,500.36)"))
    with pytest.raises(ImportFormatError, match=r"line 3: Amount '\(€1,500.36\)' is not a USD amount"):
        parse_robinhood_csv(path)


def test_negative_quantity_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('"BTO","12"', '"BTO","-12"'))
    with pytest.raises(ImportFormatError, match=r"line 2: negative Quantity '-12'"):
        parse_robinhood_csv(path)


def test_unknown_code_is_skipped_with_line_and_reason_and_expiration_closes_the_lot(tmp_path: Path) -> None:
    split = '"12/20/2023","12/20/2023","12/20/2023","NVDA","Stock Split","SPL","9","",""\n'
    expiry = '"1/2/2024","1/2/2024","1/2/2024","SPY","Option Expiration for SPY 1/2/2024 Put $474.00","OEXP","12","",""\n'
    parsed = parse_robinhood_csv(_write(tmp_path, expiry + split + GOOD + DISCLAIMER))
    assert [(s.line, "SPL" in s.reason) for s in parsed.skipped] == [(3, True)]
    report = realized_pnl(parsed.events)
    (pos,) = report.positions
    assert pos.realized == pytest.approx(-1500.36)  # bought for 1,500.36, expired worthless
    assert pos.open_qty == 0
