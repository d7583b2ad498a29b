"""Scores of probability forecasts and of the trade filter (NumPy + scikit-learn metrics, no I/O).

Probabilities are decimals in [0, 1]; outcomes 1 = win, 0 = loss; P&L in USD per share.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import log_loss, roc_auc_score

__all__ = ["binary_metrics", "calibration_curve", "filter_profit", "max_drawdown", "none_if_nan", "pnl_by_decile"]

_EPS = 1e-15


def none_if_nan(value: float) -> float | None:
    """JSON-friendly number: NaN/inf → None."""
    return float(value) if math.isfinite(value) else None


def binary_metrics(p: NDArray[np.float64], y: NDArray[np.int8]) -> dict[str, Any]:
    """``{"n", "auc", "brier", "log_loss"}`` of forecasts ``p`` for outcomes ``y`` (AUC NaN with one class)."""
    n = int(y.size)
    if n == 0:
        return {"n": 0, "auc": math.nan, "brier": math.nan, "log_loss": math.nan}
    pc = np.clip(p, _EPS, 1 - _EPS)
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < n else math.nan
    return {"n": n, "auc": auc, "brier": float(np.mean((p - y) ** 2)),
            "log_loss": float(log_loss(y, pc, labels=[0, 1]))}


def max_drawdown(pnl: NDArray[np.float64]) -> float:
    """Largest fall of the cumulative P&L from its running peak (starting at 0), USD per share; >= 0."""
    if pnl.size == 0:
        return math.nan
    cum = np.concatenate(([0.0], np.cumsum(pnl)))
    return float(np.max(np.maximum.accumulate(cum) - cum))


def filter_profit(p: NDArray[np.float64], pnl: NDArray[np.float64], threshold: float) -> dict[str, Any]:
    """P&L of taking every trade vs only those with ``p >= threshold`` (trades in entry order).

    Returns:
        ``{"avg_pnl_all", "avg_pnl_filtered", "n_filtered", "max_drawdown_all", "max_drawdown_filtered"}``,
        USD per share of one short option; averages NaN when no trade is taken.
    """
    take = p >= threshold
    return {
        "avg_pnl_all": float(pnl.mean()) if pnl.size else math.nan,
        "avg_pnl_filtered": float(pnl[take].mean()) if take.any() else math.nan,
        "n_filtered": int(take.sum()),
        "max_drawdown_all": max_drawdown(pnl),
        "max_drawdown_filtered": max_drawdown(pnl[take]),
    }


def calibration_curve(p: NDArray[np.float64], y: NDArray[np.int8], bins: int = 10) -> list[dict[str, Any]]:
    """Reliability diagram data: equal-width bins of ``p`` with ``{"lo", "hi", "n", "mean_p", "win_rate"}``
    (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": int(sel.sum()),
                        "mean_p": float(p[sel].mean()), "win_rate": float(y[sel].mean())})
    return out


def pnl_by_decile(p: NDArray[np.float64], pnl: NDArray[np.float64]) -> list[dict[str, Any]]:
    """Average P&L (USD per share) per decile of ``p`` (1 = lowest probabilities): ``{"decile", "n", "min_p",
    "avg_pnl"}``."""
    if p.size < 10:
        return []
    order = np.argsort(p, kind="stable")
    return [{"decile": k + 1, "n": int(part.size), "min_p": float(p[part].min()), "avg_pnl": float(pnl[part].mean())}
            for k, part in enumerate(np.array_split(order, 10))]


def roc_points(p: NDArray[np.float64], y: NDArray[np.int8], max_points: int = 200) -> list[dict[str, float]]:
    """ROC curve (``sklearn.metrics.roc_curve``) thinned to at most ``max_points`` points, each
    ``{"fpr", "tpr", "threshold"}`` (rates as decimals; the first and last points kept). Empty when
    ``y`` has one class only."""
    from sklearn.metrics import roc_curve

    if np.unique(y).size < 2:
        return []
    fpr, tpr, thr = roc_curve(y, p)
    keep = np.unique(np.linspace(0, fpr.size - 1, min(max_points, fpr.size)).round().astype(int))
    return [{"fpr": float(fpr[i]), "tpr": float(tpr[i]), "threshold": float(min(thr[i], 1.0))} for i in keep]
