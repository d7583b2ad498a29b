"""``WatchlistService``: named symbol lists in the database and their quotes at the replay day.

Every change is one repository call on the db executor, then the lists are read back and the
quotes recomputed (compute executor). A change the database refuses becomes a notice; nothing is
half-stored.

Quote sources: a ``LayeredMarket`` in the order connected broker session (its ``MarketData``: IB) →
yfinance (only when the setting ``market_data.use_yfinance`` is on; off by default, so the app stays
offline) → the replay. Each quote keeps its ``source`` (and, for intraday quotes, ``quoted_at``).
With only the replay in the chain, quotes are read per replay day as before; with a live source
they are also re-read on every refresh pass ``ctx.quotes`` schedules (``LIVE_REFRESH_INTERVAL``).

Events (payloads):
    watchlists_changed(list[Watchlist])
    quotes_changed(dict[str, Quote | None])   symbol → quote (None = no source has it)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.models.domain import Quote, Watchlist, WatchlistItem
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.layered import LayeredMarket
from magnus_desktop.services.market.live import quote_of
from magnus_desktop.services.market.protocols import MarketData
from magnus_desktop.services.portfolio.demo import DEFAULT_WATCHLIST, DEFAULT_WATCHLIST_ITEMS
from magnus_desktop.services.storage import StorageError, WatchlistRepo
from magnus_desktop.services.watchlists.tradingview import ImportSummary, describe_skipped, load_tradingview

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

class WatchlistService:
    """The watchlists of the open database."""

    watchlists_changed = Signal(object)
    quotes_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.watchlists: list[Watchlist] = []

    async def start(self) -> None:
        await self.load()

    async def reload(self) -> None:
        """The database changed (reopened): read the lists from it again."""
        await self.load()

    async def aclose(self) -> None:
        """Nothing runs in the background here (the quote sources belong to ``ctx.quotes``)."""

    # ---- quote sources ----------------------------------------------------------------------------
    def live_sources(self) -> list[MarketData]:
        """The app's live sources (``AppContext.quotes``): broker session, then yfinance if on."""
        return self._ctx.quotes.live_sources()

    def quote_chain(self) -> LayeredMarket:
        """The ``LayeredMarket`` the quotes come from: :meth:`live_sources`, then the replay."""
        return self._ctx.quotes.chain()

    async def load(self) -> None:
        """Read the lists; a new writable database gets the default list of the replay symbols."""
        ctx = self._ctx
        repo = WatchlistRepo(ctx.db)
        lists = await ctx.run_db(repo.list)
        if not lists and not ctx.db_read_only:
            wl_id = await ctx.run_db(repo.create, DEFAULT_WATCHLIST)
            await ctx.run_db(repo.add_items, wl_id, DEFAULT_WATCHLIST_ITEMS)
            lists = await ctx.run_db(repo.list)
        self.watchlists = lists
        emit_isolated(self.watchlists_changed, lists)

    def republish(self) -> None:
        """Emit the lists again (for views created after ``start``)."""
        emit_isolated(self.watchlists_changed, self.watchlists)

    async def refresh(self, day: date) -> None:
        quotes = await self._ctx.run_compute(self._quotes, day)
        if self.live_sources():
            quotes = await self._overlay_live(quotes)
        emit_isolated(self.quotes_changed, quotes)

    async def _overlay_live(self, quotes: dict[str, Quote | None]) -> dict[str, Quote | None]:
        """Ask the quote chain for each symbol ("now"); a symbol the live sources cannot quote keeps
        its replay quote (with its stale flag), one they can is replaced and labelled with its source."""
        symbols = list(quotes)
        live = await asyncio.gather(*(self._ctx.quotes.live_price(s) for s in symbols))
        for symbol, pq in zip(symbols, live, strict=True):
            if pq is not None:
                quotes[symbol] = quote_of(pq)
        return quotes

    def _quotes(self, day: date) -> dict[str, Quote | None]:
        symbols = {item.symbol for wl in self.watchlists for item in wl.items}
        return {s: self._ctx.market.quote(s, day) for s in sorted(symbols)}

    # ---- changes ----------------------------------------------------------------------------------
    async def _op(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a repository call, reload the lists, refresh quotes; errors become a notice."""
        ctx = self._ctx
        try:
            result = await ctx.run_db(fn, *args)
        except (StorageError, ValueError) as exc:
            ctx.report(str(exc))
            return None
        self.watchlists = await ctx.run_db(WatchlistRepo(ctx.db).list)
        emit_isolated(self.watchlists_changed, self.watchlists)
        if ctx.clock is not None:
            await self.refresh(ctx.day)
        return result

    def _repo(self) -> WatchlistRepo:
        return WatchlistRepo(self._ctx.db)

    async def create(self, name: str) -> int | None:
        return await self._op(self._repo().create, name)

    async def rename(self, watchlist_id: int, name: str) -> None:
        await self._op(self._repo().rename, watchlist_id, name)

    async def delete(self, watchlist_id: int) -> None:
        await self._op(self._repo().delete, watchlist_id)

    async def move(self, watchlist_id: int, position: int) -> None:
        await self._op(self._repo().move, watchlist_id, position)

    async def add_symbols(self, watchlist_id: int, items: Sequence[WatchlistItem]) -> int | None:
        return await self._op(self._repo().add_items, watchlist_id, list(items))

    async def remove_symbol(self, watchlist_id: int, item: WatchlistItem) -> None:
        await self._op(self._repo().remove_item, watchlist_id, item.symbol, item.exchange)

    async def move_symbol(self, watchlist_id: int, symbol: str, position: int) -> None:
        await self._op(self._repo().move_item, watchlist_id, symbol, position)

    async def import_tradingview(self, path: Path) -> ImportSummary:
        """Import a TradingView export as a new list named after the file. Returns a summary line.

        The summary names the first skipped entries with their reasons ("line 3: '$$$' — ...",
        then "and K more"); it is an ``ImportSummary`` whose ``skipped`` holds all of them.
        The list and its symbols are stored in one transaction: a file that fails stores nothing.

        Raises:
            WatchlistFormatError: the file is not a TradingView list (nothing is stored).
        """
        parsed = await self._ctx.run_compute(load_tradingview, path)
        name = self._free_name(parsed.name_hint or path.stem)
        wl_id = await self._op(self._repo().create, name, parsed.items)
        if wl_id is None:
            return ImportSummary(f"Could not create the list {name!r}; nothing was imported.", watchlist=name)
        added = next((len(wl.items) for wl in self.watchlists if wl.watchlist_id == wl_id), 0)
        message = f"Imported {added} symbols into {name!r} ({len(parsed.sections)} sections)."
        if parsed.skipped:
            n = len(parsed.skipped)
            message += f" Skipped {n} {'entry' if n == 1 else 'entries'}: {describe_skipped(parsed.skipped)}."
        return ImportSummary(message, watchlist=name, skipped=parsed.skipped)

    def _free_name(self, base: str) -> str:
        taken = {wl.name for wl in self.watchlists}
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        return name
