"""Health dock: is the app itself healthy?

* **Status** — connections (broker session state, last message age, reconnects; the market-data
  source per kind with its cache hit rate; Kalshi; the assistant model), latency p50/p95 per service
  call (executor calls), GUI loop lag p99 over the last minute, process memory, database size.
* **Backup** — one-click backup of the database, settings, layout and notes to a zip, and restore
  from such a zip (checked fully before anything is replaced; a safety copy is kept).
* **Log** — the tail of the current log file, filtered by level and text; copy selected or all.

Figures refresh at most once a second and only while the dock can be seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.services.health.logtail import LEVEL_NAMES, LogRecordText
from magnus_desktop.services.health.service import HealthSnapshot
from magnus_desktop.ui.health.view_model import HealthViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import text_color

CONNECTION_HEADERS = ("Connection", "State", "Detail")
LATENCY_HEADERS = ("Service call (executor: function)", "Calls", "p50 ms", "p95 ms", "max ms")


def _table(name: str, headers: Sequence[str], stretch_last: bool = True) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(stretch_last)
    return t


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    """Set the rows, touching only cells whose text changed (a once-a-second refresh repaints little)."""
    if table.rowCount() != len(rows):
        table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem(text)
                if c > 0 and table.objectName() == "health_latency":
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
            elif item.text() != text:
                item.setText(text)
            else:
                continue
            if c == len(row) - 1 and table.objectName() == "health_connections":
                item.setToolTip(text)


def _mb(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 1e6:,.1f} MB"


def summary_lines(snap: HealthSnapshot) -> list[str]:
    """The Status tab's header lines: memory, loop lag, database, last backup."""
    lag = snap.lag
    lag_text = ("GUI loop lag: measuring (shown after two ticks)" if lag is None else
                f"GUI loop lag p99 {lag.p99_ms:,.0f} ms (p50 {lag.p50_ms:,.0f}, max {lag.max_ms:,.0f}) over the last "
                f"{lag.span_s:,.0f} s this panel was shown ({lag.samples:,} ticks)")
    mem = f"Memory {_mb(snap.rss_bytes)} — {snap.memory_note}"
    db = f"Database: {snap.db} — {_mb(snap.db_bytes)}" + (f" · {snap.db_note}" if snap.db_note else "")
    last = ("Last backup: none yet" if snap.last_backup is None else
            f"Last backup: {snap.last_backup_at.astimezone():%Y-%m-%d %H:%M} — {snap.last_backup}"
            if snap.last_backup_at is not None else f"Last backup: {snap.last_backup}")
    return [f"{mem} · {lag_text}", db, last]


class HealthPanel(QWidget):
    def __init__(self, vm: HealthViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        follow_dock_visibility(self, self.vm.set_visible)
        self.backup_folder: Path = vm.backup_dir()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("health_tabs")
        self.tabs.addTab(self._status_page(), "Status")
        self.tabs.addTab(self._backup_page(), "Backup")
        self.tabs.addTab(self._log_page(), "Log")
        self.tabs.currentChanged.connect(lambda i: vm.set_log_visible(self.tabs.widget(i) is self.log_page))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        vm.snapshot_changed.connect(self.show_snapshot)
        vm.log_changed.connect(self.show_log)
        vm.log_problem.connect(lambda text: set_label(self.log_status, text))
        vm.busy_changed.connect(self._set_busy)
        vm.finished.connect(self._on_vm_finished)

    # ---- pages ------------------------------------------------------------------------------------
    def _status_page(self) -> QWidget:
        page = QWidget()
        self.summary = QLabel("Figures appear while this panel is shown.")
        self.summary.setObjectName("health_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.connections = _table("health_connections", CONNECTION_HEADERS)
        self.latency = _table("health_latency", LATENCY_HEADERS, stretch_last=False)
        self.connections.setWordWrap(False)
        self.connections.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.latency.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for t in (self.connections, self.latency):
            t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.connections)
        split.addWidget(self.latency)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        v = QVBoxLayout(page)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(self.summary)
        v.addWidget(split, 1)
        return page

    def _backup_page(self) -> QWidget:
        page = QWidget()
        intro = QLabel("A backup zip holds the database (SQLite), settings, window layout and your notes folder. "
                       "Passwords and keys stay in the system keyring and are not in it. A restore checks the zip "
                       "completely first and keeps a copy of your current data.")
        intro.setWordWrap(True)
        self.backup_facts = QLabel()
        self.backup_facts.setObjectName("health_backup_facts")
        self.backup_facts.setWordWrap(True)
        self.backup_facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("health_backup_folder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.backup_button = QPushButton("Back up now")
        self.backup_button.setObjectName("health_backup_now")
        self.backup_button.clicked.connect(self.backup_now)
        self.folder_button = QPushButton("Change folder…")
        self.folder_button.clicked.connect(self.choose_folder)
        self.restore_button = QPushButton("Restore from backup…")
        self.restore_button.setObjectName("health_restore")
        self.restore_button.clicked.connect(self.choose_restore)
        self.job_status = QLabel()
        self.job_status.setObjectName("health_job_status")
        self.job_status.setWordWrap(True)
        self.job_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.backup_button, self.folder_button, self.restore_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        v = QVBoxLayout(page)
        v.addWidget(intro)
        v.addWidget(self.backup_facts)
        v.addWidget(self.folder_label)
        v.addLayout(buttons)
        v.addWidget(self.job_status)
        v.addStretch(1)
        self._show_folder()
        return page

    def _log_page(self) -> QWidget:
        self.log_page = QWidget()
        self.level_box = QComboBox()
        self.level_box.setObjectName("health_log_level")
        self.level_box.addItems([f"{name} and above" for name in LEVEL_NAMES[:4]])
        self.search_box = QLineEdit()
        self.search_box.setObjectName("health_log_search")
        self.search_box.setPlaceholderText("Search the log…")
        self.search_box.setClearButtonEnabled(True)
        self.level_box.currentIndexChanged.connect(self._filter_changed)
        self.search_box.textChanged.connect(self._filter_changed)
        copy_sel = QPushButton("Copy selected")
        copy_sel.clicked.connect(self.copy_selected)
        copy_all = QPushButton("Copy all")
        copy_all.clicked.connect(self.copy_all)
        self.log_list = QListWidget()
        self.log_list.setObjectName("health_log")
        self.log_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.log_list.setUniformItemSizes(False)
        self.log_list.setWordWrap(False)
        QShortcut(QKeySequence.StandardKey.Copy, self.log_list, self.copy_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.log_status = QLabel()
        self.log_status.setObjectName("health_log_status")
        self.log_status.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.level_box)
        bar.addWidget(self.search_box, 1)
        bar.addWidget(copy_sel)
        bar.addWidget(copy_all)
        v = QVBoxLayout(self.log_page)
        v.setContentsMargins(4, 4, 4, 4)
        v.addLayout(bar)
        v.addWidget(self.log_list, 1)
        v.addWidget(self.log_status)
        self._records: list[LogRecordText] = []
        return self.log_page

    # ---- status -----------------------------------------------------------------------------------
    def show_snapshot(self, snap: HealthSnapshot) -> None:
        lines = summary_lines(snap)
        set_label(self.summary, "\n".join(lines))
        set_label(self.backup_facts, "\n".join(lines[1:]))
        _fill(self.connections, [(c.name, c.state, c.detail) for c in snap.connections])
        _fill(self.latency, [(r.key, f"{r.calls:,}", f"{r.p50_ms:,.1f}", f"{r.p95_ms:,.1f}", f"{r.max_ms:,.1f}")
                             for r in snap.latency])

    # ---- backup -----------------------------------------------------------------------------------
    def _show_folder(self) -> None:
        set_label(self.folder_label, f"Backups go to: {self.backup_folder}")

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for backups", str(self.backup_folder))
        if folder:
            self.backup_folder = Path(folder)
            self._show_folder()

    def backup_now(self) -> None:
        set_label(self.job_status, "Backing up…")
        self.vm.backup(self.backup_folder)

    def choose_restore(self) -> None:
        start = self.backup_folder if self.backup_folder.is_dir() else self.vm.backup_dir()
        path, _filter = QFileDialog.getOpenFileName(self, "Restore from a backup", str(start),
                                                    "Magnus Desktop backup (*.zip);;All files (*)")
        if not path:
            return
        answer = QMessageBox.question(
            self, "Restore from a backup",
            f"Replace the current database, settings, layout and notes with the contents of {Path(path).name}?\n\n"
            "The zip is checked completely first; a copy of your current data is kept in the backups folder.")
        if answer == QMessageBox.StandardButton.Yes:
            self.restore_from(Path(path))

    def restore_from(self, path: Path) -> None:
        set_label(self.job_status, f"Checking {path.name}…")
        self.vm.restore(path)

    def _set_busy(self, busy: bool) -> None:
        for b in (self.backup_button, self.restore_button, self.folder_button):
            b.setEnabled(not busy)

    def _on_vm_finished(self, ok: bool, message: str) -> None:
        set_label(self.job_status, message if ok else f"⚠ {message}")
        if ok:
            self.vm.refresh()

    # ---- log --------------------------------------------------------------------------------------
    def _filter_changed(self, *_args: object) -> None:
        self.vm.set_filter(LEVEL_NAMES[self.level_box.currentIndex()], self.search_box.text())

    def show_log(self, records: list[LogRecordText], total: int, partial: bool) -> None:
        at_end = self.log_list.verticalScrollBar().value() >= self.log_list.verticalScrollBar().maximum() - 2
        self._records = list(records)
        self.log_list.setUpdatesEnabled(False)
        self.log_list.clear()
        self.log_list.addItems([r.text for r in records])
        colors = {"WARNING": text_color("stale"), "ERROR": text_color("loss"), "CRITICAL": text_color("loss")}
        for i, r in enumerate(records):
            color = colors.get(r.level)
            if color is not None:
                self.log_list.item(i).setForeground(color)
        self.log_list.setUpdatesEnabled(True)
        if at_end:
            self.log_list.scrollToBottom()
        note = " (the newest part of the file)" if partial else ""
        set_label(self.log_status, f"{len(records):,} of {total:,} records shown{note} · "
                                   f"{datetime.now():%H:%M:%S}")

    def selected_text(self) -> str:
        rows = sorted(self.log_list.row(i) for i in self.log_list.selectedItems())
        return "\n".join(self._records[r].text for r in rows)

    def copy_selected(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(r.text for r in self._records))
