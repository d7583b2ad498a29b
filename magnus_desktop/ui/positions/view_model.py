"""The positions dock's view model: the account (demo marks, or a real account's broker view), its
header line, and the orders view model for close tickets."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.portfolio.live import FeedStatus, describe_feed
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.ui.orders.view_model import OrdersViewModel


class PositionsViewModel(QObject):
    account_changed = Signal(object)  # AccountSummary
    #: a real account's header ("IB paper (IB) — live, as of 12:03:04"), once a second while it is
    #: active (a stale one counts its age up); "" when the demo account is back
    feed_text_changed = Signal(str)

    def __init__(self, ctx: AppContext, orders: OrdersViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        #: opens the close tickets (shared with the other docks)
        self.orders = orders
        self._feed: FeedStatus | None = ctx.portfolio.feed_status()
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._emit_feed_text)
        bridge(self, [(ctx.portfolio.account_changed, self.account_changed.emit),
                      (ctx.portfolio.feed_changed, self._on_portfolio_feed_changed)])

    def pick_symbol(self, symbol: str) -> None:
        """Make ``symbol`` the research symbol (every research dock follows); non-tickers are ignored."""
        self._ctx.symbol.try_set(symbol, "positions")

    def _on_portfolio_feed_changed(self, status: FeedStatus | None) -> None:
        self._feed = status
        if status is None:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()
        self._emit_feed_text()

    def feed_text(self, now: datetime | None = None) -> str:
        """The real account's header now; "" while the demo account is active."""
        if self._feed is None:
            return ""
        return describe_feed(self._feed, now or datetime.now(UTC))

    def _emit_feed_text(self) -> None:
        text = self.feed_text()
        if text != self._text:
            self._text = text
            self.feed_text_changed.emit(text)
