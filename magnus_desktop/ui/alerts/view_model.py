"""The Alerts dock's view model: the alert list, unread count, problems, and the triage slots."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.models.alerts import Alert
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.journal.entries import alert_entry
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.ui.orders.view_model import OrdersViewModel

SNOOZE = timedelta(hours=1)


class AlertsViewModel(QObject):
    alerts_changed = Signal(object)  # tuple[Alert]: not dismissed, snoozed ones left out
    raised = Signal(object)  # tuple[Alert] raised by one monitor run
    problems_changed = Signal(object)  # tuple[str]
    unread_changed = Signal(int)

    def __init__(self, ctx: AppContext, orders: OrdersViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        #: opens close tickets for the "close" / "roll" actions (shared with the other docks)
        self.orders = orders
        self._unread = -1
        bridge(self, [(ctx.alerts.alerts_changed, self._on_alerts_alerts_changed),
                      (ctx.alerts.raised, self.raised.emit),
                      (ctx.alerts.problems_changed, self.problems_changed.emit)])

    def republish(self) -> None:
        """Emit the current state (the dock is built after the services started)."""
        self._on_alerts_alerts_changed(self._ctx.alerts.visible())
        self.problems_changed.emit(self._ctx.alerts.problems())

    def journal_alert(self, alert: Alert, thesis: str, tags: str) -> None:
        """Journal ``alert`` with the trader's thesis and tags (its facts are the numbers; saved in the background)."""
        self._ctx.journal.add_soon(alert_entry(alert, thesis, tags))

    def now(self) -> datetime:
        return self._ctx.alerts.now() if self._ctx.clock is not None else datetime.now().astimezone()

    def _on_alerts_alerts_changed(self, alerts: tuple[Alert, ...]) -> None:
        now = self.now()
        shown = tuple(a for a in alerts if not a.snoozed(now))
        self.alerts_changed.emit(shown)
        unread = sum(1 for a in shown if a.state == "new")
        if unread != self._unread:
            self._unread = unread
            self.unread_changed.emit(unread)

    @asyncSlot(object)
    async def acknowledge(self, ids: list[int]) -> None:
        await self._ctx.alerts.acknowledge(ids)

    @asyncSlot(object)
    async def dismiss(self, ids: list[int]) -> None:
        await self._ctx.alerts.dismiss(ids)

    @asyncSlot(object)
    async def snooze(self, ids: list[int]) -> None:
        """Hide for :data:`SNOOZE` (replay time in replay)."""
        await self._ctx.alerts.snooze(ids, SNOOZE)
