"""Walk-forward evaluation by year, always time-ordered, with baselines in the same run.

For each test year Y (every calendar year with candidates after at least ``min_train_years`` of
history):

- **test** rows: entry day in Y;
- **training** rows: entry day before 1 January Y minus the purge gap (default: the longest DTE)
  *and* outcome day before 1 January Y — no training row's outcome can be known after a test
  row's entry;
- inside the training rows the last year is the **calibration fold**: the booster is fitted on the
  rows whose outcomes are known before it starts (purged the same way), the isotonic calibration
  on the fold only.

Baselines on the same test rows: the majority class of the training rows (a constant 0 or 1),
Black-Scholes ``prob_otm`` (risk-neutral N(d2)), and logistic regression (median-imputed,
standardised) on the same features and training rows. The filter's profit compares taking every
test trade with taking those whose calibrated probability is >= ``threshold``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from magnus_desktop.services.predictor.dataset import TrainingSet
from magnus_desktop.services.predictor.metrics import (
    binary_metrics,
    calibration_curve,
    filter_profit,
    none_if_nan,
    pnl_by_decile,
    roc_points,
)
from magnus_desktop.services.predictor.model import (
    CALIBRATION_DAYS,
    NUM_ROUNDS,
    Calibration,
    NotEnoughDataError,
    PredictorModel,
    check_trainable,
    fit_booster,
)

__all__ = ["DEFAULT_THRESHOLD", "Split", "evaluate", "walk_forward_splits"]

DEFAULT_THRESHOLD = 0.8
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Split:
    """Row indices of one walk-forward step (into the ``TrainingSet``), each sorted."""

    test_year: int
    fit: NDArray[np.intp]
    calibration: NDArray[np.intp]
    test: NDArray[np.intp]

    @property
    def train(self) -> NDArray[np.intp]:
        """Every row the step learns from (booster rows and calibration fold)."""
        return np.union1d(self.fit, self.calibration)


def _day(year: int) -> np.datetime64:
    return np.datetime64(f"{year:04d}-01-01", "D")


def walk_forward_splits(entry_day: NDArray[np.datetime64], outcome_day: NDArray[np.datetime64],
                        purge_days: int, min_train_years: int = 2) -> list[Split]:
    """The yearly walk-forward steps (see the module docstring); years without both folds are left out."""
    gap = np.timedelta64(purge_days, "D")
    years = entry_day.astype("datetime64[Y]").astype(int) + 1970
    first = int(years.min())
    out = []
    for year in range(first + min_train_years, int(years.max()) + 1):
        start = _day(year)
        test = np.flatnonzero(years == year)
        train = (entry_day < start - gap) & (outcome_day < start)
        if not test.size or not train.any():
            continue
        cal_start = entry_day[train].max() - np.timedelta64(CALIBRATION_DAYS, "D")
        cal = train & (entry_day >= cal_start)
        fit = train & (entry_day < cal_start - gap) & (outcome_day < cal_start)
        if fit.any() and cal.any():
            out.append(Split(year, np.flatnonzero(fit), np.flatnonzero(cal), test))
    return out


def _logistic(x: NDArray[np.float64], y: NDArray[np.int8]) -> Any:
    model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                          LogisticRegression(max_iter=300))
    return model.fit(x, y)


def _scores(p: NDArray[np.float64], ts: TrainingSet, idx: NDArray[np.intp], majority: NDArray[np.float64],
            p_logit: NDArray[np.float64], threshold: float) -> dict[str, Any]:
    y = ts.y[idx]
    base = binary_metrics(p, y)
    logit = binary_metrics(p_logit, y)
    bs = binary_metrics(ts.prob_otm[idx], y)
    out = {
        **base,
        "brier_bs_prob_otm": bs["brier"],
        "brier_majority": float(np.mean((majority - y) ** 2)) if y.size else np.nan,
        **filter_profit(p, ts.pnl[idx], threshold),
        "auc_bs_prob_otm": bs["auc"], "brier_logreg": logit["brier"], "auc_logreg": logit["auc"],
        "win_rate": float(y.mean()) if y.size else np.nan,
        "recorded_price_rows": int((ts.price_source[idx] == "recorded").sum()),
    }
    return {k: none_if_nan(v) if isinstance(v, float) else v for k, v in out.items()}


def evaluate(ts: TrainingSet, *, threshold: float = DEFAULT_THRESHOLD, purge_days: int | None = None,
             min_train_years: int = 2, rounds: int = NUM_ROUNDS, progress: Progress | None = None) -> dict[str, Any]:
    """Walk-forward evaluation of ``ts``.

    Returns:
        ``{"per_year": {year: scores}, "overall": scores, "calibration_curve": [...],
        "pnl_by_decile": [...], "roc": [{"fpr", "tpr", "threshold"}...], "settings": {...}}``; ``scores`` hold ``n, auc, brier, log_loss,
        brier_bs_prob_otm, brier_majority, avg_pnl_all, avg_pnl_filtered`` and the logistic-regression,
        drawdown and filter counts (P&L in USD per share; NaN → None).

    Raises:
        NotEnoughDataError: not one year has enough history before it to train and calibrate.
    """
    gap = int(purge_days if purge_days is not None else np.nanmax(ts.x[:, ts.feature_names.index("dte")]))
    splits = walk_forward_splits(ts.entry_day, ts.outcome_day, gap, min_train_years)
    per_year: dict[str, Any] = {}
    pooled: list[tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]] = []
    skipped: dict[str, str] = {}
    for k, split in enumerate(splits):
        try:
            check_trainable(ts.y[split.fit], f"the booster of {split.test_year}")
            check_trainable(ts.y[split.calibration], f"the calibration fold of {split.test_year}")
        except NotEnoughDataError as exc:
            skipped[str(split.test_year)] = str(exc)
            continue

        def step(stage: str, frac: float, k: int = k) -> None:
            if progress is not None:
                progress(stage, (k + frac) / len(splits))

        booster = fit_booster(ts.x[split.fit], ts.y[split.fit], rounds, step, f"test year {split.test_year}")
        model = PredictorModel(booster, None)
        model.calibration = Calibration.fit(model.predict_raw(ts.x[split.calibration]), ts.y[split.calibration])
        p = model.predict(ts.x[split.test])
        train = split.train
        majority = np.full(split.test.size, float(ts.y[train].mean() >= 0.5))
        p_logit = _logistic(ts.x[train], ts.y[train]).predict_proba(ts.x[split.test])[:, 1]
        per_year[str(split.test_year)] = _scores(p, ts, split.test, majority, p_logit, threshold)
        pooled.append((split.test, p, majority, p_logit))
    if not pooled:
        raise NotEnoughDataError(
            f"too little history for a walk-forward test: each test year needs {min_train_years} earlier years "
            f"(the booster's rows, then a {CALIBRATION_DAYS}-day calibration fold, each purged by {gap} days)"
            + (f"; {'; '.join(skipped.values())}" if skipped else ""))
    idx = np.concatenate([t[0] for t in pooled])
    p_all, maj_all, logit_all = (np.concatenate([t[i] for t in pooled]) for i in (1, 2, 3))
    order = np.argsort(ts.entry_day[idx], kind="stable")
    idx, p_all, maj_all, logit_all = idx[order], p_all[order], maj_all[order], logit_all[order]
    return {
        "per_year": per_year,
        "overall": _scores(p_all, ts, idx, maj_all, logit_all, threshold),
        "calibration_curve": calibration_curve(p_all, ts.y[idx]),
        "pnl_by_decile": pnl_by_decile(p_all, ts.pnl[idx]),
        "roc": roc_points(p_all, ts.y[idx]),
        "settings": {"threshold": threshold, "purge_days": gap, "min_train_years": min_train_years,
                     "rounds": rounds, "label": ts.label.describe(), "rows": len(ts),
                     "skipped_years": skipped, "pnl_unit": "USD per share of one short option"},
    }
