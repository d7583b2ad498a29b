"""A read-only, sortable table view over a :class:`RecordTableModel`, with a column chooser.

Right-click on the header: a checkable entry per column (show/hide), *Reset columns*, *Resize to
contents*, *Copy table* (tab-separated display text of the visible columns) and *Export CSV…*
(raw values). The hidden columns persist per table in an INI file (``QSettings``) under the
table's fixed ``objectName``. Columns fit their contents (capped at ``Column.max_width``) when
rows first arrive and grow when wider values come later, unless the trader sized them by hand;
the last section does not stretch, so no column is pushed away from the others.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QIdentityProxyModel, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QMenu,
    QMessageBox,
    QStyle,
    QTableView,
    QWidget,
)

from magnus_desktop.widgets.table_delegate import RecordDelegate
from magnus_desktop.widgets.table_model import RECORD_ROLE, Record, RecordTableModel

_SETTINGS_GROUP = "tables"
_FIT_ROWS = 2000  # rows measured when fitting a column
_REFIT_MS = 500  # widening checks after data changes: at most twice a second


class RecordTableView(QTableView):
    """Args:
    model: the records shown.
    name: fixed object name; the key of the persisted column choice.
    settings_file: INI file for the column choice (None: not persisted).
    fit_rows: rows measured when fitting a column (a table of thousands of rows measures fewer).
    """

    def __init__(self, model: RecordTableModel, parent: QWidget | None = None, *, name: str,
                 settings_file: str | Path | None = None, sortable: bool = True, fit_rows: int = _FIT_ROWS) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.fit_rows = fit_rows
        self.source_model = model
        self._settings_file = str(settings_file) if settings_file is not None else None
        # the model sorts itself (fast, on raw values); the identity proxy forwards sort() to it
        self.proxy = QIdentityProxyModel(self)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.cell_delegate = RecordDelegate(model, self)  # one call into Python per cell, cached layouts
        self.setItemDelegate(self.cell_delegate)
        self.setSortingEnabled(sortable)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)  # one-line cells: no QTextLayout line breaking per cell per paint
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # producer's order until clicked
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_header_menu)
        header.sectionResized.connect(self._on_section_resized)
        header.sortIndicatorChanged.connect(lambda *_: self._schedule_fit())
        self._fitting = False
        self._user_sized: set[int] = set()
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(_REFIT_MS)
        self._fit_timer.timeout.connect(lambda: self.fit_columns(grow_only=True))
        self._fitted = False  # the first rows get a full fit (columns may shrink from the default 100 px)
        model.modelReset.connect(self._schedule_fit)
        model.dataChanged.connect(self._schedule_fit)
        model.rowsInserted.connect(self._schedule_fit)
        self._apply_hidden(self._load_hidden())
        self.fit_columns()  # header titles until rows arrive (then cells too)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self.cell_delegate.reset()  # a theme switch or a new font: no stale layouts or colours
        super().changeEvent(event)

    # ---- records -----------------------------------------------------------------------------
    def record_at(self, proxy_row: int) -> Record | None:
        index = self.proxy.index(proxy_row, 0)
        value: Any = self.proxy.data(index, RECORD_ROLE) if index.isValid() else None
        return value

    def selected_record(self) -> Record | None:
        rows = self.selectionModel().selectedRows()
        return self.record_at(rows[0].row()) if rows else None

    # ---- column visibility -------------------------------------------------------------------
    def default_hidden(self) -> set[str]:
        return {c.key for c in self.source_model.columns if c.hidden}

    def hidden_keys(self) -> set[str]:
        return {c.key for i, c in enumerate(self.source_model.columns) if self.isColumnHidden(i)}

    def visible_columns(self) -> list[int]:
        """Logical indexes of the shown columns, in on-screen order."""
        header = self.horizontalHeader()
        logical = [header.logicalIndex(v) for v in range(header.count())]
        return [i for i in logical if not header.isSectionHidden(i)]

    def set_column_visible(self, key: str, visible: bool) -> None:
        """Show or hide the column ``key`` and remember the choice (the last shown column stays)."""
        hidden = self.hidden_keys()
        hidden = hidden - {key} if visible else hidden | {key}
        if len(hidden) >= len(self.source_model.columns):
            return
        self._apply_hidden(hidden)
        self._save_hidden(hidden)
        index = next((i for i, c in enumerate(self.source_model.columns) if c.key == key), -1)
        if visible and index >= 0 and index not in self._user_sized:  # it was not fitted while hidden
            self._fitting = True
            try:
                self.horizontalHeader().resizeSection(index, self.column_width_needed(index))
            finally:
                self._fitting = False

    def reset_columns(self) -> None:
        """Back to the declared default columns, fitted to their contents."""
        self._user_sized.clear()
        self._apply_hidden(self.default_hidden())
        settings = self._settings()
        if settings is not None:
            settings.remove(self._settings_key())
            settings.sync()
        self.fit_columns()

    def _apply_hidden(self, hidden: set[str]) -> None:
        self._fitting = True  # showing a section "resizes" it from 0: not the trader's doing
        try:
            for i, col in enumerate(self.source_model.columns):
                self.setColumnHidden(i, col.key in hidden)
        finally:
            self._fitting = False

    # ---- persistence (QSettings INI, one entry per table objectName) --------------------------
    def _settings(self) -> QSettings | None:
        if self._settings_file is None:
            return None
        return QSettings(self._settings_file, QSettings.Format.IniFormat)

    def _settings_key(self) -> str:
        return f"{_SETTINGS_GROUP}/{self.objectName()}/hidden"

    def _load_hidden(self) -> set[str]:
        settings = self._settings()
        value = settings.value(self._settings_key()) if settings is not None else None
        if not isinstance(value, str):
            return self.default_hidden()
        known = {c.key for c in self.source_model.columns}
        hidden = {k for k in value.split(",") if k in known}
        return hidden if len(hidden) < len(known) else self.default_hidden()

    def _save_hidden(self, hidden: set[str]) -> None:
        settings = self._settings()
        if settings is not None:
            settings.setValue(self._settings_key(), ",".join(sorted(hidden)))
            settings.sync()

    # ---- column widths ------------------------------------------------------------------------
    def _schedule_fit(self, *_args: Any) -> None:
        """First rows: fit now; later changes: widen what needs it, at most every ``_REFIT_MS``."""
        if self.source_model.rowCount() == 0:
            return
        if not self._fitted:
            self.fit_columns()
        elif not self._fit_timer.isActive():
            self._fit_timer.start()

    def title_width(self, column: int) -> int:
        """Pixels the header text of ``column`` needs (with the sort arrow when it is the sort column)."""
        header = self.horizontalHeader()
        style = header.style()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
        width = header.fontMetrics().horizontalAdvance(self.source_model.columns[column].title) + 2 * margin + 6
        if column == header.sortIndicatorSection() and header.isSortIndicatorShown():
            width += style.pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header) + margin
        return width

    def cells_width(self, column: int) -> int:
        """Pixels the display text of ``column`` needs (``model.display_text``), measured on its
        longest texts (over at most ``fit_rows`` rows). Qt's ``sizeHintForColumn`` asks the model for every role of every row
        (~12 ms per column at 400 rows); formatting the raw values costs a fraction of that."""
        model = self.source_model
        texts = {model.display_text(r, column) for r in model.records()[:self.fit_rows]}
        if not texts:
            return 0
        metrics = self.fontMetrics()
        margin = 2 * (self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1)
        # the width is capped at max_width px and no character is narrower than 1 px: measuring
        # max_width characters is enough (a wheel cycle's steps run to thousands of characters)
        cap = model.columns[column].max_width
        longest = sorted(texts, key=len, reverse=True)[:4]
        return max(metrics.horizontalAdvance(t[:cap]) for t in longest) + margin + int(self.showGrid()) + 2

    def column_width_needed(self, column: int) -> int:
        """Width (px) that shows the header and the cells of ``column``, capped at its ``max_width``."""
        needed = max(self.cells_width(column), self.title_width(column))
        return min(needed, self.source_model.columns[column].max_width)

    def fit_columns(self, *, grow_only: bool = False) -> None:
        """Size the visible columns to their contents; ``grow_only`` widens only (and leaves
        columns the trader resized by hand alone)."""
        if not grow_only:
            self._user_sized.clear()
        self._fitted = self._fitted or self.source_model.rowCount() > 0
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for i in self.visible_columns():
                if grow_only and i in self._user_sized:
                    continue
                width = self.column_width_needed(i)
                if width > header.sectionSize(i) or not grow_only:
                    header.resizeSection(i, width)
        finally:
            self._fitting = False

    def _on_section_resized(self, logical: int, _old: int, new: int) -> None:
        if not self._fitting and new > 0:
            self._user_sized.add(logical)

    # ---- copy / export ------------------------------------------------------------------------
    def table_text(self) -> str:
        """The visible columns as tab-separated display text, header first, rows as shown."""
        columns = self.visible_columns()
        lines = ["\t".join(self.source_model.columns[i].title for i in columns)]
        for row in range(self.proxy.rowCount()):
            cells = [str(self.proxy.index(row, i).data() or "") for i in columns]
            lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells))
        return "\n".join(lines) + "\n"

    def copy_table(self) -> None:
        QGuiApplication.clipboard().setText(self.table_text())

    def export_csv(self, path: str | Path) -> int:
        """Write the visible columns' raw values (header = titles, rows as shown) to ``path``.

        Returns the number of data rows written. Raises ``OSError`` when the file cannot be written.
        """
        columns = self.visible_columns()
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([self.source_model.columns[i].title for i in columns])
            for row in range(self.proxy.rowCount()):
                record = self.record_at(row) or {}
                writer.writerow([_raw(record.get(self.source_model.columns[i].key)) for i in columns])
        return self.proxy.rowCount()

    def export_csv_dialog(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, "Export table as CSV", f"{self.objectName()}.csv",
                                                    "CSV files (*.csv);;All files (*)")
        if not path:
            return
        try:
            self.export_csv(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export CSV", f"Could not write {path}:\n{exc}")

    # ---- header menu --------------------------------------------------------------------------
    def header_menu(self) -> QMenu:
        """The header's right-click menu: a checkable entry per column, then the table actions."""
        menu = QMenu(self)
        menu.setObjectName(f"{self.objectName()}_columns_menu")
        shown = len(self.visible_columns())
        for i, col in enumerate(self.source_model.columns):
            action = QAction(col.title, menu)
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(i))
            action.setEnabled(self.isColumnHidden(i) or shown > 1)
            action.setToolTip(col.tooltip)
            action.setData(col.key)
            action.toggled.connect(lambda on, key=col.key: self.set_column_visible(key, on))
            menu.addAction(action)
        menu.addSeparator()
        for text, slot in (("Reset columns", self.reset_columns), ("Resize to contents", self.fit_columns),
                           ("Copy table", self.copy_table), ("Export CSV…", self.export_csv_dialog)):
            action = QAction(text, menu)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(action)
        menu.setToolTipsVisible(True)
        return menu

    def _show_header_menu(self, pos: QPoint) -> None:
        menu = self.header_menu()
        menu.exec(self.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()


def _raw(value: Any) -> Any:
    """A CSV cell: dates as ISO text, missing (None/NaN) as an empty cell, numbers unformatted."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, str)):
        return value
    return str(value)

