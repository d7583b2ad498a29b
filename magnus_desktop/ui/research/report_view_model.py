"""The research report dock's view model: the report document of the research symbol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.research.report import to_markdown
from magnus_desktop.ui.research.common import SymbolFollower


class ReportViewModel(SymbolFollower):
    report_changed = Signal(object, str)  # document (dict), markdown
    failed = Signal(str)
    loading = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(ctx, parent)
        self._request = 0
        self.document: dict[str, Any] | None = None
        self.markdown = ""
        self.reload_requested.connect(self.reload)

    @asyncSlot()
    async def reload(self) -> None:
        """Build the report of the current symbol and day (the newest request wins)."""
        if not self.alive() or self.day is None:
            return
        self._request += 1
        request, symbol, day = self._request, self.symbol, self.day
        self.loading.emit(f"Building the {symbol} report as of {day.isoformat()}…")
        try:
            doc = await self.ctx.research.report(symbol, day)
        except Exception as exc:  # noqa: BLE001 - any failure is told, the app goes on
            if self.alive() and request == self._request:
                self.document, self.markdown = None, ""
                self.failed.emit(f"The {symbol} report could not be built: {exc}")
            return
        if not self.alive() or request != self._request:
            return
        self.document, self.markdown = doc, to_markdown(doc)
        self.loaded()
        self.report_changed.emit(doc, self.markdown)

    @asyncSlot(str, str)
    async def export(self, path: str, html: str) -> None:
        """Write the report to ``path``: ``.json`` the document, ``.html`` the rendered page, else Markdown."""
        if self.document is None:
            self.failed.emit("No report to export yet.")
            return
        symbol = self.document["symbol"]
        suffix = Path(path).suffix.lower()
        text = (json.dumps(self.document, indent=1, ensure_ascii=False) if suffix == ".json"
                else html if suffix in (".html", ".htm") else self.markdown)
        try:
            await self.ctx.run_db(Path(path).write_text, text, "utf-8")
        except OSError as exc:
            if self.alive():
                self.failed.emit(f"The report could not be written to {path}: {exc.strerror or exc}")
            return
        self.ctx.report(f"Research report of {symbol} written to {path}")
