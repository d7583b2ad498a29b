"""Shared pieces of the research docks: visibility following and a lazy "reload when seen" base."""

from __future__ import annotations

from datetime import date

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.widgets.docking import follow_dock_visibility


class SymbolFollower(QObject):
    """A research view model base: follows ``ctx.symbol`` and the replay day, and asks for a reload
    (``reload_requested``) only while its dock is visible — a hidden dock costs nothing, and when it
    is shown again it reloads once if anything changed meanwhile."""

    symbol_changed = Signal(str)
    reload_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._visible = False
        self._dirty = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)  # coalesce a burst (symbol + day at once) into one reload
        self._timer.timeout.connect(self.reload_requested.emit)
        bridge(self, [(ctx.symbol.changed, self._on_symbol_changed), (ctx.date_changed, self._on_ctx_date_changed)])

    @property
    def symbol(self) -> str:
        return self.ctx.symbol.current()

    @property
    def day(self) -> date | None:
        return self.ctx.clock.current if self.ctx.clock is not None else None

    def set_symbol(self, text: str) -> str | None:
        """Make ``text`` the research symbol; returns why not (not a ticker) or None."""
        from magnus_desktop.services.research import InvalidSymbol

        try:
            self.ctx.symbol.set(text, "research")
        except InvalidSymbol as exc:
            return str(exc)
        return None

    def set_visible(self, visible: bool) -> None:
        self._visible = visible
        if visible and self._dirty:
            self._timer.start()

    def changed(self) -> None:
        """Something the dock shows changed: reload now if visible, else when shown."""
        self._dirty = True
        if self._visible:
            self._timer.start()

    def alive(self) -> bool:
        """False once the dock (and this view model) was deleted while an await was pending."""
        return shiboken6.isValid(self) and not self.ctx.closed

    def loaded(self) -> None:
        self._dirty = False

    def _on_symbol_changed(self, symbol: str, _source: str) -> None:
        self.symbol_changed.emit(symbol)
        self.changed()

    def _on_ctx_date_changed(self, _day: date) -> None:
        self.changed()


class FollowsDock(QWidget):
    """A panel that reports whether its dock can be seen to ``self.follower.set_visible``
    (``widgets.docking.follow_dock_visibility``)."""

    follower: SymbolFollower

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        follow_dock_visibility(self, lambda seen: self.follower.set_visible(seen))
