"""The alert service over the bundled Jan–Feb 2018 replay of the demo account: the expected
alerts on the expected days (expectations computed here from the recorded quotes), no repeat
within the cool-down, triage persisted."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from magnus_desktop.models.alerts import Alert, Priority
from magnus_desktop.services.alerts.replay import replay_alerts
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore

pytestmark = pytest.mark.asyncio
FEB5 = date(2018, 2, 5)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


async def _ctx(tmp_path: Path, market: ReplayMarketData) -> AppContext:
    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market, db_url=f"sqlite:///{tmp_path / 'm.db'}")
    ctx.alerts.scheduled = False
    await ctx.start(replay_date=ctx.market.trading_days()[0])
    await ctx.refreshed.wait()
    return ctx


def _first_day(days: list[date], test: object) -> date | None:
    return next((d for d in days if test(d)), None)  # type: ignore[operator]


async def test_replay_raises_the_expected_alerts_once_per_cooldown(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await _ctx(tmp_path, market)
    try:
        days = ctx.days
        alerts = await replay_alerts(ctx, days[0], days[-1])
        by_key: dict[tuple[str, str], list[Alert]] = defaultdict(list)
        for a in alerts:
            by_key[a.key].append(a)
        january = [f for f in ctx.portfolio.fills if f.contract.expiry == date(2018, 1, 31)]
        assert len(january) == 3
        for fill in january:
            c = fill.contract
            exp = by_key[("expiration", c.local_symbol)]
            high_day = _first_day(days, lambda d, c=c: 0 <= c.dte(d) <= 7)
            critical_day = _first_day(days, lambda d, c=c: 0 <= c.dte(d) <= 3)
            assert [(a.day, a.priority) for a in exp][:2] == [(high_day, Priority.HIGH), (critical_day, Priority.CRITICAL)]

            def captured(d: date, fill=fill) -> float:  # (credit - mid) / credit from the recorded quote
                q = market.option_quote(fill.contract, d)
                return (fill.price - (q.bid + q.ask) / 2) / fill.price

            target_day = _first_day([d for d in days if d >= fill.fill_date and d <= c.expiry], lambda d: captured(d) >= 0.5)
            profit = by_key[("profit_target", c.local_symbol)]
            assert profit and profit[0].day == target_day and profit[0].priority == Priority.HIGH
            assert "close" in profit[0].actions
            shown = next(f.value for f in profit[0].facts if f.label == "captured")
            assert shown == pytest.approx(captured(target_day) * 100, abs=0.05)  # type: ignore[arg-type]
        opened_before_feb5 = {f.contract.local_symbol for f in ctx.portfolio.fills if f.fill_date < FEB5}
        assert any(a.monitor == "delta" and a.day <= FEB5 for a in alerts)
        assert any(a.monitor == "assignment" and a.subject in opened_before_feb5 for a in alerts)
        cooldown = timedelta(hours=ctx.settings.alerts.cooldown_hours)
        for key, raised in by_key.items():
            for before, after in zip(raised, raised[1:], strict=False):
                assert after.raised_at - before.raised_at >= cooldown or after.priority > before.priority, key
        for a in alerts:
            assert a.alert_id > 0 and a.facts and all(isinstance(f.value, str) or not math.isinf(f.value) for f in a.facts)
    finally:
        await ctx.aclose()


async def test_triage_is_persisted(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await _ctx(tmp_path, market)
    try:
        alerts = await replay_alerts(ctx, date(2018, 1, 24), date(2018, 1, 24))
        assert len(alerts) >= 3
        first, second, third = alerts[:3]
        await ctx.alerts.acknowledge([first.alert_id])
        await ctx.alerts.snooze([second.alert_id], timedelta(hours=1))
        await ctx.alerts.dismiss([third.alert_id])
        assert ctx.alerts.unread() == len(alerts) - 3
    finally:
        await ctx.aclose()
    again = await _ctx(tmp_path, market)
    try:
        visible = {a.alert_id: a for a in again.alerts.visible()}
        assert visible[first.alert_id].state == "acknowledged"
        assert visible[second.alert_id].snoozed_until == second.raised_at + timedelta(hours=1)
        assert third.alert_id not in visible
        history = await again.alerts.history()
        assert {a.alert_id for a in history} >= {first.alert_id, second.alert_id, third.alert_id}
    finally:
        await again.aclose()
