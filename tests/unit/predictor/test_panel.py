"""The Predictor dock on a real context: the bundled model's card, a real walk-forward evaluation
shown as per-year rows and charts, and Retrain over a window too short to train saying so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from PySide6.QtCore import QDate

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.paths import AppPaths
from magnus_desktop.services.predictor.dataset import TrainingSet
from magnus_desktop.services.predictor.evaluate import evaluate
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.ui.predictor.panel import YEAR_COLUMNS, PredictorPanel
from magnus_desktop.ui.predictor.view_model import PredictorViewModel
from tests.asyncwait import wait_for


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs").ensure()
    context = AppContext(SettingsStore(paths.settings_file), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         paths=paths)
    await context.start(date(2018, 1, 2))
    await context.refreshed.wait()
    await context.predictor.loaded()
    yield context
    await context.aclose()


@pytest.mark.asyncio
async def test_card_evaluation_and_a_too_short_retrain(qtbot, ctx: AppContext, spy_slice: TrainingSet,
                                                       tmp_path: Path) -> None:
    vm = PredictorViewModel(ctx)
    panel = PredictorPanel(vm)
    qtbot.addWidget(panel)
    panel.show()
    card = ctx.predictor.card()
    assert card["source"] == "bundled"
    assert "<b>bundled</b>" in panel.card.text() and card["version"] in panel.card.text()
    assert f"Brier {card['metrics']['brier']:.4f}" in panel.card.text()

    report = evaluate(spy_slice, threshold=0.8, rounds=40)
    panel.show_evaluation({**report, "day_step": 7, "file": "x", "shipped": False})
    years = sorted(report["per_year"])
    assert panel.years.rowCount() == len(years) + 1
    assert [panel.years.item(r, 0).text() for r in range(panel.years.rowCount())] == [*years, "overall"]
    auc_col = 1 + [k for k, _h, _f in YEAR_COLUMNS].index("auc")
    assert panel.years.item(len(years), auc_col).text() == f"{report['overall']['auc']:.3f}"
    assert len(panel.reliability.getPlotItem().listDataItems()) == 2  # the diagonal and the bins
    assert len(panel.roc.getPlotItem().listDataItems()) == 2 and not panel.roc.isHidden()
    panel.grab().save(str(tmp_path / "predictor_dock.png"))

    # a hidden panel (a dock tab behind another) keeps the report and draws it only when shown
    panel.hide()
    panel.show_evaluation({**report, "day_step": 7, "file": "y", "shipped": False})
    assert panel.years.rowCount() == len(years) + 1 and "(x)" in panel.evaluation_note.text()
    panel.show()
    assert "(y)" in panel.evaluation_note.text()
    assert len(panel.roc.getPlotItem().listDataItems()) == 2

    panel.whole_history.setChecked(False)
    panel.start.setDate(QDate(2018, 1, 2))
    panel.end.setDate(QDate(2018, 2, 15))
    model_before = ctx.predictor.scorer.model
    panel.retrain()
    await wait_for(lambda: not vm.busy and "failed" in panel.status.text(), timeout=60)
    assert "Retraining failed" in panel.status.text()
    assert ctx.predictor.scorer.model is model_before  # the bundled model stays
    assert not (tmp_path / "data" / "predictor" / "model.json").exists()


@pytest.mark.asyncio
async def test_magic8_import_from_the_dock_reports_counts_and_bad_files(qtbot, ctx: AppContext, tmp_path: Path) -> None:
    from tests.unit.predictor.test_magic8 import LATEST, _real_rows

    vm = PredictorViewModel(ctx)
    panel = PredictorPanel(vm)
    qtbot.addWidget(panel)
    good = tmp_path / "profit.csv"
    rows = _real_rows("2016-01-04", "2016-02-26", ("Vertical",))
    good.write_text("\n".join([LATEST, *rows, rows[0]]) + "\n")  # one duplicate
    vm.import_magic8([str(good)])
    await wait_for(lambda: not vm.busy and "stored" in panel.status.text(), timeout=60)
    text = panel.status.text()
    assert f"{len(rows)} signals (1 duplicate skipped)" in text and f"{len(rows)} new signals" in text
    assert "Vertical: too little data" in text
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    vm.import_magic8([str(bad)])
    await wait_for(lambda: not vm.busy and "refused" in panel.status.text(), timeout=60)
    assert "notes.csv: unknown layout" in panel.status.text()
