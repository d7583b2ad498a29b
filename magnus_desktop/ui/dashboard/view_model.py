"""The dashboard's view model: account totals, the equity curve (demo: replayed; a real account: the
broker's net liquidation as it arrives), the market overview, the theme."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QObject, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.bridge import bridge


class DashboardViewModel(QObject):
    account_changed = Signal(object)  # AccountSummary
    equity_changed = Signal(object)  # list[(date, net_liq USD, total P&L USD)]
    overview_changed = Signal(object)  # MarketOverview (SPX, VIX)
    broker_equity_changed = Signal(object)  # BrokerEquity: a real account's net liquidation as reported
    feed_changed = Signal(object)  # FeedStatus of a real account, or None when the demo account is back
    theme_changed = Signal(str)

    def __init__(self, ctx: AppContext, app: AppViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        bridge(self, [(ctx.portfolio.account_changed, self.account_changed.emit),
                      (ctx.portfolio.equity_changed, self.equity_changed.emit),
                      (ctx.overview.overview_changed, self.overview_changed.emit),
                      (ctx.portfolio.broker_equity_changed, self.broker_equity_changed.emit),
                      (ctx.portfolio.feed_changed, self.feed_changed.emit)])
        app.theme_changed.connect(self.theme_changed)

    @property
    def theme(self) -> str:
        return self._app.theme

    def replay_days(self) -> list[date]:
        """The replay calendar, ascending (empty until the services started)."""
        return self._app.replay_days()
