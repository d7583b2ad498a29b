"""The audit viewer's view model: pages of the audit log and the CSV export, both on the DB thread
(``AuditService.query`` / ``export_csv``); results come back as signals."""

from __future__ import annotations

import logging
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.storage import StorageError
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class AuditViewModel(QObject):
    #: (entries newest first, rows matching in all, offset of the page, the filter it answers)
    page_loaded = Signal(object, int, int, object)
    accounts_loaded = Signal(object)  # list[str]
    #: a row was stored (the first page may need reloading)
    entry_added = Signal(object)
    #: (path, rows written) after an export
    exported = Signal(str, int)
    failed = Signal(str)
    #: the audit log became readable (the app's services started after this view model was built)
    opened = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._request = 0
        bridge(self, [(ctx.audit.entry_added, self.entry_added.emit), (ctx.audit.opened, self.opened.emit)])

    @property
    def is_open(self) -> bool:
        """False while the app's services are still starting (nothing to read yet; ``opened`` follows)."""
        return self._ctx.audit.is_open

    @asyncSlot(object, int, int)
    async def load(self, flt: AuditFilter, offset: int, limit: int) -> None:
        """Load one page (DB thread); only the newest request's answer is delivered. Before the
        services started it does nothing: the panel reloads on ``opened``."""
        if not self.is_open:
            return
        self._request += 1
        request = self._request
        try:
            entries, total = await self._ctx.audit.query(flt, limit, offset)
        except StorageError as exc:
            if shiboken6.isValid(self):
                self.failed.emit(f"The audit log could not be read: {exc}")
            return
        if request == self._request and shiboken6.isValid(self):  # (its dock may be gone by now)
            self.page_loaded.emit(entries, total, offset, flt)

    @asyncSlot()
    async def load_accounts(self) -> None:
        if not self.is_open:  # (the panel asks again on ``opened``)
            return
        try:
            accounts = await self._ctx.audit.accounts()
        except StorageError as exc:
            log.warning("audit accounts not read: %s", exc)
            return
        if shiboken6.isValid(self):
            self.accounts_loaded.emit(accounts)

    @asyncSlot(str, object)
    async def export(self, path: str, flt: AuditFilter) -> None:
        """Write every row matching ``flt`` to ``path`` as CSV (DB thread)."""
        try:
            rows = await self._ctx.audit.export_csv(Path(path), flt)
        except (OSError, StorageError) as exc:
            if shiboken6.isValid(self):
                self.failed.emit(f"Could not export the audit log to {path}: {exc}")
            return
        if shiboken6.isValid(self):
            self.exported.emit(path, rows)
