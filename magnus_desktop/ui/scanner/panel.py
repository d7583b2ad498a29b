"""Scanner dock: wheel-scanner filters, the ranked opportunities of the replay day, a sell ticket.

The panel never computes anything itself: filters become a :class:`ScanParams` that goes to
``vm.rescan``; every replay day (and every rescan) ``vm.scan_changed`` delivers a ``ScanOutcome``
whose rows (``SCAN_COLUMNS``, see ``analytics.scanner``) feed a coalescing table model. An empty
outcome carries its explanation (computed by the ``ScannerService`` off the GUI thread).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
from pydantic import ValidationError
from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.scanner import ScanError, ScanParams
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.scanner import ScanOutcome
from magnus_desktop.services.scanner.hints import MAX_DTE
from magnus_desktop.services.settings import ScannerSettings, describe_validation_error
from magnus_desktop.ui.orders.combo import ComboTicketDialog, replace_combo
from magnus_desktop.ui.orders.ticket import OrderTicketDialog, replace_ticket
from magnus_desktop.ui.scanner.view_model import ScannerViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_num, fmt_pct, is_missing
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import Column, Record, RecordTableModel, text_color

_RIGHTS = (("Puts", "P"), ("Calls", "C"), ("Both", "both"))
_SOURCES = (("Bid", "bid"), ("Mid", "mid"))
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_MAX_DTE = MAX_DTE


def _fmt_text(value: Any) -> str:
    return "" if value is None else str(value)


def _fmt_strike(value: Any) -> str:
    return fmt_num(value, 2).rstrip("0").rstrip(".") if not is_missing(value) else fmt_num(value)


#: Scanner table updates per second: a new scan per replay day or live tick batch, shown at most this
#: often (a full page repaints in ~6 ms); 5 Hz keeps a shown tick under 250 ms old
#: (``benchmarks/bench_ui_ticks.py``), the other tables flush at 8 Hz.
SCANNER_FLUSH_HZ = 5.0

SCAN_TABLE_COLUMNS: tuple[Column, ...] = (
    Column("underlying", "Root", _fmt_text, False, "Underlying option root as recorded in the chain (SPXW = SPX weekly/end-of-month options)."),
    Column("expiry", "Expiry", fmt_date, False, "Last trading day of the option."),
    Column("dte", "DTE", fmt_int, tooltip="Calendar days from the replay day to expiry."),
    Column("strike", "Strike", _fmt_strike, tooltip="Strike price, USD."),
    Column("right", "Right", _fmt_text, False, "P = put (cash-secured), C = call (covered)."),
    Column("bid", "Bid", tooltip="Recorded end-of-day bid, USD per share."),
    Column("ask", "Ask", tooltip="Recorded end-of-day ask, USD per share."),
    Column("mid", "Mid", tooltip="(bid + ask) / 2, USD per share."),
    Column("spread_pct", "Spread", lambda v: fmt_pct(v, 1), tooltip="Spread % = (ask − bid) / mid."),
    Column("open_interest", "OI", fmt_int, tooltip="Open interest, contracts (— when the source has none)."),
    Column("iv", "IV", lambda v: fmt_pct(v, 1),
           tooltip="Black-Scholes-Merton implied volatility of the mid price, annualised."),
    Column("delta", "Delta", lambda v: fmt_num(v, 3), tooltip="BSM delta per share at that IV (puts are negative)."),
    Column("prob_otm", "P(OTM)", lambda v: fmt_pct(v, 1),
           tooltip="Prob. OTM: risk-neutral probability of expiring out of the money: N(d2) for puts, N(−d2) for calls."),
    Column("return_on_collateral", "Ret/coll", lambda v: fmt_pct(v, 2),
           tooltip="Return on collateral = premium / strike (premium = bid or mid, as chosen in the filters)."),
    Column("annualized_return", "Annual", lambda v: fmt_pct(v, 1),
           tooltip="Annualized return = return on collateral × 365 / DTE."),
    Column("score", "Score", lambda v: fmt_num(v, 4),
           tooltip="annualized return × prob. OTM × (1 − min(spread %, 1)): the annualised return weighted by the "
                   "chance of keeping the premium and discounted by illiquidity. Rows are ranked by it."),
)


#: "Sell put spread…": the bought strike lies this many points further out of the money than the sold one
SPREAD_WIDTH = 25.0


def scan_key(record: Record) -> tuple[Any, ...]:
    return (record["expiry"], record["strike"], record["right"])


def contract_from_record(record: Mapping[str, Any]) -> OptionContract:
    """The option a scanner row describes."""
    expiry = record["expiry"]
    day = expiry if isinstance(expiry, date) else pd.Timestamp(expiry).date()
    return OptionContract(str(record["underlying"]), day, float(record["strike"]), record["right"])


def status_text(outcome: ScanOutcome) -> str:
    """The status line under the table: how many rows, which day, and what to loosen when none
    (the outcome's ``no_later_expiry`` or ``hints``)."""
    roots = sorted({str(u) for u in outcome.rows["underlying"]}) if len(outcome.rows) else ["SPXW"]
    where = f"on {outcome.day.isoformat()} ({', '.join(roots)} chain, {outcome.quotes})"
    n = len(outcome.rows)
    if n:
        return f"{n} {'opportunity' if n == 1 else 'opportunities'} {where}"
    if outcome.no_later_expiry is not None:
        return f"Nothing to sell {where}: {outcome.no_later_expiry}"
    hints = outcome.hints
    if not hints:
        return f"No quoted contract with a bid {where}."
    return f"No contract passes the filters {where}. Loosen: " + "; ".join(hints) + "."


#: Filters rescan this long after the last edit (typing "45" into DTE scans once, not twice).
RESCAN_DEBOUNCE_MS = 350


def settings_of(p: ScanParams) -> ScannerSettings:
    """The filter part of scan parameters, comparable with what the filter bar shows."""
    return ScannerSettings(
        right=p.right, dte_min=p.dte_min, dte_max=p.dte_max, delta_min=round(p.delta_min, 4),
        delta_max=round(p.delta_max, 4), min_open_interest=float(p.min_open_interest),
        max_spread_pct=round(p.max_spread_pct, 6), min_annualized_return=round(p.min_annualized_return, 6),
        premium_source=p.premium_source,
    )


class ScanFilterBar(QWidget):
    """The scanner's filter widgets; Enter anywhere in the bar requests a scan, and every edit
    emits ``filters_edited`` (the panel rescans, debounced)."""

    scan_requested = Signal()
    filters_edited = Signal()

    def __init__(self, params: ScanParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.right = _combo(_RIGHTS, "Which options to sell: cash-secured puts, covered calls, or both.")
        self.dte_min, self.dte_max = _spin(0, _MAX_DTE, "Days to expiry, minimum"), _spin(0, _MAX_DTE, "Days to expiry, maximum")
        self.delta_min = _dspin(0.0, 1.0, 0.05, 2, "", "|delta| minimum")
        self.delta_max = _dspin(0.0, 1.0, 0.05, 2, "", "|delta| maximum")
        self.min_oi = _spin(0, 1_000_000, "Minimum open interest, contracts (0 keeps rows without OI)")
        self.max_spread = _dspin(0.0, 1000.0, 1.0, 1, " %", "Maximum (ask − bid) / mid")
        self.min_annual = _dspin(0.0, 1000.0, 1.0, 1, " %", "Minimum annualized return on collateral")
        self.source = _combo(_SOURCES, "Premium used for the returns: the bid (what a sell order gets) or the mid.")
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip("Run the scanner on the replay day with these filters (Enter)")
        self.scan_button.clicked.connect(self.scan_requested)
        self._lay_out()
        self._setting = False
        self.set_params(params)
        for box in (self.right, self.source):
            box.currentIndexChanged.connect(self._on_edited)
        for spin in (self.dte_min, self.dte_max, self.delta_min, self.delta_max, self.min_oi, self.max_spread,
                     self.min_annual):
            spin.valueChanged.connect(self._on_edited)

    def _on_edited(self, *_args: object) -> None:
        if not self._setting:
            self.filters_edited.emit()

    def _lay_out(self) -> None:
        """Two rows (what to sell / how liquid and rich), so the dock stays narrow."""
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        first = [("Right", self.right), ("DTE", self.dte_min), ("–", self.dte_max), ("|Δ|", self.delta_min),
                 ("–", self.delta_max), ("Premium", self.source)]
        second = [("Min OI", self.min_oi), ("Max spread", self.max_spread), ("Min annual", self.min_annual)]
        for parts, extra in ((first, None), (second, self.scan_button)):
            row = QHBoxLayout()
            for text, widget in parts:
                label = QLabel(text)
                label.setBuddy(widget)
                row.addWidget(label)
                row.addWidget(widget)
            row.addStretch(1)
            if extra is not None:
                row.addWidget(extra)
            rows.addLayout(row)

    def set_params(self, p: ScanParams | ScannerSettings) -> None:
        self._setting = True
        try:
            self._set_params(p)
        finally:
            self._setting = False

    def _set_params(self, p: ScanParams | ScannerSettings) -> None:
        self.right.setCurrentIndex(self.right.findData(p.right))
        self.dte_min.setValue(p.dte_min)
        self.dte_max.setValue(p.dte_max)
        self.delta_min.setValue(p.delta_min)
        self.delta_max.setValue(p.delta_max)
        self.min_oi.setValue(int(p.min_open_interest))
        self.max_spread.setValue(p.max_spread_pct * 100.0)
        self.min_annual.setValue(p.min_annualized_return * 100.0)
        self.source.setCurrentIndex(self.source.findData(p.premium_source))

    def scanner_settings(self) -> ScannerSettings:
        """The filters as the persisted settings model (percent boxes become decimals).

        Raises:
            pydantic.ValidationError: a value outside the settings' bounds.
        """
        return ScannerSettings(
            right=self.right.currentData(), dte_min=self.dte_min.value(), dte_max=self.dte_max.value(),
            delta_min=round(self.delta_min.value(), 4), delta_max=round(self.delta_max.value(), 4),
            min_open_interest=float(self.min_oi.value()),
            max_spread_pct=round(self.max_spread.value() / 100.0, 6),
            min_annualized_return=round(self.min_annual.value() / 100.0, 6),
            premium_source=self.source.currentData(),
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in _ENTER_KEYS:
            self.scan_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


def _combo(items: tuple[tuple[str, str], ...], tip: str) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    box.setToolTip(tip)
    return box


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    box.setGroupSeparatorShown(True)
    return box


def _dspin(lo: float, hi: float, step: float, decimals: int, suffix: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    return box


class ScannerPanel(QWidget):
    """Filters + ranked wheel opportunities of the replay day + "Sell…" ticket."""

    def __init__(self, vm: ScannerViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanner_panel")
        self.vm = vm
        self.ticket_dialog: QDialog | None = None
        self.stale = False
        self.filters = ScanFilterBar(vm.scan_params)
        self.model = RecordTableModel(SCAN_TABLE_COLUMNS, scan_key, flush_hz=SCANNER_FLUSH_HZ, parent=self)
        self.table = record_table(self.model, self, "scanner_table")
        self.table.sortByColumn(len(SCAN_TABLE_COLUMNS) - 1, Qt.SortOrder.DescendingOrder)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.results = QStackedWidget()
        self.results.addWidget(self.table)
        self.results.addWidget(self.empty_label)
        self.status = QLabel("Waiting for the first scan of the replay day…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sell_button = QPushButton("Sell…")
        self.sell_button.setToolTip("Open a paper order ticket to sell 1 contract of the selected row (Enter)")
        self.spread_button = QPushButton("Sell put spread…")
        self.spread_button.setToolTip("A put credit spread: sell the selected put and buy one further out of the "
                                      "money (strikes from the chain)")
        self._lay_out()
        self._connect()
        if vm.last_scan is not None:
            self._on_vm_scan_changed(vm.last_scan)

    def _on_table_selection_changed(self, *_args: object) -> None:
        """The selected row's underlying becomes the research symbol (SPXW → SPX)."""
        record = self.table.selected_record()
        if record is not None:
            self.vm.pick_symbol(str(record["underlying"]))

    def _lay_out(self) -> None:
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.sell_button)
        bottom.addWidget(self.spread_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.filters)
        column.addWidget(self.results, 1)
        column.addLayout(bottom)

    def _connect(self) -> None:
        self._rescan_timer = QTimer(self)
        self._rescan_timer.setSingleShot(True)
        self._rescan_timer.setInterval(RESCAN_DEBOUNCE_MS)
        self._rescan_timer.timeout.connect(self.request_scan)
        self.filters.filters_edited.connect(self._on_filters_edited)
        self.filters.scan_requested.connect(self.request_scan)
        self.vm.scan_changed.connect(self._on_vm_scan_changed)
        self.vm.defaults_changed.connect(self.apply_default_filters)
        self.table.doubleClicked.connect(lambda index: self.open_ticket(index.row()))
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.sell_button.clicked.connect(lambda: self.open_ticket())
        self.spread_button.clicked.connect(lambda: self.open_spread_ticket())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        for key in _ENTER_KEYS:
            shortcut = QShortcut(QKeySequence(key), self.table, context=Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda: self.open_ticket())

    # ---- scanning -----------------------------------------------------------------------------
    def apply_default_filters(self, defaults: ScannerSettings) -> None:
        """Show the scanner defaults chosen in Settings and scan with them."""
        self.filters.set_params(defaults)
        self.request_scan()

    def _on_filters_edited(self) -> None:
        """The table no longer matches the filters: say so at once, rescan after the debounce."""
        self._set_stale(True, "Stale — filters changed; rescanning…")
        self._rescan_timer.start()

    def _set_stale(self, stale: bool, text: str = "") -> None:
        """Grey the results and say why while they do not match the filters."""
        self.stale = stale
        self.table.setEnabled(not stale)
        if stale:
            self._show_status(text, error=True)

    def _filters_match(self, params: ScanParams) -> bool:
        try:
            return self.filters.scanner_settings() == settings_of(params)
        except ValueError:  # invalid filters match nothing
            return False

    def request_scan(self) -> ScanParams | None:
        """Build the parameters from the filters, persist them, and ask the view model to rescan.

        Returns the parameters sent, or None when the filters are inconsistent (the status line
        then says why and nothing is sent).
        """
        try:
            chosen = self.filters.scanner_settings()
            params = self.vm.params_for(chosen)
        except (ScanError, ValueError) as exc:
            reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            self._set_stale(True, f"Stale — the table shows the last valid filters. Filters not valid, "
                                  f"nothing scanned: {reason}")
            return None
        self._rescan_timer.stop()
        self.vm.remember_filters(chosen)
        self._show_status("Scanning…")
        self.vm.rescan(params)
        return params

    def _on_vm_scan_changed(self, outcome: ScanOutcome) -> None:
        self.model.set_records(outcome.records)  # converted off the GUI thread
        if not self._filters_match(outcome.params):  # a day step scanned the last valid filters
            self._set_stale(True, f"Stale — results for {outcome.day} use the last valid filters, not the "
                                  "ones shown; fix the filters to rescan.")
            self.results.setCurrentWidget(self.table)
            return
        self._set_stale(False)
        text = status_text(outcome)
        self._show_status(text, error=False)
        set_label(self.empty_label, text)
        self.results.setCurrentWidget(self.empty_label if outcome.rows.empty else self.table)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        set_label(self.status, text, text_color("loss") if error else None)

    # ---- tickets ------------------------------------------------------------------------------
    def open_ticket(self, proxy_row: int | None = None) -> OrderTicketDialog | None:
        """Open the paper ticket prefilled to SELL 1 of the row's contract (selected row by default)."""
        record = self.table.selected_record() if proxy_row is None else self.table.record_at(proxy_row)
        if record is None:
            self._show_status("Select a row to sell first.", error=True)
            return None
        dialog = replace_ticket(self.ticket_dialog, self.vm.orders, contract_from_record(record), "SELL", 1, self)
        self.ticket_dialog = dialog
        return dialog

    def open_spread_ticket(self, proxy_row: int | None = None) -> ComboTicketDialog | None:
        """A vertical built from the row (selected by default): sell its option, buy the strike
        ``SPREAD_WIDTH`` points further out of the money (the nearest the chain lists)."""
        record = self.table.selected_record() if proxy_row is None else self.table.record_at(proxy_row)
        if record is None:
            self._show_status("Select a row to sell a spread from first.", error=True)
            return None
        short = contract_from_record(record)
        further = short.strike - SPREAD_WIDTH if short.right == "P" else short.strike + SPREAD_WIDTH
        dialog = replace_combo(self.ticket_dialog, self.vm.orders, "vertical", short.underlying, self,
                               right=short.right, expiry=short.expiry, strikes=(short.strike, further))
        self.ticket_dialog = dialog
        return dialog

    def context_menu(self, proxy_row: int) -> QMenu | None:
        """Sell… and Sell put spread… of the row (None for no row)."""
        if proxy_row < 0 or self.table.record_at(proxy_row) is None:
            return None
        menu = QMenu(self)
        right = self.table.record_at(proxy_row)["right"]  # type: ignore[index]
        spread = "Sell put spread…" if right == "P" else "Sell call spread…"
        for text, slot in (("Sell…", self.open_ticket), (spread, self.open_spread_ticket)):
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False, slot=slot: slot(proxy_row))
        return menu

    def _on_table_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.table.indexAt(pos).row())
        if menu is not None:
            menu.popup(self.table.viewport().mapToGlobal(pos))
