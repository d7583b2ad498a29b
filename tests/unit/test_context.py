"""The AppContext and its services (no Qt): demo seed, replay refresh, paper orders, fallbacks."""

from __future__ import annotations

import asyncio
import csv
import math
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.brokers.paper import OrderRejected
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.portfolio import DEMO_ROLL_DAY, DEMO_SEED, DEMO_SEED_DAY
from magnus_desktop.services.settings import Settings, SettingsStore

pytestmark = pytest.mark.asyncio
FEB28 = date(2018, 2, 28)
JAN31 = date(2018, 1, 31)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def raw_row(quote_date: date, expiry: date, strike: float, right: str = "put") -> dict[str, str]:
    """The bundled chain file's row, read independently of our loader."""
    path = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
    key = (f"{quote_date:%m/%d/%Y}", f"{expiry:%m/%d/%Y}", f"{strike:g}", right)
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if (row["quotedate"], row["expiration"], row["strike"], row["type"]) == key:
                return row
    raise AssertionError(f"{key} not in file")


def raw_bid(quote_date: str, strike: str, right: str, expiry: date = FEB28) -> float:
    day = date(int(quote_date[6:]), int(quote_date[:2]), int(quote_date[3:5]))
    return float(raw_row(day, expiry, float(strike), right)["bid"])


async def started(tmp_path: Path, market: ReplayMarketData, **kw: object) -> AppContext:
    ws = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url=kw.pop("db_url", f"sqlite:///{tmp_path / 'm.db'}"))  # type: ignore[arg-type]
    await ws.start(**kw)  # type: ignore[arg-type]
    await ws.refreshed.wait()
    return ws


async def test_demo_account_is_seeded_at_the_recorded_bid(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        assert len(ws.portfolio.fills) == len(DEMO_SEED) == 6
        assert {f.fill_date for f in ws.portfolio.fills} == {DEMO_SEED_DAY, DEMO_ROLL_DAY}
        for fill in ws.portfolio.fills:
            row = raw_row(fill.fill_date, fill.contract.expiry, fill.contract.strike)
            assert fill.qty < 0 and fill.price == float(row["bid"]) > 0
        first = [t for t in DEMO_SEED if t.trade_date == DEMO_SEED_DAY]
        summary = ws.portfolio.last_summary  # on 2018-01-02 only the January puts exist
        assert summary is not None and summary.as_of == DEMO_SEED_DAY and len(summary.positions) == len(first)
        assert summary.collateral_used == sum(t.strike * 100 * t.qty for t in first)
        assert ws.scanner.last_scan is not None and len(ws.scanner.last_scan.rows) > 0
    finally:
        await ws.aclose()


async def test_the_demo_rolls_into_february_and_takes_the_shock(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market, replay_date=date(2018, 1, 30))
    try:
        jan = [f for f in ws.portfolio.fills if f.fill_date == DEMO_SEED_DAY]
        roll = [f for f in ws.portfolio.fills if f.fill_date == DEMO_ROLL_DAY]
        assert len(roll) == 3 and all(f.contract.expiry == FEB28 for f in roll)
        # before the roll day its fills are not effective: the account holds the January puts only
        before = ws.portfolio.last_summary
        assert before is not None and {p.contract for p in before.positions} == {f.contract for f in jan}
        fees = ws.settings.commission_per_contract
        assert before.cash == pytest.approx(ws.portfolio.starting_cash + sum(-f.qty * f.price * 100 - fees for f in jan))
        # the January puts expired worthless on 31 Jan (SPX closed above every strike)
        assert all(float(raw_row(JAN31, JAN31, f.contract.strike)["underlying_last"]) > f.contract.strike for f in jan)
        assert ws.clock is not None
        ws.clock.jump(date(2018, 2, 5))
        await asyncio.sleep(0)
        await ws.refreshed.wait()
        shock = ws.portfolio.last_summary
        assert shock is not None and {p.contract for p in shock.positions} == {f.contract for f in roll}
        for p in shock.positions:
            bid = float(raw_row(date(2018, 2, 5), FEB28, p.contract.strike)["bid"])
            ask = float(raw_row(date(2018, 2, 5), FEB28, p.contract.strike)["ask"])
            assert p.mark == pytest.approx((bid + ask) / 2) and p.unrealized_pnl < 0
        assert shock.collateral_used == sum(f.contract.strike * 100 for f in roll)
    finally:
        await ws.aclose()


async def test_a_backdated_order_is_checked_against_every_later_day(tmp_path: Path, market: ReplayMarketData) -> None:
    """The issue's repro: 1 x 2720 P sold on 02-02, then N x 2790 P sold on 02-01 that fits 02-01's
    buying power but leaves 02-02 short of cash (it was filled before; N = 4 with the rolled seed)."""
    ws = await started(tmp_path, market, replay_date=date(2018, 2, 2))
    try:
        assert ws.clock is not None
        first = ws.orders.fill_of(
            await ws.orders.place_order(ws.orders.new_ticket(OptionContract("SPXW", FEB28, 2720.0, "P"), "SELL", 1)))
        assert first is not None
        ws.clock.jump(DEMO_ROLL_DAY)
        await asyncio.sleep(0)
        await ws.refreshed.wait()
        big = ws.orders.new_ticket(OptionContract("SPXW", FEB28, 2790.0, "P"), "SELL", 4)
        # buying power on 02-02 computed from the chain file alone: every fill's bid, fees, collateral
        fees = ws.settings.commission_per_contract
        premiums = sum(raw_bid(f"{t.trade_date:%m/%d/%Y}", f"{t.strike:g}", "put", t.expiry) * 100 for t in DEMO_SEED)
        premiums += raw_bid("02/02/2018", "2720", "put") * 100 + raw_bid("02/01/2018", "2790", "put") * 400
        collateral = sum(t.strike * 100 for t in DEMO_SEED if t.expiry == FEB28) + 2720 * 100 + 4 * 2790 * 100
        expected = ws.portfolio.starting_cash + premiums - fees * (len(DEMO_SEED) + 1 + 4) - collateral
        assert expected < 0 and first.fill_date == date(2018, 2, 2)
        summary = ws.portfolio.last_summary
        assert summary is not None and (await ws.broker.preview(big, summary)).problems == ()
        with pytest.raises(OrderRejected, match=r"on 2018-02-02") as caught:
            await ws.orders.place_order(big)
        assert f"-${-expected:,.0f}" in str(caught.value)
        assert len(ws.portfolio.fills) == len(DEMO_SEED) + 1
        check = await ws.orders.check_ticket(big)
        assert check is not None and check.short_day == date(2018, 2, 2)
        assert check.describe() == "Checked against every later replay day up to 2018-02-28"
        # a size that fits every later day fills, backdated
        await ws.orders.place_order(ws.orders.new_ticket(OptionContract("SPXW", FEB28, 2790.0, "P"), "SELL", 1))
        for day in (d for d in ws.clock.days if d >= DEMO_ROLL_DAY):
            assert ws.portfolio.summary_at(tuple(ws.portfolio.fills), day).buying_power >= 0
    finally:
        await ws.aclose()


async def test_seed_not_repeated_and_fills_persist(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    await ws.aclose()
    again = await started(tmp_path, market)
    try:
        assert len(again.portfolio.fills) == len(DEMO_SEED)
    finally:
        await again.aclose()


async def test_sell_put_from_replay_day_then_jump_and_mark(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market, replay_date=date(2018, 2, 1))
    try:
        contract = OptionContract("SPXW", FEB28, 2600.0, "P")
        fill = ws.orders.fill_of(await ws.orders.place_order(ws.orders.new_ticket(contract, "SELL", 2)))
        assert fill is not None
        assert fill.price == raw_bid("02/01/2018", "2600", "put") and fill.qty == -2
        assert fill.commission == pytest.approx(2 * ws.settings.commission_per_contract)
        assert ws.clock is not None
        ws.clock.jump(date(2018, 2, 5))  # the volatility shock: the short put loses
        await asyncio.sleep(0)
        await ws.refreshed.wait()
        summary = ws.portfolio.last_summary
        assert summary is not None and summary.as_of == date(2018, 2, 5)
        (pos,) = [p for p in summary.positions if p.contract == contract]
        assert pos.unrealized_pnl < 0 and pos.mark > fill.price
    finally:
        await ws.aclose()


async def test_covered_call_without_shares_is_rejected_and_not_stored(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        before = list(ws.portfolio.fills)
        call = OptionContract("SPXW", date(2018, 1, 31), 2800.0, "C")
        with pytest.raises(OrderRejected, match="covered call"):
            await ws.orders.place_order(ws.orders.new_ticket(call, "SELL", 1))
        assert ws.portfolio.fills == before
    finally:
        await ws.aclose()


async def test_not_enough_buying_power(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2500.0, "P")
        with pytest.raises(OrderRejected, match="buying power"):
            await ws.orders.place_order(ws.orders.new_ticket(put, "SELL", 10))
    finally:
        await ws.aclose()


async def test_limit_not_met_and_unquoted_contract(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
        with pytest.raises(OrderRejected, match="below your limit"):
            await ws.orders.place_order(ws.orders.new_ticket(put, "SELL", 1, limit_price=50.0))
        odd = OptionContract("SPXW", date(2018, 1, 31), 2601.0, "P")
        with pytest.raises(OrderRejected, match="No recorded bid"):
            await ws.orders.place_order(ws.orders.new_ticket(odd, "SELL", 1))
    finally:
        await ws.aclose()


async def test_reset_demo_restores_the_seed(tmp_path: Path, market: ReplayMarketData) -> None:
    ws = await started(tmp_path, market)
    try:
        put = OptionContract("SPXW", date(2018, 1, 31), 2500.0, "P")
        await ws.orders.place_order(ws.orders.new_ticket(put, "BUY", 1))  # a protective put, paid at the ask
        assert len(ws.portfolio.fills) == len(DEMO_SEED) + 1
        await ws.portfolio.reset_demo()
        assert len(ws.portfolio.fills) == len(DEMO_SEED)
    finally:
        await ws.aclose()


async def test_unreachable_postgres_falls_back_with_a_message(tmp_path: Path, market: ReplayMarketData) -> None:
    notices: list[str] = []
    ws = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url="postgresql://trader:secret@127.0.0.1:1/magnus")
    ws.notice.connect(notices.append)
    await ws.start()
    await ws.refreshed.wait()
    try:
        assert ws.db is not None and ws.db.backend == "sqlite"
        assert ws.db_problem and "nothing you do now will be saved" in ws.db_problem
        assert notices and "secret" not in notices[0]
        assert ws.portfolio.last_summary is not None and not math.isnan(ws.portfolio.last_summary.net_liquidation)
    finally:
        await ws.aclose()


async def test_corrupt_sqlite_file_is_left_untouched(tmp_path: Path, market: ReplayMarketData) -> None:
    db_file = tmp_path / "broken.db"
    garbage = bytes(range(256)) * 64
    db_file.write_bytes(garbage)
    ws = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market, db_url=f"sqlite:///{db_file}")
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
        message = await ws.watchlists.import_tradingview(good)
        assert "Imported 3" in message
        imported = [wl for wl in ws.watchlists.watchlists if wl.name.startswith("tech")]
        assert [i.symbol for i in imported[0].items] == ["AAPL", "GOOG", "SPY"]
        assert [i.section for i in imported[0].items] == ["Megacaps", "Megacaps", "ETFs"]
        bad = tmp_path / "bad.txt"
        bad.write_bytes(b"\x00\xff\x00\x13garbage")
        count = len(ws.watchlists.watchlists)
        with pytest.raises(ValueError):
            await ws.watchlists.import_tradingview(bad)
        assert len(ws.watchlists.watchlists) == count
    finally:
        await ws.aclose()
