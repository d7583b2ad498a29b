"""View model of one research-desk dock (earnings, sectors, options flow or calendar spreads).

It follows the shared research symbol (``ctx.symbol``), the replay day and, for earnings and
sectors, the account and the watchlists. It computes only while its dock can be seen: a change
while hidden marks it out of date, and showing it computes the latest state once. One computation
runs at a time; changes during it are coalesced into one more run with the latest state.

Signals:
    report_ready(object)   the dock's report (``services.research.desk`` *Report*)
    pending(str)           a new state is being computed: the shown figures are out of date (why)
    failed(str)            the computation raised (the message for the dock)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Literal

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)

DeskKind = Literal["flow", "calendars", "earnings", "sectors"]


class DeskViewModel(QObject):
    report_ready = Signal(object)
    pending = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, kind: DeskKind, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.kind = kind
        self.options: dict[str, Any] = {}
        self.last_report: Any = None
        self._visible = False
        self._dirty = True
        self._task: asyncio.Task[None] | None = None
        links = [(ctx.symbol.changed, self._on_symbol_changed), (ctx.date_changed, self._on_date_changed)]
        if kind in ("earnings", "sectors"):
            links.append((ctx.portfolio.account_changed, self._on_account_changed))
        if kind == "earnings":
            links.append((ctx.watchlists.watchlists_changed, self._on_account_changed))
        bridge(self, links)

    # ---- what the dock shows ----------------------------------------------------------------------
    def symbol(self) -> str:
        return self._ctx.symbol.current()

    def day(self) -> date | None:
        return self._ctx.clock.current if self._ctx.clock is not None else None

    def theme(self) -> str:
        return str(self._ctx.settings.theme)

    def pick_symbol(self, symbol: str) -> None:
        """Make ``symbol`` the research symbol (every research dock follows)."""
        self._ctx.symbol.try_set(symbol, "research")

    def set_option(self, name: str, value: Any) -> None:
        """A dock control changed (calendars: ``right``, ``sort_by``): recompute."""
        if self.options.get(name) != value:
            self.options[name] = value
            self.invalidate(f"{name.replace('_', ' ')} changed")

    # ---- triggers ---------------------------------------------------------------------------------
    def _on_symbol_changed(self, symbol: str, _source: str) -> None:
        self.invalidate(f"symbol changed to {symbol}")

    def _on_date_changed(self, day: date) -> None:
        self.invalidate(f"day changed to {day.isoformat()}")

    def _on_account_changed(self, *_args: object) -> None:
        self.invalidate("account changed")

    def invalidate(self, why: str) -> None:
        """The shown report is out of date: say so now, recompute when visible."""
        self._dirty = True
        if self._ctx.closed:
            return
        self.pending.emit(why)
        if self._visible:
            self._start()

    def set_visible(self, visible: bool) -> None:
        """The dock is shown or hidden: figures are computed only while someone can see them."""
        self._visible = visible
        if visible and self._dirty and not self._ctx.closed:
            self._start()

    @property
    def visible(self) -> bool:
        return self._visible

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    @asyncSlot()
    async def refresh(self) -> None:
        """Recompute now (the dock's Refresh button), then wait for it."""
        self._dirty = True
        self._start()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until no computation runs (tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while self._dirty and self._visible and not self._ctx.closed and self._ctx.clock is not None:
            self._dirty = False
            try:
                report = await self._compute()
            except (MarketDataError, ValueError, OSError) as exc:
                log.warning("research %s failed: %s", self.kind, exc)
                if not shiboken6.isValid(self):
                    return
                self.failed.emit(f"Could not compute the {self.kind}: {exc}")
                continue
            except Exception as exc:  # a bug must not leave the dock greyed forever: say it, keep running
                log.exception("research %s failed", self.kind)
                if not shiboken6.isValid(self):
                    return
                self.failed.emit(f"Could not compute the {self.kind} ({type(exc).__name__}: {exc}); see the log.")
                continue
            if not shiboken6.isValid(self):
                return  # the dock was closed meanwhile
            if self._dirty:  # the symbol or day moved meanwhile: this report is already old
                continue
            self.last_report = report
            self.report_ready.emit(report)

    def _compute(self) -> Awaitable[Any]:
        ctx, symbol, day = self._ctx, self.symbol(), self._ctx.day
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "flow": lambda: ctx.desk.flow(symbol, day),
            "calendars": lambda: ctx.desk.calendars(symbol, day, self.options.get("right", "both"),
                                                     self.options.get("sort_by", "iv_diff")),
            "earnings": lambda: ctx.desk.earnings(symbol, day, ctx.portfolio.last_summary),
            "sectors": lambda: ctx.desk.sectors(symbol, day, ctx.portfolio.last_summary),
        }
        return calls[self.kind]()
