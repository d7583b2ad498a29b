"""The Alerts dock with real alerts of the demo replay: keyboard triage, actions, the tray offscreen."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from magnus_desktop.models.alerts import Priority
from magnus_desktop.services.alerts.replay import replay_alerts
from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.alerts.panel import AlertsPanel
from magnus_desktop.ui.alerts.tray import STORM, notification
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.docks import alerts_dock
from tests.ui.conftest import LoopRunner


def _panel(run: LoopRunner, ctx: AppContext, app_vm: AppViewModel, qtbot: Any) -> AlertsPanel:
    run(replay_alerts(ctx, date(2018, 1, 2), date(2018, 1, 29)))
    panel = alerts_dock(app_vm)
    assert isinstance(panel, AlertsPanel)
    qtbot.addWidget(panel)
    panel.show()
    run.until(lambda: panel.model.rowCount() == len(ctx.alerts.visible()) > 0)
    return panel


def test_keyboard_triage(run: LoopRunner, ctx: AppContext, app_vm: AppViewModel, qtbot: Any) -> None:
    panel = _panel(run, ctx, app_vm, qtbot)
    panel.focus_alerts()
    first = panel.current_alert()
    qtbot.keyClick(panel.table, Qt.Key.Key_J)
    second = panel.current_alert()
    assert first is not None and second is not None and second.alert_id != first.alert_id
    qtbot.keyClick(panel.table, Qt.Key.Key_K)
    assert panel.current_alert() == first
    qtbot.keyClick(panel.table, Qt.Key.Key_A)
    run.until(lambda: {a.alert_id: a.state for a in ctx.alerts.visible()}[first.alert_id] == "acknowledged")
    rows = panel.model.rowCount()
    qtbot.keyClick(panel.table, Qt.Key.Key_J)
    snoozed = panel.current_alert()
    qtbot.keyClick(panel.table, Qt.Key.Key_S)
    run.until(lambda: panel.model.rowCount() == rows - 1)
    assert snoozed is not None and all(r["id"] != snoozed.alert_id for r in panel.model.records())
    dock_title_unread = sum(1 for r in panel.model.records() if r["state"] == "new")
    assert panel.unread == dock_title_unread


def test_enter_on_an_expiration_alert_opens_the_closing_ticket(run: LoopRunner, ctx: AppContext,
                                                               app_vm: AppViewModel, qtbot: Any) -> None:
    panel = _panel(run, ctx, app_vm, qtbot)
    target = next(a for a in ctx.alerts.visible() if a.monitor == "expiration" and a.priority == Priority.CRITICAL)
    assert panel.select_alert(target.alert_id)
    assert target.title in panel.detail_title.text() and "dte: 2 days" in panel.detail_facts.text()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)  # first action: open position; "Close" is a button
    close = panel.findChild(QPushButton, "alert_action_close")
    assert close is not None
    close.click()
    assert panel.ticket_dialog is not None
    assert target.subject in panel.ticket_dialog.windowTitle() + panel.ticket_dialog.contract.local_symbol
    panel.ticket_dialog.close()


def test_offscreen_has_no_tray_and_a_storm_is_one_notification(run: LoopRunner, ctx: AppContext,
                                                                app_vm: AppViewModel, qtbot: Any) -> None:
    panel = _panel(run, ctx, app_vm, qtbot)
    tray = panel.tray
    assert tray is not None and not tray.available  # type: ignore[attr-defined]
    urgent = [a for a in ctx.alerts.visible() if a.priority >= Priority.HIGH]
    assert len(urgent) > STORM
    title, message, alert_id = notification(urgent)  # type: ignore[misc]
    assert title.startswith(f"{len(urgent)} alerts") and f"{len(urgent) - 1} more" in message
    assert alert_id == max(urgent, key=lambda a: a.priority).alert_id
    assert tray.notify(urgent) is False and tray.last_notification == (title, message)  # type: ignore[attr-defined]
    assert notification([a for a in ctx.alerts.visible() if a.priority < Priority.HIGH]) is None
