"""A read-only, sortable table view over a :class:`RecordTableModel`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QIdentityProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from magnus_desktop.widgets.table_model import RECORD_ROLE, Record, RecordTableModel


class RecordTableView(QTableView):
    def __init__(self, model: RecordTableModel, parent: QWidget | None = None, *, sortable: bool = True) -> None:
        super().__init__(parent)
        self.source_model = model
        # the model sorts itself (fast, on raw values); the identity proxy forwards sort() to it
        self.proxy = QIdentityProxyModel(self)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.setSortingEnabled(sortable)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # producer's order until clicked
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        model.modelReset.connect(self._fit_columns_once)
        self._fitted = False

    def _fit_columns_once(self) -> None:
        if not self._fitted and self.source_model.rowCount() > 0:
            self.resizeColumnsToContents()
            self._fitted = True

    def record_at(self, proxy_row: int) -> Record | None:
        index = self.proxy.index(proxy_row, 0)
        value: Any = self.proxy.data(index, RECORD_ROLE) if index.isValid() else None
        return value

    def selected_record(self) -> Record | None:
        rows = self.selectionModel().selectedRows()
        return self.record_at(rows[0].row()) if rows else None
