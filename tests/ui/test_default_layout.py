"""The real main window at 1920 x 1080 shows every default column in full; it fits 1280 x 720."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QApplication

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.widgets.table_view import RecordTableView
from tests.ui.conftest import LoopRunner


def build(qtbot, vm: AppViewModel, run: LoopRunner, width: int, height: int) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(vm)
    qtbot.addWidget(win)
    win.resize(width, height)
    win.show()
    run(vm.ctx.refresh_now())
    summary = vm.ctx.portfolio.last_summary
    assert summary is not None and summary.positions
    run.until(lambda: win.panel("dock_positions").model.rowCount() == len(summary.positions))
    run.until(lambda: win.panel("dock_scanner").model.rowCount() > 0)
    run.until(lambda: win.panel("dock_watchlists").model.rowCount() > 0
              and all(r["state"] != "pending" for r in win.panel("dock_watchlists").model.records()))
    run.idle(0.3)  # column fitting runs one loop turn after the rows arrive
    QApplication.processEvents()
    return win


#: the research desk's docks (options flow, calendars, earnings, sectors), behind other tabs by default
RESEARCH_DESK_TABLES = {"research_flow_table", "research_calendars_table", "research_earnings_calendar",
                        "research_earnings_risk", "research_earnings_reactions", "research_sectors_allocation",
                        "research_sectors_strength"}


def tables(win: MainWindow) -> dict[str, RecordTableView]:
    return {"positions": win.panel("dock_positions").table, "scanner": win.panel("dock_scanner").table, "watchlist": win.panel("dock_watchlists").table}


def test_every_table_has_a_fixed_object_name(qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    win = build(qtbot, app_vm, run, 1680, 1000)
    names = {t.objectName() for t in tables(win).values()}
    assert names == {"positions_table", "scanner_table", "watchlists_symbols"}
    history = {"history_lots_table", "history_wheel_table"}  # the trade-history dock's tabs
    kalshi = {"kalshi_markets", "kalshi_book_yes", "kalshi_book_no", "kalshi_positions", "kalshi_orders",
              "kalshi_fills"}  # the Kalshi dock's tabs
    assert {t.objectName() for t in win.findChildren(RecordTableView)} == (
        names | history | kalshi | {"orders_table", "audit_table", "alerts_table", "research_zones",
                                     "research_scan_table"} | RESEARCH_DESK_TABLES)


def assert_columns_fit(win: MainWindow) -> None:
    for name, table in tables(win).items():
        header = table.horizontalHeader()
        metrics = header.fontMetrics()
        visible = table.visible_columns()
        assert visible, name
        for i in visible:
            col = table.source_model.columns[i]
            size = header.sectionSize(i)
            assert size >= min(table.sizeHintForColumn(i), col.max_width), f"{name}.{col.key}: {size} px"
            assert size >= metrics.horizontalAdvance(col.title), f"{name}.{col.key} header: {size} px"
            assert size <= max(table.column_width_needed(i), 100) + 2, f"{name}.{col.key} stretched to {size} px"
        # no column scrolled out of sight: all visible sections fit the viewport side by side
        assert header.length() <= table.viewport().width(), f"{name}: {header.length()} > {table.viewport().width()}"
        assert not header.stretchLastSection()


def test_at_1920x1080_every_visible_column_shows_its_contents(qtbot, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                                             run: LoopRunner) -> None:
    win = build(qtbot, app_vm, run, 1920, 1080)
    assert (win.width(), win.height()) == (1920, 1080)
    assert_columns_fit(win)


def test_at_1920x1080_stale_watchlist_rows_fit_too(qtbot, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                                   run: LoopRunner) -> None:
    """2018-01-22: AAPL/GOOG recordings end 01-19, so their rows show the longer "as of" texts."""
    win = build(qtbot, app_vm, run, 1920, 1080)
    clock = app_vm.ctx.clock
    assert clock is not None
    clock.jump(date(2018, 1, 22))
    run.until(lambda: any(r["state"] == "stale" for r in win.panel("dock_watchlists").model.records()))
    run.until(lambda: "2018-01-22" in win.panel("dock_positions").header.text())
    run.idle(0.8)  # widening re-checks run at most twice a second
    assert_columns_fit(win)


def test_default_columns_include_the_ones_traders_asked_for(qtbot, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                                           run: LoopRunner) -> None:
    win = build(qtbot, app_vm, run, 1920, 1080)
    shown = {name: {t.source_model.columns[i].key for i in t.visible_columns()} for name, t in tables(win).items()}
    assert {"und_price", "collateral", "vega"} <= shown["positions"]
    assert {"change_pct", "volume", "as_of"} <= shown["watchlist"]
    assert "score" in shown["scanner"]
    vega = next(i for i, c in enumerate(win.panel("dock_positions").model.columns) if c.key == "vega")
    for row in range(win.panel("dock_positions").model.rowCount()):  # "-$100.19", never an elided "-…"
        text = win.panel("dock_positions").table.proxy.index(row, vega).data()
        assert win.panel("dock_positions").table.columnWidth(vega) >= win.panel("dock_positions").table.fontMetrics().horizontalAdvance(text)


def test_window_fits_a_1280x720_laptop(qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    win = build(qtbot, app_vm, run, 1280, 720)
    assert win.minimumSizeHint().width() <= 1280
    assert win.width() == 1280
    for name, dock in win.docks.items():
        assert dock.isVisible(), name
        assert dock.width() >= dock.minimumSizeHint().width(), name
