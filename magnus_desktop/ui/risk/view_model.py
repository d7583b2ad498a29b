"""The Risk dock's view model: the risk service's reports and failures as Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.risk import RiskReport
from magnus_desktop.ui.bridge import bridge


class RiskViewModel(QObject):
    report_changed = Signal(object)  # RiskReport
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        bridge(self, [(ctx.risk.report_changed, self.report_changed.emit), (ctx.risk.failed, self.failed.emit)])
        ctx.risk.set_paused(True)  # until the dock is shown (see set_visible)

    def set_visible(self, visible: bool) -> None:
        """The dock is shown or hidden: reports are computed only while someone can see them."""
        if not self._ctx.closed:
            self._ctx.risk.set_paused(not visible)

    def last_report(self) -> RiskReport | None:
        """The latest report (None before the first portfolio update)."""
        return self._ctx.risk.last_report
