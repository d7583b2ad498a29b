"""Monthly realized P&L as bars (pyqtgraph ``BarGraphItem``): one bar per close month, green for a
gain, red for a loss, in the accounts' base currency."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from magnus_desktop.widgets.charts import ThousandsAxis
from magnus_desktop.widgets.table_model import TEXT_COLORS


class MonthAxis(pg.AxisItem):
    """Bottom axis labelled with ``YYYY-MM`` at the bar positions (every n-th when crowded)."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.months: list[str] = []

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802
        if not self.months:
            return []
        step = max(1, int(len(self.months) * 64 / max(size, 1.0)) + 1)
        return [(float(step), [float(i) for i in range(0, len(self.months), step) if minVal <= i <= maxVal])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [self.months[int(v)] if 0 <= int(v) < len(self.months) else "" for v in values]


class MonthlyPnLChart(pg.PlotWidget):
    """Bars of realized P&L per month; ``set_months`` replaces them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.month_axis = MonthAxis()
        super().__init__(parent=parent, axisItems={"bottom": self.month_axis, "left": ThousandsAxis()})
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=False, y=True, alpha=0.2)
        self.setLabel("left", "Realized P&L (base currency)")
        self.addLine(y=0, pen=pg.mkPen("#808080", width=1))
        self._bars: pg.BarGraphItem | None = None
        self._theme = "dark"
        self.values: list[float] = []

    def apply_colors(self, colors: dict[str, str], theme: str) -> None:
        """Chart colours (``ui.theme.chart_colors``) and the theme's gain/loss colours."""
        self._theme = theme
        self.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(colors["fg"])
            self.getAxis(axis).setTextPen(colors["fg"])
        self.setTitle("Realized P&L per month (FIFO)", color=colors["fg"], size="10pt")
        self.set_months(self.month_axis.months, self.values)

    def set_months(self, months: Sequence[str], values: Sequence[float]) -> None:
        """``months`` as ``YYYY-MM``; ``values`` the realized P&L of each, base currency."""
        self.month_axis.months = list(months)
        self.values = list(values)
        if self._bars is not None:
            self.removeItem(self._bars)
            self._bars = None
        if not self.values:
            self.setXRange(-0.5, 0.5, padding=0)
            self.setYRange(-1, 1, padding=0)
            return
        colors = TEXT_COLORS[self._theme]
        brushes = [pg.mkBrush(colors["gain"] if v >= 0 else colors["loss"]) for v in self.values]
        self._bars = pg.BarGraphItem(x=list(range(len(self.values))), height=self.values, width=0.7,
                                     brushes=brushes, pens=[pg.mkPen(None)] * len(self.values))
        self.addItem(self._bars)
        low, high = min(0.0, *self.values), max(0.0, *self.values)
        pad = (high - low) * 0.1 or 1.0
        self.setXRange(-0.6, len(self.values) - 0.4, padding=0)
        self.setYRange(low - pad, high + pad, padding=0)
        self.month_axis.picture = None
        self.month_axis.update()
