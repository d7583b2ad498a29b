"""The Risk dock renders a real report of the demo book (2018-02-02) and lists flagged positions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtCore import QObject, Signal

from magnus_desktop.cli_risk import seed_fills
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.portfolio.marking import account_summary
from magnus_desktop.services.risk.positions import to_risk_positions
from magnus_desktop.services.risk.report import RiskReport, compute_report
from magnus_desktop.services.settings import UserScenario
from magnus_desktop.ui.risk.panel import RiskPanel

DAY = date(2018, 2, 2)


class FakeRiskViewModel(QObject):
    report_changed = Signal(object)
    failed = Signal(str)
    scenarios_changed = Signal(object, str)
    scenario_refused = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[tuple[UserScenario, str | None]] = []
        self.deleted: list[str] = []
        self.scenarios: list[UserScenario] = []

    def last_report(self) -> RiskReport | None:
        return None

    def user_scenarios(self) -> list[UserScenario]:
        return list(self.scenarios)

    def save_scenario(self, scenario: UserScenario, replacing: str | None) -> None:
        self.saved.append((scenario, replacing))

    def delete_scenario(self, name: str) -> None:
        self.deleted.append(name)

    def set_visible(self, visible: bool) -> None:
        self.visible = visible


@pytest.fixture(scope="module")
def report() -> RiskReport:
    market = ReplayMarketData.from_resources()
    days = market.trading_days()
    fills = seed_fills(market)
    snaps = list(account_summary(fills, DAY, market, days, starting_cash=2e6, rate=0.015).positions)
    snaps[0] = replace(snaps[0], mark=math.nan)  # one quote missing: last known mark, flagged
    pos = to_risk_positions(snaps, DAY, 0.015, 0.0, market=market, days=days)
    return compute_report("demo", pos, DAY, market, rate=0.015, fills=fills)


def test_risk_panel_shows_every_part(qtbot, report: RiskReport) -> None:  # type: ignore[no-untyped-def]
    vm = FakeRiskViewModel()
    panel = RiskPanel(vm)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.resize(1100, 520)
    vm.report_changed.emit(report)
    assert "last known mark" in panel.status.text()
    assert panel.greeks.rowCount() == 1 + 4 + 1  # total, 4 DTE buckets, SPXW
    assert (panel.grid.rowCount(), panel.grid.columnCount()) == (41, 31)
    assert panel.grid.verticalHeaderItem(0).text() == "-20%" and panel.grid.horizontalHeaderItem(30).text() == "IV +100%"
    assert panel.var.rowCount() == 3 and "Kupiec" in panel.backtest.text()
    assert panel.stress.rowCount() == 4 and panel.ranked.rowCount() == 3
    assert {panel.stress.item(r, 1).text() for r in range(4)} == {"built-in"}
    assert report.betas["SPXW"].window in panel.betas.text()  # the beta's window is shown, not only in a tool tip
    assert float(panel.ranked.item(0, 1).text().replace(",", "")) <= float(panel.ranked.item(2, 1).text().replace(",", ""))
    assert panel.replay.rowCount() == 5 and panel.replay.item(0, 0).text() == "2018-02-05"
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        panel.show()
        qtbot.waitExposed(panel)
        panel.grab().save(f"/tmp/risk_tab{i}.png")


def test_risk_panel_fits_a_narrow_dock(qtbot, report: RiskReport) -> None:  # type: ignore[no-untyped-def]
    vm = FakeRiskViewModel()
    panel = RiskPanel(vm)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    vm.report_changed.emit(report)
    assert panel.minimumSizeHint().width() <= 400
