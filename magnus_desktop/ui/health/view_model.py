"""The Health dock's view model: snapshots, the loop-lag probe, the log tail, backup and restore.

It works only while its dock can be seen: a snapshot at most once a second
(:data:`REFRESH_MS`), the lag probe's timer every :data:`LAG_INTERVAL_MS`, and — while the Log
tab is shown — a re-read of the log file every :data:`LOG_REFRESH_MS` when it changed. Reads and
filtering run on the health executor; one of each at a time.

Signals:
    snapshot_changed(object)    a ``services.health.HealthSnapshot``
    log_changed(object, int, bool)  (filtered records shown, records read, older lines left out)
    log_problem(str)            the log file cannot be read (why)
    busy_changed(bool)          a backup or restore started / ended
    finished(bool, str)         a backup or restore ended: ok, the message for the user
    restored(str)               a restore replaced the data (the window reloads its layout)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.health.backup import BackupError
from magnus_desktop.services.health.logtail import (
    LogTail,
    current_log_file,
    filter_records,
    read_tail,
)
from magnus_desktop.services.health.service import EXECUTOR, LAG_INTERVAL_S
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)

REFRESH_MS = 1000
LAG_INTERVAL_MS = round(LAG_INTERVAL_S * 1000)
LOG_REFRESH_MS = 2000
#: records handed to the log view at most (the newest)
MAX_SHOWN = 5000


class HealthViewModel(QObject):
    snapshot_changed = Signal(object)
    log_changed = Signal(object, int, bool)
    log_problem = Signal(str)
    busy_changed = Signal(bool)
    finished = Signal(bool, str)
    restored = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *,
                 log_file: Callable[[], Path | None] = current_log_file) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._log_file = log_file
        self._visible = False
        self._log_visible = False
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._tail: LogTail | None = None
        self.level, self.search = "DEBUG", ""
        self._snap_timer = self._timer(REFRESH_MS, self.refresh)
        self._lag_timer = self._timer(LAG_INTERVAL_MS, ctx.health.lag.tick, precise=True)
        self._log_timer = self._timer(LOG_REFRESH_MS, self.refresh_log)
        bridge(self, [(ctx.health.restored, self.restored.emit)])

    def _timer(self, ms: int, slot: Callable[[], None], precise: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(ms)
        if precise:
            timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(slot)
        return timer

    # ---- visibility -------------------------------------------------------------------------------
    def set_visible(self, visible: bool) -> None:
        """The dock is shown or hidden: the timers run only while it can be seen."""
        if visible == self._visible or self._ctx.closed:
            return
        self._visible = visible
        if visible:
            self._lag_timer.start()
            self._snap_timer.start()
            self.refresh()
        else:
            self._lag_timer.stop()
            self._ctx.health.lag.pause()
            self._snap_timer.stop()
        self._update_log_timer()

    def set_log_visible(self, visible: bool) -> None:
        """The Log tab is in front (or not)."""
        self._log_visible = visible
        self._update_log_timer()

    def _update_log_timer(self) -> None:
        if self._visible and self._log_visible:
            if not self._log_timer.isActive():
                self._log_timer.start()
                self.refresh_log()
        else:
            self._log_timer.stop()

    @property
    def active(self) -> bool:
        """The snapshot timer runs (the dock is visible)."""
        return self._snap_timer.isActive()

    # ---- figures ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for a snapshot now (skipped while one is being made)."""
        self._spawn("snapshot", self._ctx.health.snapshot(), self.snapshot_changed.emit)

    def refresh_log(self, force: bool = False) -> None:
        """Re-read the log file if it changed (or ``force``) and show it filtered."""
        path = self._log_file()
        if path is None:
            self.log_problem.emit("The log goes to the terminal only this session (the log folder cannot be "
                                  "written): there is no log file to show.")
            return
        tail = self._tail
        level, search = self.level, self.search

        def work() -> tuple[LogTail, list[Any]]:
            nonlocal tail
            try:
                stat = path.stat()
            except OSError:
                stat = None
            if force or tail is None or stat is None or tail.path != path or \
                    (stat.st_size, stat.st_mtime_ns) != (tail.size, tail.mtime_ns):
                tail = read_tail(path)
            return tail, filter_records(tail.records, level, search)

        self._spawn("log", self._ctx.executors.run(EXECUTOR, work), self._show_log, self._log_failed)

    def set_filter(self, level: str, search: str) -> None:
        """The level floor (``"WARNING"`` shows warnings and errors) and the search text changed."""
        self.level, self.search = level, search
        self.refresh_log()

    def _show_log(self, result: tuple[LogTail, list[Any]]) -> None:
        tail, shown = result
        self._tail = tail
        self.log_changed.emit(shown[-MAX_SHOWN:], len(tail.records), tail.truncated or len(shown) > MAX_SHOWN)

    def _log_failed(self, exc: BaseException) -> None:
        self.log_problem.emit(f"The log file cannot be read: {exc}")

    # ---- backup / restore -------------------------------------------------------------------------
    def backup_dir(self) -> Path:
        return self._ctx.health.backup_dir

    def backup(self, folder: Path | None = None) -> None:
        """Write a backup zip into ``folder`` (default: the backups folder); ``finished`` tells how it went."""
        async def run() -> str:
            result = await self._ctx.health.backup(folder)
            count = len(result.files)
            text = f"Backup written: {result.path} ({count} file{'s' if count != 1 else ''})."
            return f"{text} {result.note}" if result.note else text

        self._run_job(run)

    def restore(self, zip_path: Path) -> None:
        """Restore ``zip_path`` after checking it fully; ``finished`` tells how it went."""
        self._run_job(lambda: self._ctx.health.restore(zip_path))

    def _run_job(self, job: Callable[[], Awaitable[str]]) -> None:
        if self._ctx.health.busy or "job" in self._tasks:
            self.finished.emit(False, "A backup or restore is already running; wait for it to finish.")
            return

        async def run() -> str:
            self.busy_changed.emit(True)
            try:
                return await job()
            finally:
                if shiboken6.isValid(self):
                    self.busy_changed.emit(False)

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, BackupError):
                log.exception("backup/restore failed", exc_info=exc)
            self.finished.emit(False, str(exc))

        self._spawn("job", run(), lambda message: self.finished.emit(True, message), failed)

    # ---- plumbing ---------------------------------------------------------------------------------
    def _spawn(self, name: str, coro: Awaitable[Any], done: Callable[[Any], None],
               failed: Callable[[BaseException], None] | None = None) -> None:
        if name in self._tasks or self._ctx.closed:
            if asyncio.iscoroutine(coro):
                coro.close()
            return

        async def run() -> None:
            try:
                result = await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — reported in the dock, never raised into Qt
                if shiboken6.isValid(self):
                    (failed or (lambda e: log.warning("health %s failed: %s", name, e)))(exc)
                return
            finally:
                self._tasks.pop(name, None)
            if shiboken6.isValid(self):
                done(result)

        self._tasks[name] = asyncio.ensure_future(run())

    async def settled(self) -> None:
        """Wait for the running reads and jobs (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
