"""Tray behaviour that offscreen can show: a storm across runs is one summary, pauses and quiet hours
hold notifications back, and close-to-tray without a tray quits normally and says why once.
(The tray itself, with a real tray host under Xvfb: tests/e2e/test_tray.py.)"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from magnus_desktop.models.alerts import Priority
from magnus_desktop.services.alerts.replay import replay_alerts
from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.alerts.tray import NO_TRAY_NOTE, AlertTray
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from tests.ui.conftest import LoopRunner


def _tray(ctx: AppContext) -> AlertTray:
    return AlertTray(lambda: None, lambda: ctx.settings.alerts, lambda _id: None, lambda: None)


def test_a_storm_across_runs_becomes_one_summary(run: LoopRunner, ctx: AppContext, qtbot: Any) -> None:
    run(replay_alerts(ctx, date(2018, 1, 2), date(2018, 1, 29)))
    urgent = [a for a in ctx.alerts.visible() if a.priority >= Priority.HIGH]
    assert len(urgent) >= 3
    tray = _tray(ctx)
    tray.notify(urgent[:1])
    assert tray.shown_count == 1
    for alert in urgent[1:]:  # one run after the other, faster than the gap
        assert tray.notify([alert]) is False
    assert tray.shown_count == 1
    qtbot.waitUntil(lambda: tray.shown_count == 2, timeout=8000)  # then one summary of all of them
    title, message = tray.last_notification  # type: ignore[misc]
    assert title.startswith(f"{len(urgent) - 1} alerts")


def test_pause_and_quiet_hours_hold_notifications_back(run: LoopRunner, ctx: AppContext) -> None:
    run(replay_alerts(ctx, date(2018, 1, 2), date(2018, 1, 29)))
    urgent = [a for a in ctx.alerts.visible() if a.priority >= Priority.HIGH]
    tray = _tray(ctx)
    tray.pause_hour()
    assert tray.notify(urgent) is False and tray.shown_count == 0
    tray.paused_until = None
    ctx.settings.alerts.quiet_hours_enabled = True
    ctx.settings.alerts.quiet_from_hour, ctx.settings.alerts.quiet_to_hour = 22, 7
    assert tray.notify(urgent, now=datetime(2026, 1, 5, 23, 30)) is False and tray.shown_count == 0
    tray.notify(urgent, now=datetime(2026, 1, 5, 12, 0))
    assert tray.shown_count == 1
    tray.pause_until_tomorrow()
    assert tray.paused_until is not None and tray.paused_until - datetime.now() <= timedelta(days=1)


def test_close_to_tray_without_a_tray_quits_and_says_so_once(qtbot, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                                             run: LoopRunner) -> None:
    win = MainWindow(app_vm, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    run(app_vm.ctx.refresh_now())
    win.services_started()
    assert win.tray() is None and NO_TRAY_NOTE in win.panel("dock_alerts").problems.text()
    app_vm.ctx.settings.alerts.close_to_tray = True
    closed: list[bool] = []
    win.closed.connect(lambda: closed.append(True))
    win.close()
    run.until(lambda: bool(closed), timeout=20.0)  # no tray to come back from: a normal quit
    assert "No system tray" in win.statusBar().currentMessage()
    assert app_vm.ctx.closed
