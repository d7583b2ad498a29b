"""One Kalshi market: YES and NO book depth (a reciprocal book: YES ask = 100 − best NO bid), the
price history (pyqtgraph), the rules text, our model probability where one exists, and the buttons
that open the order ticket."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.kalshi import Candle, KalshiMarket, OrderBook
from magnus_desktop.ui.kalshi.browser import fmt_cents, fmt_prob, fmt_time
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.formatting import MISSING, fmt_int
from magnus_desktop.widgets.table_model import Column, RecordTableModel
from magnus_desktop.widgets.table_view import RecordTableView

LADDER_COLUMNS = (
    Column("price_cents", "Price", fmt_cents, tooltip="Cents per contract (a contract pays 100¢)"),
    Column("bid_qty", "Bid qty", fmt_int, tooltip="Contracts bid at this price"),
    Column("ask_qty", "Ask qty", fmt_int, tooltip="Contracts offered at this price (bids of the other side)"),
)


def ladder(bids: Sequence[tuple[int, float]], asks: Sequence[tuple[int, float]]) -> list[dict[str, Any]]:
    """One row per price, highest first: contracts bid and offered there."""
    rows: dict[int, dict[str, Any]] = {}
    for price, qty in bids:
        rows.setdefault(price, {"price_cents": price, "bid_qty": None, "ask_qty": None})["bid_qty"] = qty
    for price, qty in asks:
        rows.setdefault(price, {"price_cents": price, "bid_qty": None, "ask_qty": None})["ask_qty"] = qty
    return [rows[p] for p in sorted(rows, reverse=True)]


class MarketView(QWidget):
    """The selected market. ``buy_requested(side)`` asks for a ticket ("yes" or "no")."""

    buy_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.market: KalshiMarket | None = None
        self.book: OrderBook | None = None
        self.header = QLabel("Pick a market in the browser.", objectName="kalshi_market_header")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.quote = QLabel("", objectName="kalshi_market_quote")
        self.model_label = QLabel("", objectName="kalshi_model_prob")
        self.book_note = QLabel("", objectName="kalshi_book_note")
        self.book_note.setWordWrap(True)
        self.buy_yes = QPushButton("Buy YES…", objectName="kalshi_buy_yes")
        self.buy_no = QPushButton("Buy NO…", objectName="kalshi_buy_no")
        self.buy_yes.clicked.connect(lambda: self.buy_requested.emit("yes"))
        self.buy_no.clicked.connect(lambda: self.buy_requested.emit("no"))
        self.yes_model = RecordTableModel(LADDER_COLUMNS, key=lambda r: r["price_cents"], flush_hz=10.0, parent=self)
        self.no_model = RecordTableModel(LADDER_COLUMNS, key=lambda r: r["price_cents"], flush_hz=10.0, parent=self)
        self.yes_table = RecordTableView(self.yes_model, self, name="kalshi_book_yes", sortable=False)
        self.no_table = RecordTableView(self.no_model, self, name="kalshi_book_no", sortable=False)
        self.chart = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.chart.setObjectName("kalshi_price_chart")
        self.chart.setMenuEnabled(False)
        self.chart.showGrid(x=False, y=True, alpha=0.2)
        self.chart.setLabel("left", "YES price", units="¢")
        self.chart.getAxis("left").enableAutoSIPrefix(False)
        self.chart.setYRange(0, 100)
        self.chart.getPlotItem().setClipToView(True)
        self.curve = self.chart.plot([], [], pen=pg.mkPen("#4c9be8", width=1), name="close")
        self.chart_note = QLabel("", objectName="kalshi_chart_note")
        self.rules = QTextBrowser(objectName="kalshi_rules")
        self.rules.setOpenExternalLinks(False)

        books = QGridLayout()
        books.addWidget(QLabel("<b>YES</b> book"), 0, 0)
        books.addWidget(QLabel("<b>NO</b> book"), 0, 1)
        books.addWidget(self.yes_table, 1, 0)
        books.addWidget(self.no_table, 1, 1)
        books_box = QWidget()
        books_box.setLayout(books)
        chart_box = QWidget()
        chart_col = QVBoxLayout(chart_box)
        chart_col.setContentsMargins(0, 0, 0, 0)
        chart_col.addWidget(self.chart)
        chart_col.addWidget(self.chart_note)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(books_box)
        split.addWidget(chart_box)
        split.addWidget(self.rules)
        split.setSizes([320, 420, 260])
        buttons = QHBoxLayout()
        buttons.addWidget(self.quote, 1)
        buttons.addWidget(self.model_label)
        buttons.addWidget(self.buy_yes)
        buttons.addWidget(self.buy_no)
        column = QVBoxLayout(self)
        column.addWidget(self.header)
        column.addLayout(buttons)
        column.addWidget(self.book_note)
        column.addWidget(split, 1)
        self._set_buttons()

    def apply_theme(self, theme: str) -> None:
        """Chart colours of the app theme (``ui.theme.chart_colors``)."""
        colors = chart_colors(theme)
        self.chart.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.chart.getAxis(axis).setPen(colors["fg"])
            self.chart.getAxis(axis).setTextPen(colors["fg"])
        self.curve.setPen(pg.mkPen(colors["line"], width=1))

    def _set_buttons(self) -> None:
        can = self.market is not None and self.market.is_open
        for b in (self.buy_yes, self.buy_no):
            b.setEnabled(can)
            b.setToolTip("" if can else "Pick an open market first.")

    def show_market(self, m: KalshiMarket, title: str, model_prob: float | None, online: bool) -> None:
        """Show ``m`` as loaded (quotes, rules) under ``title``; the book and chart follow when online."""
        self.market, self.book = m, None
        closes = fmt_time(m.close_time)
        self.header.setText(f"<b>{html.escape(title)}</b><br>{m.ticker} · event {m.event_ticker} · {m.status or 'status unknown'}"
                            f" · closes {closes} UTC")
        self.quote.setText(f"YES bid {fmt_cents(m.yes_bid_cents)} / ask {fmt_cents(m.yes_ask_cents)} · "
                           f"NO bid {fmt_cents(m.no_bid_cents)} / ask {fmt_cents(m.no_ask_cents)} · "
                           f"last {fmt_cents(m.last_price_cents)} · volume {fmt_int(m.volume)} · "
                           f"open interest {fmt_int(m.open_interest)}")
        self.model_label.setVisible(model_prob is not None)
        self.model_label.setText(f"Model: {fmt_prob(model_prob)} YES" if model_prob is not None else "")
        rules = "\n\n".join(x for x in (m.rules_primary, m.rules_secondary) if x)
        self.rules.setPlainText(rules or "The exchange sent no rules text for this market.")
        self.yes_model.set_records([])
        self.no_model.set_records([])
        self.curve.setData([], [])
        note = "Loading the order book…" if online else "Order book and price history are live data: Kalshi needs the network."
        self.book_note.setText(note)
        self.chart_note.setText("" if online else "No price history offline.")
        self._set_buttons()

    def show_book(self, book: OrderBook) -> None:
        """The book: YES ladder (YES bids; YES asks = 100 − NO bids) and the NO ladder likewise."""
        if self.market is None or book.ticker != self.market.ticker:
            return
        self.book = book
        self.yes_model.set_records(ladder(book.yes_bids, book.yes_asks()))
        self.no_model.set_records(ladder(book.no_bids, book.no_asks()))
        if not book.yes_bids and not book.no_bids:
            self.book_note.setText("No resting orders in this market's book.")
            return
        no_bid = book.best_no_bid_cents
        self.book_note.setText(
            f"Best YES bid {fmt_cents(book.best_yes_bid_cents)}, best YES ask {fmt_cents(book.best_yes_ask_cents)}"
            + (f" (= 100 − best NO bid {no_bid}¢)" if no_bid is not None else "")
            + f"; best NO ask {fmt_cents(book.best_no_ask_cents)}.")

    def show_candles(self, ticker: str, candles: Sequence[Candle]) -> None:
        """The YES price history: close per period (cents) at the period's end."""
        if self.market is None or ticker != self.market.ticker:
            return
        points = [(c.end.timestamp(), c.close_cents) for c in candles if c.close_cents is not None]
        if not points:
            self.curve.setData([], [])
            self.chart_note.setText("No trades in the period shown.")
            return
        xs = np.array([p[0] for p in points], dtype=float)
        ys = np.array([p[1] for p in points], dtype=float)
        self.curve.setData(xs, ys)
        self.chart.setXRange(xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 3600, padding=0.05)
        first, last = points[0][1], points[-1][1]
        self.chart_note.setText(f"{len(points)} periods with a trade · YES {first}¢ → {last}¢ "
                                f"({MISSING if first is None else f'{last - first:+d}'}¢)")
