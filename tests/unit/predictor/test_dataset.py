"""Training set: strikes/premiums are Black-Scholes at the stated IV, labels follow the real price path."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.analytics.features import FEATURE_NAMES
from magnus_desktop.analytics.pricing import bs_price
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.predictor.dataset import (
    DEFAULT_DELTAS,
    DatasetError,
    LabelRule,
    TrainingSet,
    build_training_set,
    read_earnings_csv,
)
from magnus_desktop.services.predictor.scoring import CandidateScorer

COL = {name: k for k, name in enumerate(FEATURE_NAMES)}


def _close_on_or_before(market: ReplayMarketData, symbol: str, day: date) -> tuple[date, float]:
    bars = market.bars(symbol, start=day - timedelta(days=10), end=day)
    return bars.index[-1].date(), float(bars["close"].iloc[-1])


def test_model_priced_rows_follow_black_scholes_and_the_real_expiry_close(market: ReplayMarketData,
                                                                            spy_slice: TrainingSet) -> None:
    ts = spy_slice
    assert len(ts) > 5_000 and set(ts.price_source) == {"model"}
    assert np.all(np.diff(ts.entry_day.astype(np.int64)) >= 0)
    vix = market.bars("VIX")["close"]
    rng = np.random.default_rng(11)
    for i in rng.choice(len(ts), 40, replace=False):
        entry = ts.entry_day[i].astype(date)
        dte = int(ts.x[i, COL["dte"]])
        iv = ts.x[i, COL["iv"]]
        assert iv == pytest.approx(vix.loc[str(entry)] / 100.0)  # SPY is priced at VIX
        assert ts.und_price[i] == pytest.approx(market.underlying_price("SPY", entry))
        premium = bs_price(ts.right[i], ts.und_price[i], ts.strike[i], dte / 365.0, 0.0, iv)
        assert ts.premium[i] == pytest.approx(float(premium))
        settle_day, s_t = _close_on_or_before(market, "SPY", entry + timedelta(days=dte))
        assert ts.outcome_day[i].astype(date) == settle_day
        otm = s_t > ts.strike[i] if ts.right[i] == "P" else s_t < ts.strike[i]
        assert bool(ts.y[i]) == otm
        intrinsic = max(ts.strike[i] - s_t, 0.0) if ts.right[i] == "P" else max(s_t - ts.strike[i], 0.0)
        assert ts.pnl[i] == pytest.approx(ts.premium[i] - intrinsic)
    # strikes are rounded to the 1-USD grid, so |delta| lands near (not on) the targets
    nearest = np.abs(ts.x[:, COL["abs_delta"], None] - np.asarray(DEFAULT_DELTAS)[None, :]).min(axis=1)
    assert np.median(nearest) < 0.01 and ts.x[:, COL["abs_delta"]].max() < 0.5
    assert 0.6 < ts.y.mean() < 0.95 and ts.dropped.get("path past the end of the data", 0) == 0


def test_target_label_exits_at_the_target_or_the_stop(target_slice: TrainingSet) -> None:
    ts = target_slice
    dte = ts.x[:, COL["dte"]].astype(int)
    expiry = ts.entry_day + dte.astype("timedelta64[D]")
    assert np.all(ts.outcome_day > ts.entry_day) and np.all(ts.outcome_day <= expiry)
    early = ts.outcome_day < expiry - np.timedelta64(3, "D")
    wins, losses = early & (ts.y == 1), early & (ts.y == 0)
    assert wins.sum() > 100 and losses.sum() > 10
    assert np.all(ts.pnl[wins] >= 0.5 * ts.premium[wins] - 1e-9)  # bought back at <= half the premium
    # a stopped trade lost at least 2x the premium, or the last mark before expiry decided it
    assert np.median(ts.pnl[losses] / ts.premium[losses]) <= -2.0 + 1e-9
    assert set(ts.symbol) == {"SPY", "AAPL"}
    rv20 = ts.x[ts.symbol == "AAPL", COL["rv_20"]]
    np.testing.assert_allclose(ts.x[ts.symbol == "AAPL", COL["iv"]], rv20)  # single names: realized vol


def test_recorded_spxw_rows_use_the_real_bid(market: ReplayMarketData) -> None:
    ts = build_training_set(symbols=("SPY",), start=date(2018, 1, 2), end=date(2018, 2, 28), market=market)
    rec = ts.subset(ts.price_source == "recorded")
    assert len(rec) > 100 and set(rec.symbol) == {"SPXW"}
    for i in range(0, len(rec), 37):
        day = rec.entry_day[i].astype(date)
        expiry = day + timedelta(days=int(rec.x[i, COL["dte"]]))
        quote = market.option_quote(OptionContract("SPXW", expiry, float(rec.strike[i]), rec.right[i]), day)
        assert rec.premium[i] == quote.bid and rec.und_price[i] == market.und_price(day)
        s_t = market.und_price(expiry)
        assert bool(rec.y[i]) == (s_t > rec.strike[i] if rec.right[i] == "P" else s_t < rec.strike[i])
    assert set(ts.subset(ts.price_source == "model").symbol) == {"SPY"}


def test_earnings_dates_give_days_to_earnings(market: ReplayMarketData) -> None:
    ts = build_training_set(symbols=("AAPL",), start=date(2010, 1, 4), end=date(2010, 1, 8), dtes=(30,),
                            deltas=(0.2,), recorded_chain=False, earnings={"AAPL": [date(2010, 1, 25)]},
                            market=market)
    days = ts.x[:, COL["days_to_earnings"]]
    expected = (np.datetime64("2010-01-25") - ts.entry_day).astype(float)
    np.testing.assert_array_equal(days, expected)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"deltas": (0.6,)}, "deltas must be in (0, 0.5)"),
    ({"dtes": (0,)}, "dtes must be >= 1"),
    ({"start": date(2010, 2, 1), "end": date(2010, 1, 1)}, "before the start"),
    ({"start": date(1999, 11, 1), "end": date(2000, 3, 1)}, "about 252 trading days"),
    ({"symbols": ("TSLA",)}, "no usable bars for TSLA"),
])
def test_bad_options_say_what_is_wrong(market: ReplayMarketData, kwargs: dict, message: str) -> None:
    args = {"symbols": ("SPY",), "recorded_chain": False, "market": market, **kwargs}
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_training_set(**args)
    with pytest.raises(DatasetError, match="label kind"):
        LabelRule("random")  # type: ignore[arg-type]


SHARED_EARNINGS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "earnings" / \
    "daniel-bassett_earnings_1993-2024.csv"


@pytest.mark.skipif(not SHARED_EARNINGS.is_file(), reason="../shared/data (test-only earnings file) is absent")
def test_real_earnings_calendar_feeds_days_to_earnings(market: ReplayMarketData) -> None:
    earnings = read_earnings_csv(SHARED_EARNINGS)
    assert date(2014, 10, 16) in earnings["GOOG"] and len(earnings["AAPL"]) > 100
    ts = build_training_set(symbols=("GOOG",), start=date(2014, 10, 1), end=date(2014, 10, 31), dtes=(30,),
                            deltas=(0.2,), recorded_chain=False, earnings=earnings, market=market)
    before = ts.entry_day == np.datetime64("2014-10-14")
    assert (ts.x[before, COL["days_to_earnings"]] == 2).all()  # reported 2014-10-16
    scorer = CandidateScorer(market, None, "none", earnings)
    x, _, _ = scorer.features("GOOG", date(2014, 10, 14), "P", 500.0, 30)
    assert x[0, COL["days_to_earnings"]] == 2


def test_earnings_csv_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "e.csv"
    bad.write_text("when,what\n2010-01-01,x\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="needs a ticker/symbol and a dates/date/earnings_date column"):
        read_earnings_csv(bad)
    bad.write_text("ticker,date\nAAPL,someday\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no row with a ticker"):
        read_earnings_csv(bad)
