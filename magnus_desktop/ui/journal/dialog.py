"""The "Journal…" dialog: the numbers the source has now (read-only), a thesis and tags."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


class JournalDialog(QDialog):
    """Non-modal; ``on_save(thesis, tags)`` runs when the trader saves (tags: comma separated)."""

    def __init__(self, parent: QWidget | None, title: str, facts: Sequence[str],
                 on_save: Callable[[str, str], None]) -> None:
        super().__init__(parent)
        self.setObjectName("journal_dialog")
        self.setWindowTitle(f"Journal — {title}")
        self._on_save = on_save
        layout = QVBoxLayout(self)
        facts_label = QLabel("<br>".join(facts) if facts else "No numbers from the source.")
        facts_label.setObjectName("journal_facts")
        facts_label.setWordWrap(True)
        layout.addWidget(facts_label)
        layout.addWidget(QLabel("Thesis (why, what would prove it wrong):"))
        self.thesis = QPlainTextEdit(objectName="journal_thesis")
        self.thesis.setFixedHeight(90)
        layout.addWidget(self.thesis)
        self.tags = QLineEdit(objectName="journal_tags")
        self.tags.setPlaceholderText("tags, comma separated (e.g. wheel, earnings, high-iv)")
        layout.addWidget(self.tags)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def save(self) -> None:
        self._on_save(self.thesis.toPlainText(), self.tags.text())
        self.accept()
