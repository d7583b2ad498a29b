"""Real moves for risk from the bundled bars (``ReplayMarketData``): factor history, betas to SPY,
the built-in stress scenarios and the path of the week of 5 Feb 2018 (blocking; compute thread).

Only data dated on or before the risk day is used for history and betas (no look-ahead); stress
scenarios and the replay path are historical events and use their own dates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from magnus_desktop.analytics.risk import FACTOR_PROXY, Scenario
from magnus_desktop.analytics.risk_var import FactorHistory
from magnus_desktop.services.market.recorded import MarketDataError, ReplayMarketData, normalize_symbol

INDEX = "SPY"
BETA_WINDOW = 250
BETA_MIN_RETURNS = 60
SHOCK_DAY = date(2018, 2, 5)
#: (key, label, day before, shock day) of the built-in shocks covered by the bundled SPY and VIX bars.
BAR_SHOCKS = (
    ("2018-02-05", "5 Feb 2018 (Volmageddon)", date(2018, 2, 2), date(2018, 2, 5)),
    ("2015-08-24", "24 Aug 2015 (China devaluation sell-off)", date(2015, 8, 21), date(2015, 8, 24)),
    ("2020-03-16", "16 Mar 2020 (COVID crash)", date(2020, 3, 13), date(2020, 3, 16)),
)
#: 19 Oct 1987 predates every bundled series (VIX from 1990, SPY from 1999): stated moves, checked
#: against these sources —
#: S&P 500 close 282.70 (16 Oct) -> 224.84 (19 Oct), -57.86 points, -20.47 %: CNNfn, "The blackest of
#: Mondays", 13 Oct 1997, https://money.cnn.com/1997/10/13/markets/crash_main/ ("falling 57.86 to 224.84");
#: VXO close 36.37 (16 Oct) -> 150.19 (19 Oct), +313 %: Cboe Options Hub, "25 Years Ago the VXO Index
#: Topped 150", 22 Oct 2012, http://www.cboeoptionshub.com/2012/10/22/25-years-ago-the-vxo-index-topped-150-by-matt-moran-2012-10-22-7-32/
SPX_1987 = (282.70, 224.84)
VXO_1987 = (36.37, 150.19)
OCT_1987 = Scenario(
    "1987-10-19", "19 Oct 1987 (Black Monday)", {}, SPX_1987[1] / SPX_1987[0] - 1.0, VXO_1987[1] / VXO_1987[0] - 1.0,
    "stated, no bundled bars cover 1987: S&P 500 -20.47 % (close 282.70 -> 224.84; CNNfn 13 Oct 1997); IV "
    "scaled by the VXO (VIX predecessor) 36.37 -> 150.19, +313 % (Cboe Options Hub 22 Oct 2012)")


def _closes(market: ReplayMarketData, symbol: str, end: date | None = None) -> pd.Series:
    return market.bars(symbol, end=end)["close"]


def factor_history(market: ReplayMarketData, factors: Iterable[str], as_of: date) -> FactorHistory:
    """Closes of ``factors`` and the VIX on their common days up to ``as_of``.

    Raises:
        UnknownSymbolError: a factor has no bundled bars.
    """
    series = {f: _closes(market, f, as_of) for f in factors}
    vix = _closes(market, "VIX", as_of)
    frame = pd.concat([*series.values(), vix], axis=1, keys=[*series, "__VIX__"], join="inner").dropna()
    days = tuple(ts.date() for ts in frame.index)
    closes = {f: frame[f].to_numpy(np.float64) for f in series}
    names = ", ".join(market.provenance(s).split(" — ")[0] for s in [*series, "VIX"])
    return FactorHistory(days, closes, frame["__VIX__"].to_numpy(np.float64), names)


@dataclass(frozen=True, slots=True)
class Beta:
    """Beta of an underlying to SPY: ``value`` (NaN when it cannot be estimated) and how."""

    value: float
    window: str


def beta_to_spy(market: ReplayMarketData, underlying: str, as_of: date, window: int = BETA_WINDOW) -> Beta:
    """OLS beta of daily log returns of ``underlying`` on SPY over the last ``window`` common days
    up to ``as_of`` (SPX roots: 1 by construction, they move with the SPY proxy)."""
    sym = underlying.upper()
    if FACTOR_PROXY.get(sym) == INDEX or normalize_symbol(sym) == INDEX:
        return Beta(1.0, "1 (moves with SPY, the same index)")
    try:
        asset = _closes(market, sym, as_of)
    except MarketDataError:
        return Beta(math.nan, f"no bundled bars for {sym}")
    both = pd.concat([asset, _closes(market, INDEX, as_of)], axis=1, join="inner").dropna().iloc[-window - 1:]
    rets = np.diff(np.log(both.to_numpy(np.float64)), axis=0)
    if len(rets) < BETA_MIN_RETURNS:
        return Beta(math.nan, f"needs {BETA_MIN_RETURNS + 1} common daily closes with SPY up to "
                              f"{as_of.isoformat()}, has {len(both)}")
    cov = np.cov(rets.T)
    text = f"{len(rets)} daily returns {both.index[1].date().isoformat()} .. {both.index[-1].date().isoformat()}"
    return Beta(float(cov[0, 1] / cov[1, 1]), text)


def _move(market: ReplayMarketData, symbol: str, before: date, day: date) -> float:
    a, b = market.underlying_price(symbol, before), market.underlying_price(symbol, day)
    return b / a - 1.0 if a > 0 and b > 0 else math.nan


def builtin_scenarios(market: ReplayMarketData, underlyings: Iterable[str]) -> list[Scenario]:
    """The built-in shocks: bar-based ones from the bundled SPY/VIX (and each underlying's own
    bars, or the SPX chain, where they cover the day), then 19 Oct 1987 with stated moves."""
    out = []
    for key, label, before, day in BAR_SHOCKS:
        index_move = _move(market, INDEX, before, day)
        iv_change = _move(market, "VIX", before, day)
        moves: dict[str, float] = {}
        for und in {u.upper() for u in underlyings}:
            own = _move(market, und, before, day)
            if math.isfinite(own):
                moves[und] = own
        moves.setdefault(INDEX, index_move)
        spx = moves.get("SPXW", moves.get("SPX"))
        idx_text = f"SPX {spx:+.2%}" if spx is not None else f"SPY {index_move:+.2%}"
        source = (f"bundled bars {before.isoformat()} -> {day.isoformat()}: {idx_text}, VIX {iv_change:+.1%}; "
                  "SPY moves index roots without their own series")
        for root, target in FACTOR_PROXY.items():
            if target == INDEX and root not in moves:
                moves[root] = moves.get("SPX", index_move)
        out.append(Scenario(key, label, moves, index_move, iv_change, source))
    out.append(OCT_1987)
    return out


@dataclass(frozen=True, slots=True)
class PathDay:
    """One day of the replayed path: the index level and VIX, their ratios to the base day."""

    day: date
    spx: float
    vix: float
    spx_ratio: float
    vix_ratio: float
    days_elapsed: int


def shock_week(market: ReplayMarketData, shock: date = SHOCK_DAY) -> list[PathDay]:
    """The base day (last recorded day before ``shock``) and each recorded day of ``shock``'s
    week, with the chain's SPX and the VIX closes (the real path)."""
    days = market.trading_days()
    before = [d for d in days if d < shock]
    if not before:
        raise MarketDataError(f"no recorded day before {shock.isoformat()}")
    base = before[-1]
    week = [d for d in days if shock <= d and d.isocalendar()[:2] == shock.isocalendar()[:2]]
    spx0, vix0 = market.und_price(base), market.underlying_price("VIX", base)
    return [PathDay(d, market.und_price(d), market.underlying_price("VIX", d), market.und_price(d) / spx0,
                    market.underlying_price("VIX", d) / vix0, (d - base).days) for d in [base, *week]]
