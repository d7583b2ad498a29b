"""Time-series charts (pyqtgraph) with a date axis; one ``setData`` per update, 1-px pens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def to_epoch(days: Sequence[date]) -> np.ndarray:
    """Dates -> float64 UTC epoch seconds (what ``DateAxisItem`` expects), shape (n,)."""
    return np.array([datetime.combine(d, time(), tzinfo=UTC).timestamp() for d in days], dtype=np.float64)


class TimeSeriesChart(pg.PlotWidget):
    """A line chart over dates with named series; ``set_series`` replaces a series' data."""

    def __init__(self, title: str, y_label: str, parent: QWidget | None = None, *, zero_line: bool = False) -> None:
        super().__init__(parent=parent, axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.setTitle(title)
        self.setLabel("left", y_label)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMenuEnabled(False)
        self.getPlotItem().setClipToView(True)
        self.getPlotItem().setDownsampling(mode="peak")
        self.addLegend(offset=(10, 10))
        self.getAxis("left").enableAutoSIPrefix(False)
        if zero_line:
            self.addLine(y=0, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DotLine))
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

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        curve = self._curves.get(name)
        if curve is None:
            return None
        x, y = curve.getData()
        return (np.asarray(x), np.asarray(y))
