"""Repositories round trips on SQLite and a real PostgreSQL (fixtures in conftest.py)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from magnus_desktop.models.domain import Fill, OptionContract, OrderTicket, WatchlistItem
from magnus_desktop.models.orm import FillRow, OrderRow, WatchlistItemRow
from magnus_desktop.services.storage import ConstraintViolation, Database
from magnus_desktop.services.storage.repositories import (
    AccountRepo,
    DuplicateName,
    NotFound,
    ScanResultRepo,
    TradeRepo,
    WatchlistRepo,
)

PUT = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
CALL = OptionContract("SPXW", date(2018, 2, 28), 2900.0, "C", multiplier=100)


def _trade(account_id: int, ref: str, day: date, action: str = "SELL", qty: int = 2,
           contract: OptionContract = PUT, price: float = 10.5) -> tuple[OrderTicket, Fill]:
    ticket = OrderTicket(contract, action, qty, math.nan, ref, day, account_id)  # type: ignore[arg-type]
    fill = Fill(contract, ticket.signed_qty, price, 0.65 * qty, day, ref, account_id)
    return ticket, fill


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------- accounts
def test_account_get_or_create_returns_the_existing_account(db: Database) -> None:
    repo = AccountRepo(db)
    first = repo.get_or_create("Demo", "demo", 100_000.0)
    again = repo.get_or_create("Demo", "demo", 5.0)
    other = repo.get_or_create("IB main", "ib", 25_000.0)
    assert again == first and first.starting_cash == 100_000.0 and first.kind == "demo"
    assert other.account_id != first.account_id
    with pytest.raises(ValueError, match="kind"):
        repo.get_or_create("x", "futures", 1.0)
    with pytest.raises(ValueError, match="finite"):
        repo.get_or_create("x", "demo", math.nan)


def test_delete_account_trades_only_touches_that_account(db: Database) -> None:
    accounts, trades = AccountRepo(db), TradeRepo(db)
    demo = accounts.get_or_create("Demo", "demo", 1e5).account_id
    ib = accounts.get_or_create("IB", "ib", 1e5).account_id
    trades.record_fill(*_trade(demo, "d1", date(2018, 1, 2)))
    trades.record_rejection(_trade(demo, "d2", date(2018, 1, 2))[0], "no bid")
    trades.record_fill(*_trade(ib, "i1", date(2018, 1, 3)))
    assert accounts.delete_account_trades(demo) == 2
    assert trades.fills(demo) == []
    assert [f.order_ref for f in trades.fills(ib)] == ["i1"]
    assert trades.record_fill(*_trade(demo, "d1", date(2018, 1, 4)))  # the ref is free again


# ------------------------------------------------------------------------------ trades
def test_fills_round_trip_ordered_by_date_then_entry(db: Database) -> None:
    acc = AccountRepo(db).get_or_create("Demo", "demo", 1e5).account_id
    repo = TradeRepo(db)
    stored = [
        _trade(acc, "b", date(2018, 1, 5), "SELL", 3, PUT, 12.25)[1],
        _trade(acc, "a", date(2018, 1, 2), "BUY", 1, CALL, 4.0)[1],
        _trade(acc, "c", date(2018, 1, 5), "BUY", 3, PUT, 6.5)[1],
    ]
    for fill in stored:
        ticket = OrderTicket(fill.contract, "SELL" if fill.qty < 0 else "BUY", abs(fill.qty), 11.0,
                             fill.order_ref, fill.fill_date, acc)
        assert repo.record_fill(ticket, fill) is True
    assert repo.fills(acc) == [stored[1], stored[0], stored[2]]
    assert repo.fills(acc, up_to=date(2018, 1, 4)) == [stored[1]]
    assert repo.fills(acc + 1) == []


def test_record_fill_is_idempotent_by_order_ref(db: Database) -> None:
    acc = AccountRepo(db).get_or_create("Demo", "demo", 1e5).account_id
    repo = TradeRepo(db)
    ticket, fill = _trade(acc, "ref-1", date(2018, 1, 2))
    assert repo.record_fill(ticket, fill) is True
    assert repo.record_fill(ticket, fill) is False
    assert repo.record_rejection(ticket, "dup") is False
    assert (_count(db, OrderRow), _count(db, FillRow)) == (1, 1)
    with db.session() as s:
        order = s.scalars(select(OrderRow)).one()
        assert (order.status, order.action, order.qty, order.limit_price) == ("filled", "SELL", 2, None)


def test_rejection_is_stored_without_a_fill(db: Database) -> None:
    acc = AccountRepo(db).get_or_create("Demo", "demo", 1e5).account_id
    ticket = OrderTicket(CALL, "SELL", 1, 3.25, "rej-1", date(2018, 1, 2), acc)
    assert TradeRepo(db).record_rejection(ticket, "covered call needs shares") is True
    assert TradeRepo(db).fills(acc) == []
    with db.session() as s:
        order = s.scalars(select(OrderRow)).one()
        assert (order.status, order.message, order.limit_price) == ("rejected", "covered call needs shares", 3.25)


def test_fill_that_does_not_match_its_order_is_refused(db: Database) -> None:
    acc = AccountRepo(db).get_or_create("Demo", "demo", 1e5).account_id
    ticket, fill = _trade(acc, "x", date(2018, 1, 2))
    with pytest.raises(ValueError, match="does not belong"):
        TradeRepo(db).record_fill(ticket, Fill(CALL, -2, 1.0, 0.0, fill.fill_date, "x", acc))
    with pytest.raises(ValueError, match="negative"):
        TradeRepo(db).record_fill(ticket, Fill(PUT, 2, 1.0, 0.0, fill.fill_date, "x", acc))
    assert _count(db, OrderRow) == 0


def test_fill_for_an_unknown_account_stores_nothing(db: Database) -> None:
    with pytest.raises(ConstraintViolation):
        TradeRepo(db).record_fill(*_trade(999, "orphan", date(2018, 1, 2)))
    assert (_count(db, OrderRow), _count(db, FillRow)) == (0, 0)


# -------------------------------------------------------------------------- watchlists
def test_watchlists_round_trip_with_dedupe_and_order(db: Database) -> None:
    repo = WatchlistRepo(db)
    tech, energy = repo.create("Tech"), repo.create("Energy")
    items = [WatchlistItem("aapl", "nasdaq", "Mega"), WatchlistItem("MSFT", "NASDAQ", "Mega"),
             WatchlistItem("AAPL", "NASDAQ"), WatchlistItem("AAPL", "BATS"), WatchlistItem("  ")]
    assert repo.add_items(tech, items) == 3
    assert repo.add_items(tech, [WatchlistItem("MSFT", "NASDAQ"), WatchlistItem("NVDA", "NASDAQ")]) == 1
    assert repo.add_items(energy, [WatchlistItem("XOM", "NYSE")]) == 1
    lists = repo.list()
    assert [(w.watchlist_id, w.name, w.position) for w in lists] == [(tech, "Tech", 0), (energy, "Energy", 1)]
    assert lists[0].items == (
        WatchlistItem("AAPL", "NASDAQ", "Mega"), WatchlistItem("MSFT", "NASDAQ", "Mega"),
        WatchlistItem("AAPL", "BATS"), WatchlistItem("NVDA", "NASDAQ"),
    )


def test_duplicate_watchlist_name_is_a_clear_error(db: Database) -> None:
    repo = WatchlistRepo(db)
    repo.create("Tech")
    other = repo.create("Energy")
    with pytest.raises(DuplicateName, match="'Tech' already exists"):
        repo.create(" Tech ")
    with pytest.raises(DuplicateName):
        repo.rename(other, "Tech")
    with pytest.raises(ValueError):
        repo.create("   ")
    repo.rename(other, "Oil & Gas")
    assert [w.name for w in repo.list()] == ["Tech", "Oil & Gas"]


def test_delete_cascades_to_items_and_closes_the_gap(db: Database) -> None:
    repo = WatchlistRepo(db)
    a, b, c = (repo.create(n) for n in ("A", "B", "C"))
    repo.add_items(b, [WatchlistItem("SPY"), WatchlistItem("QQQ")])
    repo.add_items(c, [WatchlistItem("IWM")])
    repo.delete(b)
    assert [(w.watchlist_id, w.position) for w in repo.list()] == [(a, 0), (c, 1)]
    assert _count(db, WatchlistItemRow) == 1
    with pytest.raises(NotFound):
        repo.delete(b)
    with pytest.raises(NotFound):
        repo.add_items(b, [WatchlistItem("SPY")])


def test_reorder_lists_and_items(db: Database) -> None:
    repo = WatchlistRepo(db)
    a, b, c = (repo.create(n) for n in ("A", "B", "C"))
    repo.move(c, 0)
    assert [w.name for w in repo.list()] == ["C", "A", "B"]
    repo.move(c, 99)
    assert [(w.name, w.position) for w in repo.list()] == [("A", 0), ("B", 1), ("C", 2)]
    repo.add_items(a, [WatchlistItem(s) for s in ("SPY", "QQQ", "IWM", "DIA")])
    repo.move_item(a, "dia", 0)
    repo.move_item(a, "SPY", 2)
    assert [i.symbol for i in repo.list()[0].items] == ["DIA", "QQQ", "SPY", "IWM"]
    assert repo.remove_item(a, "QQQ") is True and repo.remove_item(a, "QQQ") is False
    assert [i.symbol for i in repo.list()[0].items] == ["DIA", "SPY", "IWM"]
    with db.session() as s:
        positions = s.scalars(select(WatchlistItemRow.position).order_by(WatchlistItemRow.position)).all()
    assert positions == [0, 1, 2]
    with pytest.raises(NotFound):
        repo.move_item(a, "TSLA", 0)


def test_add_items_bulk(db: Database) -> None:
    repo = WatchlistRepo(db)
    wl = repo.create("Everything")
    symbols = [WatchlistItem(f"S{i:04d}", "NYSE") for i in range(2000)]
    assert repo.add_items(wl, symbols + symbols[:10]) == 2000
    items = repo.list()[0].items
    assert len(items) == 2000 and items[0].symbol == "S0000" and items[-1].symbol == "S1999"


# ------------------------------------------------------------------------ scan results
def test_scan_results_round_trip_nan_dates_and_numpy(db: Database) -> None:
    repo = ScanResultRepo(db)
    assert repo.latest() is None
    repo.save(date(2018, 1, 2), {"min_dte": 20}, [{"strike": 2500.0}])
    rows: list[dict[str, Any]] = [
        {"underlying": "SPXW", "expiry": date(2018, 2, 16), "strike": np.float64(2600.0), "bid": math.nan,
         "open_interest": np.int64(1200), "liquid": True, "note": None},
    ]
    params = {"min_dte": 30, "max_delta": 0.3, "as_of": datetime(2018, 1, 3, 15, 30)}
    repo.save(date(2018, 1, 3), params, rows)
    as_of, got_params, got_rows = repo.latest()  # type: ignore[misc]
    assert as_of == date(2018, 1, 3) and got_params == params
    (row,) = got_rows
    assert math.isnan(row.pop("bid"))
    assert row == {"underlying": "SPXW", "expiry": date(2018, 2, 16), "strike": 2600.0,
                   "open_interest": 1200, "liquid": True, "note": None}
    with pytest.raises(TypeError, match="Cannot store"):
        repo.save(date(2018, 1, 4), {"bad": object()}, [])
    assert repo.latest()[0] == date(2018, 1, 3)  # type: ignore[index]
