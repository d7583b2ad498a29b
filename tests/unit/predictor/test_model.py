"""Model file: round trip, refusal of another feature set, too little data; the service's own executor."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.services.executors import Executors
from magnus_desktop.services.predictor.dataset import TrainingSet
from magnus_desktop.services.predictor.model import (
    FeatureSetMismatchError,
    ModelFileError,
    NotEnoughDataError,
    PredictorModel,
    train_model,
)
from magnus_desktop.services.predictor.service import PredictorService, load_model_or_fallback


@pytest.fixture(scope="module")
def model(spy_slice: TrainingSet) -> PredictorModel:
    return train_model(spy_slice, rounds=40)


def test_train_is_time_ordered_and_the_file_round_trips(model: PredictorModel, spy_slice: TrainingSet,
                                                        tmp_path: Path) -> None:
    w = model.meta["window"]
    assert w["first_entry"] == str(spy_slice.entry_day.min()) and w["last_entry"] == str(spy_slice.entry_day.max())
    gap = np.datetime64(w["calibration_from"]) - np.datetime64(w["booster_rows_until"])
    assert gap == np.timedelta64(model.meta["purge_days"], "D") and model.meta["purge_days"] == 60
    fold = model.meta["metrics"]["calibration_fold"]
    assert fold["n"] == model.meta["rows"]["calibration"] and 0.5 < fold["auc"] <= 1.0
    path = model.save(tmp_path / "predictor" / "model.json")
    loaded = PredictorModel.load(path)
    x = spy_slice.x[:500]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    p = loaded.predict(x)
    assert np.all((p >= 0) & (p <= 1)) and np.unique(np.round(p, 3)).size > 3
    assert loaded.meta["features"] == list(spy_slice.feature_names)


def test_a_model_of_another_feature_set_is_refused(model: PredictorModel, tmp_path: Path) -> None:
    doc = model.to_json()
    doc["features"] = [*doc["features"][:-1], "put_call_ratio"]
    doc["feature_set"] = "0123456789ab"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FeatureSetMismatchError, match="unknown features: put_call_ratio.*missing features: "
                                                      "days_to_earnings.*retrain.*prob_otm"):
        PredictorModel.load(path)
    loaded, reason = load_model_or_fallback(path)
    assert loaded is None and "prob_otm" in reason
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="not a readable model file"):
        PredictorModel.load(garbage)
    with pytest.raises(ModelFileError, match="predictor train"):
        PredictorModel.load(tmp_path / "absent.json")


def test_too_little_data_says_how_much_is_needed(spy_slice: TrainingSet) -> None:
    small = spy_slice.subset(np.arange(300))
    with pytest.raises(NotEnoughDataError, match=r"300 rows .* need at least 500 rows with 50 of each outcome"):
        train_model(small)
    one_year = spy_slice.subset(spy_slice.entry_day < np.datetime64("2002-01-01"))
    with pytest.raises(NotEnoughDataError, match="booster"):  # all of it would be the calibration fold
        train_model(one_year)


@pytest.mark.asyncio
async def test_service_trains_on_its_own_executor_and_scores(tmp_path: Path) -> None:
    executors = Executors()
    service = PredictorService(executors, model_path=tmp_path / "model.json")
    assert "predictor" in executors.names
    assert "no model file" in await service.load() and service.scorer.model is None
    fallback = service.scorer.score("SPY", date(2005, 6, 1), "P", 110.0, 30)
    assert fallback.p_win is None and 0 < fallback.prob_otm < 1
    threads: set[str] = set()

    def progress(stage: str, fraction: float) -> None:
        threads.add(threading.current_thread().name)

    loop_thread = threading.current_thread().name
    model = await service.train(symbols=("SPY",), start=date(2003, 1, 1), end=date(2006, 12, 31), day_step=7,
                                progress=progress)
    assert threads and all(t.startswith("magnus-predictor") for t in threads) and loop_thread not in threads
    assert (tmp_path / "model.json").is_file() and model.meta["symbols"] == ["SPY"]
    scored = service.scorer.score("SPY", date(2005, 6, 1), "P", 110.0, 30)
    assert scored.p_win is not None and 0 <= scored.p_win <= 1 and scored.model_version == model.version
    assert scored.prob_otm == fallback.prob_otm
    await asyncio.sleep(0)


def test_calibration_never_claims_certainty() -> None:
    from magnus_desktop.services.predictor.model import Calibration

    raw = np.linspace(0.0, 1.0, 200)
    y = (raw > 0.3).astype(np.int8)  # perfectly separable: a plain isotonic fit maps to exactly 0 and 1
    cal = Calibration.fit(raw, y)
    p = cal.apply(np.array([0.0, 0.1, 0.9, 1.0]))
    assert p[0] == pytest.approx(0.5 / 200) and p[-1] == pytest.approx(1 - 0.5 / 200)
    assert np.all(np.diff(cal.apply(raw)) >= 0)
