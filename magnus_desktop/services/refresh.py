"""The replay refresh: on each replay day every service updates, each isolated from the others.

Services register a coroutine ``refresh(day)`` under a name the trader understands ("the account",
"the scanner"). A day change schedules one pass; days passed while a pass runs are coalesced (the
next pass takes the latest day). A service that raises is logged and reported once per pass as a
notice naming it; the services after it still refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date

log = logging.getLogger(__name__)

Refresh = Callable[[date], Awaitable[None]]


class ReplayRefresher:
    """Coalescing, per-service isolated refresh passes on the running loop.

    Args:
        current_day: the replay day a pass refreshes (read when the pass starts).
        report: tells the trader (the app's notice) when a service could not update.
    """

    def __init__(self, current_day: Callable[[], date], report: Callable[[str], None]) -> None:
        self._current_day = current_day
        self._report = report
        self._participants: list[tuple[str, Refresh]] = []
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        #: set when no pass is pending or running (tests and the screenshot wait on it)
        self.refreshed = asyncio.Event()

    def add(self, name: str, refresh: Refresh) -> None:
        """Refresh ``name`` on every pass, after the ones added before it."""
        self._participants.append((name, refresh))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _refresh in self._participants)

    def schedule(self) -> None:
        """Ask for a pass at the current day (coalesced with one that has not started yet)."""
        self._dirty = True
        self.refreshed.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def refresh_now(self) -> None:
        """Schedule a pass and wait until every service finished it."""
        self.schedule()
        await self.refreshed.wait()

    async def _loop(self) -> None:
        while self._dirty:
            self._dirty = False
            await self.run_pass(self._current_day())
        self.refreshed.set()

    async def run_pass(self, day: date) -> list[str]:
        """Refresh every service for ``day``; returns the names of those that failed."""
        failed = []
        for name, refresh in self._participants:
            try:
                await refresh(day)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the replay and the other services alive; tell the trader
                log.exception("refreshing %s for %s failed", name, day)
                failed.append(name)
                self._report(f"Could not update {name} for {day}: {exc}")
        return failed

    async def aclose(self) -> None:
        """Cancel a running pass (idempotent)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
