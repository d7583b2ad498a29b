"""The Journal dock's view model: entries, the review, learned preferences and applying them."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.analytics.journal import Preferences, ReviewRow, by_p_win, by_setup, by_tag
from magnus_desktop.models.journal import JournalEntry
from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.bridge import bridge


class JournalViewModel(QObject):
    entries_changed = Signal(object)  # list[JournalEntry], newest first
    message = Signal(str)  # what an apply/reset did, or why not

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        bridge(self, [(ctx.journal.entries_changed, self.entries_changed.emit),
                      (ctx.journal.failed, self.message.emit)])

    def entries(self) -> list[JournalEntry]:
        return list(self._ctx.journal.entries)

    @staticmethod
    def review(entries: list[JournalEntry]) -> dict[str, list[ReviewRow]]:
        return {"tag": by_tag(entries), "setup": by_setup(entries), "p_win": by_p_win(entries)}

    def preferences(self) -> Preferences:
        return self._ctx.journal.preferences()

    def scanner_changes(self, prefs: Preferences) -> dict[str, tuple[float, float]]:
        return self._ctx.journal.scanner_changes(prefs)

    @asyncSlot(object)
    async def apply_preferences(self, prefs: Preferences) -> None:
        try:
            values = await self._ctx.journal.apply_to_scanner(prefs)
        except ValueError as exc:
            self._say(f"Not applied: {exc}")
            return
        self._say("Scanner filters set: " + ", ".join(f"{k} = {v:g}" for k, v in values.items()) + ".")

    @asyncSlot()
    async def reset_scanner(self) -> None:
        values = await self._ctx.journal.reset_scanner()
        self._say("Scanner filters reset to their defaults: " + ", ".join(f"{k} = {v:g}" for k, v in values.items())
                  + ".")

    @asyncSlot()
    async def link_now(self) -> None:
        n = await self._ctx.journal.link_now()
        self._say(f"{n} outcome(s) linked." if n else "No newly closed position to link.")

    def _say(self, text: str) -> None:
        if shiboken6.isValid(self):
            self.message.emit(text)
