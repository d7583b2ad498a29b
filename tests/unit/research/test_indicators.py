"""Our TA-Lib wrappers against hand computations of the published formulas on the bundled SPY bars.

Each reference below is a plain Python loop written from the formula's source (Wilder 1978 for RSI and
ATR, Appel for MACD, Bollinger 2001), independent of TA-Lib and NumPy's vector ops.
"""

from __future__ import annotations

import math
import statistics
from datetime import date

import numpy as np
import pytest

from magnus_desktop.analytics import indicators as ind
from magnus_desktop.services.market.recorded import ReplayMarketData


@pytest.fixture(scope="module")
def spy() -> dict[str, list[float]]:
    bars = ReplayMarketData.from_resources().bars("SPY", date(2016, 1, 1), date(2018, 1, 26))
    return {c: bars[c].tolist() for c in ("open", "high", "low", "close")}


def wilder_rsi(close: list[float], n: int = 14) -> list[float]:
    out = [math.nan] * len(close)
    ch = [close[i] - close[i - 1] for i in range(1, len(close))]
    gain = sum(max(x, 0.0) for x in ch[:n]) / n
    loss = sum(max(-x, 0.0) for x in ch[:n]) / n
    out[n] = 100.0 * gain / (gain + loss)
    for i in range(n + 1, len(close)):
        x = ch[i - 1]
        gain = (gain * (n - 1) + max(x, 0.0)) / n
        loss = (loss * (n - 1) + max(-x, 0.0)) / n
        out[i] = 100.0 * gain / (gain + loss)
    return out


def ema_seeded(values: list[float], n: int, start: int) -> list[float]:
    """EMA with α = 2/(n+1), seeded by the mean of values[start:start+n]."""
    out = [math.nan] * len(values)
    a = 2.0 / (n + 1)
    e = sum(values[start:start + n]) / n
    out[start + n - 1] = e
    for i in range(start + n, len(values)):
        e = a * values[i] + (1 - a) * e
        out[i] = e
    return out


def test_rsi_is_wilders(spy: dict[str, list[float]]) -> None:
    ours = ind.rsi(spy["close"])
    ref = wilder_rsi(spy["close"])
    assert np.isnan(ours[:14]).all()
    np.testing.assert_allclose(ours[14:], ref[14:], rtol=0, atol=1e-9)
    assert 0 < np.nanmin(ours) and np.nanmax(ours) < 100


def test_sma_ema_and_bollinger(spy: dict[str, list[float]]) -> None:
    c = spy["close"]
    i = len(c) - 1
    assert ind.sma(c, 200)[i] == pytest.approx(sum(c[i - 199:i + 1]) / 200, abs=1e-9)
    assert ind.ema(c, 50)[i] == pytest.approx(ema_seeded(c, 50, 0)[i], abs=1e-9)
    upper, middle, lower = ind.bollinger(c)
    window = c[i - 19:i + 1]
    sd = statistics.pstdev(window)  # population standard deviation (Bollinger)
    assert middle[i] == pytest.approx(statistics.fmean(window), abs=1e-9)
    assert upper[i] == pytest.approx(statistics.fmean(window) + 2 * sd, abs=1e-7)
    assert lower[i] == pytest.approx(statistics.fmean(window) - 2 * sd, abs=1e-7)


def test_macd_is_ema12_minus_ema26_and_its_ema9(spy: dict[str, list[float]]) -> None:
    c = spy["close"]
    line, signal, hist = ind.macd(c)
    # TA-Lib starts both EMAs at index 25 (the fast one seeded on closes 14..25)
    fast, slow = ema_seeded(c, 12, 14), ema_seeded(c, 26, 0)
    ref_line = [f - s for f, s in zip(fast, slow, strict=True)]
    ref_signal = ema_seeded(ref_line, 9, 25)
    assert np.isnan(line[:33]).all() and np.isfinite(line[33])
    np.testing.assert_allclose(line[33:], ref_line[33:], atol=1e-9)
    np.testing.assert_allclose(signal[33:], ref_signal[33:], atol=1e-9)
    np.testing.assert_allclose(hist[33:], np.asarray(ref_line[33:]) - np.asarray(ref_signal[33:]), atol=1e-9)


def test_atr_is_wilders(spy: dict[str, list[float]]) -> None:
    h, lo, c = spy["high"], spy["low"], spy["close"]
    tr = [math.nan] + [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))]
    ref = [math.nan] * len(c)
    a = sum(tr[1:15]) / 14
    ref[14] = a
    for i in range(15, len(c)):
        a = (a * 13 + tr[i]) / 14
        ref[i] = a
    np.testing.assert_allclose(ind.atr(h, lo, c)[14:], ref[14:], atol=1e-9)


def test_vwap_restarts_each_session() -> None:
    h = np.array([10.0, 11, 12, 20, 21])
    lo = np.array([9.0, 10, 11, 19, 20])
    c = np.array([9.5, 10.5, 11.5, 19.5, 20.5])
    v = np.array([100.0, 300, np.nan, 50, 150])
    session = np.array(["d1", "d1", "d1", "d2", "d2"])
    tp = (h + lo + c) / 3
    out = ind.vwap(h, lo, c, v, session)
    assert out[1] == pytest.approx((tp[0] * 100 + tp[1] * 300) / 400)
    assert out[2] == out[1]  # a bar without volume adds nothing
    assert out[3] == pytest.approx(tp[3])
    assert out[4] == pytest.approx((tp[3] * 50 + tp[4] * 150) / 200)


def test_short_or_missing_history_gives_nan_not_a_number() -> None:
    c = [100.0 + i for i in range(30)]
    assert np.isnan(ind.sma(c, 200)).all() and np.isnan(ind.macd(c)[1]).all()
    snap = ind.snapshot([math.nan] * 30, [math.nan] * 30, c)  # SPX-like: closes only
    assert math.isnan(snap.atr_14) and math.isnan(snap.sma_200) and snap.sma_20 == pytest.approx(sum(c[-20:]) / 20)
    assert snap.as_dict()["atr_14"] is None
    assert math.isnan(ind.last_finite(np.array([1.0, np.nan])))
