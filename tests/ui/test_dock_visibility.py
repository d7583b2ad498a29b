"""``follow_dock_visibility``: a panel in a dock tab behind another is not seen, raising its tab makes
it seen, hiding it is unseen; outside a dock, shown is seen. The Performance panel uses it (it
used to count a tab behind another as seen and computed while hidden)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.performance.panel import PerformancePanel
from magnus_desktop.ui.performance.view_model import PerformanceViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from tests.ui.conftest import LoopRunner


def _tabbed(qtbot, front: QWidget, behind: QWidget) -> tuple[QMainWindow, QDockWidget, QDockWidget]:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    window.setCentralWidget(QWidget())
    qtbot.addWidget(window)
    docks = []
    for name, panel in (("front", front), ("behind", behind)):
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[1], docks[0])  # the later one's tab in front
    docks[0].raise_()
    window.resize(800, 500)
    return window, docks[0], docks[1]


def test_a_tab_behind_another_is_not_seen_and_raising_it_is(qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, list[bool]] = {"front": [], "behind": []}
    front, behind = QWidget(), QWidget()
    follow_dock_visibility(front, seen["front"].append)
    follow_dock_visibility(behind, seen["behind"].append)
    window, front_dock, behind_dock = _tabbed(qtbot, front, behind)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: bool(seen["front"]) and bool(seen["behind"]))
    assert behind.isVisible()  # Qt counts the tab behind as visible: not what "seen" means
    assert seen["front"][-1] is True
    assert True not in seen["behind"]  # not even for a moment (a report would start computing)
    behind_dock.raise_()
    qtbot.waitUntil(lambda: seen["behind"][-1] is True and seen["front"][-1] is False)
    behind_dock.close()
    qtbot.waitUntil(lambda: seen["behind"][-1] is False)


def test_outside_a_dock_shown_is_seen_and_hidden_is_not(qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: list[bool] = []
    panel = QWidget()
    follow_dock_visibility(panel, seen.append)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: seen == [True])
    panel.hide()
    assert seen == [True, False]


def test_performance_does_not_compute_behind_another_tab(qtbot, ctx: AppContext, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    asked: list[bool] = []
    set_paused = ctx.performance.set_paused

    def record(paused: bool) -> None:
        asked.append(paused)
        set_paused(paused)

    ctx.performance.set_paused = record  # type: ignore[method-assign]
    vm = PerformanceViewModel(ctx)
    panel = PerformancePanel(vm)
    vm.setParent(panel)
    window, front_dock, behind_dock = _tabbed(qtbot, QWidget(), panel)
    window.show()
    qtbot.waitExposed(window)
    run.idle(0.3)
    assert ctx.performance.paused  # behind the other tab: paused, nothing computed for nobody
    assert ctx.performance.last_report is None and False not in asked  # never unpaused
    behind_dock.raise_()
    run.until(lambda: not ctx.performance.paused)
    front_dock.raise_()
    run.until(lambda: ctx.performance.paused)


def test_the_predictor_draws_its_evaluation_only_once_its_tab_is_raised(qtbot, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    """The evaluation charts cost 50-140 ms of GUI time: a Predictor tab behind another keeps the
    report and draws it when raised (it arrives at start-up, while the trader looks at the scanner)."""
    from magnus_desktop.ui.predictor.panel import PredictorPanel
    from magnus_desktop.ui.predictor.view_model import PredictorViewModel

    panel = PredictorPanel(PredictorViewModel(ctx))
    window, _front_dock, behind_dock = _tabbed(qtbot, QWidget(), panel)
    window.show()
    qtbot.waitExposed(window)
    report = {"overall": {"auc": 0.61}, "per_year": {"2016": {"auc": 0.6}}, "roc": [{"fpr": 0.0, "tpr": 0.0},
              {"fpr": 1.0, "tpr": 1.0}], "calibration_curve": [], "pnl_by_decile": [], "settings": {}}
    panel.show_evaluation(report)
    qtbot.wait(50)
    assert panel.years.rowCount() == 0 and panel.roc.getPlotItem().listDataItems() == []
    behind_dock.raise_()
    # (the view model may have delivered the stored evaluation meanwhile: whichever came last is drawn)
    qtbot.waitUntil(lambda: panel.years.rowCount() >= 2)
    assert len(panel.roc.getPlotItem().listDataItems()) == 2  # the diagonal and the curve
