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


def _kinks(exposures: Sequence[Exposure]) -> list[float]:
    return sorted({0.0, *(strike for right, strike, _u in exposures if right != "S")})


def extremes(exposures: Sequence[Exposure], cash: float = 0.0) -> tuple[float, float]:
    """(lowest, highest) of ``cash + value_at(S)`` over ``S`` in ``[0, ∞)``, USD; ±inf when unbounded.

    Args:
        exposures: see the module docstring.
        cash: USD added at every price (premium received > 0, paid < 0, commissions < 0).
    """
    values = [cash + value_at(exposures, k) for k in _kinks(exposures)]
    slope = slope_beyond(exposures)
    low, high = min(values), max(values)
    if slope < 0:
        low = -_INF
    elif slope > 0:
        high = _INF
    return low, high


def breakevens(exposures: Sequence[Exposure], cash: float = 0.0) -> tuple[float, ...]:
    """Underlying prices (USD per share, ascending) where ``cash + value_at(S)`` crosses 0.

    A flat stretch lying on 0 has no single breakeven and is left out.
    """
    kinks = _kinks(exposures)
    values = [cash + value_at(exposures, k) for k in kinks]
    out: list[float] = []
    for (a, fa), (b, fb) in zip(zip(kinks, values, strict=True), zip(kinks[1:], values[1:], strict=True), strict=False):
        if fa == 0.0 and fb != 0.0 and a > 0.0 and (not out or out[-1] != a):
            out.append(a)
        if (fa < 0.0 < fb) or (fb < 0.0 < fa):
            out.append(a + (b - a) * (-fa) / (fb - fa))
        elif fb == 0.0 and fa != 0.0:
            out.append(b)
    last, f_last = kinks[-1], values[-1]
    slope = slope_beyond(exposures)
    if slope != 0.0 and f_last * slope < 0.0:
        out.append(last - f_last / slope)
    return tuple(round(x, 6) for x in out)


def collateral(exposures: Sequence[Exposure]) -> float:
    """Cash (USD) that secures the worst obligation of ``exposures`` at expiry: ``max(0, −lowest
    value)``, premiums left out (inf when a short call is not covered by shares or a long call).

    One short put: strike × units; a vertical credit spread: width × units; an iron condor: the
    wider of its two verticals × units (both sides cannot lose at once).
    """
    low, _high = extremes(exposures)
    return max(0.0, -low)


def collateral_below_strikes(exposures: Sequence[Exposure]) -> float:
    """:func:`collateral` over prices up to the highest strike only: the cash an uncovered short
    call's group secures besides its unlimited upside (which no cash can secure)."""
    return max(0.0, -min(value_at(exposures, k) for k in _kinks(exposures)))
