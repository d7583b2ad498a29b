"""File → Import broker statement…: pick a file, its kind (detected or chosen) and the account
name, see a dry-run preview (counts, skipped lines, cash reconciliation), then import it. Parsing
and storing run off the GUI thread; an error names the file and line and nothing is stored."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.services.imports import ImportReport
from magnus_desktop.ui.history.view_model import ImportViewModel
from magnus_desktop.ui.settings.dialog import error_label

KINDS = (("Detect from the file", None), ("IBKR Flex Query XML", "ibkr-flex"),
         ("Robinhood activity CSV", "robinhood-csv"))
FILE_FILTER = "Broker statements (*.xml *.csv);;IBKR Flex XML (*.xml);;Robinhood CSV (*.csv);;All files (*)"
MAX_SKIPPED_SHOWN = 8


def describe_report(report: ImportReport) -> str:
    """The preview/result as rich text: counts, skipped lines, reconciliation per currency."""
    verb = "Would import" if report.dry_run else "Imported"
    kinds = ", ".join(f"{n:,} {k}" for k, n in report.by_kind.items()) or "no events"
    parts = [f"<b>{html.escape(report.path.name)}</b> ({report.kind}, account "
             f"<b>{html.escape(report.account)}</b>)",
             f"{verb} {report.rows_imported:,} events: {kinds}."]
    if report.duplicates:
        parts.append(f"{report.duplicates:,} already stored (or repeated in the file): skipped.")
    if report.positions_imported:
        parts.append(f"{report.positions_imported:,} open positions listed by the statement.")
    if report.skipped:
        shown = "".join(f"<li>line {s.line}: {html.escape(s.reason)}</li>" for s in report.skipped[:MAX_SKIPPED_SHOWN])
        more = len(report.skipped) - MAX_SKIPPED_SHOWN
        parts.append(f"{len(report.skipped)} {'line' if len(report.skipped) == 1 else 'lines'} not imported:<ul style='margin:0'>{shown}</ul>"
                     + (f"… and {more} more." if more > 0 else ""))
    if report.reconciliation:
        rows = "".join(
            f"<tr><td>{r.currency}</td><td>{r.source}</td><td align='right'>{r.statement_balance:,.2f}</td>"
            f"<td align='right'>{r.computed_balance:,.2f}</td><td align='right'>{round(r.difference, 2) + 0.0:+,.2f}</td>"
            f"<td>{'✓' if r.ok else '✗ differs'}</td></tr>" for r in report.reconciliation)
        parts.append("Cash reconciliation (statement vs. computed from the imported movements):"
                     "<table cellspacing='6'><tr><th>Cur.</th><th>Section</th><th>Statement</th><th>Computed</th>"
                     f"<th>Diff.</th><th></th></tr>{rows}</table>")
    else:
        parts.append("The file states no cash balance to reconcile.")
    return "<br>".join(parts)


class ImportDialog(QDialog):
    """Window-modal, never blocking: preview and import run on the view model's async slots."""

    def __init__(self, vm: ImportViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.setWindowTitle("Import broker statement")
        self.setMinimumWidth(640)
        self.resize(700, 520)
        self.path = QLineEdit()
        self.path.setPlaceholderText("IBKR Flex Query XML or Robinhood account-activity CSV")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.kind = QComboBox()
        for label, kind in KINDS:
            self.kind.addItem(label, kind)
        self.account = QLineEdit()
        self.account.setPlaceholderText("default: the statement's account id (IBKR) or 'robinhood'")
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Kind", self.kind)
        form.addRow("Account", self.account)
        self.detected = QLabel()
        form.addRow("", self.detected)
        self.preview_label = QTextBrowser()
        self.preview_label.setPlaceholderText("Choose a file to see what it holds before anything is stored.")
        self.preview_label.setMinimumHeight(260)
        self.error = error_label()
        self.buttons = QDialogButtonBox()
        self.preview_button = self.buttons.addButton("Preview", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.import_button.setEnabled(False)
        self.preview_button.clicked.connect(self.preview)
        self.import_button.clicked.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview_label, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.path.editingFinished.connect(self.preview)
        self.kind.currentIndexChanged.connect(lambda _i: self.preview())
        self.account.editingFinished.connect(self.preview)
        vm.previewed.connect(self.show_preview)
        vm.imported.connect(self.show_imported)
        vm.failed.connect(self.show_error)
        vm.busy_changed.connect(self._set_busy)
        self._previewed_for: tuple[str, object, str] | None = None

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import broker statement", self.path.text(), FILE_FILTER)
        if name:
            self.path.setText(name)
            self.preview()

    def _request(self) -> tuple[str, object, str]:
        return self.path.text().strip(), self.kind.currentData(), self.account.text().strip()

    def preview(self) -> None:
        path, kind, account = self._request()
        self.import_button.setEnabled(False)
        if not path:
            return
        if kind is None:
            detected = self.vm.detect(path)
            self.detected.setText(f"Detected: {dict((k, lbl) for lbl, k in KINDS)[detected]}" if detected
                                  else "Kind not recognised from the first lines")
        else:
            self.detected.setText("")
        self._previewed_for = None
        self.vm.preview(path, kind, account)

    def show_preview(self, report: ImportReport) -> None:
        self.error.setVisible(False)
        self.preview_label.setHtml(describe_report(report))
        self._previewed_for = self._request()
        self.import_button.setEnabled(True)

    def start_import(self) -> None:
        request = self._request()
        if request != self._previewed_for:  # the fields changed since the preview: preview first
            self.preview()
            return
        self.import_button.setEnabled(False)
        self.vm.run_import(*request)

    def show_imported(self, report: ImportReport) -> None:
        self.error.setVisible(False)
        self.preview_label.setHtml(describe_report(report))
        self._previewed_for = None

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
        self.preview_label.setHtml("<b>Nothing was stored.</b>")
        self.import_button.setEnabled(False)

    def _set_busy(self, busy: bool) -> None:
        self.preview_button.setEnabled(not busy)
        if busy:
            self.import_button.setEnabled(False)
