"""``ResearchService``: the research desk's access to earnings dates and daily bar history (no Qt).

It reads through the app's market-data chain (broker session → yfinance when on → the replay), so
offline it serves the bundled recorded bars. Bars are cached per symbol for the session.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.research.earnings import EarningsInfo, EarningsSource

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

__all__ = ["ResearchService"]

log = logging.getLogger(__name__)
#: calendar days of daily history fetched for a chart/report (5 years + the SMA-200 warm-up)
HISTORY_DAYS = 365 * 6


class ResearchService:
    """Earnings lookups and cached daily bars for the research docks and the report."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._bars: dict[tuple[str, date], pd.DataFrame] = {}

    async def start(self) -> None:
        """Nothing to open: files and the network are read on demand."""

    async def aclose(self) -> None:
        self._bars.clear()

    def earnings_source(self) -> EarningsSource:
        """The earnings sources as the settings say now: the user's file, then Yahoo when it is on."""
        yahoo = next((s for s in self._ctx.quotes.live_sources() if hasattr(s, "earnings_dates")), None)
        return EarningsSource(self._ctx.settings.research.earnings_file or None,
                              getattr(yahoo, "earnings_dates", None))

    async def earnings(self, symbol: str) -> EarningsInfo:
        """Earnings dates of ``symbol`` (status ``no_source`` offline without a file)."""
        return await self.earnings_source().lookup(symbol, self._ctx.run_compute)

    async def daily_bars(self, symbol: str, end: date, days: int = HISTORY_DAYS) -> pd.DataFrame:
        """Daily bars of ``symbol`` up to ``end`` inclusive (``days`` calendar days back), from the
        first source that has them; cached per (symbol, end).

        Raises:
            MarketDataError (UnknownSymbol, NoData, SourceOffline): nobody has them; the message says why.
        """
        key = (symbol, end)
        if key not in self._bars:
            frame = await self._ctx.quotes.chain().bars(symbol, end - timedelta(days=days), end, "1d")
            if len(self._bars) > 600:
                self._bars.pop(next(iter(self._bars)))
            self._bars[key] = frame
        return self._bars[key]

    def forget(self) -> None:
        """Drop cached bars (a new source connected)."""
        self._bars.clear()


def describe_missing(symbol: str, exc: MarketDataError) -> str:
    """One sentence for a dock when ``symbol``'s bars are missing."""
    return f"No daily bars for {symbol}: {exc}"
