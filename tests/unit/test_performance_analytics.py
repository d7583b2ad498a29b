"""Performance analytics: equity build, ratios against hand computation and independent NumPy
formulas on real SPY returns, trade grouping/classification, bad input."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics import performance as perf
from magnus_desktop.analytics.realized import LotMatch
from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.services.paths import resource_path


def match(closed: date, pnl: float, key: str = "STK:SPY", *, opened: datetime | None = None, qty: float = 1.0,
          open_price: float = 1.0, multiplier: float = 1.0, account: str = "A", fx: float = 1.0) -> LotMatch:
    when = datetime.combine(closed, datetime.min.time()).replace(hour=15)
    return LotMatch(account, key, key.split(":")[1], opened or when.replace(hour=10), when, qty, open_price,
                    0.0, multiplier, pnl, "USD", fx)


def cash(kind: str, day: date, amount: float, fx: float = 1.0) -> HistoryEvent:
    return HistoryEvent("A", "ibkr", f"k{day}{kind}{amount}", kind, datetime.combine(day, datetime.min.time()),  # type: ignore[arg-type]
                        "CASH", "", "", None, None, None, 1.0, 0.0, None, amount, 0.0, "USD", fx, "", "", 1)


def curve_from_returns(returns: np.ndarray, start: date, capital: float = 100_000.0) -> perf.EquityCurve:
    """An equity curve whose daily returns are ``returns`` (one closed lot per business day)."""
    days = pd.bdate_range(start, periods=len(returns))
    equity = capital * np.cumprod(1.0 + returns)
    before = np.concatenate([[capital], equity[:-1]])
    matches = [match(d.date(), float(p)) for d, p in zip(days, before * returns, strict=True)]
    return perf.daily_equity(matches, [], capital, "test")


def test_equity_build_realized_income_and_flows() -> None:
    d1, d2, d3 = date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 7)  # Mon, Tue, Thu
    curve = perf.daily_equity(
        [match(d1, 100.0, opened=datetime(2024, 3, 1, 10)), match(d3, -50.0, fx=1.1)],
        [cash("dividend", d2, 20.0), cash("transfer", d2, 1000.0), cash("fee", d3, -5.0),
         cash("trade", d3, 999.0)],  # a trade's cash is not income: its P&L comes from the lot
        10_000.0, "statement")
    frame = curve.frame
    # the curve starts on the first lot's opening day (Fri 1 Mar), before its first close
    assert list(frame.index.date) == [date(2024, 3, 1), d1, d2, date(2024, 3, 6), d3]
    assert frame["pnl"].tolist() == pytest.approx([0.0, 100.0, 20.0, 0.0, -55.0 - 5.0])
    assert frame["flow"].tolist() == pytest.approx([0.0, 0.0, 1000.0, 0.0, 0.0])
    assert frame["equity"].tolist() == pytest.approx([10_000.0, 10_100.0, 11_120.0, 11_120.0, 11_060.0])
    # the deposit is not a return: day 2's return is its P&L over the equity before it
    assert frame["returns"].tolist() == pytest.approx([0.0, 100 / 10_000, 20 / 10_100, 0.0, -60 / 11_120])


def test_ratios_hand_computed_small_case() -> None:
    r = np.array([0.01, -0.02, 0.015, 0.005, -0.01])
    curve = curve_from_returns(r, date(2024, 1, 1))
    assert curve.returns.to_numpy() == pytest.approx(r)
    s = perf.performance_stats(curve, risk_free_rate=0.0)
    wealth = np.cumprod(1 + r)
    assert s.total_return == pytest.approx(wealth[-1] - 1)
    assert s.annual_volatility == pytest.approx(np.std(r, ddof=1) * math.sqrt(252))
    assert s.sharpe == pytest.approx(r.mean() / np.std(r, ddof=1) * math.sqrt(252))
    downside = math.sqrt(np.mean(np.minimum(r, 0) ** 2)) * math.sqrt(252)
    assert s.sortino == pytest.approx(r.mean() * 252 / downside)
    # peak after day 1 (1.01), trough after day 2 (1.01 * 0.98): -2 %
    assert s.max_drawdown == pytest.approx(-0.02)
    assert s.annual_return == pytest.approx(wealth[-1] ** (252 / 5) - 1)
    assert s.calmar == pytest.approx(s.annual_return / 0.02)
    under = wealth < np.maximum.accumulate(wealth)
    longest = max(len(run) for run in "".join("1" if u else "0" for u in under).split("0"))
    assert s.drawdown_days == longest
    assert s.drawdown_start == curve.frame.index[0].date() and s.drawdown_end == curve.frame.index[1].date()
    assert s.problem is None


def test_ratios_against_independent_formulas_on_real_spy_returns() -> None:
    bars = pd.read_csv(resource_path("data", "ohlcv", "mplfinance_yahoo_SPY_2008-2018.csv"), parse_dates=["Date"])
    close = bars.set_index("Date")["Adj Close"].astype(float)
    r = close.pct_change().dropna().to_numpy()
    assert len(r) > 2500  # ten years of real daily returns
    rf_annual = 0.015
    curve = curve_from_returns(r, date(2008, 1, 2))
    s = perf.performance_stats(curve, risk_free_rate=rf_annual)
    rf = math.exp(rf_annual / 252) - 1
    ex = r - rf
    wealth = np.cumprod(1 + r)
    assert s.total_return == pytest.approx(wealth[-1] - 1, rel=1e-9)
    assert s.total_return == pytest.approx(close.iloc[-1] / close.iloc[0] - 1, rel=1e-9)
    assert s.annual_return == pytest.approx(wealth[-1] ** (252 / len(r)) - 1, rel=1e-9)
    assert s.annual_volatility == pytest.approx(np.std(r, ddof=1) * math.sqrt(252), rel=1e-9)
    assert s.sharpe == pytest.approx(ex.mean() / np.std(ex, ddof=1) * math.sqrt(252), rel=1e-9)
    assert s.sortino == pytest.approx(ex.mean() * 252 / (math.sqrt(np.mean(np.minimum(ex, 0) ** 2)) * math.sqrt(252)),
                                      rel=1e-9)
    with_start = np.concatenate([[1.0], wealth])  # the fall is measured from the starting capital on
    mdd = float(np.min(with_start / np.maximum.accumulate(with_start) - 1))
    assert s.max_drawdown == pytest.approx(mdd, rel=1e-9)
    # SPY's 2008-09 crash: the worst fall of the decade is about -55 % (peak Oct 2007 close basis)
    assert -0.6 < s.max_drawdown < -0.45
    trough = int(np.argmin(with_start / np.maximum.accumulate(with_start))) - 1  # row of the returns
    assert s.drawdown_end == curve.frame.index[trough].date()
    # the curve's days are business days; on the real calendar that row is SPY's bear-market low, 9 March 2009
    assert bars["Date"].iloc[trough + 1].date() == date(2009, 3, 9)
    assert s.calmar == pytest.approx(s.annual_return / abs(mdd), rel=1e-9)


def test_bad_input_gives_clear_states() -> None:
    with pytest.raises(perf.PerformanceInputError, match="nothing to build"):
        perf.daily_equity([], [], 1000.0)
    one = perf.daily_equity([match(date(2024, 1, 2), 10.0)], [], 1000.0)
    s = perf.performance_stats(one, 0.01)
    assert math.isnan(s.sharpe) and "at least 2" in (s.problem or "")
    assert s.total_pnl == 10.0
    no_capital = perf.daily_equity([match(date(2024, 1, 2), 10.0), match(date(2024, 1, 3), -30.0)], [], None)
    s = perf.performance_stats(no_capital, 0.01)
    assert math.isnan(s.total_return) and "starting capital" in (s.problem or "")
    assert s.max_drawdown_usd == -30.0
    with pytest.raises(perf.PerformanceInputError, match="finite"):
        perf.daily_equity([match(date(2024, 1, 2), float("nan"))], [], 1000.0)
    with pytest.raises(perf.PerformanceInputError, match="No closed trade"):
        perf.trade_stats([])
    wiped = perf.daily_equity([match(date(2024, 1, 2), -1000.0), match(date(2024, 1, 3), 5.0)], [], 1000.0)
    assert "zero or below" in (perf.performance_stats(wiped, 0.0).problem or "")


def test_trades_grouped_and_classified() -> None:
    t0 = datetime(2024, 1, 2, 10)
    day = date(2024, 1, 19)
    ms = [
        # a short put: collected 1.50 x 100, bought back at 0.30 → kept 120 - fees
        match(day, 118.0, "OPT:SPY:2024-01-19:450:P", opened=t0, qty=-1, open_price=1.5, multiplier=100),
        # a vertical: short 440 P + long 430 P opened together
        match(day, 80.0, "OPT:QQQ:2024-01-19:440:P", opened=t0, qty=-1, open_price=2.0, multiplier=100),
        match(day, -50.0, "OPT:QQQ:2024-01-19:430:P", opened=t0, qty=1, open_price=0.8, multiplier=100),
        # an iron condor on IWM
        *[match(day, p, f"OPT:IWM:2024-01-19:{k}:{r}", opened=t0, qty=q, open_price=1.0, multiplier=100)
          for k, r, q, p in ((180, "P", 1, -100.0), (185, "P", -1, 60.0), (200, "C", -1, -300.0),
                             (205, "C", 1, 40.0))],
        match(day, -25.0, "STK:AAPL", opened=t0),
        match(day, 10.0, "OPT:AAPL:2024-01-19:200:C", opened=t0 + timedelta(hours=1), qty=-1, open_price=0.5,
              multiplier=100),
    ]
    trades = perf.closed_trades(ms)
    by = {(t.underlying, t.strategy): t for t in trades}
    assert set(by) == {("SPY", perf.WHEEL_CSP), ("QQQ", perf.VERTICAL), ("IWM", perf.CONDOR),
                       ("AAPL", perf.STOCK), ("AAPL", perf.WHEEL_CC)}
    assert by[("IWM", perf.CONDOR)].pnl == pytest.approx(-300.0) and by[("IWM", perf.CONDOR)].legs == 4
    assert by[("SPY", perf.WHEEL_CSP)].premium_collected == pytest.approx(150.0)
    assert by[("SPY", perf.WHEEL_CSP)].premium_kept == pytest.approx(118.0)
    assert by[("QQQ", perf.VERTICAL)].premium_collected == pytest.approx(200.0)  # the short leg only
    s = perf.trade_stats(trades)
    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    assert s.trades == 5 and s.wins == len(wins) and s.losses == len(losses)
    assert s.win_rate == pytest.approx(len(wins) / 5)
    assert s.profit_factor == pytest.approx(sum(wins) / -sum(losses))
    assert s.avg_win == pytest.approx(np.mean(wins)) and s.avg_loss == pytest.approx(np.mean(losses))
    assert s.expectancy == pytest.approx(s.win_rate * s.avg_win + (1 - s.win_rate) * s.avg_loss)
    by_underlying = {x.key: x for x in perf.stats_by(trades, lambda t: t.underlying)}
    assert by_underlying["AAPL"].trades == 2 and by_underlying["AAPL"].total_pnl == pytest.approx(-15.0)
    only_wins = perf.trade_stats([t for t in trades if t.pnl > 0])
    assert only_wins.profit_factor == math.inf and math.isnan(only_wins.avg_loss)


def test_monthly_returns_compound_the_days() -> None:
    r = np.array([0.01, 0.02, -0.01, 0.03])
    curve = curve_from_returns(r, date(2024, 1, 30))  # Tue 30, Wed 31 Jan; Thu 1, Fri 2 Feb
    months = perf.monthly_returns(curve)
    assert months["month"].tolist() == ["2024-01", "2024-02"]
    assert months["return"].tolist() == pytest.approx([1.01 * 1.02 - 1, 0.99 * 1.03 - 1])
    assert months["pnl"].sum() == pytest.approx(curve.frame["pnl"].sum())
