"""Universe scan pieces: metrics recomputed by hand from SPY bars, filters, presets, universe files."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.analytics.screen import PRESETS, ScreenFilter, passes, symbol_metrics
from magnus_desktop.analytics.zones import ZoneParams
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.research.universe import (
    ScanResult,
    UniverseFileError,
    metrics_rows,
    read_universe_file,
)
from tests.unit.research.test_indicators import wilder_rsi


def test_metrics_of_spy_by_hand() -> None:
    bars = ReplayMarketData.from_resources().bars("SPY", date(2016, 1, 1), date(2018, 1, 26))
    c, v = bars["close"].tolist(), bars["volume"].tolist()
    row = metrics_rows([("SPY", bars)], date(2018, 1, 26), ZoneParams(), {})[0]
    assert row["price"] == c[-1] and row["volume"] == v[-1]
    assert row["avg_volume_20"] == pytest.approx(sum(v[-20:]) / 20)
    assert row["rsi_14"] == pytest.approx(wilder_rsi(c)[-1], abs=1e-6)
    assert row["dist_sma_200"] == pytest.approx(c[-1] / (sum(c[-200:]) / 200) - 1, abs=1e-9)
    assert row["as_of"] == date(2018, 1, 26) and row["stale"] is False
    assert row["near_demand_atr"] > 0  # every demand zone lies well below January 2018's highs


def test_filters_and_presets() -> None:
    row = {"price": 50.0, "avg_volume_20": 2e6, "rsi_14": 30.0, "dist_sma_200": 0.02, "dist_sma_50": -0.03,
           "iv_rank": None, "sector": "Energy", "days_to_earnings": 30, "near_demand_atr": 0.4}
    assert passes(row, PRESETS["oversold quality"])
    assert passes(row, PRESETS["near demand zone"])
    assert not passes(row, PRESETS["high IV rank for the wheel"])  # no IV rank: an unknown never passes
    assert passes({**row, "iv_rank": 60.0}, PRESETS["high IV rank for the wheel"])
    assert not passes({**row, "iv_rank": 60.0, "days_to_earnings": 5}, PRESETS["high IV rank for the wheel"])
    assert not passes({**row, "sector": None}, PRESETS["oversold quality"])  # not an S&P 500 member
    assert not passes({**row, "rsi_14": math.nan}, ScreenFilter(rsi_max=50))
    assert passes(row, ScreenFilter(sma=50, dist_sma_max=-0.02)) and not passes(row, ScreenFilter(sma=50, dist_sma_min=0))
    assert not passes(row, ScreenFilter(sectors=frozenset({"Utilities"})))
    assert ScreenFilter().describe() == "no filter"


def test_short_history_gives_nan_metrics() -> None:
    import numpy as np

    c = np.linspace(10, 12, 30)
    row = symbol_metrics(c, c + 0.1, c - 0.1, c, np.full(30, 1e6))
    assert math.isnan(row["sma_200"]) and math.isnan(row["dist_sma_200"]) and row["price"] == 12.0


def test_universe_file(tmp_path: Path) -> None:
    f = tmp_path / "u.txt"
    f.write_text("# my list\n###Tech\nNASDAQ:aapl, MSFT;msft\nBRK.B  bad$$\n")
    symbols, skipped = read_universe_file(f)
    assert symbols == ["AAPL", "MSFT", "BRK.B"] and skipped == ["bad$$"]
    empty = tmp_path / "e.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(UniverseFileError, match="no ticker"):
        read_universe_file(empty)
    with pytest.raises(UniverseFileError, match="cannot be read"):
        read_universe_file(tmp_path / "missing.txt")


def test_summary_names_missing_and_cancelled() -> None:
    r = ScanResult(date(2018, 1, 26), "x", rows=[{"stale": True}], missing={"NVDA": "no bars"}, cancelled=True,
                   scanned=25, total=500)
    text = r.summary()
    assert "cancelled after 25 of 500" in text and "NVDA" in text and "older than 2018-01-26" in text
