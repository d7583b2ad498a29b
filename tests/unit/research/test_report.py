"""Report pieces: the analysts' rules, split detection, ATM IV of the recorded SPXW chain."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics import analysts
from magnus_desktop.analytics.pricing import implied_vol
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.research.report import ReportInputs, atm_iv, build_report, detect_splits


def test_trend_votes() -> None:
    assert analysts.trend_analyst(110, 105, 100, 1.0, 0.5).verdict == "uptrend"
    assert analysts.trend_analyst(90, 95, 100, -1.0, 0.5).verdict == "downtrend"
    mixed = analysts.trend_analyst(101, 99, 100, -1.0, 0.5)
    assert mixed.verdict == "mixed" and mixed.numbers["votes"] == -1
    assert analysts.trend_analyst(100, math.nan, math.nan, 1, 0).verdict == "insufficient data"


def test_volatility_risk_income_rules() -> None:
    calm = np.full(252, 0.01)
    assert analysts.volatility_analyst(np.r_[calm, 0.02], 0.2, None).verdict == "elevated"
    assert analysts.volatility_analyst(np.r_[calm, 0.007], 0.1, None).verdict == "low"
    assert analysts.volatility_analyst(np.r_[calm, 0.01], 0.1, 80.0).verdict == "elevated"  # IV rank 80
    risk = analysts.risk_analyst(25.0, 3, 0.12, None)
    assert risk.verdict == "elevated" and len(risk.reasons) == 3
    assert analysts.risk_analyst(50.0, 30, 0.02, 3.0).verdict == "normal"
    assert analysts.income_analyst(0.25, 22, "uptrend", None, 5).verdict == "favourable"
    assert analysts.income_analyst(0.25, 22, "uptrend", 10, 5).verdict == "unfavourable"  # earnings before expiry
    assert analysts.income_analyst(None, None, "uptrend", None, 0).verdict == "insufficient data"
    assert analysts.risk_analyst(25.0, None, 0.0, None).as_dict()["numbers"]["days_to_earnings"] is None


def test_realized_vol_by_hand() -> None:
    c = np.array([100.0, 101, 99, 102, 100, 103])
    r = np.diff(np.log(c))
    expected = math.sqrt(sum((x - r.mean()) ** 2 for x in r) / (len(r) - 1)) * math.sqrt(252)
    assert analysts.realized_vol(c, 5) == pytest.approx(expected)
    assert math.isnan(analysts.realized_vol(c, 10))


def test_split_is_flagged() -> None:
    idx = pd.date_range("2020-01-01", periods=4, freq="D")
    bars = pd.DataFrame({"close": [400.0, 404.0, 101.5, 102.0]}, index=idx)
    found = detect_splits(bars)
    assert len(found) == 1 and found[0].startswith("2020-01-03") and "4:1" in found[0]
    assert detect_splits(bars.iloc[:2]) == []


def test_atm_iv_picks_the_strike_nearest_the_underlying() -> None:
    market = ReplayMarketData.from_resources()
    day = date(2018, 2, 6)
    chain = market.chain(day)
    ivs = atm_iv(chain, day, 0.015, 0.0)
    assert list(ivs) == [date(2018, 2, 28)]
    und = float(chain["und_price"].iloc[0])
    k = chain["strike"].iloc[(chain["strike"] - und).abs().argmin()]
    rows = chain[(chain["strike"] == k) & (chain["expiry"] == pd.Timestamp(2018, 2, 28))]
    each = [float(implied_vol((r.bid + r.ask) / 2, r.right, und, k, 22 / 365, 0.015, 0.0)) for r in rows.itertuples()]
    assert min(each) <= ivs[date(2018, 2, 28)] <= max(each)
    assert 0.1 < ivs[date(2018, 2, 28)] < 0.6


def test_report_without_bars_names_what_is_missing() -> None:
    doc = build_report(ReportInputs("ZZZ", date(2018, 1, 26), None, bars_error="No recorded bars for ZZZ"))
    assert doc["indicators"] is None and doc["zones"] == [] and doc["iv_rank"] is None
    assert doc["missing"][:2] == ["ZZZ has no GICS sector (not in the bundled S&P 500 list).", "No recorded bars for ZZZ"]
    assert doc["analysts"]["trend"]["verdict"] == "insufficient data"
