"""The positions dock's view model: the marked account, and the orders view model for close tickets."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.ui.orders.view_model import OrdersViewModel


class PositionsViewModel(QObject):
    account_changed = Signal(object)  # AccountSummary

    def __init__(self, ctx: AppContext, orders: OrdersViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: opens the close tickets (shared with the other docks)
        self.orders = orders
        bridge(self, [(ctx.portfolio.account_changed, self.account_changed.emit)])
