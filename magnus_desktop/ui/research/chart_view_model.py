"""The chart dock's view model: bars of the research symbol → indicators and zones (compute thread)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.research.chart import ChartData, chart_data
from magnus_desktop.services.research.gather import zone_params
from magnus_desktop.ui.research.common import SymbolFollower


class ChartViewModel(SymbolFollower):
    chart_changed = Signal(object)  # ChartData
    failed = Signal(str)  # what is missing, for the whole dock (no stale chart stays up)
    loading = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(ctx, parent)
        self.interval = "1d"
        self._request = 0
        self.last: ChartData | None = None
        self.reload_requested.connect(self.reload)

    def set_interval(self, interval: str) -> None:
        self.interval = interval
        self.changed()

    @asyncSlot()
    async def reload(self) -> None:
        """Fetch and compute the chart of the current symbol and day; the newest request wins."""
        if not self.alive() or self.day is None:
            return
        self._request += 1
        request, symbol, interval = self._request, self.symbol, self.interval
        # live sources answer "now"; offline the chart ends on the replay day
        day = date.today() if self.ctx.quotes.live_sources() else self.day
        self.loading.emit(f"Loading {symbol} {interval} bars…")
        try:
            bars = await self.ctx.research.bars(symbol, day, interval)  # type: ignore[arg-type]
            data = await self.ctx.run_compute(chart_data, symbol, bars, interval, day, zone_params(self.ctx.settings),
                                              str(bars.attrs.get("source", "")), self.ctx.settings.research.zone_lookback_days)
        except MarketDataError as exc:
            if self.alive() and request == self._request:
                self.last = None
                self.failed.emit(f"No {interval} bars for {symbol}: {exc}")
            return
        if not self.alive() or request != self._request:
            return  # deleted meanwhile, or a newer symbol/day was asked for
        self.last = data
        self.loaded()
        self.chart_changed.emit(data)
