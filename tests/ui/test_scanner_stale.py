"""The scanner never lists results for filters other than the ones shown (issue 5, item 9)."""

from __future__ import annotations

import pytest

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.scanner.panel import ScannerPanel
from magnus_desktop.ui.scanner.view_model import ScannerViewModel


@pytest.fixture
def panel(qtbot, scanner_vm: ScannerViewModel) -> ScannerPanel:
    widget = ScannerPanel(scanner_vm)
    qtbot.addWidget(widget)
    widget.resize(1200, 500)
    widget.show()
    widget.model.flush()
    return widget


def rights_shown(panel: ScannerPanel) -> set[str]:
    panel.model.flush()
    col = [c.key for c in panel.model.columns].index("right")
    return {panel.model.index(r, col).data() for r in range(panel.model.rowCount())}


def test_switching_right_to_calls_rescans_without_pressing_scan(qtbot, run, panel, ctx: AppContext) -> None:
    assert rights_shown(panel) == {"P"}
    panel.filters.right.setCurrentIndex(panel.filters.right.findData("C"))
    assert panel.stale and not panel.table.isEnabled()  # marked at once, before the debounce fires
    assert "filters changed" in panel.status.text()
    run.until(lambda: ctx.scanner.last_scan.params.right == "C" and not panel.stale)
    assert panel.table.isEnabled()
    assert ctx.scanner.last_scan.rows.empty or rights_shown(panel) == {"C"}
    assert ctx.settings.scanner.right == "C"


def test_stepping_a_day_with_invalid_filters_keeps_the_table_marked_stale(qtbot, run, panel, ctx) -> None:
    panel.filters.dte_min.setValue(50)
    panel.filters.dte_max.setValue(10)  # min > max: nothing can be scanned
    run.until(lambda: not panel._rescan_timer.isActive())
    assert panel.stale and "not valid" in panel.status.text()
    day = ctx.day
    ctx.clock.step(1)
    run.until(lambda: ctx.scanner.last_scan.day != day)
    run.idle(0.1)
    assert panel.stale, "a day step published old-filter results as if they matched"
    assert "last valid filters" in panel.status.text()
    panel.filters.dte_max.setValue(60)  # fixed: rescans and clears the mark
    run.until(lambda: not panel.stale)
    assert ctx.scanner.last_scan.params.dte_min == 50
