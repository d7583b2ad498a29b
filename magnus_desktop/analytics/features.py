"""Features of a short-option trade candidate for the win-probability predictor (pure NumPy, no I/O).

Two layers, so a scanner row costs a few array lookups:

1. :func:`market_features` — one row per trading day of an underlying, from its daily closes and
   the VIX closes on the same days (trailing windows only: row ``i`` uses closes ``0..i``, never
   a later one).
2. :func:`candidate_features` — one row per candidate: the contract's own numbers beside its
   day's market row.

The columns, in :data:`FEATURE_NAMES` order, with units:

==================  ===========================================================================
``abs_delta``       |delta| of the option at entry, decimal (0.05 = a 5-delta option)
``dte``             calendar days from entry to expiry
``is_call``         1.0 for a call, 0.0 for a put
``moneyness_sigma`` ln(strike / underlying) / (iv * sqrt(dte / 365)): strike distance in
                    standard deviations of the log price to expiry (negative = below spot)
``iv``              the volatility the option is priced at, annualised decimal
``iv_rank``         rank of today's volatility proxy in its trailing 252 days, 0..1
                    (VIX for index ETFs, 20-day realized vol for single names)
``vix``             VIX close, index points (vol percent)
``vix_chg_5d``      VIX close minus its close 5 trading days earlier, index points
``ret_5``..``ret_60``  simple return of the underlying over 5/20/60 trading days, decimal
``rv_5``..``rv_60``    realized vol of daily log returns over 5/20/60 days, annualised decimal (x sqrt 252)
``rsi_14``          Wilder's RSI over 14 days, 0..100
``dist_sma_20/50/200``  close / SMA(n) - 1, decimal
``day_of_week``     entry weekday, 0 = Monday .. 4 = Friday
``days_to_earnings`` calendar days from entry to the next known earnings date; NaN when unknown
==================  ===========================================================================

A value that needs more history than there is (the first 200 days for ``dist_sma_200``) is NaN.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CANDIDATE_FEATURES",
    "FEATURE_NAMES",
    "FEATURE_SET_ID",
    "MARKET_FEATURES",
    "TRADING_DAYS_PER_YEAR",
    "candidate_features",
    "market_features",
    "rank_in_window",
    "realized_vol",
    "rsi",
    "sma",
    "trailing_return",
]

FloatArray = NDArray[np.float64]

TRADING_DAYS_PER_YEAR = 252
IV_RANK_WINDOW = 252
MARKET_FEATURES: tuple[str, ...] = (
    "iv_rank", "vix", "vix_chg_5d", "ret_5", "ret_20", "ret_60", "rv_5", "rv_20", "rv_60", "rsi_14",
    "dist_sma_20", "dist_sma_50", "dist_sma_200",
)
CANDIDATE_FEATURES: tuple[str, ...] = ("abs_delta", "dte", "is_call", "moneyness_sigma", "iv")
FEATURE_NAMES: tuple[str, ...] = (*CANDIDATE_FEATURES, *MARKET_FEATURES, "day_of_week", "days_to_earnings")
#: Identifies the feature set a model was trained on: names, order and this module's definitions.
FEATURE_SET_VERSION = 1
FEATURE_SET_ID = hashlib.sha256(
    f"v{FEATURE_SET_VERSION}:{','.join(FEATURE_NAMES)}".encode()
).hexdigest()[:12]


def sma(values: ArrayLike, n: int) -> FloatArray:
    """Simple moving average over the last ``n`` values (NaN for the first ``n - 1``).

    Args:
        values: float array, shape (m,).
        n: window length, >= 1.

    Returns:
        float64 array, shape (m,), same unit as ``values``.
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if n < 1 or x.size < n:
        return out
    c = np.concatenate(([0.0], np.cumsum(x)))
    out[n - 1:] = (c[n:] - c[:-n]) / n
    return out


def trailing_return(close: ArrayLike, n: int) -> FloatArray:
    """Simple return over ``n`` trading days, ``close[i] / close[i - n] - 1`` (decimal; NaN for i < n)."""
    x = np.asarray(close, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size > n:
        out[n:] = x[n:] / x[:-n] - 1.0
    return out


def realized_vol(close: ArrayLike, n: int) -> FloatArray:
    """Realized volatility: sample std (ddof=1) of the last ``n`` daily log returns x sqrt(252).

    Returns:
        float64 array, shape of ``close``; annualised decimal; NaN where fewer than ``n`` returns exist.
    """
    x = np.asarray(close, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size <= n or n < 2:
        return out
    r = np.diff(np.log(x))
    c1 = np.concatenate(([0.0], np.cumsum(r)))
    c2 = np.concatenate(([0.0], np.cumsum(r * r)))
    s1 = c1[n:] - c1[:-n]
    s2 = c2[n:] - c2[:-n]
    var = np.maximum((s2 - s1 * s1 / n) / (n - 1), 0.0)
    out[n:] = np.sqrt(var * TRADING_DAYS_PER_YEAR)
    return out


def rsi(close: ArrayLike, n: int = 14) -> FloatArray:
    """Wilder's relative strength index, 0..100 (NaN for the first ``n`` values).

    The first average gain/loss is the simple mean of the first ``n`` changes; after that
    ``avg = (avg * (n - 1) + change) / n``. RSI = 100 when there was no loss in the window.

    Source:
        J. Welles Wilder, *New Concepts in Technical Trading Systems* (1978), ch. 6.
    """
    x = np.asarray(close, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size <= n:
        return out
    d = np.diff(x)
    gain = np.where(d > 0, d, 0.0)
    loss = np.where(d < 0, -d, 0.0)
    from scipy.signal import lfilter  # here: importing scipy.signal costs ~1 s, paid on the first RSI only

    # Wilder smoothing is an EMA with alpha = 1/n: avg[t] = k * avg[t-1] + x[t] / n, run as an IIR filter
    # seeded with the first simple means (ag[0], al[0] are those means).
    k = (n - 1) / n
    avg_g, avg_l = gain[:n].mean(), loss[:n].mean()
    ag = np.concatenate(([avg_g], lfilter([1.0 / n], [1.0, -k], gain[n:], zi=[k * avg_g])[0]))
    al = np.concatenate(([avg_l], lfilter([1.0 / n], [1.0, -k], loss[n:], zi=[k * avg_l])[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rs_val = np.where(al > 0, 100.0 - 100.0 / (1.0 + ag / al), 100.0)
    out[n:] = rs_val
    return out


def rank_in_window(values: ArrayLike, n: int = IV_RANK_WINDOW) -> FloatArray:
    """Where today's value sits between the low and high of its trailing ``n`` values, 0..1.

    ``(x[i] - min) / (max - min)`` over ``x[i - n + 1 .. i]`` (the usual "IV rank"); NaN for the first
    ``n - 1`` values and where the window holds a NaN; 0.5 when max == min.
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size < n:
        return out
    win = np.lib.stride_tricks.sliding_window_view(x, n)
    lo, hi = win.min(axis=1), win.max(axis=1)
    span = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        out[n - 1:] = np.where(span > 0, (x[n - 1:] - lo) / span, np.where(span == 0, 0.5, np.nan))
    return out


def market_features(close: ArrayLike, vix: ArrayLike, iv_proxy: ArrayLike | None = None,
                    last_only: bool = False) -> FloatArray:
    """Per-day market features of one underlying, columns in :data:`MARKET_FEATURES` order.

    Args:
        close: underlying closes, USD per share, float array shape (m,), oldest first.
        vix: VIX closes on the same days, index points, shape (m,) (NaN where missing).
        iv_proxy: the volatility whose rank is ``iv_rank`` (annualised decimal, shape (m,));
            None = ``vix / 100`` (the right proxy for SPY/SPX).
        last_only: compute only the last day's row, with scalar reductions over the tail each window
            needs (the same definitions; a test holds it equal to the full pass).

    Returns:
        float64 array, shape (m, len(MARKET_FEATURES)), or (1, len(MARKET_FEATURES)) with ``last_only``.
    """
    c = np.asarray(close, dtype=np.float64)
    v = np.asarray(vix, dtype=np.float64)
    if c.shape != v.shape:
        raise ValueError(f"close and vix must have the same shape, got {c.shape} and {v.shape}")
    proxy = v / 100.0 if iv_proxy is None else np.asarray(iv_proxy, dtype=np.float64)

    if last_only:
        return _last_row(c, v, proxy)[None, :]
    vix_chg = np.full(v.shape, np.nan)
    vix_chg[5:] = v[5:] - v[:-5]
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = [
            rank_in_window(proxy), v, vix_chg,
            trailing_return(c, 5), trailing_return(c, 20), trailing_return(c, 60),
            realized_vol(c, 5), realized_vol(c, 20), realized_vol(c, 60), rsi(c, 14),
            c / sma(c, 20) - 1.0, c / sma(c, 50) - 1.0, c / sma(c, 200) - 1.0,
        ]
    return np.column_stack(cols)


def _last_row(c: FloatArray, v: FloatArray, proxy: FloatArray) -> FloatArray:
    """The last row of :func:`market_features` from scalar reductions (one prediction's fast path)."""
    m = c.size
    nan = math.nan
    last = c[-1] if m else nan

    def ret(n: int) -> float:
        return float(last / c[-1 - n] - 1.0) if m > n else nan

    def vol(n: int) -> float:
        return float(np.std(np.diff(np.log(c[-1 - n:])), ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR)) if m > n else nan

    def dist(n: int) -> float:
        return float(last / c[-n:].mean() - 1.0) if m >= n else nan

    rank = nan
    if m >= IV_RANK_WINDOW:
        win = proxy[-IV_RANK_WINDOW:]
        lo, hi = float(win.min()), float(win.max())
        rank = (float(win[-1]) - lo) / (hi - lo) if hi > lo else (0.5 if hi == lo else nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.array([
            rank, v[-1] if m else nan, float(v[-1] - v[-6]) if m > 5 else nan,
            ret(5), ret(20), ret(60), vol(5), vol(20), vol(60), float(rsi(c, 14)[-1]) if m else nan,
            dist(20), dist(50), dist(200),
        ])


def candidate_features(
    market_rows: ArrayLike,
    abs_delta: ArrayLike,
    dte: ArrayLike,
    is_call: ArrayLike,
    strike: ArrayLike,
    und_price: ArrayLike,
    iv: ArrayLike,
    day_of_week: ArrayLike,
    days_to_earnings: ArrayLike = math.nan,
) -> FloatArray:
    """The full feature matrix of candidates, columns in :data:`FEATURE_NAMES` order.

    Args:
        market_rows: each candidate's day row of :func:`market_features`, shape (n, 13), or one row
            (13,) shared by all candidates.
        abs_delta: |delta| at entry, decimal, shape (n,) or scalar.
        dte: calendar days to expiry.
        is_call: 1.0 call / 0.0 put.
        strike: USD per share.
        und_price: underlying price at entry, USD per share.
        iv: annualised decimal volatility the option is priced at.
        day_of_week: 0 = Monday .. 6 = Sunday.
        days_to_earnings: calendar days to the next earnings date, NaN when unknown.

    Returns:
        float64 array, shape (n, len(FEATURE_NAMES)).
    """
    m = np.atleast_2d(np.asarray(market_rows, dtype=np.float64))
    t = np.asarray(dte, dtype=np.float64) / 365.0
    sigma = np.asarray(iv, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        money = np.log(np.asarray(strike, dtype=np.float64) / np.asarray(und_price, dtype=np.float64)) / (
            sigma * np.sqrt(t))
    per_row = [np.asarray(a, dtype=np.float64) for a in (abs_delta, dte, is_call, money, sigma, day_of_week,
                                                         days_to_earnings)]
    n = max(m.shape[0], int(np.prod(np.broadcast_shapes(*(a.shape for a in per_row)))))
    cols = np.broadcast_arrays(*per_row[:5], np.zeros(n))
    out = np.empty((n, len(FEATURE_NAMES)))
    for j in range(len(CANDIDATE_FEATURES)):
        out[:, j] = cols[j]
    k = len(CANDIDATE_FEATURES)
    out[:, k:k + m.shape[1]] = m
    out[:, -2] = np.asarray(day_of_week, dtype=np.float64)
    out[:, -1] = np.asarray(days_to_earnings, dtype=np.float64)
    return out
