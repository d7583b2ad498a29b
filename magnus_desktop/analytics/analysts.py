"""Deterministic "analysts" of the research report: trend, volatility, risk and income.

Each takes numbers already computed (indicators, zones, IV rank, earnings, wheel candidates) and
returns a :class:`Verdict`: one word, the numbers behind it and the reasons in words. No I/O, no
randomness: the same inputs always give the same verdict. A missing input (NaN / None) never counts
for or against; when an analyst lacks its main input its verdict is ``"insufficient data"``.

Rules (thresholds are the common textbook ones, stated with each analyst):

- **trend**: three votes — close vs SMA(200), SMA(50) vs SMA(200) (golden/death cross, Murphy,
  *Technical Analysis of the Financial Markets*, 1999) and MACD vs its signal (Appel). ≥ +2 →
  ``uptrend``, ≤ −2 → ``downtrend``, else ``mixed``.
- **volatility**: ATR(14) as % of the close vs its median over the last 252 bars: > 1.25× →
  ``elevated``, < 0.8× → ``low``, else ``normal``; 20-day realized vol (close-to-close log returns,
  √252) and IV rank (0-100) are reported beside it; IV rank ≥ 50 also reads ``elevated``.
- **risk**: RSI(14) ≥ 70 (overbought) or ≤ 30 (oversold) (Wilder), an earnings report within 7
  calendar days, a drawdown from the 252-bar high ≥ 10 %, or the close inside/below an active demand
  zone within 0.5 ATR → ``elevated`` with each reason; else ``normal``.
- **income** (the wheel: short puts): needs scanner candidates; ``favourable`` when the best
  candidate's annualized return ≥ 10 % and the trend is not a downtrend and no earnings fall within
  its DTE; ``unfavourable`` otherwise (reasons listed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Verdict", "income_analyst", "realized_vol", "risk_analyst", "trend_analyst", "volatility_analyst"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """An analyst's answer: ``verdict`` word, ``numbers`` (name → value, NaN shown as None) and
    ``reasons`` (sentences that quote those numbers)."""

    analyst: str
    verdict: str
    numbers: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        nums = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.numbers.items()}
        return {"verdict": self.verdict, "numbers": nums, "reasons": list(self.reasons)}


def _ok(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _r(x: float | None, nd: int = 4) -> float:
    return round(float(x), nd) if _ok(x) else math.nan


def trend_analyst(close: float, sma_50: float, sma_200: float, macd: float, macd_signal: float) -> Verdict:
    """Trend from three votes (USD inputs); ``insufficient data`` without SMA(200)."""
    nums = {"close": _r(close), "sma_50": _r(sma_50), "sma_200": _r(sma_200), "macd": _r(macd),
            "macd_signal": _r(macd_signal)}
    if not (_ok(close) and _ok(sma_200)):
        return Verdict("trend", "insufficient data", nums, ("SMA(200) needs 200 daily bars",))
    votes, reasons = 0, []
    for a, b, up, down in ((close, sma_200, "close above SMA(200)", "close below SMA(200)"),
                           (sma_50, sma_200, "SMA(50) above SMA(200)", "SMA(50) below SMA(200)"),
                           (macd, macd_signal, "MACD above its signal", "MACD below its signal")):
        if _ok(a) and _ok(b) and a != b:
            votes += 1 if a > b else -1
            reasons.append(up if a > b else down)
    nums["votes"] = votes
    verdict = "uptrend" if votes >= 2 else "downtrend" if votes <= -2 else "mixed"
    return Verdict("trend", verdict, nums, tuple(reasons))


def realized_vol(close: np.ndarray, window: int = 20) -> float:
    """Annualised close-to-close volatility of the last ``window`` log returns (decimal; √252)."""
    c = np.asarray(close, dtype=np.float64)
    c = c[np.isfinite(c)]
    if c.size < window + 1:
        return math.nan
    r = np.diff(np.log(c[-(window + 1):]))
    return float(np.std(r, ddof=1) * math.sqrt(252.0))


def volatility_analyst(atr_pct: np.ndarray, rv_20: float, iv_rank: float | None) -> Verdict:
    """Volatility regime from ATR% history (decimal of the close, shape (n,), last = today)."""
    a = np.asarray(atr_pct, dtype=np.float64)
    now = float(a[-1]) if a.size else math.nan
    hist = a[-252:][np.isfinite(a[-252:])]
    median = float(np.median(hist)) if hist.size >= 20 else math.nan
    nums = {"atr_pct": _r(now, 5), "atr_pct_median_252": _r(median, 5), "realized_vol_20": _r(rv_20),
            "iv_rank": _r(iv_rank, 1)}
    if not (_ok(now) and _ok(median)) or median <= 0:
        return Verdict("volatility", "insufficient data", nums, ("ATR(14) needs high/low bars (34+ days)",))
    ratio = now / median
    nums["atr_vs_median"] = _r(ratio, 3)
    verdict = "elevated" if ratio > 1.25 else "low" if ratio < 0.8 else "normal"
    reasons = [f"ATR is {ratio:.2f}× its 1-year median"]
    if _ok(iv_rank):
        reasons.append(f"IV rank {iv_rank:.0f}")
        if iv_rank >= 50 and verdict != "elevated":  # type: ignore[operator]
            verdict = "elevated"
    return Verdict("volatility", verdict, nums, tuple(reasons))


def risk_analyst(rsi_14: float, days_to_earnings: int | None, drawdown: float,
                 demand_distance_atr: float | None) -> Verdict:
    """Near-term risk flags. ``drawdown`` decimal below the 252-bar high (0.1 = 10 %);
    ``demand_distance_atr`` from the close to the nearest active demand zone (None if none)."""
    nums = {"rsi_14": _r(rsi_14, 2), "days_to_earnings": days_to_earnings, "drawdown_252": _r(drawdown),
            "nearest_demand_atr": _r(demand_distance_atr, 2)}
    reasons = []
    if _ok(rsi_14) and rsi_14 >= 70:
        reasons.append(f"RSI {rsi_14:.1f} ≥ 70 (overbought)")
    if _ok(rsi_14) and rsi_14 <= 30:
        reasons.append(f"RSI {rsi_14:.1f} ≤ 30 (oversold)")
    if days_to_earnings is not None and 0 <= days_to_earnings <= 7:
        reasons.append(f"earnings in {days_to_earnings} days")
    if _ok(drawdown) and drawdown >= 0.10:
        reasons.append(f"{drawdown * 100:.1f} % below its 1-year high")
    if _ok(demand_distance_atr) and demand_distance_atr <= 0.5:  # type: ignore[operator]
        reasons.append(f"at a demand zone ({demand_distance_atr:.2f} ATR)")
    if not _ok(rsi_14):
        return Verdict("risk", "insufficient data", nums, ("RSI(14) needs 15 daily bars",))
    return Verdict("risk", "elevated" if reasons else "normal", nums, tuple(reasons) or ("no flag raised",))


def income_analyst(best_annualized_return: float | None, best_dte: int | None, trend: str,
                   days_to_earnings: int | None, candidates: int) -> Verdict:
    """Selling puts on the symbol (the wheel), from the scanner's best candidate."""
    nums = {"candidates": candidates, "best_annualized_return": _r(best_annualized_return),
            "best_dte": best_dte, "days_to_earnings": days_to_earnings}
    if not candidates or not _ok(best_annualized_return):
        return Verdict("income", "insufficient data", nums, ("no option chain / no scanner candidate for this symbol",))
    reasons, good = [], True
    if best_annualized_return < 0.10:  # type: ignore[operator]
        good = False
        reasons.append(f"best annualized return {best_annualized_return * 100:.1f} % < 10 %")  # type: ignore[operator]
    else:
        reasons.append(f"best annualized return {best_annualized_return * 100:.1f} %")  # type: ignore[operator]
    if trend == "downtrend":
        good = False
        reasons.append("the trend is down")
    if days_to_earnings is not None and best_dte is not None and 0 <= days_to_earnings <= best_dte:
        good = False
        reasons.append(f"earnings in {days_to_earnings} days, before the {best_dte}-day expiry")
    return Verdict("income", "favourable" if good else "unfavourable", nums, tuple(reasons))
