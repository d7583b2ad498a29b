"""Keyboard-first control: every menu action is a registered QAction with a default shortcut, and
Settings → Shortcuts edits them (conflicts refused, reset to defaults, persisted, applied live) —
driven with qtbot key clicks on the real window."""

from __future__ import annotations

import json
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from magnus_desktop.services.alerts.replay import replay_alerts
from magnus_desktop.services.settings import Settings
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.palette import cheat_sheet_text
from magnus_desktop.ui.settings.dialog import SettingsDialog
from tests.ui.conftest import LoopRunner
from tests.ui.test_settings_wiring import open_dialog, window  # noqa: F401  (fixture)

CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


def _menu_actions(win: MainWindow) -> list:  # type: ignore[type-arg]
    found = []
    for top in win.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            found += [a for a in menu.actions() if not a.isSeparator() and a.menu() is None]
    return found


def test_every_menu_action_is_registered_with_a_unique_default_shortcut(window: MainWindow) -> None:  # noqa: F811
    registry = window.actions_registry
    registered = {id(e.action) for e in registry.entries()}
    in_menus = _menu_actions(window)
    assert in_menus and all(id(a) in registered for a in in_menus), [a.text() for a in in_menus if id(a) not in registered]
    entries = registry.entries()
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.default for e in entries), [e.id for e in entries if not e.default]
    assert registry.conflicts() == {}
    # the Alerts dock's triage keys are in the Alerts menu, scoped to the dock
    triage = registry.entry("alerts.acknowledge")
    assert triage.scope == "dock_alerts" and triage.current == "A" and triage.path == "Alerts › Acknowledge alert"


def test_an_edited_shortcut_conflicts_then_applies_live_and_persists(window: MainWindow, run: LoopRunner,  # noqa: F811
                                                                     qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog: SettingsDialog = open_dialog(window, run)
    editor = dialog.shortcut_editor
    assert editor is not None and dialog.editor("shortcuts") is editor
    assert editor.toolTip() == Settings.model_fields["shortcuts"].description
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.tabs.setCurrentWidget(editor)
    editor.select("view.dark_theme")
    qtbot.keyClick(editor.key_edit, Qt.Key.Key_K, CTRL)  # Ctrl+K is the command palette
    assert editor.conflicts() == {"Ctrl+K": ["help.palette", "view.dark_theme"]}
    assert editor.conflict_label.isVisible() and "Command palette" in editor.conflict_label.text()
    assert not ok.isEnabled()
    editor.select("view.dark_theme")
    editor.key_edit.clear()
    qtbot.keyClick(editor.key_edit, Qt.Key.Key_J, CTRL | ALT)
    assert editor.conflicts() == {} and ok.isEnabled()
    assert editor.overrides() == {"view.dark_theme": "Ctrl+Alt+J"}
    ok.click()
    run.until(lambda: window.dark_action.shortcut().toString() == "Ctrl+Alt+J")
    theme = window.vm.theme
    run.until(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_J, CTRL | ALT)  # the new keys work at once
    assert window.vm.theme != theme
    qtbot.keyClick(window, Qt.Key.Key_T, CTRL | Qt.KeyboardModifier.ShiftModifier)  # the old ones no longer
    assert window.vm.theme != theme
    assert "Ctrl+Alt+J" in cheat_sheet_text(window)
    saved = json.loads(window.vm.ctx.settings_store.path.read_text())
    assert saved["shortcuts"] == {"view.dark_theme": "Ctrl+Alt+J"}
    window.toggle_theme()


def test_reset_all_restores_the_defaults(window: MainWindow, run: LoopRunner, qtbot) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    window.vm.ctx.settings.shortcuts = {"file.quit": "Ctrl+Alt+Q", "edit.accounts": ""}
    window.apply_shortcuts(window.vm.ctx.settings.shortcuts)
    assert window.quit_action.shortcut().toString() == "Ctrl+Alt+Q" and window.accounts_action.shortcut().isEmpty()
    dialog = open_dialog(window, run)
    editor = dialog.shortcut_editor
    assert editor is not None and editor.overrides() == {"file.quit": "Ctrl+Alt+Q", "edit.accounts": ""}
    qtbot.mouseClick(editor.reset_all_button, Qt.MouseButton.LeftButton)
    assert editor.overrides() == {}
    dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    run.until(lambda: window.quit_action.shortcut().toString() == "Ctrl+Q")
    assert window.accounts_action.shortcut().toString() == "Ctrl+Shift+A"
    assert window.vm.ctx.settings.shortcuts == {}
    dialog.close()


def test_a_changed_triage_key_works_in_the_alerts_dock_and_the_old_one_not(window: MainWindow,  # noqa: F811
                                                                             run: LoopRunner, qtbot) -> None:  # type: ignore[no-untyped-def]
    run(replay_alerts(window.vm.ctx, date(2018, 1, 2), date(2018, 1, 29)))
    window.apply_shortcuts({"alerts.next": "N"})
    panel = window.panel("dock_alerts")
    window.docks["dock_alerts"].show()
    window.docks["dock_alerts"].raise_()
    run.until(lambda: panel.model.rowCount() >= 2)
    panel.focus_alerts()
    panel.table.selectRow(0)
    first = panel.current_alert()
    qtbot.keyClick(panel.table, Qt.Key.Key_J)
    assert panel.current_alert() == first  # J no longer moves
    qtbot.keyClick(panel.table, Qt.Key.Key_N)
    assert panel.current_alert() != first


def test_shortcut_settings_are_checked() -> None:
    assert Settings(shortcuts={"view.dark_theme": "Ctrl+Alt+J"}).shortcuts == {"view.dark_theme": "Ctrl+Alt+J"}
    for bad in ({"View Dark": "Ctrl+J"}, {"file.quit": "Ctrl+\x00"}, {f"a{i}": "F2" for i in range(501)}):
        with pytest.raises(ValueError):
            Settings(shortcuts=bad)


def test_key_text_round_trips_through_qt() -> None:
    from magnus_desktop.ui.actions import key_text

    assert key_text("ctrl+shift+k") == "Ctrl+Shift+K" and key_text(QKeySequence()) == ""


def test_trade_actions_of_the_positions_and_scanner_docks(window: MainWindow, run: LoopRunner, qtbot) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    registry = window.actions_registry
    assert registry.entry("positions.close").path == "Trade › Close selected position…"
    assert registry.entry("scanner.sell").scope == "dock_scanner"
    positions = window.panel("dock_positions")
    run.until(lambda: positions.model.rowCount() > 0)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    positions.table.setFocus()
    positions.table.selectRow(0)
    record = positions.table.record_at(0)
    qtbot.keyClick(positions.table, Qt.Key.Key_C)  # the dock-local key of Trade › Close selected position
    ticket = positions.ticket_dialog
    assert ticket is not None and ticket.contract == record["contract"]
    ticket.close()
    scanner = window.panel("dock_scanner")
    run.until(lambda: scanner.table.model().rowCount() > 0)
    window.activateWindow()  # the ticket had the focus
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    scanner.table.setFocus()
    scanner.table.selectRow(0)
    qtbot.keyClick(scanner.table, Qt.Key.Key_Return, CTRL)
    assert scanner.ticket_dialog is not None
    scanner.ticket_dialog.close()
