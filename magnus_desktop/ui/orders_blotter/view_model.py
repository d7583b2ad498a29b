"""The Orders dock's view model: the recent orders (``OrderLine``, from the audit service, updated
per status event keyed by ``order_ref``) and the cancel and modify actions."""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.models.audit import OrderLine
from magnus_desktop.services.brokers.protocols import BrokerError
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.orders import TicketProblems
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class OrdersBlotterViewModel(QObject):
    order_changed = Signal(object)  # OrderLine
    #: (order_ref, what happened): the broker took the cancel request, or why it refused it
    cancel_answered = Signal(str, str)
    #: (order_ref, what happened): the modification was sent, or why it was refused
    modify_answered = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        bridge(self, [(ctx.audit.order_changed, self.order_changed.emit)])

    def order_lines(self) -> list[OrderLine]:
        """The recent orders known now (oldest activity first)."""
        return self._ctx.audit.order_lines()

    @asyncSlot(str)
    async def cancel(self, order_ref: str) -> None:
        """Ask the broker to cancel ``order_ref``; the answer is audited and sent as ``cancel_answered``;
        the order's new status (``cancelled``) arrives as an ``order_changed`` when the broker reports it."""
        if self._ctx.kalshi.owns(order_ref):  # a Kalshi order: its service cancels and audits it
            answer = await self._ctx.kalshi.cancel_by_ref(order_ref)
            if shiboken6.isValid(self):
                self.cancel_answered.emit(order_ref, answer)
            return
        try:
            await self._ctx.orders.cancel_order(order_ref)
        except BrokerError as exc:
            answer = f"Cancel refused: {exc}"
        else:
            answer = "Cancel sent to the broker; waiting for its confirmation."
        try:
            await self._ctx.audit.record_cancel_request(order_ref, answer)
        finally:
            if shiboken6.isValid(self):  # (its dock may be gone by now)
                self.cancel_answered.emit(order_ref, answer)

    @asyncSlot(str, object, object)
    async def modify(self, order_ref: str, qty: int | None, limit_price: float | None) -> None:
        """Modify the working order ``order_ref`` (new ``qty`` contracts and/or ``limit_price`` USD per
        share; None keeps it). The order rules check it first; every attempt is audited (``modified``)
        and answered as ``modify_answered``."""
        try:
            await self._ctx.orders.modify_order(order_ref, qty=qty, limit_price=limit_price)
        except TicketProblems as exc:
            answer = f"Modification refused: {exc}"
        except BrokerError as exc:
            answer = f"Modification refused: {exc}"
        else:
            answer = "Modification sent to the broker."
        if shiboken6.isValid(self):
            self.modify_answered.emit(order_ref, answer)
