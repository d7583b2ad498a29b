"""The one broker session in the window: the status bar names the active account and its state, and
Edit → Accounts… opens the accounts dialog (one instance, reused)."""

from __future__ import annotations

from magnus_desktop.services.settings import DEMO_ACCOUNT
from magnus_desktop.ui.accounts.dialog import AccountsDialog
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from tests.ui.conftest import LoopRunner


def test_status_bar_shows_the_active_broker_session(qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:
    win = MainWindow(app_vm, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    run.until(lambda: app_vm.ctx.session.status().state == "connected")
    run.until(lambda: "connected" in win.session_status.text())
    assert win.session_status.text().startswith(f"Broker: {DEMO_ACCOUNT}")
    assert "LIVE" not in win.session_status.text()


def test_accounts_action_opens_one_dialog(qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:
    win = MainWindow(app_vm, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    win.accounts_action.trigger()
    first = win.accounts_dialog
    assert isinstance(first, AccountsDialog) and first.isVisible()
    win.accounts_action.trigger()
    assert win.accounts_dialog is first
    first.close()
