"""The one place the docks get their record tables: fixed names, column choice in ``tables.ini``."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from magnus_desktop.services.paths import app_paths
from magnus_desktop.widgets.table_model import RecordTableModel
from magnus_desktop.widgets.table_view import RecordTableView


def record_table(model: RecordTableModel, parent: QWidget | None, name: str, **options: Any) -> RecordTableView:
    """A :class:`RecordTableView` named ``name`` whose shown/hidden columns persist in the user's
    config dir (``tables.ini``, next to ``layout.ini``); ``options`` go to the view (``fit_rows``)."""
    return RecordTableView(model, parent, name=name, settings_file=app_paths().config_dir / "tables.ini", **options)
