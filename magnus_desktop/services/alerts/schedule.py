"""When each monitor runs besides every replay step and quote batch: its cadence ("30min",
"hourly", "4h" or "daily_0700" = 07:00 local time), on APScheduler's ``AsyncIOScheduler`` driven by
the running asyncio loop (qasync's in the app).

One cron job per cadence, aligned to the local wall clock (xx:00 and xx:30; every hour; 00:00,
04:00, … 20:00; 07:00). Each job reads the monitors' cadences from the settings when it fires, so a
cadence changed in Settings takes effect at the next tick without rescheduling. Runs that were
missed (a suspended laptop) are coalesced into one, within a grace time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone

log = logging.getLogger(__name__)

#: cadence → cron fields (local time)
CRON: dict[str, dict[str, Any]] = {
    "30min": {"minute": "0,30"},
    "hourly": {"minute": 0},
    "4h": {"hour": "0,4,8,12,16,20", "minute": 0},
    "daily_0700": {"hour": 7, "minute": 0},
}
#: a run missed by up to this long (sleep, a busy loop) still happens once
MISFIRE_GRACE_S = 15 * 60


def trigger(cadence: str, tz: tzinfo | None = None) -> CronTrigger:
    """The cron trigger of ``cadence`` in ``tz`` (default: the local time zone).

    Raises:
        ValueError: an unknown cadence.
    """
    fields = CRON.get(cadence)
    if fields is None:
        raise ValueError(f"unknown cadence {cadence!r}; expected one of {', '.join(CRON)}")
    return CronTrigger(timezone=tz or get_localzone(), **fields)


def next_fire(cadence: str, now: datetime, tz: tzinfo | None = None) -> datetime:
    """The first time strictly after ``now`` that ``cadence`` fires (APScheduler's cron trigger).
    A naive ``now`` is local time in ``tz`` and the answer is naive too.

    Raises:
        ValueError: an unknown cadence.
    """
    zone = tz or get_localzone()
    aware = now if now.tzinfo is not None else now.replace(tzinfo=zone)
    fire = trigger(cadence, zone).get_next_fire_time(None, aware + timedelta(microseconds=1))
    assert fire is not None  # a cron trigger without an end date always fires again
    return fire if now.tzinfo is not None else fire.astimezone(zone).replace(tzinfo=None)


class MonitorScheduler:
    """Calls ``run(names)`` with the monitors whose cadence fires (APScheduler, asyncio loop).

    Args:
        cadences: monitor name → cadence of the enabled monitors, read at each firing.
        run: awaited with the tuple of monitor names due; its errors are logged, the schedule goes on.
        tz: the time zone of the cadences (default: local).
    """

    def __init__(self, cadences: Callable[[], Mapping[str, str]], run: Callable[[tuple[str, ...]], Awaitable[None]],
                 tz: tzinfo | None = None) -> None:
        self._cadences = cadences
        self._run = run
        self._tz = tz
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        """Start on the running loop (call from a coroutine); idempotent."""
        if self._scheduler is not None:
            return
        zone = self._tz or get_localzone()
        scheduler = AsyncIOScheduler(timezone=zone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S})
        for cadence in CRON:
            scheduler.add_job(self.fire, trigger(cadence, zone), args=(cadence,), id=f"monitors-{cadence}",
                              name=f"monitors every {cadence}")
        scheduler.start()
        self._scheduler = scheduler

    def next_runs(self) -> dict[str, datetime]:
        """Cadence → its next run time (aware, local) while started."""
        if self._scheduler is None:
            return {}
        return {job.id.removeprefix("monitors-"): job.next_run_time for job in self._scheduler.get_jobs()}

    def due(self, cadence: str) -> tuple[str, ...]:
        """The monitors whose cadence is ``cadence`` now."""
        return tuple(name for name, c in self._cadences().items() if c == cadence)

    async def fire(self, cadence: str) -> None:
        """One tick of ``cadence``: run its monitors (nothing when none has that cadence)."""
        names = self.due(cadence)
        if not names:
            return
        try:
            await self._run(names)
        except Exception:  # the schedule survives a failed run
            log.exception("scheduled monitor run %s failed", names)

    async def aclose(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)  # AsyncIOScheduler stops on the loop's next turn:
            await asyncio.sleep(0)  # let it, while the loop still runs
