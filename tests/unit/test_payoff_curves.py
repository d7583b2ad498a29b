"""Payoff curves of the ticket's chart: hand-computed payoffs, T+0 = the sum of our BSM prices, and
the curves agree with the rules' max loss, max profit and breakevens."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from magnus_desktop.analytics.payoff_curves import PayoffLegs, expiry_pnl, price_grid, today_pnl
from magnus_desktop.analytics.pricing import bs_price, implied_vol
from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg, OrderTicket
from magnus_desktop.services.orders.payoff import opened_units, payoff_curves, payoff_legs
from magnus_desktop.services.orders.rules import AccountBook, BidAsk, preview

DAY = date(2018, 1, 2)
JAN31 = date(2018, 1, 31)
T = 29 / 365
RATE = 0.015


def put(strike: float) -> OptionContract:
    return OptionContract("SPXW", JAN31, strike, "P")


def call(strike: float) -> OptionContract:
    return OptionContract("SPXW", JAN31, strike, "C")


# ---- analytics: curves from legs ------------------------------------------------------------------
def credit_spread() -> PayoffLegs:
    """Short 2600 P, long 2575 P, one contract each; 1.10 credit, 1.30 commission."""
    return PayoffLegs.of([("P", 2600.0, -100.0, T, 0.14), ("P", 2575.0, 100.0, T, 0.16)], 110.0 - 1.30)


def test_expiry_pnl_at_hand_computed_prices() -> None:
    legs = credit_spread()
    prices = np.array([2400.0, 2575.0, 2590.0, 2598.91, 2600.0, 2800.0])
    got = expiry_pnl(legs, prices)
    hand = [-2500 + 108.7, -2500 + 108.7, -1000 + 108.7, -(2600 - 2598.91) * 100 + 108.7, 108.7, 108.7]
    assert got == pytest.approx(hand)


def test_expiry_pnl_of_shares_and_a_covered_call() -> None:
    legs = PayoffLegs.of([("S", 0.0, 100.0, 0.0, math.nan), ("C", 2750.0, -100.0, T, 0.12)], -2700 * 100 + 500.0)
    got = expiry_pnl(legs, np.array([2600.0, 2750.0, 2900.0]))
    assert got == pytest.approx([(2600 - 2700) * 100 + 500, (2750 - 2700) * 100 + 500, (2750 - 2700) * 100 + 500])


def test_today_is_the_sum_of_our_bsm_prices() -> None:
    legs = credit_spread()
    prices = np.array([2500.0, 2600.0, 2695.79])
    got = today_pnl(legs, prices, RATE, 0.018)
    for s, value in zip(prices, got, strict=True):
        short = float(bs_price("P", s, 2600.0, T, RATE, 0.14, 0.018))
        long_ = float(bs_price("P", s, 2575.0, T, RATE, 0.16, 0.018))
        assert value == pytest.approx(108.7 - 100 * short + 100 * long_, rel=1e-12)


def test_today_tends_to_expiry_as_time_runs_out() -> None:
    legs = PayoffLegs.of([("P", 2600.0, -100.0, 1e-8, 0.14), ("P", 2575.0, 100.0, 1e-8, 0.16)], 108.7)
    prices = np.array([2500.0, 2590.0, 2700.0])
    assert today_pnl(legs, prices, RATE) == pytest.approx(expiry_pnl(legs, prices), abs=1e-3)


def test_today_is_nan_where_a_leg_has_no_iv() -> None:
    legs = PayoffLegs.of([("P", 2600.0, -100.0, T, math.nan)], 500.0)
    assert np.isnan(today_pnl(legs, np.array([2600.0]), RATE)).all()


def test_price_grid_holds_the_strikes_and_the_underlying() -> None:
    grid = price_grid([2575.0, 2600.0], 2695.79, 101)
    assert {2575.0, 2600.0, 2695.79} <= set(grid.tolist())
    assert np.all(np.diff(grid) > 0) and grid[0] < 2575.0 and grid[-1] > 2695.79
    with pytest.raises(ValueError):
        price_grid([], math.nan)


# ---- services: the ticket's curves agree with the rules -------------------------------------------
def test_opened_units() -> None:
    assert [opened_units(0, -2), opened_units(-1, -3), opened_units(-2, 0), opened_units(-1, 1), opened_units(2, 1)] \
        == [-2, -2, 0, 1, 0]


def test_condor_curves_match_the_preview() -> None:
    legs = (OrderLeg(put(2475.0), "BUY"), OrderLeg(put(2525.0), "SELL"), OrderLeg(call(2800.0), "SELL"),
            OrderLeg(call(2850.0), "BUY"))
    quotes = {put(2475.0): BidAsk(1.90, 2.05), put(2525.0): BidAsk(2.75, 2.95), call(2800.0): BidAsk(0.15, 0.30),
              call(2850.0): BidAsk(0.05, 0.15)}
    ticket = ComboTicket("iron_condor", legs, 2, math.nan, "r", DAY)
    p = preview(ticket, None, quotes, commission_per_contract=0.65)
    curves = payoff_curves(ticket, p, quotes, 2695.79, DAY, RATE)
    assert curves is not None
    assert float(curves.at_expiry.min()) == pytest.approx(-p.max_loss)
    assert float(curves.at_expiry.max()) == pytest.approx(p.max_profit)
    assert expiry_pnl(curves.legs, np.array(p.breakevens)) == pytest.approx([0.0, 0.0], abs=1e-6)
    credit = 2.75 + 0.15 - 2.05 - 0.15
    assert p.max_profit == pytest.approx(credit * 200 - 8 * 0.65)  # hand: net credit x 2 condors - fees
    # T+0 at the underlying now: the sum of the legs' BSM prices at the IV implied from each mid
    s = 2695.79
    total = credit * 200 - 8 * 0.65
    for leg in legs:
        q = quotes[leg.contract]
        iv = float(implied_vol((q.bid + q.ask) / 2, leg.contract.right, s, leg.contract.strike, T, RATE))
        sign = 1 if leg.action == "BUY" else -1
        total += sign * 200 * float(bs_price(leg.contract.right, s, leg.contract.strike, T, RATE, iv))
    i = int(np.searchsorted(curves.prices, s))
    assert curves.prices[i] == s and curves.today[i] == pytest.approx(total, rel=1e-9)


def test_roll_charts_the_opened_leg_and_a_close_charts_nothing() -> None:
    held = put(2550.0)
    new = put(2525.0)
    quotes = {held: BidAsk(3.40, 3.60), new: BidAsk(2.75, 2.95)}
    roll = ComboTicket("roll", (OrderLeg(held, "BUY"), OrderLeg(new, "SELL")), 1, math.nan, "r", DAY)
    book = AccountBook(1_000_000.0, [(held, -1)])
    p = preview(roll, book, quotes)
    legs = payoff_legs(roll, p, quotes, 2695.79, DAY, RATE)
    assert legs.rights == ("P",) and legs.strikes.tolist() == [2525.0] and legs.units.tolist() == [-100.0]
    assert legs.cash == pytest.approx(275.0)  # the opened leg's premium (the close is realised)
    close = OrderTicket(held, "BUY", 1, math.nan, "c", DAY)
    pc = preview(close, book, quotes[held])
    assert payoff_curves(close, pc, {held: quotes[held]}, 2695.79, DAY, RATE) is None
