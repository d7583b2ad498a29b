"""Kalshi browser: categories → series → markets (yes bid/ask, last, volume, open interest, close
time), filtered by category, series and a search text; the "model" column only when a model
probability provider is plugged in.

Markets arrive page by page while a load runs; each page adds its rows to the index at once and the
table is refiltered at most every ``REFILTER_MS`` (one ``set_records``, which the table model
coalesces), so thousands of markets fill the table without stalling the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from magnus_desktop.models.kalshi import KalshiEvent, KalshiMarket, KalshiSeries, market_title
from magnus_desktop.services.kalshi.cache import MarketSnapshot
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import MISSING, fmt_int
from magnus_desktop.widgets.table_model import RECORD_ROLE, Column, Record, RecordTableModel

REFILTER_MS = 250
#: rows measured when fitting columns: thousands of markets would take longer than a frame
FIT_ROWS = 300
ALL = ""


def fmt_cents(value: Any) -> str:
    return MISSING if value is None else f"{value}¢"


def fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else MISSING


def fmt_prob(value: Any) -> str:
    return MISSING if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value * 100:.1f}%"


BASE_COLUMNS = (
    Column("ticker", "Ticker", str, numeric=False, max_width=220),
    Column("title", "Market", str, numeric=False, max_width=360),
    Column("category", "Category", str, numeric=False, hidden=True),
    Column("series", "Series", str, numeric=False, hidden=True),
    Column("yes_bid_cents", "Yes bid", fmt_cents, tooltip="Best YES bid, cents"),
    Column("yes_ask_cents", "Yes ask", fmt_cents, tooltip="Best YES ask (= 100 − best NO bid), cents"),
    Column("last_price_cents", "Last", fmt_cents, tooltip="Last traded YES price, cents"),
    Column("volume", "Volume", fmt_int, tooltip="Contracts traded"),
    Column("open_interest", "Open int.", fmt_int, tooltip="Contracts open"),
    Column("close_time", "Closes (UTC)", fmt_time, numeric=False),
)
MODEL_COLUMN = Column("model_prob", "Model", fmt_prob, tooltip="Our model's probability of YES")


def market_record(m: KalshiMarket, event: KalshiEvent | None, series_title: str,
                  model_prob: float | None) -> dict[str, Any]:
    return {"ticker": m.ticker, "title": market_title(m, event), "event_ticker": m.event_ticker,
            "category": (event.category if event else "") or m.category or "Other",
            "series": (event.series_ticker if event else "") or m.event_ticker.split("-", 1)[0],
            "series_title": series_title, "yes_bid_cents": m.yes_bid_cents, "yes_ask_cents": m.yes_ask_cents,
            "last_price_cents": m.last_price_cents, "volume": m.volume, "open_interest": m.open_interest,
            "close_time": m.close_time, "model_prob": model_prob, "market": m}


class MarketBrowser(QWidget):
    """The browser. ``model_prob(market)`` gives the model column; None = no column."""

    market_selected = Signal(object)  # KalshiMarket

    def __init__(self, model_prob: Callable[[KalshiMarket], float | None] | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model_prob = model_prob
        self._events: dict[str, KalshiEvent] = {}
        self._series: dict[str, KalshiSeries] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._categories: set[str] = set()
        columns = [*BASE_COLUMNS, MODEL_COLUMN] if model_prob is not None else list(BASE_COLUMNS)
        self.model = RecordTableModel(columns, key=lambda r: r["ticker"], parent=self)
        self.table = record_table(self.model, self, "kalshi_markets", fit_rows=FIT_ROWS)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.category = QComboBox(objectName="kalshi_category")
        self.series = QComboBox(objectName="kalshi_series")
        self.series.setMinimumContentsLength(28)
        self.search = QLineEdit(objectName="kalshi_search", placeholderText="Search ticker or title…")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel(objectName="kalshi_count")
        self.category.addItem("All categories", ALL)
        self.series.addItem("All series", ALL)
        self.category.currentIndexChanged.connect(self._on_category_changed)
        self.series.currentIndexChanged.connect(self.schedule_refilter)
        self.search.textChanged.connect(self.schedule_refilter)
        bar = QHBoxLayout()
        for w in (self.category, self.series, self.search, self.count):
            bar.addWidget(w)
        bar.setStretch(2, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        column.addWidget(self.table)
        self._refilter = QTimer(self, singleShot=True, interval=REFILTER_MS)
        self._refilter.timeout.connect(self.refilter)

    # ---- content ----------------------------------------------------------------------------------
    def reset(self, snap: MarketSnapshot) -> None:
        """Replace everything with ``snap`` (the cache, or the start of an online load)."""
        self._events = {e.event_ticker: e for e in snap.events}
        self._series = {s.ticker: s for s in snap.series}
        self._records.clear()
        self._categories = {e.category for e in snap.events if e.category} | {s.category for s in snap.series if s.category}
        self.add_markets(snap.markets)
        self._fill_categories()
        self.refilter()

    def add_markets(self, markets: Iterable[KalshiMarket]) -> None:
        """Index more markets (a page of a load); the table follows within ``REFILTER_MS``."""
        for m in markets:
            event = self._events.get(m.event_ticker)
            series = self._series.get(event.series_ticker) if event else None
            prob = self._model_prob(m) if self._model_prob is not None else None
            rec = market_record(m, event, series.title if series else "", prob)
            self._records[m.ticker] = rec
            if rec["category"] not in self._categories:
                self._categories.add(rec["category"])
                self._fill_categories()
        self.schedule_refilter()

    def _fill_categories(self) -> None:
        current = self.category.currentData()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem("All categories", ALL)
        for c in sorted(self._categories):
            self.category.addItem(c, c)
        self.category.setCurrentIndex(max(0, self.category.findData(current)))
        self.category.blockSignals(False)

    def _fill_series(self) -> None:
        cat = self.category.currentData()
        current = self.series.currentData()
        titles: dict[str, str] = {}
        for rec in self._records.values():
            if cat in (ALL, rec["category"]):
                titles.setdefault(rec["series"], rec["series_title"])
        self.series.blockSignals(True)
        self.series.clear()
        self.series.addItem("All series", ALL)
        for ticker in sorted(titles):
            self.series.addItem(f"{ticker} — {titles[ticker]}" if titles[ticker] else ticker, ticker)
        self.series.setCurrentIndex(max(0, self.series.findData(current)))
        self.series.blockSignals(False)

    def _on_category_changed(self) -> None:
        self._fill_series()
        self.schedule_refilter()

    def select_path(self, category: str, series: str = ALL) -> None:
        """Pick a category and series (e.g. ``"Sports"``, ``"KXNFLGAME"``) and refilter now."""
        self.category.setCurrentIndex(max(0, self.category.findData(category)))
        self._fill_series()
        self.series.setCurrentIndex(max(0, self.series.findData(series)))
        self.refilter()

    # ---- filtering --------------------------------------------------------------------------------
    def schedule_refilter(self) -> None:
        if not self._refilter.isActive():
            self._refilter.start()

    def refilter(self) -> None:
        self._refilter.stop()
        rows = self.filtered()
        self.model.set_records(rows)
        self.count.setText(f"{len(rows):,} of {len(self._records):,} markets")

    def filtered(self) -> list[Record]:
        """The records that pass the category, series and search filters."""
        cat, ser = self.category.currentData(), self.series.currentData()
        needle = self.search.text().strip().casefold()
        out = []
        for rec in self._records.values():
            if cat not in (ALL, None) and rec["category"] != cat:
                continue
            if ser not in (ALL, None) and rec["series"] != ser:
                continue
            if needle and needle not in rec["ticker"].casefold() and needle not in rec["title"].casefold() \
                    and needle not in rec["event_ticker"].casefold():
                continue
            out.append(rec)
        return out

    def market_count(self) -> int:
        return len(self._records)

    def _on_current_row_changed(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        rec = self.table.model().data(current, RECORD_ROLE)
        if rec is not None:
            self.market_selected.emit(rec["market"])
