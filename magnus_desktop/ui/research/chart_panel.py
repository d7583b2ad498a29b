"""The research Chart dock: candles, volume, overlays, RSI/MACD/ATR panes, zones (chart and table)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.zones import active_zones, zone_distance
from magnus_desktop.services.research.chart import ChartData
from magnus_desktop.ui.research.chart_view_model import ChartViewModel
from magnus_desktop.ui.research.common import FollowsDock
from magnus_desktop.ui.tables import record_table
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.candles import CandleChart, Overlay, ZoneBox
from magnus_desktop.widgets.formatting import fmt_num, fmt_pct
from magnus_desktop.widgets.table_model import Column, RecordTableModel

OVERLAYS: dict[str, tuple[Overlay, ...]] = {
    "SMA 20/50/200": (Overlay("sma_20", "SMA20", "#ffca28"), Overlay("sma_50", "SMA50", "#29b6f6"),
                      Overlay("sma_200", "SMA200", "#ab47bc")),
    "EMA 20/50/200": (Overlay("ema_20", "EMA20", "#ffe082"), Overlay("ema_50", "EMA50", "#81d4fa"),
                      Overlay("ema_200", "EMA200", "#ce93d8")),
    "Bollinger 20, 2σ": (Overlay("bb_upper", "BB up", "#90a4ae"), Overlay("bb_middle", "BB mid", "#78909c"),
                         Overlay("bb_lower", "BB low", "#90a4ae")),
    "VWAP (intraday)": (Overlay("vwap", "VWAP", "#ff7043"),),
}
ZONE_COLUMNS = (
    Column("kind", "Zone", str, numeric=False, tooltip="demand (a rally left a base) or supply (a drop left it)"),
    Column("low", "Low", fmt_num, tooltip="USD per share"),
    Column("high", "High", fmt_num, tooltip="USD per share"),
    Column("status", "Status", str, numeric=False, tooltip="fresh = untouched since it formed; tested = visited"),
    Column("tests", "Tests", lambda v: str(v), tooltip="separate visits into the zone"),
    Column("base", "Base", str, numeric=False, tooltip="first…last base candle"),
    Column("distance_pct", "Distance %", lambda v: fmt_pct(v, 2), tooltip="from the last close to the near edge"),
    Column("distance_atr", "Distance ATR", fmt_num, tooltip="the same distance in ATR(14)"),
    Column("strength", "Departure ATR", fmt_num, tooltip="the move away from the base, in ATR(14)"),
)


class ChartPanel(FollowsDock):
    def __init__(self, vm: ChartViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("research_chart_panel")
        self.vm = self.follower = vm
        self.symbol_edit = QLineEdit(vm.symbol)
        self.symbol_edit.setObjectName("research_symbol")
        self.symbol_edit.setMaximumWidth(110)
        self.symbol_edit.setToolTip("The research symbol (every research dock follows it); Enter to change")
        self.interval = QComboBox()
        for text, value in (("Daily", "1d"), ("Hourly", "1h"), ("5 minutes", "5m")):
            self.interval.addItem(text, value)
        self.interval.setToolTip("Bar size. The recorded offline data is daily; hourly and 5-minute bars need a "
                                 "live source (broker or Yahoo Finance)")
        self.checks: dict[str, QCheckBox] = {}
        top = QHBoxLayout()
        top.addWidget(QLabel("Symbol"))
        top.addWidget(self.symbol_edit)
        top.addWidget(self.interval)
        top.addStretch(1)
        overlays = QHBoxLayout()  # a row of its own: the dock stays narrow enough for a 1366-px screen
        for name in OVERLAYS:
            box = QCheckBox(name)
            box.setChecked(name.startswith("SMA"))
            box.toggled.connect(self._redraw)
            self.checks[name] = box
            overlays.addWidget(box)
        self.zones_box = QCheckBox("Zones")
        self.zones_box.setChecked(True)
        self.zones_box.toggled.connect(self._redraw)
        overlays.addWidget(self.zones_box)
        overlays.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("research_chart_status")
        self.chart = CandleChart()
        self.chart.apply_colors(chart_colors(vm.ctx.settings.theme))
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.chart)
        self.stack.addWidget(self.message)
        self.zone_model = RecordTableModel(ZONE_COLUMNS, key=lambda r: r["key"], parent=self)
        self.zone_table = record_table(self.zone_model, self, "research_zones")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.stack)
        split.addWidget(self.zone_table)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addLayout(overlays)
        box.addWidget(self.status)
        box.addWidget(split, 1)
        self.symbol_edit.returnPressed.connect(self._on_symbol_entered)
        self.interval.currentIndexChanged.connect(self._on_interval_changed)
        self._on_interval_changed()
        vm.symbol_changed.connect(self.symbol_edit.setText)
        vm.chart_changed.connect(self.show_chart)
        vm.failed.connect(self.show_missing)
        vm.loading.connect(self.status.setText)
        self._data: ChartData | None = None
        self.show_missing("Waiting for the first replay day…")

    def _on_interval_changed(self, *_args: object) -> None:
        intraday = self.interval.currentData() != "1d"
        vwap = self.checks["VWAP (intraday)"]
        vwap.setEnabled(intraday)
        vwap.setToolTip("Volume-weighted average price per session" if intraday else
                        "VWAP is an intraday measure: pick hourly or 5-minute bars")
        self.vm.set_interval(self.interval.currentData())

    def apply_theme(self, theme: str) -> None:
        self.chart.apply_colors(chart_colors(theme))

    def _on_symbol_entered(self) -> None:
        problem = self.vm.set_symbol(self.symbol_edit.text())
        if problem:
            self.status.setText(problem)

    def show_missing(self, text: str) -> None:
        """Nothing to chart: say what is missing (no older chart stays up as if current)."""
        self._data = None
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self.zone_model.set_records([])
        self.zone_model.flush()
        self.status.setText(text)

    def show_chart(self, data: ChartData) -> None:
        self._data = data
        if not data.days:
            self.show_missing(f"No bars for {data.symbol}.")
            return
        self.stack.setCurrentWidget(self.chart)
        self._redraw()
        note = f" — {data.note}" if data.note else ""
        self.status.setText(f"{data.symbol} · {len(data.days)} {data.interval} bars to "
                            f"{data.days[-1].date().isoformat()} · {data.source}{note}")

    def _redraw(self) -> None:
        data = self._data
        if data is None:
            return
        overlays = [ov for name, group in OVERLAYS.items() if self.checks[name].isChecked() for ov in group
                    if ov.key in data.indicators]
        active = active_zones(data.zones)
        n = len(data.days)
        boxes = [ZoneBox(z.base_start, n - 1, z.low, z.high, z.kind, z.status) for z in active] \
            if self.zones_box.isChecked() else []
        days = [d.date() if data.interval == "1d" else d for d in data.days]
        self.chart.set_data(days, data.open, data.high, data.low, data.close, data.volume, data.indicators,
                            overlays, boxes)
        self.zone_model.set_records([self._zone_record(z, data) for z in active])
        self.zone_model.flush()

    @staticmethod
    def _zone_record(z: Any, data: ChartData) -> dict[str, Any]:
        close = float(data.close[-1])
        atr_now = float(data.indicators["atr_14"][-1])
        pct, in_atr = zone_distance(z, close, atr_now)
        base = f"{data.days[z.base_start].date().isoformat()}…{data.days[z.base_end].date().isoformat()}"
        return {"key": (z.kind, z.base_start), "kind": z.kind, "low": z.low, "high": z.high, "status": z.status,
                "tests": z.tests, "base": base, "distance_pct": pct, "distance_atr": in_atr, "strength": z.strength}
