"""The scenario editor in the real window's Risk dock: bad input is refused with a message and
nothing is saved; a valid scenario is saved to the settings file and appears in the stress table
marked "user"; a max-loss limit in that scenario raises the risk-limits alert from the report."""

from __future__ import annotations

import json
from pathlib import Path

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.risk.panel import RiskPanel
from tests.ui.conftest import LoopRunner


def test_scenario_editor_end_to_end(qtbot, app_vm: AppViewModel, run: LoopRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = app_vm.ctx
    win = MainWindow(app_vm)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    run(ctx.refresh_now())
    win.docks["dock_risk"].raise_()
    run.until(lambda: ctx.risk.last_report is not None, timeout=20)
    panel = win.panel("dock_risk")
    assert isinstance(panel, RiskPanel)
    panel.tabs.setCurrentIndex(3)
    ed = panel.editor
    settings_file = ctx.settings_store.path
    before = settings_file.read_bytes() if settings_file.exists() else b""
    for name, index, moves, iv, message in (("crash", "nan", "", "100", "Index move: must be a number"),
                                            ("crash", "-10", "", "-100", "IV change: must be above -100 %"),
                                            ("crash", "-100", "", "0", "Index move: must be above -100 %"),
                                            ("crash", "-10", "SPY -150", "0", "the move of SPY must be above -100 %"),
                                            ("2018-02-05", "-10", "", "0", "built-in scenario")):
        ed.load(None)
        ed.name.setText(name)
        ed.index_move.setText(index)
        ed.moves.setText(moves)
        ed.iv_change.setText(iv)
        ed.save_button.click()
        run.idle(0.05)
        assert message in ed.message.text()
        assert ctx.settings.risk_scenarios == [] and (settings_file.read_bytes() if settings_file.exists() else b"") == before
    win.grab().save(str(tmp_path / "risklimits-editor-error.png"))
    ed.iv_change.setText("100")
    ed.index_move.setText("-10")
    ed.name.setText("crash")
    ed.moves.setText("")
    ed.save_button.click()
    run.until(lambda: [s.name for s in ctx.settings.risk_scenarios] == ["crash"])
    run.until(lambda: "Saved 'crash'" in ed.message.text())
    assert [s["name"] for s in json.loads(settings_file.read_text())["risk_scenarios"]] == ["crash"]
    run.until(lambda: any(s.scenario.name == "crash" for s in ctx.risk.last_report.stress), timeout=20)  # type: ignore[union-attr]
    run.until(lambda: any(panel.stress.item(r, 1).text() == "crash" for r in range(panel.stress.rowCount())))
    row = next(r for r in range(panel.stress.rowCount()) if panel.stress.item(r, 1).text() == "crash")
    assert panel.stress.item(row, 0).text() == "user"
    ed.load(None)
    ed.name.setText("Crash")  # the same name in other letters: refused by the service
    ed.index_move.setText("-5")
    ed.save_button.click()
    run.until(lambda: "exists already" in ed.message.text())
    assert len(ctx.settings.risk_scenarios) == 1
    # a max-loss limit in the user's scenario, below its loss: the next report raises the alert
    loss = -next(s.pnl for s in ctx.risk.last_report.stress if s.scenario.name == "crash")  # type: ignore[union-attr]
    assert loss > 0
    ctx.settings.risk_limits.max_loss_usd = round(loss * 0.9)
    ctx.settings.risk_limits.max_loss_scenario = "crash"
    run(ctx.refresh_now())
    run.until(lambda: any(a.subject == "max_loss:crash" for a in ctx.alerts.visible()), timeout=20)
    panel.stress.selectRow(row)
    run.idle(0.1)
    win.grab().save(str(tmp_path / "risklimits-editor-saved.png"))
    win.docks["dock_alerts"].raise_()
    run.idle(0.3)
    win.docks["dock_alerts"].grab().save(str(tmp_path / "risklimits-alerts.png"))
