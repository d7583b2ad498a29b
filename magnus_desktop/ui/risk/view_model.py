"""The Risk dock's view model: the risk service's reports and failures as Qt signals, and the
trader's stress scenarios (saved in the settings through the risk service)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.risk import RiskReport, ScenarioError
from magnus_desktop.services.settings import UserScenario
from magnus_desktop.ui.bridge import bridge


class RiskViewModel(QObject):
    report_changed = Signal(object)  # RiskReport
    failed = Signal(str)
    #: a scenario was saved or deleted: (the scenarios now, a note: "" or why it is kept for this session only)
    scenarios_changed = Signal(object, str)
    #: a scenario could not be saved or deleted (why); nothing changed
    scenario_refused = Signal(str)

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

    def user_scenarios(self) -> list[UserScenario]:
        """The trader's scenarios as saved in the settings."""
        return list(self._ctx.settings.risk_scenarios)

    @asyncSlot(object, object)
    async def save_scenario(self, scenario: UserScenario, replacing: str | None) -> None:
        """Add ``scenario`` or replace the one called ``replacing``; saved with the settings."""
        await self._change(self._ctx.risk.save_scenario(scenario, replacing))

    @asyncSlot(str)
    async def delete_scenario(self, name: str) -> None:
        await self._change(self._ctx.risk.delete_scenario(name))

    async def _change(self, work) -> None:  # type: ignore[no-untyped-def]
        try:
            note = await work
        except ScenarioError as exc:
            if shiboken6.isValid(self):
                self.scenario_refused.emit(str(exc))
            return
        if shiboken6.isValid(self):
            self.scenarios_changed.emit(self.user_scenarios(), note or "")
