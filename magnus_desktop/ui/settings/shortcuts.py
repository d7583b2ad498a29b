"""Settings → Shortcuts: every registered action with its shortcut and default; pick a row, press
the new keys, see conflicts at once (the rows turn red and the clash is named); reset one or all.

The editor works on a copy: :meth:`ShortcutEditor.overrides` is what ``Settings.shortcuts`` keeps
(only what differs from the defaults); the window applies it live when the dialog is applied.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.ui.actions import ActionRegistry, key_text, overrides_of
from magnus_desktop.widgets.table_model import text_color

_NATIVE = QKeySequence.SequenceFormat.NativeText
COLUMNS = ("Action", "Shortcut", "Default")


def _native(text: str) -> str:
    return QKeySequence(text).toString(_NATIVE)


class ShortcutEditor(QWidget):
    """Edits the shortcuts of ``registry``'s actions, starting from ``overrides`` (id → key text).

    Signals:
        changed(): a shortcut was edited, cleared or reset.
    """

    changed = Signal()

    def __init__(self, registry: ActionRegistry, overrides: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcut_editor")
        self._registry = registry
        self._entries = registry.entries()
        self._defaults = registry.defaults()
        self.chosen: dict[str, str] = {}
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter actions…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(len(self._entries), len(COLUMNS))
        self.table.setObjectName("shortcuts_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for row, entry in enumerate(self._entries):
            scope = "" if entry.scope == "window" else "  (in its dock)"
            self.table.setItem(row, 0, QTableWidgetItem(entry.path + scope))
            self.table.setItem(row, 1, QTableWidgetItem(""))
            self.table.setItem(row, 2, QTableWidgetItem(_native(entry.default)))
        self.key_edit = QKeySequenceEdit()
        self.key_edit.setObjectName("shortcut_key_edit")
        self.key_edit.setMaximumSequenceLength(1)
        self.key_edit.setToolTip("Click here, then press the new key combination")
        self.key_edit.keySequenceChanged.connect(self._on_key_edited)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("No shortcut for this action")
        self.clear_button.clicked.connect(lambda: self.set_shortcut(self.current_id(), ""))
        self.reset_button = QPushButton("Reset to default")
        self.reset_button.clicked.connect(self.reset_current)
        self.reset_all_button = QPushButton("Reset all to defaults")
        self.reset_all_button.setObjectName("shortcuts_reset_all")
        self.reset_all_button.clicked.connect(self.reset_all)
        self.conflict_label = QLabel("")
        self.conflict_label.setObjectName("shortcuts_conflicts")
        self.conflict_label.setWordWrap(True)
        self.conflict_label.setStyleSheet(f"color: {text_color('loss').name()};")
        self.conflict_label.setVisible(False)
        keys = QHBoxLayout()
        keys.addWidget(QLabel("New shortcut:"))
        keys.addWidget(self.key_edit, 1)
        for button in (self.clear_button, self.reset_button, self.reset_all_button):
            keys.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addLayout(keys)
        layout.addWidget(self.conflict_label)
        hint = QLabel("Shortcuts marked “in its dock” work only while the keyboard is in that dock. "
                      "Changes apply with OK or Apply.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table.currentCellChanged.connect(lambda row, _c, _pr, _pc: self._show_row(row))
        self.load(overrides)
        if self._entries:
            self.table.selectRow(0)

    # ---- state --------------------------------------------------------------------------------
    def load(self, overrides: Mapping[str, str]) -> None:
        """Show the defaults with ``overrides`` on top (unknown ids are ignored)."""
        self.chosen = {e.id: key_text(overrides.get(e.id, e.default)) for e in self._entries}
        self._refresh()

    def overrides(self) -> dict[str, str]:
        """What differs from the defaults: what ``Settings.shortcuts`` stores."""
        return overrides_of(self._defaults, self.chosen)

    def conflicts(self) -> dict[str, list[str]]:
        """Key sequence → the action ids that clash on it (empty: none)."""
        return self._registry.conflicts(self.chosen)

    def conflict_text(self) -> str:
        """One line per clash, e.g. ``Ctrl+K: Help › Command palette… and File › Quit``."""
        paths = {e.id: e.path for e in self._entries}
        return "\n".join(f"{_native(key)} is used by {' and '.join(paths[i] for i in ids)}"
                         for key, ids in sorted(self.conflicts().items()))

    def current_id(self) -> str | None:
        row = self.table.currentRow()
        return self._entries[row].id if 0 <= row < len(self._entries) else None

    def select(self, action_id: str) -> None:
        """Make ``action_id``'s row current (raises StopIteration for an unknown id)."""
        row = next(i for i, e in enumerate(self._entries) if e.id == action_id)
        self.table.selectRow(row)
        self.table.scrollToItem(self.table.item(row, 0))

    # ---- edits --------------------------------------------------------------------------------
    def set_shortcut(self, action_id: str | None, key: str) -> None:
        if action_id is None:
            return
        self.chosen[action_id] = key_text(key)
        self._refresh()
        self._show_row(self.table.currentRow())
        self.changed.emit()

    def reset_current(self) -> None:
        action_id = self.current_id()
        if action_id is not None:
            self.set_shortcut(action_id, self._defaults[action_id])

    def reset_all(self) -> None:
        self.load({})
        self._show_row(self.table.currentRow())
        self.changed.emit()

    def _on_key_edited(self, sequence: QKeySequence) -> None:
        if not sequence.isEmpty():
            self.set_shortcut(self.current_id(), key_text(sequence))

    # ---- view ---------------------------------------------------------------------------------
    def _show_row(self, row: int) -> None:
        if not 0 <= row < len(self._entries):
            return
        self.key_edit.blockSignals(True)
        self.key_edit.setKeySequence(QKeySequence(self.chosen[self._entries[row].id]))
        self.key_edit.blockSignals(False)

    def _refresh(self) -> None:
        clashing = {i for ids in self.conflicts().values() for i in ids}
        bad = QColor(text_color("loss"))
        for row, entry in enumerate(self._entries):
            key = self.chosen[entry.id]
            item = self.table.item(row, 1)
            changed = key != entry.default
            item.setText(_native(key) + ("  (changed)" if changed else ""))
            for column in range(len(COLUMNS)):
                cell = self.table.item(row, column)
                cell.setForeground(bad if entry.id in clashing else self.palette().text().color())
        text = self.conflict_text()
        self.conflict_label.setText(f"Conflicting shortcuts (change one of each):\n{text}" if text else "")
        self.conflict_label.setVisible(bool(text))

    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for row, entry in enumerate(self._entries):
            haystack = f"{entry.path} {_native(self.chosen[entry.id])}".lower()
            self.table.setRowHidden(row, not all(w in haystack for w in words))
