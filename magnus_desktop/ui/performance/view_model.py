"""The Performance dock's view model: the performance service's reports as Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.performance import PerformanceReport
from magnus_desktop.ui.bridge import bridge


class PerformanceViewModel(QObject):
    report_changed = Signal(object)  # PerformanceReport
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        bridge(self, [(ctx.performance.report_changed, self.report_changed.emit),
                      (ctx.performance.failed, self.failed.emit)])
        ctx.performance.set_paused(True)  # until the dock is shown (see set_visible)

    def set_visible(self, visible: bool) -> None:
        """Reports are computed only while the dock can be seen."""
        if not self._ctx.closed:
            self._ctx.performance.set_paused(not visible)

    def select_account(self, account: str) -> None:
        if not self._ctx.closed and account != self._ctx.performance.account:
            self._ctx.performance.select_account(account or None)

    def last_report(self) -> PerformanceReport | None:
        return self._ctx.performance.last_report
