"""Deliver only the latest value to a slow consumer, at most ``hz`` times a second (GUI thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from magnus_desktop.widgets import frame_budget


class Throttle(QObject):
    """``push(value)`` keeps the newest value; ``callback(value)`` runs on a single-shot timer.

    A burst of pushes (a replay running at 10+ days/s) costs one callback per period, so repaints
    of charts and labels stay bounded however fast the data comes. When the period ends the
    callback takes its turn on the :mod:`frame_budget` scheduler (one dock update per frame).
    """

    def __init__(self, callback: Callable[[Any], None], hz: float = 4.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback
        self._value: Any = None
        self._has_value = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(int(1000 / hz), 1))
        self._timer.timeout.connect(lambda: frame_budget.request(self, self.flush))
        frame_budget.track(self)

    def has_pending(self) -> bool:
        """A pushed value is waiting for its turn to be shown."""
        return self._has_value

    def push(self, value: Any) -> None:
        self._value, self._has_value = value, True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if self._has_value:
            value, self._value, self._has_value = self._value, None, False
            self._callback(value)
