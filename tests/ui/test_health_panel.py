"""The Health dock offscreen: real figures of a started context, the log viewer's filter and copy,
backup and restore through the panel, nothing running while hidden."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.logs import LOG_FORMAT
from magnus_desktop.ui.health.panel import HealthPanel
from magnus_desktop.ui.health.view_model import HealthViewModel
from tests.ui.conftest import LoopRunner


def _log_file(tmp_path: Path) -> Path:
    path = tmp_path / "magnus-desktop.log"
    logger = logging.getLogger("health_panel_test")
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.info("portfolio refreshed")
    logger.warning("SPY quote is stale")
    logger.error("scanner failed: no chain")
    logger.removeHandler(handler)
    handler.close()
    return path


def _panel(qtbot, ctx: AppContext, log_path: Path | None) -> tuple[QMainWindow, HealthPanel, HealthViewModel]:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    vm = HealthViewModel(ctx, log_file=lambda: log_path)
    panel = HealthPanel(vm)
    vm.setParent(panel)
    dock = QDockWidget("Health", window)
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    qtbot.addWidget(window)
    window.resize(1100, 480)
    return window, panel, vm


def test_status_shows_real_figures_only_while_visible(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    window, panel, vm = _panel(qtbot, ctx, _log_file(tmp_path))
    assert not vm.active
    window.show()
    run.until(lambda: panel.connections.rowCount() > 0)
    names = [panel.connections.item(r, 0).text() for r in range(panel.connections.rowCount())]
    assert any(n.startswith("Broker session") for n in names)
    assert {"Market data — quote", "Market data — chain", "Market data — bars", "Kalshi", "Assistant model"} <= set(names)
    session = ctx.session.status()
    row = names.index(next(n for n in names if n.startswith("Broker session")))
    assert panel.connections.item(row, 1).text() == session.state
    # latency rows come from the context's own executor calls (start-up ran many)
    assert panel.latency.rowCount() > 0 and panel.latency.item(0, 0).text().split(":")[0] in ctx.executors.names
    run.until(lambda: "GUI loop lag p99" in panel.summary.text(), timeout=10)
    text = panel.summary.text()
    assert "Memory" in text and "MB" in text and str(ctx.db.sqlite_path) in text and "Last backup: none yet" in text
    assert window.grab().save(str(tmp_path / "health-status.png"))
    # hidden: the timers stop
    window.hide()
    assert not vm.active


def test_log_tab_filters_and_copies(qtbot, run: LoopRunner, ctx: AppContext, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, panel, vm = _panel(qtbot, ctx, _log_file(tmp_path))
    window.show()
    panel.tabs.setCurrentWidget(panel.log_page)
    run.until(lambda: panel.log_list.count() == 3)
    panel.level_box.setCurrentIndex(2)  # WARNING and above
    run.until(lambda: panel.log_list.count() == 2)
    panel.search_box.setText("scanner")
    run.until(lambda: panel.log_list.count() == 1)
    assert "scanner failed" in panel.log_list.item(0).text()
    panel.log_list.item(0).setSelected(True)
    panel.copy_selected()
    assert "scanner failed: no chain" in QGuiApplication.clipboard().text()
    panel.search_box.setText("")
    run.until(lambda: panel.log_list.count() == 2)
    panel.copy_all()
    assert QGuiApplication.clipboard().text().count("\n") >= 1 and "stale" in QGuiApplication.clipboard().text()
    assert "of 3 records" in panel.log_status.text()


def test_no_log_file_says_so(qtbot, run: LoopRunner, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    window, panel, _vm = _panel(qtbot, ctx, None)
    window.show()
    panel.tabs.setCurrentWidget(panel.log_page)
    run.until(lambda: "terminal only" in panel.log_status.text())


def test_backup_and_refused_restore_through_the_panel(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    window, panel, vm = _panel(qtbot, ctx, None)
    window.show()
    panel.backup_folder = tmp_path / "out"
    panel.backup_now()
    run.until(lambda: panel.job_status.text().startswith("Backup written"), timeout=30)
    made = sorted((tmp_path / "out").glob("magnus-backup-*.zip"))
    assert len(made) == 1 and zipfile.is_zipfile(made[0])
    assert panel.backup_button.isEnabled()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(made[0].read_bytes()[:500])
    panel.restore_from(bad)
    run.until(lambda: panel.job_status.text().startswith("⚠"), timeout=30)
    assert "not touched" in panel.job_status.text()
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    panel.backup_folder = blocker / "sub"
    panel.backup_now()
    run.until(lambda: "Choose another folder" in panel.job_status.text(), timeout=30)


def test_restore_in_the_window_brings_back_the_layout_and_settings(qtbot, run: LoopRunner,  # type: ignore[no-untyped-def]
                                                                   app_vm, tmp_path: Path) -> None:
    from magnus_desktop.ui.main_window import MainWindow

    ctx = app_vm.ctx
    win = MainWindow(app_vm)
    qtbot.addWidget(win)
    win.show()
    run(ctx.refresh_now())
    ctx.settings.risk_free_rate = 0.0271
    run(ctx.save_settings())
    win.save_layout()
    assert win.docks["dock_kalshi"].isVisibleTo(win)
    panel = win.panel("dock_health")
    panel.backup_folder = tmp_path / "out"
    panel.backup_now()
    run.until(lambda: panel.job_status.text().startswith("Backup written"), timeout=30)
    made = next((tmp_path / "out").glob("magnus-backup-*.zip"))
    with zipfile.ZipFile(made) as zf:
        assert {"config/settings.json", "config/layout.ini", "db/magnus.sqlite3"} <= set(zf.namelist())

    win.docks["dock_kalshi"].close()  # the trader changes the layout and a setting after the backup
    win.save_layout()
    ctx.settings.risk_free_rate = 0.09
    run(ctx.save_settings())
    panel.restore_from(made)
    run.until(lambda: panel.job_status.text().startswith("Restored"), timeout=60)
    assert win.docks["dock_kalshi"].isVisibleTo(win)  # the restored layout.ini was applied
    assert ctx.settings.risk_free_rate == 0.0271
    assert ctx.db is not None and ctx.db_problem is None


def test_lag_probe_sees_a_blocked_gui_loop(qtbot, run: LoopRunner, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    import time

    from PySide6.QtCore import QTimer

    window, _p, _vm = _panel(qtbot, ctx, None)
    window.show()
    run.until(lambda: (ctx.health.lag.figures() or _none()).samples >= 4, timeout=10)
    QTimer.singleShot(0, lambda: time.sleep(0.6))  # a slot that blocks the loop for 600 ms (≥ 350 ms past a tick)
    run.until(lambda: (ctx.health.lag.figures() or _none()).max_ms >= 300, timeout=10)
    fig = ctx.health.lag.figures()
    assert fig is not None and fig.p99_ms >= fig.p50_ms and fig.max_ms < 2000
    window.hide()
    samples = fig.samples
    run.idle(0.8)  # hidden: the probe stops
    assert (ctx.health.lag.figures() or _none()).samples <= samples


def _none():  # type: ignore[no-untyped-def]
    from magnus_desktop.services.health.lag import LagFigures

    return LagFigures(0, 0.0, 0.0, 0.0, 0.0)
