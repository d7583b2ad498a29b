"""CPython's automatic garbage collection paused for one bulk job in a command-line process.

A statement import or the trade-history snapshot allocates several objects per row and makes no
reference cycles; refcounting frees them. With automatic collection on, each full collection walks
every object of the job still alive: measured 0.15-0.2 s of a 1.6 s, 100,000-row Robinhood import
and 0.2 s of the 0.55 s Flex snapshot (``benchmarks/bench_imports.py``). The app itself runs with
automatic collection off (``widgets/gc_guard.py`` collects on the GUI thread), so there this is a
no-op: it never turns collection back on that it did not turn off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def automatic_collection_paused() -> Iterator[None]:
    """Automatic collection off for the block if it was on, and on again after it (also on error).

    Not for blocks that overlap in several threads of a process with collection on: the first to end
    turns it back on (the command line runs one job at a time; the app has it off throughout)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
