"""The replay clock: walks the recorded trading calendar; every panel follows its ``date_changed``."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Sequence
from datetime import date

from psygnal import Signal

log = logging.getLogger(__name__)


class ReplayClock:
    """Plays recorded trading days at ``speed`` days per second on the running asyncio loop.

    Events:
        date_changed(date): the current replay day changed (step, jump or play).
        playing_changed(bool): play/pause state changed.
    """

    date_changed = Signal(object)
    playing_changed = Signal(bool)

    def __init__(self, days: Sequence[date], *, speed: float = 2.0, loop_at_end: bool = False) -> None:
        if not days:
            raise ValueError("the replay calendar is empty")
        self._days = sorted(days)
        self._index = 0
        self.speed = speed
        self.loop_at_end = loop_at_end
        self._task: asyncio.Task[None] | None = None

    @property
    def days(self) -> list[date]:
        return list(self._days)

    @property
    def current(self) -> date:
        return self._days[self._index]

    @property
    def is_playing(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def at_end(self) -> bool:
        return self._index == len(self._days) - 1

    def jump(self, day: date) -> date:
        """Go to ``day`` or, if it is not a trading day, the last trading day before it (the first
        day if ``day`` precedes the calendar). Returns the day chosen."""
        index = max(bisect.bisect_right(self._days, day) - 1, 0)
        self._set_index(index)
        return self.current

    def step(self, n: int = 1) -> bool:
        """Move ``n`` trading days (negative = back). Returns False when already at the edge."""
        target = min(max(self._index + n, 0), len(self._days) - 1)
        if target == self._index:
            if self.loop_at_end and n > 0:
                self._set_index(0)
                return True
            return False
        self._set_index(target)
        return True

    def play(self) -> None:
        if self.is_playing:
            return
        if self.at_end and not self.loop_at_end:
            self._set_index(0)
        self._task = asyncio.get_running_loop().create_task(self._run())
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self.playing_changed.emit(False)

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.sleep(1.0 / self.speed)
                if not self.step(1):
                    break
        except asyncio.CancelledError:
            raise
        except Exception:  # a subscriber's bug must not kill the clock silently
            log.exception("replay clock stopped by an error")
        self._task = None
        self.playing_changed.emit(False)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _set_index(self, index: int) -> None:
        changed = index != self._index
        self._index = index
        if changed:
            self.date_changed.emit(self.current)
