"""The trade-history dock and the import dialog on the real broker exports."""

from __future__ import annotations

from pathlib import Path

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.history import store
from magnus_desktop.services.imports import count_rows, import_file
from magnus_desktop.ui.history.import_dialog import ImportDialog
from magnus_desktop.ui.history.panel import HistoryPanel
from magnus_desktop.ui.history.view_model import HistoryViewModel, ImportViewModel
from tests.ui.conftest import LoopRunner

ROOT = Path(__file__).resolve().parents[2]
FLEX = ROOT / "tests" / "data" / "ibkr_flex_TestForCoding_20181109.xml"
RH_NAME = "broker_exports/robinhood_activity_Dec2023.csv"


def _panel(qtbot, ctx: AppContext) -> HistoryPanel:  # type: ignore[no-untyped-def]
    vm = HistoryViewModel(ctx)
    panel = HistoryPanel(vm, ImportViewModel(ctx, vm))
    vm.setParent(panel)
    qtbot.addWidget(panel)
    panel.resize(1100, 420)
    panel.show()
    return panel


def test_dock_shows_closed_trades_wheel_and_months_of_the_real_exports(
        qtbot, ctx: AppContext, run: LoopRunner, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert ctx.db is not None
    import_file(ctx.db, FLEX)
    import_file(ctx.db, shared_data / RH_NAME)
    panel = _panel(qtbot, ctx)
    run.until(lambda: panel.shown_snapshot is not None and panel.shown_snapshot.events > 0)
    snap = panel.shown_snapshot
    assert snap is not None
    assert snap.accounts == ["U1234567", "robinhood"]
    # one account at a time (each has its own base currency): the Robinhood SPY options bought and
    # sold are closed lots, December 2023 has a bar, and no short option means no wheel cycle
    panel.account.setCurrentText("robinhood")
    rh = [m for m in snap.matches if m.account == "robinhood"]
    run.until(lambda: panel.lots.rowCount() == len(rh) > 0)
    assert {r["method"] for r in panel.lots.records()} == {"FIFO"}
    assert any(r["symbol"].startswith("SPY") for r in panel.lots.records())
    assert panel.chart.month_axis.months == ["2023-12"]
    assert panel.chart.values == [sum(m.realized for m in rh)]
    run.until(lambda: panel.cycles.rowCount() == 0)
    assert "lot method FIFO" in panel.header.text()
    panel.grab().save(str(tmp_path / "history_dock_rh.png"))
    # the IBKR short put (Z, GBP) is an open wheel cycle at "put sold"
    panel.account.setCurrentText("U1234567")
    run.until(lambda: panel.cycles.rowCount() == 1)
    assert [(r["underlying"], r["stage"]) for r in panel.cycles.records()] == [("Z", "put sold")]
    panel.tabs.setCurrentIndex(1)
    panel.grab().save(str(tmp_path / "history_dock_wheel.png"))


def test_import_dialog_previews_then_imports_and_the_dock_refreshes(
        qtbot, ctx: AppContext, run: LoopRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    run.until(lambda: panel.shown_snapshot is not None)
    dialog = ImportDialog(panel.import_vm, panel)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.path.setText(str(FLEX))
    dialog.preview()
    run.until(lambda: dialog.import_button.isEnabled())
    assert "Would import 15 events" in dialog.preview_label.toPlainText()
    assert "Detected: IBKR Flex Query XML" in dialog.detected.text()
    assert count_rows(ctx.db)["history_events"] == 0  # the preview stored nothing
    dialog.grab().save(str(tmp_path / "import_preview.png"))
    dialog.start_import()
    run.until(lambda: panel.shown_snapshot is not None and panel.shown_snapshot.events == 15)
    assert "Imported 15 events" in dialog.preview_label.toPlainText()
    assert count_rows(ctx.db)["history_events"] == 15


def test_bad_file_shows_file_and_line_and_stores_nothing(
        qtbot, ctx: AppContext, run: LoopRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, ctx)
    bad = tmp_path / "truncated.xml"
    bad.write_text(FLEX.read_text()[:20_000])
    dialog = ImportDialog(panel.import_vm, panel)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(bad))
    dialog.preview()
    run.until(lambda: dialog.error.isVisibleTo(dialog))
    assert "truncated.xml, line" in dialog.error.text() and "nothing was imported" in dialog.error.text()
    assert not dialog.import_button.isEnabled()
    dialog.vm.run_import(str(bad), None, "")  # importing it anyway is refused too
    run.idle(0.5)
    assert count_rows(ctx.db)["history_events"] == 0


def test_a_second_open_reads_the_stored_snapshot_and_shows_the_same(
        qtbot, ctx: AppContext, run: LoopRunner, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    assert ctx.db is not None
    import_file(ctx.db, FLEX)
    import_file(ctx.db, shared_data / RH_NAME)

    def shown(panel: HistoryPanel) -> list[tuple[str, list[dict], list[dict], list[float], str]]:
        out = []
        for account in ("U1234567", "robinhood"):
            panel.account.setCurrentText(account)
            panel.lots.flush()
            panel.cycles.flush()
            out.append((account, panel.lots.records(), panel.cycles.records(), list(panel.chart.values),
                        panel.header.text()))
        return out

    first = _panel(qtbot, ctx)  # computes from the events, then stores the snapshot
    run.until(lambda: first.shown_snapshot is not None and first.shown_snapshot.events > 0)
    assert not ctx.history.from_stored
    computed, computed_view = first.shown_snapshot, shown(first)
    run.until(lambda: store.read_stored(ctx.db)[1] is not None)  # written back on the db executor
    second = _panel(qtbot, ctx)
    run.until(lambda: second.shown_snapshot is not None and second.shown_snapshot is not computed)
    assert ctx.history.from_stored
    assert second.shown_snapshot == computed
    assert shown(second) == computed_view
    assert all(records for _a, records, _c, _v, _h in computed_view)
