"""The watchlists dock's view model: the lists, their replay quotes, and the list/symbol actions.

Notices (results and errors of the actions) come back through ``notice``; an import that skipped
entries also sends its ``ImportSummary`` (``watchlist_imported``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.models.domain import Watchlist, WatchlistItem
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.watchlists.tradingview import WatchlistFormatError
from magnus_desktop.ui.bridge import bridge


class WatchlistsViewModel(QObject):
    watchlists_changed = Signal(object)  # list[Watchlist]
    quotes_changed = Signal(object)  # dict[str, Quote | None]
    date_changed = Signal(object)
    notice = Signal(str)
    #: a TradingView import stored its list: the ``ImportSummary`` (message + every skipped entry)
    watchlist_imported = Signal(object)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._service = ctx.watchlists
        bridge(self, [(ctx.watchlists.watchlists_changed, self.watchlists_changed.emit),
                      (ctx.watchlists.quotes_changed, self.quotes_changed.emit),
                      (ctx.date_changed, self.date_changed.emit),
                      (ctx.notice, self.notice.emit)])

    def pick_symbol(self, symbol: str) -> None:
        """Make ``symbol`` the research symbol (every research dock follows); non-tickers are ignored."""
        self._ctx.symbol.try_set(symbol, "watchlist")

    def current_day(self) -> date | None:
        return self._ctx.clock.current if self._ctx.clock is not None else None

    def watchlists(self) -> list[Watchlist]:
        return list(self._service.watchlists)

    @asyncSlot(str)
    async def create_watchlist(self, name: str) -> None:
        await self._service.create(name)

    @asyncSlot(int, str)
    async def rename_watchlist(self, watchlist_id: int, name: str) -> None:
        await self._service.rename(watchlist_id, name)

    @asyncSlot(int)
    async def delete_watchlist(self, watchlist_id: int) -> None:
        await self._service.delete(watchlist_id)

    @asyncSlot(int, int)
    async def move_watchlist(self, watchlist_id: int, position: int) -> None:
        await self._service.move(watchlist_id, position)

    @asyncSlot(int, object)
    async def add_symbols(self, watchlist_id: int, items: list[WatchlistItem]) -> None:
        await self._service.add_symbols(watchlist_id, items)

    @asyncSlot(int, object)
    async def remove_symbol(self, watchlist_id: int, item: WatchlistItem) -> None:
        await self._service.remove_symbol(watchlist_id, item)

    @asyncSlot(int, str, int)
    async def move_symbol(self, watchlist_id: int, symbol: str, position: int) -> None:
        await self._service.move_symbol(watchlist_id, symbol, position)

    @asyncSlot(str)
    async def import_tradingview(self, path: str) -> None:
        try:
            summary = await self._service.import_tradingview(Path(path))
        except (WatchlistFormatError, OSError) as exc:
            self._ctx.report(f"Import failed: {exc}")
            return
        self._ctx.report(summary)
        self.watchlist_imported.emit(summary)
