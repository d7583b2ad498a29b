"""The Kalshi API key: key id plus the private key's PEM file (or its text pasted). The view model
checks the key and stores it in the OS keyring; nothing is written anywhere else."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.ui.kalshi.view_model import KalshiViewModel
from magnus_desktop.widgets.table_model import text_color


class KalshiKeyDialog(QDialog):
    def __init__(self, vm: KalshiViewModel, environment: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kalshi_key_dialog")
        self.setWindowTitle(f"Kalshi API key ({environment})")
        self._vm = vm
        self.key_id = QLineEdit(objectName="kalshi_key_id", placeholderText="a952bcbe-ec3b-4b5b-…")
        self.path = QLineEdit(objectName="kalshi_key_path", placeholderText="/path/to/kalshi-key.key")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.pem = QPlainTextEdit(objectName="kalshi_key_pem")
        self.pem.setPlaceholderText("…or paste the PEM text (-----BEGIN RSA PRIVATE KEY----- …)")
        self.pem.setMaximumHeight(110)
        self.error = QLabel(objectName="kalshi_key_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {text_color('loss').name()};")
        note = QLabel("The key id and the private key (or the path of its file) are kept in the system keyring, "
                      "never in the settings file. Requests are signed on this computer; the key is never sent.")
        note.setWordWrap(True)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Key id", self.key_id)
        form.addRow("Private key file", path_row)
        form.addRow("or PEM text", self.pem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(note)
        column.addLayout(form)
        column.addWidget(self.error)
        column.addWidget(self.buttons)
        vm.key_saved.connect(self._on_saved)
        vm.failed.connect(self._on_failed)
        self.setMinimumWidth(480)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Kalshi private key", "", "Keys (*.key *.pem *.txt);;All files (*)")
        if path:
            self.path.setText(path)

    def _save(self) -> None:
        self.error.setText("Checking the key…")
        self.buttons.setEnabled(False)
        self._vm.save_key(self.key_id.text(), self.pem.toPlainText(), self.path.text())

    def _on_saved(self) -> None:
        self.accept()

    def _on_failed(self, what: str, message: str) -> None:
        if what == "API key":
            self.error.setText(message)
            self.buttons.setEnabled(True)
