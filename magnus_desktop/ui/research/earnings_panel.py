"""Earnings dock: the report calendar of the watchlist and position symbols with the expected move
from the at-the-money straddle, the option positions that hold through a report, and the research
symbol's price reaction to its past reports.

Formulas and units: ``analytics.earnings``; sources: ``services.research.earnings`` (the user's file,
then Yahoo Finance; offline without a file the dock says there is no source).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from magnus_desktop.services.research.desk import EarningsReport
from magnus_desktop.ui.research.desk_panel_base import DeskPanel, records
from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_num, fmt_pct
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color, text_color


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _risk_color(v: Any) -> Any:
    return text_color("loss") if v == "yes" else None


CALENDAR_COLUMNS = (
    Column("symbol", "Symbol", _text, False, "Underlying symbol."),
    Column("in", "In", _text, False, "Where it is tracked: watchlist, position or both."),
    Column("next_report", "Next report", fmt_date, False, "First report date after the day shown."),
    Column("days_to_report", "Days", fmt_int, tooltip="Calendar days from the day shown to the report."),
    Column("expected_move", "Exp. move", lambda v: fmt_num(v, 2),
           tooltip="At-the-money straddle (call mid + put mid) of the first expiry on or after the report, USD."),
    Column("expected_move_pct", "Exp. move %", lambda v: fmt_pct(v, 1), tooltip="Straddle / underlying price."),
    Column("straddle_expiry", "Straddle expiry", fmt_date, False, "Expiry of the straddle used."),
    Column("straddle_strike", "Strike", lambda v: fmt_num(v, 2), tooltip="The straddle's strike (nearest the price)."),
    Column("source", "Dates from", _text, False, "Where the report dates came from (file or yfinance)."),
    Column("status", "Missing", _text, False, "What could not be found for this symbol.", max_width=360),
)
RISK_COLUMNS = (
    Column("description", "Position", _text, False, "The option position."),
    Column("expiry", "Expiry", fmt_date, False, "The option's expiry."),
    Column("next_report", "Next report", fmt_date, False, "The underlying's next report date."),
    Column("days_to_report", "Days", fmt_int, tooltip="Calendar days to the report."),
    Column("risk", "Through report", _text, False, "yes = the report falls on or before the expiry.",
           color=_risk_color),
    Column("note", "Note", _text, False, "Why the risk is unknown, or why there is none.", max_width=360),
)
REACTION_COLUMNS = (
    Column("report", "Report", fmt_date, False, "Report date (before the open or after the close: unknown)."),
    Column("before", "From", fmt_date, False, "Last session before the report date."),
    Column("after", "To", fmt_date, False, "First session after the report date."),
    Column("close_before", "Close before", lambda v: fmt_num(v, 2), tooltip="USD per share."),
    Column("close_after", "Close after", lambda v: fmt_num(v, 2), tooltip="USD per share."),
    Column("move", "Move", lambda v: fmt_pct(v, 2), color=pnl_color, tooltip="Close after / close before − 1."),
)


class EarningsPanel(DeskPanel):
    """Calendar, position risk and past reactions; every missing source or chain is said."""

    def __init__(self, vm: DeskViewModel, parent: QWidget | None = None) -> None:
        super().__init__(vm, "research_earnings_panel", parent)
        self.calendar_model = RecordTableModel(CALENDAR_COLUMNS, lambda r: r["symbol"], parent=self)
        self.calendar = record_table(self.calendar_model, self, "research_earnings_calendar")
        self.risk_model = RecordTableModel(RISK_COLUMNS, lambda r: (r["description"], r["expiry"]), parent=self)
        self.risk = record_table(self.risk_model, self, "research_earnings_risk")
        self.reaction_model = RecordTableModel(REACTION_COLUMNS, lambda r: r["report"], parent=self)
        self.reactions = record_table(self.reaction_model, self, "research_earnings_reactions")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.calendar, "Calendar")
        self.tabs.addTab(self.risk, "Position risk")
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.summary)
        col.addWidget(self.reactions, 1)
        self.tabs.addTab(page, "Past reactions")
        self.column.addWidget(self.tabs, 1)
        self.set_notes([])
        if vm.last_report is not None:
            self._on_vm_report_ready(vm.last_report)

    def set_figures_enabled(self, enabled: bool) -> None:
        self.tabs.setEnabled(enabled)

    def show_report(self, report: EarningsReport) -> None:
        self.set_figures_enabled(True)
        cal = records(report.calendar)
        risk = records(report.risk)
        for row in risk:
            row["risk"] = "yes" if row["at_risk"] else ("no" if row["known"] else "unknown")
        at_risk = sum(1 for r in risk if r["at_risk"])
        self.header.setText(f"<b>Earnings</b> · {report.day.isoformat()} · {len(cal)} watchlist/position symbols · "
                            f"{at_risk} option position{'s' if at_risk != 1 else ''} through a report")
        self.calendar_model.set_records(cal)
        self.risk_model.set_records(risk)
        self.reaction_model.set_records(records(report.reactions))
        self.tabs.setTabText(2, f"Past reactions ({report.symbol})")
        s = report.summary
        if s and s.get("n"):
            self.summary.setText(
                f"{report.symbol}: {s['n']} reports in the bars · mean |move| {fmt_pct(s['mean_abs_move'], 2)}, "
                f"median {fmt_pct(s['median_abs_move'], 2)}, largest up {fmt_pct(s['max_up'], 2)}, down "
                f"{fmt_pct(s['max_down'], 2)} · an ordinary two-session move: {fmt_pct(s['baseline_abs_move'], 2)} "
                f"(reports move it {fmt_num(s['ratio'], 1)}×). Move = close of the first session after the report "
                f"date / close of the last session before it − 1.")
        else:
            self.summary.setText(f"No past report of {report.symbol} to measure.")
        notes = list(report.missing)
        if not cal:
            notes.append("No watchlist or position symbol with earnings (index options have none).")
        if not risk:
            notes.append("No option position held.")
        self.set_notes(notes)
