"""Options flow on the bundled SPXW replay: the real day-over-day open-interest changes."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics.options_flow import FlowError, FlowThresholds, flow_context, options_flow
from magnus_desktop.services.market.recorded import ReplayMarketData

KEY = ["expiry", "strike", "right"]


@pytest.fixture(scope="module")
def replay() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest.fixture(scope="module")
def raw(replay: ReplayMarketData) -> pd.DataFrame:
    """The whole recorded chain, every day, straight from the reader."""
    return pd.concat([replay.chain(d) for d in replay.trading_days()], ignore_index=True)


def _day(replay: ReplayMarketData, day: date, lookback: int = 10) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    days = replay.trading_days()
    i = days.index(day)
    return replay.chain(day), [replay.chain(d) for d in days[max(0, i - lookback):i]]


def test_oi_change_is_the_recorded_day_over_day_difference(replay: ReplayMarketData, raw: pd.DataFrame) -> None:
    days = replay.trading_days()
    checked = 0
    for prev_day, day in zip(days[:-1], days[1:], strict=True):
        chain, previous = _day(replay, day, lookback=1)
        flow = options_flow(chain, previous, flagged_only=False)
        a = raw[raw["quote_date"] == pd.Timestamp(day)].set_index(KEY)["open_interest"]
        b = raw[raw["quote_date"] == pd.Timestamp(prev_day)].set_index(KEY)["open_interest"]
        expected = (a - b.reindex(a.index)).dropna()
        got = flow.set_index(KEY)["oi_change"].dropna()
        assert len(got) == len(expected)
        assert np.allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy())
        assert (flow["oi_session"] == pd.Timestamp(prev_day)).all()
        checked += len(got)
    assert checked > 10_000  # every day but the expiry roll compares hundreds of contracts


def test_oi_change_reflects_the_previous_sessions_trades(replay: ReplayMarketData) -> None:
    """The change reported on D tracks the volume of ``oi_session`` (D-1), not D's own volume."""
    days = replay.trading_days()
    rows = []
    for i in range(1, len(days)):
        chain, previous = _day(replay, days[i], lookback=1)
        flow = options_flow(chain, previous, flagged_only=False).dropna(subset=["oi_change"])
        prev_vol = previous[-1].set_index(KEY)["volume"].reindex(flow.set_index(KEY).index).to_numpy()
        rows.append(pd.DataFrame({"d": flow["oi_change"].abs().to_numpy(), "v_same": flow["volume"].to_numpy(),
                                  "v_session": prev_vol}))
    x = pd.concat(rows).dropna()
    same = np.corrcoef(x["d"], x["v_same"])[0, 1]
    session = np.corrcoef(x["d"], x["v_session"])[0, 1]
    assert session > 0.6 > same
    # positions cannot change by more than what traded, apart from rare vendor corrections
    traded = x[x["v_session"] > 0]
    assert (traded["d"] <= traded["v_session"]).mean() > 0.95


def test_expiry_roll_day_has_no_oi_change(replay: ReplayMarketData) -> None:
    """2018-02-01 lists only the Feb expiry, 2018-01-31 only Jan: nothing to compare."""
    chain, previous = _day(replay, date(2018, 2, 1))
    flow = options_flow(chain, previous, flagged_only=False)
    assert flow["oi_change"].isna().all()
    ctx = flow_context(chain, previous)
    assert math.isnan(ctx["call_oi_change"].iloc[0]) and math.isnan(ctx["put_oi_change"].iloc[0])
    assert not options_flow(chain, previous)["reasons"].str.contains("OI change").any()


def test_screens_and_ranking_follow_their_definitions(replay: ReplayMarketData, raw: pd.DataFrame) -> None:
    th = FlowThresholds(vol_oi_min=0.8, jump_min=2.5, premium_min=5e6, oi_change_min=3000, min_volume=200, lookback=5)
    day = date(2018, 2, 6)
    chain, previous = _day(replay, day, lookback=5)
    flow = options_flow(chain, previous, th, flagged_only=False).set_index(KEY)
    today = raw[raw["quote_date"] == pd.Timestamp(day)].set_index(KEY)
    hist = raw[raw["quote_date"].isin([pd.Timestamp(d) for d in pd.to_datetime(
        [p["quote_date"].iloc[0] for p in previous])])]
    avg = hist.groupby(KEY)["volume"].mean().reindex(today.index)
    mid = (today["bid"] + today["ask"]) / 2
    vol = today["volume"]
    exp_vol_oi = (vol >= 200) & ((vol / today["open_interest"] >= 0.8) | (today["open_interest"] <= 0))
    exp_jump = (vol >= 200) & ((vol / avg >= 2.5) | (avg == 0))
    exp_prem = vol * mid * 100 >= 5e6
    flagged = flow["reasons"].reindex(today.index)
    assert (flagged.str.contains("vol/OI") == exp_vol_oi).all()
    assert (flagged.str.contains("volume jump") == exp_jump.fillna(False)).all()
    assert (flagged.str.contains("large premium") == exp_prem).all()
    ranked = options_flow(chain, previous, th)
    assert len(ranked) == int((flagged != "").sum()) > 0
    assert ranked["activity_usd"].is_monotonic_decreasing


def test_call_put_ratio_and_context(replay: ReplayMarketData, raw: pd.DataFrame) -> None:
    day = date(2018, 2, 5)
    chain, previous = _day(replay, day)
    ctx = flow_context(chain, previous).iloc[0]
    today = raw[raw["quote_date"] == pd.Timestamp(day)]
    calls = today.loc[today["right"] == "C", "volume"].sum()
    puts = today.loc[today["right"] == "P", "volume"].sum()
    assert ctx["cp_volume_ratio"] == pytest.approx(calls / puts)
    prev_close = previous[-1]["und_price"].iloc[0]
    assert ctx["und_change"] == pytest.approx(today["und_price"].iloc[0] / prev_close - 1)
    assert ctx["und_change"] < -0.03  # the 5 Feb 2018 shock: SPX fell 4.1 %


def test_bad_input_is_refused_with_a_reason(replay: ReplayMarketData) -> None:
    chain, previous = _day(replay, date(2018, 1, 10))
    with pytest.raises(FlowError, match="precede"):
        options_flow(previous[0], [chain])
    with pytest.raises(FlowError, match="one chain per quote day"):
        options_flow(pd.concat([chain, previous[-1]]))
    with pytest.raises(FlowError, match="lacks columns"):
        options_flow(chain.drop(columns=["open_interest"]))
    with pytest.raises(FlowError, match="no rows"):
        options_flow(chain.iloc[0:0])
    with pytest.raises(FlowError, match="vol_oi_min"):
        FlowThresholds(vol_oi_min=float("nan"))
    first = options_flow(chain, [], flagged_only=False)  # no history: changes unknown, not zero
    assert first["oi_change"].isna().all() and first["avg_volume"].isna().all()
