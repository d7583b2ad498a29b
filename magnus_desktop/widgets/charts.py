"""Time-series charts (pyqtgraph) over trading days; one ``setData`` per update, 1-px pens.

Ranges change only when the data leaves them: the x range keeps ~10 % of trading days of room on
the right and the y range ~10 % above and below, so a replay day that adds one point repaints the
curve but leaves the axes (their ticks and labels, the costly part of a repaint) as they were.

The x axis is the *trading-day index* (0, 1, 2, … over the days the series have), labelled with
the dates, so weekends and holidays leave no gaps. The y axis shows plain numbers with thousands
separators (2,750 and 2,001,938, never pyqtgraph's SI-scaled "2.0 ×1e6"); the legend sits in the
title row, outside the plot area, so it never covers a curve. Axes and title paint from cached
pixmaps (``DeviceCoordinateCache``) until their content changes.
"""

from __future__ import annotations

import html
import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

#: Label steps of the day axis, in trading days (a week, a month, a quarter, half a year, a year).
_DAY_STEPS = (1, 2, 5, 10, 21, 42, 63, 126, 252, 504)


class TradingDayAxis(pg.AxisItem):
    """Bottom axis over trading-day indexes: ticks on whole days, labelled ``Jan 05`` (``Jan 2018``
    when a label spans a quarter or more)."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom")
        self.days: list[date] = []

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        span = max(maxVal - minVal, 1.0)
        wanted = span / max(size / 70.0, 1.0)  # about one label per 70 px
        step = next((s for s in _DAY_STEPS if s >= wanted), _DAY_STEPS[-1])
        return [(float(step), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        fmt = "%b %Y" if spacing >= 63 else "%b %d"
        out = []
        for v in values:
            i = round(v)
            out.append(self.days[i].strftime(fmt) if abs(v - i) < 1e-6 and 0 <= i < len(self.days) else "")
        return out


def tick_decimals(spacing: float) -> int:
    """Decimals that tell ticks ``spacing`` apart (0 for spacing >= 1, 1 for 0.5, 2 for 0.05, …)."""
    if not math.isfinite(spacing) or spacing <= 0 or spacing >= 1:
        return 0
    return min(int(math.ceil(-math.log10(spacing) - 1e-9)), 8)


def format_tick(value: float, decimals: int) -> str:
    """``2750`` -> ``2,750``; ``-1234.5`` (1 decimal) -> ``-1,234.5``; never ``-0``."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


class ThousandsAxis(pg.AxisItem):
    """Left axis: plain numbers with thousands separators, no SI prefix scaling."""

    def __init__(self) -> None:
        super().__init__(orientation="left")
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        decimals = tick_decimals(spacing * scale)
        return [format_tick(v * scale, decimals) for v in values]


class TimeSeriesChart(pg.PlotWidget):
    """A line chart over trading days with named series; ``set_series`` replaces a series' data."""

    def __init__(self, title: str, y_label: str, parent: QWidget | None = None, *, zero_line: bool = False) -> None:
        self.day_axis = TradingDayAxis()
        self.value_axis = ThousandsAxis()
        super().__init__(parent=parent, axisItems={"bottom": self.day_axis, "left": self.value_axis})
        self._title = title
        self.setLabel("left", y_label)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMenuEnabled(False)
        self.getPlotItem().setClipToView(True)
        self.getPlotItem().setDownsampling(mode="peak")
        self.value_axis.setWidth(60)  # a fixed width, changed only when the labels need more or less
        self.getPlotItem().disableAutoRange()  # ranges are set once per update (auto-range repaints 5-6x)
        self._zero_line = self.addLine(y=0, pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DotLine)) \
            if zero_line else None
        # one repaint of the whole chart per update instead of a cascade of small region repaints
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        # axes (ticks, labels and grid lines) and the title are drawn from pixmaps cached until they
        # change: a curve update repaints 0.4 ms instead of 5.5 ms (the axes' text was laid out again)
        plot_item = self.getPlotItem()
        for item in (self.day_axis, self.value_axis, self.day_axis.label, self.value_axis.label, plot_item.titleLabel):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._view: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 last set
        self._data: dict[str, tuple[list[date], np.ndarray]] = {}
        self._domain: list[date] = []
        self._colors: dict[str, str] = {"bg": "#000000", "fg": "#c8c8c8", "line": "#4fa3ff", "line2": "#f0ad4e"}
        self._update_title()

    @property
    def title_color(self) -> str:
        return str(self.getPlotItem().titleLabel.opts.get("color"))

    def apply_colors(self, colors: dict[str, str]) -> None:
        """Background ``bg``, text/axes ``fg`` and series ``line``/``line2`` (see ``ui.theme.chart_colors``)."""
        self._colors = dict(colors)
        self.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(colors["fg"])
            self.getAxis(axis).setTextPen(colors["fg"])
        if self._zero_line is not None and "zero" in colors:
            self._zero_line.setPen(pg.mkPen(colors["zero"], width=1, style=Qt.PenStyle.DotLine))
        for name, curve in self._curves.items():
            curve.setPen(pg.mkPen(self._series_color(name), width=1))
        self._update_title()

    def _series_color(self, name: str) -> str:
        index = list(self._curves).index(name) if name in self._curves else len(self._curves)
        return self._colors["line" if index == 0 else "line2"]

    @property
    def day_domain(self) -> list[date]:
        """The fixed x-axis days (empty: the range follows the data)."""
        return self._domain

    def set_day_domain(self, days: Sequence[date]) -> None:
        """Fix the x axis to ``days`` (ascending; e.g. every day of the replay): series are drawn
        at their day's place in it and the x range never moves while they grow, so the day axis
        is laid out once. An empty sequence goes back to ranges that follow the data."""
        self._domain = list(days)
        self._view = None
        if self._data:
            self._relayout_days()

    def set_series(self, name: str, days: Sequence[date], values: Sequence[float]) -> None:
        """Show ``values`` (one per day of ``days``, ascending) as the series ``name``."""
        self._data[name] = (list(days), np.asarray(values, dtype=np.float64))
        if name not in self._curves:
            self._curves[name] = self.plot(pen=pg.mkPen(self._series_color(name), width=1))
            self._update_title()
        if self._domain:
            self._relayout_days()
        elif len(self._data) == 1:  # one series (ascending days): x is simply its index
            days_list = self._data[name][0]
            self.day_axis.days = days_list
            self._curves[name].setData(np.arange(len(days_list), dtype=np.float64), self._data[name][1])
            self._fit_range(len(days_list))
        else:
            self._relayout_days()

    def _relayout_days(self) -> None:
        """x = index of the day among the day domain, or all series' trading days (the union, ascending)."""
        all_days = self._domain or sorted({d for days, _v in self._data.values() for d in days})
        self.day_axis.days = all_days
        for name, (days, values) in self._data.items():
            x = np.array([bisect_left(all_days, d) for d in days], dtype=np.float64)
            self._curves[name].setData(x, values)
        self._fit_range(len(all_days))

    def legend_html(self) -> str:
        """The legend: a line sample in each series' colour and its name (text in the ``fg`` colour)."""
        return "&nbsp;&nbsp;&nbsp;".join(
            f'<span style="color:{self._series_color(n)}">&#9472;&#9472;</span>&nbsp;{html.escape(n)}'
            for n in self._curves)

    def _update_title(self) -> None:
        """Title and legend share the title row (outside the plot area; no row of its own)."""
        legend = self.legend_html()
        text = html.escape(self._title) + (f'&nbsp;&nbsp;&nbsp;<span style="font-size:9pt">{legend}</span>'
                                           if legend else "")
        self.setTitle(text, color=self._colors["fg"], size="11pt")

    def _fit_range(self, n_days: int) -> None:
        """One explicit range for all series, changed only when the data leaves it (or fills less
        than half of it): room for ~10 % more days on the right (or the fixed day domain), ~10 % above
        and below, and 25 % on a side the data has left before."""
        ys = [v[np.isfinite(v)] for _d, v in self._data.values()]
        ys = [y for y in ys if len(y)]
        if not n_days or not ys:
            return
        lo, hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
        last = float(n_days - 1)
        room = float(max(5, math.ceil(n_days * 0.1)))
        view = self._view
        if self._domain:
            x0, x1 = 0.0, last
        elif view is None or last > view[1] or last < view[1] - 3 * room:
            x0, x1 = 0.0, last + room
        else:
            x0, x1 = view[0], view[1]
        if view is None or lo < view[2] or hi > view[3] or (hi - lo) < 0.5 * (view[3] - view[2]):
            pad = 0.1 * (hi - lo) if hi - lo > 1e-9 else 1.0
            y0, y1 = lo - pad, hi + pad
            if view is not None and (hi - lo) >= 0.5 * (view[3] - view[2]):
                # a trend left the range: leave 25 % headroom on that side, so the next few
                # updates fit without laying the value axis out again
                y0 = lo - 2.5 * pad if lo < view[2] else y0
                y1 = hi + 2.5 * pad if hi > view[3] else y1
        else:
            y0, y1 = view[2], view[3]
        if (x0, x1, y0, y1) == view:
            return
        self._view = (x0, x1, y0, y1)
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        self._fit_axis_width(y0, y1)

    def _fit_axis_width(self, y0: float, y1: float) -> None:
        """Widen/narrow the value axis to its widest label (only when that changes: no re-layout per tick)."""
        metrics = QFontMetrics(self.value_axis.style.get("tickFont") or self.font())
        decimals = tick_decimals((y1 - y0) / 8.0)
        widest = max(metrics.horizontalAdvance(format_tick(v, decimals)) for v in (y0, y1))
        width = widest + 28  # tick marks, text offset and room pyqtgraph under-reserves for the rotated label
        if abs(width - (self.value_axis.fixedWidth or 0)) > 4:
            self.value_axis.setWidth(width)
