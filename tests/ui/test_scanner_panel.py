"""Scanner dock against a real Workstation (temp SQLite, bundled SPXW replay) on a qasync loop."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox

from magnus_desktop.analytics.scanner import ScanParams, scan
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.scanner import loosen_hints
from magnus_desktop.services.settings import SettingsStore
from magnus_desktop.ui.orders.ticket import OrderTicketDialog
from magnus_desktop.ui.scanner.panel import (
    SCAN_TABLE_COLUMNS,
    ScannerPanel,
    contract_from_record,
)
from magnus_desktop.ui.scanner.view_model import ScannerViewModel
from magnus_desktop.widgets.table_model import SORT_ROLE

COL = {c.key: i for i, c in enumerate(SCAN_TABLE_COLUMNS)}


@pytest.fixture
def panel(qtbot, scanner_vm: ScannerViewModel) -> ScannerPanel:
    widget = ScannerPanel(scanner_vm)
    qtbot.addWidget(widget)
    widget.resize(1200, 500)
    widget.show()
    widget.model.flush()
    return widget


def shown(panel: ScannerPanel, key: str) -> list[str]:
    """Display texts of one column, in view (proxy) order."""
    proxy = panel.table.proxy
    return [proxy.index(r, COL[key]).data() for r in range(proxy.rowCount())]


def sort_values(panel: ScannerPanel, key: str) -> list[object]:
    proxy = panel.table.proxy
    return [proxy.index(r, COL[key]).data(SORT_ROLE) for r in range(proxy.rowCount())]


def rescan_with(qtbot, run, panel: ScannerPanel, ws: AppContext, widget: QAbstractSpinBox) -> None:
    """Press Enter in ``widget`` and wait until the ctx published the new scan."""
    before = ws.scanner.last_scan
    qtbot.keyClick(widget, Qt.Key.Key_Return)  # the spin box passes Return on to the filter bar
    run.until(lambda: ws.scanner.last_scan is not before)
    panel.model.flush()


def test_panel_shows_the_real_scan_of_the_first_replay_day(panel, ctx, qtmodeltester) -> None:
    rows = ctx.scanner.last_scan.rows
    assert ctx.scanner.last_scan.day.isoformat() == "2018-01-02"
    assert len(rows) > 0
    qtmodeltester.check(panel.model)
    assert panel.model.rowCount() == len(rows)
    # default view order is by score, descending — the scanner's ranking
    assert [float(s) for s in sort_values(panel, "score")] == pytest.approx(list(rows["score"]))
    assert sort_values(panel, "strike") == list(rows["strike"])
    first = rows.iloc[0]
    assert shown(panel, "iv")[0] == f"{first['iv'] * 100:.1f}%"
    assert shown(panel, "delta")[0] == f"{first['delta']:.3f}"
    assert shown(panel, "prob_otm")[0] == f"{first['prob_otm'] * 100:.1f}%"
    assert shown(panel, "expiry")[0] == first["expiry"].date().isoformat()
    assert panel.status.text() == f"{len(rows)} opportunities on 2018-01-02 (SPXW chain, recorded EOD quotes)"


def test_header_tooltips_explain_the_definitions(panel) -> None:
    tip = {c.key: panel.model.headerData(COL[c.key], Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
           for c in SCAN_TABLE_COLUMNS}
    assert all(tip.values())
    assert "N(d2)" in tip["prob_otm"] and "N(−d2)" in tip["prob_otm"]
    assert "premium / strike" in tip["return_on_collateral"]
    assert "365" in tip["annualized_return"]
    assert "prob. OTM" in tip["score"] and "spread" in tip["score"]


def test_sorting_is_numeric_not_by_text(panel) -> None:
    panel.table.sortByColumn(COL["open_interest"], Qt.SortOrder.AscendingOrder)
    oi = [float(t.replace(",", "")) for t in shown(panel, "open_interest")]
    assert oi == sorted(oi)
    assert any(len(t) > 3 for t in shown(panel, "open_interest"))  # "19,186" after "238": text sort would fail
    panel.table.sortByColumn(COL["delta"], Qt.SortOrder.DescendingOrder)
    deltas = [float(t) for t in shown(panel, "delta")]
    assert deltas == sorted(deltas, reverse=True)


def test_enter_in_the_filters_rescans_narrower_and_persists(qtbot, run, panel, ctx) -> None:
    before = len(ctx.scanner.last_scan.rows)
    panel.filters.delta_max.setValue(0.20)
    panel.filters.min_oi.setValue(1000)
    rescan_with(qtbot, run, panel, ctx, panel.filters.min_oi)
    params = ctx.scanner.last_scan.params
    assert (params.delta_max, params.min_open_interest) == (0.20, 1000.0)
    assert (params.rate, params.div_yield) == (ctx.settings.risk_free_rate, ctx.settings.dividend_yield)
    expected = scan(ctx.market.chain(ctx.day), params, as_of=ctx.day)
    assert 0 < len(expected) < before
    assert panel.model.rowCount() == len(expected)
    assert all(abs(float(t)) <= 0.20 for t in shown(panel, "delta"))
    assert all(float(t.replace(",", "")) >= 1000 for t in shown(panel, "open_interest"))
    ctx.settings_store.save(ctx.settings)
    reloaded = SettingsStore(ctx.settings_store.path).load().scanner
    assert (reloaded.delta_max, reloaded.min_open_interest) == (0.20, 1000.0)


def test_calls_and_mid_premium(run, panel, ctx) -> None:
    panel.filters.right.setCurrentIndex(panel.filters.right.findData("C"))
    panel.filters.source.setCurrentIndex(panel.filters.source.findData("mid"))
    panel.filters.scan_button.click()
    run.until(lambda: ctx.scanner.last_scan.params.right == "C")
    panel.model.flush()
    assert panel.model.rowCount() > 0
    assert set(shown(panel, "right")) == {"C"}
    rec = panel.model.record(0)
    assert rec["return_on_collateral"] == pytest.approx(rec["mid"] / rec["strike"])


def test_nothing_passes_says_which_filter_to_loosen(run, panel, ctx) -> None:
    panel.filters.min_annual.setValue(500.0)  # 500 % a year
    panel.filters.scan_button.click()
    run.until(lambda: ctx.scanner.last_scan.params.min_annualized_return == 5.0)
    panel.model.flush()
    assert panel.model.rowCount() == 0
    relaxed = replace(ctx.scanner.last_scan.params, min_annualized_return=0.0)
    would = len(scan(ctx.market.chain(ctx.day), relaxed, as_of=ctx.day))
    text = panel.status.text()
    assert text.startswith("No contract passes the filters on 2018-01-02")
    assert f"lower min annualized return (now 500%): {would} would pass" in text
    assert "DTE" not in text  # only the filter to blame is named
    assert panel.results.currentWidget() is panel.empty_label and panel.empty_label.text() == text


def test_loosen_hints_without_a_chain_name_every_tight_filter() -> None:
    hints = loosen_hints(ScanParams(right="P", dte_min=0, dte_max=3650, delta_min=0.0, delta_max=1.0,
                                    min_open_interest=10, max_spread_pct=0.1))
    assert hints == ["include both puts and calls", "lower min OI (now 10)", "raise max spread (now 10%)"]


def test_inconsistent_filters_are_reported_and_not_sent(run, panel, ctx) -> None:
    sent = ctx.scanner.scan_params
    panel.filters.dte_min.setValue(50)
    panel.filters.dte_max.setValue(10)
    assert panel.request_scan() is None
    run.idle(0.1)
    assert ctx.scanner.scan_params is sent
    assert "field dte_max: must be at least the minimum DTE (50)" in panel.status.text()
    assert "pydantic" not in panel.status.text()
    assert ctx.settings.scanner.dte_min != 50


def test_double_click_opens_a_prefilled_sell_ticket(qtbot, panel, ctx) -> None:
    panel.table.sortByColumn(COL["strike"], Qt.SortOrder.AscendingOrder)
    rect = panel.table.visualRect(panel.table.proxy.index(2, COL["strike"]))
    # a real double click: press/release, then the double-click event on the same cell
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = panel.ticket_dialog
    assert isinstance(dialog, OrderTicketDialog) and dialog.isVisible()
    row = ctx.scanner.last_scan.rows.sort_values("strike").iloc[2]
    assert dialog.contract == OptionContract("SPXW", row["expiry"].date(), float(row["strike"]), "P")
    assert (dialog.action.currentText(), dialog.qty.value()) == ("SELL", 1)
    assert math.isnan(dialog.limit_price())
    dialog.reject()


def test_sell_button_uses_the_selected_row_and_needs_one(panel) -> None:
    panel.table.clearSelection()
    assert panel.open_ticket() is None
    assert "Select a row" in panel.status.text()
    panel.table.selectRow(0)
    panel.sell_button.click()
    assert panel.ticket_dialog is not None
    assert panel.ticket_dialog.contract.strike == panel.table.record_at(0)["strike"]
    panel.ticket_dialog.reject()


def test_enter_on_the_table_opens_the_ticket(qtbot, panel) -> None:
    panel.activateWindow()
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)
    panel.table.selectRow(1)
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert panel.ticket_dialog is not None
    assert panel.ticket_dialog.contract == contract_from_record(panel.table.record_at(1))
    panel.ticket_dialog.reject()


def test_render_offscreen(tmp_path, panel) -> None:
    image = panel.grab()
    assert image.save(str(tmp_path / "scanner_panel.png"))
    header = panel.table.horizontalHeader()
    metrics = header.fontMetrics()
    for c in SCAN_TABLE_COLUMNS:  # no header is cut off
        assert header.sectionSize(COL[c.key]) >= metrics.horizontalAdvance(c.title)



@pytest.mark.parametrize("day", ["2018-01-31", "2018-02-28"])
def test_expiry_day_without_later_expiries_says_so_once(run, panel, app_vm, ctx, day) -> None:
    """On 31 Jan and 28 Feb the recorded chain holds only that day's expiry: no filter helps."""
    from datetime import date

    target = date.fromisoformat(day)
    chain = ctx.market.chain(target)
    assert set(chain["expiry"].dt.date) == {target}  # the recorded data, not an assumption
    app_vm.jump(target)
    run.until(lambda: ctx.scanner.last_scan is not None and ctx.scanner.last_scan.day == target)
    panel._on_vm_scan_changed(ctx.scanner.last_scan)
    text = panel.status.text()
    last = ctx.clock.days[-1]
    assert f"No expiries after {day} in the" in text and f"(last recorded day {last.isoformat()})" in text
    assert text.count("No expiries") == 1 and "DTE" not in text and "Loosen" not in text
    assert ("step the replay forward" in text) == (target < last)
    assert panel.empty_label.text() == text


def test_the_outcome_carries_its_rows_as_records_converted_off_the_gui_thread(ctx) -> None:
    outcome = ctx.scanner.last_scan
    assert len(outcome.records) == len(outcome.rows) > 0
    first, row = outcome.records[0], outcome.rows.iloc[0]
    assert first["expiry"] == row["expiry"].date() and type(first["expiry"]).__name__ == "date"
    assert first["strike"] == row["strike"] and first["score"] == row["score"]


# ---- filters never disagree with the table (issue 5, item 9) ----------------------------------
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


def test_p_win_column_shows_with_a_model_and_names_it(run, panel, ctx) -> None:
    """The bundled model scores the scan: the p_win column is shown, its header tooltip names the model
    and its out-of-sample Brier. Without a model (here: the predictor's scorer replaced by one without)
    the next scan hides the column and the tooltip says why."""
    from magnus_desktop.services.predictor.scoring import CandidateScorer

    scan = ctx.scanner.last_scan
    assert scan.has_p_win
    col = COL["p_win"]
    assert not panel.table.isColumnHidden(col)
    assert panel.table.columnWidth(col) >= panel.table.sizeHintForColumn(col)
    tip = panel.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "out-of-sample Brier" in tip and "(bundled)" in tip
    assert shown(panel, "p_win")[0] == f"{scan.rows['p_win'].iloc[0] * 100:.1f}%"

    ctx.predictor.scorer = CandidateScorer(ctx.market, None, "no model file (test)")
    before = ctx.scanner.last_scan
    panel.vm.rescan(ctx.scanner.scan_params)
    run.until(lambda: ctx.scanner.last_scan is not before)
    assert panel.table.isColumnHidden(col)
    tip = panel.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "p_win unavailable: no model file (test)" in tip
