"""The Universe scan dock: filters and presets over watchlists, the S&P 500 or a file of tickers."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.screen import PRESETS, ScreenFilter
from magnus_desktop.services.research.sectors import GICS_SECTORS
from magnus_desktop.services.research.universe import ScanResult
from magnus_desktop.ui.research.scan_view_model import ScanViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_int, fmt_num, fmt_pct
from magnus_desktop.widgets.table_model import Column, RecordTableModel

CUSTOM = "custom filters"
SP500_MEMBER = "*sp500*"


def _opt(value: Any, fmt: Any = fmt_num) -> str:
    return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) else fmt(value)


COLUMNS = (
    Column("symbol", "Symbol", str, numeric=False),
    Column("sector", "Sector", lambda v: v or "—", numeric=False, tooltip="GICS sector (S&P 500 list)"),
    Column("price", "Price", fmt_num, tooltip="last close, USD"),
    Column("avg_volume_20", "Avg vol 20d", fmt_int, tooltip="average daily volume of 20 days, shares"),
    Column("rsi_14", "RSI 14", lambda v: _opt(v), tooltip="Wilder RSI(14), 0-100"),
    Column("dist_sma_50", "vs SMA50", lambda v: _opt(v, fmt_pct), tooltip="close / SMA(50) − 1"),
    Column("dist_sma_200", "vs SMA200", lambda v: _opt(v, fmt_pct), tooltip="close / SMA(200) − 1"),
    Column("iv_rank", "IV rank", lambda v: _opt(v), tooltip="0-100 over the recorded chain days (where a chain exists)"),
    Column("near_demand_atr", "Demand ATR", lambda v: _opt(v), tooltip="ATRs down to the nearest active demand zone"),
    Column("days_to_earnings", "Earnings in", lambda v: _opt(v, str), tooltip="calendar days (earnings file)"),
    Column("as_of", "As of", lambda v: v.isoformat() if isinstance(v, date) else str(v), numeric=False,
           tooltip="the last bar's day (the status line counts rows whose last bar is older than the scan day)"),
)


def _spin(lo: float, hi: float, decimals: int, step: float, special: str = "any") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSpecialValueText(special)  # the minimum means "no bound"
    box.setValue(lo)
    return box


class ScanPanel(QWidget):
    def __init__(self, vm: ScanViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("research_scan_panel")
        self.vm = vm
        self.universe = QComboBox()
        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, CUSTOM])
        self.file_button = QPushButton("Scan a file…")
        self.file_button.setToolTip("A text or CSV file of tickers (one per line or comma separated)")
        self.scan_button = QPushButton("Scan")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.price_min, self.volume_min = _spin(-1, 1e6, 2, 5), _spin(-1, 1e10, 0, 1e5)
        self.rsi_min, self.rsi_max = _spin(-1, 100, 1, 5), _spin(-1, 100, 1, 5)
        self.dist_min, self.dist_max = _spin(-101, 1000, 1, 1), _spin(-101, 1000, 1, 1)
        self.sma = QComboBox()
        self.sma.addItem("SMA 200", 200)
        self.sma.addItem("SMA 50", 50)
        self.iv_min = _spin(-1, 100, 0, 5)
        self.demand_max = _spin(-1, 100, 2, 0.25)
        self.earnings_clear = _spin(-1, 365, 0, 1)
        self.sector = QComboBox()
        self.sector.addItem("any sector", "")
        self.sector.addItem("any S&P 500 member", SP500_MEMBER)
        for s in GICS_SECTORS:
            self.sector.addItem(s, s)
        self.model = RecordTableModel(COLUMNS, key=lambda r: r["symbol"], parent=self)
        self.table = record_table(self.model, self, "research_scan_table")
        self.table.setToolTip("Double-click (or Enter) a row: it becomes the research symbol")
        self.status = QLabel("Pick a universe and a preset, then Scan. Offline only symbols with recorded "
                             "bars can be scanned; the others are listed.")
        self.status.setWordWrap(True)
        self._lay_out()
        self._connect()
        self._fill_universes()
        self._apply_preset()

    def _lay_out(self) -> None:
        # two filter pairs per row and the buttons on a row of their own: the dock stays narrow enough
        # for the window to fit a 1280-px screen beside the Dashboard
        top = QHBoxLayout()
        for w in (QLabel("Universe"), self.universe, QLabel("Preset"), self.preset):
            top.addWidget(w)
        top.addStretch(1)
        buttons = QHBoxLayout()
        for w in (self.scan_button, self.file_button, self.cancel_button, self.bar):
            buttons.addWidget(w)
        buttons.addStretch(1)
        form = QGridLayout()
        pairs = (("Price ≥", self.price_min), ("Avg volume ≥", self.volume_min), ("Sector", self.sector),
                 ("RSI ≥", self.rsi_min), ("RSI ≤", self.rsi_max), ("IV rank ≥", self.iv_min),
                 ("Distance to", self.sma), ("≥ %", self.dist_min), ("≤ %", self.dist_max),
                 ("Demand zone ≤ ATR", self.demand_max), ("No earnings within days", self.earnings_clear))
        for i, (label, w) in enumerate(pairs):
            row, col = divmod(i, 2)
            form.addWidget(QLabel(label), row, 2 * col, Qt.AlignmentFlag.AlignRight)
            form.addWidget(w, row, 2 * col + 1)
        form.setColumnStretch(4, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addLayout(buttons)
        box.addLayout(form)
        box.addWidget(self.table, 1)
        box.addWidget(self.status)

    def _connect(self) -> None:
        vm = self.vm
        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.scan_button.clicked.connect(lambda: self.start())
        self.file_button.clicked.connect(self._scan_file)
        self.cancel_button.clicked.connect(vm.cancel)
        self.table.doubleClicked.connect(lambda index: self._pick(index.row()))
        self.table.activated.connect(lambda index: self._pick(index.row()))
        vm.universes_changed.connect(self._fill_universes)
        vm.progress.connect(self._on_progress)
        vm.finished.connect(self.show_result)
        vm.failed.connect(self.status.setText)
        vm.running_changed.connect(self._on_running)
        vm.day_changed.connect(self._on_day_changed)
        for w in (self.price_min, self.volume_min, self.rsi_min, self.rsi_max, self.dist_min, self.dist_max,
                  self.iv_min, self.demand_max, self.earnings_clear):
            w.valueChanged.connect(self._on_edited)
        self.sector.currentIndexChanged.connect(self._on_edited)
        self.sma.currentIndexChanged.connect(self._on_edited)

    def _fill_universes(self) -> None:
        current = self.universe.currentText()
        self.universe.clear()
        self.universe.addItems(self.vm.universes())
        index = self.universe.findText(current)
        self.universe.setCurrentIndex(max(index, 0))

    # ---- filters --------------------------------------------------------------------------------
    def _apply_preset(self, *_args: object) -> None:
        name = self.preset.currentText()
        if name == CUSTOM:
            return
        f = PRESETS[name]
        self._loading = True
        try:
            for box, value, scale in ((self.price_min, f.price_min, 1), (self.volume_min, f.volume_min, 1),
                                      (self.rsi_min, f.rsi_min, 1), (self.rsi_max, f.rsi_max, 1),
                                      (self.dist_min, f.dist_sma_min, 100), (self.dist_max, f.dist_sma_max, 100),
                                      (self.iv_min, f.iv_rank_min, 1), (self.demand_max, f.near_demand_atr_max, 1),
                                      (self.earnings_clear, f.earnings_clear_days, 1)):
                box.setValue(box.minimum() if value is None else value * scale)
            self.sma.setCurrentIndex(self.sma.findData(f.sma))
            self.sector.setCurrentIndex(self.sector.findData(SP500_MEMBER if f.sp500_only else ""))
        finally:
            self._loading = False

    def _on_edited(self, *_args: object) -> None:
        if getattr(self, "_loading", False):
            return
        if self.preset.currentText() != CUSTOM:
            self.preset.blockSignals(True)
            self.preset.setCurrentText(CUSTOM)
            self.preset.blockSignals(False)
        if self.vm.last is not None:
            self.show_result(self.vm.last)  # filters apply to the rows already scanned

    def screen(self) -> ScreenFilter:
        """The filter the editors show (the minimum of an editor = no bound)."""
        def val(box: QDoubleSpinBox, scale: float = 1.0) -> float | None:
            return None if box.value() == box.minimum() else box.value() / scale

        sector = self.sector.currentData()
        member = sector == SP500_MEMBER
        clear = val(self.earnings_clear)
        return ScreenFilter(price_min=val(self.price_min), volume_min=val(self.volume_min), rsi_min=val(self.rsi_min),
                            rsi_max=val(self.rsi_max), sma=int(self.sma.currentData()),
                            dist_sma_min=val(self.dist_min, 100), dist_sma_max=val(self.dist_max, 100),
                            iv_rank_min=val(self.iv_min), sectors=frozenset({sector}) if sector and not member else frozenset(),
                            sp500_only=member,
                            earnings_clear_days=None if clear is None else int(clear),
                            near_demand_atr_max=val(self.demand_max))

    # ---- scan -----------------------------------------------------------------------------------
    def start(self, file: str = "") -> None:
        self.vm.start(self.universe.currentText(), self.screen(), file)

    def _scan_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Tickers to scan", "", "Text or CSV (*.txt *.csv);;All files (*)")
        if path:
            self.start(path)

    def _on_running(self, running: bool) -> None:
        self.scan_button.setEnabled(not running)
        self.file_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.bar.setVisible(running)
        if running:
            self.bar.setValue(0)
            self.status.setText("Scanning…")

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setMaximum(total)
        self.bar.setValue(done)
        self.status.setText(f"Scanning… {done} of {total} symbols")

    def show_result(self, result: ScanResult) -> None:
        from magnus_desktop.analytics.screen import passes

        screen = self.screen()
        result.matches = [r for r in result.rows if passes(r, screen)]
        self.model.set_records(result.matches)
        self.model.flush()
        self.status.setText(f"{result.universe} on {result.day.isoformat()} — {result.summary()}. "
                            f"Filter: {screen.describe()}.")

    def _on_day_changed(self, day: date) -> None:
        last = self.vm.last
        if last is not None and last.day != day:
            self.model.set_records([])
            self.model.flush()
            self.status.setText(f"The replay day changed to {day.isoformat()}: the scan of "
                                f"{last.day.isoformat()} was cleared — Scan again.")
            self.vm.last = None

    def _pick(self, row: int) -> None:
        record = self.table.record_at(row)
        if record is not None:
            self.vm.set_symbol(record["symbol"])
