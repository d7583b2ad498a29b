"""Value at risk and expected shortfall of an option book, and Kupiec's backtest (pure NumPy).

Three methods, each at 95 % / 99 % over 1 and 10 trading days (losses in USD, positive = loss):

- **historical**: each day of the window gives one scenario: every underlying moves by its real
  h-day log return (overlapping h-day windows for h > 1), every IV by the VIX's h-day ratio
  (VIX changes scaled onto each option's own IV), and the book is fully revalued with BSM
  (lives shortened by h/252 years).
- **parametric delta-gamma** (delta-gamma-normal): P&L ~ theta h + d'x + 1/2 x'G x over factor
  log returns x ~ N(0, h S) with S the daily covariance of the same window; G is diagonal
  (dollar gamma per factor; no cross-gamma, vanna or volga). VaR = z s - m, ES = s n(z)/(1-a) - m.
- **Monte Carlo**: N(0, h S) factor moves drawn with a fixed seed (``MC_SEED``), full revaluation.

Quantile convention (historical and Monte Carlo): with n scenarios, k = ceil(n (1 - a)); VaR is
the k-th largest loss and ES the mean of the k largest losses.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from magnus_desktop.analytics.risk import (
    MIN_IV,
    YEARS_PER_TRADING_DAY,
    Book,
    RiskError,
    position_greeks,
    revalue,
)

__all__ = [
    "LEVELS",
    "MC_SEED",
    "FactorHistory",
    "InsufficientHistoryError",
    "KupiecResult",
    "VarFigures",
    "delta_gamma_var",
    "historical_pnl",
    "historical_var",
    "kupiec_pof",
    "monte_carlo_var",
    "var_es",
]

FloatArray = NDArray[np.float64]
LEVELS = (0.95, 0.99)
HORIZONS = (1, 10)
MC_SEED = 20180205
MC_SIMS = 10_000


class InsufficientHistoryError(RiskError):
    """The window needs more daily closes than the history holds (``needed``, ``available``)."""

    def __init__(self, message: str, needed: int, available: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available


@dataclass(frozen=True, slots=True)
class FactorHistory:
    """Aligned daily closes (oldest first) of the book's factors and the VIX.

    Attributes:
        days: shape (n,) trading days common to every series.
        closes: factor name -> shape (n,) closes, USD per share.
        vix: shape (n,) VIX closes (index points).
        sources: human text naming the bundled files.
    """

    days: tuple[date, ...]
    closes: dict[str, FloatArray]
    vix: FloatArray
    sources: str = ""

    def until(self, day: date) -> FactorHistory:
        """The same history cut at ``day`` (inclusive): what :func:`factor_history` gives for that day,
        without reading and aligning the series again."""
        n = bisect_right(self.days, day)
        return FactorHistory(self.days[:n], {f: c[:n] for f, c in self.closes.items()}, self.vix[:n], self.sources)

    def window(self, book: Book, window: int, horizon: int) -> tuple[FloatArray, FloatArray, str]:
        """h-day log returns of the book's factors (f, s) and VIX (s,) over the last ``window`` days.

        Raises:
            InsufficientHistoryError: fewer than ``window + 1`` closes (the message says how many).
        """
        n = len(self.days)
        if n < window + 1 or window < horizon:
            first = self.days[0].isoformat() if n else "-"
            last = self.days[-1].isoformat() if n else "-"
            raise InsufficientHistoryError(
                f"a {window}-day VaR window needs {window + 1} daily closes of {', '.join(book.factors)} and VIX; "
                f"the bundled bars hold {n} common closes ({first} .. {last})", window + 1, n)
        missing = [f for f in book.factors if f not in self.closes]
        if missing:
            raise RiskError(f"no bundled daily bars for {', '.join(missing)}: historical moves unknown")
        logs = np.log(np.vstack([self.closes[f][-window - 1:] for f in book.factors]))
        vix = np.log(self.vix[-window - 1:])
        fx = logs[:, horizon:] - logs[:, :-horizon]
        vx = vix[horizon:] - vix[:-horizon]
        text = f"{window} days {self.days[-window].isoformat()} .. {self.days[-1].isoformat()}"
        return fx, vx, text


@dataclass(frozen=True, slots=True)
class VarFigures:
    """VaR and ES (USD, positive = loss) of one method, keyed ``var_95_1d`` ... ``es_99_10d``.

    ``window`` describes the data (days and dates) or the simulation; ``scenarios`` per horizon.
    """

    method: str
    figures: dict[str, float]
    window: str
    scenarios: dict[int, int]


def var_es(pnl: FloatArray, level: float) -> tuple[float, float]:
    """(VaR, ES) in USD of scenario P&Ls ``pnl`` (shape (n,)) at confidence ``level`` (0.95).

    k = ceil(n (1 - level)) (at least 1); VaR is the k-th largest loss, ES the mean of the k largest.
    """
    losses = np.sort(-np.asarray(pnl, dtype=np.float64))[::-1]
    if losses.size == 0:
        raise RiskError("no scenarios to take a VaR from")
    k = max(1, math.ceil(round(losses.size * (1.0 - level), 9)))
    return float(losses[k - 1]), float(losses[:k].mean())


def _figures(method: str, pnl_by_h: dict[int, FloatArray], window: str) -> VarFigures:
    out: dict[str, float] = {}
    for h, pnl in pnl_by_h.items():
        for level in LEVELS:
            v, e = var_es(pnl, level)
            out[f"var_{round(level * 100)}_{h}d"] = v
            out[f"es_{round(level * 100)}_{h}d"] = e
    return VarFigures(method, out, window, {h: len(p) for h, p in pnl_by_h.items()})


def historical_pnl(book: Book, history: FactorHistory, window: int, horizon: int) -> tuple[FloatArray, str]:
    """Book P&L (USD) of every historical scenario (shape (window - horizon + 1,)) and the window text."""
    fx, vx, text = history.window(book, window, horizon)
    pnl = revalue(book, np.exp(fx), np.exp(vx), horizon * YEARS_PER_TRADING_DAY)
    return pnl.sum(axis=0), text


def historical_var(book: Book, history: FactorHistory, window: int = 500,
                   horizons: Sequence[int] = HORIZONS) -> VarFigures:
    """Historical-simulation VaR/ES with full revaluation (module docstring)."""
    pnls, text = {}, ""
    for h in horizons:
        pnls[h], text = historical_pnl(book, history, window, h)
    return _figures("historical", pnls, f"{text}; overlapping h-day moves")


def _covariance(book: Book, history: FactorHistory, window: int) -> tuple[FloatArray, str]:
    fx, vx, text = history.window(book, window, 1)
    x = np.vstack([fx, vx[None, :]])
    return np.atleast_2d(np.cov(x)), text


def delta_gamma_var(book: Book, history: FactorHistory, window: int = 500,
                    horizons: Sequence[int] = HORIZONS) -> VarFigures:
    """Delta-gamma-normal VaR/ES (module docstring)."""
    cov, text = _covariance(book, history, window)
    per = position_greeks(book)
    f = len(book.factors)
    delta = np.zeros(f + 1)
    gamma = np.zeros(f + 1)
    np.add.at(delta, book.factor_idx, per[:, 1])  # USD per unit log return
    np.add.at(gamma, book.factor_idx, per[:, 2] * book.s**2)  # USD per unit return squared
    delta[f] = float(np.sum(per[:, 4] * 100.0 * np.maximum(book.iv, MIN_IV)))  # USD per unit relative IV change
    theta_day = float(per[:, 3].sum())
    out: dict[str, float] = {}
    for h in horizons:
        sig = cov * h
        gs = gamma[:, None] * sig
        mean = theta_day * h * 365.0 / 252.0 + 0.5 * float(np.trace(gs))
        sd = math.sqrt(max(float(delta @ sig @ delta) + 0.5 * float(np.trace(gs @ gs)), 0.0))
        for level in LEVELS:
            z = float(ndtri(level))
            pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
            out[f"var_{round(level * 100)}_{h}d"] = z * sd - mean
            out[f"es_{round(level * 100)}_{h}d"] = sd * pdf / (1.0 - level) - mean
    return VarFigures("delta-gamma", out, f"covariance of {text}; normal", {h: 0 for h in horizons})


def monte_carlo_var(book: Book, history: FactorHistory, window: int = 500, sims: int = MC_SIMS,
                    seed: int = MC_SEED, horizons: Sequence[int] = HORIZONS) -> VarFigures:
    """Monte Carlo VaR/ES: correlated normal factor moves (fixed ``seed``), full revaluation."""
    cov, text = _covariance(book, history, window)
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0.0, None))  # cov = root root' (tolerates a singular covariance)
    z = np.random.default_rng(seed).standard_normal((cov.shape[0], sims))
    pnls = {}
    for h in horizons:
        x = root @ z * math.sqrt(h)
        f = len(book.factors)
        pnls[h] = revalue(book, np.exp(x[:f]), np.exp(x[f]), h * YEARS_PER_TRADING_DAY).sum(axis=0)
    return _figures("monte carlo", pnls, f"{sims:,} draws, seed {seed}; covariance of {text}")


# ---- backtest -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KupiecResult:
    """Kupiec's proportion-of-failures test of a VaR at ``level`` over ``days`` days.

    ``lr`` is the likelihood ratio (chi-square, 1 degree of freedom), ``p_value`` its tail;
    the VaR is rejected at 5 % when ``p_value < 0.05``.
    """

    level: float
    days: int
    exceedances: int
    lr: float
    p_value: float

    @property
    def rejected(self) -> bool:
        return self.p_value < 0.05


def kupiec_pof(exceedances: int, days: int, level: float) -> KupiecResult:
    """Kupiec (1995) POF: LR = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x], p = 1 - level.

    Raises:
        RiskError: no days, or more exceedances than days.

    Source:
        P. Kupiec, "Techniques for verifying the accuracy of risk measurement models",
        Journal of Derivatives 3(2), 1995.
    """
    if days <= 0 or not 0 <= exceedances <= days:
        raise RiskError(f"Kupiec test needs 0 <= exceedances <= days > 0, got {exceedances} of {days}")
    p, n, x = 1.0 - level, days, exceedances
    rate = x / n

    def loglik(q: float) -> float:
        a = (n - x) * math.log1p(-q) if n - x else 0.0
        b = x * math.log(q) if x else 0.0
        return a + b

    lr = max(-2.0 * (loglik(p) - loglik(rate)), 0.0)
    return KupiecResult(level, n, x, lr, math.erfc(math.sqrt(lr / 2.0)))


def count_exceedances(var: FloatArray, pnl: FloatArray) -> int:
    """Days whose loss (-pnl, USD) is larger than that day's VaR (USD)."""
    return int(np.sum(-np.asarray(pnl) > np.asarray(var)))
