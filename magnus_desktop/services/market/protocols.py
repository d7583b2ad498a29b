"""The ``MarketData`` seam every source implements (replay, IB, Robinhood, yfinance, layered).

All methods are coroutines on the app's one asyncio loop; a source runs blocking work on its own
executor. Errors: ``MarketDataError`` subclasses (unknown symbol, no data for a date, offline).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

from magnus_desktop.models.domain import NAN, OptionContract
from magnus_desktop.models.market import DataSource, OptionQuote, PriceQuote
from magnus_desktop.services.market.recorded import close_of_day

BarInterval = Literal["1d", "1h", "5m", "1m"]
QuoteListener = Callable[[Sequence[OptionQuote | PriceQuote]], None]


class MarketDataError(RuntimeError):
    """Base of market-data errors; the message is meant for the user."""


class UnknownSymbol(MarketDataError):
    """The source knows no such symbol."""


class NoData(MarketDataError):
    """The source has no data for that symbol/date (e.g. a date outside the recording)."""


class SourceOffline(MarketDataError):
    """The source cannot be reached now (no network, session down); try another source."""


@runtime_checkable
class MarketData(Protocol):
    """Quotes, chains and history from one source.

    ``at`` is None for "now" (live sources) or the replay day / historical date.
    """

    source: DataSource

    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Latest price of ``symbol`` (USD per share) as of ``at``.

        Raises:
            UnknownSymbol, NoData, SourceOffline.
        """
        ...

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """Quote of one option as of ``at``. Raises UnknownSymbol, NoData, SourceOffline."""
        ...

    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        """Option chain in ``models.domain.CHAIN_COLUMNS`` (plus ``con_id`` where known).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        ...

    async def bars(self, symbol: str, start: date, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """OHLCV bars, index = bar start (date for daily), columns open/high/low/close/volume (USD, shares).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        ...

    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stream quotes for ``contracts`` (an option or a symbol) to ``listener`` in batches, on the loop.

        Re-subscribed automatically after a reconnect. Unknown contracts are reported through the
        source's error event, never by raising here.
        """
        ...

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stop streaming ``contracts`` to ``listener``."""
        ...


async def option_quote_or_missing(market: MarketData, contract: OptionContract, at: date) -> OptionQuote:
    """``market.option_quote(contract, at)``, or, when the source has none for it (``NoData``,
    ``UnknownSymbol``), a quote of NaN prices labelled with the source and the close of ``at``
    (``SourceOffline`` and other errors propagate: "offline" is not "not quoted")."""
    try:
        return await market.option_quote(contract, at)
    except (NoData, UnknownSymbol):
        return OptionQuote(contract, NAN, NAN, NAN, NAN, NAN, NAN, market.source, close_of_day(at))
