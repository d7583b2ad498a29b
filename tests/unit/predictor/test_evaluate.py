"""Walk-forward evaluation: no split leaks an outcome into a test year; scores and baselines are right."""

from __future__ import annotations

import numpy as np
import pytest

from magnus_desktop.services.predictor.dataset import TrainingSet
from magnus_desktop.services.predictor.evaluate import evaluate, walk_forward_splits
from magnus_desktop.services.predictor.metrics import binary_metrics, filter_profit, max_drawdown
from magnus_desktop.services.predictor.model import NotEnoughDataError

REQUIRED = {"n", "auc", "brier", "log_loss", "brier_bs_prob_otm", "brier_majority", "avg_pnl_all", "avg_pnl_filtered"}


@pytest.mark.parametrize("which", ["spy_slice", "target_slice"])
def test_no_training_outcome_after_a_test_entry(which: str, request: pytest.FixtureRequest) -> None:
    ts: TrainingSet = request.getfixturevalue(which)
    splits = walk_forward_splits(ts.entry_day, ts.outcome_day, purge_days=60)
    assert len(splits) >= 2
    for s in splits:
        first_test_entry = ts.entry_day[s.test].min()
        assert ts.outcome_day[s.train].max() < first_test_entry, s.test_year
        assert ts.entry_day[s.train].max() < first_test_entry - np.timedelta64(60, "D")
        assert ts.outcome_day[s.fit].max() < ts.entry_day[s.calibration].min()  # the fold is purged too
        assert np.intersect1d(s.train, s.test).size == 0
        assert (ts.entry_day[s.test].astype("datetime64[Y]").astype(int) + 1970 == s.test_year).all()


def test_evaluate_reports_each_year_overall_and_the_baselines(spy_slice: TrainingSet) -> None:
    report = evaluate(spy_slice, threshold=0.8, rounds=40)
    years = sorted(report["per_year"])
    assert years[0] == "2003" and years[-1] == "2007"
    for scores in [*report["per_year"].values(), report["overall"]]:
        assert REQUIRED <= set(scores)
        assert scores["n_filtered"] <= scores["n"]
    overall = report["overall"]
    assert overall["n"] == sum(s["n"] for s in report["per_year"].values())
    test = spy_slice.subset(spy_slice.entry_day >= np.datetime64("2003-01-01"))
    assert overall["n"] == len(test)
    assert overall["avg_pnl_all"] == pytest.approx(test.pnl.mean())
    assert overall["brier_bs_prob_otm"] == pytest.approx(np.mean((test.prob_otm - test.y) ** 2))
    # wins are the majority of every training window, so the majority baseline's Brier is the loss rate
    assert overall["brier_majority"] == pytest.approx(1.0 - test.y.mean())
    assert 0.5 < overall["auc"] < 1.0 and overall["brier"] < overall["brier_majority"]
    assert sum(b["n"] for b in report["calibration_curve"]) == overall["n"]
    assert len(report["pnl_by_decile"]) == 10
    assert report["settings"]["purge_days"] == 60
    roc = report["roc"]  # from (0, 0) to (1, 1), both rates rising; its area is the AUC
    assert (roc[0]["fpr"], roc[0]["tpr"], roc[-1]["fpr"], roc[-1]["tpr"]) == (0.0, 0.0, 1.0, 1.0)
    assert all(a["fpr"] <= b["fpr"] and a["tpr"] <= b["tpr"] for a, b in zip(roc, roc[1:], strict=False))
    area = np.trapezoid([r["tpr"] for r in roc], [r["fpr"] for r in roc])
    assert area == pytest.approx(overall["auc"], abs=0.01)  # thinned to 200 points


def test_evaluate_without_enough_history_says_so(spy_slice: TrainingSet) -> None:
    short = spy_slice.subset(spy_slice.entry_day < np.datetime64("2002-06-30"))
    with pytest.raises(NotEnoughDataError, match="each test year needs 2 earlier years"):
        evaluate(short)


def test_metrics_on_hand_checked_numbers() -> None:
    assert max_drawdown(np.array([1.0, -2.0, 1.0, -3.0, 5.0])) == pytest.approx(4.0)  # peak 1, trough -3
    assert max_drawdown(np.array([1.0, 2.0])) == 0.0
    p = np.array([0.9, 0.2, 0.85, 0.5])
    pnl = np.array([1.0, -4.0, 0.5, -1.0])
    out = filter_profit(p, pnl, 0.8)
    assert out["avg_pnl_filtered"] == pytest.approx(0.75) and out["n_filtered"] == 2
    assert out["avg_pnl_all"] == pytest.approx(-0.875) and out["max_drawdown_all"] == pytest.approx(4.5)  # 0, 1, -3, -2.5, -3.5
    m = binary_metrics(np.array([0.9, 0.2, 0.85, 0.5]), np.array([1, 0, 1, 0], dtype=np.int8))
    assert m["auc"] == 1.0 and m["brier"] == pytest.approx((0.01 + 0.04 + 0.0225 + 0.25) / 4)
