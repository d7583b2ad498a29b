"""The win-probability model: an XGBoost booster, an isotonic calibration and its model card.

Saved as one JSON file (``<data dir>/predictor/model.json``)::

    {"format": "magnus-predictor/1", "feature_set": FEATURE_SET_ID, "features": [...],
     "trained_at", "window": {"first_entry", "last_entry"}, "label", "rows", "params",
     "metrics": {...}, "calibration": {"x": [...], "y": [...]} | null, "booster": <XGBoost JSON>}

A file written for another feature set (other names, order or definitions) is refused with
:class:`FeatureSetMismatchError`; the caller falls back to Black-Scholes ``prob_otm``.
Probabilities are decimals in [0, 1] (chance that the short option wins, see ``dataset.LabelRule``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from numpy.typing import ArrayLike, NDArray

from magnus_desktop.analytics.features import FEATURE_NAMES, FEATURE_SET_ID
from magnus_desktop.services.predictor.dataset import TrainingSet

__all__ = [
    "MIN_PER_CLASS",
    "MIN_TRAIN_ROWS",
    "MODEL_FORMAT",
    "Calibration",
    "FeatureSetMismatchError",
    "ModelFileError",
    "NotEnoughDataError",
    "PredictorError",
    "PredictorModel",
    "check_trainable",
    "fit_booster",
    "train_model",
]

MODEL_FORMAT = "magnus-predictor/1"
MIN_TRAIN_ROWS = 500
MIN_PER_CLASS = 50
NUM_ROUNDS = 150
#: Threads of a prediction call (training uses ``XGB_PARAMS['nthread']``).
PREDICT_THREADS = 1
XGB_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": 4,
    "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 20, "nthread": 2, "seed": 7,
}
#: Length of the calibration fold at the end of the training window, calendar days.
CALIBRATION_DAYS = 365

Progress = Callable[[str, float], None]


class PredictorError(RuntimeError):
    """The predictor cannot train, load or score; the message is for the user."""


class NotEnoughDataError(PredictorError):
    """Too few rows (or too few of one outcome) to train; the message says how many are needed."""


class ModelFileError(PredictorError):
    """The model file is missing, unreadable or not a predictor model."""


class FeatureSetMismatchError(ModelFileError):
    """The model file was trained on another feature set than this version computes."""


def check_trainable(y: NDArray[np.int8], what: str = "training") -> None:
    """Raise :class:`NotEnoughDataError` unless ``y`` has enough rows and both outcomes."""
    n, wins = int(y.size), int(y.sum())
    losses = n - wins
    if n < MIN_TRAIN_ROWS or wins < MIN_PER_CLASS or losses < MIN_PER_CLASS:
        raise NotEnoughDataError(
            f"too little data for {what}: {n} rows ({wins} wins, {losses} losses); need at least "
            f"{MIN_TRAIN_ROWS} rows with {MIN_PER_CLASS} of each outcome — widen the window or add symbols")


@dataclass(frozen=True)
class Calibration:
    """Isotonic map from raw booster probability to calibrated probability (piecewise linear), bounded
    to [1/(2n), 1 - 1/(2n)] for a calibration fold of n rows.

    Attributes:
        x: increasing raw probabilities, shape (k,). y: calibrated probabilities there, shape (k,).
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]

    @classmethod
    def fit(cls, raw: NDArray[np.float64], y: NDArray[np.int8]) -> Calibration:
        # A fold of n rows cannot show a chance below ~1/(2n) or above 1 - 1/(2n); bounding the map there
        # keeps one surprise from costing an infinite log loss (isotonic steps otherwise reach 0 and 1).
        eps = 0.5 / max(int(y.size), 1)
        from sklearn.isotonic import IsotonicRegression  # training only: sklearn is slow to import

        iso = IsotonicRegression(y_min=eps, y_max=1.0 - eps, out_of_bounds="clip").fit(raw, y)
        return cls(np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float))

    def apply(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.interp(raw, self.x, self.y)


def fit_booster(x: NDArray[np.float64], y: NDArray[np.int8], rounds: int = NUM_ROUNDS,
                progress: Progress | None = None, stage: str = "training") -> xgb.Booster:
    """Train the XGBoost booster (``XGB_PARAMS``, ``rounds`` trees); ``progress(stage, 0..1)`` per tree."""
    check_trainable(y)
    dtrain = xgb.DMatrix(x, label=y, feature_names=list(FEATURE_NAMES), missing=np.nan)
    callbacks = []
    if progress is not None:
        class _Report(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                progress(stage, (epoch + 1) / rounds)  # type: ignore[misc]
                return False

        callbacks.append(_Report())
    return xgb.train(XGB_PARAMS, dtrain, num_boost_round=rounds, callbacks=callbacks)


@dataclass
class PredictorModel:
    """A trained booster with its calibration and model card (``meta``: window, label, metrics...)."""

    booster: xgb.Booster
    calibration: Calibration | None
    meta: dict[str, Any] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __post_init__(self) -> None:
        # Scoring is one row or one scanner page: a single thread avoids OpenMP hand-offs, which on a busy
        # 2-core machine cost milliseconds per call (measured: 8 ms with 2 threads vs 0.16 ms with 1).
        self.booster.set_param({"nthread": PREDICT_THREADS})

    @property
    def version(self) -> str:
        """Short model version for tooltips: feature set and training time."""
        return f"{self.meta.get('feature_set', FEATURE_SET_ID)}@{self.meta.get('trained_at', '?')}"

    @property
    def oos_brier(self) -> float | None:
        """Out-of-sample Brier score of the calibration fold (the last train fold, never trained on),
        or None when the model card has none."""
        value = self.meta.get("metrics", {}).get("calibration_fold", {}).get("brier")
        return float(value) if isinstance(value, (int, float)) else None

    def predict_raw(self, x: ArrayLike) -> NDArray[np.float64]:
        """Uncalibrated booster probability per row of ``x`` (shape (n, n_features) or (n_features,))."""
        arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if arr.shape[1] != len(self.feature_names):
            raise PredictorError(f"expected {len(self.feature_names)} features per row, got {arr.shape[1]}")
        return np.asarray(self.booster.inplace_predict(arr, missing=np.nan), dtype=np.float64)

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """Calibrated win probability per row, decimals in [0, 1]."""
        raw = self.predict_raw(x)
        return raw if self.calibration is None else self.calibration.apply(raw)

    # ------------------------------------------------------------------ file
    def to_json(self) -> dict[str, Any]:
        booster = json.loads(bytes(self.booster.save_raw(raw_format="json")))
        cal = None if self.calibration is None else {"x": self.calibration.x.tolist(), "y": self.calibration.y.tolist()}
        return {"format": MODEL_FORMAT, "feature_set": FEATURE_SET_ID, "features": list(self.feature_names),
                **{k: v for k, v in self.meta.items() if k not in ("format", "feature_set", "features")},
                "calibration": cal, "booster": booster}

    def save(self, path: str | Path) -> Path:
        """Write the model file (atomically: a temporary file renamed over the old one)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), allow_nan=False), encoding="utf-8")
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, path: str | Path) -> PredictorModel:
        """Read a model file.

        Raises:
            ModelFileError: missing, unreadable, or not a predictor model file.
            FeatureSetMismatchError: trained on another feature set (retrain it).
        """
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelFileError(f"no model file at {p}; train one with `magnus-desktop predictor train`") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{p}: not a readable model file ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT or "booster" not in doc:
            raise ModelFileError(f"{p}: not a Magnus predictor model (expected format {MODEL_FORMAT!r})")
        features = tuple(doc.get("features") or ())
        if doc.get("feature_set") != FEATURE_SET_ID or features != FEATURE_NAMES:
            extra = sorted(set(features) - set(FEATURE_NAMES))
            missing = sorted(set(FEATURE_NAMES) - set(features))
            diff = "; ".join(part for part in (f"unknown features: {', '.join(extra)}" if extra else "",
                                               f"missing features: {', '.join(missing)}" if missing else "") if part)
            raise FeatureSetMismatchError(
                f"{p} was trained on feature set {doc.get('feature_set')!r}, this version computes "
                f"{FEATURE_SET_ID!r} ({diff or 'same names, other order or definitions'}); retrain it with "
                "`magnus-desktop predictor train` — until then the Black-Scholes prob_otm is shown")
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(json.dumps(doc["booster"]).encode()))
        except xgb.core.XGBoostError as exc:
            raise ModelFileError(f"{p}: the booster in the file is unreadable ({exc})") from exc
        cal_doc = doc.get("calibration")
        cal = None if not cal_doc else Calibration(np.asarray(cal_doc["x"], float), np.asarray(cal_doc["y"], float))
        meta = {k: v for k, v in doc.items() if k not in ("booster", "calibration")}
        return cls(booster, cal, meta)


def _days(d: np.datetime64) -> str:
    return str(np.datetime_as_string(d, unit="D"))


def train_model(ts: TrainingSet, *, purge_days: int | None = None, rounds: int = NUM_ROUNDS,
                progress: Progress | None = None) -> PredictorModel:
    """Train on ``ts`` in time order: the booster on all rows whose outcome is known before the last
    :data:`CALIBRATION_DAYS` of entries (less a purge gap), the isotonic calibration on that last
    fold. The card's ``metrics.calibration_fold`` are the booster's out-of-sample numbers there.

    Args:
        ts: training set (any window).
        purge_days: gap between the booster's rows and the calibration fold, calendar days
            (default: the longest DTE in ``ts``).
        rounds: boosting rounds.
        progress: ``progress(stage, fraction)`` callback (called from the training thread).

    Raises:
        NotEnoughDataError: too few rows (or outcomes of one kind) for the booster or the fold.
    """
    check_trainable(ts.y)
    dte_col = ts.feature_names.index("dte")
    gap = int(purge_days if purge_days is not None else np.nanmax(ts.x[:, dte_col]))
    last = ts.entry_day.max()
    cal_start = last - np.timedelta64(CALIBRATION_DAYS, "D")
    cal = ts.entry_day >= cal_start
    fit = (ts.entry_day < cal_start - np.timedelta64(gap, "D")) & (ts.outcome_day < cal_start)
    check_trainable(ts.y[fit], "the booster (rows before the calibration year)")
    check_trainable(ts.y[cal], "the calibration fold (the last year)")
    booster = fit_booster(ts.x[fit], ts.y[fit], rounds, progress)
    model = PredictorModel(booster, None)
    raw = model.predict_raw(ts.x[cal])
    calibration = Calibration.fit(raw, ts.y[cal])
    model.calibration = calibration
    first = ts.entry_day.min()
    model.meta = {
        "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "window": {"first_entry": _days(first), "last_entry": _days(last),
                   "booster_rows_until": _days(cal_start - np.timedelta64(gap, "D")),
                   "calibration_from": _days(cal_start)},
        "label": ts.label.describe(),
        "rows": {"booster": int(fit.sum()), "calibration": int(cal.sum()),
                 "recorded_price_rows": int((ts.price_source == "recorded").sum())},
        "symbols": sorted(set(ts.symbol.tolist())),
        "purge_days": gap,
        "params": {**XGB_PARAMS, "rounds": rounds},
        "metrics": {"calibration_fold": {
            **_binary_metrics(raw, ts.y[cal]),
            "brier_bs_prob_otm": float(np.mean((ts.prob_otm[cal] - ts.y[cal]) ** 2)),
            "note": "booster out-of-sample on the last year (purged); calibration fitted on it",
        }},
    }
    return model


def _binary_metrics(raw: NDArray[np.float64], y: NDArray[np.int8]) -> dict[str, Any]:
    # scikit-learn is imported for training only (it is slow to import)
    from magnus_desktop.services.predictor.metrics import binary_metrics

    return binary_metrics(raw, y)
