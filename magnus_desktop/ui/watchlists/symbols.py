"""The symbols table of the watchlists dock: columns, rows from replay quotes, typed-symbol parsing.

A stale row (the symbol's recorded series has no bar for the replay day's session, e.g. AAPL after
2018-01-19) shows no change figure: its change columns read "as of <date>" and its last price and
volume are labelled with that date, so an old bar never reads as the day's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from magnus_desktop.models.domain import Quote, WatchlistItem
from magnus_desktop.models.market import close_of, describe_source
from magnus_desktop.services.watchlists.tradingview import (
    WatchlistFormatError,
    parse_tradingview,
    strip_invisible,
)
from magnus_desktop.widgets.formatting import MISSING, fmt_int, fmt_num, is_missing
from magnus_desktop.widgets.table_model import Column, Record, RecordTableModel, pnl_color, text_color

NO_DATA = "no replay data"
PENDING = "…"
_STATE_COLORS = {"stale": "stale", "none": "no_data"}  # row state -> text_color kind


def _signed(value: Any, suffix: str = "") -> str:
    return MISSING if is_missing(value) else f"{value:+,.2f}{suffix}"


def _signed_pct(value: Any) -> str:
    """A decimal fraction as signed percent: 0.0123 -> "+1.23%"."""
    return MISSING if is_missing(value) else _signed(value * 100.0, "%")


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
    # exchange and section: hidden by default (the row tooltip names both; the header menu shows them)
    Column("exchange", "Exch.", str, numeric=False, tooltip="Exchange prefix as in TradingView", hidden=True),
    Column("section", "Section", str, numeric=False, tooltip="TradingView ###section the symbol was imported under",
           hidden=True, max_width=100),
    Column("last", "Last", fmt_num, tooltip="Recorded close on the replay day, USD per share"),
    Column("change", "Change", _signed, color=pnl_color,
           tooltip="Last − previous recorded close, USD per share (stale rows: none, \"as of\" their last bar)"),
    Column("change_pct", "Change %", _signed_pct, color=pnl_color,
           tooltip="Change versus the previous recorded close, percent (stale rows: none)"),
    Column("volume", "Volume", _compact, tooltip="Recorded volume of that day, shares (K = thousand, M = million)"),
    Column("as_of", "As of", str, numeric=False,
           tooltip="Close of the recorded bar shown; an older bar says its age (the row tooltip names the source)"),
)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
_AS_OF_COL = COLUMN_INDEX["as_of"]


class SymbolsTableModel(RecordTableModel):
    """Symbol rows; adds a per-row tooltip, shows a record's ``shown`` texts in place of the
    formatted values (stale rows), and colours whole rows of stale / missing data, so a stale
    quote is visible even when the as-of column is scrolled out of a narrow dock."""

    def display_text(self, record: Record, column: int) -> str:
        shown, key = record["shown"], self.columns[column].key
        return str(shown[key]) if shown and key in shown else super().display_text(record, column)

    def foreground(self, record: Record, column: int) -> QColor | None:
        if column == _AS_OF_COL or record["state"] == "stale":
            kind = _STATE_COLORS.get(record["state"])
            return text_color(kind) if kind is not None else None
        return super().foreground(record, column)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.row() < self.rowCount():
            return self.record(index.row())["tip"] or None
        return super().data(index, role)


def parse_symbol_input(text: str) -> tuple[list[WatchlistItem], list[str]]:
    """Symbols typed by the trader: ``SYM`` or ``EXCHANGE:SYM``, separated by commas or spaces.

    Tokens must be ticker-shaped as in a TradingView file (``services.watchlists.tradingview``: letters,
    digits and ``. - / ! ^ =``, optional ``EXCHANGE:`` prefix); invisible characters (zero-width,
    bidi controls, BOM, soft hyphen) are dropped first.

    Returns:
        The items in input order (upper-cased, repeats dropped silently) and one problem line
        per token that was not taken, with the reason (empty when all were taken).
    """
    tokens = ",".join(strip_invisible(text).split())
    if not tokens.strip(", "):
        return [], ["Type a symbol (SYM or EXCHANGE:SYM; several separated by commas or spaces)."]
    try:
        parsed = parse_tradingview(tokens.upper(), source="<input>", require_symbols=False)
    except WatchlistFormatError as exc:
        return [], [str(exc).removeprefix("<input>: ")]
    problems = [f"{e.token!r} skipped: {e.reason}" for e in parsed.skipped if not e.reason.startswith("duplicate")]
    return list(parsed.items), problems


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_month(day: date) -> str:
    """``19 Jan`` (fixed English month names, whatever the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


def _state(item: WatchlistItem, quotes: Mapping[str, Quote | None], day: date | None) -> tuple[str, str, str]:
    """(state, as-of text, note) of ``item``'s quote: pending / none / ok / stale."""
    if item.symbol not in quotes:
        return "pending", PENDING, "Waiting for the replay quotes."
    quote = quotes[item.symbol]
    if quote is None:
        return "none", NO_DATA, "No recorded replay data for this symbol; it stays in your list."
    if not quote.stale:  # compact cell; the tooltip (and the title line) say it in full
        return "ok", quote.as_of.isoformat(), describe_source(quote.source, quote.quoted_at or close_of(quote.as_of),
                                                              delayed=quote.delayed)
    as_of = quote.as_of.isoformat()
    on_day = f" for the replay day {day.isoformat()}" if day else ""
    moved = ""
    if not is_missing(quote.change_pct):
        moved = f" (its move on {as_of} was {_signed(quote.change)} / {_signed_pct(quote.change_pct)})"
    note = (f"Stale: the recorded data ends {as_of}. Last is the close of {as_of}; "
            f"no change is shown{on_day}{moved}.")
    age = f" ({(day - quote.as_of).days} d old)" if day is not None else ""
    note = f"{describe_source(quote.source, close_of(quote.as_of), today=day)}\n{note}"
    return "stale", f"{as_of}{age}", note


def symbol_record(pos: int, item: WatchlistItem, quotes: Mapping[str, Quote | None], day: date | None) -> dict[str, Any]:
    """One table row: the item and its quote (NaN numbers when there is no quote).

    A stale quote gives NaN change figures (so they neither sort nor colour as a move) and
    ``shown`` texts: "as of <date>" in the change columns, last price and volume with their date.
    """
    quote = quotes.get(item.symbol)
    state, as_of, note = _state(item, quotes, day)
    name = f"{item.exchange}:{item.symbol}" if item.exchange else item.symbol
    tip = "\n".join(t for t in (name + (f" · section {item.section}" if item.section else ""), note) if t)
    stale = quote is not None and state == "stale"
    shown: dict[str, str] = {}
    if quote is not None and stale:
        short = _day_month(quote.as_of)  # the full date is in the change and as-of cells of the row
        shown = {"last": f"{fmt_num(quote.last)} ({short})", "change": f"as of {quote.as_of.isoformat()}",
                 "change_pct": f"as of {quote.as_of.isoformat()}"}
        if not is_missing(quote.volume):
            shown["volume"] = f"{_compact(quote.volume)} ({short})"
    return {"pos": pos, "symbol": item.symbol, "exchange": item.exchange, "section": item.section,
            "last": quote.last if quote else math.nan,
            "change": quote.change if quote and not stale else math.nan,
            "change_pct": quote.change_pct if quote and not stale else math.nan,
            "volume": quote.volume if quote else math.nan,
            "as_of": as_of, "state": state, "tip": tip, "shown": shown, "item": item}
