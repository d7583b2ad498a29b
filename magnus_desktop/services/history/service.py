"""``HistoryService``: the stored trade history as one snapshot (closed lots with FIFO realized
P&L, wheel cycles, realized P&L per month), and broker-statement imports.

Blocking work runs on the context's executors: reading the stored snapshot or the events on
``"db"``, decoding it or the FIFO and wheel analytics on ``"compute"``, an import (parse + one
transaction) on ``"db"``. After an import the snapshot is rebuilt (and stored again, see
``services.history.store``) and ``history_changed`` fires, so every view refreshes.

Events (payloads):
    history_changed(HistorySnapshot)
    imported(ImportReport)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.history import store
from magnus_desktop.services.history.snapshot import EMPTY, HistorySnapshot, build_snapshot
from magnus_desktop.services.imports import FileKind, ImportReport, import_file
from magnus_desktop.services.storage import Database, StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


class HistoryService:
    """The trade history of the context's database."""

    history_changed = Signal(object)
    imported = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.snapshot: HistorySnapshot = EMPTY
        #: seconds the last refresh took (read + analytics, or read of the stored snapshot)
        self.last_load_s = 0.0
        #: True when the last refresh read the stored snapshot instead of computing it
        self.from_stored = False

    async def refresh(self) -> HistorySnapshot:
        """Re-read the stored history off the GUI thread; emits ``history_changed``.

        Reads the stored snapshot (``services.history.store``) when it was computed from exactly
        the stored events by this code; otherwise (missing, stale, unreadable) reads the events and
        computes it, emits, then writes it back on the db executor.

        Raises:
            StorageError: the database could not be read.
        """
        db = self._db()
        start = time.perf_counter()
        version, payload = await self._ctx.run_db(store.read_stored, db)
        snapshot = None if payload is None else await self._ctx.run_compute(store.decode, payload, version)
        self.from_stored = snapshot is not None
        version_read: str | None = None
        if snapshot is None:
            stored, events, version_read = await self._ctx.run_db(store.load_events, db)
            snapshot = await self._ctx.run_compute(build_snapshot, events, stored)
        self.snapshot = snapshot
        self.last_load_s = time.perf_counter() - start
        emit_isolated(self.history_changed, snapshot)
        if not self.from_stored and version_read is not None:
            await self._ctx.run_db(store.save, db, version_read, snapshot)
        return snapshot

    async def preview(self, path: Path | str, kind: FileKind | None = None,
                      account: str | None = None) -> ImportReport:
        """Dry run: parse and reconcile ``path``; nothing is stored.

        Raises:
            ImportFormatError: bad input (names the file and line).
        """
        return await self._ctx.run_compute(_dry_run, Path(path), kind, account or None)

    async def import_file(self, path: Path | str, kind: FileKind | None = None,
                          account: str | None = None) -> ImportReport:
        """Import ``path`` in one transaction, then refresh; emits ``imported`` and ``history_changed``.

        Raises:
            ImportFormatError: bad input; nothing stored.
            StorageError: the database refused the write; nothing stored.
        """
        db = self._db()
        report = await self._ctx.run_db(_store, db, Path(path), kind, account or None)
        emit_isolated(self.imported, report)
        await self.refresh()
        return report

    def _db(self) -> Database:
        if self._ctx.db is None:
            raise StorageError("The database is not open yet; try again in a moment.")
        return self._ctx.db


def _dry_run(path: Path, kind: FileKind | None, account: str | None) -> ImportReport:
    return import_file(None, path, kind, account, dry_run=True)


def _store(db: Database, path: Path, kind: FileKind | None, account: str | None) -> ImportReport:
    return import_file(db, path, kind, account)
