"""The NFL model dock: empty until a file is opened; a file is scored off the GUI thread and shown
(per-season table, calibration plot, upcoming and last games); a bad file says why and keeps the last
model; the service's probability_for provider answers for the file's games and after it."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.kalshi import nfl as nfl_module
from magnus_desktop.services.kalshi.nfl_service import EXECUTOR
from magnus_desktop.ui.nfl.panel import EMPTY_TEXT, NflPanel
from magnus_desktop.ui.nfl.view_model import NflViewModel
from tests.ui.conftest import LoopRunner

PLAIN = ("date,season,home,away,home_score,away_score,neutral,playoff\n"
         + "".join(f"{1998 + s}-09-{d:02d},{1998 + s},{h},{a},{hs},{as_},0,0\n"
                   for s in range(4) for d, h, a, hs, as_ in ((6, "KC", "DEN", 24, 17), (13, "DEN", "LV", 30, 10),
                                                              (20, "LV", "KC", 13, 27), (27, "KC", "LV", 3, 0)))
         + "2001-10-04,2001,Gotham,KC,1,2,0,0\n"   # line 18: unknown team
         + "2001-10-11,2001,DEN,KC,,,0,0\n")       # line 19: not played yet


@pytest.fixture
def plain_file(tmp_path: Path) -> Path:
    path = tmp_path / "plain.csv"
    path.write_text(PLAIN)
    return path


def test_loads_scores_and_shows_a_file(qtbot, run: LoopRunner, ctx: AppContext, plain_file: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    threads: list[str] = []
    real_read = nfl_module.read_results

    def spying_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real_read(*args, **kwargs)

    monkeypatch.setattr("magnus_desktop.services.kalshi.nfl_service.read_results", spying_read)
    vm = NflViewModel(ctx)
    panel = NflPanel(vm)
    qtbot.addWidget(panel)
    panel.resize(1000, 560)
    assert panel.status.text() == EMPTY_TEXT and not panel.body.isVisibleTo(panel)
    assert ctx.nfl.probability_for("KC", "DEN", date(2001, 10, 11)) is None  # no file: no number
    panel.load_file(str(plain_file))
    run.until(lambda: panel.seasons.rowCount() > 0)
    assert threads and all(name.startswith(f"magnus-{EXECUTOR}") for name in threads)  # off the GUI thread
    assert panel.body.isVisibleTo(panel)
    assert [panel.seasons.item(r, 0).text() for r in range(panel.seasons.rowCount())] == ["All 2000–2001", "2000", "2001"]
    assert panel.seasons.item(1, 1).text() == "4" and panel.seasons.item(1, 5).text() == "—"  # no spreads in plain
    assert "line 18" in panel.problems.text() and "Gotham" in panel.problems.toolTip()
    assert set(panel.chart.series) == {"Elo"}  # no spread-implied bins without lines
    # upcoming first, then the last played games newest first
    assert panel.games.item(0, 0).text() == "2001-10-11" and panel.games.item(0, 5).text() == "not played"
    assert panel.games.item(1, 0).text() == "2001-09-27" and panel.games.item(1, 5).text() == "3–0"
    evaluation = ctx.nfl.evaluation
    assert evaluation is not None
    unplayed_p = float(evaluation.predictions.elo.home_prob[-1])
    assert panel.games.item(0, 3).text() == f"{unplayed_p:.3f}"
    # the provider: the file's game (either side order), after the file, and nothing inside it
    assert ctx.nfl.probability_for("Denver Broncos", "KC", date(2001, 10, 11)) == pytest.approx(unplayed_p)
    assert ctx.nfl.probability_for("KC", "DEN", date(2001, 10, 11)) == pytest.approx(1 - unplayed_p)
    later = ctx.nfl.probability_for("KC", "LV", date(2001, 12, 2))
    assert later is not None and 0.5 < later < 1  # KC the stronger side at home
    assert ctx.nfl.probability_for("KC", "LV", date(2000, 10, 1)) is None  # inside the file, no such game
    assert ctx.nfl.probability_for("Gotham", "KC", date(2002, 1, 1)) is None
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab().save(str(tmp_path / "elo-panel.png"))


def test_a_bad_file_says_why_and_keeps_the_last_model(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                      plain_file: Path, tmp_path: Path) -> None:
    vm = NflViewModel(ctx)
    panel = NflPanel(vm)
    qtbot.addWidget(panel)
    panel.load_file(str(plain_file))
    run.until(lambda: panel.seasons.rowCount() > 0)
    before = ctx.nfl.evaluation
    bad = tmp_path / "bad.csv"
    bad.write_text("team,points\nKC,3\n")
    panel.load_file(str(bad))
    run.until(lambda: "Could not use the file" in panel.status.text())
    assert "unknown layout" in panel.status.text() and "previous file" in panel.status.text()
    assert ctx.nfl.evaluation is before and panel.seasons.rowCount() == 3
    assert panel.open_button.isEnabled()
    # a second panel on the same context shows the loaded model at once
    again = NflPanel(NflViewModel(ctx))
    qtbot.addWidget(again)
    assert again.seasons.rowCount() == 3


def test_real_spreadspoke_in_the_panel(qtbot, run: LoopRunner, ctx: AppContext, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = NflViewModel(ctx)
    panel = NflPanel(vm)
    qtbot.addWidget(panel)
    panel.resize(1000, 560)
    panel.load_file(str(shared_data / "nfl/spreadspoke_scores_1966-2025.csv"))
    run.until(lambda: panel.seasons.rowCount() > 0, timeout=30)
    assert panel.seasons.item(0, 0).text() == "All 2000–2025" and panel.seasons.rowCount() == 27
    overall = ctx.nfl.evaluation.overall  # type: ignore[union-attr]
    assert panel.seasons.item(0, 2).text() == f"{overall.brier:.4f}" and overall.brier < 0.25
    assert set(panel.chart.series) == {"Elo", "spread-implied"}
    assert "ambiguous" in panel.problems.text()
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab().save(str(tmp_path / "elo-panel-real.png"))
