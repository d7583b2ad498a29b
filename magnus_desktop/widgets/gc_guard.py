"""Run Python's cyclic garbage collector on the GUI thread only.

Python's automatic collection runs in whichever thread happens to allocate when a threshold is
crossed — with our DB and compute worker threads, that can be a worker. A QObject caught in a
reference cycle is then destroyed on the wrong thread: Qt cannot unregister its timers from there
and later delivers a timer event to freed memory (a segfault seen in our test suite). The cure used
by long-running PyQt apps (calibre's ``GarbageCollector``): switch automatic collection off and
collect from a GUI-thread timer instead.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGarbageCollector(QObject):
    """Disables automatic gc; every ``interval_ms`` collects the generations whose counts passed
    their thresholds, on the GUI thread."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect if due; returns the generation collected, or -1."""
        count0, count1, count2 = gc.get_count()
        generation = -1
        if count0 > self._threshold[0]:
            generation = 0
            if count1 > self._threshold[1]:
                generation = 1
                if count2 > self._threshold[2]:
                    generation = 2
        if generation >= 0:
            gc.collect(generation)
        return generation

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
