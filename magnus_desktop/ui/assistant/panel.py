"""The Assistant dock: sessions, the transcript (tool results as cards/tables, streamed answers,
citations that open their passage), the question box, Stop, the status line and the disclaimer.

Enter sends, Shift+Enter starts a new line, Esc stops. The streamed answer is repainted at most
every 66 ms (only the live turn is replaced), so generation never stalls the window.
"""

from __future__ import annotations

import html
import math
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.assistant.service import DISCLAIMER, Answer, ModelState, ToolCall
from magnus_desktop.services.assistant.store import ChatMessage, ChatSession
from magnus_desktop.services.assistant.tools import TicketRequest, ToolResult
from magnus_desktop.ui.assistant.view_model import AssistantViewModel
from magnus_desktop.ui.journal.dialog import JournalDialog
from magnus_desktop.ui.orders.ticket import replace_ticket
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility

REPAINT_MS = 66
MAX_TABLE_ROWS = 12


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 100 else f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return html.escape(str(value))


def result_html(result: ToolResult) -> str:
    """A tool result as an HTML card (label/value rows) or table, with its source."""
    parts = [f"<div><b>{html.escape(result.title)}</b>"]
    if result.fields:
        rows = "".join(f"<tr><td style='padding-right:12px;color:gray'>{html.escape(label)}</td>"
                       f"<td align='right'>{_cell(v)}</td><td style='color:gray'>&nbsp;{html.escape(unit)}</td></tr>"
                       for label, v, unit in result.fields)
        parts.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
    if result.columns:
        head = "".join(f"<th align='left' style='padding-right:10px'>{html.escape(c)}</th>" for c in result.columns)
        body = "".join("<tr>" + "".join(f"<td style='padding-right:10px'>{_cell(v)}</td>" for v in row) + "</tr>"
                       for row in result.rows[:MAX_TABLE_ROWS])
        more = f"<br><i>{len(result.rows) - MAX_TABLE_ROWS} more rows</i>" if len(result.rows) > MAX_TABLE_ROWS else ""
        parts.append(f"<table cellspacing='0' cellpadding='2' border='0'><tr>{head}</tr>{body}</table>{more}")
    if result.citations:
        links = "<br>".join(f"<a href='cite:{i}'>[{i + 1}] {html.escape(c.title or c.source)}</a> "
                            f"<span style='color:gray'>{html.escape(c.source)}</span>"
                            for i, c in enumerate(result.citations))
        parts.append(f"<div>{links}</div>")
    if result.source:
        parts.append(f"<div style='color:gray'><small>source: {html.escape(result.source)}</small></div>")
    return "".join(parts) + "</div>"


def _text_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


class QuestionEdit(QPlainTextEdit):
    """The question box: Enter sends (``submitted``), Shift+Enter is a new line."""

    def __init__(self, on_submit: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_submit = on_submit

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._on_submit()
            return
        super().keyPressEvent(event)


class AssistantPanel(QWidget):
    def __init__(self, vm: AssistantViewModel, orders: OrdersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistant_panel")
        self.vm, self.orders = vm, orders
        self.ticket_dialog: QDialog | None = None
        self._citations: list[Any] = []
        self._live_start: int | None = None
        self._live_html = ""
        self._pending_text: str | None = None
        self._shown_once = False
        follow_dock_visibility(self, self._on_dock_visibility_changed)
        self._build()
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(REPAINT_MS)
        self._repaint.timeout.connect(self._flush_text)
        for signal, slot in ((vm.question_sent, self._on_vm_question_sent), (vm.notice, self._on_vm_notice),
                             (vm.tool_done, self._on_vm_tool_done), (vm.text_changed, self._on_vm_text_changed),
                             (vm.finished, self._on_vm_finished), (vm.busy_changed, self._on_vm_busy_changed),
                             (vm.model_state_changed, self._on_vm_model_state_changed),
                             (vm.sessions_changed, self._on_vm_sessions_changed),
                             (vm.history_loaded, self._on_vm_history_loaded),
                             (vm.ticket_requested, self._on_vm_ticket_requested)):
            signal.connect(slot)
        self._on_vm_model_state_changed(vm.model_state)

    # ---- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.sessions = QComboBox()
        self.sessions.setObjectName("assistant_sessions")
        self.sessions.setToolTip("Stored conversations, most recent first")
        self.sessions.activated.connect(self._on_session_activated)
        buttons = []
        for text, tip, slot in (("New", "Start a new conversation", self.vm.new_session),
                                ("Rename…", "Rename this conversation", self.rename_session),
                                ("Delete", "Delete this conversation", self.delete_session),
                                ("Export…", "Save this conversation as Markdown", self.export_session)):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.append(b)
        self.new_button, self.rename_button, self.delete_button, self.export_button = buttons
        top = QHBoxLayout()
        top.addWidget(self.sessions, 1)
        for b in buttons:
            top.addWidget(b)
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("assistant_transcript")
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._on_anchor_clicked)
        self.transcript.setPlaceholderText("Ask about your positions, P&L, Greeks, buying power, a price or option "
                                           "quote on a replay day, open interest, a scan, or a concept "
                                           "(\u201cWhat does vega measure?\u201d).")
        self.question = QuestionEdit(self.send)
        self.question.setObjectName("assistant_question")
        self.question.setPlaceholderText("Ask a question — Enter sends, Shift+Enter new line")
        self.question.setFixedHeight(64)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.vm.stop)
        self.journal_button = QPushButton("Journal…")
        self.journal_button.setObjectName("assistant_journal")
        self.journal_button.setToolTip("Save the last answer to the decision journal with your thesis and tags")
        self.journal_button.setEnabled(False)
        self.journal_button.clicked.connect(self.journal_answer)
        self.last_answer: Answer | None = None
        side = QVBoxLayout()
        side.addWidget(self.send_button)
        side.addWidget(self.stop_button)
        side.addWidget(self.journal_button)
        ask = QHBoxLayout()
        ask.addWidget(self.question, 1)
        ask.addLayout(side)
        self.status = QLabel()
        self.status.setObjectName("assistant_status")
        self.status.setWordWrap(True)
        self.disclaimer = QLabel(DISCLAIMER)
        self.disclaimer.setObjectName("assistant_disclaimer")
        self.disclaimer.setWordWrap(True)
        self.disclaimer.setStyleSheet("color: gray; font-size: 11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(ask)
        layout.addWidget(self.status)
        layout.addWidget(self.disclaimer)

    def _on_dock_visibility_changed(self, visible: bool) -> None:
        """The model loads the first time someone can see the dock (``follow_dock_visibility``)."""
        if visible and not self._shown_once:
            self._shown_once = True
            self.vm.load_model()

    def focus_question(self) -> None:
        """Show the dock in front and put the keyboard in the question box (Assistant → Ask the assistant)."""
        dock = self.parentWidget()
        if dock is not None and hasattr(dock, "raise_"):
            dock.show()
            dock.raise_()
        self.question.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape and self.vm.busy:
            self.vm.stop()
            return
        super().keyPressEvent(event)

    # ---- asking -----------------------------------------------------------------------------------
    def send(self) -> None:
        text = self.question.toPlainText()
        if not text.strip() or self.vm.busy:
            return
        self.question.clear()
        self.vm.send(text)

    def _append(self, html_text: str) -> None:
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(html_text)
        cursor.insertBlock()
        self.transcript.setTextCursor(cursor)
        self.transcript.ensureCursorVisible()

    def _on_vm_question_sent(self, question: str) -> None:
        shown = question if len(question) <= 2000 else question[:2000] + f"… ({len(question):,} characters)"
        self._append(f"<p><b>You:</b> {_text_html(shown)}</p>")
        self._live_start = None

    def _on_vm_notice(self, text: str) -> None:
        self._append(f"<p style='color:#c77c00'><i>{html.escape(text)}</i></p>")

    def _on_vm_tool_done(self, call: ToolCall) -> None:
        if call.result is not None:
            base = len(self._citations)
            self._citations.extend(call.result.citations)
            body = result_html(call.result)
            if base:
                body = body.replace("href='cite:", f"href='cite:{base}+")
            self._append(body)

    def _on_vm_text_changed(self, text: str) -> None:
        self._pending_text = text
        if not self._repaint.isActive():
            self._repaint.start()

    def _flush_text(self) -> None:
        if self._pending_text is None:
            return
        text, self._pending_text = self._pending_text, None
        cursor = self.transcript.textCursor()
        if self._live_start is None:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            self._live_start = cursor.position()
        else:
            cursor.setPosition(self._live_start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertHtml(f"<p><b>Assistant:</b> {_text_html(text)}</p>")
        self.transcript.ensureCursorVisible()

    def _on_vm_finished(self, answer: Answer) -> None:
        self.last_answer = answer
        self.journal_button.setEnabled(bool(answer.text.strip()))
        self._pending_text = answer.text
        self._flush_text()
        self._live_start = None
        self._append("")
        stats = answer.stats
        bits = [answer.model, f"{answer.latency_ms:,.0f} ms"]
        if answer.first_token_ms is not None:
            bits.append(f"first token {answer.first_token_ms:,.0f} ms")
        if stats is not None:
            if math.isfinite(stats.tokens_per_second):
                bits.append(f"{stats.tokens_per_second:,.0f} tokens/s")
            bits.append(f"context {stats.context_used:.0%} of {stats.n_ctx:,}")
        if answer.cancelled:
            bits.append("stopped")
        if answer.removed_numbers:
            bits.append(f"{len(answer.removed_numbers)} unverified figure(s) removed")
        self.status.setText(" · ".join(bits))

    def journal_answer(self) -> JournalDialog | None:
        """The "Journal…" dialog of the last answer."""
        answer = self.last_answer
        if answer is None:
            return None
        facts = [f"Q: {html.escape(answer.question[:300])}", f"A: {html.escape(answer.text[:600])}"]
        self.journal_dialog = JournalDialog(self, "assistant answer", facts,
                                            lambda thesis, tags: self.vm.journal_answer(answer, thesis, tags))
        self.journal_dialog.open()
        return self.journal_dialog

    def _on_vm_busy_changed(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)
        if busy:
            self.status.setText("Answering…")

    def _on_vm_model_state_changed(self, state: ModelState) -> None:
        text = {"off": "Model: loads when the dock is first shown.", "loading": state.message,
                "ready": f"Model ready: {state.message}.", "unavailable": f"Model unavailable: {state.message}"}
        self.status.setText(text.get(state.status, state.message))

    # ---- tickets ------------------------------------------------------------------------------------
    def _on_vm_ticket_requested(self, req: TicketRequest) -> None:
        """Open the order ticket prefilled; the trader reviews and confirms (or not)."""
        contract = OptionContract(req.underlying, req.expiry, req.strike, req.right)
        self.ticket_dialog = replace_ticket(self.ticket_dialog, self.orders, contract, req.action, req.qty, self)

    # ---- citations ----------------------------------------------------------------------------------
    def _on_anchor_clicked(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("cite:"):
            return
        index = sum(int(x) for x in text[5:].split("+"))
        if 0 <= index < len(self._citations):
            self.show_passage(self._citations[index])

    def show_passage(self, citation: Any) -> QDialog:
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Source — {citation.source}")
        dialog.setObjectName("assistant_passage")
        view = QTextBrowser()
        view.setMarkdown(f"### {citation.title}\n\n{citation.text}\n\n*{citation.source}*")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(view)
        layout.addWidget(box)
        dialog.resize(560, 420)
        dialog.open()
        return dialog

    # ---- sessions ---------------------------------------------------------------------------------------
    def _on_vm_sessions_changed(self, sessions: list[ChatSession], current: int | None) -> None:
        self.sessions.blockSignals(True)
        self.sessions.clear()
        self.sessions.addItem("New conversation", None)
        for s in sessions:
            self.sessions.addItem(f"{s.title} — {s.updated_at:%Y-%m-%d %H:%M}", s.session_id)
        self.sessions.setCurrentIndex(max(0, self.sessions.findData(current)) if current is not None else 0)
        self.sessions.blockSignals(False)
        has = current is not None
        for b in (self.rename_button, self.delete_button, self.export_button):
            b.setEnabled(has)

    def _on_session_activated(self, index: int) -> None:
        self.vm.open_session(self.sessions.itemData(index))

    def _on_vm_history_loaded(self, messages: list[ChatMessage]) -> None:
        self.transcript.clear()
        self._citations.clear()
        self._live_start = None
        for m in messages:
            who = "You" if m.role == "user" else "Assistant"
            self._append(f"<p><b>{who}:</b> {_text_html(m.content)}</p>")

    def _current_session(self) -> int | None:
        data = self.sessions.currentData()
        return data if isinstance(data, int) else None

    def rename_session(self) -> None:
        sid = self._current_session()
        if sid is None:
            return
        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:",
                                         text=self.sessions.currentText().rsplit(" — ", 1)[0])
        if ok and title.strip():
            self.vm.rename_session(sid, title)

    def delete_session(self) -> None:
        sid = self._current_session()
        if sid is None:
            return
        if QMessageBox.question(self, "Delete conversation", "Delete this conversation and its messages?") \
                == QMessageBox.StandardButton.Yes:
            self.vm.delete_session(sid)

    def export_session(self) -> None:
        sid = self._current_session()
        if sid is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export conversation", "conversation.md", "Markdown (*.md)")
        if path:
            self.vm.export_session(sid, path)

