"""``LayeredMarket``: several ``MarketData`` sources in priority order, with a TTL cache per kind.

The order is configurable (the app uses connected broker → yfinance → replay). For each request
the first source that answers wins; ``SourceOffline``, ``NoData`` and ``UnknownSymbol`` (and any
other ``MarketDataError``) fall through to the next source. Values are returned as the source made
them, so each keeps its own ``source`` and ``as_of``.

Cache: one ``cachetools.TTLCache`` per data kind, timed by an injectable monotonic clock; errors
are never cached. Concurrent identical requests share one in-flight task. ``stats`` holds hit and
miss counters per kind (for the health panel).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import pandas as pd
from cachetools import TTLCache

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import DataSource, OptionQuote, PriceQuote
from magnus_desktop.services.market.protocols import (
    BarInterval,
    MarketData,
    MarketDataError,
    NoData,
    QuoteListener,
    SourceOffline,
    UnknownSymbol,
)

__all__ = ["DEFAULT_TTLS", "CacheKind", "CacheStats", "LayeredMarket"]

log = logging.getLogger(__name__)

CacheKind = Literal["quote", "chain", "bars"]
#: Seconds a value stays fresh: quotes (prices and option quotes), chains, history.
DEFAULT_TTLS: Mapping[CacheKind, float] = {"quote": 15.0, "chain": 120.0, "bars": 86_400.0}


@dataclass
class CacheStats:
    """Counters of one cache kind. ``shared`` counts callers served by another caller's in-flight request."""

    hits: int = 0
    misses: int = 0
    shared: int = 0

    @property
    def hit_rate(self) -> float:
        """Share of requests answered without asking a source (0..1; 0 before any request)."""
        total = self.hits + self.misses + self.shared
        return (self.hits + self.shared) / total if total else 0.0


class LayeredMarket:
    """Ask ``sources`` in order; cache what answers.

    Args:
        sources: highest priority first (e.g. ``[broker_market, yahoo, replay]``).
        ttls: seconds per kind, overriding ``DEFAULT_TTLS``.
        clock: monotonic seconds (tests inject a fake one).
        maxsize: entries kept per kind.
    """

    def __init__(
        self,
        sources: Sequence[MarketData],
        *,
        ttls: Mapping[CacheKind, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        maxsize: int = 2048,
    ) -> None:
        if not sources:
            raise ValueError("LayeredMarket needs at least one source")
        self._sources = list(sources)
        self.ttls: dict[CacheKind, float] = {**DEFAULT_TTLS, **(ttls or {})}
        self._clock = clock
        self._caches: dict[CacheKind, TTLCache[Hashable, Any]] = {
            kind: TTLCache(maxsize=maxsize, ttl=ttl, timer=clock) for kind, ttl in self.ttls.items()
        }
        self.stats: dict[CacheKind, CacheStats] = {kind: CacheStats() for kind in self.ttls}
        #: the source that answered the latest uncached request, per kind (the health panel)
        self.last_source: dict[CacheKind, str] = {}
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self._forwarders: dict[tuple[QuoteListener, int], QuoteListener] = {}
        self._last_rank: dict[Hashable, tuple[int, float]] = {}

    @property
    def source(self) -> DataSource:
        """The label of the highest-priority source (each value carries its own ``source``)."""
        return self._sources[0].source

    @property
    def sources(self) -> list[MarketData]:
        return list(self._sources)

    def set_sources(self, sources: Sequence[MarketData]) -> None:
        """Change the order (e.g. put the broker first once it connects); the cache is cleared."""
        if not sources:
            raise ValueError("LayeredMarket needs at least one source")
        self._sources = list(sources)
        self.clear()

    def clear(self) -> None:
        """Drop every cached value (counters are kept)."""
        for cache in self._caches.values():
            cache.clear()

    # ---------------------------------------------------------------- requests
    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Price from the first source that has one (see ``MarketData.underlying_price``)."""
        key = ("price", symbol.strip().upper(), at)
        return await self._get("quote", key, lambda s: s.underlying_price(symbol, at))

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """Option quote from the first source that has one."""
        return await self._get("quote", ("option", contract, at), lambda s: s.option_quote(contract, at))

    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        """Chain from the first source that has one (a copy: callers may modify it); the frame's
        ``attrs["source"]`` names the source that answered (``"ib"``, ``"replay"``, ...)."""
        async def ask(src: MarketData) -> pd.DataFrame:
            frame = await src.chain(symbol, at)
            frame.attrs["source"] = src.source
            return frame

        frame = await self._get("chain", ("chain", symbol.strip().upper(), at), ask)
        return frame.copy()

    async def bars(self, symbol: str, start: date, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """Bars from the first source that has them (a copy)."""
        key = ("bars", symbol.strip().upper(), start, end, interval)
        frame = await self._get("bars", key, lambda s: s.bars(symbol, start, end, interval))
        return frame.copy()

    async def _get(self, kind: CacheKind, key: Hashable, ask: Callable[[MarketData], Awaitable[Any]]) -> Any:
        cache, stats = self._caches[kind], self.stats[kind]
        try:
            value = cache[key]
        except KeyError:
            pass
        else:
            stats.hits += 1
            return value
        task = self._inflight.get(key)
        if task is not None:
            stats.shared += 1
            return await asyncio.shield(task)
        stats.misses += 1
        task = asyncio.get_running_loop().create_task(self._first_answer(ask, kind))
        self._inflight[key] = task
        try:
            value = await asyncio.shield(task)
        finally:
            if self._inflight.get(key) is task:
                del self._inflight[key]
        cache[key] = value
        return value

    async def _first_answer(self, ask: Callable[[MarketData], Awaitable[Any]], kind: CacheKind) -> Any:
        failures: list[tuple[MarketData, MarketDataError]] = []
        for src in self._sources:
            try:
                value = await ask(src)
                self.last_source[kind] = src.source
                return value
            except MarketDataError as exc:
                log.debug("%s could not answer: %s", src.source, exc)
                failures.append((src, exc))
        raise _combined(failures)

    # ----------------------------------------------------------- subscriptions
    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Subscribe ``contracts`` on every source; ``listener`` gets each item from the
        highest-priority source that delivered it within the quote TTL (lower ones are dropped)."""
        for rank, src in enumerate(self._sources):
            src.subscribe(contracts, self._forwarder(listener, rank))

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        for rank, src in enumerate(self._sources):
            forwarder = self._forwarders.get((listener, rank))
            if forwarder is not None:
                src.unsubscribe(contracts, forwarder)

    def _forwarder(self, listener: QuoteListener, rank: int) -> QuoteListener:
        existing = self._forwarders.get((listener, rank))
        if existing is not None:
            return existing

        def forward(batch: Sequence[OptionQuote | PriceQuote]) -> None:
            now = self._clock()
            keep = []
            for quote in batch:
                item = (id(listener), quote.contract if isinstance(quote, OptionQuote) else quote.symbol)
                best = self._last_rank.get(item)
                if best is None or best[0] >= rank or now - best[1] > self.ttls["quote"]:
                    self._last_rank[item] = (rank, now)
                    keep.append(quote)
            if keep:
                listener(keep)

        self._forwarders[(listener, rank)] = forward
        return forward


def _combined(failures: list[tuple[MarketData, MarketDataError]]) -> MarketDataError:
    """One error for "no source answered": UnknownSymbol if all said so, NoData if any had no data,
    else SourceOffline; the message names each source's reason."""
    message = "no market-data source answered: " + "; ".join(f"{s.source}: {e}" for s, e in failures)
    kinds = {type(e) for _, e in failures}
    if kinds and all(issubclass(k, UnknownSymbol) for k in kinds):
        return UnknownSymbol(message)
    if all(issubclass(k, SourceOffline) for k in kinds):
        return SourceOffline(message)
    return NoData(message)
