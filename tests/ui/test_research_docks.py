"""The research docks on a started AppContext: they follow the shared symbol, say what is missing,
never leave a stale chart or report up, and the chart zooms/pans from the keyboard."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from magnus_desktop.analytics.indicators import rsi
from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.docks import research_chart_dock, research_report_dock, research_scan_dock
from tests.ui.conftest import LoopRunner


def test_chart_follows_the_symbol_and_says_what_is_missing(qtbot, app_vm: AppViewModel, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                           run: LoopRunner) -> None:
    panel = research_chart_dock(app_vm)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    ctx.symbol.set("SPY", "test")
    run.until(lambda: panel.vm.last is not None and panel.vm.last.symbol == "SPY")
    data = panel.vm.last
    assert data.as_of <= ctx.day and data.as_of >= date(2018, 1, 1)
    np.testing.assert_allclose(data.indicators["rsi_14"], rsi(data.close), equal_nan=True)
    assert panel.stack.currentWidget() is panel.chart and panel.symbol_edit.text() == "SPY"
    assert panel.chart.candles.pictures_built >= 1
    assert panel.zone_model.rowCount() == len([z for z in data.zones if z.status != "invalidated"])
    # keyboard zoom and pan
    panel.chart.setFocus()
    lo, hi = panel.chart.x_range()
    qtbot.keyClick(panel.chart, Qt.Key.Key_Up)
    lo2, hi2 = panel.chart.x_range()
    assert hi2 - lo2 < hi - lo
    qtbot.keyClick(panel.chart, Qt.Key.Key_Left)
    assert panel.chart.x_range()[1] < hi2
    # a symbol nobody has: the chart goes away and the dock says why
    ctx.symbol.set("ZZZZ", "test")
    run.until(lambda: panel.stack.currentWidget() is panel.message)
    assert "ZZZZ" in panel.message.text() and panel.zone_model.rowCount() == 0
    # stale bars are labelled (AAPL's recording ends 2018-01-19)
    ctx.clock.jump(date(2018, 2, 6))
    ctx.symbol.set("AAPL", "test")
    run.until(lambda: panel.vm.last is not None and panel.vm.last.symbol == "AAPL" and "AAPL" in panel.status.text())
    assert "not current" in panel.status.text() and "2018-01-19" in panel.status.text()
    # last-bar update repaints one candle, not the cached picture
    built = panel.chart.candles.pictures_built
    panel.chart.candles.set_last(1.0, 2.0, 0.5, 1.5)
    assert panel.chart.candles.pictures_built == built


def test_report_dock_builds_and_exports(qtbot, app_vm: AppViewModel, ctx: AppContext, run: LoopRunner,  # type: ignore[no-untyped-def]
                                        tmp_path: Path) -> None:
    panel = research_report_dock(app_vm)
    qtbot.addWidget(panel)
    panel.show()
    ctx.clock.jump(date(2018, 2, 6))
    run(ctx.refreshed.wait())
    ctx.symbol.set("SPXW", "positions")
    run.until(lambda: panel.vm.document is not None and panel.vm.document["symbol"] == "SPX"
              and panel.vm.document["as_of"] == "2018-02-06", timeout=30)
    doc = panel.vm.document
    assert doc["as_of"] == ctx.day.isoformat() and doc["iv_rank"] is not None
    assert doc["position"] is not None  # the demo account holds SPXW puts
    assert "research report" in panel.browser.toPlainText()
    out = tmp_path / "r.json"
    panel.vm.export(str(out), panel.browser.toHtml())
    run.until(lambda: out.is_file() and out.stat().st_size > 0)
    assert '"analysts"' in out.read_text()


def test_scan_dock_scans_a_file_and_lists_the_missing(qtbot, app_vm: AppViewModel, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                      run: LoopRunner, tmp_path: Path) -> None:
    panel = research_scan_dock(app_vm)
    qtbot.addWidget(panel)
    panel.show()
    f = tmp_path / "u.txt"
    f.write_text("NASDAQ:AAPL, SPY\nGOOG\nNVDA\n")
    panel.sector.setCurrentIndex(0)  # any sector: the other preset bounds stay
    panel.rsi_max.setValue(panel.rsi_max.minimum())
    panel.volume_min.setValue(panel.volume_min.minimum())
    panel.dist_min.setValue(panel.dist_min.minimum())
    panel.start(str(f))
    run.until(lambda: panel.vm.last is not None, timeout=30)
    result = panel.vm.last
    assert {r["symbol"] for r in result.rows} == {"AAPL", "SPY", "GOOG"} and "NVDA" in result.missing
    assert panel.model.rowCount() == 3  # no bound set: everything scanned is listed
    assert "NVDA" in panel.status.text()
    cut = round(sorted(r["rsi_14"] for r in result.rows)[1], 1) + 0.05  # keeps the two lowest RSIs
    panel.rsi_max.setValue(cut)  # filters apply to the rows already scanned
    expected = sum(1 for r in result.rows if r["rsi_14"] <= panel.rsi_max.value())
    assert panel.model.rowCount() == expected and panel.preset.currentText() == "custom filters"
    panel.table.selectRow(0)
    panel._pick(0)  # noqa: SLF001
    assert ctx.symbol.current() == panel.table.record_at(0)["symbol"]


def test_scan_is_cancellable_and_lists_symbols_without_bars(qtbot, app_vm: AppViewModel, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                           run: LoopRunner) -> None:
    panel = research_scan_dock(app_vm)
    qtbot.addWidget(panel)
    panel.show()
    panel.universe.setCurrentText("S&P 500 (bundled list)")
    seen: list[int] = []

    def on_progress(done: int, _total: int) -> None:
        seen.append(done)
        panel.vm.cancel()  # after the first batch

    panel.vm.progress.connect(on_progress)
    panel.start()
    run.until(lambda: panel.vm.last is not None, timeout=60)
    result = panel.vm.last
    assert result.cancelled and seen == [result.scanned] and result.scanned < result.total == 503
    assert "cancelled after" in panel.status.text()
    assert result.missing and all(s not in ("SPY", "AAPL", "GOOG") for s in result.missing)  # offline: no bars
    assert panel.scan_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_dock_closed_while_loading_gets_no_late_signal(qtbot, app_vm: AppViewModel, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                          run: LoopRunner) -> None:
    import shiboken6

    panel = research_chart_dock(app_vm)
    panel.show()
    vm = panel.vm
    ctx.symbol.set("NVDA", "test")  # no bars: the reload ends in the failure branch
    vm.reload()
    shiboken6.delete(panel)  # the dock goes while the fetch is pending
    run.idle(0.5)  # the pending reload finishes without emitting on a deleted object
    assert not shiboken6.isValid(vm)
