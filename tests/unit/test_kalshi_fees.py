"""Kalshi fee, edge and Kelly maths against the fee schedule's own formula, computed independently."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

import pytest

from magnus_desktop.analytics.kalshi_fees import (
    KalshiFeeError,
    buy_cost,
    edge_after_fees,
    fee_cents,
    kelly_stake,
)


def schedule_fee_cents(coeff: str, contracts: int, price_cents: int) -> int:
    """round_up(coeff × C × P × (1 − P)) dollars to the next cent, in exact decimals."""
    p = Decimal(price_cents) / 100
    dollars = Decimal(coeff) * contracts * p * (1 - p)
    return int((dollars * 100).to_integral_value(rounding=ROUND_CEILING))


@pytest.mark.parametrize("contracts", [1, 2, 3, 5, 10, 37, 100, 1000])
def test_taker_and_maker_fees_follow_the_schedule_at_every_price(contracts: int) -> None:
    for price in range(1, 100):
        assert fee_cents(price, contracts) == schedule_fee_cents("0.07", contracts, price)
        assert fee_cents(price, contracts, "maker", maker_fees=True) == schedule_fee_cents("0.0175", contracts, price)
        assert fee_cents(price, contracts, "maker") == 0


def test_fee_is_on_the_fill_not_per_contract() -> None:
    # 0.07 × 100 × 0.5 × 0.5 = 1.75 USD exactly; one contract: 0.0175 → 2 cents; 100 × 2 ≠ 175
    assert fee_cents(50, 100) == 175
    assert fee_cents(50, 1) * 100 > fee_cents(50, 100)


@pytest.mark.parametrize("bad", [0, 100, -5, 50.0, True])
def test_bad_prices_are_refused(bad: object) -> None:
    with pytest.raises(KalshiFeeError, match="1 to 99"):
        fee_cents(bad, 1)  # type: ignore[arg-type]
    with pytest.raises(KalshiFeeError, match="contracts"):
        fee_cents(50, 0)


def test_buy_cost_max_loss_and_profit() -> None:
    c = buy_cost(37, 12)
    fee = schedule_fee_cents("0.07", 12, 37)
    assert (c.cost_cents, c.fee_cents) == (37 * 12, fee)
    assert c.max_loss_cents == 37 * 12 + fee and c.max_profit_cents == 1200 - 37 * 12 - fee
    assert c.breakeven_prob == pytest.approx((37 * 12 + fee) / 1200)


def test_edge_after_fees() -> None:
    fee = schedule_fee_cents("0.07", 10, 40)
    assert edge_after_fees(0.55, 40, 10) == pytest.approx(0.55 - 0.40 - fee / 100 / 10)
    assert edge_after_fees(0.40, 40, 1) < 0  # a fair price loses the fee
    assert math.isnan(edge_after_fees(float("nan"), 40))


def test_kelly_stake_is_capped_fractional_and_fits_the_budget() -> None:
    s = kelly_stake(0.60, 45, 10_000.0, fraction=0.25, cap=0.05)
    all_in = (45 + schedule_fee_cents("0.07", 1, 45)) / 100
    full = (0.60 - all_in) / (1 - all_in)
    assert s.kelly_fraction == pytest.approx(full)
    assert s.stake_fraction == pytest.approx(min(0.25 * full, 0.05))
    assert s.capped == (0.25 * full > 0.05)
    budget = s.stake_fraction * 10_000
    assert s.cost_usd <= budget + 1e-9
    # one more contract would not fit
    more = (s.contracts + 1) * 45 + schedule_fee_cents("0.07", s.contracts + 1, 45)
    assert more / 100 > budget
    assert s.cost_usd == pytest.approx((s.contracts * 45 + schedule_fee_cents("0.07", s.contracts, 45)) / 100)


def test_no_edge_no_bet() -> None:
    s = kelly_stake(0.46, 45, 10_000.0)  # 1 point above the ask does not pay the 2-cent fee
    assert s.contracts == 0 and s.kelly_fraction <= 0
    with pytest.raises(ValueError, match="probability"):
        kelly_stake(1.5, 45, 100.0)


def test_unrealized_pnl_marks_each_side_at_its_bid() -> None:
    from magnus_desktop.analytics.kalshi_fees import unrealized_pnl_usd

    assert unrealized_pnl_usd(10, 4.40, 47, 50) == pytest.approx(10 * 0.47 - 4.40)
    assert unrealized_pnl_usd(-3, 1.68, 47, 50) == pytest.approx(3 * 0.50 - 1.68)
    assert math.isnan(unrealized_pnl_usd(-3, 1.68, 47, None))
    assert unrealized_pnl_usd(0, 0.0, None, None) == 0.0
