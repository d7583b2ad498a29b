"""Run Python's cyclic garbage collector on the GUI thread only, in small steps.

Python's automatic collection runs in whichever thread happens to allocate when a threshold is
crossed — with our DB and compute worker threads, that can be a worker. A QObject caught in a
reference cycle is then destroyed on the wrong thread: Qt cannot unregister its timers from there
and later delivers a timer event to freed memory (a segfault seen in our test suite). The cure used
by long-running PyQt apps (calibre's ``GarbageCollector``): switch automatic collection off and
collect from a GUI-thread timer instead.

The steps are kept short, because each one stalls the GUI for its whole length (measured while
5,000 Kalshi markets loaded into the browser, ``benchmarks/bench_kalshi.py``, 2 loaded cores):

* the timer runs every 100 ms (with 1 s, a young generation of 61,000 objects took 19.5 ms);
* the middle generation is collected every :data:`MIDDLE_EVERY` young collections instead of
  CPython's 10 (ten seconds' survivors took 31–33 ms; three take a third of that);
* a full collection runs only when the objects that reached the old generation since the last one
  exceed a quarter of those it held then — CPython's own rule for automatic collections (an explicit
  ``gc.collect(2)`` skips it), which keeps full collections rare on a large, settled heap.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: Young collections per middle-generation collection (CPython's default is 10).
MIDDLE_EVERY = 3


class MainThreadGarbageCollector(QObject):
    """Disables automatic gc; every ``interval_ms`` collects, on the GUI thread, the generations
    that are due (see the module docstring for the rules)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 100) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._old_after_full = len(gc.get_objects(generation=2))
        self._was_enabled = gc.isenabled()
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
            if count1 >= MIDDLE_EVERY:
                generation = 1
                if count2 > self._threshold[2] and self._full_due():
                    generation = 2
        if generation >= 0:
            gc.collect(generation)
            if generation == 2:
                self._old_after_full = len(gc.get_objects(generation=2))
        return generation

    def _full_due(self) -> bool:
        """CPython's rule: the old generation grew by more than 25 % since the last full collection
        (a ``gc.freeze()`` in between empties it: then its size now is the new baseline)."""
        old = len(gc.get_objects(generation=2))
        self._old_after_full = min(self._old_after_full, old)
        return old - self._old_after_full > self._old_after_full / 4

    def stop(self) -> None:
        """Stop collecting; automatic collection is switched back on if it was on before."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
