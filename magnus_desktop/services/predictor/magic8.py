"""Magic8 / DiscordTrading signal history: import the exports, and learn a win probability per strategy.

No public trade-level Magic8 data exists; the layouts below are those described by
``../shared/data/magic8/`` (``DERIVED_magic8_raw_export_schemas.csv``, the derived schema history of
the raw exports, and ``m8ap_DATA_SCHEMA_COMPLETE.md``):

=============  ===============================================================================
``profit``     ``When, Symbol, Name, Premium, Predicted, Closed, Expired, Trade`` (2022, ISO times
               with offset) — then ``Day, Hour, Symbol, Price, Name, Premium, Predicted, Closed,
               Expired, Trade[, Risk, Reward, Ratio], Profit`` (2023) — then ``Day, Hour, Symbol,
               Price, Name, Predicted, [Low, High,] Closed, Risk, Reward, Premium, Stop, Raw,
               Managed, Trade`` (2023-11 on; ``Raw`` is the trade's P&L). Eastern time.
``trades``     ``Date, Time, Source, Symbol, Name, Premium, Risk, ExpectedMove, …, Strike1…4, …``
               (the legs; no outcome) — UTC.
``delta``      ``When, Symbol, Price, CallDelta, PutDelta, Predicted, ShortTerm, LongTerm, Closing``
               (no trades) — Eastern time.
=============  ===============================================================================

Only ``profit`` rows carry an outcome, so only they are learned from; a ``trades`` or ``delta`` file
is recognised and said to hold no outcomes. A row is skipped with a reason and counted: an
unreadable time or number, an unknown strategy (Butterfly, Iron Condor, Vertical, Sonar), a premium
≤ 0 (the real exports hold 8,950 negative and 12,867 zero premiums in 1,076,742 rows), no P&L, or a
duplicate (same time, symbol, strategy, premium and trade text; 8,757 in the real exports).

Learning (:func:`train_by_strategy`): the label is ``profit > 0``; the features are our market
features of the signal's day (``analytics.features.market_features`` on the recorded daily bars,
SPY's for the SPX family, as in the options predictor) plus the signal's own numbers: premium/risk,
(predicted − price)/price, the hour (ET) and weekday. A strategy is trained only with
:data:`MIN_ROWS` labelled rows on days with market features; the test set is the last 20 % by time,
purged of the day before it (no training row on or after the first test day). Reported: AUC, Brier,
and the majority-class Brier of the same test rows.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from magnus_desktop.analytics.features import MARKET_FEATURES, market_features
from magnus_desktop.services.market.recorded import ReplayMarketData

#: The strategies Magic8 publishes.
STRATEGIES = ("Butterfly", "Iron Condor", "Vertical", "Sonar")
#: Labelled rows (on days with market features) a strategy needs before it is trained.
MIN_ROWS = 300
EASTERN = ZoneInfo("America/New_York")
SIGNAL_FEATURES = ("premium_to_risk", "predicted_move", "hour_et", "day_of_week")
FEATURES = (*MARKET_FEATURES, *SIGNAL_FEATURES)


class Magic8FormatError(ValueError):
    """The file is not a Magic8 export this version reads (the message names the file and why)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """One traded signal of a ``profit`` export.

    Attributes:
        at: UTC. symbol: ``SPX``/``SPXW``/``XSP``/``NDX``/… as exported. strategy: one of :data:`STRATEGIES`.
        price: underlying at the signal, index points. predicted: Magic8's predicted close, points.
        premium: credit (or debit) of the trade, USD per share, > 0. risk: max risk, USD per share
            (NaN when the layout has none). profit: the trade's P&L, USD per share.
        source_line: 1-based line of the file.
    """

    at: datetime
    symbol: str
    strategy: str
    price: float
    predicted: float
    premium: float
    risk: float
    profit: float
    trade: str
    source_line: int

    @property
    def key(self) -> str:
        raw = f"{self.at.isoformat()}|{self.symbol}|{self.strategy}|{self.premium:.4f}|{self.trade}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]


@dataclass(slots=True)
class ImportResult:
    """What one file gave: ``layout``, the signals, and ``skipped`` ``[(line, reason)]`` with counts."""

    path: Path
    layout: str
    signals: list[Signal] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _line, reason in self.skipped:
            out[reason] = out.get(reason, 0) + 1
        return out


def _layout(header: list[str]) -> str:
    cols = set(header)
    if {"CallDelta", "PutDelta"} <= cols:
        return "delta"
    if {"Strike1", "Direction1"} <= cols or {"Probability", "Profited"} <= cols:
        return "trades"
    if {"Name", "Premium", "Closed"} <= cols and ("When" in cols or {"Day", "Hour"} <= cols):
        return "profit"
    if {"Predicted", "ShortTerm", "Difference"} <= cols:
        return "prediction"
    raise Magic8FormatError(f"unknown layout (columns: {', '.join(header[:12])})")


def _time(row: dict[str, str]) -> datetime:
    if row.get("When"):
        text = row["When"].strip()
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            at = datetime.strptime(text, "%m-%d-%Y %H:%M:%S")
    else:
        at = datetime.strptime(f"{row['Day'].strip()} {row['Hour'].strip()}", "%m-%d-%Y %H:%M")
    if at.tzinfo is None:
        at = at.replace(tzinfo=EASTERN)  # profit exports are Eastern time
    return at.astimezone(UTC)


def _num(text: str | None) -> float:
    if text is None or not text.strip():
        return math.nan
    return float(text.replace("$", "").replace(",", "").strip())


def read_export(path: str | Path) -> ImportResult:
    """Read one export. Raises Magic8FormatError (unreadable file, no header, unknown layout)."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if not header:
                raise Magic8FormatError(f"{p}: empty file")
            try:
                layout = _layout(header)
            except Magic8FormatError as exc:
                raise Magic8FormatError(f"{p}: {exc}") from None
            result = ImportResult(p, layout)
            if layout != "profit":
                return result
            seen: set[str] = set()
            for line, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                row = dict(zip(header, values, strict=False))
                reason = _row_problem(row)
                if reason:
                    result.skipped.append((line, reason))
                    continue
                signal = _signal(row, line)
                if isinstance(signal, str):
                    result.skipped.append((line, signal))
                elif signal.key in seen:
                    result.skipped.append((line, "duplicate"))
                else:
                    seen.add(signal.key)
                    result.signals.append(signal)
            return result
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise Magic8FormatError(f"{p}: not readable ({exc})") from exc


def _row_problem(row: dict[str, str]) -> str:
    if row.get("Name", "").strip() not in STRATEGIES:
        return "unknown strategy"
    return ""


def _signal(row: dict[str, str], line: int) -> Signal | str:
    try:
        at = _time(row)
    except (ValueError, KeyError):
        return "unreadable time"
    try:
        premium = _num(row.get("Premium"))
        profit = _num(row["Profit"]) if row.get("Profit", "").strip() else _num(row.get("Raw"))
        price, predicted, risk = (_num(row.get(k)) for k in ("Price", "Predicted", "Risk"))
    except ValueError:
        return "unreadable number"
    if not math.isfinite(premium) or premium == 0:
        return "zero premium"
    if premium < 0:
        return "negative premium"
    if not math.isfinite(profit):
        return "no P&L"
    return Signal(at, row.get("Symbol", "SPX").strip() or "SPX", row["Name"].strip(), price, predicted, premium,
                  risk, profit, row.get("Trade", "").strip(), line)


# ---- the store: one JSON line per signal, de-duplicated across imports ------------------------------
def store_signals(store: Path, signals: list[Signal]) -> tuple[int, int]:
    """Append the signals not yet in ``store`` (JSON Lines; written to a temporary file and renamed).
    Returns (added, already there)."""
    existing = load_signals(store)
    keys = {s.key for s in existing}
    new = [s for s in signals if s.key not in keys]
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for s in [*existing, *new]:
            fh.write(json.dumps({**asdict(s), "at": s.at.isoformat()}) + "\n")
    tmp.replace(store)
    return len(new), len(signals) - len(new)


def load_signals(store: Path) -> list[Signal]:
    """The stored signals (none when the file does not exist). A damaged line is skipped."""
    if not store.exists():
        return []
    out = []
    for text in store.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(text)
            out.append(Signal(**{**d, "at": datetime.fromisoformat(d["at"])}))
        except (ValueError, TypeError, KeyError):
            continue
    return out


# ---- learning ---------------------------------------------------------------------------------------
def signal_features(signals: list[Signal], market: ReplayMarketData) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Feature rows (:data:`FEATURES` order, shape (n, len(FEATURES))) and which rows have market features
    (the signal's ET day is a trading day of the recorded bars, with enough history before it)."""
    bars = market.bars("SPY")
    vix = market.bars("VIX")["close"].reindex(bars.index).ffill(limit=3).to_numpy(np.float64)
    feats = market_features(bars["close"].to_numpy(np.float64), vix)
    days = bars.index.to_numpy().astype("datetime64[D]")
    x = np.full((len(signals), len(FEATURES)), np.nan)
    for i, s in enumerate(signals):
        et = s.at.astimezone(EASTERN)
        pos = int(np.searchsorted(days, np.datetime64(et.date(), "D")))
        if pos < days.size and days[pos] == np.datetime64(et.date(), "D"):
            x[i, :len(MARKET_FEATURES)] = feats[pos]
        x[i, len(MARKET_FEATURES):] = (s.premium / s.risk if s.risk > 0 else np.nan,
                                       (s.predicted - s.price) / s.price if s.price > 0 else np.nan,
                                       et.hour + et.minute / 60.0, float(et.weekday()))
    have = np.isfinite(x[:, :len(MARKET_FEATURES)]).all(axis=1)
    return x, have


def train_by_strategy(signals: list[Signal], market: ReplayMarketData, out_dir: Path | None = None,
                      rounds: int = 100) -> dict[str, dict[str, Any]]:
    """Per strategy: ``{"n", "n_with_features", "trained": bool, "message"}`` and, when trained, the
    time-ordered test's ``auc``, ``brier``, ``brier_majority``, ``win_rate_test``, ``n_train``,
    ``n_test`` (and the booster saved as ``magic8-<strategy>.json`` in ``out_dir``)."""
    import xgboost as xgb

    from magnus_desktop.services.predictor.metrics import binary_metrics
    from magnus_desktop.services.predictor.model import XGB_PARAMS

    report: dict[str, dict[str, Any]] = {}
    for strategy in sorted({s.strategy for s in signals}):
        rows = sorted((s for s in signals if s.strategy == strategy), key=lambda s: s.at)
        x, have = signal_features(rows, market)
        y = np.array([s.profit > 0 for s in rows], dtype=np.int8)[have]
        days = np.array([np.datetime64(s.at.astimezone(EASTERN).date(), "D") for s in rows])[have]
        x = x[have]
        entry = {"n": len(rows), "n_with_features": int(have.sum()), "trained": False}
        if x.shape[0] < MIN_ROWS:
            entry["message"] = (f"too little data: {int(have.sum())} labelled signals on days with recorded market "
                                f"features, {MIN_ROWS} needed (the bundled bars end 2020-08; signals after that need "
                                "live bars)")
            report[strategy] = entry
            continue
        first_test_day = days[int(len(days) * 0.8)]
        train, test = days < first_test_day - np.timedelta64(1, "D"), days >= first_test_day
        if np.unique(y[train]).size < 2 or test.sum() == 0:
            entry["message"] = "the training rows hold one outcome only: nothing to learn"
            report[strategy] = entry
            continue
        booster = xgb.train({**XGB_PARAMS}, xgb.DMatrix(x[train], label=y[train], feature_names=list(FEATURES),
                                                         missing=np.nan), num_boost_round=rounds)
        p = booster.predict(xgb.DMatrix(x[test], feature_names=list(FEATURES), missing=np.nan))
        m = binary_metrics(p.astype(np.float64), y[test])
        majority = float(y[train].mean() >= 0.5)
        entry.update(trained=True, n_train=int(train.sum()), n_test=int(test.sum()), auc=m["auc"], brier=m["brier"],
                     brier_majority=float(np.mean((majority - y[test]) ** 2)), win_rate_test=float(y[test].mean()),
                     first_test_day=str(first_test_day), message="")
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            booster.save_model(str(out_dir / f"magic8-{strategy.lower().replace(' ', '_')}.json"))
        report[strategy] = entry
    return report

