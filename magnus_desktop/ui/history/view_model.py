"""View models of the trade-history dock and of the import dialog.

Both talk to ``HistoryService`` only; its blocking work (reading the history, parsing and storing a
statement) runs on the context's executors, never on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.history import HistorySnapshot
from magnus_desktop.services.imports import FileKind, ImportFormatError, detect_kind
from magnus_desktop.services.storage import StorageError
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.widgets import gc_guard


class HistoryViewModel(QObject):
    """The stored trade history as a ``HistorySnapshot``; refreshed after every import."""

    snapshot_changed = Signal(object)  # HistorySnapshot
    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.loading = False
        bridge(self, [(ctx.history.history_changed, self._on_history_changed)])

    def snapshot(self) -> HistorySnapshot:
        return self._ctx.history.snapshot

    def _on_history_changed(self, snapshot: HistorySnapshot) -> None:
        self.snapshot_changed.emit(snapshot)

    @asyncSlot()
    async def refresh(self) -> None:
        """Re-read the history off the GUI thread (``snapshot_changed`` follows). Garbage collection
        waits meanwhile (``gc_guard.paused``): the read and the FIFO allocate several objects per
        stored row and make no garbage cycles."""
        self._set_loading(True)
        try:
            with gc_guard.paused():
                await self._ctx.history.refresh()
        except StorageError as exc:
            if shiboken6.isValid(self):
                self.failed.emit(f"Could not read the trade history: {exc}")
        finally:
            self._set_loading(False)

    def _set_loading(self, loading: bool) -> None:
        if shiboken6.isValid(self):  # the dock may have been closed for good while the read ran
            self.loading = loading
            self.loading_changed.emit(loading)


class ImportViewModel(QObject):
    """One import: detect the kind, dry-run preview, then the import itself (off the GUI thread)."""

    previewed = Signal(object)  # ImportReport (dry run)
    imported = Signal(object)  # ImportReport
    failed = Signal(str)  # the message names the file and line
    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx

    @staticmethod
    def detect(path: str) -> FileKind | None:
        """The file's kind from its first bytes; None when it is neither (the preview says why)."""
        try:
            return detect_kind(path)
        except ImportFormatError:
            return None

    @asyncSlot(str, object, str)
    async def preview(self, path: str, kind: FileKind | None, account: str) -> None:
        await self._run(self._ctx.history.preview, self.previewed, path, kind, account)

    @asyncSlot(str, object, str)
    async def run_import(self, path: str, kind: FileKind | None, account: str) -> None:
        await self._run(self._ctx.history.import_file, self.imported, path, kind, account)

    async def _run(self, action, done: Signal, path: str, kind: FileKind | None, account: str) -> None:  # type: ignore[no-untyped-def]
        self.busy_changed.emit(True)
        try:
            report = await action(Path(path), kind, account.strip() or None)
        except ImportFormatError as exc:
            outcome, payload = self.failed, str(exc)
        except StorageError as exc:
            outcome, payload = self.failed, f"{Path(path).name}: the database refused the import, nothing was stored ({exc})"
        else:
            outcome, payload = done, report
        if shiboken6.isValid(self):  # the dialog's dock may be gone by the time the work is done
            outcome.emit(payload)
            self.busy_changed.emit(False)
