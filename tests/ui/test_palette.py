"""The Ctrl+K command palette and the F1 cheat sheet, driven with qtbot key clicks on the real window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.palette import CheatSheet, CommandPalette, rank
from tests.ui.conftest import LoopRunner
from tests.ui.test_main_window import window  # noqa: F401  (fixture)


def _open(qtbot, win: MainWindow) -> CommandPalette:  # type: ignore[no-untyped-def]
    qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget() or getattr(win, "command_palette", None),
                                       CommandPalette))
    palette = win.command_palette
    assert isinstance(palette, CommandPalette)
    return palette


def test_ctrl_k_finds_an_action_with_a_typo_and_enter_runs_it(qtbot, window: MainWindow,  # noqa: F811
                                                             run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    palette = _open(qtbot, window)
    labels = [i.label for i in palette.shown]
    assert any(label.startswith("Action: File › Quit") for label in labels)
    assert any(label.startswith("Dock: Show Positions") for label in labels)
    before = window.vm.theme
    qtbot.keyClicks(palette.query, "drak theme")  # a typo: fuzzy match
    assert palette.shown and palette.shown[0].title == "View › Dark theme"
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert window.vm.theme != before and not palette.isVisible()
    window.toggle_theme()


def test_a_position_is_focused_from_the_palette(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    palette = _open(qtbot, window)
    qtbot.keyClicks(palette.query, "position 2600")
    assert palette.shown[0].kind == "Position" and "2600" in palette.shown[0].title
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    table = window.panel("dock_positions").table
    record = table.selected_record()
    assert record is not None and record["contract"].strike == 2600.0


def test_arrow_keys_move_and_nothing_runs_without_a_match(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    palette = _open(qtbot, window)
    qtbot.keyClick(palette.query, Qt.Key.Key_Down)
    assert palette.results.currentRow() == 1
    qtbot.keyClick(palette.query, Qt.Key.Key_Up)
    assert palette.results.currentRow() == 0
    palette.query.setText("zzzzqqqq")
    assert palette.shown == [] and rank(palette.items, "zzzzqqqq") == []
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert palette.isVisible()  # nothing ran, nothing closed


def test_f1_lists_every_menu_shortcut(qtbot, window: MainWindow) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(getattr(window, "shortcuts_sheet", None), CheatSheet))
    text = window.shortcuts_sheet.text.toPlainText()
    for key, path in (("Ctrl+Q", "File › Quit"), ("Ctrl+Shift+R", "View › Reset layout"), ("Space", "Play"),
                      ("Ctrl+K", "Help › Command palette…")):
        assert any(key in line and path in line for line in text.splitlines()), (key, path)
