"""Earnings analytics: expected move from the at-the-money straddle, earnings risk of option
positions, and the historical price reaction to past reports (pure pandas/NumPy, no I/O).

- Expected move (:func:`straddle_move`): the mid of the call plus the put at the strike nearest
  the underlying, in the first expiry on or after the report date. The straddle costs what the
  market expects the stock to move (in absolute value) by that expiry, a common rule of thumb:
  Natenberg, *Option Volatility and Pricing* (2nd ed.), ch. 20; Cboe Options Institute, "Expected
  move" (straddle price ≈ 0.8 × one standard deviation; we show the straddle itself, unscaled).
- Earnings risk (:func:`earnings_risk`): an option whose expiry is on or after the underlying's
  next report date (and the report is after the day shown) holds through the report.
- Historical reaction (:func:`earnings_reactions`): the report's time of day is usually unknown
  (before the open or after the close), so the move is measured over the two sessions that cover
  both: the close of the last session before the report date to the close of the first session
  after it. The baseline is the same two-session move over every day of the bars.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["EarningsError", "StraddleMove", "earnings_reactions", "earnings_risk", "next_report",
           "reaction_summary", "straddle_move"]


class EarningsError(ValueError):
    """Input that cannot give an earnings figure (bars without closes, a chain without both sides)."""


@dataclass(frozen=True, slots=True)
class StraddleMove:
    """The at-the-money straddle of one expiry.

    Attributes:
        expiry: the straddle's expiry; strike: its strike (USD).
        call_mid, put_mid, straddle: USD per share (straddle = call_mid + put_mid).
        und_price: the underlying price used (USD).
        move_pct: straddle / und_price (decimal); lower/upper: und_price ∓ straddle (USD).
    """

    expiry: date
    strike: float
    call_mid: float
    put_mid: float
    straddle: float
    und_price: float

    @property
    def move_pct(self) -> float:
        return self.straddle / self.und_price

    @property
    def lower(self) -> float:
        return self.und_price - self.straddle

    @property
    def upper(self) -> float:
        return self.und_price + self.straddle


def next_report(dates: Iterable[date], day: date) -> date | None:
    """The first report date after ``day`` (a report on ``day`` itself has happened), or None."""
    later = sorted(d for d in dates if d > day)
    return later[0] if later else None


def straddle_move(chain: pd.DataFrame, report: date | None = None) -> StraddleMove | None:
    """The at-the-money straddle of the first expiry on or after ``report`` (any expiry if None).

    Args:
        chain: one quote date of one underlying, ``models.domain.CHAIN_COLUMNS``.
        report: the report date; expiries before it are skipped.

    Returns:
        The straddle at the strike nearest ``und_price`` with a two-sided call and put (bid > 0,
        ask >= bid), or None when no expiry on or after ``report`` has one.

    Raises:
        EarningsError: the chain lacks columns or has several underlyings.
    """
    need = ("underlying", "und_price", "expiry", "strike", "right", "bid", "ask")
    missing = [c for c in need if c not in chain.columns]
    if missing:
        raise EarningsError(f"chain lacks columns: {', '.join(missing)}")
    if chain["underlying"].nunique() > 1:
        raise EarningsError("one underlying per chain expected")
    c = chain.copy()
    c["expiry"] = pd.to_datetime(c["expiry"]).dt.date
    ok = (c["bid"] > 0) & (c["ask"] >= c["bid"])
    if report is not None:
        ok &= c["expiry"] >= report
    c = c[ok]
    for expiry in sorted(c["expiry"].unique()):
        part = c[c["expiry"] == expiry]
        mids = ((part["bid"] + part["ask"]) / 2.0).groupby([part["strike"], part["right"]]).first().unstack()
        if "C" not in mids or "P" not in mids:
            continue
        both = mids.dropna(subset=["C", "P"])
        if both.empty:
            continue
        und = float(part["und_price"].iloc[0])
        strike = float(both.index[np.argmin(np.abs(both.index.to_numpy(float) - und))])
        call, put = float(both.loc[strike, "C"]), float(both.loc[strike, "P"])
        return StraddleMove(expiry, strike, call, put, call + put, und)
    return None


def earnings_risk(positions: Iterable[tuple[str, date, str]], reports: Mapping[str, Sequence[date]],
                  day: date) -> pd.DataFrame:
    """Option positions that hold through their underlying's next report.

    Args:
        positions: (underlying symbol, expiry, description) per option position.
        reports: symbol → its report dates (any order).
        day: the day shown; only reports after it count.

    Returns:
        One row per position: ``symbol``, ``description``, ``expiry``, ``next_report`` (None when
        none is known), ``days_to_report`` (calendar days, NaN when unknown), ``at_risk`` (bool:
        the report falls on or before the expiry), ``known`` (the symbol has report dates).
    """
    rows = []
    for symbol, expiry, text in positions:
        dates = reports.get(symbol)
        nxt = next_report(dates, day) if dates else None
        rows.append({"symbol": symbol, "description": text, "expiry": expiry, "next_report": nxt,
                     "days_to_report": (nxt - day).days if nxt else math.nan,
                     "at_risk": bool(nxt is not None and nxt <= expiry), "known": bool(dates)})
    return pd.DataFrame(rows, columns=["symbol", "description", "expiry", "next_report", "days_to_report",
                                       "at_risk", "known"])


def _closes(bars: pd.DataFrame) -> pd.Series:
    if "close" not in bars.columns:
        raise EarningsError("bars lack a close column")
    close = bars["close"].astype(float)
    close.index = pd.DatetimeIndex(bars.index).normalize()
    return close[np.isfinite(close.to_numpy()) & (close.to_numpy() > 0)].sort_index()


def earnings_reactions(bars: pd.DataFrame, reports: Iterable[date]) -> pd.DataFrame:
    """The two-session price move around each past report covered by the bars.

    Args:
        bars: daily bars (DatetimeIndex, ``close`` USD per share; other columns ignored).
        reports: report dates (any order; dates outside the bars are skipped).

    Returns:
        One row per report with a session before and after it in the bars, oldest first:
        ``report``, ``before`` (last session before the report date), ``after`` (first session
        after it), ``close_before``, ``close_after`` (USD), ``move`` (decimal, after / before − 1).

    Raises:
        EarningsError: the bars have no ``close`` column.
    """
    close = _closes(bars)
    idx = close.index
    rows = []
    for report in sorted(set(reports)):
        ts = pd.Timestamp(report)
        i_before = int(idx.searchsorted(ts, side="left")) - 1
        i_after = int(idx.searchsorted(ts, side="right"))
        if i_before < 0 or i_after >= len(idx):
            continue
        if (idx[i_after] - idx[i_before]).days > 7:  # a hole in the bars, not a report window
            continue
        before, after = float(close.iloc[i_before]), float(close.iloc[i_after])
        rows.append({"report": report, "before": idx[i_before].date(), "after": idx[i_after].date(),
                     "close_before": before, "close_after": after, "move": after / before - 1.0})
    return pd.DataFrame(rows, columns=["report", "before", "after", "close_before", "close_after", "move"])


def reaction_summary(reactions: pd.DataFrame, bars: pd.DataFrame) -> dict[str, float]:
    """Summary of :func:`earnings_reactions` against an ordinary two-session move.

    Returns:
        ``n`` (reports), ``mean_abs_move``, ``median_abs_move``, ``max_up``, ``max_down``
        (decimals; NaN without reports), ``baseline_abs_move`` (mean |close(t+2)/close(t) − 1|
        over all bars, decimal), ``ratio`` (mean_abs_move / baseline).
    """
    close = _closes(bars).to_numpy()
    two_day = close[2:] / close[:-2] - 1.0 if close.size > 2 else np.array([])
    baseline = float(np.mean(np.abs(two_day))) if two_day.size else math.nan
    moves = reactions["move"].to_numpy(float) if len(reactions) else np.array([])
    if not moves.size:
        return {"n": 0, "mean_abs_move": math.nan, "median_abs_move": math.nan, "max_up": math.nan,
                "max_down": math.nan, "baseline_abs_move": baseline, "ratio": math.nan}
    mean_abs = float(np.mean(np.abs(moves)))
    return {"n": int(moves.size), "mean_abs_move": mean_abs, "median_abs_move": float(np.median(np.abs(moves))),
            "max_up": float(moves.max()), "max_down": float(moves.min()), "baseline_abs_move": baseline,
            "ratio": mean_abs / baseline if baseline > 0 else math.nan}
