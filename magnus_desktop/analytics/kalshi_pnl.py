"""Realized P&L of our Kalshi positions from their fills and settlements (pure, no I/O).

A Kalshi position is kept in **YES-equivalent** contracts (Kalshi nets a NO against a YES of the same
market): buying YES or selling NO is +count YES at the fill's YES price; selling YES or buying NO is
-count YES at the fill's YES price (``yes_price_cents = 100 - no_price_cents``). A position still
held when the market settles is closed at what one YES paid: 100 cents (``yes``), 0 (``no``),
``value`` (``scalar``), or its cost (``void``: returned at the average cost, so it realizes only
fees). The lots are matched FIFO (``analytics.realized``), so per market::

    realized (USD) = sum over closed contracts of (exit or settlement - entry) / 100 x sign - fees

with prices in cents, fees (each fill's ``fee_cost`` and the settlement's) in USD. A NO bought at
30 cents is a short YES at 70: it makes 0.70 USD if the market settles ``no`` and loses 0.30 if ``yes``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from magnus_desktop.analytics.realized import LotMatch, realized_pnl
from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.models.kalshi import KalshiFill, KalshiSettlement

CATEGORY = "KALSHI"


def naive_utc(when: datetime) -> datetime:
    """``when`` as a naive UTC datetime (how the trade history keeps times)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def yes_quantity(f: KalshiFill) -> float:
    """The fill's signed YES-equivalent contracts (module docstring)."""
    buys_yes = (f.side == "yes") == (f.action == "buy")
    return f.count if buys_yes else -f.count


def kalshi_events(account: str, fills: Iterable[KalshiFill],
                  settlements: Iterable[KalshiSettlement]) -> list[HistoryEvent]:
    """Trade events (``asset_category`` ``KALSHI``, symbol = the market ticker, price USD per YES
    contract, multiplier 1) of ``fills``, plus one closing trade per market still held at its
    settlement, oldest first. A fill without a time, or a fill after its market settled, is ignored.
    """
    ordered = sorted((f for f in fills if f.created_time is not None), key=lambda f: (f.created_time, f.fill_id))
    settled = {s.ticker: s for s in settlements if s.settled_time is not None}
    events: list[HistoryEvent] = []
    held: dict[str, float] = defaultdict(float)
    cost: dict[str, float] = defaultdict(float)  # signed USD paid for the held YES-equivalent contracts
    for f in ordered:
        assert f.created_time is not None
        s = settled.get(f.ticker)
        if s is not None and s.settled_time is not None and f.created_time > s.settled_time:
            continue
        qty, price = yes_quantity(f), f.yes_price_cents / 100.0
        before = held[f.ticker]
        if before == 0 or (before > 0) == (qty > 0):
            cost[f.ticker] += qty * price
        else:  # reduces (or flips): the average cost of what remains
            remaining = before + qty
            cost[f.ticker] = (cost[f.ticker] / before * remaining) if (remaining > 0) == (before > 0) \
                else remaining * price
        held[f.ticker] = before + qty
        events.append(_event(account, f"kalshi:{f.fill_id}", naive_utc(f.created_time), f.ticker, qty, price,
                             f.fee_usd, f"{f.action} {f.count:g} {f.side.upper()} at {f.yes_price_cents if f.side == 'yes' else f.no_price_cents}¢"))
    for ticker, s in settled.items():
        qty = held.get(ticker, 0.0)
        if abs(qty) < 1e-9:
            continue
        assert s.settled_time is not None
        payout = s.yes_payout_cents
        price = cost[ticker] / qty if payout is None else payout / 100.0
        events.append(_event(account, f"kalshi:settle:{ticker}", naive_utc(s.settled_time), ticker, -qty, price,
                             s.fee_usd, f"settled {s.market_result}", open_close="C"))
    events.sort(key=lambda e: e.occurred_at)
    return events


def _event(account: str, key: str, when: datetime, ticker: str, qty: float, price: float, fee: float,
           text: str, open_close: str = "") -> HistoryEvent:
    return HistoryEvent(account, "kalshi", key, "trade", when, CATEGORY, ticker, ticker, None, None, None, 1.0, qty,
                        price, -qty * price - fee, fee, "USD", 1.0, open_close, text, 0)  # type: ignore[arg-type]


def kalshi_matches(account: str, fills: Sequence[KalshiFill],
                   settlements: Sequence[KalshiSettlement]) -> list[LotMatch]:
    """Closed Kalshi lots, one per market and closing day (so the Performance dock counts one
    trade per market closed that day; strategy ``Kalshi``): the FIFO matches of
    :func:`kalshi_events` merged, ``realized`` summed (USD, fees included), prices the
    contract-weighted averages (USD per YES contract), ``opened_at`` the earliest opening.
    """
    events = kalshi_events(account, fills, settlements)
    if not events:
        return []
    groups: dict[tuple[str, object], list[LotMatch]] = defaultdict(list)
    for m in realized_pnl(events).matches:
        groups[(m.contract_key, m.closed_at.date())].append(m)
    out = []
    for (_key, _day), ms in groups.items():
        size = sum(abs(m.qty) for m in ms)
        first = ms[0]
        out.append(LotMatch(account, first.contract_key, first.symbol, min(m.opened_at for m in ms),
                            max(m.closed_at for m in ms), sum(m.qty for m in ms),
                            sum(m.open_price * abs(m.qty) for m in ms) / size,
                            sum(m.close_price * abs(m.qty) for m in ms) / size, 1.0,
                            sum(m.realized for m in ms), "USD", 1.0))
    out.sort(key=lambda m: (m.closed_at, m.symbol))
    return out
