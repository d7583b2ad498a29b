"""Features: each indicator against an independent reference on real SPY closes; no look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics.features import (
    CANDIDATE_FEATURES,
    FEATURE_NAMES,
    MARKET_FEATURES,
    candidate_features,
    market_features,
    rank_in_window,
    realized_vol,
    rsi,
    sma,
    trailing_return,
)
from magnus_desktop.services.market.recorded import ReplayMarketData


@pytest.fixture(scope="module")
def spy() -> tuple[np.ndarray, np.ndarray]:
    market = ReplayMarketData.from_resources()
    bars = market.bars("SPY", end=pd.Timestamp("2004-12-31").date())
    vix = market.bars("VIX")["close"].reindex(bars.index).to_numpy()
    return bars["close"].to_numpy(), vix


def _rsi_reference(close: list[float], n: int = 14) -> list[float]:
    """Wilder's RSI written from the book's recipe, one day at a time (plain Python)."""
    out = [math.nan] * len(close)
    changes = [b - a for a, b in zip(close, close[1:], strict=False)]
    avg_gain = sum(max(c, 0.0) for c in changes[:n]) / n
    avg_loss = sum(max(-c, 0.0) for c in changes[:n]) / n
    for i in range(n, len(close)):
        if i > n:
            c = changes[i - 1]
            avg_gain = (avg_gain * (n - 1) + max(c, 0.0)) / n
            avg_loss = (avg_loss * (n - 1) + max(-c, 0.0)) / n
        out[i] = 100.0 if avg_loss == 0 else 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    return out


def test_indicators_match_pandas_and_a_plain_python_rsi(spy: tuple[np.ndarray, np.ndarray]) -> None:
    close = spy[0]
    s = pd.Series(close)
    np.testing.assert_allclose(sma(close, 50), s.rolling(50).mean(), rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(trailing_return(close, 20), s.pct_change(20), rtol=1e-10, equal_nan=True)
    logret = np.log(s).diff()
    np.testing.assert_allclose(realized_vol(close, 20), logret.rolling(20).std(ddof=1) * math.sqrt(252),
                               rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose(rsi(close, 14), _rsi_reference(close.tolist()), rtol=1e-10, equal_nan=True)
    assert np.nanmin(rsi(close)) > 0 and np.nanmax(rsi(close)) < 100
    assert rsi(np.arange(1.0, 40.0))[-1] == 100.0  # no down day in the window


def test_iv_rank_matches_rolling_min_max_and_is_nan_over_a_missing_value() -> None:
    rng = np.random.default_rng(3)
    x = 0.1 + rng.random(400)
    s = pd.Series(x)
    lo, hi = s.rolling(252).min(), s.rolling(252).max()
    np.testing.assert_allclose(rank_in_window(x, 252), (s - lo) / (hi - lo), rtol=1e-12, equal_nan=True)
    x[300] = np.nan  # the real VIX file misses a day the SPY file has
    ranked = rank_in_window(x, 252)
    assert np.isnan(ranked[300:300 + 252]).all()  # unknown, not a made-up 0.5
    assert np.isfinite(ranked[299])


def test_market_features_never_look_ahead(spy: tuple[np.ndarray, np.ndarray]) -> None:
    close, vix = spy
    full = market_features(close, vix)
    assert full.shape == (close.size, len(MARKET_FEATURES))
    for i in (260, 500, 800, close.size - 1):  # row i computed from the closes up to i only
        cut = market_features(close[:i + 1], vix[:i + 1])
        np.testing.assert_allclose(cut[-1], full[i], rtol=1e-9, equal_nan=True)
        last = market_features(close[:i + 1], vix[:i + 1], last_only=True)
        np.testing.assert_allclose(last, full[i:i + 1], rtol=1e-9, equal_nan=True)
    assert np.isfinite(full[300]).all()
    assert np.isnan(full[100, MARKET_FEATURES.index("dist_sma_200")])


def test_candidate_features_columns_and_units(spy: tuple[np.ndarray, np.ndarray]) -> None:
    close, vix = spy
    day = market_features(close, vix)[400]
    x = candidate_features(np.vstack([day, day]), [0.2, 0.3], [30, 45], [0.0, 1.0], [90.0, 130.0], [100.0, 100.0],
                           [0.2, 0.2], [2, 4], [np.nan, 12.0])
    assert x.shape == (2, len(FEATURE_NAMES))
    col = {name: x[:, k] for k, name in enumerate(FEATURE_NAMES)}
    assert col["abs_delta"].tolist() == [0.2, 0.3] and col["dte"].tolist() == [30, 45]
    assert col["is_call"].tolist() == [0.0, 1.0]
    expected = math.log(0.9) / (0.2 * math.sqrt(30 / 365))
    assert col["moneyness_sigma"][0] == pytest.approx(expected)  # a put strike below spot: negative sigmas
    assert col["moneyness_sigma"][1] > 0
    np.testing.assert_array_equal(x[0, len(CANDIDATE_FEATURES):len(CANDIDATE_FEATURES) + len(MARKET_FEATURES)], day)
    assert col["day_of_week"].tolist() == [2, 4]
    assert math.isnan(col["days_to_earnings"][0]) and col["days_to_earnings"][1] == 12
