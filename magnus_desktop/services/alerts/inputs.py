"""Build the monitors' :class:`MonitorInput` from the market data and the services' last results
(blocking: runs on the compute executor; no Qt).

Sources: positions as the portfolio marked them; underlying prices from the positions' own marks
(else the market data's close of the day); betas to SPY from daily closes; implied volatility from
the symbol's volatility index where one is recorded (SPX → VIX, CBOE's 30-day implied volatility of
SPX options); the scanner's last rows. The replay has no earnings or dividend calendar: ``earnings``
and ``ex_dividend`` stay None and :data:`OFFLINE_NOTES` says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from magnus_desktop.models.domain import AccountSummary, OptionContract
from magnus_desktop.services.alerts.monitors import (
    BETA_MIN_DAYS,
    KalshiQuote,
    MonitorInput,
    RiskLimitInput,
    base_symbol,
)

#: volatility indices recorded for an underlying: symbol → (index symbol, source label)
IV_INDEX = {"SPX": ("VIX", "VIX close (CBOE 30-day implied volatility of SPX options)")}
IV_LOOKBACK_DAYS = 365
BETA_LOOKBACK_DAYS = 120
#: what the monitors cannot see offline, shown in the Alerts dock
OFFLINE_NOTES = (
    "Earnings risk: no earnings source offline (the replay data has no earnings calendar); the monitor raises nothing.",
    "Assignment risk: no ex-dividend source offline; short calls are checked without dividend dates.",
)
KALSHI_NOTE = "Kalshi mispricing: Kalshi is not connected yet; the monitor raises nothing until it is."


class BarSource(Protocol):
    """What the builder needs of the market data (``ReplayMarketData`` has it)."""

    def bars(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame: ...

    def underlying_price(self, symbol: str, day: date) -> float: ...


def _closes(market: BarSource, symbol: str, start: date, end: date) -> pd.Series:
    try:
        return market.bars(symbol, start, end)["close"].dropna()
    except (KeyError, LookupError, RuntimeError, ValueError):  # unknown symbol / missing file
        return pd.Series(dtype="float64")


def beta_to_spy(market: BarSource, symbol: str, day: date) -> tuple[float, int]:
    """Beta of ``symbol`` to SPY from common daily close-to-close returns over the last
    :data:`BETA_LOOKBACK_DAYS` calendar days up to ``day``; (NaN, n) with fewer than
    :data:`BETA_MIN_DAYS` returns."""
    start = day - timedelta(days=BETA_LOOKBACK_DAYS)
    both = pd.concat([_closes(market, symbol, start, day), _closes(market, "SPY", start, day)], axis=1,
                     join="inner").dropna()
    returns = both.pct_change().dropna().to_numpy()
    n = len(returns)
    if n < BETA_MIN_DAYS:
        return math.nan, n
    var = float(np.var(returns[:, 1], ddof=1))
    return (float(np.cov(returns[:, 0], returns[:, 1], ddof=1)[0, 1]) / var if var > 0 else math.nan), n


def iv_history(market: BarSource, symbol: str, day: date) -> tuple[str, tuple[tuple[date, float], ...]] | None:
    """(source, ((day, iv decimal), ...)) over the last year up to ``day``, or None without a source."""
    index = IV_INDEX.get(symbol)
    if index is None:
        return None
    closes = _closes(market, index[0], day - timedelta(days=IV_LOOKBACK_DAYS), day)
    return index[1], tuple((ts.date(), float(v) / 100.0) for ts, v in closes.items())


def best_scores(records: Iterable[Mapping[str, Any]], symbols: set[str]) -> dict[str, tuple[float, Mapping[str, Any]]]:
    """The best scanner row (by ``score``) per watchlist symbol (roots normalised: SPXW → SPX)."""
    best: dict[str, tuple[float, Mapping[str, Any]]] = {}
    for row in records:
        symbol = base_symbol(str(row.get("underlying", "")))
        score = float(row.get("score", math.nan))
        if symbol in symbols and math.isfinite(score) and score > best.get(symbol, (-math.inf, {}))[0]:
            best[symbol] = (score, row)
    return best


def build_input(market: BarSource, day: date, summary: AccountSummary | None, *,
                scan_records: Sequence[Mapping[str, Any]] = (), watch_symbols: Iterable[str] = (),
                prev_scan_best: Mapping[str, float] | None = None, use_market_prices: bool = True,
                kalshi: Sequence[KalshiQuote] | None = None, risk: RiskLimitInput | None = None) -> MonitorInput:
    """The monitors' input at ``day``. ``use_market_prices`` = False (a real account) keeps the
    replay's prices out: only the positions' own underlying prices are used, SPY's price is unknown."""
    positions = summary.positions if summary is not None else ()
    prices: dict[str, float] = {}
    for p in positions:
        c = p.contract
        symbol = base_symbol(c.underlying) if isinstance(c, OptionContract) else c.symbol.upper()
        if math.isfinite(p.und_price):
            prices.setdefault(symbol, p.und_price)
    symbols = set(prices) | {base_symbol(s) for s in watch_symbols}
    spy = prices.get("SPY", math.nan)
    if use_market_prices:
        for symbol in symbols | {"SPY"}:
            if symbol not in prices:
                prices[symbol] = market.underlying_price(symbol, day)
        spy = prices["SPY"]
    betas = {s: beta_to_spy(market, s, day) for s in prices if s != "SPY"} if use_market_prices else {}
    ivs = {s: h for s in symbols if use_market_prices and (h := iv_history(market, s, day)) is not None}
    watch = {base_symbol(s) for s in watch_symbols}
    return MonitorInput(day=day, positions=positions, prices=prices, betas=betas, spy_price=spy, iv_history=ivs,
                        scan_best=best_scores(scan_records, watch), prev_scan_best=dict(prev_scan_best or {}),
                        earnings=None, ex_dividend=None, kalshi=kalshi, risk=risk)
