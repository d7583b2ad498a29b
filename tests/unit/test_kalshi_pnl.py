"""Realized P&L of Kalshi fills and settlements, against hand-computed values (USD)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from magnus_desktop.analytics.kalshi_pnl import kalshi_events, kalshi_matches, yes_quantity
from magnus_desktop.analytics.performance import KALSHI, closed_trades
from magnus_desktop.models.kalshi import KalshiFill, KalshiSettlement


def _fill(fid: str, ticker: str, side: str, action: str, count: float, yes_cents: int, fee: float,
          day: int) -> KalshiFill:
    return KalshiFill(fid, "o" + fid, ticker, side, action, count, yes_cents, 100 - yes_cents, True, fee,  # type: ignore[arg-type]
                      datetime(2024, 3, day, 15, tzinfo=UTC))


def _settled(ticker: str, result: str, day: int, fee: float = 0.0, value: int | None = None) -> KalshiSettlement:
    return KalshiSettlement(ticker, "EV", result, 0, 0, 0, 0, 0, value, fee, datetime(2024, 3, day, 20, tzinfo=UTC))


def test_yes_equivalent_signs() -> None:
    assert [yes_quantity(_fill("1", "T", s, a, 2, 50, 0, 1)) for s, a in
            (("yes", "buy"), ("yes", "sell"), ("no", "buy"), ("no", "sell"))] == [2, -2, -2, 2]


def test_closing_fills_and_settlements_realize_by_hand() -> None:
    fills = [
        _fill("a", "A", "yes", "buy", 10, 40, 0.17, 1),  # 10 YES at 40¢
        _fill("b", "A", "yes", "sell", 4, 55, 0.08, 5),  # 4 sold at 55¢
        _fill("c", "B", "no", "buy", 5, 70, 0.10, 2),  # 5 NO at 30¢
        _fill("d", "B", "no", "sell", 2, 60, 0.02, 6),  # 2 NO sold at 40¢
        _fill("e", "C", "yes", "buy", 3, 35, 0.04, 3),  # voided: returned at cost, fees stay
        _fill("f", "D", "yes", "buy", 1, 20, 0.01, 3),  # scalar: one YES paid 62¢
        _fill("g", "E", "yes", "buy", 1, 50, 0.01, 3),  # still open: realizes nothing
    ]
    settlements = [_settled("A", "yes", 11, fee=0.05), _settled("B", "no", 11), _settled("C", "void", 12),
                   _settled("D", "scalar", 12, value=62)]
    by_market: dict[str, float] = {}
    for m in kalshi_matches("K", fills, settlements):
        by_market[m.symbol] = by_market.get(m.symbol, 0.0) + m.realized
    assert by_market == pytest.approx({
        "A": 4 * 0.15 + 6 * 0.60 - 0.17 - 0.08 - 0.05,
        "B": 2 * (0.40 - 0.30) + 3 * (1.00 - 0.30) - 0.10 - 0.02,  # NO wins 100¢ when the market settles NO
        "C": -0.04,
        "D": 0.62 - 0.20 - 0.01,
    })
    trades = closed_trades(kalshi_matches("K", fills, settlements))
    assert {t.strategy for t in trades} == {KALSHI}
    assert len(trades) == 6  # A and B close on two days each, C and D once


def test_a_fill_after_settlement_is_ignored_and_events_are_time_ordered() -> None:
    fills = [_fill("a", "A", "yes", "buy", 1, 40, 0.0, 1), _fill("b", "A", "yes", "buy", 1, 40, 0.0, 20)]
    events = kalshi_events("K", fills, [_settled("A", "no", 10)])
    assert [e.event_key for e in events] == ["kalshi:a", "kalshi:settle:A"]
    assert events[-1].qty == -1 and events[-1].price == 0.0 and events[0].occurred_at.tzinfo is None
