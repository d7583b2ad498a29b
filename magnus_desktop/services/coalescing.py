"""``CoalescingWorker``: run one async job in the background on the latest input, at most every
``min_interval_s`` seconds, pausable (no Qt).

Services that recompute something each time their input changes (the Risk report on each account
update, the Performance report on each history or fill change, the journal's outcome links) would
otherwise start one computation per change: a replay at 10 days/s changes the account 10 times a
second. Here:

- :meth:`CoalescingWorker.submit` keeps only the latest input ("latest wins") and starts the job
  unless one is running, which picks the latest input up when it finishes;
- two starts are at least ``min_interval_s`` apart (the loop sleeps, then takes the input then latest);
- while paused (a hidden dock) inputs are kept, nothing runs; resuming runs the latest at once;
- a job that raises is logged with its traceback, kept as :attr:`CoalescingWorker.last_error` and
  passed to ``on_error``; the worker goes on with the next input;
- :meth:`CoalescingWorker.aclose` stops it and awaits the job running, if any.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class CoalescingWorker(Generic[T]):
    """Runs ``job(latest input)`` in the background (see the module docstring).

    Args:
        job: the async job; it gets the latest submitted input.
        name: what the job is, for the log ("risk report").
        min_interval_s: least seconds between two starts (0 = none).
        paused: start paused (until :meth:`set_paused` ``(False)``).
        closed: also stop when this returns True (the app context closing).
        on_error: called with an exception the job raised (after it is logged).
    """

    def __init__(self, job: Callable[[T], Awaitable[object]], *, name: str, min_interval_s: float = 0.0,
                 paused: bool = False, closed: Callable[[], bool] = lambda: False,
                 on_error: Callable[[Exception], object] | None = None) -> None:
        self._job = job
        self.name = name
        self.min_interval_s = min_interval_s
        self._paused = paused
        self._closed_by = closed
        self._on_error = on_error
        self._pending: T | None = None
        self._has_pending = False
        self._stopped = False
        self._next_start = 0.0
        self._task: asyncio.Task[None] | None = None
        #: the last exception a job raised (None when none has)
        self.last_error: Exception | None = None
        #: jobs started so far
        self.runs = 0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def pending(self) -> bool:
        """An input is waiting for the job (paused, or within the minimum interval)."""
        return self._has_pending

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _closed(self) -> bool:
        return self._stopped or self._closed_by()

    def submit(self, value: T) -> None:
        """Keep ``value`` as the latest input and start the job unless paused or one runs."""
        if self._closed():
            return
        self._pending, self._has_pending = value, True
        if not self._paused:
            self._start()

    def set_paused(self, paused: bool) -> None:
        """Pause (inputs are kept, nothing starts) or resume (the latest input runs at once)."""
        self._paused = paused
        if not paused and self._has_pending:
            self._start()

    def _start(self) -> None:
        if self._closed():
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"coalescing {self.name}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._has_pending and not self._paused and not self._closed():
            wait = self._next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # the input may have changed meanwhile: take the latest
            value, self._pending, self._has_pending = self._pending, None, False
            self._next_start = loop.time() + self.min_interval_s
            self.runs += 1
            try:
                await self._job(value)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - logged and kept, never lost in the task
                log.exception("%s failed", self.name)
                self.last_error = exc
                if self._on_error is not None:
                    try:
                        self._on_error(exc)
                    except Exception:
                        log.exception("the error handler of %s failed", self.name)

    async def idle(self) -> None:
        """Wait until no job runs (inputs may still be pending while paused)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop: nothing new starts; the job running, if any, is awaited."""
        self._stopped = True
        await self.idle()
