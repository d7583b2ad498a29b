"""Same-strike calendar spreads (sell the near expiry, buy the far one) from one day's chain.

For every strike and right quoted with a two-sided market in two expiries ``near < far``:

- ``near_iv``, ``far_iv``: BSM implied volatility of each leg's mid (``analytics.pricing``);
  ``iv_diff`` = near_iv − far_iv (vol points as a decimal): > 0 is a front month richer than the
  back month, what a calendar seller of the near leg wants;
- ``net_debit`` = far mid − near mid (USD per share); ``natural_debit`` = far ask − near bid;
- Greeks of one calendar (long far, short near), per share at each leg's own IV: ``delta``,
  ``gamma`` (per USD), ``theta`` (USD per calendar day), ``vega`` (USD per vol point);
- the value at the near expiry, priced with BSM at the far leg's IV on the far leg's remaining
  time: ``P&L(S) = BSM_far(S, K, (far − near)/365, far_iv) − max(w (S − K), 0) − net_debit``;
  ``breakeven_low``/``breakeven_high`` bound the prices S where P&L >= 0 (NaN when the calendar
  cannot make money at the mid), ``max_profit`` is the P&L at S = K, where it peaks.

Rate and dividend yield are continuous annualised decimals; ``t`` = calendar days / 365.

Source: Hull, *Options, Futures and Other Derivatives* (10th ed.), sec. 12.4 (calendar spreads:
profit pattern at the near expiry assumes the far option is sold then); Natenberg, *Option
Volatility and Pricing* (2nd ed.), ch. 11 (time spreads: long vega, short gamma, positive theta,
and the term-structure trade); BSM and closed-form Greeks: ``analytics.pricing``.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq

from magnus_desktop.analytics.pricing import bs_greeks, bs_price, implied_vol

__all__ = ["CALENDAR_COLUMNS", "CalendarError", "calendar_greeks", "calendar_pnl_at_near", "rank_calendars"]

#: Columns of :func:`rank_calendars`' result, in display order.
CALENDAR_COLUMNS: tuple[str, ...] = (
    "underlying", "strike", "right", "near_expiry", "far_expiry", "near_dte", "far_dte", "near_mid", "far_mid",
    "net_debit", "natural_debit", "near_iv", "far_iv", "iv_diff", "delta", "gamma", "theta", "vega",
    "breakeven_low", "breakeven_high", "max_profit", "und_price",
)
#: Sort keys :func:`rank_calendars` accepts, with their direction (True = larger first).
SORT_KEYS: dict[str, bool] = {"iv_diff": True, "net_debit": False, "theta": True, "vega": True,
                              "breakeven_width": True, "max_profit": True}

_GRID = 241


class CalendarError(ValueError):
    """The chain cannot give calendars (missing columns, several quote days, fewer than two expiries)."""


def calendar_greeks(right: str, und_price: float, strike: float, near_t: float, far_t: float, near_iv: float,
                    far_iv: float, rate: float, div_yield: float = 0.0) -> dict[str, float]:
    """Greeks of one long calendar (long the far leg, short the near leg), per share.

    Args:
        right: ``"C"``/``"P"``.
        und_price: underlying price S, USD.
        strike: the common strike, USD.
        near_t, far_t: time to each expiry, years (calendar days / 365), ``near_t < far_t``.
        near_iv, far_iv: each leg's volatility, annualised decimals.
        rate, div_yield: continuous annualised decimals.

    Returns:
        ``{"value", "delta", "gamma", "theta", "vega"}``: value USD per share (far − near at the
        legs' IVs), delta per share, gamma per USD, theta USD per calendar day, vega USD per vol
        point (both legs' IVs moving together by one point).

    Source:
        The sum of the legs' closed-form BSM Greeks (Haug 2007, sec. 2.1), signs by position.
    """
    near = bs_greeks(right, und_price, strike, near_t, rate, near_iv, div_yield)
    far = bs_greeks(right, und_price, strike, far_t, rate, far_iv, div_yield)
    value = bs_price(right, und_price, strike, far_t, rate, far_iv, div_yield) - bs_price(
        right, und_price, strike, near_t, rate, near_iv, div_yield)
    return {"value": float(value), "delta": float(far.delta - near.delta), "gamma": float(far.gamma - near.gamma),
            "theta": float(far.theta - near.theta), "vega": float(far.vega - near.vega)}


def calendar_pnl_at_near(prices: NDArray[np.float64] | float, right: str, strike: float, gap_t: float, far_iv: float,
                         net_debit: float, rate: float, div_yield: float = 0.0) -> NDArray[np.float64]:
    """P&L per share of one long calendar at the near expiry, at underlying ``prices``.

    Args:
        prices: underlying prices at the near expiry, USD (array-like).
        right, strike: the calendar's right and common strike.
        gap_t: the far leg's time left at the near expiry, years ((far − near) days / 365).
        far_iv: the far leg's volatility (kept for the revaluation), annualised decimal.
        net_debit: paid to open, USD per share (far mid − near mid).
        rate, div_yield: continuous annualised decimals.

    Returns:
        float64 array of P&L, USD per share (× multiplier for a contract).
    """
    s = np.asarray(prices, dtype=np.float64)
    w = 1.0 if right.upper().startswith("C") else -1.0
    far_value = bs_price(right, s, strike, gap_t, rate, far_iv, div_yield)
    return far_value - np.maximum(w * (s - strike), 0.0) - net_debit


def _breakevens(right: str, und: float, strike: float, gap_t: float, far_iv: float, debit: float, rate: float,
                div: float) -> tuple[float, float, float]:
    """(low, high, max profit) of the P&L at the near expiry; NaN bounds when it never reaches 0."""
    if not (math.isfinite(debit) and math.isfinite(far_iv) and gap_t > 0):
        return math.nan, math.nan, math.nan
    spread = max(4.0 * far_iv * math.sqrt(gap_t + 0.25), 0.25) * max(und, strike)
    # the P&L peaks at the strike: below it only the far leg moves, above it the far leg (delta < 1)
    # loses against the near leg's intrinsic value (Hull sec. 12.4); the strike is a grid point
    lo, hi = max(strike - spread, 1e-6 * strike), strike + spread
    grid = np.unique(np.concatenate([np.linspace(lo, strike, _GRID // 2 + 1), np.linspace(strike, hi, _GRID // 2 + 1)]))
    pnl = calendar_pnl_at_near(grid, right, strike, gap_t, far_iv, debit, rate, div)
    top = int(np.searchsorted(grid, strike))
    best = float(pnl[top])
    if not best > 0:
        return math.nan, math.nan, best

    def f(x: float) -> float:
        return float(calendar_pnl_at_near(x, right, strike, gap_t, far_iv, debit, rate, div))

    below = np.flatnonzero(pnl[:top] < 0)
    above = np.flatnonzero(pnl[top:] < 0)
    low = brentq(f, grid[below[-1]], grid[below[-1] + 1]) if below.size else math.nan
    high = brentq(f, grid[top + above[0] - 1], grid[top + above[0]]) if above.size else math.nan
    return float(low), float(high), best


def rank_calendars(chain: pd.DataFrame, rate: float, div_yield: float = 0.0, *, right: str = "both",
                   min_near_dte: int = 1, max_far_dte: int = 400, max_moneyness: float = 0.15,
                   sort_by: str = "iv_diff") -> pd.DataFrame:
    """Every same-strike calendar of one day's chain, ranked.

    Args:
        chain: ``models.domain.CHAIN_COLUMNS`` of one quote date (several expiries).
        rate, div_yield: continuous annualised decimals (Settings → Pricing).
        right: ``"C"``, ``"P"`` or ``"both"``.
        min_near_dte: the near leg's least days to expiry (a leg expiring today has no time value).
        max_far_dte: the far leg's most days to expiry.
        max_moneyness: strikes with |K / S − 1| above this (decimal) are left out: deep in- or
            out-of-the-money calendars have little time value and their quotes' spreads swamp it.
        sort_by: a key of :data:`SORT_KEYS` (``breakeven_width`` = high − low).

    Returns:
        DataFrame with :data:`CALENDAR_COLUMNS` (units in the module docstring; one row per strike,
        right and expiry pair with a two-sided market in both legs, a solvable IV and a positive
        net debit at the mids — a credit calendar at the mids is a stale or crossed quote, not an
        opportunity), ranked. A breakeven is NaN when the P&L does not reach 0 within
        ±4 standard deviations of the far leg around the strike (or never gets above 0).
        Empty when the chain has fewer than two expiries with quotes.

    Raises:
        CalendarError: missing columns, several quote dates, an unknown ``right`` or ``sort_by``.
    """
    need = ("underlying", "quote_date", "und_price", "expiry", "strike", "right", "bid", "ask")
    missing = [c for c in need if c not in chain.columns]
    if missing:
        raise CalendarError(f"chain lacks columns: {', '.join(missing)}")
    if right not in ("C", "P", "both"):
        raise CalendarError(f"right must be 'C', 'P' or 'both', got {right!r}")
    if sort_by not in SORT_KEYS:
        raise CalendarError(f"sort_by must be one of {', '.join(SORT_KEYS)}, got {sort_by!r}")
    if chain.empty:
        return pd.DataFrame(columns=list(CALENDAR_COLUMNS))
    days = pd.to_datetime(chain["quote_date"]).dt.normalize().unique()
    if len(days) != 1:
        raise CalendarError(f"one quote date expected, got {len(days)}")
    day = pd.Timestamp(days[0]).date()
    legs = _legs(chain, day, rate, div_yield, right, min_near_dte, max_far_dte, max_moneyness)
    pairs = legs.merge(legs, on=["underlying", "strike", "right"], suffixes=("_n", "_f"))
    pairs = pairs[(pairs["expiry_n"] < pairs["expiry_f"]) & (pairs["mid_f"] > pairs["mid_n"])]
    if pairs.empty:
        return pd.DataFrame(columns=list(CALENDAR_COLUMNS))
    out = _calendar_rows(pairs, rate, div_yield)
    width = out["breakeven_high"] - out["breakeven_low"]
    key = width if sort_by == "breakeven_width" else out[sort_by]
    order = key.sort_values(ascending=not SORT_KEYS[sort_by], na_position="last", kind="stable").index
    return out.loc[order, list(CALENDAR_COLUMNS)].reset_index(drop=True)


def _legs(chain: pd.DataFrame, day: date, rate: float, div: float, right: str, min_near: int,
          max_far: int, max_moneyness: float) -> pd.DataFrame:
    c = chain.copy()
    c["expiry"] = pd.to_datetime(c["expiry"]).dt.normalize()
    c["dte"] = (c["expiry"] - pd.Timestamp(day)).dt.days
    bid, ask = c["bid"].astype(float), c["ask"].astype(float)
    ok = (bid > 0) & (ask >= bid) & (c["dte"] >= min_near) & (c["dte"] <= max_far)
    ok &= (c["strike"].astype(float) / c["und_price"].astype(float) - 1.0).abs() <= max_moneyness
    if right != "both":
        ok &= c["right"] == right
    c = c[ok].copy()
    c["mid"] = (c["bid"].astype(float) + c["ask"].astype(float)) / 2.0
    c["iv"] = implied_vol(c["mid"].to_numpy(), c["right"].to_numpy(), c["und_price"].to_numpy(float),
                          c["strike"].to_numpy(float), c["dte"].to_numpy(float) / 365.0, rate, div)
    c = c[np.isfinite(c["iv"])]
    return c[["underlying", "strike", "right", "expiry", "dte", "bid", "ask", "mid", "iv", "und_price"]]


def _calendar_rows(p: pd.DataFrame, rate: float, div: float) -> pd.DataFrame:
    r = p["right"].to_numpy()
    s = p["und_price_n"].to_numpy(float)
    k = p["strike"].to_numpy(float)
    tn, tf = p["dte_n"].to_numpy(float) / 365.0, p["dte_f"].to_numpy(float) / 365.0
    gn = bs_greeks(r, s, k, tn, rate, p["iv_n"].to_numpy(), div)
    gf = bs_greeks(r, s, k, tf, rate, p["iv_f"].to_numpy(), div)
    out = pd.DataFrame({
        "underlying": p["underlying"].to_numpy(), "strike": k, "right": r,
        "near_expiry": p["expiry_n"].dt.date.to_numpy(), "far_expiry": p["expiry_f"].dt.date.to_numpy(),
        "near_dte": p["dte_n"].to_numpy(int), "far_dte": p["dte_f"].to_numpy(int),
        "near_mid": p["mid_n"].to_numpy(float), "far_mid": p["mid_f"].to_numpy(float),
        "natural_debit": (p["ask_f"] - p["bid_n"]).to_numpy(float),
        "near_iv": p["iv_n"].to_numpy(float), "far_iv": p["iv_f"].to_numpy(float),
        "delta": gf.delta - gn.delta, "gamma": gf.gamma - gn.gamma, "theta": gf.theta - gn.theta,
        "vega": gf.vega - gn.vega, "und_price": s,
    })
    out["net_debit"] = out["far_mid"] - out["near_mid"]
    out["iv_diff"] = out["near_iv"] - out["far_iv"]
    bes = [_breakevens(str(row.right), row.und_price, row.strike, (row.far_dte - row.near_dte) / 365.0,
                       row.far_iv, row.net_debit, rate, div) for row in out.itertuples()]
    out["breakeven_low"], out["breakeven_high"], out["max_profit"] = zip(*bes, strict=True) if bes else ((), (), ())
    return out


def calendar_curves(right: str, strike: float, und_price: float, near_dte: int, far_dte: int, near_iv: float,
                    far_iv: float, net_debit: float, rate: float, div_yield: float = 0.0, *,
                    multiplier: int = 100, points: int = 241) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                                        NDArray[np.float64]]:
    """The payoff chart of one long calendar: P&L at the near expiry and today, per contract.

    Args:
        right, strike, und_price: the calendar and the underlying now (USD).
        near_dte, far_dte: days to each expiry (calendar days).
        near_iv, far_iv: the legs' volatilities (annualised decimals).
        net_debit: paid to open, USD per share.
        rate, div_yield: continuous annualised decimals.
        multiplier: shares per contract.
        points: prices on the curve.

    Returns:
        (prices USD, P&L at the near expiry USD, P&L today USD): prices span ±4 standard deviations
        of the far leg over the near leg's life around the strike; "at the near expiry" prices the
        far leg with BSM at its IV on its remaining time; "today" revalues both legs at their IVs.
    """
    sd = max(far_iv, near_iv) * math.sqrt(max(near_dte, 1) / 365.0)
    center = 0.5 * (strike + und_price)
    half = max(4.0 * sd * center, abs(und_price - strike) * 1.3, 0.02 * center)
    prices = np.linspace(max(center - half, 1e-6 * center), center + half, points)
    gap = (far_dte - near_dte) / 365.0
    at_near = calendar_pnl_at_near(prices, right, strike, gap, far_iv, net_debit, rate, div_yield) * multiplier
    now = (bs_price(right, prices, strike, far_dte / 365.0, rate, far_iv, div_yield)
           - bs_price(right, prices, strike, near_dte / 365.0, rate, near_iv, div_yield) - net_debit) * multiplier
    return prices, at_near, now
