"""Same-strike calendars on a real multi-expiry chain (Agilent, 2016-01-05; tests/data/PROVENANCE.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics.calendars import (
    CalendarError,
    calendar_greeks,
    calendar_pnl_at_near,
    rank_calendars,
)
from magnus_desktop.analytics.pricing import bs_price
from magnus_desktop.services.market.chains import load_chain
from magnus_desktop.services.market.recorded import ReplayMarketData

CHAIN = Path(__file__).resolve().parents[1] / "data" / "optopsy_A_agilent_2016-01-05.csv"
RATE, DIV = 0.015, 0.0


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    return load_chain(CHAIN)


@pytest.fixture(scope="module")
def ranked(chain: pd.DataFrame) -> pd.DataFrame:
    return rank_calendars(chain, RATE, DIV)


def _value(row: pd.Series, s: float, dt_days: float = 0.0, dvol: float = 0.0) -> float:
    """The calendar's BSM value (far − near) with time moved ``dt_days`` forward and both IVs + ``dvol``."""
    tn = (row.near_dte - dt_days) / 365.0
    tf = (row.far_dte - dt_days) / 365.0
    return float(bs_price(row.right, s, row.strike, tf, RATE, row.far_iv + dvol, DIV)
                 - bs_price(row.right, s, row.strike, tn, RATE, row.near_iv + dvol, DIV))


def test_legs_match_the_chain(chain: pd.DataFrame, ranked: pd.DataFrame) -> None:
    assert len(ranked) > 50
    quotes = chain.assign(mid=(chain["bid"] + chain["ask"]) / 2).set_index(["expiry", "strike", "right"])
    for row in ranked.head(30).itertuples():
        near = quotes.loc[(pd.Timestamp(row.near_expiry), row.strike, row.right)]
        far = quotes.loc[(pd.Timestamp(row.far_expiry), row.strike, row.right)]
        assert row.net_debit == pytest.approx(far["mid"] - near["mid"])
        assert row.natural_debit == pytest.approx(far["ask"] - near["bid"])
        assert row.near_dte == (row.near_expiry - date(2016, 1, 5)).days
        # the IVs reprice each leg's mid
        assert float(bs_price(row.right, 40.55, row.strike, row.near_dte / 365, RATE, row.near_iv)) == pytest.approx(
            near["mid"], abs=1e-6)
        assert float(bs_price(row.right, 40.55, row.strike, row.far_dte / 365, RATE, row.far_iv)) == pytest.approx(
            far["mid"], abs=1e-6)
        assert row.iv_diff == pytest.approx(row.near_iv - row.far_iv)
    assert (ranked["net_debit"] > 0).all()
    assert ranked["iv_diff"].is_monotonic_decreasing


def test_calendar_greeks_match_finite_differences(ranked: pd.DataFrame) -> None:
    rows = ranked.iloc[:: max(1, len(ranked) // 25)]
    for _, row in rows.iterrows():
        s, h = row.und_price, row.und_price * 1e-4
        delta = (_value(row, s + h) - _value(row, s - h)) / (2 * h)
        gamma = (_value(row, s + h) - 2 * _value(row, s) + _value(row, s - h)) / h**2
        vega = (_value(row, s, dvol=1e-4) - _value(row, s, dvol=-1e-4)) / 2e-4 * 0.01  # per vol point
        theta = (_value(row, s, dt_days=0.01) - _value(row, s, dt_days=-0.01)) / 0.02  # per calendar day
        assert row.delta == pytest.approx(delta, rel=1e-4, abs=1e-7)
        assert row.gamma == pytest.approx(gamma, rel=1e-3, abs=1e-6)
        assert row.vega == pytest.approx(vega, rel=1e-5, abs=1e-8)
        assert row.theta == pytest.approx(theta, rel=1e-4, abs=1e-7)
        g = calendar_greeks(row.right, s, row.strike, row.near_dte / 365, row.far_dte / 365, row.near_iv,
                            row.far_iv, RATE, DIV)
        assert g["value"] == pytest.approx(row.net_debit, abs=1e-6)  # at the legs' own IVs: the mid debit
    # a long calendar is long vega and collects time decay near the money
    atm = ranked[(ranked["strike"] - ranked["und_price"]).abs() <= 1.0]
    assert (atm["vega"] > 0).all() and (atm["theta"] > 0).all() and (atm["gamma"] < 0).all()


def test_breakevens_bound_the_profit_at_the_near_expiry(ranked: pd.DataFrame) -> None:
    both = ranked.dropna(subset=["breakeven_low", "breakeven_high"])
    assert len(both) > 20
    for row in both.itertuples():
        gap = (row.far_dte - row.near_dte) / 365

        def pnl(x: float, row=row, gap=gap) -> float:
            # independent of the module: far leg at its IV on its remaining time, minus the near payoff
            w = 1 if row.right == "C" else -1
            return float(bs_price(row.right, x, row.strike, gap, RATE, row.far_iv)) - max(w * (x - row.strike), 0) \
                - row.net_debit

        assert abs(pnl(row.breakeven_low)) < 1e-6 and abs(pnl(row.breakeven_high)) < 1e-6
        assert pnl(row.strike) > 0 and pnl(row.breakeven_low * 0.99) < 0 and pnl(row.breakeven_high * 1.01) < 0
        assert row.max_profit == pytest.approx(pnl(row.strike), rel=0.02)
        curve = calendar_pnl_at_near(np.array([row.breakeven_low, row.strike]), row.right, row.strike, gap,
                                     row.far_iv, row.net_debit, RATE)
        assert curve[0] == pytest.approx(0, abs=1e-6) and curve[1] == pytest.approx(pnl(row.strike))


def test_sorting_and_filters(chain: pd.DataFrame) -> None:
    puts = rank_calendars(chain, RATE, right="P", sort_by="theta")
    assert set(puts["right"]) == {"P"} and puts["theta"].is_monotonic_decreasing
    cheap = rank_calendars(chain, RATE, sort_by="net_debit")
    assert cheap["net_debit"].is_monotonic_increasing
    narrow = rank_calendars(chain, RATE, max_moneyness=0.05, min_near_dte=20)
    assert ((narrow["strike"] / 40.55 - 1).abs() <= 0.05).all() and (narrow["near_dte"] >= 20).all()


def test_one_expiry_gives_no_calendar() -> None:
    """The bundled SPXW replay lists one expiry per day: nothing to pair, said by an empty table."""
    replay = ReplayMarketData.from_resources()
    assert rank_calendars(replay.chain(date(2018, 2, 6)), RATE).empty


def test_bad_input(chain: pd.DataFrame) -> None:
    with pytest.raises(CalendarError, match="lacks columns"):
        rank_calendars(chain.drop(columns=["bid"]), RATE)
    with pytest.raises(CalendarError, match="right"):
        rank_calendars(chain, RATE, right="X")
    with pytest.raises(CalendarError, match="sort_by"):
        rank_calendars(chain, RATE, sort_by="score")
    other = chain.assign(quote_date=pd.Timestamp("2016-01-06"))
    with pytest.raises(CalendarError, match="one quote date"):
        rank_calendars(pd.concat([chain, other]), RATE)


def test_payoff_curves_cross_zero_at_the_breakevens(ranked: pd.DataFrame) -> None:
    from magnus_desktop.analytics.calendars import calendar_curves

    row = ranked.dropna(subset=["breakeven_low", "breakeven_high"]).iloc[0]
    prices, at_near, now = calendar_curves(row.right, row.strike, row.und_price, row.near_dte, row.far_dte,
                                           row.near_iv, row.far_iv, row.net_debit, RATE)
    assert prices[0] < row.breakeven_low < row.strike < row.breakeven_high < prices[-1]
    crossings = prices[:-1][np.sign(at_near[:-1]) != np.sign(at_near[1:])]
    assert len(crossings) == 2
    step = prices[1] - prices[0]
    assert abs(crossings[0] - row.breakeven_low) <= step and abs(crossings[1] - row.breakeven_high) <= step
    i = int(np.argmin(np.abs(prices - row.und_price)))
    assert now[i] == pytest.approx((_value(row, prices[i]) - row.net_debit) * 100)  # today: 0 at the legs' IVs at S
    assert np.nanmax(at_near) == pytest.approx(row.max_profit * 100, rel=0.01)
