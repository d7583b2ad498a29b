"""The research desk service on the offline replay: what it computes and what it says is missing."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from magnus_desktop.analytics.options_flow import options_flow
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore

pytestmark = pytest.mark.asyncio
DAY = date(2018, 2, 6)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


async def started(tmp_path: Path, market: ReplayMarketData, settings: Settings | None = None) -> AppContext:
    ctx = AppContext(SettingsStore(tmp_path / "s.json"), settings or Settings(), market=market,
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    await ctx.start(replay_date=DAY)
    await ctx.refreshed.wait()
    return ctx


async def test_flow_on_the_replay_uses_the_previous_quote_days(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    try:
        report = await ctx.desk.flow("SPX", DAY)
        days = market.trading_days()
        i = days.index(DAY)
        assert report.history == tuple(days[i - 10:i])
        expected = options_flow(market.chain(DAY), [market.chain(d) for d in days[i - 10:i]])
        assert len(report.rows) == len(expected) > 0
        assert report.rows["oi_change"].equals(expected["oi_change"])
        assert report.source.startswith("replay · as of 2018-02-06")
        assert report.context["cp_volume_ratio"].iloc[0] > 0 and report.missing == ()
        first = await ctx.desk.flow("SPX", days[0])  # nothing earlier: said, not shown as zero
        assert first.rows["oi_change"].isna().all() and "earlier" in first.missing[0]
        spy = await ctx.desk.flow("SPY", DAY)
        assert spy.rows.empty and "No option chain of SPY" in spy.missing[0]
    finally:
        await ctx.aclose()


async def test_calendars_say_the_replay_lists_one_expiry(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    try:
        report = await ctx.desk.calendars("SPX", DAY)
        assert report.rows.empty and report.expiries == (date(2018, 2, 28),)
        assert "one expiry (2018-02-28)" in report.missing[0]
        none = await ctx.desk.calendars("AAPL", DAY)
        assert "No option chain of AAPL" in none.missing[0]
    finally:
        await ctx.aclose()


async def test_sectors_of_the_demo_book(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    try:
        summary = ctx.portfolio.last_summary
        assert summary is not None and summary.positions
        report = await ctx.desk.sectors("AAPL", DAY, summary)
        alloc = report.allocation.set_index("sector")
        assert list(alloc.index) == ["Unclassified"]  # SPXW puts: an index, no GICS sector
        assert alloc.loc["Unclassified", "market_value"] == pytest.approx(sum(p.market_value for p in summary.positions))
        assert alloc.loc["Unclassified", "delta_dollars"] == pytest.approx(
            sum(p.delta * p.und_price for p in summary.positions))
        assert report.warnings and report.warnings[0].startswith("Unclassified holds 100%")
        assert report.symbol_sector == "Information Technology"
        strength = report.strength.set_index("symbol")
        assert strength.loc["AAPL", "stale"] and strength.loc["AAPL", "as_of"] == date(2018, 1, 19)
        assert strength.loc["SPY", "rs_1m"] == pytest.approx(0.0)
        assert "XLK" not in strength.index  # offline: no sector ETF bars, and the report says so
        assert any(m.startswith("No daily bars for the sector ETFs XLC") and "XLK" in m for m in report.missing)
    finally:
        await ctx.aclose()


async def test_earnings_offline_without_a_source_says_so(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await started(tmp_path, market)
    try:
        report = await ctx.desk.earnings("AAPL", DAY, ctx.portfolio.last_summary)
        cal = report.calendar.set_index("symbol")
        assert {"AAPL", "GOOG", "SPY"} <= set(cal.index) and "SPX" not in cal.index
        assert cal["next_report"].isna().all() and cal.loc["AAPL", "status"].startswith("no earnings source")
        assert report.reactions.empty and "No earnings source" in report.missing[0]
        assert not report.risk["at_risk"].any() and set(report.risk["note"]) == {"index: no earnings"}
    finally:
        await ctx.aclose()


async def test_earnings_with_the_test_only_file(tmp_path: Path, market: ReplayMarketData, shared_data: Path) -> None:
    settings = Settings()
    settings.research.earnings_file = str(shared_data / "earnings" / "daniel-bassett_earnings_1993-2024.csv")
    ctx = await started(tmp_path, market, settings)
    try:
        report = await ctx.desk.earnings("AAPL", date(2018, 1, 19), ctx.portfolio.last_summary)
        cal = report.calendar.set_index("symbol")
        assert cal.loc["AAPL", "next_report"] == date(2018, 2, 1)
        assert cal.loc["AAPL", "days_to_report"] == 13
        assert math.isnan(cal.loc["AAPL", "expected_move"]) and "no option chain" in cal.loc["AAPL", "status"]
        raw = pd.read_csv(settings.research.earnings_file)
        past = [pd.Timestamp(d).date() for d in raw.loc[raw["ticker"] == "AAPL", "dates"]]
        bars = await ctx.research.daily_bars("AAPL", date(2018, 1, 19))
        inside = [d for d in past if bars.index[0].date() < d < bars.index[-1].date()]
        assert len(report.reactions) == len(inside) > 10
        assert report.summary["n"] == len(inside)
    finally:
        await ctx.aclose()


async def test_daily_bars_cache_serves_the_history_length_asked_for(tmp_path: Path, market: ReplayMarketData) -> None:
    """A short request first (the universe scan's 420 days) must not cap a later longer one (the chart's years)."""
    ctx = await started(tmp_path, market)
    try:
        end = date(2018, 1, 19)
        short = await ctx.research.daily_bars("AAPL", end, 60)
        long = await ctx.research.daily_bars("AAPL", end, 3 * 365)
        again = await ctx.research.daily_bars("AAPL", end, 60)
        assert len(long) > 10 * len(short) > 0
        assert long.index[0].date() < date(2015, 2, 1) and short.index[0].date() >= date(2017, 11, 20)
        pd.testing.assert_frame_equal(again, short)
        assert again.attrs["source"] == long.attrs["source"] != ""
    finally:
        await ctx.aclose()
