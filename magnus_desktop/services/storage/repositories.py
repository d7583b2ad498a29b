"""Repositories: the only code that reads or writes ORM rows; they return ``models.domain`` values.

Every method is blocking (call it on the DB executor thread) and runs in one transaction: it either
stores everything or nothing. Errors are ``services.storage.StorageError`` subclasses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from magnus_desktop.models.domain import (
    AccountRecord,
    Fill,
    OptionContract,
    OrderTicket,
    Ticket,
    Watchlist,
    WatchlistItem,
)
from magnus_desktop.models.orm import (
    AccountRow,
    FillRow,
    OrderRow,
    ScanResultRow,
    WatchlistItemRow,
    WatchlistRow,
)
from magnus_desktop.services.storage.database import ConstraintViolation, Database, StorageError

ACCOUNT_KINDS = ("demo", "ib", "robinhood")


class DuplicateName(StorageError):
    """A watchlist (or account) with that name already exists."""


class NotFound(StorageError):
    """The watchlist, item or account does not exist (any more)."""


class AccountRepo:
    """Trading accounts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_or_create(self, name: str, kind: str, starting_cash: float) -> AccountRecord:
        """The account called ``name``, created with ``kind`` and ``starting_cash`` (USD) if new.

        Raises:
            ValueError: unknown ``kind`` or a non-finite ``starting_cash``.
            StorageError: the database failed.
        """
        if kind not in ACCOUNT_KINDS:
            raise ValueError(f"Account kind must be one of {ACCOUNT_KINDS}, not {kind!r}")
        if not math.isfinite(starting_cash):
            raise ValueError("Starting cash must be a finite number of USD")
        with self.db.session() as s:
            row = s.scalar(select(AccountRow).where(AccountRow.name == name))
            if row is None:
                row = AccountRow(name=name, kind=kind, starting_cash=float(starting_cash))
                s.add(row)
                s.flush()
            return AccountRecord(row.id, row.name, row.kind, row.starting_cash)

    def delete_account_trades(self, account_id: int) -> int:
        """Delete every order and fill of ``account_id`` (reset of the demo account).

        Returns:
            Number of orders deleted (their fills go with them).
        """
        with self.db.session() as s:
            s.execute(delete(FillRow).where(FillRow.account_id == account_id))
            result = s.execute(delete(OrderRow).where(OrderRow.account_id == account_id))
            return int(getattr(result, "rowcount", 0) or 0)


class TradeRepo:
    """Orders and fills; an ``order_ref`` is stored at most once (idempotent submission)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record_fill(self, ticket: OrderTicket, fill: Fill) -> bool:
        """Store a filled single-leg order and its fill atomically (:meth:`record_fills` of one fill)."""
        return self.record_fills(ticket, (fill,))

    def record_fills(self, ticket: Ticket, fills: Sequence[Fill]) -> bool:
        """Store a filled order and one fill per leg in one transaction: every leg or none.

        A combo is one order row (``order_ref`` unique; its contract columns name the first leg,
        ``action`` is SELL for a net credit and BUY for a net debit, ``message`` lists the legs) and
        one fill row per leg.

        Returns:
            True when stored; False when ``ticket.order_ref`` was already stored (nothing inserted).

        Raises:
            ValueError: the fills do not belong to ``ticket`` (other ref, leg, side or contract).
            StorageError: the database failed; nothing was stored.
        """
        legs = ticket.legs
        if len(fills) != len(legs):
            raise ValueError(f"An order of {len(legs)} leg(s) needs {len(legs)} fill(s), got {len(fills)}")
        for leg, fill in zip(legs, fills, strict=True):
            if fill.order_ref != ticket.order_ref or fill.contract != leg.contract:
                raise ValueError("The fill does not belong to this order (order_ref or contract differ)")
            if fill.qty == 0 or (fill.qty < 0) != (leg.action == "SELL"):
                raise ValueError(f"A {leg.action} fill needs a {'negative' if leg.action == 'SELL' else 'positive'} qty")
        if not isinstance(ticket, OrderTicket):
            credit = sum(-f.qty * f.price for f in fills) >= 0
            message = ticket.describe()
            head = OrderTicket(legs[0].contract, "SELL" if credit else "BUY", ticket.qty,  # type: ignore[arg-type]
                               abs(ticket.limit_price), ticket.order_ref, ticket.trade_date, ticket.account_id)
            return self._store(head, "filled", message, fills)
        return self._store(ticket, "filled", "", fills)

    def record_rejection(self, ticket: OrderTicket, message: str) -> bool:
        """Store a rejected order with the reason shown to the trader.

        Returns:
            True when stored; False when ``ticket.order_ref`` was already stored.
        """
        return self._store(ticket, "rejected", message, ())

    def _store(self, ticket: OrderTicket, status: str, message: str, fills: Sequence[Fill]) -> bool:
        if ticket.qty <= 0 or ticket.action not in ("BUY", "SELL"):
            raise ValueError("An order needs action BUY or SELL and a positive qty")
        try:
            with self.db.session() as s:
                if self._exists(s, ticket.order_ref):
                    return False
                order = OrderRow(
                    account_id=ticket.account_id, order_ref=ticket.order_ref, trade_date=ticket.trade_date,
                    action=ticket.action, qty=ticket.qty, limit_price=_nan_to_none(ticket.limit_price),
                    status=status, message=message, **_contract_fields(ticket.contract),
                )
                s.add(order)
                s.flush()
                for fill in fills:
                    s.add(FillRow(order_id=order.id, account_id=fill.account_id, fill_date=fill.fill_date,
                                  qty=fill.qty, price=fill.price, commission=fill.commission,
                                  **_contract_fields(fill.contract)))
                return True
        except ConstraintViolation:
            with self.db.session() as s:  # a concurrent writer stored the same ref first
                if self._exists(s, ticket.order_ref):
                    return False
            raise

    @staticmethod
    def _exists(s: Session, order_ref: str) -> bool:
        return s.scalar(select(OrderRow.id).where(OrderRow.order_ref == order_ref)) is not None

    def fills(self, account_id: int, up_to: date | None = None) -> list[Fill]:
        """Fills of ``account_id`` (on or before ``up_to`` when given), by fill date then entry order."""
        query = (
            select(FillRow, OrderRow.order_ref)
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(FillRow.account_id == account_id)
            .order_by(FillRow.fill_date, FillRow.id)
        )
        if up_to is not None:
            query = query.where(FillRow.fill_date <= up_to)
        with self.db.session() as s:
            return [_fill(row, ref) for row, ref in s.execute(query)]


class WatchlistRepo:
    """Named, ordered watchlists of symbols."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self) -> list[Watchlist]:
        """Every watchlist by position, each with its items by position."""
        with self.db.session() as s:
            lists = s.scalars(select(WatchlistRow).order_by(WatchlistRow.position, WatchlistRow.id)).all()
            items = s.scalars(select(WatchlistItemRow).order_by(WatchlistItemRow.position, WatchlistItemRow.id))
            by_list: dict[int, list[WatchlistItem]] = {}
            for it in items:
                by_list.setdefault(it.watchlist_id, []).append(WatchlistItem(it.symbol, it.exchange, it.section))
            return [Watchlist(w.id, w.name, w.position, tuple(by_list.get(w.id, ()))) for w in lists]

    def create(self, name: str, items: Sequence[WatchlistItem] = ()) -> int:
        """Create a list at the end holding ``items`` (as ``add_items`` would add them), in one
        transaction: on any error neither the list nor an item is stored. Returns its id.

        Raises:
            ValueError: empty name.
            DuplicateName: a list with that name exists.
        """
        name = _clean_name(name)
        with _duplicate_name_guard(name), self.db.session() as s:
            position = s.scalar(select(func.coalesce(func.max(WatchlistRow.position) + 1, 0)))
            row = WatchlistRow(name=name, position=int(position or 0))
            s.add(row)
            s.flush()
            _append_items(s, row.id, items)
            return row.id

    def rename(self, watchlist_id: int, name: str) -> None:
        """Rename a list. Raises ``DuplicateName``, ``NotFound``, ``ValueError`` (empty name)."""
        name = _clean_name(name)
        with _duplicate_name_guard(name), self.db.session() as s:
            _get_list(s, watchlist_id).name = name

    def delete(self, watchlist_id: int) -> None:
        """Delete a list and its items; the other lists close the gap. Raises ``NotFound``."""
        with self.db.session() as s:
            s.delete(_get_list(s, watchlist_id))
            s.flush()
            _renumber(s.scalars(select(WatchlistRow).order_by(WatchlistRow.position, WatchlistRow.id)).all())

    def move(self, watchlist_id: int, new_position: int) -> None:
        """Move a list to ``new_position`` (0 = first; clamped to the end). Raises ``NotFound``."""
        with self.db.session() as s:
            rows = list(s.scalars(select(WatchlistRow).order_by(WatchlistRow.position, WatchlistRow.id)))
            row = _get_list(s, watchlist_id)
            rows.remove(row)
            rows.insert(max(0, min(new_position, len(rows))), row)
            _renumber(rows)

    def add_items(self, watchlist_id: int, items: Sequence[WatchlistItem]) -> int:
        """Append ``items`` not already in the list (same exchange and symbol, case-insensitive).

        Returns:
            Number of items added.

        Raises:
            NotFound: no such list.
        """
        with self.db.session() as s:
            _get_list(s, watchlist_id)
            return _append_items(s, watchlist_id, items)

    def remove_item(self, watchlist_id: int, symbol: str, exchange: str = "") -> bool:
        """Remove the item (``symbol``, ``exchange``); returns False when it was not in the list."""
        with self.db.session() as s:
            row = _find_item(s, watchlist_id, symbol, exchange)
            if row is None:
                return False
            s.delete(row)
            s.flush()
            _renumber(_items(s, watchlist_id))
            return True

    def move_item(self, watchlist_id: int, symbol: str, new_position: int, exchange: str | None = None) -> None:
        """Move an item to ``new_position`` (0 = top, clamped).

        Args:
            exchange: the item's exchange; None matches the first item with ``symbol``.

        Raises:
            NotFound: no such list or item.
        """
        with self.db.session() as s:
            rows = _items(s, watchlist_id)
            row = _find_item(s, watchlist_id, symbol, exchange)
            if row is None:
                raise NotFound(f"{symbol} is not in watchlist {watchlist_id}.")
            rows.remove(row)
            rows.insert(max(0, min(new_position, len(rows))), row)
            _renumber(rows)


class ScanResultRepo:
    """Saved scanner runs (parameters and rows as JSON; NaN and dates survive the round trip)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, as_of: date, params: dict[str, Any], rows: list[dict[str, Any]]) -> int:
        """Store a scan; returns its id. Values: numbers (NaN ok), str, bool, None, date, datetime."""
        with self.db.session() as s:
            row = ScanResultRow(as_of=as_of, params_json=_dumps(params), rows_json=_dumps(rows))
            s.add(row)
            s.flush()
            return row.id

    def latest(self) -> tuple[date, dict[str, Any], list[dict[str, Any]]] | None:
        """The most recently saved scan as ``(as_of, params, rows)``, or None."""
        with self.db.session() as s:
            row = s.scalar(select(ScanResultRow).order_by(ScanResultRow.id.desc()).limit(1))
            if row is None:
                return None
            return row.as_of, _loads(row.params_json), _loads(row.rows_json)


# ---------------------------------------------------------------------------- helpers
def _append_items(s: Session, watchlist_id: int, items: Sequence[WatchlistItem]) -> int:
    """Insert the ``items`` not yet in the list after its last item; returns how many."""
    existing = s.execute(
        select(WatchlistItemRow.exchange, WatchlistItemRow.symbol).where(WatchlistItemRow.watchlist_id == watchlist_id)
    )
    seen = {(exchange, symbol) for exchange, symbol in existing}
    start = s.scalar(select(func.coalesce(func.max(WatchlistItemRow.position) + 1, 0)).where(
        WatchlistItemRow.watchlist_id == watchlist_id))
    new: list[dict[str, Any]] = []
    for item in items:
        symbol, exchange = _norm(item.symbol), _norm(item.exchange)
        if not symbol or (exchange, symbol) in seen:
            continue
        seen.add((exchange, symbol))
        new.append({"watchlist_id": watchlist_id, "symbol": symbol, "exchange": exchange,
                    "section": item.section.strip(), "position": int(start or 0) + len(new)})
    if new:
        s.execute(insert(WatchlistItemRow), new)
    return len(new)


@contextmanager
def _duplicate_name_guard(name: str) -> Iterator[None]:
    """Turn a uniqueness violation into ``DuplicateName`` for ``name``."""
    try:
        yield
    except ConstraintViolation as exc:
        raise DuplicateName(f"A watchlist named {name!r} already exists; choose another name.") from exc


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("A watchlist needs a name")
    return cleaned


def _norm(text: str) -> str:
    return text.strip().upper()


def _get_list(s: Session, watchlist_id: int) -> WatchlistRow:
    row = s.get(WatchlistRow, watchlist_id)
    if row is None:
        raise NotFound(f"Watchlist {watchlist_id} does not exist (it may have been deleted).")
    return row


def _items(s: Session, watchlist_id: int) -> list[WatchlistItemRow]:
    _get_list(s, watchlist_id)
    query = select(WatchlistItemRow).where(WatchlistItemRow.watchlist_id == watchlist_id)
    return list(s.scalars(query.order_by(WatchlistItemRow.position, WatchlistItemRow.id)))


def _find_item(s: Session, watchlist_id: int, symbol: str, exchange: str | None) -> WatchlistItemRow | None:
    query = select(WatchlistItemRow).where(
        WatchlistItemRow.watchlist_id == watchlist_id, WatchlistItemRow.symbol == _norm(symbol))
    if exchange is not None:
        query = query.where(WatchlistItemRow.exchange == _norm(exchange))
    return s.scalars(query.order_by(WatchlistItemRow.position, WatchlistItemRow.id).limit(1)).first()


def _renumber(rows: Sequence[WatchlistRow | WatchlistItemRow]) -> None:
    for i, row in enumerate(rows):
        if row.position != i:
            row.position = i


def _contract_fields(c: OptionContract) -> dict[str, Any]:
    return {"underlying": c.underlying, "expiry": c.expiry, "strike": float(c.strike), "right": c.right,
            "multiplier": int(c.multiplier)}


def _fill(row: FillRow, order_ref: str) -> Fill:
    contract = OptionContract(row.underlying, row.expiry, row.strike, row.right, row.multiplier)  # type: ignore[arg-type]
    return Fill(contract=contract, qty=row.qty, price=row.price, commission=row.commission,
                fill_date=row.fill_date, order_ref=order_ref, account_id=row.account_id)


def _nan_to_none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _json_default(obj: object) -> object:
    if isinstance(obj, datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, date):
        return {"__date__": obj.isoformat()}
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"Cannot store a {type(obj).__name__} in a scan result")


def _json_hook(obj: dict[str, Any]) -> object:
    if len(obj) == 1:
        if "__date__" in obj:
            return date.fromisoformat(obj["__date__"])
        if "__datetime__" in obj:
            return datetime.fromisoformat(obj["__datetime__"])
    return obj


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, allow_nan=True)


def _loads(text: str) -> Any:
    return json.loads(text, object_hook=_json_hook)
