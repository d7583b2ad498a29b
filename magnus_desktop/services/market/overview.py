"""``MarketOverviewService``: the market context the dashboard shows (SPX, VIX) at the replay day.

Read from the recorded data on the compute executor (SPX closes are cached per day).

Events (payloads):
    overview_changed(MarketOverview)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.models.domain import Quote
from magnus_desktop.services.events import emit_isolated

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


@dataclass(frozen=True, slots=True)
class MarketOverview:
    """SPX and VIX at ``as_of``: ``spx`` index points (``nan`` if not recorded), ``vix`` the recorded
    quote (None if no data), ``spx_closes`` (day, SPX) for every replay day up to ``as_of``."""

    as_of: date
    spx: float
    vix: Quote | None
    spx_closes: tuple[tuple[date, float], ...]


class MarketOverviewService:
    """Publishes the market overview each replay day."""

    overview_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._spx: dict[date, float] = {}
        self.last: MarketOverview | None = None

    async def start(self) -> None:
        """The first overview comes with the first refresh pass."""

    async def aclose(self) -> None:
        """Nothing runs in the background here."""

    async def refresh(self, day: date) -> None:
        days = [d for d in (self._ctx.days or [day]) if d <= day]
        self.last = await self._ctx.run_compute(self._overview, day, days)
        emit_isolated(self.overview_changed, self.last)

    def _overview(self, day: date, days: list[date]) -> MarketOverview:
        market = self._ctx.market
        for d in days:
            if d not in self._spx:
                self._spx[d] = market.und_price(d)
        closes = tuple((d, self._spx[d]) for d in days)
        spx = self._spx[day] if day in self._spx else market.und_price(day)
        return MarketOverview(day, spx, market.quote("VIX", day), closes)
