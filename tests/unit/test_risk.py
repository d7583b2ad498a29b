"""Risk analytics: VaR/ES against hand-computed values, Kupiec, the 5 Feb 2018 replay against the
recorded marks, stress scenarios from the bundled bars, bad input (no quote, short history)."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import numpy as np
import pytest

from magnus_desktop.analytics.risk import Book, RiskPosition, pnl_grid, stress_test
from magnus_desktop.analytics.risk_var import (
    FactorHistory,
    InsufficientHistoryError,
    delta_gamma_var,
    historical_var,
    kupiec_pof,
    monte_carlo_var,
    var_es,
)
from magnus_desktop.cli_risk import seed_fills
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.portfolio.marking import account_summary
from magnus_desktop.services.risk.history import builtin_scenarios
from magnus_desktop.services.risk.positions import to_risk_positions
from magnus_desktop.services.risk.report import compute_report

RATE = 0.015
FEB2 = date(2018, 2, 2)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def stock(qty: float = 100.0, price: float = 50.0, symbol: str = "SPY") -> RiskPosition:
    return RiskPosition(symbol, symbol, "stock", "", math.nan, 0, qty, 1, price, math.nan, price)


def history(ratios: list[float], vix_ratios: list[float] | None = None) -> FactorHistory:
    closes = np.cumprod([100.0, *ratios])
    vix = np.cumprod([20.0, *(vix_ratios or [1.0] * len(ratios))])
    days = tuple(date(2010, 1, 4) + timedelta(days=i) for i in range(len(closes)))
    return FactorHistory(days, {"SPY": closes}, vix)


# 40 daily moves: +1 % except three losses of 10 %, 5 % and 3 %.
RATIOS = [1.01] * 37 + [0.90, 0.95, 0.97]


def test_var_es_quantile_convention() -> None:
    pnl = np.array([-10.0, -5.0, -3.0] + [1.0] * 37)  # 40 scenarios
    assert var_es(pnl, 0.95) == (5.0, 7.5)  # k = ceil(40 x 0.05) = 2: 2nd largest loss, mean of the 2 largest
    assert var_es(pnl, 0.99) == (10.0, 10.0)  # k = 1


def test_historical_var_of_shares_matches_hand_values() -> None:
    book = Book.of([stock(100, 50.0)], RATE)
    figs = historical_var(book, history(RATIOS), window=40, horizons=(1,)).figures
    # 100 shares x USD 50: losses 500 (-10 %), 250 (-5 %), 150 (-3 %)
    assert figs["var_95_1d"] == pytest.approx(250.0)
    assert figs["es_95_1d"] == pytest.approx(375.0)
    assert figs["var_99_1d"] == pytest.approx(500.0)
    assert figs["es_99_1d"] == pytest.approx(500.0)


def _bs_put(s: float, k: float, t: float, r: float, v: float) -> float:
    n = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731
    d1 = (math.log(s / k) + (r + 0.5 * v * v) * t) / (v * math.sqrt(t))
    return k * math.exp(-r * t) * n(-(d1 - v * math.sqrt(t))) - s * n(-d1)


def test_historical_var_of_a_short_put_is_full_revaluation() -> None:
    """One short put, IV scaled by the VIX ratio each day: VaR = 2nd worst repriced loss (hand BSM)."""
    vix = [1.0] * 37 + [1.5, 1.2, 1.1]
    put = RiskPosition("P", "SPY", "option", "P", 95.0, 30, -2.0, 100, 100.0, 0.2, 1.0)
    figs = historical_var(Book.of([put], RATE), history(RATIOS, vix), window=40, horizons=(1,)).figures
    t0, t1 = 30 / 365, 30 / 365 - 1 / 252
    base = _bs_put(100.0, 95.0, t0, RATE, 0.2)
    losses = sorted(((_bs_put(100.0 * r, 95.0, t1, RATE, 0.2 * v) - base) * 200.0
                     for r, v in zip(RATIOS, vix, strict=True)), reverse=True)
    assert figs["var_95_1d"] == pytest.approx(losses[1], rel=1e-9)
    assert figs["es_95_1d"] == pytest.approx((losses[0] + losses[1]) / 2, rel=1e-9)
    assert figs["var_99_1d"] == pytest.approx(losses[0], rel=1e-9)


def test_delta_gamma_of_shares_is_delta_normal() -> None:
    hist = history(RATIOS)
    figs = delta_gamma_var(Book.of([stock(100, 50.0)], RATE), hist, window=40).figures
    sd = statistics.stdev(math.log(r) for r in RATIOS) * 100 * 50.0
    z95, z99 = 1.6448536269514722, 2.3263478740408408
    assert figs["var_95_1d"] == pytest.approx(z95 * sd, rel=1e-9)
    assert figs["var_99_1d"] == pytest.approx(z99 * sd, rel=1e-9)
    pdf = math.exp(-0.5 * z95**2) / math.sqrt(2 * math.pi)
    assert figs["es_95_1d"] == pytest.approx(sd * pdf / 0.05, rel=1e-9)
    assert figs["var_95_10d"] == pytest.approx(z95 * sd * math.sqrt(10), rel=1e-9)


def test_monte_carlo_is_seeded_and_close_to_delta_normal_for_shares() -> None:
    book, hist = Book.of([stock(100, 50.0)], RATE), history(RATIOS)
    a = monte_carlo_var(book, hist, window=40).figures
    assert a == monte_carlo_var(book, hist, window=40).figures
    dn = delta_gamma_var(book, hist, window=40).figures
    assert a["var_99_1d"] == pytest.approx(dn["var_99_1d"], rel=0.06)  # exp(x) - 1 vs x, and sampling
    assert a != monte_carlo_var(book, hist, window=40, seed=1).figures


def test_kupiec_against_hand_computed_statistic() -> None:
    # N = 20 days, x = 3 exceedances, p = 0.05:
    # LR = -2 [17 ln 0.95 + 3 ln 0.05] + 2 [17 ln 0.85 + 3 ln 0.15] = 19.718366 - 16.908362 = 2.810004
    k = kupiec_pof(3, 20, 0.95)
    assert k.lr == pytest.approx(2.810004, abs=2e-6)
    assert k.p_value == pytest.approx(0.09368, abs=1e-4)  # chi-square(1) tail of 2.81
    assert not k.rejected
    # no exceedance in 250 days at 99 %: LR = -2 x 250 ln 0.99 = 5.025168
    assert kupiec_pof(0, 250, 0.99).lr == pytest.approx(5.025168, abs=1e-5)
    assert kupiec_pof(0, 250, 0.99).rejected


def test_too_little_history_says_how_much_is_needed() -> None:
    with pytest.raises(InsufficientHistoryError, match=r"needs 501 daily closes.*hold 41 common closes") as err:
        historical_var(Book.of([stock()], RATE), history(RATIOS), window=500)
    assert (err.value.needed, err.value.available) == (501, 41)


def test_grid_is_zero_at_the_centre_and_a_short_put_loses_on_a_fall() -> None:
    put = RiskPosition("P", "SPY", "option", "P", 95.0, 30, -1.0, 100, 100.0, 0.2, 1.0)
    grid = pnl_grid(Book.of([put], RATE), np.linspace(-0.2, 0.2, 41), np.linspace(-0.5, 1.0, 31))
    assert grid.shape == (41, 31)
    assert grid[20, 10] == pytest.approx(0.0, abs=1e-9)  # 0 % move, 0 % IV change
    assert np.all(np.diff(grid[:, 10]) > 0)  # short put: higher underlying, higher P&L
    assert np.all(np.diff(grid[20, :]) < 0)  # short vega


# ---- the demo book on the bundled data ----------------------------------------------------------
def demo_positions(market: ReplayMarketData, day: date) -> list[RiskPosition]:
    days = market.trading_days()
    s = account_summary(seed_fills(market), day, market, days, starting_cash=2e6, rate=RATE)
    return to_risk_positions(s.positions, day, RATE, 0.0, market=market, days=days)


def _mid(market: ReplayMarketData, c: OptionContract, day: date) -> float:
    q = market.option_quote(c, day)
    return (q.bid + q.ask) / 2.0


def test_replay_of_5_feb_2018_against_recorded_marks(market: ReplayMarketData) -> None:
    """Today = 2018-02-02, the demo's Feb-28 short puts re-marked along the real week day by day:
    the recorded column is the recorded mids' P&L; the model (SPX path, IV x VIX ratio) follows it."""
    report = compute_report("demo", demo_positions(market, FEB2), FEB2, market, rate=RATE)
    assert [r.path.day for r in report.replay] == [date(2018, 2, d) for d in (5, 6, 7, 8, 9)]
    contracts = [OptionContract("SPXW", date(2018, 2, 28), k, "P") for k in (2670.0, 2720.0, 2770.0)]
    for row in report.replay:
        recorded = sum(-100.0 * (_mid(market, c, row.path.day) - _mid(market, c, FEB2)) for c in contracts)
        assert row.recorded_pnl == pytest.approx(recorded, abs=0.01)
        assert row.model_pnl < 0 and recorded < 0
        assert abs(row.model_pnl - recorded) <= 0.45 * abs(recorded)
    worst = min(report.replay, key=lambda r: r.model_pnl)
    assert worst.path.day == min(report.replay, key=lambda r: r.recorded_pnl).path.day == date(2018, 2, 8)


def test_builtin_scenarios_use_bundled_bars_and_say_when_stated(market: ReplayMarketData) -> None:
    by_name = {s.name: s for s in builtin_scenarios(market, ["SPXW"])}
    feb = by_name["2018-02-05"]
    assert feb.moves["SPXW"] == pytest.approx(2648.98 / 2761.94 - 1, abs=1e-6)  # the chain's SPX: -4.1 %
    assert feb.iv_change == pytest.approx(37.32 / 17.31 - 1, abs=1e-6)  # VIX +116 %
    assert by_name["2020-03-16"].index_move == pytest.approx(239.85 / 269.32 - 1, abs=1e-6)
    assert "stated" in by_name["1987-10-19"].source and "bundled" in feb.source
    # 1987: S&P 500 282.70 -> 224.84 (-57.86 points; CNNfn), VXO 36.37 -> 150.19 (Cboe): -20.47 %, +313 %
    oct87 = by_name["1987-10-19"]
    assert oct87.index_move == pytest.approx((282.70 - 57.86) / 282.70 - 1) and round(oct87.index_move * 100, 2) == -20.47
    assert round(oct87.iv_change * 100) == 313 and "CNNfn" in oct87.source and "Cboe" in oct87.source
    book = Book.of(demo_positions(market, FEB2), RATE)
    res = stress_test(book, feb, {"SPXW": 1.0})
    assert res.pnl < 0 and res.margin_change > 0
    assert [p for _label, p, _how in res.ranked] == sorted(p for _label, p, _how in res.ranked)


def test_backtest_counts_exceedances_against_the_replay_pnl(market: ReplayMarketData) -> None:
    report = compute_report("demo", demo_positions(market, FEB2), FEB2, market, rate=RATE,
                            fills=seed_fills(market))
    bt = report.backtest
    assert bt is not None and bt.days[-1] == FEB2
    exceed = sum(-p > v for p, v in zip(bt.pnl, bt.var_95, strict=True))
    assert bt.kupiec_95.exceedances == exceed and bt.kupiec_95.days == len(bt.days)
    assert -bt.pnl[-1] > bt.var_95[-1]  # 2 Feb 2018 (SPX -2.1 %) broke the calm-window VaR


def test_position_without_quote_uses_last_known_mark_and_is_flagged(market: ReplayMarketData) -> None:
    positions = demo_positions(market, FEB2)
    from dataclasses import replace

    from magnus_desktop.services.portfolio.marking import account_summary as summ
    snaps = list(summ(seed_fills(market), FEB2, market, market.trading_days(), starting_cash=2e6,
                      rate=RATE).positions)
    snaps[1] = replace(snaps[1], mark=math.nan, iv=math.nan)  # its quote is missing today
    never = replace(snaps[0], contract=OptionContract("SPXW", date(2018, 2, 28), 1234.0, "P"), mark=math.nan)
    out = to_risk_positions([*snaps, never], FEB2, RATE, 0.0, market=market, days=market.trading_days())
    prev = _mid(market, snaps[1].contract, date(2018, 2, 1))  # type: ignore[arg-type]
    assert out[1].mark == pytest.approx(prev) and "last known mark" in out[1].mark_note
    assert "2018-02-01" in out[1].mark_note and math.isfinite(out[1].iv)
    report = compute_report("demo", out, FEB2, market, rate=RATE)
    assert [label for label, _note in report.flagged] == [out[1].label, never.contract.describe()]
    assert report.excluded == ((never.contract.describe(), "no mark: no quote now and no earlier mark known"),)
    assert report.greeks.total.positions == 3  # never valued at 0: left out and listed
    assert positions[1].label == out[1].label


def test_var_window_longer_than_history_is_reported(market: ReplayMarketData) -> None:
    report = compute_report("demo", demo_positions(market, FEB2), FEB2, market, rate=RATE, var_window=5000)
    assert report.var == ()
    assert "needs 5001 daily closes" in report.errors["var"]


def test_a_history_cut_at_a_day_equals_the_history_read_for_that_day() -> None:
    from datetime import date

    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.risk.history import factor_history

    market = ReplayMarketData.from_resources()
    full = factor_history(market, ["SPY"], date(2018, 2, 28))
    for day in (date(2018, 1, 2), date(2018, 2, 5), date(2017, 12, 30)):
        cut, read = full.until(day), factor_history(market, ["SPY"], day)
        assert cut.days == read.days and cut.days[-1] <= day
        np.testing.assert_array_equal(cut.closes["SPY"], read.closes["SPY"])
        np.testing.assert_array_equal(cut.vix, read.vix)
