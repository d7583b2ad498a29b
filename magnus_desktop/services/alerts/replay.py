"""Replay the demo headless and collect every alert raised (the ``magnus-desktop alerts`` command
and the tests use it): the app's own ``AppContext``, refresh passes and ``AlertService``."""

from __future__ import annotations

from datetime import date

from magnus_desktop.models.alerts import Alert
from magnus_desktop.services.context import AppContext


async def replay_alerts(ctx: AppContext, start: date, end: date) -> list[Alert]:
    """Step a started ``ctx`` through each replay day from ``start`` to ``end`` (inclusive), one
    full refresh pass per day (the alerts run last in it); returns the alerts raised, in order."""
    raised: list[Alert] = []

    def collect(alerts: tuple[Alert, ...]) -> None:
        raised.extend(alerts)

    ctx.alerts.raised.connect(collect)
    try:
        for day in [d for d in ctx.days if start <= d <= end]:
            assert ctx.clock is not None
            ctx.clock.jump(day)
            await ctx.refresher.refresh_now()
    finally:
        ctx.alerts.raised.disconnect(collect)
    return raised
