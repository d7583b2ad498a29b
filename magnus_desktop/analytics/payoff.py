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

import numpy as np

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


# ---- many exposure sets at once (NumPy) ---------------------------------------------------------
#: Right codes of the array functions below: a put, a call, shares (any other right counts as shares,
#: as in :func:`profile`).
PUT, CALL, SHARES = 0, 1, 2


def profile_rows(right: np.ndarray, strike: np.ndarray, units: np.ndarray,
                 cash: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`profile` of ``k`` exposure sets of ``n`` exposures each, with the same float operations
    in the same order (so every figure equals the scalar one bit for bit).

    Args:
        right: ``(k, n)`` ints, :data:`PUT`/:data:`CALL`/:data:`SHARES`.
        strike: ``(k, n)`` USD (ignored for shares); units: ``(k, n)`` signed shares-equivalent.
        cash: ``(k,)`` USD added at every price.

    Returns:
        (prices ``(k, n + 1)``: 0 then the exposures' strikes ascending, shares at 0; values there
        ``(k, n + 1)`` USD; slope past the last strike ``(k,)`` USD per USD). Unlike :func:`profile`,
        a strike met twice (or a strike of 0) gives a repeated point with the same value, which
        changes no extreme and no breakeven (:func:`breakevens_rows`).
    """
    k, n = right.shape
    value = cash.astype(float, copy=True)
    slope = np.zeros(k)
    put = right == PUT
    call = right == CALL
    for j in range(n):  # the sums of profile(), exposure by exposure
        p, u = put[:, j], units[:, j]
        value = np.where(p, value + u * strike[:, j], value)
        slope = np.where(p, slope - u, np.where(call[:, j], slope, slope + u))
    at = np.where(put | call, strike, 0.0)
    change = np.where(put | call, units, 0.0)
    order = np.argsort(at, axis=1, kind="stable")
    at = np.take_along_axis(at, order, axis=1)
    change = np.take_along_axis(change, order, axis=1)
    values = np.empty((k, n + 1))
    values[:, 0] = value
    last = np.zeros(k)
    for j in range(n):  # the sweep of profile(): value += slope × (K − last); slope += change at K
        value = value + slope * (at[:, j] - last)
        slope = slope + change[:, j]  # + 0.0 for shares: slope is never −0.0, so unchanged
        last = at[:, j]
        values[:, j + 1] = value
    return np.concatenate([np.zeros((k, 1)), at], axis=1), values, slope


def breakevens_rows(prices: np.ndarray, values: np.ndarray, slope: np.ndarray) -> list[tuple[float, ...]]:
    """:func:`breakevens_of` of each row of a :func:`profile_rows` result (same operations, same
    order, rounded to 1e-6 like it): one tuple of breakevens (USD per share, ascending) per row."""
    k, m = prices.shape
    rows: list[np.ndarray] = []
    found: list[np.ndarray] = []
    last = np.full(k, np.nan)  # the last breakeven appended per row (NaN: none)
    fa = values[:, 0]
    for i in range(1, m):
        a, b, fb = prices[:, i - 1], prices[:, i], values[:, i]
        leave_zero = (fa == 0.0) & (fb != 0.0) & (a > 0.0) & ~(last == a)
        cross = ((fa < 0.0) & (0.0 < fb)) | ((fb < 0.0) & (0.0 < fa))
        enter_zero = ~cross & (fb == 0.0) & (fa != 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            x = a + (b - a) * (-fa) / (fb - fa)
        for mask, where in ((leave_zero, a), (cross, x), (enter_zero, b)):
            if mask.any():
                idx = np.flatnonzero(mask)
                rows.append(idx)
                found.append(where[idx])
                last[idx] = where[idx]
        fa = fb
    tail = (slope != 0.0) & (fa * slope < 0.0)
    if tail.any():
        idx = np.flatnonzero(tail)
        rows.append(idx)
        found.append(prices[idx, -1] - fa[idx] / slope[idx])
    out: list[tuple[float, ...]] = [()] * k
    if rows:
        all_rows = np.concatenate(rows)
        order = np.argsort(all_rows, kind="stable")  # per row, in the order they were found
        all_rows = all_rows[order]
        xs = [round(x, 6) for x in np.concatenate(found)[order].tolist()]
        bounds = np.flatnonzero(np.diff(all_rows)) + 1
        for r, a, b in zip(all_rows[np.r_[0, bounds]].tolist(), [0, *bounds.tolist()], [*bounds.tolist(), len(xs)],
                           strict=True):
            out[r] = tuple(xs[a:b])
    return out
