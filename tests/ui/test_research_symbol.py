"""Picking a symbol in the watchlists, positions, scanner or the Ctrl+K palette sets the one shared
research symbol (``ctx.symbol``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.palette import CommandPalette
from tests.ui.conftest import LoopRunner
from tests.ui.test_main_window import window  # noqa: F401  (fixture)


def _events(win: MainWindow) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    win.vm.ctx.symbol.subscribe(lambda s, src: seen.append((s, src)))
    return seen


def test_positions_and_scanner_rows_set_the_research_symbol(qtbot, window: MainWindow,  # noqa: F811
                                                             run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    seen = _events(window)
    window.vm.ctx.symbol.set("AAPL", "test")
    positions = window.panel("dock_positions").table
    run.until(lambda: positions.model().rowCount() > 0)
    positions.selectRow(0)
    record = positions.selected_record()
    assert record is not None
    assert window.vm.ctx.symbol.current() == "SPX"  # the SPXW option's underlying index
    assert seen[-1] == ("SPX", "positions")
    window.vm.ctx.symbol.set("AAPL", "test")
    scanner = window.panel("dock_scanner").table
    run.until(lambda: scanner.model().rowCount() > 0)
    scanner.selectRow(0)
    assert seen[-1] == ("SPX", "scanner")


def test_watchlist_symbol_sets_the_research_symbol(qtbot, window: MainWindow, run: LoopRunner) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    seen = _events(window)
    panel = window.panel("dock_watchlists")
    run.until(lambda: panel.table.model().rowCount() > 0)
    for row in range(panel.table.model().rowCount()):
        panel.table.selectRow(row)
        record = panel.table.selected_record()
        assert window.vm.ctx.symbol.current() == str(record["symbol"]).upper()
    assert seen and all(src == "watchlist" for _s, src in seen)


def test_palette_research_item_sets_the_symbol(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget() or getattr(window, "command_palette", None),
                                       CommandPalette))
    palette = window.command_palette
    qtbot.keyClicks(palette.query, "nvda")
    assert palette.shown[0].kind == "Research" and palette.shown[0].title == "NVDA"
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert window.vm.ctx.symbol.current() == "NVDA" and window.vm.ctx.symbol.source == "palette"
    palette.query.setText("show positions")  # two words: no research entry
    assert all(i.kind != "Research" for i in palette.shown)
