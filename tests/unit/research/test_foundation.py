"""The research foundation: the shared symbol, GICS sectors from the bundled list, earnings sources."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.services.market.protocols import NoData, SourceOffline
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.research import InvalidSymbol, SymbolContext
from magnus_desktop.services.research.earnings import EarningsSource
from magnus_desktop.services.research.sectors import SP500_FILE, SectorDataError, constituents, sector_of


def test_symbol_context_emits_once_per_change_and_isolates_subscribers() -> None:
    ctx = SymbolContext()
    seen: list[tuple[str, str]] = []

    def bad(_s: str, _src: str) -> None:
        raise RuntimeError("subscriber bug")

    ctx.subscribe(bad)
    unsubscribe = ctx.subscribe(lambda s, src: seen.append((s, src)))
    assert ctx.set("NASDAQ:aapl", "watchlist") is True
    assert ctx.set("AAPL", "palette") is False  # same symbol: no event
    assert ctx.set("SPXW", "scanner") is True  # an option root follows its index
    assert seen == [("AAPL", "watchlist"), ("SPX", "scanner")]
    assert ctx.current() == "SPX" and ctx.source == "scanner"
    with pytest.raises(InvalidSymbol):
        ctx.set("SPXW 2018-02-28 2700 P", "positions")
    assert ctx.try_set("", "x") is False and ctx.current() == "SPX"
    unsubscribe()
    ctx.set("GOOG", "x")
    assert len(seen) == 2


def test_sector_of_matches_the_bundled_file_row_by_row() -> None:
    with SP500_FILE.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 503
    for row in rows:
        assert sector_of(row["Symbol"]) == row["GICS Sector"]
    brk = next(r for r in rows if r["Symbol"] == "BRK.B")
    assert sector_of("BRK-B") == sector_of("NYSE:brk.b") == brk["GICS Sector"]
    assert sector_of("SPY") is None and sector_of("VIX") is None


def test_sp500_file_is_bundled_with_licence_and_provenance() -> None:
    import hashlib

    rel = "reference/datahub_sp500_constituents_gics_2026-08.csv"
    records = {r["file"]: r for r in json.loads((DATA_RESOURCES_DIR / "provenance.json").read_text())}
    assert "PDDL" in records[rel]["license"]
    assert hashlib.sha256((DATA_RESOURCES_DIR / rel).read_bytes()).hexdigest() == records[rel]["sha256"]
    licences = (DATA_RESOURCES_DIR / "LICENSES.md").read_text()
    assert rel in licences and "PDDL" in licences.split(rel, 1)[1].split("##", 1)[0]


def test_bad_constituents_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SectorDataError, match="x.csv"):
        constituents(bad)
    with pytest.raises(SectorDataError, match="not readable"):
        constituents(tmp_path / "missing.csv")


def test_earnings_offline_without_source_says_so() -> None:
    info = EarningsSource().offline_answer("AAPL")
    assert info.status == "no_source" and info.dates == () and "Settings" in info.message
    assert info.as_dict(date(2018, 1, 26))["next"] is None


def test_earnings_from_test_only_file(shared_data: Path) -> None:
    path = shared_data / "earnings" / "daniel-bassett_earnings_1993-2024.csv"
    with path.open(newline="") as fh:
        aapl = sorted({date.fromisoformat(r["dates"]) for r in csv.DictReader(fh) if r["ticker"] == "AAPL"})
    day = date(2018, 1, 26)
    expected_next = min(d for d in aapl if d >= day)
    info = EarningsSource(path).offline_answer("AAPL")
    assert info.status == "ok" and list(info.dates) == aapl
    assert info.next_on_or_after(day) == expected_next
    assert info.days_to_next(day) == (expected_next - day).days
    assert info.last_before(day) == max(d for d in aapl if d < day)
    missing = EarningsSource(path).offline_answer("SPY")
    assert missing.status == "not_listed" and path.name in missing.message


def test_earnings_bad_file_is_an_error_not_empty(tmp_path: Path) -> None:
    bad = tmp_path / "e.csv"
    bad.write_text("foo,bar\n1,2\n")
    info = EarningsSource(bad).offline_answer("AAPL")
    assert info.status == "error" and "e.csv" in info.message


def test_earnings_yahoo_after_file_and_offline_status(tmp_path: Path) -> None:
    calls: list[str] = []

    async def yahoo(symbol: str) -> list[date]:
        calls.append(symbol)
        if symbol == "MSFT":
            raise SourceOffline("Yahoo Finance is unreachable")
        if symbol == "ZZZ":
            raise NoData("Yahoo lists no earnings dates for ZZZ")
        return [date(2026, 10, 30), date(2026, 7, 30)]

    f = tmp_path / "e.csv"
    f.write_text("ticker,date\nAAPL,2018-02-01\n")
    src = EarningsSource(f, yahoo)
    got = asyncio.run(src.lookup("AAPL"))
    assert got.status == "ok" and got.dates == (date(2018, 2, 1),) and calls == []
    got = asyncio.run(src.lookup("NVDA"))
    assert got.source == "yfinance" and got.dates == (date(2026, 7, 30), date(2026, 10, 30))
    assert asyncio.run(src.lookup("MSFT")).status == "offline"
    assert asyncio.run(src.lookup("ZZZ")).status == "not_listed"
