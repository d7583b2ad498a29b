"""P&L curves of an order's opened exposure over a grid of underlying prices: pure numpy, no I/O.

Two curves for the payoff chart of the order ticket:
    * at expiry: ``cash + Σ units × intrinsic(S)`` (the piecewise-linear payoff of
      :mod:`analytics.payoff`, evaluated on a grid in one vectorised pass);
    * today ("T+0"): ``cash + Σ units × BSM(S, K, t, r, iv)`` with each leg's own time to expiry and
      implied volatility (:func:`analytics.pricing.bs_price`), the underlying moved to ``S`` and
      everything else held.

``units`` are signed shares-equivalent (contracts × multiplier, short < 0); ``cash`` is the premium
of the opened legs signed as cash (received > 0, paid < 0) minus commissions, USD. Shares are
right ``"S"`` (value ``S`` per unit, strike ignored).

Source: Hull, *Options, Futures and Other Derivatives*, ch. 12 (spread payoffs) and eq. 17.4-17.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from magnus_desktop.analytics.pricing import bs_price

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PayoffLegs:
    """The opened legs of an order, as arrays of shape (n,).

    Attributes:
        rights: ``"C"``, ``"P"`` or ``"S"`` (shares) per leg.
        strikes: USD per share (ignored for shares).
        units: signed shares-equivalent (contracts × multiplier; short < 0).
        t_years: time to each leg's expiry in years (calendar days / 365).
        ivs: annualised decimal implied volatility per leg (NaN = unknown: T+0 is NaN).
        cash: USD at every price: opened premium signed as cash minus commissions.
    """

    rights: tuple[str, ...]
    strikes: FloatArray
    units: FloatArray
    t_years: FloatArray
    ivs: FloatArray
    cash: float

    @classmethod
    def of(cls, legs: Sequence[tuple[str, float, float, float, float]], cash: float) -> PayoffLegs:
        """From ``(right, strike USD, units, t_years, iv decimal)`` tuples and ``cash`` USD."""
        rows = list(legs)
        col = (lambda i: np.array([r[i] for r in rows], dtype=np.float64))  # noqa: E731
        return cls(tuple(r[0] for r in rows), col(1), col(2), col(3), col(4), float(cash))

    @property
    def options(self) -> NDArray[np.bool_]:
        return np.array([r != "S" for r in self.rights], dtype=bool)


def price_grid(strikes: Sequence[float], und_price: float, points: int = 241) -> FloatArray:
    """Underlying prices (USD per share, ascending, shape (points,)) covering every strike and the
    underlying with room on both sides (a quarter of the span, at least 3 % of the underlying); the
    strikes and ``und_price`` themselves are on the grid so the kinks are drawn exactly."""
    marks = [float(k) for k in strikes if np.isfinite(k)] + ([float(und_price)] if np.isfinite(und_price) else [])
    if not marks:
        raise ValueError("a payoff grid needs a strike or an underlying price")
    lo, hi = min(marks), max(marks)
    room = max(0.25 * (hi - lo), 0.03 * max(abs(hi), 1.0))
    grid = np.linspace(max(lo - room, 0.0), hi + room, points)
    return np.unique(np.concatenate([grid, np.asarray(marks, dtype=np.float64)]))


def expiry_pnl(legs: PayoffLegs, prices: FloatArray) -> FloatArray:
    """P&L (USD) at expiry at each underlying price of ``prices`` (USD per share, shape (m,))."""
    s = np.asarray(prices, dtype=np.float64)[:, None]
    k = legs.strikes[None, :]
    rights = np.array(legs.rights)[None, :]
    intrinsic = np.where(rights == "C", np.maximum(s - k, 0.0),
                         np.where(rights == "P", np.maximum(k - s, 0.0), s))
    return legs.cash + intrinsic @ legs.units


def today_pnl(legs: PayoffLegs, prices: FloatArray, rate: float, div_yield: float = 0.0) -> FloatArray:
    """P&L (USD) today ("T+0") at each underlying price: BSM value of every option leg at its own
    ``t_years`` and ``iv`` with the underlying at ``S``, shares at ``S``, plus ``cash``.

    Args:
        prices: USD per share, shape (m,).
        rate: risk-free rate, annualised continuous decimal; div_yield: continuous decimal.

    Returns:
        float64 array, shape (m,); NaN where a leg has no IV.
    """
    s = np.asarray(prices, dtype=np.float64)
    total = legs.cash + s * float(legs.units[~legs.options].sum())
    opt = legs.options
    if opt.any():
        rights = np.array(legs.rights)[opt][None, :]
        values = bs_price(rights, s[:, None], legs.strikes[opt][None, :], legs.t_years[opt][None, :], rate,
                          legs.ivs[opt][None, :], div_yield)
        total = total + values @ legs.units[opt]
    return np.asarray(total, dtype=np.float64)

def first_expiry_pnl(legs: PayoffLegs, prices: FloatArray, rate: float, div_yield: float = 0.0) -> FloatArray:
    """P&L (USD) when the first option leg expires, at each underlying price: legs expiring then at
    their intrinsic value, later legs at BSM on their remaining time at their own IV (a calendar's
    "at the near expiry" curve). With one expiry this is :func:`expiry_pnl`.

    Args:
        prices: USD per share, shape (m,); rate, div_yield: continuous annualised decimals.

    Returns:
        float64 array, shape (m,); NaN where a later leg has no IV.

    Source:
        Hull (10th ed.), sec. 12.4: a calendar's profit pattern at the near expiry, the far option
        sold at its Black-Scholes value then.
    """
    opt = legs.options
    if not opt.any():
        return expiry_pnl(legs, prices)
    first = float(legs.t_years[opt].min())
    later = opt & (legs.t_years > first + 1e-12)
    if not later.any():
        return expiry_pnl(legs, prices)
    now = PayoffLegs(tuple(r for r, keep in zip(legs.rights, ~later, strict=True) if keep), legs.strikes[~later],
                     legs.units[~later], legs.t_years[~later], legs.ivs[~later], legs.cash)
    s = np.asarray(prices, dtype=np.float64)
    rights = np.array(legs.rights)[later][None, :]
    values = bs_price(rights, s[:, None], legs.strikes[later][None, :], (legs.t_years[later] - first)[None, :], rate,
                      legs.ivs[later][None, :], div_yield)
    return np.asarray(expiry_pnl(now, s) + values @ legs.units[later], dtype=np.float64)


def zero_crossings(prices: FloatArray, pnl: FloatArray) -> tuple[float, ...]:
    """Prices where ``pnl`` changes sign, linearly interpolated between grid points (NaN skipped)."""
    x, y = np.asarray(prices, dtype=np.float64), np.asarray(pnl, dtype=np.float64)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    out = []
    for i in np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0):
        out.append(float(x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])))
    return tuple(out)


__all__ = ["PayoffLegs", "expiry_pnl", "first_expiry_pnl", "price_grid", "today_pnl", "zero_crossings"]
