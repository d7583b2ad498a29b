"""Score one candidate (or many) with the model: features from the recorded bars up to the entry day.

The per-symbol series (closes, VIX aligned, pricing IV) are read once; a single candidate then
costs one :func:`~magnus_desktop.analytics.features.market_features` over the last
:data:`TAIL_DAYS` closes plus one booster call. Without a usable model ``p_win`` is None and
``fallback`` says why: callers show the Black-Scholes ``prob_otm`` instead.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from magnus_desktop.analytics.features import candidate_features, market_features, realized_vol
from magnus_desktop.analytics.pricing import bs_greeks, prob_otm
from magnus_desktop.services.market.recorded import ReplayMarketData, normalize_symbol
from magnus_desktop.services.predictor.dataset import VIX_PRICED, DatasetError

if TYPE_CHECKING:  # xgboost loads with the model file, on the predictor's executor, not at import
    from magnus_desktop.services.predictor.model import PredictorModel

__all__ = ["SPX_FAMILY", "TAIL_DAYS", "CandidateScorer", "ScoredCandidate"]

#: Roots scored with SPY's market features (SPY tracks SPX at 1/10).
SPX_FAMILY = frozenset({"SPX", "SPXW", "XSP"})

#: Closes a single prediction looks back on: the 252-day IV rank is the longest window (the IV proxy is
#: computed over the whole series once). RSI's Wilder smoothing forgets its seed by (13/14)^240 ~ 2e-8.
TAIL_DAYS = 253
#: Market-feature rows kept per scorer (a scanner scores many candidates of one day).
_ROW_CACHE = 64


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """One short-option candidate scored on ``day``.

    Attributes:
        und_price, strike: USD per share. iv: annualised decimal. dte: calendar days.
        abs_delta: |delta| at entry, decimal. prob_otm: Black-Scholes N(d2), decimal.
        p_win: calibrated model probability of a win, decimal; None without a usable model.
        model_version: the model's version (empty without a model). fallback: why there is no p_win.
        price_source: always ``"model"`` here: strike/IV are the caller's, IV from VIX or realized vol.
    """

    symbol: str
    day: date
    right: str
    strike: float
    dte: int
    und_price: float
    iv: float
    abs_delta: float
    prob_otm: float
    p_win: float | None
    model_version: str
    fallback: str
    price_source: str = "model"


@dataclass(frozen=True)
class _Series:
    days: NDArray[np.datetime64]
    close: NDArray[np.float64]
    vix: NDArray[np.float64]
    iv: NDArray[np.float64]


class CandidateScorer:
    """Features and model probability for candidates on recorded days (thread-safe reads)."""

    def __init__(self, market: ReplayMarketData, model: PredictorModel | None, fallback: str = "",
                 earnings: Mapping[str, Sequence[date]] | None = None) -> None:
        self._market = market
        self._earnings = {k.upper(): np.sort(np.asarray([np.datetime64(d, "D") for d in v]))
                          for k, v in (earnings or {}).items()}
        self.model = model
        self.fallback = fallback if model is None else ""
        self._series: dict[str, _Series] = {}
        self._rows: dict[tuple[str, int], NDArray[np.float64]] = {}
        self._version = "" if model is None else model.version
        self._lock = threading.Lock()

    def _load(self, symbol: str) -> _Series:
        with self._lock:
            if symbol not in self._series:
                bars = self._market.bars(symbol)
                vix = self._market.bars("VIX")["close"].reindex(bars.index).ffill(limit=3).to_numpy(np.float64)
                close = bars["close"].to_numpy(np.float64)
                iv = vix / 100.0 if symbol in VIX_PRICED else realized_vol(close, 20)
                self._series[symbol] = _Series(bars.index.to_numpy().astype("datetime64[D]"), close, vix, iv)
            return self._series[symbol]

    def features(self, symbol: str, day: date, right: str, strike: float, dte: int,
                 iv: float | None = None) -> tuple[NDArray[np.float64], float, float]:
        """Feature row (shape (1, n_features)), underlying close (USD) and IV used for a candidate.

        Args:
            symbol: an underlying with recorded bars (SPY, AAPL, GOOG).
            day: entry day; must be a trading day of the series.
            right: ``"P"`` or ``"C"``. strike: USD per share. dte: calendar days to expiry.
            iv: annualised decimal; None = VIX/100 for SPY, 20-day realized vol otherwise.

        Raises:
            DatasetError: unknown symbol, not a trading day, or too little history before ``day``.
        """
        sym = normalize_symbol(symbol)
        try:
            s = self._load(sym)
        except Exception as exc:  # MarketDataError and UnknownSymbolError: one clear message
            raise DatasetError(f"no recorded bars for {symbol!r}: {exc}") from exc
        pos = int(np.searchsorted(s.days, np.datetime64(day, "D")))
        if pos >= s.days.size or s.days[pos] != np.datetime64(day, "D"):
            raise DatasetError(f"{day} is not a trading day of {sym}'s recorded bars "
                               f"({s.days[0]} .. {s.days[-1]})")
        row = self._rows.get((sym, pos))
        if row is None:
            lo = max(0, pos + 1 - TAIL_DAYS)
            row = market_features(s.close[lo:pos + 1], s.vix[lo:pos + 1], s.iv[lo:pos + 1], last_only=True)[0]
            if len(self._rows) >= _ROW_CACHE:
                self._rows.pop(next(iter(self._rows)))
            self._rows[(sym, pos)] = row
        sigma = float(s.iv[pos]) if iv is None else float(iv)
        if not (np.isfinite(row).all() and math.isfinite(sigma) and sigma > 0):
            raise DatasetError(f"too little history before {day} for {sym}'s features "
                               f"(they need about 252 trading days; the series starts {s.days[0]})")
        und = float(s.close[pos])
        t = dte / 365.0
        delta = abs(float(bs_greeks(right, und, strike, t, 0.0, sigma).delta))
        dow = float(day.weekday())
        x = candidate_features(row, delta, dte, 1.0 if right.upper() == "C" else 0.0, strike, und, sigma, dow,
                               self._days_to_earnings(sym, day))
        return x, und, sigma

    def p_win_many(self, underlying: str, day: date, right: ArrayLike, strike: ArrayLike, und_price: ArrayLike,
                   iv: ArrayLike, abs_delta: ArrayLike, dte: ArrayLike) -> NDArray[np.float64]:
        """Model ``p_win`` of many candidates of one underlying on one day (a scanner page), vectorised:
        one market-feature row for the day, one booster call.

        The candidate features come from the rows themselves (their strike, underlying price, IV and
        |delta|), so they are scale-free; the day's market features are the underlying's recorded
        bars, or SPY's for the SPX family (SPX/SPXW/XSP: SPY tracks SPX at 1/10; the bundled SPX
        series is only the replay's 40 days), as in the training set's recorded rows.

        Args:
            underlying: the chain's root (``"SPXW"``, ``"SPY"`` …). day: entry (quote) day.
            right: ``"P"``/``"C"`` per row. strike, und_price: USD per share. iv: annualised decimal.
            abs_delta: |delta| decimal. dte: calendar days. All shape (n,).

        Returns:
            Calibrated win probabilities, decimals, shape (n,).

        Raises:
            DatasetError: no model loaded (``fallback`` says why), no recorded bars for the underlying,
                ``day`` not a trading day of them, or too little history before it.
        """
        if self.model is None:
            raise DatasetError(self.fallback or "no model loaded")
        sym = normalize_symbol(underlying)
        proxy = "SPY" if sym.upper() in SPX_FAMILY else sym
        try:
            s = self._load(proxy)
        except Exception as exc:  # MarketDataError and UnknownSymbolError: one clear message
            raise DatasetError(f"no recorded bars for {proxy!r} to compute the market features: {exc}") from exc
        pos = int(np.searchsorted(s.days, np.datetime64(day, "D")))
        if pos >= s.days.size or s.days[pos] != np.datetime64(day, "D"):
            raise DatasetError(f"{day} is not a trading day of {proxy}'s recorded bars "
                               f"({s.days[0]} .. {s.days[-1]}): no market features for p_win")
        lo = max(0, pos + 1 - TAIL_DAYS)
        row = market_features(s.close[lo:pos + 1], s.vix[lo:pos + 1], s.iv[lo:pos + 1], last_only=True)[0]
        if not np.isfinite(row).all():
            raise DatasetError(f"too little history before {day} for {proxy}'s market features")
        rights = np.asarray(right).astype(str)
        x = candidate_features(row, abs_delta, dte, (np.char.upper(rights) == "C").astype(np.float64), strike,
                               und_price, iv, float(day.weekday()), self._days_to_earnings(proxy, day))
        return self.model.predict(x)

    def _days_to_earnings(self, symbol: str, day: date) -> float:
        known = self._earnings.get(symbol)
        if known is None:
            return math.nan
        pos = int(np.searchsorted(known, np.datetime64(day, "D")))
        return float((known[pos] - np.datetime64(day, "D")).astype(int)) if pos < known.size else math.nan

    def score(self, symbol: str, day: date, right: str, strike: float, dte: int,
              iv: float | None = None) -> ScoredCandidate:
        """Features, Black-Scholes ``prob_otm`` and the model's ``p_win`` of one candidate."""
        x, und, sigma = self.features(symbol, day, right, strike, dte, iv)
        p = None if self.model is None else float(self.model.predict(x)[0])
        return ScoredCandidate(
            normalize_symbol(symbol), day, right.upper(), float(strike), int(dte), und, sigma,
            float(x[0, 0]), float(prob_otm(right, und, strike, dte / 365.0, 0.0, sigma)), p,
            self._version, self.fallback)
