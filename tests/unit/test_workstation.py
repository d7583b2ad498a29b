"""The services wired together (no Qt): demo seed, replay refresh, paper orders, fallbacks."""

from __future__ import annotations

import asyncio
import csv
import math
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.market_data import ReplayMarketData
from magnus_desktop.services.paper_broker import OrderRejected
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.workstation import DEMO_SEED, Workstation

pytestmark = pytest.mark.asyncio
FEB28 = date(2018, 2, 28)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def raw_bid(quote_date: str, strike: str, right: str) -> float:
    path = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if (row["quotedate"], row["strike"], row["type"]) == (quote_date, strike, right):
                return float(row["bid"])
    raise AssertionError("not in file")


async def started(tmp_path: Path, market: ReplayMarketData, **kw: object) -> Workstation:
    ws = Workstation(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url=kw.pop("db_url", f"sqlite:///{tmp_path / 'm.db'}"))  # type: ignore[arg-type]
    await ws.start(**kw)  # type: ignore[arg-type]
    await ws.refreshed.wait()
    return ws


async def test_demo_account_is_seeded_at_the_recorded_bid(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        assert len(ws.fills) == len(DEMO_SEED)
        for fill in ws.fills:
            assert fill.fill_date == date(2018, 1, 2) and fill.qty < 0
            assert fill.price == raw_bid("01/02/2018", f"{fill.contract.strike:g}", "put")
        summary = ws.last_summary
        assert summary is not None and len(summary.positions) == len(DEMO_SEED)
        assert summary.collateral_used == sum(s * 100 * q for s, q in DEMO_SEED)
        assert ws.last_scan is not None and len(ws.last_scan.rows) > 0
    finally:
        await ws.aclose()


async def test_seed_not_repeated_and_fills_persist(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    await ws.aclose()
    again = await started(tmp_path, market)
    try:
        assert len(again.fills) == len(DEMO_SEED)
    finally:
        await again.aclose()


async def test_sell_put_from_replay_day_then_jump_and_mark(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market, replay_date=date(2018, 2, 1))
    try:
        contract = OptionContract("SPXW", FEB28, 2600.0, "P")
        fill = await ws.place_order(ws.new_ticket(contract, "SELL", 2))
        assert fill.price == raw_bid("02/01/2018", "2600", "put") and fill.qty == -2
        assert fill.commission == pytest.approx(2 * ws.settings.commission_per_contract)
        assert ws.clock is not None
        ws.clock.jump(date(2018, 2, 5))  # the volatility shock: the short put loses
        await asyncio.sleep(0)
        await ws.refreshed.wait()
        summary = ws.last_summary
        assert summary is not None and summary.as_of == date(2018, 2, 5)
        (pos,) = [p for p in summary.positions if p.contract == contract]
        assert pos.unrealized_pnl < 0 and pos.mark > fill.price
    finally:
        await ws.aclose()


async def test_covered_call_without_shares_is_rejected_and_not_stored(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        before = list(ws.fills)
        call = OptionContract("SPXW", date(2018, 1, 31), 2800.0, "C")
        with pytest.raises(OrderRejected, match="covered call"):
            await ws.place_order(ws.new_ticket(call, "SELL", 1))
        assert ws.fills == before
    finally:
        await ws.aclose()


async def test_not_enough_buying_power(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2500.0, "P")
        with pytest.raises(OrderRejected, match="buying power"):
            await ws.place_order(ws.new_ticket(put, "SELL", 10))
    finally:
        await ws.aclose()


async def test_limit_not_met_and_unquoted_contract(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
        with pytest.raises(OrderRejected, match="below your limit"):
            await ws.place_order(ws.new_ticket(put, "SELL", 1, limit_price=50.0))
        odd = OptionContract("SPXW", date(2018, 1, 31), 2601.0, "P")
        with pytest.raises(OrderRejected, match="no bid"):
            await ws.place_order(ws.new_ticket(odd, "SELL", 1))
    finally:
        await ws.aclose()


async def test_reset_demo_restores_the_seed(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2500.0, "P")
        await ws.place_order(ws.new_ticket(put, "BUY", 1))  # a protective put, paid at the ask
        assert len(ws.fills) == len(DEMO_SEED) + 1
        await ws.reset_demo()
        assert len(ws.fills) == len(DEMO_SEED)
    finally:
        await ws.aclose()


async def test_unreachable_postgres_falls_back_with_a_message(tmp_path: Path, market: ReplayMarketData) -> None:
    notices: list[str] = []
    ws = Workstation(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url="postgresql://trader:secret@127.0.0.1:1/magnus")
    ws.notice.connect(notices.append)
    await ws.start()
    await ws.refreshed.wait()
    try:
        assert ws.db is not None and ws.db.backend == "sqlite"
        assert ws.db_problem and "nothing you do now will be saved" in ws.db_problem
        assert notices and "secret" not in notices[0]
        assert ws.last_summary is not None and not math.isnan(ws.last_summary.net_liquidation)
    finally:
        await ws.aclose()


async def test_corrupt_sqlite_file_is_left_untouched(tmp_path: Path, market: ReplayMarketData) -> None:
    db_file = tmp_path / "broken.db"
    garbage = bytes(range(256)) * 64
    db_file.write_bytes(garbage)
    ws = Workstation(SettingsStore(tmp_path / "s.json"), Settings(), market=market, db_url=f"sqlite:///{db_file}")
    await ws.start()
    await ws.refreshed.wait()
    try:
        assert ws.db_problem is not None
        assert db_file.read_bytes() == garbage
    finally:
        await ws.aclose()


async def test_watchlist_import_and_bad_file(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        good = tmp_path / "tech.txt"
        good.write_text("###Megacaps\nNASDAQ:AAPL, NASDAQ:GOOG\n###ETFs\nAMEX:SPY,\n", encoding="utf-8")
        message = await ws.import_tradingview(good)
        assert "Imported 3" in message
        imported = [wl for wl in ws.watchlists if wl.name.startswith("tech")]
        assert [i.symbol for i in imported[0].items] == ["AAPL", "GOOG", "SPY"]
        assert [i.section for i in imported[0].items] == ["Megacaps", "Megacaps", "ETFs"]
        bad = tmp_path / "bad.txt"
        bad.write_bytes(b"\x00\xff\x00\x13garbage")
        count = len(ws.watchlists)
        with pytest.raises(ValueError):
            await ws.import_tradingview(bad)
        assert len(ws.watchlists) == count
    finally:
        await ws.aclose()
