"""Technical indicators of daily (or intraday) bars, through TA-Lib where it has them.

Pure functions over NumPy arrays (no I/O, no Qt). Inputs are float64 arrays of one symbol's bars in
time order, shape ``(n,)``; prices in USD per share, volume in shares. Every output has shape ``(n,)``
and is NaN where the indicator is not yet defined (its warm-up) or an input is missing; a missing
price is NaN, never 0.

Implementation: TA-Lib 0.8 (``ta-lib`` on PyPI, the official Python wrapper of the TA-Lib C library;
its wheels bundle the library). TA-Lib's definitions, which our tests recompute by hand from the
published formulas on the bundled SPY bars:

- SMA(n): arithmetic mean of the last ``n`` closes; first value at index ``n-1``.
- EMA(n): ``α = 2/(n+1)``, seeded with the SMA of the first ``n`` closes (TA-Lib's default
  "classic" seed, not pandas' ``adjust=True``); first value at index ``n-1``.
- Bollinger(20, 2): SMA(20) ± 2 × *population* standard deviation of the last 20 closes
  (Bollinger, *Bollinger on Bollinger Bands*, 2001).
- RSI(14): Wilder (*New Concepts in Technical Trading Systems*, 1978): average gain and loss seeded
  with the simple mean of the first 14 changes, then ``avg = (avg × 13 + x) / 14``;
  ``RSI = 100 × avg_gain / (avg_gain + avg_loss)``; first value at index 14. Unit: 0–100.
- MACD(12, 26, 9) (Appel): ``macd = EMA12 − EMA26`` (USD), ``signal = EMA9(macd)``,
  ``hist = macd − signal``. TA-Lib starts the EMA12 so that both EMAs begin at index 25; first
  signal at index 33.
- ATR(14): Wilder's average true range (USD): ``TR = max(h − l, |h − c₋₁|, |l − c₋₁|)``, seeded
  with the mean of the first 14 TRs (indices 1..14), then Wilder smoothing; first value at index 14.
- VWAP (not in TA-Lib; ours): intraday only, per session: cumulative Σ(typical × volume) /
  Σ volume with typical = (h + l + c)/3, restarting at each new ``session`` value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import talib
from numpy.typing import NDArray

__all__ = [
    "MA_PERIODS",
    "IndicatorSnapshot",
    "atr",
    "bollinger",
    "compute_all",
    "ema",
    "last_finite",
    "macd",
    "rsi",
    "sma",
    "snapshot",
    "vwap",
]

F64 = NDArray[np.float64]
#: the moving averages the chart and the report show
MA_PERIODS: tuple[int, ...] = (20, 50, 200)


def _f64(values: object) -> F64:
    return np.ascontiguousarray(values, dtype=np.float64)


def _all_nan(n: int) -> F64:
    return np.full(n, np.nan)


def _enough(x: F64, need: int) -> bool:
    """TA-Lib raises on all-NaN input and returns only NaN when too short: answer NaN ourselves."""
    return int(np.isfinite(x).sum()) >= need


def sma(close: object, period: int) -> F64:
    """Simple moving average of ``close`` over ``period`` bars (USD)."""
    c = _f64(close)
    return talib.SMA(c, timeperiod=period) if _enough(c, period) else _all_nan(c.size)


def ema(close: object, period: int) -> F64:
    """Exponential moving average (α = 2/(period+1), SMA seed) of ``close`` (USD)."""
    c = _f64(close)
    return talib.EMA(c, timeperiod=period) if _enough(c, period) else _all_nan(c.size)


def bollinger(close: object, period: int = 20, k: float = 2.0) -> tuple[F64, F64, F64]:
    """Bollinger bands ``(upper, middle, lower)`` in USD: SMA ± k × population stdev."""
    c = _f64(close)
    if not _enough(c, period):
        return _all_nan(c.size), _all_nan(c.size), _all_nan(c.size)
    upper, middle, lower = talib.BBANDS(c, timeperiod=period, nbdevup=k, nbdevdn=k, matype=0)
    return upper, middle, lower


def rsi(close: object, period: int = 14) -> F64:
    """Wilder's RSI of ``close`` (0–100)."""
    c = _f64(close)
    return talib.RSI(c, timeperiod=period) if _enough(c, period + 1) else _all_nan(c.size)


def macd(close: object, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[F64, F64, F64]:
    """``(macd, signal, histogram)`` in USD: EMA(fast) − EMA(slow), its EMA(signal), their difference."""
    c = _f64(close)
    if not _enough(c, slow + signal - 1):
        return _all_nan(c.size), _all_nan(c.size), _all_nan(c.size)
    line, sig, hist = talib.MACD(c, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    return line, sig, hist


def atr(high: object, low: object, close: object, period: int = 14) -> F64:
    """Wilder's average true range (USD)."""
    h, lo, c = _f64(high), _f64(low), _f64(close)
    ok = np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    if int(ok.sum()) < period + 1:
        return _all_nan(c.size)
    return talib.ATR(h, lo, c, timeperiod=period)


def vwap(high: object, low: object, close: object, volume: object, session: object) -> F64:
    """Volume-weighted average price per session (USD), for intraday bars.

    Args:
        session: shape (n,), any values equal within one session (e.g. the bar's exchange date);
            the sum restarts where it changes. A bar with NaN/zero volume adds nothing.
    """
    h, lo, c, v = _f64(high), _f64(low), _f64(close), _f64(volume)
    s = np.asarray(session)
    typical = (h + lo + c) / 3.0
    ok = np.isfinite(typical) & np.isfinite(v) & (v > 0)
    pv = np.where(ok, typical * v, 0.0)
    vol = np.where(ok, v, 0.0)
    out = np.full(c.size, np.nan)
    if c.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], c.size]
    for a, b in zip(starts, ends, strict=True):
        cv = np.cumsum(vol[a:b])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a:b] = np.where(cv > 0, np.cumsum(pv[a:b]) / cv, np.nan)
    return out


def compute_all(open_: object, high: object, low: object, close: object) -> dict[str, F64]:
    """Every daily indicator of the chart and the report, keyed ``sma_20``, ``ema_50``, ``bb_upper``,
    ``rsi_14``, ``macd``, ``macd_signal``, ``macd_hist``, ``atr_14`` … (arrays of shape (n,)).

    ``open_`` is accepted for symmetry with the bars and not used by any of them.
    """
    del open_
    c = _f64(close)
    out: dict[str, F64] = {}
    for p in MA_PERIODS:
        out[f"sma_{p}"] = sma(c, p)
        out[f"ema_{p}"] = ema(c, p)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = bollinger(c)
    out["rsi_14"] = rsi(c)
    out["macd"], out["macd_signal"], out["macd_hist"] = macd(c)
    out["atr_14"] = atr(high, low, c)
    return out


def last_finite(values: F64) -> float:
    """The last value of ``values`` if it is finite, else NaN (never an older value shown as current)."""
    return float(values[-1]) if values.size and np.isfinite(values[-1]) else float("nan")


@dataclass(frozen=True, slots=True)
class IndicatorSnapshot:
    """Indicator values on one bar (the last one given): USD except ``rsi_14`` (0–100).

    NaN where the history is too short (e.g. ``sma_200`` with < 200 bars).
    """

    close: float
    rsi_14: float
    macd: float
    macd_signal: float
    macd_hist: float
    atr_14: float
    sma_20: float
    sma_50: float
    sma_200: float
    ema_20: float
    ema_50: float
    ema_200: float
    bb_upper: float
    bb_lower: float

    def as_dict(self) -> dict[str, float | None]:
        """JSON-ready: NaN → None."""
        return {k: (None if not np.isfinite(v) else round(float(v), 6))
                for k, v in ((f, getattr(self, f)) for f in self.__slots__)}


def snapshot(high: object, low: object, close: object) -> IndicatorSnapshot:
    """:class:`IndicatorSnapshot` of the last bar of the given history."""
    c = _f64(close)
    values = compute_all(None, high, low, c)
    return IndicatorSnapshot(close=last_finite(c), **{k: last_finite(values[k]) for k in (
        "rsi_14", "macd", "macd_signal", "macd_hist", "atr_14", "sma_20", "sma_50", "sma_200",
        "ema_20", "ema_50", "ema_200", "bb_upper", "bb_lower")})
