"""Watchlists dock: the trader's named symbol lists and their quotes at the replay day.

Left: the lists in their saved order (New, Rename, Delete, move up/down, Import… from TradingView).
Right: the selected list's symbols with the replayed quote of each (``quotes_changed``). A symbol
without recorded data stays in the list and says "no replay data"; a quote from a series with no
bar for the replay day is stale: it shows "as of <date>" instead of a change, and its last price
with that day. An import that skipped entries lists every one (with its reason) in a message box.
Every change goes through the view model's async slots; errors come back as ``vm.notice`` and the
ones caused here are shown here.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.domain import Quote, Watchlist, WatchlistItem
from magnus_desktop.services.watchlists.tradingview import TICKER_SHAPE, SkippedEntry
from magnus_desktop.ui.tables import record_table
from magnus_desktop.ui.watchlists.symbols import (
    COLUMNS,
    SymbolsTableModel,
    parse_symbol_input,
    symbol_record,
)
from magnus_desktop.ui.watchlists.view_model import WatchlistsViewModel

#: Below this width the lists go above the symbols instead of beside them (px).
_STACK_BELOW = 620
#: Skipped import entries named in the message box itself (all are under "Show Details…").
_SKIPPED_IN_BOX = 8


def _button(text: str, tip: str, slot: Any) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


class WatchlistsPanel(QWidget):
    """The watchlists dock. ``import_dialog()`` serves the main window's File menu."""

    def __init__(self, vm: WatchlistsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self._lists: list[Watchlist] = []
        self._quotes: dict[str, Quote | None] = {}
        self._day: date | None = None
        self._selected_id: int | None = None
        self._selected_key: tuple[str, str] | None = None
        self._expect_new_list = False
        self._fit_pending = True
        self._fitted_states: list[str] = []  # row states the column widths were fitted to
        self._tasks: set[asyncio.Future[Any]] = set()
        self._keys: dict[tuple[QObject, str], QAction] = {}
        self._last_dir = str(Path.home())
        self.skipped_box: QMessageBox | None = None  # the last import's skipped entries, while open
        self.model = SymbolsTableModel(COLUMNS, key=lambda r: (r["exchange"], r["symbol"]), parent=self)
        self._build_ui()
        self._connect()
        self._day = vm.current_day()
        self._on_vm_watchlists_changed(vm.watchlists())

    # ---- construction -------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self._build_lists_side())
        self.splitter.addWidget(self._build_symbols_side())
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 700])
        self.message = QLabel("")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # symbols like <SCRIPT> are text, not markup
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)
        self.setMinimumWidth(260)  # narrower than side by side: resizeEvent stacks the two sides

    def _build_lists_side(self) -> QWidget:
        self.lists = QListWidget()
        self.lists.setObjectName("watchlists_lists")
        self.lists.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.lists.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.new_btn = _button("New…", "Create an empty watchlist", self.new_watchlist)
        self.rename_btn = _button("Rename…", "Rename the selected watchlist (F2)", self.rename_selected)
        self.delete_btn = _button("Delete", "Delete the selected watchlist", self.delete_selected)
        self.list_up_btn = _button("Up", "Move the selected watchlist up", lambda: self.move_selected_list(-1))
        self.list_down_btn = _button("Down", "Move the selected watchlist down", lambda: self.move_selected_list(1))
        for b, arrow in ((self.list_up_btn, Qt.ArrowType.UpArrow), (self.list_down_btn, Qt.ArrowType.DownArrow)):
            b.setArrowType(arrow)  # style-drawn in the palette's colours, not a ▲/▼ font glyph (a box in some fonts)
        self.import_btn = _button("Import…", "Import a TradingView watchlist (.txt) as a new list", self.import_dialog)
        for b in (self.new_btn, self.rename_btn, self.delete_btn, self.import_btn):
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for b in (self.new_btn, self.rename_btn, self.delete_btn):
            row1.addWidget(b)
        for b in (self.list_up_btn, self.list_down_btn, self.import_btn):
            row2.addWidget(b)
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Watchlists</b>"))
        layout.addWidget(self.lists, 1)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self._add_actions(self.lists, [("Rename…", "F2", self.rename_selected),
                                       ("Delete", "Del", self.delete_selected),
                                       ("Move up", "Ctrl+Up", lambda: self.move_selected_list(-1)),
                                       ("Move down", "Ctrl+Down", lambda: self.move_selected_list(1))])
        return side

    def _build_symbols_side(self) -> QWidget:
        self.title = QLabel("")
        self.symbol_edit = QLineEdit()
        self.symbol_edit.setPlaceholderText("Add symbols: AAPL, NASDAQ:MSFT SPY …")
        self.symbol_edit.returnPressed.connect(self.add_from_input)
        self.add_btn = _button("Add", "Add the typed symbols to the selected list", self.add_from_input)
        self.table = record_table(self.model, None, "watchlists_symbols")
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.remove_btn = _button("Remove", "Remove the selected symbol (Del)", self.remove_selected_symbol)
        self.sym_up_btn = _button("Move up", "Move the selected symbol up (Ctrl+Up)", lambda: self.move_selected_symbol(-1))
        self.sym_down_btn = _button("Move down", "Move the selected symbol down (Ctrl+Down)",
                                    lambda: self.move_selected_symbol(1))
        add_row, edit_row = QHBoxLayout(), QHBoxLayout()
        add_row.addWidget(self.symbol_edit, 1)
        add_row.addWidget(self.add_btn)
        edit_row.addStretch(1)
        for b in (self.remove_btn, self.sym_up_btn, self.sym_down_btn):
            edit_row.addWidget(b)
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(add_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        self.symbol_actions = self._add_actions(self.table, [
            ("Remove", "Del", self.remove_selected_symbol),
            ("Move up", "Ctrl+Up", lambda: self.move_selected_symbol(-1)),
            ("Move down", "Ctrl+Down", lambda: self.move_selected_symbol(1))])
        return side

    def _add_actions(self, widget: QWidget, specs: Sequence[tuple[str, str, Any]]) -> list[QAction]:
        """``widget``'s right-click menu; each key works while ``widget`` has focus (see eventFilter)."""
        actions = []
        for text, key, slot in specs:
            action = QAction(f"{text}\t{key}", widget)
            action.triggered.connect(slot)
            widget.addAction(action)
            actions.append(action)
            self._keys[(widget, QKeySequence(key).toString())] = action
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        widget.installEventFilter(self)
        return actions

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keys of the lists and the table (focus-local, so Del in the line edit still edits text)."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            action = self._keys.get((watched, QKeySequence(event.keyCombination()).toString()))
            if action is not None and action.isEnabled():
                action.trigger()
                return True
        return super().eventFilter(watched, event)

    def _connect(self) -> None:
        self.vm.watchlists_changed.connect(self._on_vm_watchlists_changed)
        self.vm.quotes_changed.connect(self._on_vm_quotes_changed)
        self.vm.date_changed.connect(self._on_vm_date_changed)
        self.vm.notice.connect(self._on_vm_notice)
        self.vm.watchlist_imported.connect(self._on_vm_watchlist_imported)
        self.lists.currentRowChanged.connect(self._on_lists_row_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)

    def sizeHint(self) -> QSize:
        return QSize(760, 360)

    def resizeEvent(self, event: QResizeEvent) -> None:
        orientation = Qt.Orientation.Vertical if event.size().width() < _STACK_BELOW else Qt.Orientation.Horizontal
        if orientation != self.splitter.orientation():
            self.splitter.setOrientation(orientation)
            first = 140 if orientation == Qt.Orientation.Vertical else 200
            self.splitter.setSizes([first, max(self.splitter.height(), self.splitter.width()) - first])
        super().resizeEvent(event)

    # ---- state ------------------------------------------------------------------------------
    def selected_watchlist(self) -> Watchlist | None:
        return next((wl for wl in self._lists if wl.watchlist_id == self._selected_id), None)

    def selected_item(self) -> WatchlistItem | None:
        record = self.table.selected_record()
        return record["item"] if record is not None else None

    def select_watchlist(self, watchlist_id: int) -> None:
        for row, wl in enumerate(self._lists):
            if wl.watchlist_id == watchlist_id:
                self.lists.setCurrentRow(row)

    def show_message(self, text: str) -> None:
        """Show ``text`` under the panel (results and errors of the trader's actions here)."""
        self.message.setText(text)

    # ---- view-model events --------------------------------------------------------------------
    def _on_vm_watchlists_changed(self, lists: Sequence[Watchlist]) -> None:
        old_ids = {wl.watchlist_id for wl in self._lists}
        old_row = self.lists.currentRow()
        self._lists = sorted(lists, key=lambda wl: (wl.position, wl.watchlist_id))
        new_ids = {wl.watchlist_id for wl in self._lists} - old_ids
        if self._expect_new_list and new_ids and old_ids:
            self._selected_id, self._expect_new_list = max(new_ids), False
        self.lists.blockSignals(True)
        self.lists.clear()
        for wl in self._lists:
            item = QListWidgetItem(f"{wl.name}  ({len(wl.items)})")
            item.setData(Qt.ItemDataRole.UserRole, wl.watchlist_id)
            item.setToolTip(f"{wl.name}: {len(wl.items)} symbols")
            self.lists.addItem(item)
        ids = [wl.watchlist_id for wl in self._lists]
        if self._selected_id not in ids:
            self._selected_id = ids[min(max(old_row, 0), len(ids) - 1)] if ids else None
        if self._selected_id is not None:
            self.lists.setCurrentRow(ids.index(self._selected_id))
        self.lists.blockSignals(False)
        self._reload_symbols()

    def _on_vm_quotes_changed(self, quotes: Mapping[str, Quote | None]) -> None:
        self._quotes = dict(quotes)
        records = self._records()
        self.model.set_records(records)
        if self._fit_pending or [r["state"] for r in records] != self._fitted_states:
            self._fit_columns()  # first quotes of the list, or a row turned stale/fresh: its texts differ

    def _on_vm_date_changed(self, day: date) -> None:
        self._day = day
        self._update_title()

    def _on_vm_notice(self, text: str) -> None:
        if self._tasks:  # a result of something the trader did in this panel
            self.show_message(text)

    def _on_vm_watchlist_imported(self, summary: Any) -> None:
        skipped = getattr(summary, "skipped", ())
        if skipped and self._tasks:  # an import started here skipped entries: list every one
            self.show_skipped(getattr(summary, "watchlist", ""), skipped)

    def _on_lists_row_changed(self, row: int) -> None:
        self._selected_id = self._lists[row].watchlist_id if 0 <= row < len(self._lists) else None
        self._selected_key = None
        self._reload_symbols()

    def _on_table_selection_changed(self, *_args: Any) -> None:
        record = self.table.selected_record()
        if record is not None:
            self._selected_key = (record["exchange"], record["symbol"])
            self.vm.pick_symbol(str(record["symbol"]))
        self._update_actions()

    # ---- symbols table ------------------------------------------------------------------------
    def _records(self) -> list[dict[str, Any]]:
        wl = self.selected_watchlist()
        items = wl.items if wl is not None else ()
        return [symbol_record(i + 1, item, self._quotes, self._day) for i, item in enumerate(items)]

    def _reload_symbols(self) -> None:
        """Show the selected list now (not on the flush timer) and keep the selected symbol."""
        key, row = self._selected_key, self.table.currentIndex().row()
        self.model.set_records(self._records())
        self.model.flush()
        keys = [(r["exchange"], r["symbol"]) for r in self.model.records()]
        if key in keys:
            self._select_source_row(keys.index(key))
        elif keys and key is not None and row >= 0:
            self._select_source_row(min(row, len(keys) - 1))
        self._fit_columns()
        self._update_title()
        self._update_actions()

    def _fit_columns(self) -> None:
        """Size the columns to the rows (when the list changes; not on every replay tick)."""
        self.model.flush()
        self._fitted_states = [r["state"] for r in self.model.records()]
        self._fit_pending = all(state == "pending" for state in self._fitted_states)
        if not self._fit_pending:
            self.table.fit_columns()  # long section names elide (Column.max_width); the row tooltip has them

    def _select_source_row(self, source_row: int) -> None:
        index = self.table.proxy.mapFromSource(self.model.index(source_row, 0))
        self.table.selectRow(index.row())
        self.table.scrollTo(index)

    def _update_title(self) -> None:
        wl = self.selected_watchlist()
        sources = sorted({q.source for q in self._quotes.values() if q is not None}) or ["replay"]
        day = ""
        if self._day:
            when = f"as of {self._day.isoformat()} close" if sources == ["replay"] else "each row's tooltip says when"
            day = f" · quotes: {'/'.join(sources)} · {when}"
        name = html.escape(wl.name) if wl else ""  # a list named after a file: text, not markup
        self.title.setText(f"<b>{name}</b> — {len(wl.items)} symbols{day}" if wl else "No watchlist selected")

    def _update_actions(self) -> None:
        has_list, has_symbol = self.selected_watchlist() is not None, self.table.selected_record() is not None
        row, n = self.lists.currentRow(), len(self._lists)
        for widget in (self.rename_btn, self.delete_btn, self.add_btn, self.symbol_edit):
            widget.setEnabled(has_list)
        self.list_up_btn.setEnabled(has_list and row > 0)
        self.list_down_btn.setEnabled(has_list and row < n - 1)
        for button in (self.remove_btn, self.sym_up_btn, self.sym_down_btn):
            button.setEnabled(has_symbol)
        for action in self.symbol_actions:
            action.setEnabled(has_symbol)

    # ---- actions ------------------------------------------------------------------------------
    def _call(self, result: Any) -> None:
        """Keep the task an async slot returned, so notices it causes are shown here."""
        if isinstance(result, asyncio.Future):
            self._tasks.add(result)
            result.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._expect_new_list = False  # a create/import that failed selects nothing later

    def _ask_name(self, title: str, text: str = "") -> str | None:
        name, ok = QInputDialog.getText(self, title, "Watchlist name:", QLineEdit.EchoMode.Normal, text)
        return name.strip() if ok and name.strip() else None

    def _confirm(self, title: str, text: str) -> bool:
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.question(self, title, text, buttons, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def new_watchlist(self) -> None:
        name = self._ask_name("New watchlist")
        if name is not None:
            self._expect_new_list = True
            self._call(self.vm.create_watchlist(name))

    def rename_selected(self) -> None:
        wl = self.selected_watchlist()
        name = self._ask_name("Rename watchlist", wl.name) if wl is not None else None
        if wl is not None and name is not None and name != wl.name:
            self._call(self.vm.rename_watchlist(wl.watchlist_id, name))

    def delete_selected(self) -> None:
        wl = self.selected_watchlist()
        if wl is not None and self._confirm(
                "Delete watchlist", f"Delete the watchlist “{wl.name}” and its {len(wl.items)} symbols?"):
            self._call(self.vm.delete_watchlist(wl.watchlist_id))

    def move_selected_list(self, delta: int) -> None:
        """Move the selected list ``delta`` places (−1 = up)."""
        row = self.lists.currentRow()
        if 0 <= row < len(self._lists) and 0 <= row + delta < len(self._lists):
            self._call(self.vm.move_watchlist(self._lists[row].watchlist_id, row + delta))

    def import_dialog(self) -> None:
        """Ask for a TradingView watchlist file and import it as a new list."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import TradingView watchlist", self._last_dir, "TradingView watchlists (*.txt);;All files (*)")
        if path:
            self._last_dir = str(Path(path).parent)
            self.import_file(path)

    def import_file(self, path: str | Path) -> None:
        """Import ``path`` (TradingView .txt) as a new list; the result is shown under the panel."""
        self.show_message(f"Importing {Path(path).name}…")
        self._expect_new_list = True
        self._call(self.vm.import_tradingview(str(path)))

    def show_skipped(self, watchlist: str, skipped: Sequence[SkippedEntry]) -> None:
        """A message box listing every skipped entry of an import (line, token, reason) under
        "Show Details…"; the first ones are named in the box itself. Not modal to the app."""
        if self.skipped_box is not None:
            self.skipped_box.close()
        n = len(skipped)
        box = QMessageBox(QMessageBox.Icon.Warning, "TradingView import",
                          f"{n} {'entry was' if n == 1 else 'entries were'} not imported into “{watchlist}”.",
                          QMessageBox.StandardButton.Close, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        more = f"\n… and {n - _SKIPPED_IN_BOX} more (Show Details…)" if n > _SKIPPED_IN_BOX else ""
        box.setInformativeText("\n".join(e.describe() for e in skipped[:_SKIPPED_IN_BOX]) + more
                               + "\n\n" + TICKER_SHAPE)
        box.setDetailedText("\n".join(e.describe() for e in skipped))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "skipped_box", None))
        self.skipped_box = box
        box.open()

    def add_from_input(self) -> None:
        """Add the symbols typed in the line edit to the selected list."""
        wl = self.selected_watchlist()
        if wl is None:
            return
        items, problems = parse_symbol_input(self.symbol_edit.text())
        present = {(i.exchange, i.symbol) for i in wl.items} | {("", i.symbol) for i in wl.items}
        fresh = [i for i in items if (i.exchange, i.symbol) not in present]
        problems += [f"{i.symbol} is already in “{wl.name}”." for i in items if i not in fresh]
        self.show_message(" ".join(problems))
        if fresh:
            self.symbol_edit.clear()
            self._call(self.vm.add_symbols(wl.watchlist_id, fresh))

    def remove_selected_symbol(self) -> None:
        wl, item = self.selected_watchlist(), self.selected_item()
        if wl is not None and item is not None:
            self._call(self.vm.remove_symbol(wl.watchlist_id, item))

    def move_selected_symbol(self, delta: int) -> None:
        """Move the selected symbol ``delta`` places in the list order (−1 = up); the table
        returns to the list order (# column) so the move is visible."""
        wl, record = self.selected_watchlist(), self.table.selected_record()
        if wl is None or record is None:
            return
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() != 0 or header.sortIndicatorOrder() != Qt.SortOrder.AscendingOrder:
            self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        position = record["pos"] - 1 + delta
        if 0 <= position < len(wl.items):
            self._call(self.vm.move_symbol(wl.watchlist_id, record["symbol"], position))
