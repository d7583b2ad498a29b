"""Payoff chart of an order ticket (pyqtgraph): it only draws curves computed elsewhere.

P&L (USD) over the underlying price (index points for SPX, USD per share for a stock): the curve at
expiry, the curve today (T+0, model-priced), a dotted zero line, breakevens marked with dots and
labelled, and the underlying now as a vertical line. Axes use plain thousands separators like the
other charts (``widgets.charts``); colours follow the theme (``ui.theme.chart_colors``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from magnus_desktop.widgets.charts import ThousandsAxis, format_tick, tick_decimals


class PriceAxis(ThousandsAxis):
    """Bottom axis with thousands separators (``ThousandsAxis`` is a left axis)."""

    def __init__(self) -> None:
        pg.AxisItem.__init__(self, orientation="bottom")
        self.enableAutoSIPrefix(False)


class PayoffChart(pg.PlotWidget):
    """P&L at expiry and today over the underlying price; ``set_curves`` replaces everything drawn."""

    def __init__(self, x_label: str = "Underlying (index points)", parent: QWidget | None = None) -> None:
        self.price_axis = PriceAxis()
        self.pnl_axis = ThousandsAxis()
        super().__init__(parent=parent, axisItems={"bottom": self.price_axis, "left": self.pnl_axis})
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.15)
        self.setLabel("left", "P&L (USD)")
        self.setLabel("bottom", x_label)
        self.pnl_axis.setWidth(64)
        self._colors = {"bg": "#000000", "fg": "#c8c8c8", "line": "#4fa3ff", "line2": "#f0ad4e", "zero": "#555a62"}
        self.expiry_curve = self.plot()
        self.today_curve = self.plot()
        self.zero_line = self.addLine(y=0)
        self.und_line = pg.InfiniteLine(angle=90, movable=False, label="", labelOpts={"position": 0.06})
        self.addItem(self.und_line)
        self.breakeven_dots = pg.ScatterPlotItem(size=8)
        self.addItem(self.breakeven_dots)
        self.breakeven_labels: list[pg.TextItem] = []
        self.empty_text = pg.TextItem("", anchor=(0.5, 0.5))
        self.addItem(self.empty_text)
        self._apply_pens()

    def apply_colors(self, colors: dict[str, str]) -> None:
        """Background ``bg``, text/axes ``fg``, expiry ``line``, today ``line2``, ``zero`` line."""
        self._colors = dict(colors)
        self._apply_pens()

    def _apply_pens(self) -> None:
        c = self._colors
        self.setBackground(c["bg"])
        for axis in (self.price_axis, self.pnl_axis):
            axis.setPen(c["fg"])
            axis.setTextPen(c["fg"])
        self.expiry_curve.setPen(pg.mkPen(c["line"], width=2))
        self.today_curve.setPen(pg.mkPen(c["line2"], width=1, style=Qt.PenStyle.DashLine))
        self.zero_line.setPen(pg.mkPen(c.get("zero", c["fg"]), width=1, style=Qt.PenStyle.DotLine))
        self.und_line.setPen(pg.mkPen(c["fg"], width=1, style=Qt.PenStyle.DashDotLine))
        self.und_line.label.setColor(c["fg"])
        self.breakeven_dots.setBrush(pg.mkBrush(c["fg"]))
        self.breakeven_dots.setPen(pg.mkPen(c["bg"]))
        self.setTitle(self.legend_html(), color=c["fg"], size="9pt")
        for label in self.breakeven_labels:
            label.setColor(c["fg"])
        self.empty_text.setColor(c["fg"])

    def legend_html(self) -> str:
        """The legend, in the title row (outside the plot area, so it never covers a curve)."""
        c = self._colors
        items = ((c["line"], "&#9472;&#9472;", "at expiry"),
                 (c["line2"], "- - -", "today (T+0)"),
                 (c["fg"], "&#9679;", "breakeven"), (c["fg"], "&#183;-&#183;", "underlying"))
        return "&nbsp;&nbsp;".join(f'<span style="color:{color}">{sample}</span>&nbsp;{text}'
                                   for color, sample, text in items)

    def set_curves(self, prices: np.ndarray, at_expiry: np.ndarray, today: np.ndarray,
                   breakevens: Sequence[float], und_price: float) -> None:
        """Draw both curves (USD over ``prices``, USD per share / index points), the breakevens and
        the underlying now (NaN = not drawn)."""
        self.empty_text.setText("")
        self.expiry_curve.setData(prices, at_expiry)
        finite_today = np.isfinite(today)
        self.today_curve.setData(prices[finite_today], today[finite_today])
        evens = [b for b in breakevens if prices[0] <= b <= prices[-1]]
        self.breakeven_dots.setData(evens, [0.0] * len(evens))
        for label in self.breakeven_labels:
            self.removeItem(label)
        self.breakeven_labels = []
        for b in evens:
            label = pg.TextItem(f"{b:,.2f}", color=self._colors["fg"], anchor=(0.5, 0.0))
            label.setPos(b, 0.0)
            self.addItem(label)
            self.breakeven_labels.append(label)
        self.und_line.setVisible(math.isfinite(und_price))
        if math.isfinite(und_price):
            self.und_line.setPos(und_price)
            self.und_line.label.setFormat(f"now {und_price:,.2f}")
        ys = np.concatenate([at_expiry[np.isfinite(at_expiry)], today[finite_today], [0.0]])
        lo, hi = float(ys.min()), float(ys.max())
        pad = 0.12 * (hi - lo) if hi > lo else 1.0
        self.setRange(xRange=(float(prices[0]), float(prices[-1])), yRange=(lo - pad, hi + pad), padding=0.0)
        width = 28 + max(self.fontMetrics().horizontalAdvance(format_tick(v, tick_decimals((hi - lo) / 6.0)))
                         for v in (lo - pad, hi + pad))
        self.pnl_axis.setWidth(width)

    def clear_curves(self, reason: str) -> None:
        """Nothing to draw (the order opens nothing, or a leg has no price): say why in the plot."""
        for item in (self.expiry_curve, self.today_curve, self.breakeven_dots):
            item.setData([], [])
        for label in self.breakeven_labels:
            self.removeItem(label)
        self.breakeven_labels = []
        self.und_line.setVisible(False)
        self.setRange(xRange=(0.0, 1.0), yRange=(-1.0, 1.0), padding=0.0)
        self.empty_text.setPos(0.5, 0.0)
        self.empty_text.setText(reason)
