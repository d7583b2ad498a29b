"""Ctrl+K command palette and the F1 keyboard cheat sheet, both generated from what the window has.

The palette lists every menu action (with its menu path and shortcut), every dock ("Show …"), every
position of the positions dock and every watchlist and watchlist symbol; a typed ticker also offers
"Research: TICKER", which makes it the shared research symbol (every research dock follows). Typing filters with
rapidfuzz's ``WRatio`` (typos and word order forgiven; items containing every typed word as written
come first); Up/Down move, Enter runs the action or focuses
the item, Esc closes. Nothing here is registered by hand: a new menu action or dock appears by itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from rapidfuzz import fuzz, process

from magnus_desktop.services.research import InvalidSymbol, canonical_symbol
from magnus_desktop.widgets.docking import show_dock

#: what a typed ticker looks like for "Research: …" (1-5 letters, an optional class suffix: BRK.B)
_TICKER_QUERY = re.compile(r"\^?[A-Za-z]{1,5}(?:[.\-/][A-Za-z]{1,2})?")
#: items shown for a query (the best matches first)
MAX_RESULTS = 50
#: matches scoring below this (0-100, rapidfuzz WRatio) are left out
MIN_SCORE = 60.0


@dataclass(frozen=True)
class PaletteItem:
    """One entry: ``kind`` ("Action", "Dock", "Position", "Watchlist", "Symbol"), its ``title``, the
    ``shortcut`` text (may be empty) and what Enter does."""

    kind: str
    title: str
    shortcut: str
    run: Callable[[], object]

    @property
    def label(self) -> str:
        text = f"{self.kind}: {self.title}"
        return f"{text}    {self.shortcut}" if self.shortcut else text


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def menu_actions(window: QMainWindow) -> list[tuple[str, QAction]]:
    """Every action of the menu bar and the toolbars with its path, e.g. ``("File › Quit", action)``."""
    out: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {_plain(action.text())}")
            elif action.text():
                out.append((f"{path} › {_plain(action.text())}", action))

    for top in window.menuBar().actions():
        sub = top.menu()
        if isinstance(sub, QMenu):
            walk(sub, _plain(top.text()))
    seen = {id(action) for _path, action in out}
    for bar in window.findChildren(QToolBar):  # the replay toolbar's play/step actions
        for action in bar.actions():
            if action.text() and not action.isSeparator() and id(action) not in seen:
                out.append((f"{_plain(bar.windowTitle()) or 'Toolbar'} › {_plain(action.text())}", action))
    return out


def _focus_row(dock: QDockWidget, table: QTableView, row: int) -> None:
    show_dock(dock)
    table.selectRow(row)
    table.scrollTo(table.model().index(row, 0))
    table.setFocus()


def palette_items(window: QMainWindow) -> list[PaletteItem]:
    """What the palette offers for ``window`` now (actions, docks, positions, watchlists, symbols)."""
    items = [PaletteItem("Action", path, action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                         action.trigger)
             for path, action in menu_actions(window) if action.isEnabled()]
    docks = window.findChildren(QDockWidget)
    items += [PaletteItem("Dock", f"Show {d.windowTitle()}", "", lambda d=d: show_dock(d, focus=True)) for d in docks]
    by_name = {d.objectName(): d for d in docks}
    positions = window.findChild(QTableView, "positions_table")
    if positions is not None and "dock_positions" in by_name:
        model = positions.model()
        for row in range(model.rowCount()):
            text = str(model.index(row, 0).data() or "")
            if text:
                items.append(PaletteItem("Position", text, "", lambda r=row: _focus_row(
                    by_name["dock_positions"], positions, r)))
    lists = window.findChild(QListWidget, "watchlists_lists")
    if lists is not None and "dock_watchlists" in by_name:
        for row in range(lists.count()):
            def pick(r: int = row) -> None:
                show_dock(by_name["dock_watchlists"])
                lists.setCurrentRow(r)
                lists.setFocus()
            items.append(PaletteItem("Watchlist", lists.item(row).text(), "", pick))
    symbols = window.findChild(QTableView, "watchlists_symbols")
    if symbols is not None and "dock_watchlists" in by_name:
        model = symbols.model()
        column = next((c for c in range(model.columnCount())
                       if model.headerData(c, Qt.Orientation.Horizontal) == "Symbol"), 0)
        for row in range(model.rowCount()):
            text = str(model.index(row, column).data() or "")
            if text:
                items.append(PaletteItem("Symbol", text, "", lambda r=row: _focus_row(
                    by_name["dock_watchlists"], symbols, r)))
    return items


def research_item(window: QMainWindow, query: str) -> PaletteItem | None:
    """"Research: TICKER" for a typed ticker: sets the shared research symbol and shows the chart
    dock (None when the query is not ticker-like or the window has no app context)."""
    ctx = getattr(getattr(window, "vm", None), "ctx", None)
    words = query.split()
    if ctx is None or len(words) != 1:
        return None
    if not _TICKER_QUERY.fullmatch(words[0].rpartition(":")[2]):
        return None
    try:
        symbol = canonical_symbol(words[0])
    except InvalidSymbol:
        return None

    def run() -> None:
        ctx.symbol.set(symbol, "palette")
        dock = window.findChild(QDockWidget, "dock_research_chart")
        if dock is not None:
            show_dock(dock)

    return PaletteItem("Research", symbol, "", run)


def rank(items: list[PaletteItem], query: str) -> list[PaletteItem]:
    """``items`` matching ``query`` best first (all of them, in order, for an empty query)."""
    query = query.strip()
    if not query:
        return items[:]
    choices = [f"{i.kind} {i.title}".lower() for i in items]
    tokens = query.lower().split()
    found = process.extract(query.lower(), choices, scorer=fuzz.WRatio, limit=None, score_cutoff=MIN_SCORE)
    # every typed word found as written ranks above a fuzzy match ("2600" beats "2550")
    exact = [index for _choice, _score, index in found if all(t in choices[index] for t in tokens)]
    fuzzy = [index for _choice, _score, index in found if index not in set(exact)]
    return [items[index] for index in (exact + fuzzy)[:MAX_RESULTS]]


class CommandPalette(QDialog):
    """The Ctrl+K palette over :func:`palette_items` of ``window`` (built when opened)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("command_palette")
        self.setWindowTitle("Command palette")
        self.window_ = window
        self.items = palette_items(window)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Type an action, dock, position, watchlist or symbol…")
        self.results = QListWidget()
        self.results.setObjectName("palette_results")
        self.hint = QLabel("↑/↓ move · Enter run · Esc close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        self.resize(560, 420)
        self.shown: list[PaletteItem] = []
        self.query.textChanged.connect(self._filter)
        self.query.installEventFilter(self)
        self.results.itemActivated.connect(lambda _item: self.run_current())
        self._filter("")

    def _filter(self, text: str) -> None:
        self.shown = rank(self.items, text)
        research = research_item(self.window_, text)
        if research is not None:  # after the items naming every typed word, before fuzzy matches
            exact = sum(1 for i in self.shown if text.strip().lower() in f"{i.kind} {i.title}".lower())
            self.shown.insert(exact, research)
        self.results.clear()
        for item in self.shown:
            QListWidgetItem(item.label, self.results)
        if self.shown:
            self.results.setCurrentRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Up/Down in the query field move through the results; Enter runs the current one."""
        if watched is self.query and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.shown:
                step = 1 if key == Qt.Key.Key_Down else -1
                self.results.setCurrentRow(max(0, min(len(self.shown) - 1, self.results.currentRow() + step)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.run_current()
                return True
        return super().eventFilter(watched, event)

    def run_current(self) -> None:
        """Close the palette, then run the selected item (nothing when no item matches)."""
        row = self.results.currentRow()
        if not 0 <= row < len(self.shown):
            return
        item = self.shown[row]
        self.accept()
        item.run()


def cheat_sheet_text(window: QMainWindow) -> str:
    """Every menu action with a shortcut, one per line, generated from the menus (F1)."""
    rows = [(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText), path)
            for path, action in menu_actions(window) if not action.shortcut().isEmpty()]
    width = max((len(key) for key, _ in rows), default=0)
    return "\n".join(f"{key.ljust(width)}   {path}" for key, path in rows)


class CheatSheet(QDialog):
    """F1: the keyboard shortcuts of the window's menus, as plain text (selectable, copyable)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("cheat_sheet")
        self.setWindowTitle("Keyboard shortcuts")
        self.text = QPlainTextEdit(cheat_sheet_text(window))
        self.text.setReadOnly(True)
        font = self.text.font()
        font.setStyleHint(font.StyleHint.Monospace)
        font.setFamily("monospace")
        self.text.setFont(font)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.resize(620, 480)


def open_dialog(parent: QWidget, dialog: QDialog) -> QDialog:
    """Show ``dialog`` non-modally (deleted on close) and return it."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
