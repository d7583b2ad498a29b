"""The streamlined FIFO (``analytics.realized.realized_pnl``) and the lean read of the trade-history
dock (``load_position_rows`` → ``PositionEvent`` tuples) give exactly the figures of the previous
per-event implementation, kept here as the oracle (``_reference_realized``: the FIFO as it was
written before, one ``_Lot`` dataclass per lot), on the real broker exports and on a synthetic
history of repeated real rows with fresh ids."""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from pathlib import Path

import pytest

from magnus_desktop.analytics.realized import (
    LOT_METHOD,
    ContractKeys,
    LotMatch,
    MonthPnL,
    PositionPnL,
    RealizedReport,
    month_of,
    realized_pnl,
)
from magnus_desktop.models.history import POSITION_KINDS, HistoryEvent, PositionEvent
from magnus_desktop.services.history import build_snapshot
from magnus_desktop.services.imports import import_file, load_events, load_position_rows, parse_file
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"
_EPS = 1e-9


@dataclasses.dataclass(slots=True)
class _Lot:
    qty: float
    price: float
    commission_per_unit: float
    opened_at: object


@dataclasses.dataclass(slots=True)
class _Book:
    first: HistoryEvent
    lots: deque[_Lot]
    realized: float = 0.0
    realized_base: float = 0.0
    closed: float = 0.0
    unmatched: float = 0.0


def _reference_realized(events: list[HistoryEvent]) -> RealizedReport:
    """The FIFO as implemented before the streamlining (one event at a time, ``_apply``)."""
    books: dict[tuple[str, str], _Book] = {}
    matches: list[LotMatch] = []
    ordered = sorted((e for e in events if e.kind in POSITION_KINDS and e.qty != 0), key=lambda e: e.occurred_at)
    contract_key = ContractKeys()
    for event in ordered:
        ck = contract_key(event)
        book = books.setdefault((event.account, ck), _Book(first=event, lots=deque()))
        qty = event.qty
        if event.kind != "trade" and book.lots and (book.lots[0].qty > 0) == (qty > 0):
            qty = -qty
        price = 0.0 if event.kind != "trade" else float(event.price or 0.0)
        fee_per_unit = event.commission / abs(event.qty)
        remaining = qty
        while abs(remaining) > _EPS and book.lots and (book.lots[0].qty > 0) != (remaining > 0):
            lot = book.lots[0]
            size = min(abs(remaining), abs(lot.qty))
            sign = 1.0 if lot.qty > 0 else -1.0
            pnl = ((price - lot.price) * size * event.multiplier * sign
                   - lot.commission_per_unit * size - fee_per_unit * size)
            matches.append(LotMatch(event.account, ck, event.symbol, lot.opened_at, event.occurred_at,  # type: ignore[arg-type]
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
            continue
        if event.open_close == "C" or event.kind != "trade":
            book.unmatched += abs(remaining)
            continue
        book.lots.append(_Lot(remaining, price, fee_per_unit, event.occurred_at))
    months: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for m in matches:
        cell = months[(month_of(m.closed_at), m.currency)]
        cell[0] += m.realized
        cell[1] += m.realized * m.fx_rate_to_base
    positions = [
        PositionPnL(acct, ck, b.first.symbol, b.first.underlying, b.first.asset_category, b.first.currency, b.realized,
                    b.realized_base, b.closed, sum(lot.qty for lot in b.lots), b.unmatched)
        for (acct, ck), b in sorted(books.items())
    ]
    return RealizedReport(LOT_METHOD, matches, positions,
                          [MonthPnL(month, cur, v[0], v[1]) for (month, cur), v in sorted(months.items())])


def _lean(events: list[HistoryEvent]) -> list[PositionEvent]:
    return [PositionEvent(*(getattr(e, f) for f in PositionEvent._fields)) for e in events]


def _check(events: list[HistoryEvent]) -> RealizedReport:
    expected = _reference_realized(events)
    assert repr(realized_pnl(events)) == repr(expected)
    assert repr(realized_pnl(_lean(events))) == repr(expected)
    return expected


def test_the_flex_statement_gives_the_figures_of_the_previous_fifo() -> None:
    report = _check(parse_file(FLEX).events)
    assert report.matches and report.positions


def test_the_robinhood_export_gives_the_figures_of_the_previous_fifo(shared_data: Path) -> None:
    path = shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv"
    report = _check(parse_file(path).events)
    assert len(report.matches) > 10 and any(p.unmatched_qty for p in report.positions)


def test_both_real_files_shuffled_together_give_the_figures_of_the_previous_fifo(shared_data: Path) -> None:
    events = parse_file(FLEX).events + parse_file(shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv").events
    _check(events[::-1])  # the sort is stable: ties keep this (reversed) order in both


def test_a_synthetic_history_of_repeated_real_rows_gives_the_figures_of_the_previous_fifo(tmp_path: Path) -> None:
    from benchmarks.bench_imports import synthetic_flex

    events = parse_file(synthetic_flex(3_000, tmp_path / "flex.xml")).events
    report = _check(events)
    assert len(report.matches) > 500


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database.open(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield database
    database.close()


def test_the_lean_read_gives_the_position_events_and_the_same_snapshot(db: Database, shared_data: Path,
                                                                       tmp_path: Path) -> None:
    """``load_position_rows`` = the stored position events' analytics fields, oldest first; the dock's
    snapshot from them equals the one from whole events."""
    from benchmarks.bench_imports import synthetic_flex

    import_file(db, FLEX)
    import_file(db, shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv")
    import_file(db, synthetic_flex(2_000, tmp_path / "flex.xml"), account="SYNTH")
    whole = load_events(db)
    stored, lean = load_position_rows(db)
    assert stored == len(whole)
    assert lean == _lean([e for e in whole if e.kind in POSITION_KINDS and e.qty != 0])
    assert all(type(e) is PositionEvent for e in lean)
    assert repr(build_snapshot(lean, stored)) == repr(build_snapshot(whole))
    one_stored, one = load_position_rows(db, "SYNTH")
    assert one_stored == sum(e.account == "SYNTH" for e in whole) and {e.account for e in one} == {"SYNTH"}
