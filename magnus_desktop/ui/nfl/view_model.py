"""The NFL model dock's view model: the NFL model service's results as Qt signals, and the load slot."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.kalshi.nfl import Evaluation
from magnus_desktop.ui.bridge import bridge


class NflViewModel(QObject):
    evaluated = Signal(object)  # Evaluation
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        bridge(self, [(ctx.nfl.evaluated, self.evaluated.emit), (ctx.nfl.failed, self.failed.emit)])

    def last_evaluation(self) -> Evaluation | None:
        """The model of the file loaded earlier this session (None before any)."""
        return self._ctx.nfl.evaluation

    @asyncSlot(str, object, int)
    async def load(self, path: str, layout: str | None, from_season: int) -> None:
        """Read and score ``path`` off the GUI thread (``evaluated`` or ``failed`` follows)."""
        if self._ctx.closed:
            return
        self.busy_changed.emit(True)
        try:
            await self._ctx.nfl.load(path, layout, from_season)  # type: ignore[arg-type]
        finally:
            self.busy_changed.emit(False)
