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

:func:`paused` holds collections back while a worker builds a large result that holds no garbage
(the trade history: 100,000 rows read, then the FIFO's lots): without it, each 100 ms young
collection walks everything the worker allocated since the last one (9 of them, 0.2-0.3 s on the
GUI thread while the 100,000-row history loaded, ``benchmarks/bench_imports.py``). After the pause
the next young collection walks those objects once.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer

#: Young collections per middle-generation collection (CPython's default is 10).
MIDDLE_EVERY = 3
#: A pause longer than this (seconds) is ignored: collections resume even if the work hangs.
MAX_PAUSE_S = 5.0

_pauses = 0
_paused_at = 0.0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Hold cyclic garbage collection back for the ``with`` block (GUI thread only; blocks may
    overlap, e.g. across ``await``). Both kinds stop: :class:`MainThreadGarbageCollector`'s steps
    and CPython's automatic collection (switched back on after the last block if it was on).
    Nothing is lost: objects freed by reference counting still go at once, cycles wait for the
    next step. At most :data:`MAX_PAUSE_S` seconds (then the collector runs again)."""
    global _pauses, _paused_at, _was_enabled
    if _pauses == 0:
        _paused_at = time.monotonic()
        _was_enabled = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()


def is_paused() -> bool:
    """A :func:`paused` block is running (and began less than :data:`MAX_PAUSE_S` ago)."""
    return _pauses > 0 and time.monotonic() - _paused_at < MAX_PAUSE_S


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
        """Collect if due and not :func:`paused`; returns the generation collected, or -1."""
        if is_paused():
            return -1
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
