"""Wheel cycles on hand-checkable sequences and on the real broker exports."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from magnus_desktop.analytics.wheel import wheel_cycles
from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.services.imports import parse_file

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def opt(day: int, right: str, qty: float, amount: float, kind: str = "trade", strike: float = 50.0,
        und: str = "XYZ", oc: str = "") -> HistoryEvent:
    return HistoryEvent("acct", "test", f"k{day}{right}{kind}{strike}{qty}", kind, datetime(2024, 1, day), "OPT",  # type: ignore[arg-type]
                        f"{und}{right}{strike:g}", und, date(2024, 2, 16), strike, right, 100.0, qty,  # type: ignore[arg-type]
                        0.0 if kind != "trade" else abs(amount) / 100, amount, 0.0, "USD", 1.0, oc, "", day)  # type: ignore[arg-type]


def stk(day: int, qty: float, amount: float, und: str = "XYZ", kind: str = "trade") -> HistoryEvent:
    return HistoryEvent("acct", "test", f"s{day}{qty}", kind, datetime(2024, 1, day), "STK", und, und,  # type: ignore[arg-type]
                        None, None, None, 1.0, qty, abs(amount / qty), amount, 0.0, "USD", 1.0, "", "", day)


def full_wheel() -> list[HistoryEvent]:
    return [
        opt(2, "P", -1, 100.0),                       # put sold: +100
        opt(9, "P", 1, 0.0, "assignment"),            # assigned at 50
        stk(9, 100, -5000.0, kind="assignment"),      # 100 shares for 5,000
        opt(10, "C", -1, 80.0, strike=55.0),          # call sold: +80
        opt(16, "C", 1, 0.0, "expiration", strike=55.0),
        opt(17, "C", -1, 60.0, strike=55.0),          # call sold again: +60
        opt(23, "C", 1, 0.0, "assignment", strike=55.0),  # called away at 55
        stk(23, -100, 5500.0, kind="assignment"),
    ]


def test_a_full_wheel_cycle_collects_premium_and_ends_called_away() -> None:
    [cycle] = wheel_cycles(full_wheel())
    assert cycle.stage == "called away" and not cycle.is_open
    assert cycle.premium == pytest.approx(240.0)
    assert (cycle.puts_sold, cycle.calls_sold) == (1, 2)
    assert cycle.stock_cost == pytest.approx(5000.0) and cycle.stock_proceeds == pytest.approx(5500.0)
    assert cycle.realized == pytest.approx(740.0)  # 240 premium + 500 on the shares
    assert [s.step for s in cycle.steps] == ["put sold", "put assigned", "shares bought", "call sold", "call expired",
                                             "call sold", "called away", "shares sold"]


def test_effective_cost_basis_while_the_shares_are_held() -> None:
    [cycle] = wheel_cycles(full_wheel()[:4])  # put sold, assigned, shares, one call sold
    assert cycle.stage == "call sold" and cycle.is_open
    assert cycle.effective_cost_basis == pytest.approx((5000.0 - 180.0) / 100)  # 48.20 USD per share
    assert cycle.realized is None


def test_assigned_put_waits_for_its_shares_whatever_the_row_order() -> None:
    events = full_wheel()[:3]
    for order in (events, [events[0], events[2], events[1]]):
        [cycle] = wheel_cycles(order)
        assert cycle.stage == "assigned" and cycle.is_open and cycle.shares == 100


def test_expired_and_bought_back_puts_close_their_cycles() -> None:
    expired = wheel_cycles([opt(2, "P", -2, 150.0), opt(20, "P", 2, 0.0, "expiration")])
    closed = wheel_cycles([opt(2, "P", -1, 100.0, und="ABC"), opt(5, "P", 1, -40.0, und="ABC")])
    assert [(c.stage, c.realized) for c in expired] == [("put expired", pytest.approx(150.0))]
    assert [(c.stage, c.realized, c.steps[-1].step) for c in closed] == [("put closed", pytest.approx(60.0), "put bought back")]


def test_a_new_cycle_starts_after_the_previous_one_ends_and_underlyings_are_separate() -> None:
    events = [opt(2, "P", -1, 100.0), opt(8, "P", 1, 0.0, "expiration"), opt(9, "P", -1, 90.0),
              opt(3, "P", -1, 70.0, und="ABC")]
    cycles = wheel_cycles(events)
    assert [(c.underlying, c.stage, c.premium) for c in cycles] == [
        ("XYZ", "put expired", 100.0), ("ABC", "put sold", 70.0), ("XYZ", "put sold", 90.0)]


def test_long_options_and_plain_share_trades_are_not_wheel_cycles() -> None:
    events = [opt(2, "C", 1, -120.0, oc="O"), opt(4, "C", -1, 150.0, oc="C"),  # bought then sold: a long call
              opt(5, "P", 2, -60.0), opt(6, "P", -2, 80.0),  # no open/close marks: still a long put
              stk(7, 10, -500.0), stk(8, -10, 520.0)]
    assert wheel_cycles(events) == []


def test_real_robinhood_export_has_no_wheel_cycle(shared_data: Path) -> None:
    events = parse_file(shared_data / "broker_exports" / "robinhood_activity_Dec2023.csv").events
    assert any(e.asset_category == "OPT" for e in events)  # 70 option trades, all bought to open / sold to close
    assert wheel_cycles(events) == []


def test_real_flex_export_short_put_is_an_open_cycle_with_its_net_cash_as_premium() -> None:
    text = FLEX.read_text()
    short_puts = [row for row in re.findall(r"<Trade [^>]*/>", text)
                  if 'assetCategory="OPT"' in row and 'putCall="P"' in row and 'buySell="SELL"' in row]
    assert len(short_puts) == 1
    net_cash = float(re.search(r'netCash="([^"]+)"', short_puts[0])[1])  # type: ignore[index]
    underlying = re.search(r'underlyingSymbol="([^"]+)"', short_puts[0])[1]  # type: ignore[index]
    [cycle] = wheel_cycles(parse_file(FLEX).events)  # FOP (futures options) are not wheel legs
    assert (cycle.underlying, cycle.stage, cycle.is_open) == (underlying, "put sold", True)
    assert cycle.premium == pytest.approx(net_cash)
    assert cycle.effective_cost_basis is None
