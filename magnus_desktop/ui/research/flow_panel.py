"""Options-flow dock: the research symbol's contracts with unusual activity on the day shown, ranked,
with the day's context (underlying move, call/put volume, open-interest change by side).

Screens and units: ``analytics.options_flow`` (thresholds in Settings → Flow & sectors).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from magnus_desktop.services.research.desk import FlowReport
from magnus_desktop.ui.research.desk_panel_base import DeskPanel, records
from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_signed_int
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color


def _text(v: Any) -> str:
    return "" if v is None else str(v)


FLOW_COLUMNS = (
    Column("expiry", "Expiry", fmt_date, False, "Last trading day of the option."),
    Column("dte", "DTE", fmt_int, tooltip="Calendar days from the day shown to expiry."),
    Column("strike", "Strike", lambda v: fmt_num(v, 2), tooltip="Strike price, USD."),
    Column("right", "Right", _text, False, "C = call, P = put."),
    Column("volume", "Volume", fmt_int, tooltip="Contracts traded on the day shown."),
    Column("open_interest", "OI", fmt_int, tooltip="Open interest reported on the day shown, contracts."),
    Column("vol_oi", "Vol/OI", lambda v: fmt_num(v, 2), tooltip="Volume / open interest (— when OI is 0)."),
    Column("avg_volume", "Avg vol", lambda v: fmt_num(v, 0),
           tooltip="The contract's mean volume over its previous quote days (Settings: look-back)."),
    Column("volume_jump", "Jump", lambda v: fmt_num(v, 1), tooltip="Volume / its own average volume."),
    Column("premium", "Premium", lambda v: fmt_money(v, 0), tooltip="Volume × mid × 100, USD traded at the mid."),
    Column("oi_change", "OI chg", fmt_signed_int, color=pnl_color,
           tooltip="Open interest minus the previous quote day's, contracts: the positions left by the previous "
                   "session's trades (open interest is counted overnight)."),
    Column("oi_change_pct", "OI chg %", lambda v: fmt_pct(v, 1), color=pnl_color,
           tooltip="OI change / previous open interest."),
    Column("mid", "Mid", lambda v: fmt_num(v, 2), tooltip="(bid + ask) / 2, USD per share."),
    Column("activity_usd", "Activity", lambda v: fmt_money(v, 0),
           tooltip="Rank: max(premium traded, |OI change| × mid × 100), USD."),
    Column("reasons", "Why", _text, False, "The screens the contract passed.", max_width=320),
)


def flow_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["underlying"], r["expiry"], r["strike"], r["right"])


class FlowPanel(DeskPanel):
    """Ranked unusual activity of the research symbol's chain."""

    def __init__(self, vm: DeskViewModel, parent: QWidget | None = None) -> None:
        super().__init__(vm, "research_flow_panel", parent)
        self.context = self.header  # the header line carries the day's context
        self.model = RecordTableModel(FLOW_COLUMNS, flow_key, parent=self)
        self.table = record_table(self.model, self, "research_flow_table")
        self.table.sortByColumn(len(FLOW_COLUMNS) - 2, Qt.SortOrder.DescendingOrder)
        self.column.addWidget(self.table, 1)
        self.set_notes([])
        if vm.last_report is not None:
            self._on_vm_report_ready(vm.last_report)

    def set_figures_enabled(self, enabled: bool) -> None:
        self.table.setEnabled(enabled)

    def show_report(self, report: FlowReport) -> None:
        self.set_figures_enabled(True)
        self.header.setText(self._context_text(report))
        self.model.set_records(records(report.rows))
        notes = list(report.missing)
        if not notes and report.rows.empty:
            notes.append("No contract passes the screens on this day (Settings → Flow & sectors).")
        self.set_notes(notes)

    def _context_text(self, r: FlowReport) -> str:
        head = f"<b>{r.symbol}</b> options flow · {r.day.isoformat()}"
        if r.context is None or r.context.empty:
            return head
        c = r.context.iloc[0]
        move = f" ({fmt_pct(c['und_change'], 2)})" if c["und_change"] == c["und_change"] else ""
        session = f" from {r.history[-1].isoformat()}'s trades" if r.history else ""
        return (f"{head} · {r.source}<br>{c['underlying']} {fmt_num(c['und_price'], 2)}{move} · "
                f"calls {fmt_int(c['call_volume'])} / puts {fmt_int(c['put_volume'])} → C/P "
                f"{fmt_num(c['cp_volume_ratio'], 2)} · premium calls {fmt_money(c['call_premium'], 0)} / puts "
                f"{fmt_money(c['put_premium'], 0)} · OI change{session}: calls {fmt_signed_int(c['call_oi_change'])}"
                f" / puts {fmt_signed_int(c['put_oi_change'])} · {int(c['flagged'])} contracts flagged")
