"""A candlestick chart with volume, overlays and indicator sub-panes (pyqtgraph).

The candles are drawn once into a cached ``QPicture`` (all bars but the last); the last bar is drawn
on its own, so a streaming update of the last bar (:meth:`CandlestickItem.set_last`) repaints one
candle, not thousands. Panes share the x axis: the *bar index* (0..n-1, no weekend gaps), labelled
with the bar dates. Each pane fits its y range to the bars in view whenever the x range changes.

Mouse: drag pans, wheel zooms (pyqtgraph's ViewBox). Keyboard (chart focused): ←/→ pan by a tenth
of the view, ↑/+ zoom in, ↓/- zoom out, Home = the last 150 bars, End = everything. A crosshair
follows the mouse and the line above the chart shows the values of the bar under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from magnus_desktop.widgets.charts import ThousandsAxis, TradingDayAxis

__all__ = ["CandleChart", "CandlestickItem", "Overlay", "ZoneBox"]

#: bars shown when a symbol is loaded (Home)
DEFAULT_VIEW = 150


class CandlestickItem(pg.GraphicsObject):
    """OHLC candles at x = 0..n-1 from a cached QPicture (all but the last bar) plus the last bar."""

    def __init__(self, up: str = "#26a69a", down: str = "#ef5350") -> None:
        super().__init__()
        self._up, self._down = QColor(up), QColor(down)
        self._picture = QPicture()
        self._ohlc = np.zeros((0, 4))
        self._bounds = QRectF()
        self.pictures_built = 0  # how often the cached picture was rebuilt (tests, benchmarks)

    def set_colors(self, up: str, down: str) -> None:
        self._up, self._down = QColor(up), QColor(down)
        self._rebuild()

    def set_bars(self, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> None:
        """Replace every bar (rebuilds the cached picture once)."""
        self._ohlc = np.column_stack([o, h, lo, c]).astype(np.float64) if len(c) else np.zeros((0, 4))
        self._rebuild()

    def set_last(self, o: float, h: float, lo: float, c: float) -> None:
        """Change only the last bar (the cached picture of the others is kept)."""
        if not len(self._ohlc):
            return
        self._ohlc[-1] = (o, h, lo, c)
        self._update_bounds()
        self.prepareGeometryChange()
        self.update()

    def _draw(self, p: QPainter, i: int, row: np.ndarray) -> None:
        o, h, lo, c = row
        if not (math.isfinite(o) and math.isfinite(c)):
            return
        color = self._up if c >= o else self._down
        p.setPen(QPen(color, 0))
        if math.isfinite(h) and math.isfinite(lo):
            p.drawLine(QPointF(i, lo), QPointF(i, h))
        p.setBrush(QBrush(color))
        top, bottom = max(o, c), min(o, c)
        p.drawRect(QRectF(i - 0.35, bottom, 0.7, max(top - bottom, 1e-9)))

    def _rebuild(self) -> None:
        self._picture = QPicture()
        painter = QPainter(self._picture)
        for i in range(len(self._ohlc) - 1):
            self._draw(painter, i, self._ohlc[i])
        painter.end()
        self.pictures_built += 1
        self._update_bounds()
        self.prepareGeometryChange()
        self.update()

    def _update_bounds(self) -> None:
        if not len(self._ohlc):
            self._bounds = QRectF()
            return
        lo, hi = np.nanmin(self._ohlc), np.nanmax(self._ohlc)
        self._bounds = QRectF(-1, float(lo), len(self._ohlc) + 1, float(hi - lo) or 1.0)

    def paint(self, p: QPainter, *_args: object) -> None:
        p.drawPicture(0, 0, self._picture)
        if len(self._ohlc):
            self._draw(p, len(self._ohlc) - 1, self._ohlc[-1])

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._bounds


@dataclass(frozen=True, slots=True)
class Overlay:
    """A line on the price pane: ``key`` in the indicator dict, legend ``label``, colour."""

    key: str
    label: str
    color: str


@dataclass(frozen=True, slots=True)
class ZoneBox:
    """A shaded rectangle: bars ``x0``..``x1`` (indices), prices ``low``..``high``, kind and status."""

    x0: int
    x1: int
    low: float
    high: float
    kind: str
    status: str


def _plot(axis_days: TradingDayAxis | None = None) -> pg.PlotItem:
    axes = {"left": ThousandsAxis()}
    if axis_days is not None:
        axes["bottom"] = axis_days
    item = pg.PlotItem(axisItems=axes)
    item.setMenuEnabled(False)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setClipToView(True)
    item.setDownsampling(mode="peak", auto=True)
    item.getAxis("left").setWidth(64)
    if axis_days is None:
        item.getAxis("bottom").setStyle(showValues=False)
    item.vb.setMouseEnabled(x=True, y=False)
    item.hideButtons()
    return item


class CandleChart(QWidget):
    """Candles + volume + RSI / MACD / ATR panes, overlays, zones, crosshair, zoom and pan."""

    PANES = ("volume", "rsi", "macd", "atr")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.readout = QLabel(" ")
        self.readout.setObjectName("chart_readout")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.day_axis = TradingDayAxis()
        self.price = _plot()
        self.panes = {name: _plot(self.day_axis if name == "atr" else None) for name in self.PANES}
        self.view.addItem(self.price, row=0, col=0)
        for row, name in enumerate(self.PANES, start=1):
            self.view.addItem(self.panes[name], row=row, col=0)
            self.panes[name].setXLink(self.price)
        layout = self.view.ci.layout
        for row, stretch in enumerate((5, 1, 1, 1, 1)):
            layout.setRowStretchFactor(row, stretch)
        for name, label in (("volume", "Vol"), ("rsi", "RSI 14"), ("macd", "MACD"), ("atr", "ATR 14")):
            self.panes[name].setLabel("left", label)
        self.candles = CandlestickItem()
        self.price.addItem(self.candles)
        self.volume = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#607d8b")
        self.panes["volume"].addItem(self.volume)
        self.macd_hist = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#78909c")
        self.panes["macd"].addItem(self.macd_hist)
        self._lines: dict[str, pg.PlotDataItem] = {}
        self._zone_items: list[QGraphicsRectItem] = []
        for y in (30.0, 70.0):
            self.panes["rsi"].addLine(y=y, pen=pg.mkPen("#888888", width=1, style=Qt.PenStyle.DashLine))
        self._vlines = [pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#9e9e9e", width=1))
                        for _ in range(1 + len(self.PANES))]
        self._hline = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#9e9e9e", width=1))
        for plot, line in zip([self.price, *self.panes.values()], self._vlines, strict=True):
            plot.addItem(line, ignoreBounds=True)
        self.price.addItem(self._hline, ignoreBounds=True)
        self._mouse = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)
        self.price.vb.sigXRangeChanged.connect(self._fit_y)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.readout)
        box.addWidget(self.view, 1)
        self._n = 0
        self._data: dict[str, np.ndarray] = {}
        self._days: list[date] = []

    # ---- data ---------------------------------------------------------------------------------
    def set_data(self, days: Sequence[date], o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                 volume: np.ndarray, indicators: dict[str, np.ndarray], overlays: Sequence[Overlay],
                 zones: Sequence[ZoneBox] = ()) -> None:
        """Show a new series (x = 0..n-1); the view goes to the last :data:`DEFAULT_VIEW` bars."""
        self._n = len(c)
        self._days = list(days)
        self.day_axis.days = self._days
        self._data = {"open": o, "high": h, "low": lo, "close": c, "volume": volume, **indicators}
        has_hl = bool(np.isfinite(h).any())
        self.candles.set_bars(o, h, lo, c) if has_hl else self.candles.set_bars(*(np.zeros(0),) * 4)
        x = np.arange(self._n, dtype=np.float64)
        vol = np.nan_to_num(volume, nan=0.0)
        self.volume.setOpts(x=x, height=vol, width=0.7)
        hist = np.nan_to_num(indicators.get("macd_hist", np.zeros(self._n)), nan=0.0)
        self.macd_hist.setOpts(x=x, height=hist, width=0.7)
        wanted = {("price", ov.key): ov.color for ov in overlays}
        if not has_hl:
            wanted[("price", "close")] = "#4fa3ff"
        wanted |= {("rsi", "rsi_14"): "#ab47bc", ("macd", "macd"): "#42a5f5", ("macd", "macd_signal"): "#ffa726",
                   ("atr", "atr_14"): "#8d6e63"}
        for key in [k for k in self._lines if k not in {f"{p}:{n}" for p, n in wanted}]:
            line = self._lines.pop(key)
            line.getViewBox().removeItem(line) if line.getViewBox() else None
        for (pane, key), color in wanted.items():
            name = f"{pane}:{key}"
            values = self._data.get(key, np.full(self._n, np.nan))
            if name not in self._lines:
                plot = self.price if pane == "price" else self.panes[pane]
                self._lines[name] = plot.plot(pen=pg.mkPen(color, width=1), connect="finite")
            self._lines[name].setData(x, np.asarray(values, dtype=np.float64))
        self.set_zones(zones)
        self.show_last(DEFAULT_VIEW)
        self.readout.setText(self.readout_text(self._n - 1) if self._n else " ")

    def set_zones(self, zones: Sequence[ZoneBox]) -> None:
        """Shaded rectangles: demand green, supply red; tested zones fainter."""
        for item in self._zone_items:
            self.price.vb.removeItem(item)
        self._zone_items = []
        for z in zones:
            color = QColor("#26a69a" if z.kind == "demand" else "#ef5350")
            color.setAlpha(70 if z.status == "fresh" else 35)
            rect = QGraphicsRectItem(QRectF(z.x0 - 0.5, z.low, z.x1 - z.x0 + 1, z.high - z.low))
            rect.setBrush(QBrush(color))
            rect.setPen(QPen(Qt.PenStyle.NoPen))
            rect.setZValue(-10)
            self.price.vb.addItem(rect, ignoreBounds=True)
            self._zone_items.append(rect)

    def apply_colors(self, colors: dict[str, str]) -> None:
        self.view.setBackground(colors["bg"])
        for plot in (self.price, *self.panes.values()):
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(colors["fg"])
                plot.getAxis(axis).setTextPen(colors["fg"])

    # ---- view ---------------------------------------------------------------------------------
    def show_last(self, bars: int) -> None:
        if self._n:
            self.price.setXRange(max(-0.5, self._n - bars - 0.5), self._n + 1.5, padding=0)

    def x_range(self) -> tuple[float, float]:
        lo, hi = self.price.vb.viewRange()[0]
        return float(lo), float(hi)

    def pan(self, fraction: float) -> None:
        lo, hi = self.x_range()
        step = (hi - lo) * fraction
        self.price.setXRange(lo + step, hi + step, padding=0)

    def zoom(self, factor: float) -> None:
        lo, hi = self.x_range()
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * factor
        half = max(half, 5.0)
        self.price.setXRange(mid - half, mid + half, padding=0)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        key = event.key()
        actions = {Qt.Key.Key_Left: lambda: self.pan(-0.1), Qt.Key.Key_Right: lambda: self.pan(0.1),
                   Qt.Key.Key_Up: lambda: self.zoom(0.8), Qt.Key.Key_Plus: lambda: self.zoom(0.8),
                   Qt.Key.Key_Equal: lambda: self.zoom(0.8), Qt.Key.Key_Down: lambda: self.zoom(1.25),
                   Qt.Key.Key_Minus: lambda: self.zoom(1.25), Qt.Key.Key_Home: lambda: self.show_last(DEFAULT_VIEW),
                   Qt.Key.Key_End: lambda: self.show_last(self._n + 2)}
        action = actions.get(Qt.Key(key))
        if action is None:
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def _fit_y(self, *_args: object) -> None:
        if not self._n:
            return
        lo, hi = self.x_range()
        a, b = max(0, int(math.floor(lo))), min(self._n, int(math.ceil(hi)) + 1)
        if a >= b:
            return
        d = self._data
        price_cols = [d["low"], d["high"], d["close"]] + [line.yData for name, line in self._lines.items()
                                                          if name.startswith("price:") and line.yData is not None]
        self._fit(self.price, np.concatenate([np.asarray(v)[a:b] for v in price_cols]))
        self._fit(self.panes["volume"], np.r_[0.0, d["volume"][a:b]])
        self._fit(self.panes["rsi"], np.r_[0.0, 100.0])
        self._fit(self.panes["macd"], np.r_[d.get("macd", np.zeros(1))[a:b], d.get("macd_signal", np.zeros(1))[a:b],
                                            d.get("macd_hist", np.zeros(1))[a:b]])
        self._fit(self.panes["atr"], d.get("atr_14", np.zeros(1))[a:b])

    @staticmethod
    def _fit(plot: pg.PlotItem, values: np.ndarray) -> None:
        v = values[np.isfinite(values)]
        if v.size:
            lo, hi = float(v.min()), float(v.max())
            pad = (hi - lo) * 0.05 or abs(hi) * 0.01 or 1.0
            plot.setYRange(lo - pad, hi + pad, padding=0)

    # ---- crosshair ----------------------------------------------------------------------------
    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self._n or not self.price.sceneBoundingRect().united(self.panes["atr"].sceneBoundingRect()).contains(pos):
            return
        point = self.price.vb.mapSceneToView(pos)
        i = int(round(point.x()))
        if not 0 <= i < self._n:
            return
        for line in self._vlines:
            line.setPos(i)
        if self.price.sceneBoundingRect().contains(pos):
            self._hline.setPos(point.y())
        self.readout.setText(self.readout_text(i))

    def readout_text(self, i: int) -> str:
        """The values of bar ``i`` as shown above the chart."""
        d = self._data

        def f(key: str, nd: int = 2) -> str:
            v = d.get(key)
            x = float(v[i]) if v is not None and i < len(v) else math.nan
            return f"{x:,.{nd}f}" if math.isfinite(x) else "—"

        day = self._days[i].isoformat() if i < len(self._days) else ""
        parts = [day, f"O {f('open')} H {f('high')} L {f('low')} C {f('close')}", f"V {f('volume', 0)}"]
        parts += [f"{name.split(':')[1].upper()} {f(name.split(':')[1])}" for name in self._lines
                  if name.startswith("price:") and name != "price:close"]
        parts += [f"RSI {f('rsi_14', 1)}", f"MACD {f('macd', 3)}/{f('macd_signal', 3)}", f"ATR {f('atr_14')}"]
        return "  ".join(parts)
