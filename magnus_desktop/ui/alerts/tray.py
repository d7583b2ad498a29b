"""The system-tray icon of the alerts centre: notifications for HIGH and CRITICAL alerts (a storm
collapses into one summary), the unread count in the tooltip, quiet hours and a pause, and a menu
(show/hide window, pause 1 h / until tomorrow, open alerts, quit).

Where no tray is available (offscreen, some Linux desktops) there is no icon: the log says so once
and the alerts stay in the dock.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon, QWidget

from magnus_desktop.models.alerts import Alert, Priority
from magnus_desktop.services.settings import AlertSettings

log = logging.getLogger(__name__)
#: more notifiable alerts than this in one run become one summary notification
STORM = 3
#: at most one notification this often (s); what comes in between is one summary afterwards
NOTIFY_GAP_S = 5.0
_no_tray_logged = False
NO_TRAY_NOTE = "No system tray on this desktop: no tray notifications; alerts are shown in this dock only."


def in_quiet_hours(cfg: AlertSettings, now: datetime) -> bool:
    """``now`` (local) falls in the quiet hours (which may wrap midnight: 22 → 7)."""
    if not cfg.quiet_hours_enabled or cfg.quiet_from_hour == cfg.quiet_to_hour:
        return False
    h = now.hour
    if cfg.quiet_from_hour < cfg.quiet_to_hour:
        return cfg.quiet_from_hour <= h < cfg.quiet_to_hour
    return h >= cfg.quiet_from_hour or h < cfg.quiet_to_hour


def notification(alerts: list[Alert]) -> tuple[str, str, int | None] | None:
    """(title, message, alert id to open) for the HIGH/CRITICAL alerts of one run, or None.
    More than :data:`STORM` collapse into one summary (opening the most urgent)."""
    urgent = sorted((a for a in alerts if a.priority >= Priority.HIGH), key=lambda a: -a.priority)
    if not urgent:
        return None
    if len(urgent) == 1:
        a = urgent[0]
        return f"{a.priority.name}: {a.monitor}", f"{a.title}\n{a.facts_text()[:200]}", a.alert_id
    critical = sum(1 for a in urgent if a.priority == Priority.CRITICAL)
    if len(urgent) <= STORM:
        return (f"{len(urgent)} alerts ({critical} critical)", "\n".join(a.title for a in urgent), urgent[0].alert_id)
    return (f"{len(urgent)} alerts ({critical} critical)",
            f"{urgent[0].title}\n… and {len(urgent) - 1} more in the Alerts dock.", urgent[0].alert_id)


class AlertTray(QObject):
    """Tray icon + notifications. ``window``: what show/hide toggles; ``settings``: read each time;
    ``open_alert(id)``: focus that alert in the dock; ``quit``: the window's graceful quit."""

    def __init__(self, window: Callable[[], QWidget | None], settings: Callable[[], AlertSettings],
                 open_alert: Callable[[int | None], None], quit_app: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window, self._settings, self._open_alert, self._quit = window, settings, open_alert, quit_app
        self.paused_until: datetime | None = None
        self._clicked_id: int | None = None
        self.icon: QSystemTrayIcon | None = None
        #: what was (or would have been) shown last: (title, message) — for the log and tests
        self.last_notification: tuple[str, str] | None = None
        #: notifications shown (or, without a tray, composed) this session
        self.shown_count = 0
        self._pending: list[Alert] = []
        self._last_shown = -math.inf
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._show_pending)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            global _no_tray_logged
            if not _no_tray_logged:
                _no_tray_logged = True
                log.info("No system tray is available on this desktop: alerts are shown in the Alerts dock only.")
            return
        app_icon = QApplication.windowIcon()  # the Magnus icon (app.create_application sets it)
        self.icon = QSystemTrayIcon(app_icon if not app_icon.isNull()
                                    else QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), self)
        menu = QMenu()
        self._menu = menu
        for text, slot in (("Show / hide window", self.toggle_window), ("Pause alerts for 1 hour", self.pause_hour),
                           ("Pause alerts until tomorrow", self.pause_until_tomorrow), ("Open alerts", self._open_alerts),
                           ("Quit", quit_app)):
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        self.icon.setContextMenu(menu)
        self.icon.messageClicked.connect(self._on_icon_message_clicked)
        self.icon.activated.connect(self._on_icon_activated)  # a click shows/hides the window (start in tray)
        self.set_unread(0)
        self.icon.show()

    @property
    def available(self) -> bool:
        return self.icon is not None

    def set_unread(self, count: int) -> None:
        if self.icon is not None:
            self.icon.setToolTip(f"Magnus Desktop — {count} unread alert{'s' if count != 1 else ''}")

    def notify(self, alerts: list[Alert], now: datetime | None = None) -> bool:
        """Notify about one run's HIGH/CRITICAL alerts; False when nothing was shown now (no tray,
        nothing urgent, paused, quiet hours, or held back: within :data:`NOTIFY_GAP_S` of the last
        notification the alerts wait and then show as one summary)."""
        now = now or datetime.now()
        urgent = [a for a in alerts if a.priority >= Priority.HIGH]
        if not urgent or (self.paused_until is not None and now < self.paused_until):
            return False
        if in_quiet_hours(self._settings(), now):
            return False
        self._pending.extend(urgent)
        wait = self._last_shown + NOTIFY_GAP_S - time.monotonic()
        if wait > 0:  # a storm across runs: one summary when the gap is over
            if not self._flush_timer.isActive():
                self._flush_timer.start(int(wait * 1000) + 1)
            return False
        return self._show_pending()

    def _show_pending(self) -> bool:
        pending, self._pending = self._pending, []
        note = notification(pending)
        if note is None:
            return False
        title, message, alert_id = note
        self.last_notification = (title, message)
        self._last_shown = time.monotonic()
        self.shown_count += 1
        if self.icon is None:
            return False
        self._clicked_id = alert_id
        critical = any(a.priority == Priority.CRITICAL for a in pending)
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Critical if critical
                              else QSystemTrayIcon.MessageIcon.Warning, 10_000)
        return True

    def pause_hour(self) -> None:
        self.paused_until = datetime.now() + timedelta(hours=1)

    def pause_until_tomorrow(self) -> None:
        tomorrow = datetime.now() + timedelta(days=1)
        self.paused_until = tomorrow.replace(hour=0, minute=0, second=0, microsecond=0)

    def toggle_window(self) -> None:
        """Show the window (restored, in front) when hidden or minimised, else hide it in the tray."""
        window = self._window()
        if window is None:
            return
        if window.isVisible() and not window.isMinimized():
            window.hide()
        else:
            bring_back(window)

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click on the icon
            self.toggle_window()

    def _on_icon_message_clicked(self) -> None:
        """A notification was clicked: the window comes back with that alert selected."""
        window = self._window()
        if window is not None:
            bring_back(window)
        self._open_alert(self._clicked_id)

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.toggle_window()

    def _open_alerts(self) -> None:
        window = self._window()
        if window is not None:
            bring_back(window)
        self._open_alert(None)


def bring_back(window: QWidget) -> None:
    """Show ``window`` from the tray or the task bar: restored, raised, with the keyboard."""
    if window.isMinimized():
        window.showNormal()
    else:
        window.show()
    window.raise_()
    window.activateWindow()
