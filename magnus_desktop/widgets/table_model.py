"""A column-declared table model that coalesces updates.

Producers call :meth:`RecordTableModel.set_records` as often as they like; the model keeps only the
latest records and applies them on a timer (``flush_hz``, default 8 Hz, then its turn on the
:mod:`frame_budget` scheduler). The flush diffs by row key: same keys in the same order →
``dataChanged`` once per contiguous run of changed rows (nothing when nothing changed); the same
keys in another order → one layout change (selection follows its row); other keys → rows
inserted or removed at the end and one ``dataChanged`` over the rest (selection follows its key).
Display texts are formatted once per changed row, not on every paint.
The sort role (``SORT_ROLE``) returns raw values, so sorting is numeric, not by display text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from magnus_desktop.widgets import frame_budget
from magnus_desktop.widgets.formatting import fmt_num

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
Record = Mapping[str, Any]
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
# data() runs for every role of every painted cell: dispatch on plain ints, unknown roles first out
_DISPLAY, _SORT, _RECORD, _ALIGN, _FOREGROUND = range(5)
_ROLES: dict[int, int] = {
    int(Qt.ItemDataRole.DisplayRole.value): _DISPLAY, int(SORT_ROLE): _SORT, int(RECORD_ROLE): _RECORD,
    int(Qt.ItemDataRole.TextAlignmentRole.value): _ALIGN, int(Qt.ItemDataRole.ForegroundRole.value): _FOREGROUND,
}

#: Text colours per theme, each at least 4.5:1 (WCAG AA) against the theme's table and window
#: backgrounds (checked in tests/ui/test_usability.py): gain/loss, stale quote, no data.
TEXT_COLORS: dict[str, dict[str, str]] = {
    "dark": {"gain": "#4cc47a", "loss": "#ff7b72", "stale": "#f0ad4e", "no_data": "#a3a8b0"},
    "light": {"gain": "#1a7340", "loss": "#b52b27", "stale": "#9a5b00", "no_data": "#5f6670"},
}


def palette_theme() -> str:
    """``"dark"`` when the application's table background is dark, else ``"light"``."""
    return "dark" if QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128 else "light"


def text_color(kind: str) -> QColor:
    """The readable colour of ``kind`` (gain, loss, stale, no_data) for the current palette."""
    return QColor(TEXT_COLORS[palette_theme()][kind])


def pnl_color(value: Any) -> QColor | None:
    """Green for a gain, red for a loss, default for zero/missing."""
    if not isinstance(value, (int, float)) or math.isnan(value) or value == 0:
        return None
    return text_color("gain" if value > 0 else "loss")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: ``key`` into the record, header ``title``, display ``fmt``, optional colour.

    ``hidden``: hidden by default (the header's right-click menu shows it); ``max_width``: the
    widest (px) that fitting to contents makes it (longer text elides; the tooltip has it).
    """

    key: str
    title: str
    fmt: Callable[[Any], str] = fmt_num
    numeric: bool = True
    tooltip: str = ""
    color: Callable[[Any], QColor | None] | None = None
    hidden: bool = False
    max_width: int = 260


class RecordTableModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], key: Callable[[Record], Any], *, flush_hz: float = 8.0,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self._records: list[Record] = []
        self._keys: list[Any] = []
        #: display text per row and column, formatted on first paint, dropped when the row changes
        self._texts: list[list[str | None]] = []
        self._pending: list[Record] | None = None
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._timer = QTimer(self)
        self._timer.setInterval(max(int(1000 / flush_hz), 1))
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: frame_budget.request(self, self.flush))
        frame_budget.track(self)

    def has_pending(self) -> bool:
        """Records were set and are not shown yet (the next flush applies them)."""
        return self._pending is not None

    # ---- updates ----------------------------------------------------------------------------
    def set_records(self, records: Sequence[Record]) -> None:
        """Queue ``records`` (replacing any queued ones); applied on the next flush tick."""
        self._pending = list(records)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Apply the queued records now (see the module docstring for what is emitted)."""
        records, self._pending = self._pending, None
        if records is None:
            return
        records = self._sorted(records)
        keys = [self._key(r) for r in records]
        ncols = len(self.columns)
        if keys == self._keys:
            changed = [i for i, (old, new) in enumerate(zip(self._records, records, strict=True)) if old != new]
            self._records = records
            for i in changed:
                self._texts[i] = [None] * ncols
            for start, end in _runs(changed):
                self.dataChanged.emit(self.index(start, 0), self.index(end, ncols - 1))
            return
        if len(keys) == len(self._keys) and len(set(keys)) == len(keys) and set(keys) == set(self._keys):
            self._move_rows(records, keys)
            return
        self._replace_rows(records, keys)

    def _replace_rows(self, records: list[Record], keys: list[Any]) -> None:
        """Other rows: rows added or removed at the end, one ``dataChanged`` over the rows that stay.

        A model reset would make the view lay its items out again after the reset's repaint: two
        full viewport paints per flush instead of one. Persistent indexes (selection, current index)
        follow their row's key, or become invalid when the key is gone.
        """
        ncols = len(self.columns)
        old_keys, n_old, n_new = self._keys, len(self._keys), len(keys)
        new_row: dict[Any, int] = {}
        for i, k in enumerate(keys):
            new_row.setdefault(k, i)
        before = self.persistentIndexList()
        targets = [(new_row.get(old_keys[ix.row()], -1), ix.column()) if ix.row() < n_old else (-1, 0)
                   for ix in before]
        if n_new > n_old:
            self.beginInsertRows(QModelIndex(), n_old, n_new - 1)
        elif n_new < n_old:
            # move the survivors out of the removed range first (the removal would invalidate them)
            self.changePersistentIndexList(before, [self.index(r, c) if 0 <= r else QModelIndex()
                                                    for r, c in targets])
            self.beginRemoveRows(QModelIndex(), n_new, n_old - 1)
        old_records = self._records
        self._records, self._keys = records, keys
        self._texts = [[None] * ncols for _ in records]
        if n_new > n_old:
            self.endInsertRows()
        elif n_new < n_old:
            self.endRemoveRows()
        if n_new >= n_old:
            self.changePersistentIndexList(before, [self.index(r, c) if 0 <= r else QModelIndex()
                                                    for r, c in targets])
        changed = [i for i in range(min(n_old, n_new)) if old_records[i] != records[i]]
        if changed:
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], ncols - 1))

    def _move_rows(self, records: list[Record], keys: list[Any]) -> None:
        """The same rows in another order: one layout change; persistent indexes follow their rows."""
        self.layoutAboutToBeChanged.emit()
        old_keys = self._keys
        new_row = {k: i for i, k in enumerate(keys)}
        self._records, self._keys = records, keys
        self._texts = [[None] * len(self.columns) for _ in records]
        before = self.persistentIndexList()
        after = [self.index(new_row[old_keys[ix.row()]], ix.column()) for ix in before]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # ---- sorting (in Python, on raw values: a proxy would call data() n log n times) ---------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort rows by the raw value of ``column`` (-1 = the order the producer gave)."""
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        old_keys = self._keys
        self._records = self._sorted(self._records)
        self._keys = [self._key(r) for r in self._records]
        self._texts = [[None] * len(self.columns) for _ in self._records]
        new_row = {k: i for i, k in enumerate(self._keys)}
        before = self.persistentIndexList()  # selection and current index follow their rows
        after = [self.index(new_row[old_keys[ix.row()]], ix.column()) for ix in before]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _sorted(self, records: list[Record]) -> list[Record]:
        if not 0 <= self._sort_column < len(self.columns):
            return records
        key = self.columns[self._sort_column].key
        values = [_sort_value(r.get(key)) for r in records]
        strings = any(isinstance(v, str) for v in values)
        order = sorted(range(len(records)), key=lambda i: (str(values[i]) if strings else values[i], i),
                       reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        return [records[i] for i in order]

    def record(self, row: int) -> Record:
        return self._records[row]

    def records(self) -> list[Record]:
        return list(self._records)

    def display_text(self, record: Record, column: int) -> str:
        """The text shown for ``record`` in ``column`` (the view measures column widths with it)."""
        col = self.columns[column]
        return col.fmt(record.get(col.key))

    def foreground(self, record: Record, column: int) -> QColor | None:
        """The text colour of ``record`` in ``column`` (None: the palette's text colour)."""
        col = self.columns[column]
        return col.color(record.get(col.key)) if col.color is not None else None

    def cell(self, row: int, column: int) -> tuple[str, QColor | None, bool]:
        """What the table delegate paints: (display text, colour or None, right-aligned);
        the text is formatted once per row change (the same cache as ``DisplayRole``)."""
        texts = self._texts[row]
        text = texts[column]
        record = self._records[row]
        if text is None:
            text = texts[column] = self.display_text(record, column)
        return text, self.foreground(record, column), self.columns[column].numeric

    # ---- Qt model API -----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        col = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip or None
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        kind = _ROLES.get(role)
        if kind is None or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row >= len(self._records):
            return None
        if kind == _DISPLAY:
            texts = self._texts[row]
            text = texts[column]
            if text is None:
                text = texts[column] = self.display_text(self._records[row], column)
            return text
        record = self._records[row]
        col = self.columns[column]
        if kind == _SORT:
            return _sort_value(record.get(col.key))
        if kind == _RECORD:
            return record
        if kind == _ALIGN:
            return int(_RIGHT if col.numeric else _LEFT)
        color = self.foreground(record, column)  # _FOREGROUND
        return QBrush(color) if color is not None else None


def _sort_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return -math.inf
    if value is None:
        return ""
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of sorted row numbers: [1,2,3,7] -> [(1,3),(7,7)]."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and r == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs
