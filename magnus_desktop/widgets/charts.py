"""Time-series charts (pyqtgraph) with a date axis; one ``setData`` per update, 1-px pens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsView, QWidget


def to_epoch(days: Sequence[date]) -> np.ndarray:
    """Dates -> float64 UTC epoch seconds (what ``DayAxisItem`` expects), shape (n,)."""
    return np.array([datetime.combine(d, time(), tzinfo=UTC).timestamp() for d in days], dtype=np.float64)


DAY = 86_400.0
_DAY_STEPS = (1, 2, 5, 7, 14, 30, 61, 91, 182, 365)


class DayAxisItem(pg.AxisItem):
    """Bottom axis for daily data: ticks on whole days only, labelled ``Jan 05`` (never hours)."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom")

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        span_days = max((maxVal - minVal) / DAY, 1.0)
        wanted = span_days / max(size / 70.0, 1.0)  # about one label per 70 px
        step = next((s for s in _DAY_STEPS if s >= wanted), _DAY_STEPS[-1])
        return [(step * DAY, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [datetime.fromtimestamp(v, UTC).strftime("%b %d") for v in values]


class TimeSeriesChart(pg.PlotWidget):
    """A line chart over dates with named series; ``set_series`` replaces a series' data."""

    def __init__(self, title: str, y_label: str, parent: QWidget | None = None, *, zero_line: bool = False) -> None:
        super().__init__(parent=parent, axisItems={"bottom": DayAxisItem()})
        self.setTitle(title)
        self.setLabel("left", y_label)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMenuEnabled(False)
        self.getPlotItem().setClipToView(True)
        self.getPlotItem().setDownsampling(mode="peak")
        self.addLegend(offset=(10, 10))
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("left").setWidth(64)  # a fixed width: new tick labels never re-layout the chart
        self.getPlotItem().disableAutoRange()  # ranges are set once per update (auto-range repaints 5-6x)
        if zero_line:
            self.addLine(y=0, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DotLine))
        # one repaint of the whole chart per update instead of a cascade of small region repaints
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._colors: dict[str, str] = {}

    def apply_colors(self, colors: dict[str, str]) -> None:
        self.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(colors["fg"])
            self.getAxis(axis).setTextPen(colors["fg"])
        self._colors = colors
        for i, curve in enumerate(self._curves.values()):
            curve.setPen(pg.mkPen(colors["line" if i == 0 else "line2"], width=1))

    def set_series(self, name: str, days: Sequence[date], values: Sequence[float]) -> None:
        x, y = to_epoch(days), np.asarray(values, dtype=np.float64)
        curve = self._curves.get(name)
        if curve is None:
            color = self._colors.get("line" if not self._curves else "line2", "#4fa3ff")
            curve = self.plot(name=name, pen=pg.mkPen(color, width=1))
            self._curves[name] = curve
        curve.setData(x, y)
        self._fit_range()

    def _fit_range(self) -> None:
        """One explicit range for all series (a single point gets a day either side)."""
        xs = [c.xData for c in self._curves.values() if c.xData is not None and len(c.xData)]
        ys = [c.yData[np.isfinite(c.yData)] for c in self._curves.values() if c.yData is not None]
        ys = [y for y in ys if len(y)]
        if not xs or not ys:
            return
        x0, x1 = min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)
        y0, y1 = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
        if x1 - x0 < DAY:
            x0, x1 = x0 - DAY, x1 + DAY
        if y1 - y0 < 1e-9:
            y0, y1 = y0 - 1.0, y1 + 1.0
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.04)
