"""Realized P&L of imported trade history: FIFO lots per position, per position and per month.

Pure Python, no I/O. Input: ``models.history.HistoryEvent`` values in chronological order (the
sort here is stable on ``occurred_at``, so events with the same time keep the given order).

Method (``LOT_METHOD = "FIFO"``): per account and contract, opening trades add lots; a trade of
the opposite sign closes the oldest lots first. Realized P&L of a match, in the trade currency::

    (close_price - open_price) x closed_qty x multiplier x sign(lot)
    - open commission per unit x closed_qty - close commission per unit x closed_qty

An expiration, assignment or exercise closes the option at price 0 (the premium is realized on
the option; it is not folded into the stock's cost basis). A closing trade (broker says ``C``)
that finds no open lot (the position was opened before the file's period) is reported as
``unmatched_qty`` and realizes nothing: its cost is unknown. Without an open/close mark a trade
beyond the open lots opens a new lot (a short sale for a sell). Months are the close date's
``YYYY-MM``; amounts stay in their currency, and ``realized_base`` converts at the closing
event's ``fx_rate_to_base``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from magnus_desktop.models.history import POSITION_KINDS, HistoryEvent, PositionEvent, contract_key_of

LOT_METHOD = "FIFO"
#: What the analytics accept: whole events or the lighter tuples the trade-history dock reads.
PositionLike = HistoryEvent | PositionEvent
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class LotMatch:
    """One closed piece of a lot.

    Attributes:
        qty: closed quantity with the lot's sign (long > 0, short < 0), shares or contracts.
        open_price, close_price: per share/unit in ``currency``.
        realized: P&L in ``currency`` after both commissions' shares.
    """

    account: str
    contract_key: str
    symbol: str
    opened_at: datetime
    closed_at: datetime
    qty: float
    open_price: float
    close_price: float
    multiplier: float
    realized: float
    currency: str
    fx_rate_to_base: float


@dataclass(frozen=True, slots=True)
class PositionPnL:
    """Realized P&L of one position (account + contract) over the events given.

    Attributes:
        realized: in ``currency``; ``realized_base`` in the base currency.
        closed_qty: absolute quantity closed against lots.
        open_qty: signed quantity still open at the end.
        unmatched_qty: absolute quantity closed with no known lot (opened before the data).
    """

    account: str
    contract_key: str
    symbol: str
    underlying: str
    asset_category: str
    currency: str
    realized: float
    realized_base: float
    closed_qty: float
    open_qty: float
    unmatched_qty: float
    lot_method: str = LOT_METHOD


@dataclass(frozen=True, slots=True)
class MonthPnL:
    """Realized P&L of one calendar month (close date) in one currency."""

    month: str  # YYYY-MM
    currency: str
    realized: float
    realized_base: float


@dataclass(frozen=True, slots=True)
class RealizedReport:
    lot_method: str
    matches: list[LotMatch]
    positions: list[PositionPnL]
    months: list[MonthPnL]


class _Book:
    """One position's open lots (FIFO) and running totals; a lot is ``[signed remaining qty, price,
    commission per unit, opened_at]`` (a list: updated in place as it is closed piece by piece)."""

    __slots__ = ("first", "key", "lots", "realized", "realized_base", "closed", "unmatched")

    def __init__(self, first: PositionLike, key: str) -> None:
        self.first = first
        self.key = key
        self.lots: deque[list[Any]] = deque()
        self.realized = 0.0
        self.realized_base = 0.0
        self.closed = 0.0
        self.unmatched = 0.0


def realized_pnl(events: Iterable[PositionLike]) -> RealizedReport:
    """FIFO realized P&L per position and per month (see the module docstring).

    Args:
        events: imported events (``HistoryEvent`` or the lighter ``PositionEvent``), chronological;
            cash-only kinds are ignored.

    Returns:
        The lot matches, one ``PositionPnL`` per position (sorted by account, contract) and one
        ``MonthPnL`` per month and currency (sorted).
    """
    books: dict[tuple[str, str], _Book] = {}
    by_fields: dict[tuple[Any, ...], _Book] = {}  # the same position by its raw contract fields
    matches: list[LotMatch] = []
    append = matches.append
    ordered = sorted((e for e in events if e.kind in POSITION_KINDS and e.qty != 0), key=_occurred_at)
    for event in ordered:
        fields = _POSITION_FIELDS(event)
        book = by_fields.get(fields)
        if book is None:
            ck = contract_key_of(*fields[1:])
            book = books.get((event.account, ck))
            if book is None:
                book = books[(event.account, ck)] = _Book(event, ck)
            by_fields[fields] = book
        # one event against the book's lots, oldest first
        qty = event.qty
        kind = event.kind
        lots = book.lots
        if kind != "trade" and lots and (lots[0][0] > 0) == (qty > 0):
            qty = -qty  # an expiration/assignment always closes what is open
        price = 0.0 if kind != "trade" else float(event.price or 0.0)
        fee_per_unit = event.commission / abs(event.qty)
        remaining = qty
        if lots and abs(remaining) > _EPS and (lots[0][0] > 0) != (remaining > 0):
            account, multiplier, closed_at = event.account, event.multiplier, event.occurred_at
            currency, fx = event.currency, event.fx_rate_to_base
            while abs(remaining) > _EPS and lots and (lots[0][0] > 0) != (remaining > 0):
                lot = lots[0]
                lot_qty, lot_price = lot[0], lot[1]
                size = min(abs(remaining), abs(lot_qty))
                sign = 1.0 if lot_qty > 0 else -1.0
                pnl = ((price - lot_price) * size * multiplier * sign
                       - lot[2] * size - fee_per_unit * size)
                append(LotMatch(account, book.key, event.symbol, lot[3], closed_at, sign * size,
                                lot_price, price, multiplier, pnl, currency, fx))
                book.realized += pnl
                book.realized_base += pnl * fx
                book.closed += size
                lot[0] = lot_qty = lot_qty - sign * size
                remaining += sign * size
                if abs(lot_qty) <= _EPS:
                    lots.popleft()
        if abs(remaining) <= _EPS:
            continue
        if event.open_close == "C" or kind != "trade":
            book.unmatched += abs(remaining)
            continue
        lots.append([remaining, price, fee_per_unit, event.occurred_at])
    months: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    month_name = MonthNames()
    for m in matches:
        cell = months[(month_name(m.closed_at), m.currency)]
        cell[0] += m.realized
        cell[1] += m.realized * m.fx_rate_to_base
    positions = [
        PositionPnL(account=acct, contract_key=ck, symbol=b.first.symbol, underlying=b.first.underlying,
                    asset_category=b.first.asset_category, currency=b.first.currency, realized=b.realized,
                    realized_base=b.realized_base, closed_qty=b.closed, open_qty=sum(lot[0] for lot in b.lots),
                    unmatched_qty=b.unmatched)
        for (acct, ck), b in sorted(books.items())
    ]
    month_rows = [MonthPnL(month, cur, v[0], v[1]) for (month, cur), v in sorted(months.items())]
    return RealizedReport(LOT_METHOD, matches, positions, month_rows)


def month_of(when: datetime | date) -> str:
    """``YYYY-MM`` of ``when``. Formatted from the fields: ``strftime`` imports a module on every
    call, which costs ~20x more inside a Qt process (shiboken hooks every import)."""
    return f"{when.year:04d}-{when.month:02d}"


class MonthNames(dict[tuple[int, int], str]):
    """``names(when)`` is :func:`month_of` ``(when)``, memoised per (year, month): a history closes
    many lots in few months."""

    def __call__(self, when: datetime | date) -> str:
        key = (when.year, when.month)
        name = self.get(key)
        if name is None:
            name = self[key] = month_of(when)
        return name


_occurred_at = attrgetter("occurred_at")
_CONTRACT_FIELDS = attrgetter("asset_category", "symbol", "underlying", "expiry", "strike", "right")
#: account, then the fields of ``contract_key_of``
_POSITION_FIELDS = attrgetter("account", "asset_category", "symbol", "underlying", "expiry", "strike", "right")


class ContractKeys:
    """``event.contract_key``, memoised per distinct contract fields (the property formats the
    expiry and strike on every call; a history repeats few contracts many times)."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[tuple[object, ...], str] = {}

    def __call__(self, event: HistoryEvent) -> str:
        fields = _CONTRACT_FIELDS(event)
        key = self._memo.get(fields)
        if key is None:
            key = self._memo[fields] = event.contract_key
        return key
