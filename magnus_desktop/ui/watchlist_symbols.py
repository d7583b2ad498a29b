"""The symbols table of the watchlists dock: columns, rows from replay quotes, typed-symbol parsing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from magnus_desktop.models.domain import Quote, WatchlistItem
from magnus_desktop.services.tradingview import WatchlistFormatError, parse_tradingview
from magnus_desktop.widgets.formatting import MISSING, fmt_int, fmt_num, is_missing
from magnus_desktop.widgets.table_model import Column, RecordTableModel, pnl_color

NO_DATA = "no replay data"
PENDING = "…"
STALE_COLOR = QColor("#c7780a")
NO_DATA_COLOR = QColor("#8a8f98")


def _signed(value: Any, suffix: str = "") -> str:
    return MISSING if is_missing(value) else f"{value:+,.2f}{suffix}"


def _compact(value: Any) -> str:
    """Volume as 1.39M / 294.68M / 12.5K (the sort role keeps the raw number)."""
    if is_missing(value):
        return MISSING
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:,.2f}{unit}"
    return f"{value:,.0f}"


COLUMNS = (
    Column("pos", "#", fmt_int, tooltip="Position in the list (sort by # for the list order)"),
    Column("symbol", "Symbol", str, numeric=False),
    Column("exchange", "Exch.", str, numeric=False, tooltip="Exchange prefix as in TradingView"),
    Column("section", "Section", str, numeric=False, tooltip="TradingView ###section the symbol was imported under"),
    Column("last", "Last", fmt_num, tooltip="Recorded close on the replay day, USD per share"),
    Column("change", "Change", _signed, color=pnl_color, tooltip="Last − previous recorded close, USD per share"),
    Column("change_pct", "Change %", lambda v: _signed(v, "%"), color=pnl_color,
           tooltip="Change versus the previous recorded close, percent"),
    Column("volume", "Volume", _compact, tooltip="Recorded volume of that day, shares (K = thousand, M = million)"),
    Column("as_of", "As of", str, numeric=False, tooltip="Date of the recorded bar shown"),
)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
_AS_OF_COL = COLUMN_INDEX["as_of"]


class SymbolsTableModel(RecordTableModel):
    """Symbol rows; adds a per-row tooltip and colours whole rows of stale / missing data, so a
    stale quote is visible even when the as-of column is scrolled out of a narrow dock."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.row() < self.rowCount():
            record = self.record(index.row())
            if role == Qt.ItemDataRole.ToolTipRole:
                return record["tip"] or None
            if role == Qt.ItemDataRole.ForegroundRole and (index.column() == _AS_OF_COL or record["state"] == "stale"):
                color = {"stale": STALE_COLOR, "none": NO_DATA_COLOR}.get(record["state"])
                return QBrush(color) if color is not None else None
        return super().data(index, role)


def parse_symbol_input(text: str) -> tuple[list[WatchlistItem], list[str]]:
    """Symbols typed by the trader: ``SYM`` or ``EXCHANGE:SYM``, separated by commas or spaces.

    Returns:
        The items in input order (upper-cased, duplicates dropped) and one problem line per
        token that was not taken (empty when all were).
    """
    tokens = ",".join(text.split())
    if not tokens.strip(", "):
        return [], ["Type a symbol (SYM or EXCHANGE:SYM; several separated by commas or spaces)."]
    try:
        parsed = parse_tradingview(tokens.upper(), source="<input>")
    except WatchlistFormatError as exc:
        return [], [str(exc).removeprefix("<input>: ")]
    problems = [f"{token!r} skipped: {reason}" for _line, token, reason in parsed.skipped if reason != "duplicate"]
    return list(parsed.items), problems


def _state(item: WatchlistItem, quotes: Mapping[str, Quote | None], day: date | None) -> tuple[str, str, str]:
    """(state, as-of text, note) of ``item``'s quote: pending / none / ok / stale."""
    if item.symbol not in quotes:
        return "pending", PENDING, "Waiting for the replay quotes."
    quote = quotes[item.symbol]
    if quote is None:
        return "none", NO_DATA, "No recorded replay data for this symbol; it stays in your list."
    if not quote.stale:
        return "ok", quote.as_of.isoformat(), ""
    before = f", before the replay day {day.isoformat()}" if day else ""
    note = f"Stale: the recorded data ends {quote.as_of.isoformat()}{before}; the last recorded values are shown."
    return "stale", f"{quote.as_of.isoformat()} (stale)", note


def symbol_record(pos: int, item: WatchlistItem, quotes: Mapping[str, Quote | None], day: date | None) -> dict[str, Any]:
    """One table row: the item and its quote (NaN numbers when there is no quote)."""
    quote = quotes.get(item.symbol)
    state, as_of, note = _state(item, quotes, day)
    name = f"{item.exchange}:{item.symbol}" if item.exchange else item.symbol
    tip = "\n".join(t for t in (name + (f" · section {item.section}" if item.section else ""), note) if t)
    return {"pos": pos, "symbol": item.symbol, "exchange": item.exchange, "section": item.section,
            "last": quote.last if quote else math.nan, "change": quote.change if quote else math.nan,
            "change_pct": quote.change_pct if quote else math.nan, "volume": quote.volume if quote else math.nan,
            "as_of": as_of, "state": state, "tip": tip, "item": item}
