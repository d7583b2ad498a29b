"""Audit viewer dock: the append-only order log, newest first, filtered by account, action, text
and a UTC date range, one page at a time (read on the DB thread), exported as CSV."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.audit import AUDIT_ACTIONS, AuditEntry, AuditFilter
from magnus_desktop.ui.audit.view_model import AuditViewModel
from magnus_desktop.ui.orders_blotter.panel import FullTextTableModel, fmt_qty, fmt_time_ms
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import MISSING, fmt_num
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import Column, text_color

PAGE_SIZE = 200
ALL_ACCOUNTS, ALL_ACTIONS = "All accounts", "All actions"
#: the QDateEdit value meaning "no bound" (shown as "any")
_NO_DATE = QDate(2000, 1, 1)


def _action_color(action: Any) -> Any:
    return text_color("loss") if action == "rejected" else None


COLUMNS = (
    Column("at", "Time (UTC)", fmt_time_ms, numeric=False),
    Column("account", "Account", str, numeric=False, max_width=180),
    Column("action", "Action", str, numeric=False, color=_action_color),
    Column("symbol", "Contract", str, numeric=False),
    Column("side", "Side", str, numeric=False),
    Column("qty", "Qty", fmt_qty, tooltip="Contracts ordered"),
    Column("result", "Result", str, numeric=False, max_width=340,
           tooltip="The broker's or our rules' answer (hover a cell for all of it)"),
    Column("filled_qty", "Filled", fmt_qty, tooltip="Contracts filled at this status"),
    Column("avg_fill_price", "Avg fill", fmt_num, tooltip="USD per share"),
    Column("latency_ms", "Latency ms", lambda v: fmt_num(v, 1),
           tooltip="Milliseconds from the order's submission to this status (— for the submission itself "
                   "and for refusals before any broker call)"),
    Column("broker_order_id", "Broker id", str, numeric=False, max_width=300),
    Column("order_ref", "Order ref", str, numeric=False, hidden=True),
    Column("params", "Parameters", str, numeric=False, hidden=True, max_width=500),
    Column("preview", "Preview", str, numeric=False, hidden=True, max_width=500,
           tooltip="The broker's rules at submission: USD amounts, prices USD per share"),
)


def audit_record(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.entry_id, "at": e.at, "account": e.account, "action": e.action,
            "symbol": e.params.get("symbol", MISSING), "side": e.params.get("action", ""),
            "qty": e.params.get("qty"), "result": e.result, "filled_qty": e.filled_qty,
            "avg_fill_price": e.avg_fill_price, "latency_ms": e.latency_ms, "broker_order_id": e.broker_order_id,
            "order_ref": e.order_ref, "params": json.dumps(e.params, sort_keys=True),
            "preview": json.dumps(e.preview, sort_keys=True)}


def _date_edit(name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(_NO_DATE)
    edit.setSpecialValueText("any")
    edit.setDate(_NO_DATE)
    return edit


def _day(edit: QDateEdit) -> date | None:
    d = edit.date()
    return None if d == _NO_DATE else date(d.year(), d.month(), d.day())


class AuditPanel(QWidget):
    def __init__(self, vm: AuditViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.offset, self.total = 0, 0
        self.model = FullTextTableModel(COLUMNS, key=lambda r: r["id"], parent=self)
        self.table = record_table(self.model, self, "audit_table")
        self.account = QComboBox()
        self.account.setObjectName("audit_account")
        self.account.addItem(ALL_ACCOUNTS)
        self.action = QComboBox()
        self.action.setObjectName("audit_action")
        self.action.addItems([ALL_ACTIONS, *AUDIT_ACTIONS])
        self.text = QLineEdit()
        self.text.setObjectName("audit_text")
        self.text.setPlaceholderText("order ref, contract, result…")
        self.text.setClearButtonEnabled(True)
        self.since, self.until = _date_edit("audit_since"), _date_edit("audit_until")
        self.since.setToolTip("From this UTC day (any = no bound)")
        self.until.setToolTip("Up to and including this UTC day (any = no bound)")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Every row matching the filters (all pages), raw values, UTC times")
        self.prev_button, self.next_button = QPushButton("◀ Newer"), QPushButton("Older ▶")
        self.page_label = QLabel("Loading…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(250)  # one query after a burst of typing or new rows
        self._reload_timer.timeout.connect(lambda: self.reload(self.offset))
        self._lay_out()
        self.account.currentIndexChanged.connect(self._filters_changed)
        self.action.currentIndexChanged.connect(self._filters_changed)
        self.text.textChanged.connect(self._filters_changed)
        self.since.dateChanged.connect(self._filters_changed)
        self.until.dateChanged.connect(self._filters_changed)
        self.prev_button.clicked.connect(lambda: self.reload(max(self.offset - PAGE_SIZE, 0)))
        self.next_button.clicked.connect(lambda: self.reload(self.offset + PAGE_SIZE))
        self.export_button.clicked.connect(self.export_dialog)
        vm.page_loaded.connect(self._on_vm_page_loaded)
        vm.accounts_loaded.connect(self._on_vm_accounts_loaded)
        vm.entry_added.connect(self._on_vm_entry_added)
        vm.exported.connect(self._on_vm_exported)
        vm.failed.connect(self._on_vm_failed)
        vm.opened.connect(self._on_vm_opened)
        if vm.is_open:
            self._on_vm_opened()
        else:
            set_label(self.status, "Opening the audit log…")

    def _lay_out(self) -> None:
        # two rows, so the dock fits beside Positions on a 1280 px screen
        filters, dates = QHBoxLayout(), QHBoxLayout()
        for row, label, widget in ((filters, "Account", self.account), (filters, "Action", self.action),
                                   (filters, "Text", self.text), (dates, "From", self.since), (dates, "To", self.until)):
            row.addWidget(QLabel(label))
            row.addWidget(widget, 2 if widget is self.text else 0)
        dates.addStretch(1)
        dates.addWidget(self.export_button)
        pages = QHBoxLayout()
        pages.addWidget(self.prev_button)
        pages.addWidget(self.page_label)
        pages.addWidget(self.next_button)
        pages.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addLayout(dates)
        layout.addWidget(self.table, 1)
        layout.addLayout(pages)

    def current_filter(self) -> AuditFilter:
        account = self.account.currentText()
        action = self.action.currentText()
        since, until = _day(self.since), _day(self.until)
        return AuditFilter(account="" if account == ALL_ACCOUNTS else account,
                           action="" if action == ALL_ACTIONS else action, text=self.text.text().strip(),
                           since=datetime.combine(since, time(), UTC) if since else None,
                           until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None)

    def reload(self, offset: int = 0) -> None:
        """Ask for the page at ``offset`` with the current filters (answered on ``page_loaded``)."""
        self.vm.load(self.current_filter(), max(offset, 0), PAGE_SIZE)

    def _filters_changed(self, *_args: object) -> None:
        self.offset = 0
        self._reload_timer.start()

    def _on_vm_page_loaded(self, entries: list[AuditEntry], total: int, offset: int, flt: AuditFilter) -> None:
        if flt != self.current_filter():
            return  # the filters changed while it was read; the newer request follows
        self.offset, self.total = offset, total
        self.model.set_records([audit_record(e) for e in entries])
        shown = f"{offset + 1}–{offset + len(entries)}" if entries else "0"
        self.page_label.setText(f"rows {shown} of {total}, newest first")
        self.prev_button.setEnabled(offset > 0)
        self.next_button.setEnabled(offset + len(entries) < total)

    def _on_vm_accounts_loaded(self, accounts: list[str]) -> None:
        current = self.account.currentText()
        known = {self.account.itemText(i) for i in range(self.account.count())}
        for name in accounts:
            if name not in known:
                self.account.addItem(name)
        self.account.setCurrentText(current)

    def _on_vm_entry_added(self, entry: AuditEntry) -> None:
        if self.account.findText(entry.account) < 0:
            self.account.addItem(entry.account)
        if self.offset == 0 and not self._reload_timer.isActive():
            self._reload_timer.start()

    def export_dialog(self) -> None:
        """Ask where to save, then export every matching row (off the GUI thread)."""
        path, _ = QFileDialog.getSaveFileName(self, "Export audit log as CSV", "audit_log.csv",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        set_label(self.status, f"Exporting to {path}…")
        self.export_button.setEnabled(False)
        self.vm.export(path, self.current_filter())

    def _on_vm_opened(self) -> None:
        set_label(self.status, "")
        self.vm.load_accounts()
        self.reload(self.offset)

    def _on_vm_failed(self, text: str) -> None:
        self.export_button.setEnabled(True)
        set_label(self.status, text, text_color("loss"))

    def _on_vm_exported(self, path: str, rows: int) -> None:
        self.export_button.setEnabled(True)
        set_label(self.status, f"Exported {rows} rows to {path}.")
