"""Calendar-spreads dock: the research symbol's same-strike calendars (sell the near expiry, buy the
far one) ranked by the IV term-structure difference (or debit, theta, vega, breakeven width), with
the selected calendar's payoff at the near expiry and a combo ticket.

Formulas and units: ``analytics.calendars`` (per share in the table; the chart is per contract, USD).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.calendars import calendar_curves
from magnus_desktop.services.research.desk import CalendarReport, chain_symbol
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.research.desk_panel_base import DeskPanel, records
from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_num, fmt_pct
from magnus_desktop.widgets.payoff_chart import PayoffChart
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color


def _text(v: Any) -> str:
    return "" if v is None else str(v)


CALENDAR_COLUMNS = (
    Column("strike", "Strike", lambda v: fmt_num(v, 2), tooltip="The common strike, USD."),
    Column("right", "Right", _text, False, "C = call calendar, P = put calendar."),
    Column("near_expiry", "Sell", fmt_date, False, "The near expiry, sold."),
    Column("far_expiry", "Buy", fmt_date, False, "The far expiry, bought."),
    Column("near_dte", "Near DTE", fmt_int, tooltip="Calendar days to the near expiry."),
    Column("far_dte", "Far DTE", fmt_int, tooltip="Calendar days to the far expiry."),
    Column("near_iv", "Near IV", lambda v: fmt_pct(v, 1), tooltip="BSM implied volatility of the near leg's mid."),
    Column("far_iv", "Far IV", lambda v: fmt_pct(v, 1), tooltip="BSM implied volatility of the far leg's mid."),
    Column("iv_diff", "IV diff", lambda v: fmt_pct(v, 1), color=pnl_color,
           tooltip="Near IV − far IV (vol points): > 0 = the sold month is the richer one."),
    Column("net_debit", "Debit", lambda v: fmt_num(v, 2), tooltip="Far mid − near mid, USD per share."),
    Column("natural_debit", "Natural", lambda v: fmt_num(v, 2), tooltip="Far ask − near bid, USD per share."),
    Column("theta", "Theta/day", lambda v: fmt_num(v, 4), color=pnl_color,
           tooltip="USD per share per calendar day (both legs at their own IV)."),
    Column("vega", "Vega", lambda v: fmt_num(v, 4), tooltip="USD per share per vol point (both IVs together)."),
    Column("delta", "Delta", lambda v: fmt_num(v, 3), tooltip="Per share."),
    Column("gamma", "Gamma", lambda v: fmt_num(v, 4), tooltip="Per USD, per share."),
    Column("breakeven_low", "BE low", lambda v: fmt_num(v, 2),
           tooltip="Lower breakeven at the near expiry (far leg priced by BSM at its IV), USD."),
    Column("breakeven_high", "BE high", lambda v: fmt_num(v, 2), tooltip="Upper breakeven at the near expiry, USD."),
    Column("max_profit", "Max profit", lambda v: fmt_num(v, 2),
           tooltip="P&L at the strike at the near expiry, USD per share."),
)
SORTS = (("IV difference (near − far)", "iv_diff"), ("Net debit (cheapest)", "net_debit"),
         ("Theta per day", "theta"), ("Vega", "vega"), ("Breakeven range width", "breakeven_width"),
         ("Max profit", "max_profit"))


def calendar_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["strike"], r["right"], r["near_expiry"], r["far_expiry"])


class CalendarsPanel(DeskPanel):
    """Ranked calendars, the selected one's payoff at the near expiry, and its combo ticket."""

    def __init__(self, vm: DeskViewModel, orders: OrdersViewModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(vm, "research_calendars_panel", parent)
        self.orders = orders
        self.ticket_dialog: QDialog | None = None
        self.report: CalendarReport | None = None
        self.right = QComboBox()
        self.right.setObjectName("calendars_right")
        for text, value in (("Calls and puts", "both"), ("Calls", "C"), ("Puts", "P")):
            self.right.addItem(text, value)
        self.sort = QComboBox()
        self.sort.setObjectName("calendars_sort")
        for text, value in SORTS:
            self.sort.addItem(text, value)
        self.ticket_button = QPushButton("Open ticket…")
        self.ticket_button.setToolTip("A calendar combo ticket for the selected row (sell near, buy far)")
        self.ticket_button.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.right)
        bar.addWidget(QLabel("Rank by"))
        bar.addWidget(self.sort)
        bar.addStretch(1)
        bar.addWidget(self.ticket_button)
        self.column.addLayout(bar)
        self.model = RecordTableModel(CALENDAR_COLUMNS, calendar_key, parent=self)
        self.table = record_table(self.model, self, "research_calendars_table")
        self.table.setSortingEnabled(False)  # the ranking is the order
        self.chart = PayoffChart("Underlying at the near expiry")
        self.chart.setMinimumHeight(180)
        self.chart.apply_colors(chart_colors(vm.theme()))
        self.chart_note = QLabel()
        self.chart_note.setWordWrap(True)
        lower = QWidget()
        col = QVBoxLayout(lower)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.chart_note)
        col.addWidget(self.chart, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.table)
        self.split.addWidget(lower)
        self.column.addWidget(self.split, 1)
        self.right.currentIndexChanged.connect(lambda: vm.set_option("right", self.right.currentData()))
        self.sort.currentIndexChanged.connect(lambda: vm.set_option("sort_by", self.sort.currentData()))
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.model.modelReset.connect(self._on_table_selection_changed)
        self.model.rowsInserted.connect(self._select_first)
        self.ticket_button.clicked.connect(self.open_ticket)
        self.set_notes([])
        self.chart.clear_curves("Pick a calendar to see its payoff at the near expiry.")
        if vm.last_report is not None:
            self._on_vm_report_ready(vm.last_report)

    def set_figures_enabled(self, enabled: bool) -> None:
        self.split.setEnabled(enabled)
        self.ticket_button.setEnabled(enabled and self.selected() is not None and self.orders is not None)

    def show_report(self, report: CalendarReport) -> None:
        self.report = report
        self.set_figures_enabled(True)
        expiries = ", ".join(e.isoformat() for e in report.expiries) or "none"
        self.header.setText(f"<b>{report.symbol}</b> calendar spreads · {report.day.isoformat()} · {report.source} · "
                            f"expiries {expiries} · rate {fmt_pct(report.rate, 2)}, dividend yield "
                            f"{fmt_pct(report.div_yield, 2)}")
        self.model.set_records(records(report.rows))
        self.set_notes(list(report.missing))
        if report.rows.empty:
            self.chart.clear_curves("No calendar to draw.")
            self.chart_note.setText("")

    def _select_first(self, *_args: object) -> None:
        if self.selected() is None and self.model.rowCount() > 0:
            self.table.selectRow(0)

    def selected(self) -> dict[str, Any] | None:
        record = self.table.selected_record()
        return dict(record) if record is not None else None

    def _on_table_selection_changed(self, *_args: object) -> None:
        row = self.selected()
        self.ticket_button.setEnabled(row is not None and self.orders is not None and not self.stale)
        if row is None or self.report is None:
            return
        self.draw(row)

    def draw(self, row: dict[str, Any]) -> None:
        """The payoff of ``row`` per contract: at the near expiry (far leg at its IV) and today."""
        r = self.report
        assert r is not None
        prices, at_near, now = calendar_curves(row["right"], row["strike"], row["und_price"], row["near_dte"],
                                               row["far_dte"], row["near_iv"], row["far_iv"], row["net_debit"],
                                               r.rate, r.div_yield)
        evens = [b for b in (row["breakeven_low"], row["breakeven_high"]) if isinstance(b, float) and math.isfinite(b)]
        self.chart.set_curves(prices, at_near, now, evens, row["und_price"])
        kind = "call" if row["right"] == "C" else "put"
        self.chart_note.setText(
            f"{fmt_num(row['strike'], 2)} {kind} calendar, sell {row['near_expiry']} / buy {row['far_expiry']}, "
            f"debit {fmt_num(row['net_debit'] * 100, 2)} USD per contract. Solid: P&L at the near expiry with the far "
            f"leg priced by Black-Scholes at its IV ({fmt_pct(row['far_iv'], 1)}); dashed: today at both legs' IVs.")

    def open_ticket(self) -> QDialog | None:
        """A calendar combo ticket for the selected row (the order rules preview and price it)."""
        row = self.selected()
        if row is None or self.orders is None or self.report is None:
            return None
        from magnus_desktop.ui.orders.combo import replace_combo

        self.ticket_dialog = replace_combo(self.ticket_dialog, self.orders, "calendar", chain_symbol(self.report.symbol),
                                           self, right=row["right"], expiry=row["near_expiry"],
                                           far_expiry=row["far_expiry"], strikes=(float(row["strike"]),))
        return self.ticket_dialog
