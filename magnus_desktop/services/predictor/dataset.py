"""Training set of short-option candidates from real recorded bars, labelled by the real price path.

No Qt, no network. Each trading day of each underlying gets a grid of candidates: short puts and
calls at |delta| in :data:`DEFAULT_DELTAS` and DTE in :data:`DEFAULT_DTES` (calendar days).

- **Model-priced rows** (``price_source == "model"``): strike and premium come from Black-Scholes
  (``analytics.pricing``) at an IV of VIX/100 for SPY, or the 20-day realized vol for single names
  (AAPL, GOOG); rate and dividend yield are 0 (no rate history is bundled). The strike is rounded
  to the price's grid (1 USD for a 100-999 USD stock, 0.1 for 10-99, ...), then |delta| and the
  premium are recomputed at that strike.
- **Recorded rows** (``price_source == "recorded"``): on the quote days of the bundled SPXW chain
  (2018-01-02..2018-02-28) the real contract nearest each target |delta| is sold at its recorded
  **bid**; IV and delta are solved from the recorded mid. Their scale-free market features (returns,
  realized vol, RSI, SMA distances, IV rank) are SPY's on that day (SPY tracks SPX at 1/10; the
  bundled SPX series is only the chain's 40 days).

The label is the **real** price path of the underlying:

- ``LabelRule("expiry")``: win = the option expired out of the money (close on the last trading
  day on or before the expiry date vs the strike). P&L = premium - intrinsic at expiry.
- ``LabelRule("target", profit_target=0.5, stop_loss=2.0)``: the short is marked every later
  trading day (model-priced rows: Black-Scholes at that day's close and IV; recorded rows: the
  recorded ask); win = the mark fell to ``(1 - profit_target) * premium`` before it rose to
  ``(1 + stop_loss) * premium``; if neither happened, the expiry rule decides. P&L = premium -
  exit mark (or intrinsic at expiry).

P&L is USD per share of one short option (x100 for a contract). ``outcome_day`` is the day the
outcome became known (exit or expiry): the walk-forward evaluation purges on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri

from magnus_desktop.analytics.features import (
    FEATURE_NAMES,
    candidate_features,
    market_features,
    realized_vol,
)
from magnus_desktop.analytics.pricing import bs_greeks, bs_price, implied_vol, prob_otm
from magnus_desktop.services.market.recorded import MarketDataError, ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

__all__ = [
    "DEFAULT_DELTAS",
    "DEFAULT_DTES",
    "DEFAULT_SYMBOLS",
    "DatasetError",
    "LabelRule",
    "TrainingSet",
    "build_training_set",
    "read_earnings_csv",
]

DEFAULT_DELTAS: tuple[float, ...] = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40)
DEFAULT_DTES: tuple[int, ...] = (7, 14, 21, 30, 45, 60)
DEFAULT_SYMBOLS: tuple[str, ...] = ("SPY", "AAPL", "GOOG")
#: Underlyings priced at VIX (an index ETF); the others at their own 20-day realized vol.
VIX_PRICED = frozenset({"SPY"})
MIN_PREMIUM = 0.01  # USD per share: the smallest real option tick
_PATH_CHUNK = 50_000


class DatasetError(ValueError):
    """The training set cannot be built (bad option, missing data); the message is for the user."""


@dataclass(frozen=True, slots=True)
class LabelRule:
    """How a candidate's outcome is decided (see the module docstring).

    Attributes:
        kind: ``"expiry"`` (expired OTM) or ``"target"`` (profit target before the stop).
        profit_target: fraction of the premium kept that closes a winner (0.5 = buy back at half).
        stop_loss: loss as a multiple of the premium that closes a loser (2.0 = mark at 3x premium).
    """

    kind: Literal["expiry", "target"] = "expiry"
    profit_target: float = 0.5
    stop_loss: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in ("expiry", "target"):
            raise DatasetError(f"label kind must be 'expiry' or 'target', got {self.kind!r}")
        if not 0 < self.profit_target <= 1:
            raise DatasetError(f"profit_target must be in (0, 1], got {self.profit_target}")
        if not self.stop_loss > 0:
            raise DatasetError(f"stop_loss must be > 0, got {self.stop_loss}")

    def describe(self) -> str:
        if self.kind == "expiry":
            return "win = expired out of the money"
        return (f"win = bought back at {1 - self.profit_target:.0%} of the premium before the mark reached "
                f"{1 + self.stop_loss:.0%} of it (else: expired OTM)")


@dataclass(frozen=True)
class TrainingSet:
    """Candidates, one row each, sorted by ``entry_day``. Arrays have shape (n,) unless noted.

    Attributes:
        x: features, float64 (n, len(feature_names)), see ``analytics.features``.
        y: 1 = win, 0 = loss (int8).
        entry_day, outcome_day: ``datetime64[D]``.
        symbol: underlying (``"SPY"``, ``"AAPL"``, ``"GOOG"``, ``"SPXW"``).
        right: ``"P"``/``"C"``.
        strike, premium, und_price: USD per share (premium received for the short).
        pnl: USD per share of one short option at the outcome.
        prob_otm: Black-Scholes N(d2) (risk-neutral chance of expiring OTM) at entry.
        price_source: ``"model"`` (Black-Scholes priced) or ``"recorded"`` (real bid/ask).
    """

    x: NDArray[np.float64]
    y: NDArray[np.int8]
    entry_day: NDArray[np.datetime64]
    outcome_day: NDArray[np.datetime64]
    symbol: NDArray[np.str_]
    right: NDArray[np.str_]
    strike: NDArray[np.float64]
    premium: NDArray[np.float64]
    und_price: NDArray[np.float64]
    pnl: NDArray[np.float64]
    prob_otm: NDArray[np.float64]
    price_source: NDArray[np.str_]
    feature_names: tuple[str, ...] = FEATURE_NAMES
    label: LabelRule = field(default_factory=LabelRule)
    dropped: Mapping[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.size)

    def subset(self, mask: NDArray[np.bool_] | NDArray[np.intp]) -> TrainingSet:
        """The rows selected by a boolean mask or index array (same order)."""
        arrays = {name: getattr(self, name)[mask] for name in _ROW_ARRAYS}
        return TrainingSet(**arrays, feature_names=self.feature_names, label=self.label, dropped=self.dropped)

    def window(self) -> tuple[date, date] | None:
        """First and last entry day, None when empty."""
        if not len(self):
            return None
        return (self.entry_day.min().astype(date), self.entry_day.max().astype(date))


_ROW_ARRAYS = ("x", "y", "entry_day", "outcome_day", "symbol", "right", "strike", "premium", "und_price",
               "pnl", "prob_otm", "price_source")


def _strike_tick(price: NDArray[np.float64]) -> NDArray[np.float64]:
    """Strike grid step: 1% of the price's power of ten (1 USD for 100-999 USD, 0.1 for 10-99...)."""
    return np.power(10.0, np.floor(np.log10(price)) - 2.0)


def _load(market: ReplayMarketData, symbol: str) -> pd.DataFrame:
    try:
        return market.bars(symbol)
    except MarketDataError as exc:
        raise DatasetError(f"no usable bars for {symbol}: {exc}") from exc


def _day_arrays(market: ReplayMarketData, symbol: str) -> tuple[NDArray[np.datetime64], NDArray[np.float64],
                                                               NDArray[np.float64], NDArray[np.float64]]:
    """Days, closes, market features and pricing IV of ``symbol`` (VIX aligned to its days; a day
    without a VIX close, up to 3 in a row, carries the previous close)."""
    bars = _load(market, symbol)
    vix = _load(market, "VIX")["close"].reindex(bars.index).ffill(limit=3)  # a missing VIX day: the last close
    close = bars["close"].to_numpy(np.float64)
    vixc = vix.to_numpy(np.float64)
    iv = vixc / 100.0 if symbol in VIX_PRICED else realized_vol(close, 20)
    feats = market_features(close, vixc, iv)
    days = bars.index.to_numpy().astype("datetime64[D]")
    return days, close, feats, iv


def _next_earnings(entry: NDArray[np.datetime64], dates: Sequence[date] | None) -> NDArray[np.float64]:
    """Calendar days from each entry day to the next earnings date on or after it (NaN if unknown)."""
    out = np.full(entry.shape, np.nan)
    if not dates:
        return out
    known = np.sort(np.asarray([np.datetime64(d, "D") for d in dates]))
    pos = np.searchsorted(known, entry, side="left")
    ok = pos < known.size
    out[ok] = (known[pos[ok]] - entry[ok]).astype(np.float64)
    return out


def _model_rows(market: ReplayMarketData, symbol: str, deltas: Sequence[float], dtes: Sequence[int],
                rule: LabelRule, start: date | None, end: date | None, day_step: int,
                earnings: Sequence[date] | None, dropped: dict[str, int]) -> dict[str, np.ndarray]:
    days, close, feats, iv = _day_arrays(market, symbol)
    usable = np.isfinite(feats).all(axis=1) & np.isfinite(iv) & (iv > 0)
    if start is not None:
        usable &= days >= np.datetime64(start, "D")
    if end is not None:
        usable &= days <= np.datetime64(end, "D")
    entries = np.flatnonzero(usable)[::max(1, day_step)]
    grid_delta = np.repeat(np.asarray(deltas, float), len(dtes) * 2)
    grid_dte = np.tile(np.repeat(np.asarray(dtes, float), 2), len(deltas))
    grid_call = np.tile(np.array([0.0, 1.0]), len(deltas) * len(dtes))
    g = grid_delta.size
    i = np.repeat(entries, g)
    target = np.tile(grid_delta, entries.size)
    dte = np.tile(grid_dte, entries.size)
    is_call = np.tile(grid_call, entries.size)
    expiry = days[i] + dte.astype("timedelta64[D]")
    j = np.searchsorted(days, expiry, side="right") - 1  # last trading day on or before expiry
    covered = expiry <= days[-1]
    dropped["path past the end of the data"] = dropped.get("path past the end of the data", 0) + int((~covered).sum())
    i, target, dte, is_call, j = i[covered], target[covered], dte[covered], is_call[covered], j[covered]
    s, sigma, t = close[i], iv[i], dte / 365.0
    d1 = np.where(is_call > 0, ndtri(target), ndtri(1.0 - target))
    raw_k = s * np.exp(-d1 * sigma * np.sqrt(t) + 0.5 * sigma * sigma * t)
    tick = _strike_tick(s)
    strike = np.round(raw_k / tick) * tick
    right = np.where(is_call > 0, "C", "P")
    premium = bs_price(right, s, strike, t, 0.0, sigma)
    cheap = ~(premium >= MIN_PREMIUM)
    dropped["premium below 0.01"] = dropped.get("premium below 0.01", 0) + int(cheap.sum())
    keep = ~cheap
    i, dte, is_call, j, s, sigma, t, strike, right, premium = (
        a[keep] for a in (i, dte, is_call, j, s, sigma, t, strike, right, premium))
    abs_delta = np.abs(bs_greeks(right, s, strike, t, 0.0, sigma).delta)
    entry = days[i]
    dow = ((entry.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(float)  # 1970-01-01 was a Thursday
    x = candidate_features(feats[i], abs_delta, dte, is_call, strike, s, sigma, dow,
                           _next_earnings(entry, earnings))
    win, pnl, out_idx = _label_model(rule, close, iv, days, i, j, strike, right, premium, expiry_days=dte)
    n = i.size
    return {
        "x": x, "y": win.astype(np.int8), "entry_day": entry, "outcome_day": days[out_idx],
        "symbol": np.full(n, symbol), "right": right, "strike": strike, "premium": premium, "und_price": s,
        "pnl": pnl, "prob_otm": prob_otm(right, s, strike, t, 0.0, sigma), "price_source": np.full(n, "model"),
    }


def _expiry_outcome(s_t: np.ndarray, strike: np.ndarray, right: np.ndarray,
                    premium: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    intrinsic = np.where(right == "C", np.maximum(s_t - strike, 0.0), np.maximum(strike - s_t, 0.0))
    otm = np.where(right == "C", s_t < strike, s_t > strike)
    return otm, premium - intrinsic


def _first_hit(hit: np.ndarray) -> np.ndarray:
    """Column of the first True per row; the row length when there is none."""
    return np.where(hit.any(axis=1), hit.argmax(axis=1), hit.shape[1])


def _label_model(rule: LabelRule, close: np.ndarray, iv: np.ndarray, days: np.ndarray, i: np.ndarray,
                 j: np.ndarray, strike: np.ndarray, right: np.ndarray, premium: np.ndarray,
                 expiry_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Win flag, P&L (USD per share) and the outcome day index of model-priced candidates."""
    win, pnl = _expiry_outcome(close[j], strike, right, premium)
    out_idx = j.copy()
    if rule.kind == "expiry" or i.size == 0:
        return win, pnl, out_idx
    width = int((j - i).max())
    steps = np.arange(1, width + 1)
    expiry = days[i] + expiry_days.astype("timedelta64[D]")
    for lo in range(0, i.size, _PATH_CHUNK):
        sl = slice(lo, lo + _PATH_CHUNK)
        pos = i[sl, None] + steps[None, :]
        alive = pos < j[sl, None]  # marks strictly before the expiry day; expiry settles at intrinsic
        pos = np.minimum(pos, j[sl, None])
        t_left = (expiry[sl, None] - days[pos]).astype(np.float64) / 365.0
        mark = bs_price(right[sl, None], close[pos], strike[sl, None], t_left, 0.0, iv[pos])
        prem = premium[sl, None]
        take = alive & (mark <= (1.0 - rule.profit_target) * prem)
        stop = alive & (mark >= (1.0 + rule.stop_loss) * prem)
        first_take, first_stop = _first_hit(take), _first_hit(stop)
        exited = np.minimum(first_take, first_stop) < width
        col = np.minimum(first_take, first_stop)[exited]
        rows = np.flatnonzero(exited)
        idx = lo + rows
        win[idx] = first_take[exited] < first_stop[exited]
        pnl[idx] = premium[idx] - mark[rows, col]
        out_idx[idx] = pos[rows, col]
    return win, pnl, out_idx


def _recorded_rows(market: ReplayMarketData, deltas: Sequence[float], dtes: Sequence[int], rule: LabelRule,
                   start: date | None, end: date | None, dropped: dict[str, int]) -> dict[str, np.ndarray] | None:
    """Candidates from the real SPXW chain: the contract nearest each target |delta|, sold at the bid."""
    try:
        chain_days = market.trading_days()
        spy_days, _, spy_feats, _ = _day_arrays(market, "SPY")
    except (MarketDataError, DatasetError):
        return None
    lo_dte, hi_dte = min(dtes), max(dtes)
    rows: list[dict[str, object]] = []
    for day in chain_days:
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        pos = int(np.searchsorted(spy_days, np.datetime64(day, "D")))
        if pos >= spy_days.size or spy_days[pos] != np.datetime64(day, "D") or not np.isfinite(spy_feats[pos]).all():
            continue
        chain = market.chain(day)
        chain = chain[(chain["bid"] > 0) & (chain["ask"] >= chain["bid"])]
        chain = chain.assign(dte=(chain["expiry"].dt.date - day).map(lambda d: d.days))
        chain = chain[(chain["dte"] >= lo_dte) & (chain["dte"] <= hi_dte)]
        if chain.empty:
            continue
        t = chain["dte"].to_numpy(float) / 365.0
        s = chain["und_price"].to_numpy(float)
        k = chain["strike"].to_numpy(float)
        r = chain["right"].to_numpy(str)
        mid = 0.5 * (chain["bid"].to_numpy(float) + chain["ask"].to_numpy(float))
        sig = implied_vol(mid, r, s, k, t, 0.0)
        delta = np.abs(bs_greeks(r, s, k, t, 0.0, sig).delta)
        frame = chain.assign(iv=sig, abs_delta=delta).dropna(subset=["iv", "abs_delta"])
        for (expiry, right), part in frame.groupby([frame["expiry"].dt.date, "right"]):
            for target in deltas:
                near = part.iloc[int(np.argmin(np.abs(part["abs_delta"].to_numpy() - target)))]
                if abs(near["abs_delta"] - target) > 0.025:
                    continue
                rows.append({"day": day, "expiry": expiry, "right": right, "strike": float(near["strike"]),
                             "bid": float(near["bid"]), "und": float(near["und_price"]), "iv": float(near["iv"]),
                             "abs_delta": float(near["abs_delta"]), "dte": int(near["dte"]), "feat": spy_feats[pos]})
    return _label_recorded(market, rows, rule, chain_days, dropped)


def _label_recorded(market: ReplayMarketData, rows: list[dict[str, object]], rule: LabelRule,
                    chain_days: list[date], dropped: dict[str, int]) -> dict[str, np.ndarray] | None:
    from magnus_desktop.models.domain import OptionContract

    kept: list[tuple[dict[str, object], bool, float, date]] = []
    for row in rows:
        expiry = row["expiry"]
        assert isinstance(expiry, date)
        settle_days = [d for d in chain_days if d <= expiry]
        if not settle_days or settle_days[-1] < expiry:
            dropped["recorded: no settlement price"] = dropped.get("recorded: no settlement price", 0) + 1
            continue
        s_t = market.und_price(expiry)
        win_arr, pnl_arr = _expiry_outcome(np.array([s_t]), np.array([row["strike"]]), np.array([row["right"]]),
                                           np.array([row["bid"]]))
        win, pnl, out_day = bool(win_arr[0]), float(pnl_arr[0]), expiry
        if rule.kind == "target":
            contract = OptionContract("SPXW", expiry, float(row["strike"]), row["right"])  # type: ignore[arg-type]
            premium = float(row["bid"])  # type: ignore[arg-type]
            for d in (d for d in chain_days if row["day"] < d < expiry):  # type: ignore[operator]
                ask = market.option_quote(contract, d).ask
                if not math.isfinite(ask):
                    continue
                if ask <= (1 - rule.profit_target) * premium or ask >= (1 + rule.stop_loss) * premium:
                    win, pnl, out_day = ask <= (1 - rule.profit_target) * premium, premium - ask, d
                    break
        kept.append((row, win, pnl, out_day))
    if not kept:
        return None
    get = lambda key: np.array([r[key] for r, *_ in kept])  # noqa: E731
    entry = np.array([np.datetime64(r["day"], "D") for r, *_ in kept])
    right, strike, und, sig, dte = get("right").astype(str), get("strike").astype(float), get("und").astype(float), \
        get("iv").astype(float), get("dte").astype(float)
    dow = ((entry.astype(np.int64) + 3) % 7).astype(float)
    feats = np.vstack([r["feat"] for r, *_ in kept])
    x = candidate_features(feats, get("abs_delta").astype(float), dte, (right == "C").astype(float), strike, und,
                           sig, dow)
    n = len(kept)
    return {
        "x": x, "y": np.array([w for _, w, _, _ in kept], dtype=np.int8), "entry_day": entry,
        "outcome_day": np.array([np.datetime64(d, "D") for *_, d in kept]), "symbol": np.full(n, "SPXW"),
        "right": right, "strike": strike, "premium": get("bid").astype(float), "und_price": und,
        "pnl": np.array([p for _, _, p, _ in kept]), "prob_otm": prob_otm(right, und, strike, dte / 365.0, 0.0, sig),
        "price_source": np.full(n, "recorded"),
    }


def read_earnings_csv(path: str | Path) -> dict[str, list[date]]:
    """Earnings dates per symbol from a CSV with a ticker column (``ticker`` or ``symbol``) and a date
    column (``dates``, ``date`` or ``earnings_date``, YYYY-MM-DD); other columns are ignored.

    Raises:
        DatasetError: unreadable file, missing columns, or no valid row (bad rows are skipped).
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable earnings CSV ({exc})") from exc
    cols = {c.strip().lower(): c for c in raw.columns}
    sym_col = next((cols[c] for c in ("ticker", "symbol") if c in cols), None)
    day_col = next((cols[c] for c in ("dates", "date", "earnings_date") if c in cols), None)
    if sym_col is None or day_col is None:
        raise DatasetError(f"{path}: an earnings CSV needs a ticker/symbol and a dates/date/earnings_date column")
    days = pd.to_datetime(raw[day_col].str.strip(), format="%Y-%m-%d", errors="coerce")
    out: dict[str, list[date]] = {}
    for sym, day in zip(raw[sym_col].str.strip().str.upper(), days, strict=True):
        if sym and not pd.isna(day):
            out.setdefault(sym, []).append(day.date())
    if not out:
        raise DatasetError(f"{path}: no row with a ticker and a YYYY-MM-DD date")
    return out


def build_training_set(
    data_dir: str | Path | None = None,
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    *,
    deltas: Sequence[float] = DEFAULT_DELTAS,
    dtes: Sequence[int] = DEFAULT_DTES,
    label: LabelRule | None = None,
    start: date | None = None,
    end: date | None = None,
    day_step: int = 1,
    recorded_chain: bool = True,
    earnings: Mapping[str, Sequence[date]] | None = None,
    market: ReplayMarketData | None = None,
) -> TrainingSet:
    """Build the candidates of every trading day of ``symbols`` (and the recorded SPXW chain).

    Args:
        data_dir: folder laid out like ``resources/data`` (``ohlcv/...``, ``options_chains/...``);
            None = the bundled data.
        symbols: underlyings with bundled bars (SPY, AAPL, GOOG).
        deltas: target |delta| values, decimals in (0, 0.5).
        dtes: days to expiry, calendar days >= 1.
        label: outcome rule (default: expired OTM).
        start, end: first/last entry day (inclusive; None = all the data).
        day_step: use every ``day_step``-th usable trading day (1 = each one).
        recorded_chain: add rows from the real SPXW chain where its quote days fall in the window.
        earnings: symbol -> known earnings dates, for ``days_to_earnings`` (NaN where absent).
        market: an open ``ReplayMarketData`` (overrides ``data_dir``).

    Returns:
        :class:`TrainingSet`, rows sorted by entry day. ``dropped`` counts rows left out and why.

    Raises:
        DatasetError: bad option values, a symbol without bundled bars, or no candidate at all.
    """
    rule = label or LabelRule()
    if not deltas or any(not 0 < d < 0.5 for d in deltas):
        raise DatasetError(f"deltas must be in (0, 0.5), got {list(deltas)}")
    if not dtes or any(int(d) < 1 for d in dtes):
        raise DatasetError(f"dtes must be >= 1 calendar day, got {list(dtes)}")
    if start is not None and end is not None and end < start:
        raise DatasetError(f"the end {end} is before the start {start}")
    if market is None:
        market = ReplayMarketData.from_resources(DATA_RESOURCES_DIR if data_dir is None else Path(data_dir))
    dropped: dict[str, int] = {}
    parts = [_model_rows(market, sym.upper(), deltas, dtes, rule, start, end, day_step,
                         (earnings or {}).get(sym.upper()), dropped) for sym in symbols]
    if recorded_chain:
        rec = _recorded_rows(market, deltas, dtes, rule, start, end, dropped)
        if rec is not None:
            parts.append(rec)
    merged = {name: np.concatenate([p[name] for p in parts]) for name in _ROW_ARRAYS}
    if merged["y"].size == 0:
        raise DatasetError("no candidate in the window: the features need about 252 trading days of history "
                           "before the first entry day, and each expiry must fall inside the data")
    order = np.argsort(merged["entry_day"], kind="stable")
    return TrainingSet(**{k: v[order] for k, v in merged.items()}, label=rule, dropped=dropped)
