"""The Assistant dock's view model: questions in, streamed answers, tool results and sessions out.

It owns the ``@asyncSlot``s; the panel never calls the service. Answers stream as
``text_changed`` (the whole answer so far; the panel repaints at most ~15 times a second).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.assistant.knowledge_service import EXECUTOR as KNOWLEDGE_EXECUTOR
from magnus_desktop.services.assistant.service import (
    Answer,
    Finished,
    ModelState,
    Notice,
    TextDelta,
    ToolDone,
)
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.journal.entries import answer_entry
from magnus_desktop.services.settings import Settings
from magnus_desktop.services.storage import StorageError
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class AssistantViewModel(QObject):
    question_sent = Signal(str)
    notice = Signal(str)
    tool_done = Signal(object)  # ToolCall
    text_changed = Signal(str)
    finished = Signal(object)  # Answer
    busy_changed = Signal(bool)
    model_state_changed = Signal(object)  # ModelState
    sessions_changed = Signal(object, object)  # list[ChatSession], current id | None
    history_loaded = Signal(object)  # list[ChatMessage]
    ticket_requested = Signal(object)  # TicketRequest

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.busy = False
        self.session_id: int | None = None
        self._model_settings = ctx.settings.assistant.model_copy()
        bridge(self, [(ctx.assistant.model_state_changed, self.model_state_changed.emit),
                      (ctx.date_changed, self._on_ctx_date_changed)])
        self._sessions_read = False

    def _on_ctx_date_changed(self, _day: object) -> None:
        """The context has started (its database is open): read the stored conversations once."""
        if not self._sessions_read:
            self._sessions_read = True
            self.refresh_sessions()

    @property
    def model_state(self) -> ModelState:
        return self._ctx.assistant.model_state

    @property
    def max_question_chars(self) -> int:
        return self._ctx.assistant.max_question_chars()

    # ---- model ----------------------------------------------------------------------------------
    @asyncSlot()
    async def load_model(self) -> None:
        """Load the model in the background (the dock was shown)."""
        if not self._ctx.closed:
            await self._ctx.assistant.ensure_model()

    @asyncSlot(object)
    async def on_settings_applied(self, new: Settings) -> None:
        """Settings → Assistant changed: load the model they name now (if one was loaded)."""
        if new.assistant == self._model_settings:
            return
        self._model_settings = new.assistant.model_copy()
        if self.model_state.status != "off":
            await self._ctx.assistant.reload_model()

    # ---- asking ----------------------------------------------------------------------------------
    @asyncSlot(str)
    async def send(self, question: str) -> None:
        """Answer ``question`` (ignored while another answer runs or when blank)."""
        if self.busy or not question.strip() or self._ctx.closed:
            return
        self._set_busy(True)
        self.question_sent.emit(question)
        answer: Answer | None = None
        try:
            async for event in self._ctx.assistant.answer(question):
                if isinstance(event, Notice):
                    self.notice.emit(event.text)
                elif isinstance(event, ToolDone):
                    self.tool_done.emit(event.call)
                    result = event.call.result
                    if result is not None and result.ticket is not None:
                        self.ticket_requested.emit(result.ticket)
                elif isinstance(event, TextDelta):
                    self.text_changed.emit(event.text)
                elif isinstance(event, Finished):
                    answer = event.answer
        except Exception as exc:  # never leave the dock stuck "busy"
            log.exception("the assistant failed")
            self.notice.emit(f"The assistant failed: {exc}")
        finally:
            self._set_busy(False)
        if answer is not None:
            await self._save(answer)  # stored (and the sessions list refreshed) before the dock hears it is done
            self.finished.emit(answer)

    def journal_answer(self, answer: Answer, thesis: str, tags: str) -> None:
        """Journal an assistant ``answer`` (question, text and tools kept) with a thesis and tags."""
        day = self._ctx.clock.current if self._ctx.clock is not None else date.today()
        tools = [call.name for call in answer.tool_calls]
        self._ctx.journal.add_soon(answer_entry(answer.question, answer.text, tools, thesis, tags, day))

    def stop(self) -> None:
        """Stop the answer being generated."""
        self._ctx.assistant.cancel()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.busy_changed.emit(busy)

    async def _save(self, answer: Answer) -> None:
        service = self._ctx.assistant
        try:
            if self.session_id is None:
                self.session_id = await service.new_session(answer.question[:60])
                await self.refresh_sessions()
            await service.save_turn(self.session_id, answer)
        except (StorageError, KeyError, ValueError) as exc:
            self.notice.emit(f"This conversation is not saved: {exc}")

    # ---- sessions ---------------------------------------------------------------------------------
    @asyncSlot()
    async def refresh_sessions(self) -> None:
        try:
            sessions = await self._ctx.assistant.sessions()
        except StorageError as exc:
            self.notice.emit(f"Conversations cannot be read: {exc}")
            return
        self.sessions_changed.emit(sessions, self.session_id)

    @asyncSlot(object)
    async def open_session(self, session_id: int | None) -> None:
        """Show a stored conversation (None: start a new one)."""
        self.session_id = session_id
        messages = [] if session_id is None else await self._ctx.assistant.messages(session_id)
        self.history_loaded.emit(messages)

    @asyncSlot()
    async def new_session(self) -> None:
        self.session_id = None
        self.history_loaded.emit([])
        await self.refresh_sessions()

    @asyncSlot(int, str)
    async def rename_session(self, session_id: int, title: str) -> None:
        try:
            await self._ctx.assistant.rename_session(session_id, title)
        except (StorageError, ValueError, KeyError) as exc:
            self.notice.emit(f"Not renamed: {exc}")
        await self.refresh_sessions()

    @asyncSlot(int)
    async def delete_session(self, session_id: int) -> None:
        try:
            await self._ctx.assistant.delete_session(session_id)
        except StorageError as exc:
            self.notice.emit(f"Not deleted: {exc}")
        if session_id == self.session_id:
            self.session_id = None
            self.history_loaded.emit([])
        await self.refresh_sessions()

    @asyncSlot(int, str)
    async def export_session(self, session_id: int, path: str) -> None:
        try:
            await self._ctx.assistant.export_session(session_id, Path(path))
        except (StorageError, OSError, KeyError) as exc:
            self.notice.emit(f"Not exported: {exc}")
            return
        self.notice.emit(f"Conversation exported to {path}")

    async def passage(self, source: str) -> tuple[str, str] | None:
        """(title, text) of a cited passage, or None when the index no longer has it."""
        kb = await self._ctx.assistant.knowledge()
        found = await self._ctx.executors.run(KNOWLEDGE_EXECUTOR, kb.passage, source)
        return None if found is None else (found.title, found.text)
