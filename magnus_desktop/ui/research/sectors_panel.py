"""Sectors dock: the account's allocation by GICS sector (market value and delta-dollars), the
concentration warning (threshold in Settings → Flow & sectors), and relative strength against SPY
over 1/3/6/12 months for the sector ETFs and the research symbol, from whatever bars exist.

Formulas and units: ``analytics.sectors``; sectors: ``services.research.sectors`` (bundled S&P 500 list).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from magnus_desktop.analytics.sectors import RS_WINDOWS
from magnus_desktop.services.research.desk import SectorReport
from magnus_desktop.ui.research.desk_panel_base import DeskPanel, records
from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_money, fmt_pct
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color, text_color


def _text(v: Any) -> str:
    return "" if v is None else str(v)


ALLOCATION_COLUMNS = (
    Column("sector", "Sector", _text, False, "GICS sector (index options and ETFs: Unclassified)."),
    Column("positions", "Positions", fmt_int, tooltip="Positions in the sector."),
    Column("market_value", "Market value", lambda v: fmt_money(v, 0), color=pnl_color,
           tooltip="Sum of the positions' market values, USD (short options negative)."),
    Column("mv_share", "MV share", lambda v: fmt_pct(v, 1), tooltip="|market value| / the book's gross |market value|."),
    Column("delta_dollars", "Delta $", lambda v: fmt_money(v, 0), color=pnl_color,
           tooltip="Sum of delta (shares) × underlying price, USD."),
    Column("delta_share", "Delta share", lambda v: fmt_pct(v, 1),
           tooltip="|delta-dollars| / the book's gross |delta-dollars|."),
    Column("symbols", "Symbols", _text, False, "Underlyings in the sector."),
)


def _stale_color(v: Any) -> Any:
    return text_color("stale") if v else None


STRENGTH_COLUMNS = (
    Column("symbol", "Symbol", _text, False, "Sector ETF, the research symbol, or SPY."),
    Column("sector", "Sector", _text, False, "The sector the ETF stands for (or the symbol's GICS sector)."),
    Column("as_of", "As of", fmt_date, False, "Last session counted (older than the day shown: the series ended)."),
    Column("stale", "Stale", lambda v: "ended earlier" if v else "", False,
           "The series ends before the day shown: its figures are as of its last session.", color=_stale_color),
    *(c for w in RS_WINDOWS for c in (
        Column(f"ret_{w}", f"Return {w}", lambda v: fmt_pct(v, 1), color=pnl_color,
               tooltip=f"Price return over {RS_WINDOWS[w]} sessions."),
        Column(f"rs_{w}", f"vs SPY {w}", lambda v: fmt_pct(v, 1), color=pnl_color,
               tooltip=f"Return minus SPY's over the same {RS_WINDOWS[w]} sessions (— when the bars are shorter)."))),
)


class SectorsPanel(DeskPanel):
    """Allocation, concentration warning and relative strength."""

    def __init__(self, vm: DeskViewModel, parent: QWidget | None = None) -> None:
        super().__init__(vm, "research_sectors_panel", parent)
        self.warnings = QLabel()
        self.warnings.setObjectName("research_sectors_warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {text_color('loss').name()}; font-weight: bold;")
        self.allocation_model = RecordTableModel(ALLOCATION_COLUMNS, lambda r: r["sector"], parent=self)
        self.allocation = record_table(self.allocation_model, self, "research_sectors_allocation")
        self.strength_model = RecordTableModel(STRENGTH_COLUMNS, lambda r: r["symbol"], parent=self)
        self.strength = record_table(self.strength_model, self, "research_sectors_strength")
        self.strength_note = QLabel()
        self.strength_note.setWordWrap(True)
        lower = QWidget()
        col = QVBoxLayout(lower)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.strength_note)
        col.addWidget(self.strength, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.allocation)
        self.split.addWidget(lower)
        self.column.addWidget(self.warnings)
        self.column.addWidget(self.split, 1)
        self.set_notes([])
        self.warnings.hide()
        if vm.last_report is not None:
            self._on_vm_report_ready(vm.last_report)

    def set_figures_enabled(self, enabled: bool) -> None:
        self.split.setEnabled(enabled)
        self.warnings.setEnabled(enabled)

    def show_report(self, report: SectorReport) -> None:
        self.set_figures_enabled(True)
        sector = report.symbol_sector or "no GICS sector (not an S&P 500 member)"
        asof = f" · account as of {report.account_as_of.isoformat()}" if report.account_as_of else ""
        self.header.setText(f"<b>Sectors</b> · {report.day.isoformat()}{asof} · research symbol {report.symbol}: "
                            f"{sector}")
        self.allocation_model.set_records(records(report.allocation))
        self.warnings.setText("\n".join(report.warnings))
        self.warnings.setVisible(bool(report.warnings))
        rows = records(report.strength)
        self.strength_model.set_records(rows)
        stale = [r["symbol"] for r in rows if r.get("stale")]
        self.strength_note.setText(
            f"Relative strength vs SPY as of {report.day.isoformat()}"
            + (f"; {', '.join(stale)}: bars end earlier — measured as of their last session (see As of)." if stale
               else ".") + " Sector ETFs need bars (a broker session or Yahoo Finance): offline only the bundled "
            "SPY/AAPL/GOOG/SPX/VIX series exist.")
        self.set_notes(list(report.missing))
