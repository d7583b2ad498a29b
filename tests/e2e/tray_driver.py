"""Drives the real app (``app.build_window``, xcb, a real tray host) through the tray scenario and
prints one ``RESULT <json>`` line; run by ``tests/e2e/test_tray.py`` as a subprocess under Xvfb + trayer.

Steps: wait for the tray; close the window (close-to-tray is on in the settings file) → it hides,
the services keep running; step the replay to a day that raises urgent alerts → a tray
notification (time from the step to ``showMessage``); click Qt's notification balloon → the window
comes back with that alert selected; the tray menu's Quit → graceful shutdown (settings saved).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import date

import qasync
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from magnus_desktop.app import StartupState, build_window, create_application, prepare_startup
from magnus_desktop.models.alerts import Priority
from magnus_desktop.ui.alerts.tray import NOTIFY_GAP_S


async def _until(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _balloon() -> QWidget | None:
    """Qt's own notification bubble on X11 (used where no notification service runs)."""
    return next((w for w in QApplication.topLevelWidgets()
                 if w.metaObject().className() == "QBalloonTip" and w.isVisible()), None)


async def scenario(app: QApplication, args: argparse.Namespace, store, settings,  # type: ignore[no-untyped-def]
                   startup: StartupState) -> dict[str, object]:
    out: dict[str, object] = {}
    out["tray_available_before"] = await _until(QSystemTrayIcon.isSystemTrayAvailable, 15.0)
    window = await build_window(args, store, settings, startup)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    await window.vm.ctx.refreshed.wait()
    tray = window.tray()
    out["tray_icon"] = tray is not None and tray.icon is not None and tray.icon.isVisible()
    if tray is None or tray.icon is None:
        window.request_quit()
        await closed.wait()
        return out
    out["tooltip"] = tray.icon.toolTip()
    window.close()  # as the window's close button: close-to-tray is on
    await asyncio.sleep(0.3)
    out["hidden_after_close"] = not window.isVisible()
    out["services_running"] = not window.vm.ctx.closed
    # the monitors keep running: a replay step to the day the demo's Jan-31 puts are 2 days from expiry
    ctx = window.vm.ctx
    await asyncio.sleep(max(0.0, tray._last_shown + NOTIFY_GAP_S - time.monotonic()))  # noqa: SLF001 (start-up's own)
    shown_before = tray.shown_count
    start = time.perf_counter()
    window.vm.jump(date.fromisoformat(args.step_to))
    out["notified"] = await _until(lambda: tray.shown_count > shown_before, 10.0)
    out["step_to_notification_s"] = time.perf_counter() - start
    out["notification"] = tray.last_notification
    urgent = [a for a in ctx.alerts.visible() if a.priority >= Priority.HIGH and a.day.isoformat() == args.step_to]
    out["urgent_alerts"] = len(urgent)
    await asyncio.sleep(0.3)  # the dock's view model counts the unread alerts
    out["unread"] = sum(1 for a in ctx.alerts.visible() if a.state == "new")
    out["tooltip_after"] = tray.icon.toolTip()
    out["clicked_id"] = tray._clicked_id  # noqa: SLF001
    balloon = await _until(lambda: _balloon() is not None, 5.0) and _balloon()
    out["balloon_shown"] = bool(balloon)
    if balloon:
        QTest.mouseClick(balloon, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(20, 20))
        out["shown_after_click"] = await _until(window.isVisible, 5.0)
        panel = window.panel("dock_alerts")
        await _until(lambda: panel.current_alert() is not None
                     and panel.current_alert().alert_id == tray._clicked_id, 5.0)  # noqa: SLF001
        current = panel.current_alert()
        out["selected_id"] = current.alert_id if current is not None else None
    window.showMinimized()  # minimise-to-tray is on too
    out["hidden_after_minimize"] = await _until(lambda: not window.isVisible(), 5.0)
    tray.toggle_window()  # the tray menu's Show / hide window
    out["shown_after_toggle"] = await _until(lambda: window.isVisible() and not window.isMinimized(), 5.0)
    quit_action = next(a for a in tray.icon.contextMenu().actions() if a.text() == "Quit")
    window.close()  # back in the tray, then the tray menu's Quit
    await asyncio.sleep(0.2)
    out["hidden_again"] = not window.isVisible()
    quit_action.trigger()
    out["quit_finished"] = await _until(closed.is_set, 30.0)
    out["context_closed"] = ctx.closed
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step-to", default="2018-01-29")
    parser.add_argument("--replay-date", type=date.fromisoformat, default=date(2018, 1, 2))
    cli = parser.parse_args()
    args = argparse.Namespace(db_url=None, screenshot=None, replay_date=None, theme=None, step_to=cli.step_to)
    store, settings, startup, _log = prepare_startup(args)
    settings.replay_date = cli.replay_date
    app = create_application(settings.theme)
    app.setQuitOnLastWindowClosed(False)
    result = qasync.run(scenario(app, args, store, settings, startup))
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
