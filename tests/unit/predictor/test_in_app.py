"""The predictor in the app: the scanner's ``p_win`` column from the bundled model (or the trader's own),
absent with a reason when there is no usable model, and the bundled model valid for this feature set."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.paths import AppPaths
from magnus_desktop.services.predictor.model import PredictorModel
from magnus_desktop.services.predictor.service import BUNDLED_MODEL
from magnus_desktop.services.settings import Settings, SettingsStore

DAY = date(2018, 2, 6)


async def _context(tmp_path: Path, bundled: Path | None) -> AppContext:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs").ensure()
    ctx = AppContext(SettingsStore(paths.settings_file), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}",
                     paths=paths)
    ctx.predictor.bundled_model = bundled
    await ctx.start(DAY)
    await ctx.refreshed.wait()
    await ctx.predictor.loaded()
    await ctx.scanner.idle()
    return ctx


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    context = await _context(tmp_path, BUNDLED_MODEL)
    yield context
    await context.aclose()


def test_the_bundled_model_is_of_this_feature_set() -> None:
    model = PredictorModel.load(BUNDLED_MODEL)  # FeatureSetMismatchError when the features changed: retrain it
    assert model.oos_brier is not None and 0.0 < model.oos_brier < 0.25
    assert "file" not in model.meta  # no machine-local path shipped


@pytest.mark.asyncio
async def test_scanner_rows_get_p_win_from_the_bundled_model(ctx: AppContext) -> None:
    scan = ctx.scanner.last_scan
    assert scan is not None and scan.day == DAY and scan.has_p_win and len(scan.rows) > 10
    assert "(bundled)" in scan.p_win_note and "out-of-sample Brier 0.1" in scan.p_win_note
    p = scan.rows["p_win"].to_numpy(float)
    assert np.isfinite(p).all() and ((p > 0) & (p < 1)).all()
    assert all("p_win" in r for r in scan.records)
    # a put further out of the money (smaller |delta|) wins at least as often, by the model's ranking
    delta = np.abs(scan.rows["delta"].to_numpy(float))
    rank_corr = np.corrcoef(np.argsort(np.argsort(delta)), np.argsort(np.argsort(p)))[0, 1]
    assert rank_corr < -0.5
    assert ctx.predictor.bundled and ctx.predictor.source == BUNDLED_MODEL
    shipped = await ctx.predictor.stored_evaluation()  # the bundled model's walk-forward evaluation
    assert shipped is not None and shipped["shipped"] and shipped["overall"]["n"] == sum(
        s["n"] for s in shipped["per_year"].values())


@pytest.mark.asyncio
async def test_the_traders_own_model_replaces_the_bundled_one(tmp_path: Path) -> None:
    own = tmp_path / "data" / "predictor" / "model.json"
    own.parent.mkdir(parents=True)
    shutil.copy(BUNDLED_MODEL, own)
    ctx = await _context(tmp_path, BUNDLED_MODEL)
    try:
        assert ctx.predictor.source == own and not ctx.predictor.bundled
        scan = ctx.scanner.last_scan
        assert scan is not None and scan.has_p_win and "(bundled)" not in scan.p_win_note
    finally:
        await ctx.aclose()


@pytest.mark.asyncio
async def test_without_a_usable_model_the_scan_has_no_p_win_and_says_why(tmp_path: Path) -> None:
    own = tmp_path / "data" / "predictor" / "model.json"
    own.parent.mkdir(parents=True)
    doc = json.loads(BUNDLED_MODEL.read_text())
    doc["feature_set"] = "an-older-feature-set"
    own.write_text(json.dumps(doc))
    ctx = await _context(tmp_path, None)
    try:
        scan = ctx.scanner.last_scan
        assert scan is not None and not scan.has_p_win and "p_win" not in scan.rows.columns
        assert "an-older-feature-set" in scan.p_win_note and "prob_otm" in scan.p_win_note
        assert len(scan.rows) > 0 and all("p_win" not in r for r in scan.records)
    finally:
        await ctx.aclose()
