"""Positions dock: open option positions marked at the replay day, with portfolio totals."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtWidgets import QDialog, QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from magnus_desktop.models.domain import AccountSummary, OptionContract, PositionSnapshot
from magnus_desktop.models.market import describe_source
from magnus_desktop.ui.orders.combo import ComboTicketDialog, replace_combo
from magnus_desktop.ui.orders.ticket import OrderTicketDialog, replace_ticket
from magnus_desktop.ui.positions.view_model import PositionsViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import fmt_date, fmt_int, fmt_money, fmt_num, fmt_pct, fmt_signed_int
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.pair_grid import PairGrid
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color, text_color
from magnus_desktop.widgets.throttle import Throttle

COLUMNS = (
    Column("symbol", "Contract", str, numeric=False, tooltip="Underlying, expiry, strike, right"),
    Column("qty", "Qty", fmt_signed_int, tooltip="Contracts, signed (short < 0)"),
    Column("avg_cost", "Avg cost", fmt_num, tooltip="Average opening price, USD per share"),
    Column("mark", "Mark", fmt_num, tooltip="Mid of the recorded bid/ask, USD per share"),
    Column("market_value", "Mkt value", fmt_money, tooltip="qty × mark × multiplier, USD"),
    Column("unrealized_pnl", "Unrl. P&L", fmt_money, color=pnl_color, tooltip="(mark − avg cost) × qty × multiplier, USD"),
    Column("pct_max_profit", "% max profit", fmt_pct, tooltip="Share of the opening credit captured (short positions)"),
    Column("delta", "Delta", lambda v: fmt_num(v, 1), tooltip="Position delta in shares (Δ × qty × multiplier)"),
    Column("gamma", "Gamma", lambda v: fmt_num(v, 3), tooltip="Position gamma, shares per 1 USD move"),
    Column("theta", "Theta/day", fmt_money, color=pnl_color, tooltip="USD per calendar day"),
    Column("vega", "Vega", fmt_money, tooltip="USD per 1 vol point"),
    Column("iv", "IV", fmt_pct, tooltip="Implied volatility from the mark (our Black-Scholes solver)"),
    Column("dte", "DTE", fmt_int, tooltip="Calendar days to expiry"),
    Column("und_price", "Underlying", fmt_num, tooltip="The contract's own underlying on the replay day (SPX for SPXW)"),
    Column("collateral", "Collateral", lambda v: fmt_money(v, 0), tooltip="Cash secured: strike × multiplier × |qty| for short puts"),
    # hidden by default (the header line says it for all rows; each mark's tooltip says it too)
    Column("source", "Mark source", str, numeric=False, hidden=True,
           tooltip="Where the mark's quote came from and when it was true; an older quote says its age"),
)
#: cells whose tooltip names the quote they come from
_QUOTED = frozenset({"mark", "market_value", "unrealized_pnl", "iv", "und_price"})


class PositionsTableModel(RecordTableModel):
    """Position rows; a quote-derived cell's tooltip says where its quote came from and when."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.row() < self.rowCount()
                and self.columns[index.column()].key in _QUOTED):
            return f"{self.columns[index.column()].tooltip}\nQuote: {self.record(index.row())['source']}"
        return super().data(index, role)

TOTALS = (
    ("net_liquidation", "Net liquidation", fmt_money),
    ("cash", "Cash", fmt_money),
    ("unrealized_pnl", "Unrealized P&L", fmt_money),
    ("realized_pnl", "Realized P&L", fmt_money),
    ("net_delta", "Net delta (sh)", lambda v: fmt_num(v, 1)),
    ("theta_per_day", "Theta / day", fmt_money),
    ("collateral_used", "Collateral used", lambda v: fmt_money(v, 0)),
    ("buying_power", "Buying power", lambda v: fmt_money(v, 0)),
)


def mark_source(p: PositionSnapshot, day: date | None = None) -> str:
    """"replay · as of 2018-02-06 close" (with its age when older than ``day``)."""
    return describe_source(p.source, p.as_of, today=day)


def position_record(p: PositionSnapshot, day: date | None = None) -> dict[str, Any]:
    c = p.contract
    source = mark_source(p, day) + (f" · Greeks: {p.greeks_source}" if p.greeks_source else "")
    if isinstance(c, OptionContract):
        key, symbol = c.local_symbol, c.describe()
    else:  # a real account's shares (StockContract)
        key, symbol = f"STK {c.symbol}", f"{c.symbol} (shares)"
    return {
        "key": key, "contract": c, "symbol": symbol, "qty": p.qty, "avg_cost": p.avg_cost, "mark": p.mark,
        "market_value": p.market_value, "unrealized_pnl": p.unrealized_pnl, "pct_max_profit": p.pct_max_profit,
        "delta": p.delta, "gamma": p.gamma, "theta": p.theta, "vega": p.vega, "iv": p.iv, "dte": p.dte,
        "und_price": p.und_price, "collateral": p.collateral, "source": source,
    }


class PositionsPanel(QWidget):
    def __init__(self, vm: PositionsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PositionsTableModel(COLUMNS, key=lambda r: r["key"], parent=self)
        self.table = record_table(self.model, self, "positions_table")
        self.header = QLabel("Demo account (paper, replay of recorded SPXW quotes)")
        self.empty = QLabel("No open positions. Sell a put from the Scanner (double-click a row).")
        self.table.setToolTip("Double-click a position (or press Enter) to close it with a paper order")
        self.table.doubleClicked.connect(lambda index: self.open_close_ticket(index.row()))
        self.table.activated.connect(lambda index: self.open_close_ticket(index.row()))
        self.vm = vm
        self.ticket_dialog: QDialog | None = None
        self.close_button = QPushButton("Close…")
        self.close_button.setToolTip("A ticket that closes the selected position (Enter or double-click)")
        self.roll_button = QPushButton("Roll…")
        self.roll_button.setToolTip("A roll of the selected option: close it and open a later expiry or "
                                    "another strike as one order")
        self.close_button.clicked.connect(lambda: self.open_close_ticket(self._selected_row()))
        self.roll_button.clicked.connect(lambda: self.open_roll_ticket(self._selected_row()))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self.empty.setVisible(False)
        self.total_labels: dict[str, QLabel] = {}
        pairs = []
        for key, title, _fmt in TOTALS:
            name, value = QLabel(title + ":"), QLabel("—")
            value.setObjectName(f"total_{key}")
            font = value.font()
            font.setBold(True)
            value.setFont(font)
            pairs.append((name, value))
            self.total_labels[key] = value
        totals = PairGrid(pairs, stacked=False, max_columns=4, min_columns=2, parent=self)  # 2 x 4 when narrow
        totals.setFrameShape(QFrame.Shape.StyledPanel)
        totals.grid.setContentsMargins(8, 4, 8, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.close_button)
        actions.addWidget(self.roll_button)
        layout.addLayout(actions)
        layout.addWidget(totals)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self._account = Throttle(self._show_account, hz=4.0, parent=self)
        vm.account_changed.connect(self._account.push)
        vm.feed_text_changed.connect(self._on_vm_feed_text_changed)

    def _on_vm_feed_text_changed(self, text: str) -> None:
        """A real account's header (its name, source, live or stale with its age)."""
        if text:
            set_label(self.header, text)

    def _on_table_selection_changed(self, *_args: object) -> None:
        """The selected position's underlying becomes the research symbol."""
        record = self.table.selected_record()
        if record is not None:
            contract = record["contract"]
            self.vm.pick_symbol(contract.underlying if isinstance(contract, OptionContract) else contract.symbol)

    def _selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def context_menu(self, row: int) -> QMenu | None:
        """Close… and Roll… of the option in ``row`` (None for no row)."""
        record = self.table.record_at(row) if row >= 0 else None
        if record is None:
            return None
        menu = QMenu(self)
        option = isinstance(record["contract"], OptionContract)
        for text, slot in (("Close…", self.open_close_ticket), ("Roll…", self.open_roll_ticket)):
            action = menu.addAction(text)
            action.setEnabled(option)
            action.triggered.connect(lambda _checked=False, slot=slot: slot(row))
        return menu

    def _on_table_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.table.indexAt(pos).row())
        if menu is not None:
            menu.popup(self.table.viewport().mapToGlobal(pos))

    def open_roll_ticket(self, row: int) -> ComboTicketDialog | None:
        """A roll of the option in ``row``: close it and open the same right at a later expiry or another
        strike picked from the chain, as one order with its net credit/debit."""
        record = self.table.record_at(row) if row >= 0 else None
        if record is None or not isinstance(record["contract"], OptionContract) or not int(record["qty"]):
            return None
        contract: OptionContract = record["contract"]
        dialog = replace_combo(self.ticket_dialog, self.vm.orders, "roll", contract.underlying, self,
                               expiry=contract.expiry, position=(contract, int(record["qty"])))
        self.ticket_dialog = dialog
        return dialog

    def open_close_ticket(self, row: int) -> OrderTicketDialog | None:
        """A paper ticket that closes the position in ``row`` (BUY back a short, SELL a long)."""
        record = self.table.record_at(row) if row >= 0 else None
        if record is None or not isinstance(record["contract"], OptionContract):
            return None  # shares of a real account: no stock tickets
        qty = int(record["qty"])
        dialog = replace_ticket(self.ticket_dialog, self.vm.orders, record["contract"],
                                "BUY" if qty < 0 else "SELL", abs(qty), self, closing=True)
        self.ticket_dialog = dialog
        return dialog

    def _show_account(self, summary: AccountSummary) -> None:
        self.model.set_records([position_record(p, summary.as_of) for p in summary.positions])
        if self.empty.isVisibleTo(self) != (not summary.positions):
            self.empty.setVisible(not summary.positions)
        if summary.source in ("replay", "paper"):  # a real account's header follows vm.feed_text_changed
            marks = sorted({mark_source(p, summary.as_of) for p in summary.positions})
            source = "; ".join(marks) if marks else f"replay · as of {fmt_date(summary.as_of)} close"
            # labels are touched only when their text or colour changes (no re-layout, no re-polish per day)
            set_label(self.header, f"Demo account (paper) — marks: {source}")
        for key, _title, fmt in TOTALS:
            value = getattr(summary, key)
            text = fmt(value)
            if key in ("unrealized_pnl", "realized_pnl"):
                color = pnl_color(value)
            else:  # a negative buying power is red (and "short" in words), never a plain number
                color = text_color("loss") if key == "buying_power" and value < 0 else None
                if color is not None:
                    text = f"{text} (short)"
            set_label(self.total_labels[key], text, color)
