"""The replay refresh is isolated per service and per subscriber; order events carry the order_ref."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.brokers.paper import OrderRejected
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.refresh import ReplayRefresher
from magnus_desktop.services.settings import Settings, SettingsStore

pytestmark = pytest.mark.asyncio
DAY = date(2018, 1, 2)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


async def test_a_failing_service_is_reported_and_the_others_still_refresh() -> None:
    done: list[str] = []
    notices: list[str] = []

    async def ok(name: str, day: date) -> None:
        done.append(f"{name} {day}")

    async def broken(_day: date) -> None:
        raise RuntimeError("chain file unreadable")

    refresher = ReplayRefresher(lambda: DAY, notices.append)
    refresher.add("the account", lambda d: ok("account", d))
    refresher.add("the scanner", broken)
    refresher.add("the watchlist quotes", lambda d: ok("quotes", d))
    await refresher.refresh_now()
    assert done == ["account 2018-01-02", "quotes 2018-01-02"]
    assert notices == ["Could not update the scanner for 2018-01-02: chain file unreadable"]
    assert refresher.refreshed.is_set()


async def test_days_passed_during_a_pass_are_coalesced() -> None:
    days = iter([date(2018, 1, 2), date(2018, 1, 5)])
    current = [next(days)]
    seen: list[date] = []
    gate = asyncio.Event()

    async def slow(day: date) -> None:
        seen.append(day)
        await gate.wait()

    refresher = ReplayRefresher(lambda: current[0], lambda _m: None)
    refresher.add("slow", slow)
    refresher.schedule()
    await asyncio.sleep(0)
    current[0] = next(days)
    refresher.schedule()  # twice while the first pass runs: one more pass, at the latest day
    refresher.schedule()
    gate.set()
    await refresher.refreshed.wait()
    assert seen == [date(2018, 1, 2), date(2018, 1, 5)]


async def started(tmp_path: Path, market: ReplayMarketData) -> AppContext:
    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    await ctx.start()
    await ctx.refreshed.wait()
    return ctx


async def test_a_raising_subscriber_or_service_does_not_silence_the_others(tmp_path: Path,
                                                                          market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    got: dict[str, object] = {}
    notices: list[str] = []
    try:
        def broken_panel(_summary: object) -> None:
            raise RuntimeError("a panel's bug")

        ctx.portfolio.account_changed.connect(broken_panel)  # connected first: psygnal would stop here
        ctx.portfolio.account_changed.connect(lambda s: got.__setitem__("account", s))
        ctx.portfolio.equity_changed.connect(lambda c: got.__setitem__("equity", c))
        ctx.watchlists.quotes_changed.connect(lambda q: got.__setitem__("quotes", q))
        ctx.overview.overview_changed.connect(lambda o: got.__setitem__("overview", o))
        ctx.notice.connect(notices.append)

        def scan_fails(*_args: object) -> None:
            raise OSError("disk gone")

        ctx.scanner.scan_day = scan_fails  # type: ignore[method-assign]  (runs on the compute thread)
        await ctx.refresh_now()
        assert set(got) == {"account", "equity", "quotes", "overview"}
        assert notices == ["Could not update the scanner for 2018-01-02: disk gone"]
        assert got["account"] is ctx.portfolio.last_summary
    finally:
        await ctx.aclose()


async def test_rejections_and_fills_carry_the_order_ref(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    rejected: list[tuple[str, str]] = []
    filled: list[str] = []
    ctx.orders.order_status.connect(
        lambda e: rejected.append((e.order_ref, e.message)) if e.state == "rejected" else None)
    ctx.orders.order_status.connect(lambda e: filled.append(e.order_ref) if e.state == "filled" else None)
    try:
        call = ctx.orders.new_ticket(OptionContract("SPXW", date(2018, 1, 31), 2800.0, "C"), "SELL", 1)
        put = ctx.orders.new_ticket(OptionContract("SPXW", date(2018, 1, 31), 2000.0, "P"), "SELL", 1)
        assert call.order_ref != put.order_ref
        with pytest.raises(OrderRejected):
            await ctx.orders.place_order(call)
        await ctx.orders.place_order(put)
        assert [ref for ref, _reason in rejected] == [call.order_ref]
        assert "covered call" in rejected[0][1]
        assert filled == [put.order_ref]
    finally:
        await ctx.aclose()


async def test_aclose_is_idempotent_and_shuts_the_executors(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    assert set(ctx.executors.names) >= {"db", "compute", "network", "keyring"}
    await ctx.aclose()
    await ctx.aclose()
    with pytest.raises(RuntimeError):
        await ctx.run_db(lambda: None)
