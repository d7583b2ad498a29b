"""Sector allocation, concentration and relative strength on the bundled real bars."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from magnus_desktop.analytics.sectors import (
    SectorExposure,
    concentration_warnings,
    relative_strength,
    sector_allocation,
)
from magnus_desktop.services.market.recorded import ReplayMarketData


@pytest.fixture(scope="module")
def replay() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def test_allocation_sums_and_shares() -> None:
    book = [SectorExposure("AAPL", "Information Technology", 17_000.0, 35_000.0),
            SectorExposure("MSFT", "Information Technology", -900.0, 12_000.0),
            SectorExposure("JPM", "Financials", 5_000.0, -8_000.0),
            SectorExposure("SPXW", "Unclassified", -2_400.0, 60_000.0),
            SectorExposure("XOM", "Energy", math.nan, math.nan)]
    out = sector_allocation(book).set_index("sector")
    gross_delta = 35_000 + 12_000 + 8_000 + 60_000
    gross_mv = 17_000 + 900 + 5_000 + 2_400
    tech = out.loc["Information Technology"]
    assert tech["market_value"] == pytest.approx(16_100) and tech["delta_dollars"] == pytest.approx(47_000)
    assert tech["delta_share"] == pytest.approx(47_000 / gross_delta)
    assert tech["mv_share"] == pytest.approx(17_900 / gross_mv)
    assert tech["symbols"] == "AAPL, MSFT" and tech["positions"] == 2
    assert out.loc["Financials", "delta_share"] == pytest.approx(8_000 / gross_delta)  # a short counts as exposure
    assert out.loc["Energy", "unpriced"] == 1 and out.loc["Energy", "delta_dollars"] == 0
    assert list(out.index)[0] == "Unclassified"  # largest gross delta first
    warnings = concentration_warnings(out.reset_index(), 0.40)
    assert len(warnings) == 2 and warnings[0].startswith("Unclassified holds 52% of the book's delta-dollars")
    assert "Information Technology" in warnings[1] and "market value" in warnings[1]
    assert concentration_warnings(out.reset_index(), 0.99) == []
    with pytest.raises(ValueError, match="threshold"):
        concentration_warnings(out.reset_index(), 1.5)
    assert sector_allocation([]).empty


def test_relative_strength_on_real_bars(replay: ReplayMarketData) -> None:
    spy = replay.bars("SPY")["close"]
    closes = {s: replay.bars(s)["close"] for s in ("AAPL", "GOOG")}
    day = date(2017, 12, 29)
    out = relative_strength(closes, spy, day).set_index("symbol")
    for sym, n, label in (("AAPL", 21, "1m"), ("GOOG", 252, "12m")):
        c = closes[sym][closes[sym].index <= pd.Timestamp(day)]
        s = spy[spy.index <= pd.Timestamp(day)]
        ret = c.iloc[-1] / c.iloc[-1 - n] - 1
        assert out.loc[sym, f"ret_{label}"] == pytest.approx(ret)
        assert out.loc[sym, f"rs_{label}"] == pytest.approx(ret - (s.iloc[-1] / s.iloc[-1 - n] - 1))
    assert not out["stale"].any()


def test_relative_strength_of_a_series_that_ended_is_stale_and_dated(replay: ReplayMarketData) -> None:
    spy = replay.bars("SPY")["close"]
    aapl = replay.bars("AAPL")["close"]  # ends 2018-01-19
    out = relative_strength({"AAPL": aapl}, spy, date(2018, 2, 6)).iloc[0]
    assert out["stale"] and out["as_of"] == date(2018, 1, 19)
    s = spy[spy.index <= pd.Timestamp("2018-01-19")]
    c = aapl[aapl.index <= pd.Timestamp("2018-01-19")]
    assert out["rs_3m"] == pytest.approx((c.iloc[-1] / c.iloc[-64] - 1) - (s.iloc[-1] / s.iloc[-64] - 1))
    short = relative_strength({"AAPL": aapl.iloc[:100]}, spy, date(2004, 12, 31)).iloc[0]
    assert math.isnan(short["rs_12m"]) and math.isfinite(short["rs_1m"])  # never a shorter window
    none = relative_strength({"AAPL": aapl}, spy, date(2000, 1, 3)).iloc[0]
    assert none["as_of"] is None and math.isnan(none["rs_1m"])
