"""What the four research-desk docks share: a header (symbol, day, source), a line that says what is
missing or out of date, and computing only while the dock can be seen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from magnus_desktop.ui.research.desk_view_model import DeskViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.table_model import text_color


class DeskPanel(QWidget):
    """Base of the research-desk panels: ``show_report`` is the subclass's; the rest is here."""

    def __init__(self, vm: DeskViewModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.vm = vm
        follow_dock_visibility(self, self.vm.set_visible)
        self.header = QLabel()
        self.header.setObjectName(f"{name}_header")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes = QLabel()
        self.notes.setObjectName(f"{name}_notes")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(4, 4, 4, 4)
        self.column.addWidget(self.header)
        self.column.addWidget(self.notes)
        self.stale = True
        vm.report_ready.connect(self._on_vm_report_ready)
        vm.pending.connect(self._on_vm_pending)
        vm.failed.connect(self._on_vm_failed)
        self.header.setText(f"{vm.symbol()} — waiting for the dock to be shown…")

    # ---- report flow ------------------------------------------------------------------------------
    def _on_vm_report_ready(self, report: Any) -> None:
        self.stale = False
        self.setEnabled(True)
        self.show_report(report)

    def _on_vm_pending(self, why: str) -> None:
        """Out of date: grey the figures and say so (they are never shown as current)."""
        self.stale = True
        self.set_figures_enabled(False)
        self.header.setText(f"{self.vm.symbol()} · {self._day_text()} — updating ({why})…")

    def _on_vm_failed(self, message: str) -> None:
        self.stale = True
        self.set_figures_enabled(False)
        self.set_notes([message])

    def _day_text(self) -> str:
        day = self.vm.day()
        return day.isoformat() if day is not None else "no day"

    def set_figures_enabled(self, enabled: bool) -> None:
        """Subclasses grey their tables/charts while the figures are out of date."""

    def show_report(self, report: Any) -> None:
        raise NotImplementedError

    def set_notes(self, lines: Sequence[str], warn: bool = False) -> None:
        """What is missing (or a warning in the loss colour); hidden when there is nothing to say."""
        self.notes.setVisible(bool(lines))
        self.notes.setText("\n".join(lines))
        self.notes.setStyleSheet(f"color: {text_color('loss' if warn else 'no_data').name()};")


def records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as dicts (an empty or missing frame gives none); timestamps become dates
    (every figure here is end-of-day)."""
    if frame is None or len(frame) == 0:
        return []
    out = frame.to_dict("records")
    for row in out:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = None if pd.isna(value) else value.date()
    return out
