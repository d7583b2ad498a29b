"""The one registry of the window's actions: every menu entry is a ``QAction`` with a stable id
(``"file.quit"``, ``"view.dock_alerts"``, ``"alerts.acknowledge"``), a default shortcut and a menu.

Shortcuts the trader changed (Settings → Shortcuts) are stored in ``Settings.shortcuts`` as
id → portable key text (``"Ctrl+Shift+K"``; ``""`` = no shortcut) and applied live with
:meth:`ActionRegistry.apply`. Ids never change: a saved override refers to them.

An action's *scope* is where its shortcut works: ``"window"`` (anywhere in the main window) or a
dock id (only while the keyboard is in that dock, e.g. the Alerts dock's single-letter triage keys).
Two actions conflict when they share a key sequence and a scope, or one of them is window-wide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

WINDOW = "window"
_PORTABLE = QKeySequence.SequenceFormat.PortableText


def plain(text: str) -> str:
    """Menu text without its mnemonic ampersands (``"&&File"`` → ``"&File"``, ``"&File"`` → ``"File"``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def key_text(sequence: QKeySequence | str) -> str:
    """A key sequence as portable text (``"Ctrl+K"``); ``""`` for none. Text that does not parse → ``""``."""
    seq = sequence if isinstance(sequence, QKeySequence) else QKeySequence(sequence)
    return seq.toString(_PORTABLE)


@dataclass(frozen=True, slots=True)
class PanelAction:
    """An action a dock's panel offers for the menus: ``id`` (stable), ``menu`` title, the action,
    its default shortcut (portable text) and whether the shortcut works only inside the dock."""

    id: str
    menu: str
    action: QAction
    default: str
    local: bool = False


def panel_action(widget: QWidget, action_id: str, menu: str, text: str, key: str, slot: Callable[[], object],
                 *, local: bool = True) -> PanelAction:
    """A dock panel's action for the window's ``menu``; with ``local`` its shortcut works only while the
    keyboard is in the panel (it is added to ``widget`` with a widget-with-children context)."""
    action = QAction(text, widget)
    action.setShortcut(QKeySequence(key))
    if local:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(slot)
    widget.addAction(action)
    return PanelAction(action_id, menu, action, key, local)


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One registered action: id, its menu path ("File › Quit"), default shortcut, scope, the action."""

    id: str
    path: str
    default: str
    scope: str
    action: QAction

    @property
    def current(self) -> str:
        return key_text(self.action.shortcut())


class ActionRegistry(QObject):
    """Every registered action by id, in registration (menu) order.

    Signals:
        shortcuts_changed(): shortcuts were applied (the cheat sheet and palette read them anew).
    """

    shortcuts_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[str, ActionEntry] = {}

    def add(self, action_id: str, path: str, action: QAction, default: str = "", scope: str = WINDOW) -> QAction:
        """Register ``action`` under ``action_id`` with its ``default`` shortcut (set on it now).

        Raises:
            ValueError: ``action_id`` is already registered (ids are unique and stable).
        """
        if action_id in self._entries:
            raise ValueError(f"action id {action_id!r} is registered twice")
        default = key_text(default)
        self._entries[action_id] = ActionEntry(action_id, path, default, scope, action)
        action.setObjectName(f"action_{action_id}")
        action.setShortcut(QKeySequence(default))
        if scope != WINDOW:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return action

    def entries(self) -> list[ActionEntry]:
        return list(self._entries.values())

    def entry(self, action_id: str) -> ActionEntry:
        """The entry of ``action_id``. Raises KeyError (with the id) when unknown."""
        return self._entries[action_id]

    def action(self, action_id: str) -> QAction:
        return self._entries[action_id].action

    def defaults(self) -> dict[str, str]:
        return {e.id: e.default for e in self._entries.values()}

    def current(self) -> dict[str, str]:
        return {e.id: e.current for e in self._entries.values()}

    def apply(self, overrides: Mapping[str, str]) -> list[str]:
        """Set every action's shortcut: the override where one is given, else the default.

        Unknown ids (an action that no longer exists) are ignored; returns them so the caller can log.
        A replaced action keeps only its one shortcut (e.g. Settings loses the platform's second key).
        """
        unknown = [action_id for action_id in overrides if action_id not in self._entries]
        for entry in self._entries.values():
            wanted = key_text(overrides.get(entry.id, entry.default))
            if wanted != entry.current or entry.id in overrides:
                entry.action.setShortcut(QKeySequence(wanted))
        self.shortcuts_changed.emit()
        return unknown

    def conflicts(self, mapping: Mapping[str, str] | None = None) -> dict[str, list[str]]:
        """Key sequence → the ids that share it where that is ambiguous (same scope, or one of them
        window-wide); ``mapping`` (id → key text) defaults to the current shortcuts."""
        keys = self.current() if mapping is None else {e.id: key_text(mapping.get(e.id, e.default))
                                                        for e in self._entries.values()}
        by_key: dict[str, list[str]] = {}
        for action_id, key in keys.items():
            if key:
                by_key.setdefault(key, []).append(action_id)
        out: dict[str, list[str]] = {}
        for key, ids in by_key.items():
            clashing = sorted({a for a in ids for b in ids if a != b and self._clash(a, b)})
            if clashing:
                out[key] = clashing
        return out

    def _clash(self, a: str, b: str) -> bool:
        sa, sb = self._entries[a].scope, self._entries[b].scope
        return sa == sb or WINDOW in (sa, sb)


def overrides_of(registry_defaults: Mapping[str, str], chosen: Mapping[str, str]) -> dict[str, str]:
    """Only what differs from the defaults (what ``Settings.shortcuts`` keeps)."""
    return {action_id: key_text(key) for action_id, key in chosen.items()
            if key_text(key) != registry_defaults.get(action_id, "")}
