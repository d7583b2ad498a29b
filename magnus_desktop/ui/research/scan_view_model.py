"""The universe scan dock's view model: universes, the running scan, its progress and result."""

from __future__ import annotations

from datetime import date

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.analytics.screen import ScreenFilter
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.research.gather import zone_params
from magnus_desktop.services.research.sectors import SectorDataError, sp500_symbols
from magnus_desktop.services.research.universe import (
    ScanResult,
    UniverseFileError,
    UniverseScan,
    read_universe_file,
)
from magnus_desktop.ui.bridge import bridge

SP500 = "S&P 500 (bundled list)"


class ScanViewModel(QObject):
    progress = Signal(int, int)  # scanned, total
    finished = Signal(object)  # ScanResult
    failed = Signal(str)
    running_changed = Signal(bool)
    universes_changed = Signal()
    day_changed = Signal(object)  # date: a shown result is no longer of the replay day

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._scan: UniverseScan | None = None
        self.last: ScanResult | None = None
        bridge(self, [(ctx.watchlists.watchlists_changed, lambda _w: self.universes_changed.emit()),
                      (ctx.date_changed, self.day_changed.emit)])

    def universes(self) -> list[str]:
        """Names to pick from: each watchlist ("Watchlist: name") and the S&P 500."""
        return [f"Watchlist: {wl.name}" for wl in self.ctx.watchlists.watchlists] + [SP500]

    def symbols_of(self, universe: str) -> list[str]:
        """The symbols of a universe name (a watchlist's, the S&P 500's).

        Raises:
            ValueError: unknown universe or unreadable list (the message says why).
        """
        if universe == SP500:
            try:
                return sp500_symbols()
            except SectorDataError as exc:
                raise ValueError(str(exc)) from exc
        name = universe.removeprefix("Watchlist: ")
        wl = next((w for w in self.ctx.watchlists.watchlists if w.name == name), None)
        if wl is None:
            raise ValueError(f"no watchlist named {name!r}")
        return [i.symbol for i in wl.items]

    @property
    def running(self) -> bool:
        return self._scan is not None

    def set_symbol(self, symbol: str) -> None:
        self.ctx.symbol.try_set(symbol, "universe scan")

    @asyncSlot(str, object, str)
    async def start(self, universe: str, screen: ScreenFilter, file: str = "") -> None:
        """Scan ``universe`` (or the tickers of ``file`` when given) with ``screen``."""
        if self._scan is not None or self.ctx.closed or self.ctx.clock is None or not shiboken6.isValid(self):
            return
        skipped: list[str] = []
        try:
            if file:
                symbols, skipped = await self.ctx.run_compute(read_universe_file, file)
                if not shiboken6.isValid(self):
                    return
                universe = f"file {file}"
            else:
                symbols = self.symbols_of(universe)
        except (ValueError, UniverseFileError) as exc:
            self.failed.emit(str(exc))
            return
        if not symbols:
            self.failed.emit(f"{universe} has no symbols")
            return
        day: date = self.ctx.clock.current
        self._scan = UniverseScan(self.ctx, symbols, universe, screen, day, zone_params(self.ctx.settings))
        self.running_changed.emit(True)
        try:
            result = await self._scan.run(self._on_progress)
        except Exception as exc:  # noqa: BLE001 - told to the user; the app goes on
            if shiboken6.isValid(self):
                self.failed.emit(f"The scan failed: {exc}")
            return
        finally:
            self._scan = None
            if shiboken6.isValid(self):
                self.running_changed.emit(False)
        if not shiboken6.isValid(self):
            return  # the dock was closed during the scan
        for token in skipped:
            result.missing[token] = "not a ticker"
        self.last = result
        self.finished.emit(result)

    def _on_progress(self, done: int, total: int) -> None:
        if shiboken6.isValid(self):
            self.progress.emit(done, total)
        elif self._scan is not None:
            self._scan.cancel()  # nobody is watching any more

    def cancel(self) -> None:
        if self._scan is not None:
            self._scan.cancel()
