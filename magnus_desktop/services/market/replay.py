"""``ReplayMarket``: the ``MarketData`` seam over the bundled recorded data (``ReplayMarketData``).

Multi-underlying: every bundled bar series (SPY, AAPL, GOOG, VIX) is an underlying, and SPX/SPXW
come from the recorded option chain's underlying price. Option quotes and chains exist for the
recorded SPXW chain only. Every value is labelled ``source="replay"`` with ``as_of`` = the close
(16:00 America/New_York, in UTC) of the bar or chain day it was read from, so a series that ends
before the asked day (AAPL/GOOG after 2018-01-19) shows its real age.

All file reads run on the compute executor passed in; nothing here blocks the loop.

Events:
    error(MarketDataError): a subscribed contract or symbol has no data on the current day
        (reported once until it has data again).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor
from datetime import date, datetime
from typing import Any, TypeVar

import pandas as pd
from psygnal import Signal

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import DataSource, OptionQuote, PriceQuote
from magnus_desktop.services.market import recorded as md
from magnus_desktop.services.market.protocols import (
    BarInterval,
    MarketDataError,
    NoData,
    QuoteListener,
    UnknownSymbol,
)

__all__ = ["NEW_YORK", "ReplayMarket", "close_of_day"]

log = logging.getLogger(__name__)

NEW_YORK = md.NEW_YORK
close_of_day = md.close_of_day
_CHAIN_ROOTS = {"SPX", "SPXW"}
#: Chain days kept as a contract → row index (a day is ~400 rows; subscribers re-read the same day).
_DAY_INDEX_KEEP = 4
T = TypeVar("T")
_Key = tuple[date, float, str]


def _as_day(at: date | datetime) -> date:
    """A datetime's New York calendar day (naive datetimes are taken as New York time)."""
    if isinstance(at, datetime):
        return at.astimezone(NEW_YORK).date() if at.tzinfo is not None else at.date()
    return at


class ReplayMarket:
    """Replay of recorded quotes, chains and daily bars behind the async ``MarketData`` seam.

    Args:
        data: the synchronous recorded-data reader (``ReplayMarketData.from_resources()``).
        executor: the app's compute executor; every file read and table lookup runs there.
        day: the current replay day (used when a call passes ``at=None``); set later with
            ``set_day`` or by connecting ``on_clock_day`` to ``ReplayClock.date_changed``.
    """

    source: DataSource = "replay"
    error = Signal(object)

    def __init__(self, data: md.ReplayMarketData, executor: Executor, *, day: date | None = None) -> None:
        self._data = data
        self._executor = executor
        self._day = day
        self._subs: dict[QuoteListener, set[OptionContract | str]] = {}
        self._day_index: OrderedDict[date, dict[_Key, tuple[float, ...]]] = OrderedDict()
        self._reported: set[OptionContract | str] = set()
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ clock
    @property
    def day(self) -> date | None:
        """The current replay day (None until one is set)."""
        return self._day

    async def set_day(self, day: date) -> None:
        """Move to ``day`` and deliver one batch of quotes to every subscriber (awaited)."""
        self._day = day
        self._generation += 1
        await self._deliver(self._generation, day, dict(self._subs))

    def on_clock_day(self, day: date) -> None:
        """Slot for ``ReplayClock.date_changed``: schedules ``set_day`` on the running loop."""
        self._spawn(self.set_day(day))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("replay quote delivery failed", exc_info=task.exception())

    def _resolve(self, at: date | datetime | None) -> date:
        if at is not None:
            return _as_day(at)
        if self._day is None:
            raise NoData("no replay day is set yet; pick a day on the replay clock")
        return self._day

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------ underlyings
    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Close of ``symbol`` on the asked day (or the last recorded bar before it), USD per share.

        ``as_of`` is that bar's close; ``prev_close`` the bar before (``nan`` if none); ``bid``/
        ``ask`` are ``nan`` (daily bars have none); ``volume`` shares (``nan`` for VIX and SPX).

        Raises:
            UnknownSymbol: no recorded series for ``symbol`` (the message lists the known ones).
            NoData: ``at`` precedes the series, or no day is set.
        """
        return await self._run(self._price_sync, symbol, self._resolve(at))

    def _price_sync(self, symbol: str, day: date) -> PriceQuote:
        df = self._bars_sync(symbol, None, day)
        if df.empty:
            first = self._bars_sync(symbol, None, None).index[0].date()
            raise NoData(f"{symbol}: no recorded bar on or before {day.isoformat()} (the series starts {first.isoformat()})")
        close = df["close"].to_numpy()
        return PriceQuote(
            symbol=md.normalize_symbol(symbol),
            last=float(close[-1]),
            bid=math.nan,
            ask=math.nan,
            prev_close=float(close[-2]) if len(close) > 1 else math.nan,
            volume=float(df["volume"].iloc[-1]),
            source=self.source,
            as_of=close_of_day(df.index[-1].date()),
        )

    def _bars_sync(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        try:
            return self._data.bars(symbol, start, end)
        except md.UnknownSymbolError as exc:
            raise UnknownSymbol(str(exc)) from exc
        except md.MarketDataError as exc:
            raise MarketDataError(f"replay data for {symbol!r} is unusable: {exc}") from exc

    async def bars(self, symbol: str, start: date, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """Recorded daily bars of ``symbol`` from ``start`` to ``end`` inclusive (USD, shares).

        Raises:
            UnknownSymbol: no recorded series for ``symbol``.
            NoData: an intraday ``interval`` (the replay has daily bars only) or no bar in range.
        """
        if interval != "1d":
            raise NoData(f"the replay has daily bars only, not {interval!r} bars")
        df = await self._run(self._bars_sync, symbol, start, end)
        if df.empty:
            raise NoData(f"{symbol}: no recorded bars between {start.isoformat()} and {end.isoformat()}")
        return df

    # ---------------------------------------------------------------- options
    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        """The recorded SPXW chain of one day (``CHAIN_COLUMNS``; prices USD per share).

        Raises:
            NoData: a symbol without a recorded chain (the message says what exists), or a day
                outside the recording.
            UnknownSymbol: a symbol the replay does not know at all.
        """
        return await self._run(self._chain_sync, symbol, self._resolve(at))

    def _chain_sync(self, symbol: str, day: date) -> pd.DataFrame:
        if md.normalize_symbol(symbol) != md.CHAIN_INDEX_SYMBOL:
            self._check_known(symbol)
            raise NoData(f"the replay has no option chain for {symbol!r}; recorded chains: {self._chain_span()}")
        try:
            return self._data.chain(day)
        except md.NotAReplayDayError as exc:
            raise NoData(str(exc)) from exc
        except md.MarketDataError as exc:
            raise MarketDataError(str(exc)) from exc

    def _chain_span(self) -> str:
        days = self._data.trading_days()
        return f"SPXW (underlying SPX), {days[0].isoformat()} .. {days[-1].isoformat()}"

    def _check_known(self, symbol: str) -> None:
        if md.normalize_symbol(symbol) not in self._data.known_symbols():
            known = ", ".join(sorted(self._data.known_symbols()))
            raise UnknownSymbol(f"no recorded data for {symbol!r}; known symbols: {known}")

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """The recorded end-of-day quote of ``contract`` (USD per share; volume/OI in contracts).

        Greeks are ``nan``: the recording has none (analytics compute them from the quote).

        Raises:
            NoData: not an SPXW contract, a day outside the recording, or not quoted that day.
        """
        return await self._run(self._option_sync, contract, self._resolve(at))

    def _option_sync(self, contract: OptionContract, day: date) -> OptionQuote:
        if contract.underlying.upper() not in _CHAIN_ROOTS:
            raise NoData(
                f"the replay has no option quotes for {contract.underlying}; recorded chains: {self._chain_span()}"
            )
        row = self._index(day).get((contract.expiry, float(contract.strike), contract.right))
        if row is None:
            raise NoData(f"{contract.describe()} was not quoted on {day.isoformat()} in the recording")
        bid, ask, last, volume, oi, und = row
        return OptionQuote(
            contract=contract,
            bid=bid,
            ask=ask,
            last=last,
            volume=volume,
            open_interest=oi,
            und_price=und,
            source=self.source,
            as_of=close_of_day(day),
        )

    def _index(self, day: date) -> dict[_Key, tuple[float, ...]]:
        """(expiry, strike, right) → (bid, ask, last, volume, open_interest, und_price) of one day."""
        cached = self._day_index.get(day)
        if cached is not None:
            self._day_index.move_to_end(day)
            return cached
        frame = self._chain_sync("SPXW", day)
        keys = zip(frame["expiry"].dt.date, frame["strike"].astype(float), frame["right"], strict=True)
        cols = frame[["bid", "ask", "last", "volume", "open_interest", "und_price"]].astype(float).to_numpy()
        index = {k: tuple(float(v) for v in row) for k, row in zip(keys, cols, strict=True)}
        self._day_index[day] = index
        while len(self._day_index) > _DAY_INDEX_KEEP:
            self._day_index.popitem(last=False)
        return index

    # ----------------------------------------------------------- subscriptions
    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Deliver quotes of ``contracts`` to ``listener`` on every replay day change.

        When a day is already set and a loop runs, the new contracts' quotes for that day are
        delivered right away too.
        """
        new = set(contracts) - self._subs.get(listener, set())
        self._subs.setdefault(listener, set()).update(contracts)
        if new and self._day is not None and _loop_running():
            self._spawn(self._deliver(self._generation, self._day, {listener: new}))

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stop delivering ``contracts`` to ``listener`` (the listener is dropped when none is left)."""
        wanted = self._subs.get(listener)
        if wanted is None:
            return
        wanted.difference_update(contracts)
        if not wanted:
            del self._subs[listener]

    async def _deliver(self, generation: int, day: date, subs: dict[QuoteListener, set[OptionContract | str]]) -> None:
        wanted = set().union(*subs.values()) if subs else set()
        if not wanted:
            return
        quotes, missing = await self._run(self._quotes_sync, sorted(wanted, key=_sort_key), day)
        if generation != self._generation:
            return  # the day moved on while this batch was read
        self._report(missing)
        for listener, items in subs.items():
            batch = [quotes[item] for item in sorted(items, key=_sort_key) if item in quotes]
            if batch and listener in self._subs:
                _call_isolated(listener, batch)

    def _quotes_sync(
        self, items: list[OptionContract | str], day: date
    ) -> tuple[dict[OptionContract | str, OptionQuote | PriceQuote], dict[OptionContract | str, MarketDataError]]:
        quotes: dict[OptionContract | str, OptionQuote | PriceQuote] = {}
        missing: dict[OptionContract | str, MarketDataError] = {}
        for item in items:
            try:
                quotes[item] = self._price_sync(item, day) if isinstance(item, str) else self._option_sync(item, day)
            except MarketDataError as exc:
                missing[item] = exc
        return quotes, missing

    def _report(self, missing: dict[OptionContract | str, MarketDataError]) -> None:
        self._reported.intersection_update(missing)
        for item, exc in missing.items():
            if item not in self._reported:
                self._reported.add(item)
                _call_isolated(self.error.emit, exc)


def _sort_key(item: OptionContract | str) -> tuple[str, str]:
    return ("0", item) if isinstance(item, str) else ("1", item.local_symbol)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _call_isolated(fn: Callable[..., object], *args: object) -> None:
    """Call one subscriber; an exception is logged and never reaches the others."""
    try:
        fn(*args)
    except Exception:
        log.exception("market-data subscriber %r raised; the others still run", fn)

