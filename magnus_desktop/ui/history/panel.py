"""Trade-history dock: closed trades with FIFO realized P&L, the wheel cycle per underlying, and
realized P&L per month as bars. The history loads off the GUI thread; an import refreshes it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from magnus_desktop.analytics.realized import LotMatch
from magnus_desktop.analytics.wheel import WheelCycle
from magnus_desktop.services.history import HistorySnapshot
from magnus_desktop.ui.history.chart import MonthlyPnLChart
from magnus_desktop.ui.history.import_dialog import ImportDialog
from magnus_desktop.ui.history.view_model import HistoryViewModel, ImportViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.formatting import MISSING, fmt_date, fmt_num
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color

#: the table shows the newest closed lots; the header says how many there are in all
MAX_LOTS = 5_000


def _qty(value: Any) -> str:
    return MISSING if value is None else f"{value:+,g}"


def _amount(value: Any) -> str:
    return fmt_num(value, 2)


LOT_COLUMNS = (
    Column("closed_at", "Closed", fmt_date, numeric=False, tooltip="Date of the closing trade, expiration or assignment"),
    Column("symbol", "Contract", str, numeric=False, max_width=220, tooltip="The broker's symbol"),
    Column("qty", "Qty", _qty, tooltip="Closed quantity with the lot's sign (short < 0), shares or contracts"),
    Column("open_price", "Open", fmt_num, tooltip="Lot's opening price, currency per share/unit"),
    Column("close_price", "Close", fmt_num, tooltip="Closing price, currency per share/unit (0 when expired/assigned)"),
    Column("realized", "Realized P&L", _amount, color=pnl_color,
           tooltip="(close − open) × qty × multiplier − commissions, in the trade currency"),
    Column("currency", "Cur.", str, numeric=False),
    Column("opened_at", "Opened", fmt_date, numeric=False, tooltip="Date of the lot's opening trade"),
    Column("method", "Lots", str, numeric=False, tooltip="Lot matching method"),
    Column("account", "Account", str, numeric=False, hidden=True),
)
WHEEL_COLUMNS = (
    Column("underlying", "Underlying", str, numeric=False),
    Column("stage", "Stage", str, numeric=False, tooltip="put sold → assigned → call sold → called away"),
    Column("opened_at", "Opened", fmt_date, numeric=False),
    Column("closed_at", "Closed", fmt_date, numeric=False),
    Column("puts_sold", "Puts sold", lambda v: f"{v:,g}", tooltip="Put contracts sold to open"),
    Column("calls_sold", "Calls sold", lambda v: f"{v:,g}", tooltip="Call contracts sold to open"),
    Column("premium", "Premium", _amount, color=pnl_color, tooltip="Net option premium collected, currency"),
    Column("shares", "Shares", lambda v: f"{v:,g}", tooltip="Shares held now"),
    Column("stock_cost", "Stock cost", _amount, tooltip="Cash paid for the shares, currency"),
    Column("basis", "Eff. basis/sh", fmt_num,
           tooltip="(stock cost − premium) / shares: what each share really cost, currency per share"),
    Column("realized", "Realized", _amount, color=pnl_color,
           tooltip="Premium + proceeds − stock cost, once the cycle is closed"),
    Column("currency", "Cur.", str, numeric=False),
    Column("steps", "Steps", str, numeric=False, max_width=520, tooltip="Every leg of the cycle, oldest first"),
    Column("account", "Account", str, numeric=False, hidden=True),
)


def lot_record(m: LotMatch, method: str, n: int) -> dict[str, Any]:
    return {"key": n, "closed_at": m.closed_at.date(), "opened_at": m.opened_at.date(), "symbol": m.symbol,
            "qty": m.qty, "open_price": m.open_price, "close_price": m.close_price, "realized": m.realized,
            "currency": m.currency, "method": method, "account": m.account}


def cycle_record(c: WheelCycle, n: int) -> dict[str, Any]:
    return {"key": n, "underlying": c.underlying, "stage": c.stage, "opened_at": c.opened_at.date(),
            "closed_at": c.closed_at.date() if c.closed_at else None, "puts_sold": c.puts_sold,
            "calls_sold": c.calls_sold, "premium": c.premium, "shares": c.shares, "stock_cost": c.stock_cost,
            "basis": c.effective_cost_basis, "realized": c.realized, "currency": c.currency, "account": c.account,
            "steps": " → ".join(f"{s.occurred_at.date().isoformat()} {s.step}" for s in c.steps)}


class HistoryPanel(QWidget):
    def __init__(self, vm: HistoryViewModel, import_vm: ImportViewModel, theme: str = "dark",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.import_vm = import_vm
        self.header = QLabel("Loading the trade history…")
        self.header.setWordWrap(True)
        self.account = QComboBox()
        self.account.setToolTip("Each account has its own base currency: one account at a time")
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account.currentIndexChanged.connect(lambda _i: self._show_account())
        self.lots = RecordTableModel(LOT_COLUMNS, key=lambda r: r["key"], parent=self)
        self.cycles = RecordTableModel(WHEEL_COLUMNS, key=lambda r: r["key"], parent=self)
        self.lots_table = record_table(self.lots, self, "history_lots_table")
        self.cycles_table = record_table(self.cycles, self, "history_wheel_table")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.lots_table, "Closed trades")
        self.tabs.addTab(self.cycles_table, "Wheel cycles")
        self.chart = MonthlyPnLChart()
        self.chart.setMinimumWidth(220)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 300])
        top = QHBoxLayout()
        top.addWidget(QLabel("Account"))
        top.addWidget(self.account)
        top.addWidget(self.header, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.apply_theme(theme)
        self.shown_snapshot: HistorySnapshot | None = None
        vm.snapshot_changed.connect(self.show_snapshot)
        vm.failed.connect(self.header.setText)
        vm.refresh()

    def apply_theme(self, theme: str) -> None:
        self.chart.apply_colors(chart_colors(theme), theme)

    def show_snapshot(self, snapshot: HistorySnapshot) -> None:
        self.shown_snapshot = snapshot
        current = self.account.currentText()
        self.account.blockSignals(True)
        self.account.clear()
        self.account.addItems(snapshot.accounts)
        if current in snapshot.accounts:
            self.account.setCurrentText(current)
        self.account.blockSignals(False)
        self._show_account()

    def _show_account(self) -> None:
        s = self.shown_snapshot
        if s is None:
            return
        account = self.account.currentText()
        matches = [m for m in s.matches if m.account == account]
        cycles = [c for c in s.cycles if c.account == account]
        self.lots.set_records([lot_record(m, s.lot_method, i) for i, m in enumerate(matches[:MAX_LOTS])])
        self.cycles.set_records([cycle_record(c, i) for i, c in enumerate(cycles)])
        months, values = s.month_bars.get(account, ([], []))
        self.chart.set_months(months, values)
        self.header.setText(self.describe(s, len(matches), cycles, sum(values)))

    @staticmethod
    def describe(s: HistorySnapshot, n_matches: int = 0, cycles: list[WheelCycle] | None = None,
                 realized_base: float = 0.0) -> str:
        if s.events == 0:
            return "No trade history yet: File → Import broker statement… (IBKR Flex XML or Robinhood activity CSV)."
        cycles = cycles or []
        lots = f"{n_matches:,} closed lots" + (f" (newest {MAX_LOTS:,} shown)" if n_matches > MAX_LOTS else "")
        open_cycles = sum(1 for c in cycles if c.is_open)
        return (f"{lots}, lot method {s.lot_method} · {len(cycles)} wheel "
                f"{'cycle' if len(cycles) == 1 else 'cycles'} ({open_cycles} open) · realized "
                f"{realized_base:,.2f} in the account's base currency · {s.events:,} events stored")

    def import_dialog(self) -> None:
        """File → Import broker statement…: pick, preview, import (the dock refreshes after it)."""
        ImportDialog(self.import_vm, self).open()
