"""One UI update per loop turn: the docks' periodic updates take turns instead of landing together.

Qt paints every dirty widget of a window in one ``UpdateRequest``. When the positions, scanner and
watchlists tables and both dashboard charts all flush on the same timer tick, that one frame paints
all of them (measured: 40-90 ms at 10 replay days/s). :func:`request` queues an update instead; a
single timer runs one queued update every ``INTERVAL_MS``, so each frame paints about one dock and
the GUI loop stays responsive. A queued update runs at most once however often it is requested.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Protocol

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: Spacing between two queued updates (ms): one paint fits between them.
INTERVAL_MS = 12


class FrameScheduler(QObject):
    """Runs queued ``(owner, callback)`` updates one per timer tick, oldest first."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: dict[Callable[[], None], QObject] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.run_next)

    def request(self, owner: QObject, callback: Callable[[], None]) -> None:
        """Run ``callback`` on a coming tick (once, however often requested before it runs);
        dropped if ``owner`` is deleted first."""
        self._queue.setdefault(callback, owner)
        if not self._timer.isActive():
            self._timer.start()

    def pending(self) -> int:
        return len(self._queue)

    def run_next(self) -> None:
        """Run the oldest queued update now (skipping ones whose owner is gone)."""
        while self._queue:
            callback = next(iter(self._queue))
            owner = self._queue.pop(callback)
            if shiboken6.isValid(owner):
                try:
                    callback()
                finally:
                    if self._queue:
                        self._timer.start()
                return


_scheduler: FrameScheduler | None = None


class Deferred(Protocol):
    """A GUI object holding an update it has not shown yet (a throttle, a table model)."""

    def has_pending(self) -> bool: ...


_deferred: weakref.WeakSet[Deferred] = weakref.WeakSet()


def track(source: Deferred) -> None:
    """Count ``source``'s pending update in :func:`settled` (held weakly)."""
    _deferred.add(source)


def settled() -> bool:
    """True when no queued update waits on the scheduler and no tracked source holds one (what a
    screenshot or a test waits for instead of a fixed sleep)."""
    if scheduler().pending():
        return False
    for source in list(_deferred):
        if not shiboken6.isValid(source):  # its Qt object is gone (a closed window): it can never show anything
            _deferred.discard(source)
        elif source.has_pending():
            return False
    return True


def scheduler() -> FrameScheduler:
    """The application's scheduler (created on first use, owned by the ``QCoreApplication``)."""
    global _scheduler
    if _scheduler is None or not shiboken6.isValid(_scheduler):
        _scheduler = FrameScheduler(parent=QCoreApplication.instance())
    return _scheduler


def request(owner: QObject, callback: Callable[[], None]) -> None:
    """Queue ``callback`` on the application's :class:`FrameScheduler`."""
    scheduler().request(owner, callback)
