"""Main window: docks, layout persistence and reset, theme, panels filled from the replay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.theme import apply_theme
from tests.ui.conftest import LoopRunner

RESEARCH = {"dock_research_chart", "dock_research_report", "dock_research_scan"}
RESEARCH_DESK = {"dock_research_flow", "dock_research_calendars", "dock_research_earnings", "dock_research_sectors"}
DOCKS = {"dock_dashboard", "dock_positions", "dock_scanner", "dock_watchlists", "dock_orders", "dock_audit",
         "dock_alerts", "dock_history", "dock_risk", "dock_predictor", "dock_nfl", "dock_kalshi", *RESEARCH,
         *RESEARCH_DESK, "dock_assistant", "dock_performance", "dock_journal", "dock_health"}
TABBED = {"dock_orders", "dock_audit", "dock_alerts", "dock_history", "dock_risk", "dock_predictor", "dock_nfl",
          "dock_kalshi", *RESEARCH, *RESEARCH_DESK, "dock_assistant", "dock_performance",
          "dock_journal", "dock_health"}  # behind their partner's tab by default


@pytest.fixture
def window(qtbot, app_vm: AppViewModel, run: LoopRunner) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(app_vm)
    qtbot.addWidget(win)
    win.show()
    run(app_vm.ctx.refresh_now())
    # panels throttle at 4 Hz and models flush at 8 Hz: wait for the positions to arrive
    run.until(lambda: win.panel("dock_positions").model.rowCount() == len(app_vm.ctx.portfolio.last_summary.positions))  # type: ignore[union-attr]
    return win


def test_all_docks_present_with_fixed_names(window: MainWindow) -> None:
    names = {d.objectName() for d in window.findChildren(QDockWidget)}
    assert names == DOCKS
    assert all(window.docks[n].isVisible() for n in DOCKS - TABBED)
    assert window.docks["dock_history"] in window.tabifiedDockWidgets(window.docks["dock_positions"])
    for dock, partner in (("dock_nfl", "dock_watchlists"), ("dock_kalshi", "dock_watchlists"),
                          ("dock_performance", "dock_positions"), ("dock_journal", "dock_watchlists"),
                          ("dock_predictor", "dock_scanner"), ("dock_research_chart", "dock_dashboard")):
        assert window.docks[dock] in window.tabifiedDockWidgets(window.docks[partner])
    # the docks start side by side before they are tabbed: the window must not keep that width, and
    # with every dock in its place the window fits a 1280-px laptop screen (test_default_layout too)
    assert window.width() <= 1680 and window.minimumSizeHint().width() <= 1280


def test_panels_show_the_replay_day(window: MainWindow, run: LoopRunner) -> None:
    ws = window.vm.ctx
    summary = ws.portfolio.last_summary
    assert summary is not None
    assert window.panel("dock_positions").model.rowCount() == len(summary.positions) == 3
    assert window.panel("dock_positions").total_labels["collateral_used"].text() == f"${summary.collateral_used:,.0f}"
    assert window.toolbar.date_edit.date().toPython() == date(2018, 1, 2)
    window.toolbar.forward_action.trigger()
    run.until(lambda: ws.portfolio.last_summary is not None and ws.portfolio.last_summary.as_of == date(2018, 1, 3))
    run.until(lambda: "2018-01-03" in window.panel("dock_positions").header.text())


def test_reset_layout_restores_docks(window: MainWindow) -> None:
    dock = window.docks["dock_scanner"]
    dock.setFloating(True)
    window.docks["dock_watchlists"].hide()
    window.reset_layout()
    assert not dock.isFloating()
    assert window.docks["dock_watchlists"].isVisible()


def test_layout_persists_between_windows(window: MainWindow, qtbot, app_vm: AppViewModel) -> None:  # type: ignore[no-untyped-def]
    window.docks["dock_watchlists"].hide()
    window.save_layout()
    second = MainWindow(app_vm)
    qtbot.addWidget(second)
    second.show()
    assert not second.docks["dock_watchlists"].isVisible()
    assert second.docks["dock_positions"].isVisible()


def test_theme_toggle_switches_palette(window: MainWindow, qapp: QApplication) -> None:
    apply_theme(qapp, window.vm.ctx.settings.theme)  # as run_app does at start (dark by default)
    before = qapp.palette().color(QPalette.ColorRole.Window).lightness()
    window.toggle_theme()
    after = qapp.palette().color(QPalette.ColorRole.Window).lightness()
    assert window.vm.ctx.settings.theme == "light" and after > before
    window.toggle_theme()
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() == before


def test_screenshot_command_renders_the_window(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MAGNUS_DESKTOP_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-m", "magnus_desktop", "--screenshot", str(shot),
                           "--replay-date", "2018-02-06"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(shot))
    assert image.width() >= 1200 and image.height() >= 800
    colors = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)}
    assert len(colors) > 20  # a rendered window, not a blank frame
    log = (tmp_path / "home" / "logs" / "magnus-desktop.log").read_text(encoding="utf-8")
    assert "first paint" in log


def test_closing_a_position_from_the_positions_dock(window: MainWindow, run: LoopRunner) -> None:
    ws = window.vm.ctx
    before = ws.portfolio.last_summary
    assert before is not None and len(before.positions) == 3
    row = next(r for r in range(window.panel("dock_positions").model.rowCount())
               if window.panel("dock_positions").table.record_at(r)["contract"].strike == 2650.0)  # type: ignore[index]
    dialog = window.panel("dock_positions").open_close_ticket(row)
    assert dialog is not None
    assert dialog.action.currentText() == "BUY" and dialog.qty.value() == 1
    seeded = len(ws.portfolio.fills)  # the demo seed, its 2018-02-01 roll included (not effective on 2018-01-02)
    run.until(lambda: dialog.quote_day is not None)  # Place waits for the quote
    dialog.submit().ok.click()  # the paper tier: one confirmation click
    run.until(lambda: len(ws.portfolio.fills) == seeded + 1)
    run.until(lambda: ws.portfolio.last_summary is not None and len(ws.portfolio.last_summary.positions) == 2)
    fill = ws.portfolio.fills[-1]
    ask = ws.market.option_quote(fill.contract, date(2018, 1, 2)).ask
    assert fill.qty == 1 and fill.price == ask  # bought back at the recorded ask
    opened = next(f for f in ws.portfolio.fills if f.contract == fill.contract and f.qty < 0)
    assert ws.portfolio.last_summary.realized_pnl == pytest.approx(  # type: ignore[union-attr]
        (opened.price - ask) * 100 - 4 * ws.settings.commission_per_contract)


def test_a_new_dock_is_one_dock_spec_entry(qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    """A spec appended to the list gives a dock with its objectName, a View toggle, its menu action,
    and a panel that gets the app view model (nothing else in the window changes)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QMenu

    from magnus_desktop.ui.docks import DOCKS as SPECS
    from magnus_desktop.ui.docks import DockAction, DockSpec

    class NotesPanel(QLabel):
        def clear_notes(self) -> None:
            self.setText("cleared")

    def notes(app: AppViewModel) -> NotesPanel:
        panel = NotesPanel(f"Notes for {app.replay_days()[0].isoformat()}")
        panel.setObjectName("notes_panel")
        return panel

    spec = DockSpec("dock_notes", "Notes", Qt.DockWidgetArea.RightDockWidgetArea, notes,
                    actions=(DockAction("Notes", "Clear notes", "clear_notes"),))
    win = MainWindow(app_vm, docks=(*SPECS, spec), restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    panel = win.panel("dock_notes")
    assert win.docks["dock_notes"].widget().inner is panel and panel.text() == "Notes for 2018-01-02"
    assert {d.objectName() for d in win.findChildren(QDockWidget)} == DOCKS | {"dock_notes"}
    menus = {m.title().replace("&", ""): m for m in win.menuBar().findChildren(QMenu)}
    (clear,) = [a for a in menus["Notes"].actions() if a.text() == "Clear notes"]
    clear.trigger()
    assert panel.text() == "cleared"
    view_toggles = [a.text() for a in menus["View"].actions()]
    assert "Notes" in view_toggles and "Dashboard" in view_toggles


def test_screenshot_waits_until_the_panels_show_the_refresh(window: MainWindow, run: LoopRunner,
                                                             tmp_path: Path) -> None:
    """The SPX chart follows its cards through a throttle: a fixed sleep grabbed it empty on a busy machine."""
    from magnus_desktop.app import screenshot

    panel = window.panel("dock_dashboard")
    run(screenshot(window, tmp_path / "shot.png"))
    curves = panel.market_chart.getPlotItem().listDataItems()
    assert curves and len(curves[0].getData()[1]) == len(window.vm.ctx.overview.last.spx_closes)
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_the_risk_dock_computes_only_while_shown(window: MainWindow, run: LoopRunner) -> None:
    """The Risk dock starts as a hidden tab: the replay pays nothing for it until it is shown."""
    risk = window.vm.ctx.risk
    assert risk.paused
    before = risk.last_report  # (the services may have reported once before the window existed)
    clock = window.vm.ctx.clock
    assert clock is not None
    clock.jump(window.vm.ctx.days[3])
    run(window.vm.ctx.refreshed.wait())
    run.idle(0.3)
    assert risk.last_report is before  # changes were kept, not computed
    window.docks["dock_risk"].raise_()
    run.until(lambda: not risk.paused and risk.last_report is not None
              and risk.last_report.as_of == window.vm.ctx.days[3], timeout=15)
    window.docks["dock_scanner"].raise_()
    run.until(lambda: risk.paused)
