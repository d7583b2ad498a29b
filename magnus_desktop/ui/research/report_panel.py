"""The Research report dock: the report of the research symbol as Markdown, exportable."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.ui.research.common import FollowsDock
from magnus_desktop.ui.research.report_view_model import ReportViewModel


class ReportPanel(FollowsDock):
    def __init__(self, vm: ReportViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("research_report_panel")
        self.vm = self.follower = vm
        self.status = QLabel("Waiting for the first replay day…")
        self.status.setWordWrap(True)
        self.browser = QTextBrowser()
        self.browser.setObjectName("research_report")
        self.browser.setOpenExternalLinks(False)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Build the report again (it follows the research symbol and the replay day)")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the report as Markdown (.md), HTML (.html) or JSON (.json)")
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addWidget(self.browser, 1)
        self.refresh_button.clicked.connect(lambda: vm.reload())
        self.export_button.clicked.connect(self.export_dialog)
        vm.report_changed.connect(self.show_report)
        vm.failed.connect(self.show_failure)
        vm.loading.connect(self.status.setText)

    def show_report(self, doc: dict[str, Any], markdown: str) -> None:
        self.browser.setMarkdown(markdown)
        missing = len(doc.get("missing", []))
        self.status.setText(f"{doc['symbol']} as of {doc['as_of']}" + (f" — {missing} item(s) missing or stale "
                                                                       "(listed at the end)" if missing else ""))
        self.export_button.setEnabled(True)

    def show_failure(self, text: str) -> None:
        """The report could not be built: say so and clear the old one (never shown as current)."""
        self.browser.setMarkdown(f"**{text}**")
        self.status.setText(text)
        self.export_button.setEnabled(self.vm.document is not None)

    def export_dialog(self) -> None:
        doc = self.vm.document
        if doc is None:
            return
        name = f"research-{doc['symbol']}-{doc['as_of']}.md"
        path, _ = QFileDialog.getSaveFileName(self, "Export the research report", name,
                                              "Markdown (*.md);;HTML (*.html);;JSON (*.json)")
        if path:
            self.vm.export(path, self.browser.toHtml())
