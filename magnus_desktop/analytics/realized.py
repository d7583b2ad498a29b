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

from magnus_desktop.models.history import POSITION_KINDS, HistoryEvent

LOT_METHOD = "FIFO"
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


@dataclass(slots=True)
class _Lot:
    qty: float  # signed remaining
    price: float
    commission_per_unit: float
    opened_at: datetime


@dataclass(slots=True)
class _Book:
    first: HistoryEvent
    lots: deque[_Lot]
    realized: float = 0.0
    realized_base: float = 0.0
    closed: float = 0.0
    unmatched: float = 0.0


def realized_pnl(events: Iterable[HistoryEvent]) -> RealizedReport:
    """FIFO realized P&L per position and per month (see the module docstring).

    Args:
        events: imported events, chronological; cash-only kinds are ignored.

    Returns:
        The lot matches, one ``PositionPnL`` per position (sorted by account, contract) and one
        ``MonthPnL`` per month and currency (sorted).
    """
    books: dict[tuple[str, str], _Book] = {}
    matches: list[LotMatch] = []
    ordered = sorted((e for e in events if e.kind in POSITION_KINDS and e.qty != 0), key=_occurred_at)
    contract_key = ContractKeys()
    for event in ordered:
        ck = contract_key(event)
        key = (event.account, ck)
        book = books.get(key)
        if book is None:
            book = books[key] = _Book(first=event, lots=deque())
        _apply(book, event, ck, matches)
    months: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for m in matches:
        cell = months[(month_of(m.closed_at), m.currency)]
        cell[0] += m.realized
        cell[1] += m.realized * m.fx_rate_to_base
    positions = [
        PositionPnL(account=acct, contract_key=ck, symbol=b.first.symbol, underlying=b.first.underlying,
                    asset_category=b.first.asset_category, currency=b.first.currency, realized=b.realized,
                    realized_base=b.realized_base, closed_qty=b.closed, open_qty=sum(lot.qty for lot in b.lots),
                    unmatched_qty=b.unmatched)
        for (acct, ck), b in sorted(books.items())
    ]
    month_rows = [MonthPnL(month, cur, v[0], v[1]) for (month, cur), v in sorted(months.items())]
    return RealizedReport(LOT_METHOD, matches, positions, month_rows)


def month_of(when: datetime | date) -> str:
    """``YYYY-MM`` of ``when``. Formatted from the fields: ``strftime`` imports a module on every
    call, which costs ~20x more inside a Qt process (shiboken hooks every import)."""
    return f"{when.year:04d}-{when.month:02d}"


_occurred_at = attrgetter("occurred_at")
_CONTRACT_FIELDS = attrgetter("asset_category", "symbol", "underlying", "expiry", "strike", "right")


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


def _apply(book: _Book, event: HistoryEvent, contract_key: str, matches: list[LotMatch]) -> None:
    qty = event.qty
    if event.kind != "trade" and book.lots and (book.lots[0].qty > 0) == (qty > 0):
        qty = -qty  # an expiration/assignment always closes what is open
    price = 0.0 if event.kind != "trade" else float(event.price or 0.0)
    fee_per_unit = event.commission / abs(event.qty)
    remaining = qty
    while abs(remaining) > _EPS and book.lots and (book.lots[0].qty > 0) != (remaining > 0):
        lot = book.lots[0]
        size = min(abs(remaining), abs(lot.qty))
        sign = 1.0 if lot.qty > 0 else -1.0
        pnl = ((price - lot.price) * size * event.multiplier * sign
               - lot.commission_per_unit * size - fee_per_unit * size)
        matches.append(LotMatch(event.account, contract_key, event.symbol, lot.opened_at, event.occurred_at,
                                sign * size, lot.price, price, event.multiplier, pnl, event.currency,
                                event.fx_rate_to_base))
        book.realized += pnl
        book.realized_base += pnl * event.fx_rate_to_base
        book.closed += size
        lot.qty -= sign * size
        remaining += sign * size
        if abs(lot.qty) <= _EPS:
            book.lots.popleft()
    if abs(remaining) <= _EPS:
        return
    if event.open_close == "C" or event.kind != "trade":
        book.unmatched += abs(remaining)
        return
    book.lots.append(_Lot(remaining, price, fee_per_unit, event.occurred_at))
