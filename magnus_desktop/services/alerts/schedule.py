"""When each monitor runs besides every replay step: its cadence ("30min", "hourly", "4h" or
"daily_0700" = 07:00 local time), on the running asyncio loop (qasync's in the app).

APScheduler is not among the app's dependencies; this is one asyncio task that sleeps until the
earliest due cadence and then runs the monitors due, each cadence aligned to the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

_PERIODS = {"30min": timedelta(minutes=30), "hourly": timedelta(hours=1), "4h": timedelta(hours=4)}
DAILY_HOUR = 7


def next_fire(cadence: str, now: datetime) -> datetime:
    """The first time after ``now`` (local, aware or naive alike) a ``cadence`` is due: the next
    multiple of its period since midnight, or the next 07:00 for "daily_0700".

    Raises:
        ValueError: an unknown cadence.
    """
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if cadence == "daily_0700":
        at = midnight + timedelta(hours=DAILY_HOUR)
        return at if at > now else at + timedelta(days=1)
    period = _PERIODS.get(cadence)
    if period is None:
        raise ValueError(f"unknown cadence {cadence!r}; expected one of 30min, hourly, 4h, daily_0700")
    elapsed = now - midnight
    return midnight + period * (elapsed // period + 1)


class CadenceScheduler:
    """Calls ``run(names)`` with the monitors whose cadence is due (one task, wall clock).

    Args:
        cadences: monitor name → cadence, read before each wait (settings may change).
        run: awaited with the tuple of monitor names due; its errors are logged, the schedule goes on.
        clock: local "now" (tests pass a fake one).
    """

    def __init__(self, cadences: Callable[[], Mapping[str, str]], run: Callable[[tuple[str, ...]], Awaitable[None]],
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self._cadences = cadences
        self._run = run
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def due(self, now: datetime) -> tuple[datetime, tuple[str, ...]]:
        """The next fire time after ``now`` and the monitors due then."""
        fires = {name: next_fire(cadence, now) for name, cadence in self._cadences().items()}
        if not fires:
            return now + timedelta(days=1), ()
        at = min(fires.values())
        return at, tuple(name for name, when in fires.items() if when == at)

    async def _loop(self) -> None:
        while True:
            at, names = self.due(self._clock())
            await asyncio.sleep(max((at - self._clock()).total_seconds(), 0.0))
            if not names:
                continue
            try:
                await self._run(names)
            except asyncio.CancelledError:
                raise
            except Exception:  # the schedule survives a failed run
                log.exception("scheduled monitor run %s failed", names)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
