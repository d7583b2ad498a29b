"""Portfolio risk of an option book: Greeks, full-revaluation scenarios, stress and replay (pure NumPy).

Units (all functions): prices USD per share (index points for SPX); P&L, margin, delta-dollars,
theta and vega in USD for the whole position (``qty x multiplier`` applied); ``delta`` in shares
(shares-equivalent; SPX index units count as shares of the index); ``gamma`` in shares per 1 USD
(one point) move of the underlying; ``theta`` USD per calendar day; ``vega`` USD per 1 vol point;
moves are decimals (``-0.041`` = -4.1 %); an IV change is relative (``+1.0`` = IV doubles).

Every scenario is a *full revaluation* with our BSM (:mod:`magnus_desktop.analytics.pricing`),
vectorised over positions x scenarios: ``revalue`` prices a (positions, scenarios) array at once.
VaR, ES and the backtest live in :mod:`magnus_desktop.analytics.risk_var`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from magnus_desktop.analytics.pricing import bs_greeks, bs_price

__all__ = [
    "BUCKETS",
    "FACTOR_PROXY",
    "Book",
    "GreeksReport",
    "GreeksRow",
    "RiskError",
    "RiskPosition",
    "Scenario",
    "StressResult",
    "bucket_of",
    "greeks_report",
    "pnl_grid",
    "position_greeks",
    "revalue",
    "revalue_rows",
    "short_option_margin",
    "stress_test",
]

FloatArray = NDArray[np.float64]

#: DTE buckets (label, lowest dte, highest dte), inclusive, calendar days.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("≤ 7 DTE", -(10**6), 7), ("8–30 DTE", 8, 30), ("31–60 DTE", 31, 60), ("> 60 DTE", 61, 10**6))
#: Underlyings whose historical moves come from another series: the bundled SPX closes cover only
#: the 40 replay days, so SPX/SPXW/XSP move with SPY (the same index, 1999-2020 bars).
FACTOR_PROXY: Mapping[str, str] = {"SPX": "SPY", "SPXW": "SPY", "XSP": "SPY", "^SPX": "SPY", "^GSPC": "SPY"}
#: Broad-based index roots (15 % margin rule instead of 20 %).
BROAD_INDEX = frozenset({"SPX", "SPXW", "XSP", "NDX", "RUT", "DJX", "OEX"})
#: Years per trading day: a horizon of h trading days shortens every option's life by h/252 years.
YEARS_PER_TRADING_DAY = 1.0 / 252.0
#: An option revalued at zero or negative volatility has no BSM value: scenario IVs stay above this.
MIN_IV = 0.005


class RiskError(ValueError):
    """Risk cannot be computed as asked (the message says why and what is needed)."""


@dataclass(frozen=True, slots=True)
class RiskPosition:
    """One position as risk sees it.

    Attributes:
        label: human description (``"SPXW 2018-02-28 2720 P"``).
        underlying: the option's root or the stock's symbol.
        kind: ``"option"`` or ``"stock"``.
        right: ``"C"``/``"P"`` for options, ``""`` for stock.
        strike: USD (NaN for stock).
        dte: calendar days to expiry (0 for stock).
        qty: signed contracts (options) or shares (stock).
        multiplier: shares per contract (1 for stock).
        und_price: underlying price, USD per share.
        iv: annualised decimal implied from ``mark`` (NaN for stock).
        mark: USD per share: the quote's mid, or the last known mark when ``mark_note`` says so.
        mark_note: "" when marked at a current quote; otherwise why not (the position is flagged).
        factor: the history series that moves this underlying (``FACTOR_PROXY`` or the symbol).
        expiry: the option's expiry (None for stock).
    """

    label: str
    underlying: str
    kind: Literal["option", "stock"]
    right: str
    strike: float
    dte: int
    qty: float
    multiplier: int
    und_price: float
    iv: float
    mark: float
    mark_note: str = ""
    factor: str = ""
    expiry: date | None = None

    @property
    def factor_name(self) -> str:
        return self.factor or FACTOR_PROXY.get(self.underlying.upper(), self.underlying.upper())

    def unusable(self) -> str:
        """Why this position cannot be revalued (""= it can)."""
        if not math.isfinite(self.mark):
            return "no mark: no quote now and no earlier mark known"
        if not (math.isfinite(self.und_price) and self.und_price > 0):
            return "no underlying price"
        if self.kind == "option" and self.dte > 0 and not (math.isfinite(self.iv) and self.iv > 0):
            return f"no implied volatility from its mark {self.mark:.2f} (at or below intrinsic value?)"
        return ""


@dataclass(frozen=True, slots=True)
class Book:
    """Positions as arrays (shape (p,)) for vectorised revaluation; build with :meth:`of`.

    ``excluded`` lists (label, reason) of positions that could not be revalued; they are left out
    of every figure and listed, never valued at 0.
    """

    positions: tuple[RiskPosition, ...]
    factors: tuple[str, ...]
    factor_idx: NDArray[np.intp]
    is_option: NDArray[np.bool_]
    right: NDArray[np.str_]
    s: FloatArray
    k: FloatArray
    t: FloatArray
    iv: FloatArray
    scale: FloatArray  # qty x multiplier
    base_value: FloatArray  # model value per share at today's inputs (= mark where IV came from it)
    rate: float
    div_yield: float
    excluded: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, positions: Sequence[RiskPosition], rate: float, div_yield: float = 0.0) -> Book:
        """Arrays of the revaluable positions; the others go to ``excluded`` with their reason."""
        usable = [p for p in positions if not p.unusable()]
        excluded = tuple((p.label, p.unusable()) for p in positions if p.unusable())
        factors = tuple(dict.fromkeys(p.factor_name for p in usable))
        is_option = np.array([p.kind == "option" for p in usable], dtype=bool)
        right = np.array([p.right if p.kind == "option" else "C" for p in usable], dtype="<U1")
        s = np.array([p.und_price for p in usable], dtype=np.float64)
        k = np.array([p.strike if p.kind == "option" else 1.0 for p in usable], dtype=np.float64)
        t = np.array([max(p.dte, 0) / 365.0 for p in usable], dtype=np.float64)
        # an option on its expiry day is worth its intrinsic value: no IV needed (0 stands in)
        iv = np.nan_to_num(np.array([p.iv if p.kind == "option" else 0.0 for p in usable], dtype=np.float64))
        scale = np.array([p.qty * p.multiplier for p in usable], dtype=np.float64)
        idx = np.array([factors.index(p.factor_name) for p in usable], dtype=np.intp)
        base = _values(is_option, right, s, k, t, iv, rate, div_yield) if usable else np.zeros(0)
        return cls(tuple(usable), factors, idx, is_option, right, s, k, t, iv, scale, base, rate, div_yield,
                   excluded)

    def __len__(self) -> int:
        return len(self.positions)


def _values(is_option: NDArray[np.bool_], right: NDArray[np.str_], s: FloatArray, k: FloatArray, t: FloatArray,
            iv: FloatArray, rate: float, div_yield: float) -> FloatArray:
    """Value per share (USD): BSM for options, the price itself for stock; any broadcast shape."""
    opt = bs_price(right, s, k, t, rate, np.maximum(iv, MIN_IV), div_yield)
    return np.where(is_option, opt, s)


def revalue(book: Book, und_mult: FloatArray, iv_mult: FloatArray, dt_years: float | FloatArray = 0.0) -> FloatArray:
    """P&L of every position in every scenario by full BSM revaluation.

    Args:
        book: the positions.
        und_mult: underlying price multipliers (1 + move), shape (f, s) with f = len(book.factors),
            or (1, s) to move every underlying alike.
        iv_mult: IV multipliers (1 + relative IV change), shape (s,).
        dt_years: time passing in each scenario, years (scalar or shape (s,)); lives stop at expiry.

    Returns:
        float64 array (p, s): P&L USD per position and scenario versus today's model value.
    """
    und_mult = np.asarray(und_mult, dtype=np.float64)
    rows = und_mult[book.factor_idx] if und_mult.shape[0] > 1 else und_mult
    return revalue_rows(book, np.broadcast_to(rows, (len(book), und_mult.shape[1])), iv_mult, dt_years)


def revalue_rows(book: Book, rows: FloatArray, iv_mult: FloatArray, dt_years: float | FloatArray = 0.0) -> FloatArray:
    """:func:`revalue` with one underlying multiplier per position and scenario, ``rows`` shape (p, s)."""
    s = book.s[:, None] * rows
    iv = book.iv[:, None] * np.asarray(iv_mult, dtype=np.float64)[None, :]
    t = np.maximum(book.t[:, None] - np.asarray(dt_years, dtype=np.float64), 0.0)
    opt = book.is_option[:, None]
    values = _values(opt, book.right[:, None], s, book.k[:, None], t, iv, book.rate, book.div_yield)
    values -= book.base_value[:, None]
    values *= book.scale[:, None]
    return values


def pnl_grid(book: Book, und_moves: FloatArray, iv_changes: FloatArray, dt_years: float = 0.0) -> FloatArray:
    """Book P&L (USD) over a grid of underlying moves x relative IV changes (full revaluation).

    Args:
        und_moves: shape (m,), e.g. ``np.linspace(-0.20, 0.20, 41)``; every underlying moves alike.
        iv_changes: shape (n,), e.g. ``np.linspace(-0.5, 1.0, 31)``; every IV scales by (1 + change).

    Returns:
        float64 array (m, n): P&L USD, row = underlying move, column = IV change.
    """
    m, n = len(und_moves), len(iv_changes)
    if len(book) == 0:
        return np.zeros((m, n))
    und = np.repeat(1.0 + np.asarray(und_moves, dtype=np.float64), n)[None, :]
    ivm = np.tile(1.0 + np.asarray(iv_changes, dtype=np.float64), m)
    return revalue(book, und, ivm, dt_years).sum(axis=0).reshape(m, n)


# ---- Greeks -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GreeksRow:
    """Greeks of a group of positions (units in the module docstring).

    ``beta_delta_spy`` is the beta-weighted delta in SPY shares (NaN when a member has no beta).
    """

    name: str
    positions: int
    delta_shares: float
    delta_dollars: float
    beta_delta_spy: float
    gamma: float
    theta: float
    vega: float


@dataclass(frozen=True, slots=True)
class GreeksReport:
    by_underlying: tuple[GreeksRow, ...]
    by_bucket: tuple[GreeksRow, ...]
    total: GreeksRow


def bucket_of(dte: int) -> str:
    """The ``BUCKETS`` label of ``dte`` calendar days."""
    return next(label for label, lo, hi in BUCKETS if lo <= dte <= hi)


def position_greeks(book: Book) -> FloatArray:
    """Per-position (delta shares, delta USD, gamma shares/USD, theta USD/day, vega USD/vol pt), shape (p, 5)."""
    if len(book) == 0:
        return np.zeros((0, 5))
    g = bs_greeks(book.right, book.s, book.k, book.t, book.rate, np.maximum(book.iv, MIN_IV), book.div_yield)
    opt = book.is_option
    delta = np.where(opt, g.delta, 1.0) * book.scale
    cols = (delta, delta * book.s, np.where(opt, g.gamma, 0.0) * book.scale,
            np.where(opt, g.theta, 0.0) * book.scale, np.where(opt, g.vega, 0.0) * book.scale)
    return np.column_stack(cols)


def greeks_report(book: Book, betas: Mapping[str, float], spy_price: float) -> GreeksReport:
    """Greeks by underlying, by DTE bucket (``BUCKETS``) and in total.

    Args:
        betas: underlying (upper case) -> beta to SPY; a missing one makes the beta-weighted delta NaN.
        spy_price: SPY close, USD per share, for beta-weighted delta (delta-dollars x beta / SPY price).
    """
    per = position_greeks(book)
    beta = np.array([betas.get(p.underlying.upper(), math.nan) for p in book.positions], dtype=np.float64)
    bw = per[:, 1] * beta / spy_price if len(book) else np.zeros(0)

    def row(name: str, mask: NDArray[np.bool_]) -> GreeksRow:
        sums = per[mask].sum(axis=0)
        return GreeksRow(name, int(mask.sum()), *(float(x) for x in sums[:2]), float(bw[mask].sum()),
                         *(float(x) for x in sums[2:]))

    unds = np.array([p.underlying.upper() for p in book.positions])
    buckets = np.array([bucket_of(p.dte) for p in book.positions])
    by_und = tuple(row(u, unds == u) for u in dict.fromkeys(unds.tolist()))
    by_bucket = tuple(row(label, buckets == label) for label, _lo, _hi in BUCKETS)
    return GreeksReport(by_und, by_bucket, row("Total", np.ones(len(book), dtype=bool)))


# ---- margin ---------------------------------------------------------------------------------------
def short_option_margin(book: Book, und_mult: FloatArray | None = None, values: FloatArray | None = None) -> float:
    """Strategy-based margin (USD) of the book's uncovered short options.

    Per short option: premium + max(pct x S - out-of-the-money amount, 10 % x (strike for puts,
    S for calls)), x multiplier x |qty|; pct = 15 % for broad-based indexes (``BROAD_INDEX``),
    20 % otherwise. Long options and stock need none here (paid in full).

    Args:
        und_mult: (p,) underlying multipliers of a scenario (None = today).
        values: (p,) option values per share in that scenario (None = today's model values).

    Source:
        Cboe Margin Manual (2000), "Short (uncovered) equity / broad-based index options".
    """
    if len(book) == 0:
        return 0.0
    s = book.s * (1.0 if und_mult is None else und_mult)
    price = book.base_value if values is None else values
    short = book.is_option & (book.scale < 0)
    pct = np.array([0.15 if p.underlying.upper() in BROAD_INDEX else 0.20 for p in book.positions])
    otm = np.where(book.right == "P", np.maximum(s - book.k, 0.0), np.maximum(book.k - s, 0.0))
    floor = 0.10 * np.where(book.right == "P", book.k, s)
    per_share = price + np.maximum(pct * s - otm, floor)
    return float(np.sum(np.where(short, per_share * -book.scale, 0.0)))


# ---- stress ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Scenario:
    """A one-step shock.

    Attributes:
        name: key (``"2018-02-05"``); label: what happened.
        moves: underlying or factor symbol (upper case) -> price move (decimal); ``index_move``
            (times the position's beta) for any other underlying.
        index_move: the broad index's move, decimal.
        iv_change: relative IV change of every option (VIX change), decimal.
        source: where the moves come from (bundled bars, or "stated" with the reason).
        days: calendar days that pass (1 for a one-day shock).
        user: True for a scenario the trader defined (False: a built-in historical shock).
    """

    name: str
    label: str
    moves: Mapping[str, float]
    index_move: float
    iv_change: float
    source: str
    days: int = 1
    user: bool = False


@dataclass(frozen=True, slots=True)
class StressResult:
    """P&L (USD) of a scenario, the margin it needs before/after (USD), positions ranked by loss."""

    scenario: Scenario
    pnl: float
    margin_before: float
    margin_after: float
    ranked: tuple[tuple[str, float, str], ...]  # (label, P&L USD, how its underlying moved), worst first

    @property
    def margin_change(self) -> float:
        return self.margin_after - self.margin_before


def stress_test(book: Book, scenario: Scenario, betas: Mapping[str, float]) -> StressResult:
    """Full revaluation of ``book`` under ``scenario`` (an underlying without its own move moves
    by beta x the index move; without a beta, by the index move, and the ranking says so)."""
    moves, how = [], []
    for p in book.positions:
        key = p.underlying.upper()
        if key in scenario.moves or p.factor_name in scenario.moves:
            mv = scenario.moves.get(key, scenario.moves.get(p.factor_name, 0.0))
            moves.append(mv)
            how.append(f"{mv:+.1%}")
        else:
            b = betas.get(key, math.nan)
            mv = scenario.index_move * (b if math.isfinite(b) else 1.0)
            moves.append(mv)
            how.append(f"{mv:+.1%} (beta {b:.2f} x index)" if math.isfinite(b) else f"{mv:+.1%} (index move, no beta)")
    if len(book) == 0:
        return StressResult(scenario, 0.0, 0.0, 0.0, ())
    mult = 1.0 + np.array(moves)
    ivm = np.array([1.0 + scenario.iv_change])
    dt = scenario.days / 365.0
    per_book = revalue_rows(book, mult[:, None], ivm, dt)[:, 0]
    after = _values(book.is_option, book.right, book.s * mult, book.k, np.maximum(book.t - dt, 0.0),
                    book.iv * ivm[0], book.rate, book.div_yield)
    order = np.argsort(per_book)
    ranked = tuple((book.positions[i].label, float(per_book[i]), how[i]) for i in order)
    return StressResult(scenario, float(per_book.sum()), short_option_margin(book),
                        short_option_margin(book, mult, after), ranked)
