"""Edit → Settings (Ctrl+,) on the real window: the dialog's values reach the services, the panels
and the settings file; nothing is applied on Cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from tests.ui.conftest import LoopRunner


@pytest.fixture
def window(qtbot, app_vm: AppViewModel, run: LoopRunner) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(app_vm, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    run(app_vm.ctx.refresh_now())
    return win


def open_dialog(window: MainWindow, run: LoopRunner):  # type: ignore[no-untyped-def]
    window.settings_action.trigger()
    run.until(lambda: getattr(window, "settings_dialog", None) is not None and window.settings_dialog.isVisible())
    return window.settings_dialog


def test_ctrl_comma_is_the_settings_shortcut(window: MainWindow) -> None:
    assert "Ctrl+," in [s.toString() for s in window.settings_action.shortcuts()]


def test_ok_applies_saves_and_reprices(window: MainWindow, run: LoopRunner, tmp_path: Path) -> None:
    ws = window.vm.ctx
    dialog = open_dialog(window, run)
    dialog.editor("risk_free_rate").setValue(3.0)  # shown in percent
    dialog.editor("replay_speed").setValue(7.0)
    dialog.editor("scanner.dte_max").setValue(45)
    dialog.editor("theme").setCurrentIndex(dialog.editor("theme").findData("light"))
    before = ws.portfolio.last_summary
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    run.until(lambda: ws.settings.risk_free_rate == pytest.approx(0.03))
    assert ws.settings.replay_speed == 7.0 and ws.clock.speed == 7.0
    assert window.toolbar.speed.currentData() == 7.0
    assert ws.scanner.scan_params.rate == pytest.approx(0.03)
    run.until(lambda: ws.scanner.last_scan.params.dte_max == 45)
    assert window.panel("dock_scanner").filters.dte_max.value() == 45
    assert not window.dark_action.isChecked()
    run.until(lambda: ws.portfolio.last_summary is not before)  # marks recomputed at the new rate
    saved = json.loads(ws.settings_store.path.read_text())
    assert saved["risk_free_rate"] == pytest.approx(0.03) and saved["theme"] == "light"


def test_cancel_changes_nothing(window: MainWindow, run: LoopRunner) -> None:
    ws = window.vm.ctx
    dialog = open_dialog(window, run)
    dialog.editor("risk_free_rate").setValue(9.0)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    run.idle(0.2)
    assert ws.settings.risk_free_rate == pytest.approx(0.015)
    assert not ws.settings_store.path.exists()
