"""The Risk dock renders a real report of the demo book (2018-02-02) and lists flagged positions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

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


def test_risk_panel_shows_every_part(qtbot, report: RiskReport, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = FakeRiskViewModel()
    panel = RiskPanel(vm)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.resize(1100, 520)
    vm.report_changed.emit(report)
    assert "last known mark" in panel.status.text()
    assert panel.greeks.rowCount() == 1 + 4 + 1  # total, 4 DTE buckets, SPXW
    assert (panel.grid.rowCount(), panel.grid.columnCount()) == (41, 31)
    assert panel.grid.verticalHeaderItem(0).text() == "-20%" and panel.grid.horizontalHeaderItem(30).text() == "IV +100%"
    metrics = panel.grid.fontMetrics()
    for i, j in ((0, 0), (0, 30), (40, 0), (40, 30)):  # the corners hold the largest P&L: shown in full, not "-143,..."
        assert panel.grid.columnWidth(j) >= metrics.horizontalAdvance(panel.grid.item(i, j).text()) + 8
    assert panel.var.rowCount() == 3 and "Kupiec" in panel.backtest.text()
    assert panel.stress.rowCount() == 4 and panel.ranked.rowCount() == 3
    assert {panel.stress.item(r, 0).text() for r in range(4)} == {"built-in"}
    assert report.betas["SPXW"].window in panel.betas.text()  # the beta's window is shown, not only in a tool tip
    assert float(panel.ranked.item(0, 1).text().replace(",", "")) <= float(panel.ranked.item(2, 1).text().replace(",", ""))
    assert panel.replay.rowCount() == 5 and panel.replay.item(0, 0).text() == "2018-02-05"
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        panel.show()
        qtbot.waitExposed(panel)
        assert panel.grab().save(str(tmp_path / f"risk_tab{i}.png"))


def test_risk_panel_fits_a_narrow_dock(qtbot, report: RiskReport) -> None:  # type: ignore[no-untyped-def]
    vm = FakeRiskViewModel()
    panel = RiskPanel(vm)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    vm.report_changed.emit(report)
    assert panel.minimumSizeHint().width() <= 400


def test_scenario_editor_in_the_stress_tab(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A user scenario is marked "user" next to the built-ins with its ranked positions; a click puts
    it in the editor; bad input is refused with a message and nothing is sent; a valid form is sent."""
    from magnus_desktop.services.risk.scenarios import to_scenarios

    market = ReplayMarketData.from_resources()
    days = market.trading_days()
    snaps = account_summary(seed_fills(market), DAY, market, days, starting_cash=2e6, rate=0.015).positions
    pos = to_risk_positions(snaps, DAY, 0.015, 0.0, market=market, days=days)
    crash = UserScenario(name="crash", index_move=-0.1, iv_change=1.0, days=2)
    rep = compute_report("demo", pos, DAY, market, rate=0.015, user_scenarios=to_scenarios([crash]))
    vm = FakeRiskViewModel()
    vm.scenarios = [crash]
    panel = RiskPanel(vm)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    vm.report_changed.emit(rep)
    row = next(r for r in range(panel.stress.rowCount()) if panel.stress.item(r, 1).text() == "crash")
    assert panel.stress.item(row, 0).text() == "user"
    panel.stress.selectRow(row)
    ranked = [float(panel.ranked.item(r, 1).text().replace(",", "")) for r in range(panel.ranked.rowCount())]
    assert ranked == sorted(ranked) and sum(ranked) == pytest.approx(rep.stress[row].pnl, abs=0.05)
    assert "crash" in panel.ranked_title.text()
    vm.report_changed.emit(rep)  # the next report keeps the chosen scenario
    assert panel.stress.selectionModel().selectedRows()[0].row() == row
    panel._on_stress_cell_clicked(row, 0)
    ed = panel.editor
    assert (ed.editing, ed.name.text(), ed.index_move.text(), ed.iv_change.text(), ed.days.value()) == (
        "crash", "crash", "-10", "100", 2)
    for field, text, message in ((ed.iv_change, "nan", "IV change: must be a number"),
                                 (ed.iv_change, "-100", "IV change: must be above -100 %"),
                                 (ed.index_move, "-120", "Index move: must be above -100 %"),
                                 (ed.name, "2015-08-24", "built-in scenario")):
        good = field.text()
        field.setText(text)
        ed.save_button.click()
        assert message in ed.message.text() and vm.saved == []
        field.setText(good)
    ed.iv_change.setText("50")
    ed.save_button.click()
    assert vm.saved == [(crash.model_copy(update={"iv_change": 0.5}), "crash")]
    vm.scenario_refused.emit("a scenario named 'x' exists already")
    assert "exists already" in ed.message.text()
    ed.delete_button.click()
    assert vm.deleted == ["crash"]
    vm.scenarios_changed.emit([], "")
    assert ed.editing is None and "Deleted 'crash'" in ed.message.text()
