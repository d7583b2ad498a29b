"""Speed of the performance analytics (``magnus_desktop.analytics.performance``).

Row: ratios (total/annual return, volatility, Sharpe, Sortino, max drawdown and its duration,
Calmar) + monthly returns over 10 years (2,520 business days) of daily equity built from the REAL
SPY daily returns of the bundled bars (2008-2018, repeated to 2,520 days) — target <= 50 ms. The
reference in the same run is the same figures with plain pandas (``Series.std``, ``cumprod``,
``cummax``, ``resample``); the ratio is reference / ours.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from benchmarks.common import Result, timeit_best

DAYS = 2520


def _returns() -> np.ndarray:
    from magnus_desktop.services.paths import resource_path

    bars = pd.read_csv(resource_path("data", "ohlcv", "mplfinance_yahoo_SPY_2008-2018.csv"))
    r = bars["Adj Close"].astype(float).pct_change().dropna().to_numpy()
    return np.resize(r, DAYS)


def _pandas_reference(returns: pd.Series, rf: float) -> tuple[float, ...]:
    ex = returns - rf
    wealth = (1 + returns).cumprod()
    dd = wealth / wealth.cummax().clip(lower=1.0) - 1
    under = (dd < 0).astype(int)
    runs = under.groupby((under == 0).cumsum()).cumsum().max()
    down = np.sqrt((ex.clip(upper=0) ** 2).mean()) * math.sqrt(252)
    annual = wealth.iloc[-1] ** (252 / len(returns)) - 1
    monthly = (1 + returns).resample("ME").prod() - 1
    return (wealth.iloc[-1] - 1, annual, returns.std() * math.sqrt(252), ex.mean() / ex.std() * math.sqrt(252),
            ex.mean() * 252 / down, dd.min(), runs, annual / abs(dd.min()), float(monthly.sum()))


def run(quick: bool) -> list[Result]:
    """The performance-stats row (see module docstring)."""
    from magnus_desktop.analytics import performance as perf
    from magnus_desktop.analytics.realized import LotMatch

    r = _returns()
    capital = 100_000.0
    days = pd.bdate_range(date(2008, 1, 2), periods=DAYS)
    equity = capital * np.cumprod(1 + r)
    pnl = np.concatenate([[capital], equity[:-1]]) * r
    matches = [LotMatch("bench", "STK:SPY", "SPY", d.to_pydatetime(), d.to_pydatetime(), 1.0, 0.0, 0.0, 1.0, float(p),
                        "USD", 1.0) for d, p in zip(days, pnl, strict=True)]
    curve = perf.daily_equity(matches, [], capital, "benchmark")

    def ours() -> None:
        perf.performance_stats(curve, 0.015)
        perf.monthly_returns(curve)

    series = pd.Series(r, index=days)
    rf = perf.daily_risk_free(0.015)
    repeat = 3 if quick else 10
    ours_s = timeit_best(ours, repeat=repeat)
    ref_s = timeit_best(lambda: _pandas_reference(series, rf), repeat=repeat)
    build_s = timeit_best(lambda: perf.daily_equity(matches, [], capital, "benchmark"), repeat=3 if quick else 5)
    return [
        Result("performance stats 10 y daily equity", "time", ours_s * 1e3, "ms", reference="plain pandas",
               ratio=ref_s / ours_s, target=50.0, direction="max_value",
               note=f"{DAYS} days of real SPY returns; ratios via empyrical-reloaded + monthly returns; "
                    f"pandas reference {ref_s * 1e3:.2f} ms"),
        Result("performance equity build 10 y (2,520 closed lots)", "time", build_s * 1e3, "ms",
               note="daily_equity from closed lots (not part of the 50 ms target)"),
    ]
