"""Payoff at expiry of a set of option (and share) exposures on one underlying: pure, no I/O.

An exposure is ``(right, strike, units)``: ``right`` ``"C"``/``"P"`` for an option, ``"S"`` for
shares (strike ignored); ``units`` signed shares-equivalent (contracts × multiplier, short < 0).
The value at expiry at an underlying price ``S`` (USD per share) is
``Σ units × intrinsic(S)`` with ``intrinsic`` = max(S−K, 0) (call), max(K−S, 0) (put), S (shares).
It is piecewise linear in ``S`` with kinks at the strikes, so its extremes on ``[0, ∞)`` are at
``S = 0``, at a strike, or at infinity (when the slope past the last strike is not 0); the
functions below are therefore exact, not sampled.

Source: the payoff diagrams of Hull, *Options, Futures and Other Derivatives*, ch. 12 (spreads).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: ``(right, strike USD, units)``; see the module docstring.
Exposure = tuple[str, float, float]

_INF = math.inf


def value_at(exposures: Sequence[Exposure], price: float) -> float:
    """Value (USD) of ``exposures`` at expiry with the underlying at ``price`` (USD per share)."""
    total = 0.0
    for right, strike, units in exposures:
        if right == "C":
            if price > strike:
                total += units * (price - strike)
        elif right == "P":
            if price < strike:
                total += units * (strike - price)
        else:
            total += units * price
    return total


def slope_beyond(exposures: Sequence[Exposure]) -> float:
    """d value / d price past the highest strike (USD per USD): calls and shares count."""
    return sum(units for right, _strike, units in exposures if right != "P")


def profile(exposures: Sequence[Exposure], cash: float = 0.0) -> tuple[list[float], list[float], float]:
    """``cash + value_at`` at ``S = 0`` and at every strike, in one sweep (O(n log n)).

    Returns:
        (prices: 0 and the strikes ascending, USD per share; values there, USD; slope past the
        last strike, USD per USD).
    """
    value = cash
    slope = 0.0
    changes: dict[float, float] = {}
    for right, strike, units in exposures:
        if right == "P":
            value += units * strike
            slope -= units
            changes[strike] = changes.get(strike, 0.0) + units
        elif right == "C":
            changes[strike] = changes.get(strike, 0.0) + units
        else:
            slope += units
    prices = [0.0]
    values = [value]
    last = 0.0
    for k in sorted(changes):
        value += slope * (k - last)
        slope += changes[k]
        last = k
        if k == 0.0:
            continue
        prices.append(k)
        values.append(value)
    return prices, values, slope


def extremes(exposures: Sequence[Exposure], cash: float = 0.0) -> tuple[float, float]:
    """(lowest, highest) of ``cash + value_at(S)`` over ``S`` in ``[0, ∞)``, USD; ±inf when unbounded.

    Args:
        exposures: see the module docstring.
        cash: USD added at every price (premium received > 0, paid < 0, commissions < 0).
    """
    _prices, values, slope = profile(exposures, cash)
    return (-_INF if slope < 0 else min(values)), (_INF if slope > 0 else max(values))


def breakevens(exposures: Sequence[Exposure], cash: float = 0.0) -> tuple[float, ...]:
    """Underlying prices (USD per share, ascending) where ``cash + value_at(S)`` crosses 0.

    A flat stretch lying on 0 has no single breakeven and is left out.
    """
    return breakevens_of(*profile(exposures, cash))


def breakevens_of(prices: list[float], values: list[float], slope: float) -> tuple[float, ...]:
    """:func:`breakevens` from a :func:`profile`."""
    out: list[float] = []
    fa = values[0]
    for i in range(1, len(prices)):
        a, b, fb = prices[i - 1], prices[i], values[i]
        if fa == 0.0 and fb != 0.0 and a > 0.0 and (not out or out[-1] != a):
            out.append(a)
        if (fa < 0.0 < fb) or (fb < 0.0 < fa):
            out.append(a + (b - a) * (-fa) / (fb - fa))
        elif fb == 0.0 and fa != 0.0:
            out.append(b)
        fa = fb
    if slope != 0.0 and fa * slope < 0.0:
        out.append(prices[-1] - fa / slope)
    return tuple(round(x, 6) for x in out)


def collateral(exposures: Sequence[Exposure]) -> float:
    """Cash (USD) that secures the worst obligation of ``exposures`` at expiry: ``max(0, −lowest
    value)``, premiums left out (inf when a short call is not covered by shares or a long call).

    One short put: strike × units; a vertical credit spread: width × units; an iron condor: the
    wider of its two verticals × units (both sides cannot lose at once).
    """
    _prices, values, slope = profile(exposures)
    return _INF if slope < 0 else max(0.0, -min(values))


def collateral_below_strikes(exposures: Sequence[Exposure]) -> float:
    """:func:`collateral` over prices up to the highest strike only: the cash an uncovered short
    call's group secures besides its unlimited upside (which no cash can secure)."""
    return max(0.0, -min(profile(exposures)[1]))
