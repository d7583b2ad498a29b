"""Kalshi trading fees, edge after fees and a capped fractional-Kelly stake (pure, no I/O).

A Kalshi contract pays 1 USD (100 cents) if its side wins. Prices here are integer cents 1..99 (the
exchange's tick for the markets we trade); amounts come back in cents (``*_cents``) or USD (``*_usd``).

Source: Kalshi fee schedule (kalshi.com/docs/kalshi-fee-schedule.pdf, "Trading fees"):
    taker fee = round_up(0.07 × C × P × (1 − P))
    maker fee = round_up(0.0175 × C × P × (1 − P))   (only on markets that charge maker fees)
where C is the number of contracts, P the price in dollars (0.50 = 50 cents) and round_up rounds up
to the next cent. The fee is charged per order fill, so it is computed on the whole fill, not per
contract (5 contracts at 50 cents: ceil(0.07 × 5 × 0.25 × 100) = ceil(8.75) = 9 cents, not 5 × 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

#: fee coefficients of the schedule, as exact fractions (numerator / 10,000)
TAKER_COEFF_BP = 700  # 0.07
MAKER_COEFF_BP = 175  # 0.0175
#: a contract pays this many cents if it wins
PAYOUT_CENTS = 100

Liquidity = Literal["taker", "maker"]


class KalshiFeeError(ValueError):
    """A price or count outside what Kalshi accepts (the message says which)."""


def _check(price_cents: int, contracts: int) -> None:
    if isinstance(price_cents, bool) or not isinstance(price_cents, int) or not 1 <= price_cents <= 99:
        raise KalshiFeeError(f"Kalshi prices are whole cents from 1 to 99, not {price_cents!r}")
    if isinstance(contracts, bool) or not isinstance(contracts, int) or contracts < 1:
        raise KalshiFeeError(f"The number of contracts must be a whole number ≥ 1, not {contracts!r}")


def fee_cents(price_cents: int, contracts: int, liquidity: Liquidity = "taker", *, maker_fees: bool = False) -> int:
    """Fee of one fill of ``contracts`` at ``price_cents``, in cents (rounded up to the cent).

    Args:
        price_cents: the fill price of the side bought or sold, 1..99 cents.
        contracts: whole contracts, ≥ 1.
        liquidity: ``"taker"`` (the order crossed the book) or ``"maker"`` (it rested).
        maker_fees: whether the market charges maker fees; a maker fill on a market without them is free.

    Returns:
        The fee in cents. Computed in integers: 0.07 × C × p × (100 − p) / 100 cents
        = 700 × C × p × (100 − p) / 1,000,000 cents, rounded up.

    Raises:
        KalshiFeeError: price outside 1..99 or contracts < 1.

    Source: Kalshi fee schedule (module docstring).
    """
    _check(price_cents, contracts)
    if liquidity == "maker" and not maker_fees:
        return 0
    coeff = TAKER_COEFF_BP if liquidity == "taker" else MAKER_COEFF_BP
    numerator = coeff * contracts * price_cents * (PAYOUT_CENTS - price_cents)
    return -(-numerator // 1_000_000)


def fee_usd(price_cents: int, contracts: int, liquidity: Liquidity = "taker", *, maker_fees: bool = False) -> float:
    """:func:`fee_cents` in USD."""
    return fee_cents(price_cents, contracts, liquidity, maker_fees=maker_fees) / 100.0


@dataclass(frozen=True, slots=True)
class OrderCost:
    """What buying ``contracts`` of one side at ``price_cents`` costs and can lose or win (cents).

    Attributes:
        cost_cents: price × contracts. fee_cents: the fee of the fill (taker unless stated).
        max_loss_cents: cost + fee (the side loses: contracts expire worthless).
        max_profit_cents: payout − cost − fee (the side wins: 100 cents a contract).
        breakeven_prob: the win probability at which the trade breaks even after fees, decimal.
    """

    price_cents: int
    contracts: int
    cost_cents: int
    fee_cents: int
    max_loss_cents: int
    max_profit_cents: int
    breakeven_prob: float


def buy_cost(price_cents: int, contracts: int, liquidity: Liquidity = "taker", *, maker_fees: bool = False) -> OrderCost:
    """Cost, fee, max loss and max profit of buying ``contracts`` at ``price_cents`` (either side).

    Raises:
        KalshiFeeError: as :func:`fee_cents`.
    """
    fee = fee_cents(price_cents, contracts, liquidity, maker_fees=maker_fees)
    cost = price_cents * contracts
    payout = PAYOUT_CENTS * contracts
    return OrderCost(price_cents, contracts, cost, fee, cost + fee, payout - cost - fee, (cost + fee) / payout)


def edge_after_fees(model_prob: float, yes_ask_cents: int, contracts: int = 1) -> float:
    """Expected profit of buying YES at the ask, USD per contract, after the taker fee.

    ``model_prob − yes_ask_cents/100 − fee_cents(yes_ask_cents, contracts)/100/contracts``. For the
    NO side pass ``1 − model_prob`` and the NO ask (``100 − best YES bid``).

    Args:
        model_prob: our model's probability that YES wins, decimal 0..1.
        yes_ask_cents: the YES ask, 1..99 cents.
        contracts: the order size the fee is computed on (the rounding makes the fee per contract
            smaller for larger orders).

    Returns:
        USD per 1-USD contract (0.03 = 3 cents of expected profit per contract). NaN when
        ``model_prob`` is not a finite probability.

    Raises:
        KalshiFeeError: as :func:`fee_cents`.
    """
    fee = fee_cents(yes_ask_cents, contracts)
    if not (math.isfinite(model_prob) and 0.0 <= model_prob <= 1.0):
        return math.nan
    return model_prob - yes_ask_cents / 100.0 - fee / 100.0 / contracts


@dataclass(frozen=True, slots=True)
class KellyStake:
    """A fractional-Kelly suggestion for buying one side.

    Attributes:
        contracts: whole contracts to buy (0 = no bet).
        cost_usd: contracts × price + the taker fee of that fill, USD (the most it can lose).
        kelly_fraction: the full-Kelly fraction of the bankroll at the fee-inclusive price (≤ 0: no edge).
        stake_fraction: the fraction of the bankroll actually suggested (after ``fraction`` and ``cap``).
        capped: the cap, not the Kelly fraction, limited the stake.
    """

    contracts: int
    cost_usd: float
    kelly_fraction: float
    stake_fraction: float
    capped: bool


def kelly_stake(model_prob: float, ask_cents: int, bankroll_usd: float, *, fraction: float = 0.25,
                cap: float = 0.05, max_contracts: int = 100_000) -> KellyStake:
    """Capped fractional-Kelly stake for buying a contract at ``ask_cents`` that wins with ``model_prob``.

    A contract bought at an all-in price ``c`` (USD, price + fee per contract) wins ``1 − c`` or
    loses ``c``; full Kelly bets ``f* = (p − c) / (1 − c)`` of the bankroll. We bet
    ``min(fraction × f*, cap)`` of it, in whole contracts whose cost *including the fee of that
    fill* fits the stake. The fee per contract depends on the count (rounding up), so the count is
    found by stepping down from the fee-free estimate.

    Args:
        model_prob: probability the side bought wins, decimal 0..1.
        ask_cents: price of that side, 1..99 cents.
        bankroll_usd: the money the stake is a fraction of, USD (≥ 0).
        fraction: Kelly multiplier, 0..1 (0.25 = quarter Kelly).
        cap: the most of the bankroll one bet may take, 0..1.
        max_contracts: a hard ceiling on the count.

    Returns:
        :class:`KellyStake` (0 contracts when there is no edge after fees or the bankroll is too small).

    Raises:
        KalshiFeeError: bad price; ValueError: ``fraction`` / ``cap`` outside 0..1, negative bankroll,
        ``model_prob`` not a probability.

    Source: Kelly (1956), "A New Interpretation of Information Rate"; binary-payoff form f* = (p − c)/(1 − c).
    """
    _check(ask_cents, 1)
    if not (math.isfinite(model_prob) and 0.0 <= model_prob <= 1.0):
        raise ValueError(f"model_prob must be a probability 0..1, not {model_prob!r}")
    if not (0.0 <= fraction <= 1.0 and 0.0 <= cap <= 1.0):
        raise ValueError(f"fraction and cap must be within 0..1 (got {fraction!r}, {cap!r})")
    if not (math.isfinite(bankroll_usd) and bankroll_usd >= 0.0):
        raise ValueError(f"bankroll must be a finite amount ≥ 0 USD, not {bankroll_usd!r}")
    all_in = (ask_cents + fee_cents(ask_cents, 1)) / 100.0  # the worst per-contract fee (one contract)
    kelly = (model_prob - all_in) / (1.0 - all_in) if all_in < 1.0 else -math.inf
    if kelly <= 0.0 or bankroll_usd <= 0.0:
        return KellyStake(0, 0.0, kelly, 0.0, False)
    wanted = fraction * kelly
    stake_fraction = min(wanted, cap)
    budget_cents = math.floor(stake_fraction * bankroll_usd * 100.0 + 1e-9)
    n = min(max_contracts, budget_cents // ask_cents)
    while n > 0 and n * ask_cents + fee_cents(ask_cents, n) > budget_cents:
        n -= 1
    cost = (n * ask_cents + (fee_cents(ask_cents, n) if n else 0)) / 100.0
    return KellyStake(n, cost, kelly, stake_fraction, cap < wanted)


def unrealized_pnl_usd(position: float, exposure_usd: float, yes_bid_cents: int | None,
                       no_bid_cents: int | None) -> float:
    """P&L of a position if sold now at the bid of its side, USD (fees of that sale not included).

    Args:
        position: contracts, > 0 YES, < 0 NO (the API's sign). exposure_usd: what it cost, USD.
        yes_bid_cents, no_bid_cents: the best bids (None when nobody bids: the result is NaN).

    Returns:
        ``|position| × bid / 100 − exposure_usd``; 0 for a flat position.
    """
    if position == 0:
        return 0.0
    bid = yes_bid_cents if position > 0 else no_bid_cents
    if bid is None or not math.isfinite(exposure_usd):
        return math.nan
    return abs(position) * bid / 100.0 - exposure_usd
