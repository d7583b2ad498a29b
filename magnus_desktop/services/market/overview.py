"""``MarketOverviewService``: the market context the dashboard shows (SPX, VIX) at the replay day.

Read from the recorded data on the compute executor (SPX closes are cached per day). When a live
source is connected (``AppContext.quotes``: the broker session, yfinance if on), the SPX and VIX
cards show its quotes instead, each labelled with its source and time; the SPX chart stays the
recorded closes of the replay (its title says so).

Events (payloads):
    overview_changed(MarketOverview)
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.models.domain import Quote
from magnus_desktop.models.market import describe_source
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.live import quote_of

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


@dataclass(frozen=True, slots=True)
class MarketOverview:
    """SPX and VIX at ``as_of``: ``spx`` index points (``nan`` if not recorded), ``vix`` the quote
    (None if no data), ``spx_closes`` (day, SPX) for every replay day up to ``as_of``;
    ``spx_source`` / ``vix`` ``.source``: where each came from (``"replay"``, ``"ib"``, ...) and
    ``source_text`` the label under the cards (``describe_source``)."""

    as_of: date
    spx: float
    vix: Quote | None
    spx_closes: tuple[tuple[date, float], ...]
    spx_source: str = "replay"
    source_text: str = ""


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
        overview = await self._ctx.run_compute(self._overview, day, days)
        if self._ctx.quotes.live_sources():
            overview = await self._overlay_live(overview)
        self.last = overview
        emit_isolated(self.overview_changed, overview)

    async def _overlay_live(self, overview: MarketOverview) -> MarketOverview:
        """SPX and VIX from the live sources where they quote them (each keeps its source); a
        symbol no live source has keeps its recorded value, and the label says which is which."""
        spx_pq, vix_pq = await asyncio.gather(self._ctx.quotes.live_price("SPX"), self._ctx.quotes.live_price("VIX"))
        spx, spx_source, vix = overview.spx, overview.spx_source, overview.vix
        if spx_pq is not None:
            last = spx_pq.last if math.isfinite(spx_pq.last) else spx_pq.mid
            if math.isfinite(last):
                spx, spx_source = last, spx_pq.source
        if vix_pq is not None:
            vix = quote_of(vix_pq)
        parts = []
        for name, pq, used in (("SPX", spx_pq, spx_source != "replay"), ("VIX", vix_pq, vix_pq is not None)):
            if used and pq is not None:
                parts.append(f"{name}: {describe_source(pq.source, pq.as_of, delayed=pq.delayed)}")
            else:
                parts.append(f"{name}: replay · as of {overview.as_of.isoformat()} close (no live quote)")
        return replace(overview, spx=spx, spx_source=spx_source, vix=vix, source_text="; ".join(parts))

    def _overview(self, day: date, days: list[date]) -> MarketOverview:
        market = self._ctx.market
        for d in days:
            if d not in self._spx:
                self._spx[d] = market.und_price(d)
        closes = tuple((d, self._spx[d]) for d in days)
        spx = self._spx[day] if day in self._spx else market.und_price(day)
        return MarketOverview(day, spx, market.quote("VIX", day), closes,
                              source_text=f"SPX, VIX: replay · as of {day.isoformat()} close")
