"""``LiveQuoteSources``: the market data every panel asks first — the connected broker session, then
yfinance (only with ``market_data.use_yfinance`` on), then the replay — as one ``LayeredMarket``.

One object for the whole app (``AppContext.quotes``), so the watchlists, the dashboard's SPX/VIX
cards and the scanner all read the same sources through the same TTL cache, and a broker session
that connects or drops changes them all at once. While a live source is in the chain, a refresh
pass runs every :data:`LIVE_REFRESH_INTERVAL` seconds (the replay clock only moves on demand).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from magnus_desktop.models.domain import Quote
from magnus_desktop.models.market import PriceQuote, close_of
from magnus_desktop.services.market.layered import LayeredMarket
from magnus_desktop.services.market.protocols import MarketData, MarketDataError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.market.yahoo import YahooMarket

log = logging.getLogger(__name__)

__all__ = ["LIVE_REFRESH_INTERVAL", "LiveQuoteSources", "quote_of"]

#: Seconds between refresh passes while a live source (broker session, yfinance) is in the chain.
LIVE_REFRESH_INTERVAL = 15.0


def quote_of(pq: PriceQuote, prev_close: float | None = None) -> Quote:
    """A source's ``PriceQuote`` as the watchlist's ``Quote`` (last, or the mid when no trade yet)."""
    last = pq.last if pq.last == pq.last else pq.mid
    at = pq.as_of
    return Quote(pq.symbol, at.astimezone(close_of(at.date()).tzinfo).date(), last,
                 pq.prev_close if prev_close is None else prev_close, pq.volume, source=pq.source,
                 quoted_at=at, delayed=pq.delayed)


class LiveQuoteSources:
    """The app's quote chain (no Qt). ``start`` follows the broker session; ``aclose`` stops the
    periodic refresh and closes yfinance if it was used."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._yahoo: YahooMarket | None = None
        self._layered: LayeredMarket | None = None
        self._layered_key: tuple[int, ...] = ()
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._ctx.session.state_changed.connect(self._on_session_state_changed)

    async def aclose(self) -> None:
        self._ctx.session.state_changed.disconnect(self._on_session_state_changed)
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._yahoo is not None:
            await self._yahoo.aclose()

    def live_sources(self) -> list[MarketData]:
        """The sources before the replay: the connected broker session's ``MarketData`` (IB,
        Robinhood), then yfinance when ``market_data.use_yfinance`` is on; empty offline."""
        ctx = self._ctx
        out: list[MarketData] = []
        broker = ctx.session.broker
        if broker is not None and ctx.session.status().state == "connected" and isinstance(broker, MarketData):
            out.append(broker)
        if ctx.settings.market_data.use_yfinance:
            if self._yahoo is None:
                from magnus_desktop.services.market.yahoo import YahooMarket  # only when asked for

                self._yahoo = YahooMarket(executor=ctx.executors["network"])
            out.append(self._yahoo)
        return out

    def chain(self) -> LayeredMarket:
        """The ``LayeredMarket`` over :meth:`live_sources` then the replay (rebuilt, with a fresh
        cache, only when the sources change)."""
        sources = [*self.live_sources(), self._ctx.replay]
        key = tuple(id(s) for s in sources)
        if self._layered is None or key != self._layered_key:
            self._layered, self._layered_key = LayeredMarket(sources), key
        return self._layered

    async def live_price(self, symbol: str) -> PriceQuote | None:
        """``symbol``'s price "now" from the first live source that has it; None when only the replay
        (or nobody) has it, so the caller keeps its recorded value, labelled as such."""
        try:
            pq = await self.chain().underlying_price(symbol, None)
        except MarketDataError:
            return None
        return pq if pq.source != "replay" else None

    def _on_session_state_changed(self, _account: str, _state: str, _reason: str) -> None:
        """A broker session connected or went away: every panel reads its sources again."""
        ctx = self._ctx
        if ctx.closed:  # the session closes during shutdown: nothing new starts
            return
        if ctx.clock is not None:
            ctx.refresher.schedule()
        if self.live_sources() and (self._poller is None or self._poller.done()):
            self._poller = asyncio.get_running_loop().create_task(self._poll_live())

    async def _poll_live(self) -> None:
        while self.live_sources() and not self._ctx.closed:
            await asyncio.sleep(LIVE_REFRESH_INTERVAL)
            if self._ctx.clock is not None and not self._ctx.closed:
                self._ctx.refresher.schedule()
