"""Kalshi portfolio: balance, positions with realized and unrealized P&L (marked at the bid of each
position's side), resting orders (cancel), recent fills. Amounts USD; prices cents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from magnus_desktop.analytics.kalshi_fees import unrealized_pnl_usd
from magnus_desktop.models.kalshi import KalshiMarket, KalshiOrder
from magnus_desktop.services.kalshi.service import KalshiPortfolio
from magnus_desktop.ui.kalshi.browser import fmt_cents, fmt_time
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import MISSING, fmt_int, fmt_money, fmt_signed_int
from magnus_desktop.widgets.table_model import RECORD_ROLE, Column, RecordTableModel, pnl_color

POSITION_COLUMNS = (
    Column("ticker", "Ticker", str, numeric=False),
    Column("title", "Market", str, numeric=False, max_width=300),
    Column("position", "Position", fmt_signed_int, tooltip="Contracts: + YES, − NO"),
    Column("mark_cents", "Bid", fmt_cents, tooltip="Best bid of the position's side, cents"),
    Column("exposure_usd", "Cost", fmt_money, tooltip="What the position cost, USD"),
    Column("unrealized_pnl", "Unrealized P&L", fmt_money, color=pnl_color,
           tooltip="At the bid of its side now, USD (before the fee of selling)"),
    Column("realized_pnl", "Realized P&L", fmt_money, color=pnl_color, tooltip="USD"),
    Column("fees_usd", "Fees paid", fmt_money, tooltip="USD"),
)
ORDER_COLUMNS = (
    Column("ticker", "Ticker", str, numeric=False),
    Column("side", "Side", str, numeric=False),
    Column("price_cents", "Limit", fmt_cents),
    Column("remaining", "Resting", fmt_int, tooltip="Contracts still resting"),
    Column("filled", "Filled", fmt_int),
    Column("created", "Placed (UTC)", fmt_time, numeric=False),
)
FILL_COLUMNS = (
    Column("created", "Time (UTC)", fmt_time, numeric=False),
    Column("ticker", "Ticker", str, numeric=False),
    Column("what", "Trade", str, numeric=False),
    Column("count", "Contracts", fmt_int),
    Column("price_cents", "Price", fmt_cents),
    Column("fee_usd", "Fee", fmt_money),
    Column("liquidity", "Liquidity", str, numeric=False),
)


class PortfolioView(QWidget):
    """``cancel_requested(order)`` asks to cancel a resting order; ``refresh_requested`` to read again."""

    cancel_requested = Signal(object)
    refresh_requested = Signal()

    def __init__(self, market_of: Callable[[str], KalshiMarket | None], title_of: Callable[[KalshiMarket], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._market_of, self._title_of = market_of, title_of
        self.summary = QLabel("The Kalshi account shows here once an API key is set and Kalshi is online.",
                              objectName="kalshi_balance")
        self.summary.setWordWrap(True)
        self.refresh = QPushButton("Refresh", objectName="kalshi_portfolio_refresh")
        self.refresh.clicked.connect(self.refresh_requested.emit)
        self.cancel = QPushButton("Cancel order", objectName="kalshi_cancel_order")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._on_cancel_clicked)
        self.positions = RecordTableModel(POSITION_COLUMNS, key=lambda r: r["ticker"], parent=self)
        self.orders = RecordTableModel(ORDER_COLUMNS, key=lambda r: r["order_id"], parent=self)
        self.fills = RecordTableModel(FILL_COLUMNS, key=lambda r: r["fill_id"], parent=self)
        self.orders_view = record_table(self.orders, self, "kalshi_orders")
        self.orders_view.selectionModel().currentRowChanged.connect(lambda *_: self.cancel.setEnabled(True))
        tabs = QTabWidget(objectName="kalshi_portfolio_tabs")
        tabs.addTab(record_table(self.positions, self, "kalshi_positions"), "Positions")
        orders_box = QWidget()
        orders_col = QVBoxLayout(orders_box)
        orders_col.setContentsMargins(0, 0, 0, 0)
        orders_col.addWidget(self.orders_view)
        orders_col.addWidget(self.cancel)
        tabs.addTab(orders_box, "Resting orders")
        tabs.addTab(record_table(self.fills, self, "kalshi_fills"), "Fills")
        self.tabs = tabs
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(tabs, 1)

    def show_portfolio(self, p: KalshiPortfolio) -> None:
        rows = [self._position_row(x.ticker, x.position, x.market_exposure_usd, x.realized_pnl_usd, x.fees_paid_usd)
                for x in p.positions if x.position != 0 or x.realized_pnl_usd]
        self.positions.set_records(rows)
        self.orders.set_records([{"order_id": o.order_id, "ticker": o.ticker, "side": o.side.upper(),
                                  "price_cents": o.price_cents, "remaining": o.remaining_count, "filled": o.fill_count,
                                  "created": o.created_time, "order": o} for o in p.resting])
        self.fills.set_records([{"fill_id": f.fill_id, "created": f.created_time, "ticker": f.ticker,
                                 "what": f"{f.action} {f.side.upper()}", "count": f.count,
                                 "price_cents": f.yes_price_cents if f.side == "yes" else f.no_price_cents,
                                 "fee_usd": f.fee_usd, "liquidity": "taker" if f.is_taker else "maker"} for f in p.fills])
        self.cancel.setEnabled(False)
        unreal = [r["unrealized_pnl"] for r in rows if r["unrealized_pnl"] == r["unrealized_pnl"]]
        realized = sum(r["realized_pnl"] for r in rows if r["realized_pnl"] == r["realized_pnl"])
        b = p.balance
        parts = [f"Balance {fmt_money(b.balance_cents / 100)}", f"positions {fmt_money(b.portfolio_value_cents / 100)}"] \
            if b is not None else ["Balance " + MISSING]
        parts += [f"unrealized P&L {fmt_money(sum(unreal)) if unreal else MISSING}", f"realized P&L {fmt_money(realized)}",
                  f"{len(p.resting)} resting order{'s' if len(p.resting) != 1 else ''}"]
        as_of = f" (as of {p.as_of:%H:%M:%S} UTC)" if p.as_of else ""
        self.summary.setText(" · ".join(parts) + as_of)

    def _position_row(self, ticker: str, position: float, exposure: float, realized: float, fees: float) -> dict[str, Any]:
        m = self._market_of(ticker)
        yes_bid, no_bid = (m.yes_bid_cents, m.no_bid_cents) if m is not None else (None, None)
        return {"ticker": ticker, "title": self._title_of(m) if m is not None else "", "position": position,
                "mark_cents": yes_bid if position > 0 else no_bid, "exposure_usd": exposure,
                "unrealized_pnl": unrealized_pnl_usd(position, exposure, yes_bid, no_bid),
                "realized_pnl": realized, "fees_usd": fees}

    def _on_cancel_clicked(self) -> None:
        index = self.orders_view.currentIndex()
        rec = self.orders_view.model().data(index, RECORD_ROLE) if index.isValid() else None
        order: KalshiOrder | None = rec["order"] if rec else None
        if order is not None:
            self.cancel.setEnabled(False)
            self.cancel_requested.emit(order)
