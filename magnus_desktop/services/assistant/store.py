"""Persisted assistant conversations: sessions list, rename, delete, export to Markdown.

Blocking (SQLAlchemy): the assistant service runs these on the ``db`` executor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from magnus_desktop.models.orm_assistant import AssistantMessageRow, AssistantSessionRow
from magnus_desktop.services.storage import Database

MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class ChatSession:
    """A conversation: id, title, created/updated (UTC)."""

    session_id: int
    title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A turn: ``role`` "user"/"assistant", text, tool calls and citations (JSON-ready), model name."""

    role: str
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    created_at: datetime | None = None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise ValueError("a conversation needs a title")
    return title[:MAX_TITLE]


class ConversationStore:
    """Sessions and messages in the app database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def sessions(self) -> list[ChatSession]:
        """Every conversation, most recently updated first."""
        with self.db.session() as s:
            rows = s.scalars(select(AssistantSessionRow).order_by(AssistantSessionRow.updated_at.desc(),
                                                                 AssistantSessionRow.id.desc())).all()
            return [ChatSession(r.id, r.title, _utc(r.created_at), _utc(r.updated_at)) for r in rows]

    def create(self, title: str) -> int:
        """A new empty conversation; returns its id. Raises ValueError for a blank title."""
        now = datetime.now(UTC)
        with self.db.session() as s:
            row = AssistantSessionRow(title=_title(title), created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return row.id

    def rename(self, session_id: int, title: str) -> None:
        """Rename a conversation. Raises ValueError for a blank title, KeyError for an unknown id."""
        with self.db.session() as s:
            row = s.get(AssistantSessionRow, session_id)
            if row is None:
                raise KeyError(session_id)
            row.title = _title(title)

    def delete(self, session_id: int) -> None:
        """Delete a conversation and its messages (unknown ids are ignored)."""
        with self.db.session() as s:
            s.execute(delete(AssistantMessageRow).where(AssistantMessageRow.session_id == session_id))
            s.execute(delete(AssistantSessionRow).where(AssistantSessionRow.id == session_id))

    def add(self, session_id: int, message: ChatMessage) -> None:
        """Append a turn (and mark the conversation updated). Raises KeyError for an unknown id."""
        now = datetime.now(UTC)
        with self.db.session() as s:
            session = s.get(AssistantSessionRow, session_id)
            if session is None:
                raise KeyError(session_id)
            s.add(AssistantMessageRow(session_id=session_id, role=message.role, content=message.content,
                                      tool_calls=json.dumps(message.tool_calls, default=str),
                                      citations=json.dumps(message.citations, default=str),
                                      model=message.model[:200], created_at=now))
            session.updated_at = now

    def messages(self, session_id: int) -> list[ChatMessage]:
        """The turns of a conversation, oldest first (unreadable JSON is shown as no tool calls)."""
        with self.db.session() as s:
            rows = s.scalars(select(AssistantMessageRow).where(AssistantMessageRow.session_id == session_id)
                             .order_by(AssistantMessageRow.id)).all()
            return [ChatMessage(r.role, r.content, _loads(r.tool_calls), _loads(r.citations), r.model,
                                _utc(r.created_at)) for r in rows]

    def export_markdown(self, session_id: int) -> str:
        """The conversation as Markdown: a heading, then each turn with its tool results and sources.

        Raises KeyError for an unknown id.
        """
        with self.db.session() as s:
            session = s.get(AssistantSessionRow, session_id)
            if session is None:
                raise KeyError(session_id)
            title, created = session.title, _utc(session.created_at)
        lines = [f"# {title}", "", f"*Magnus Desktop assistant — started {created:%Y-%m-%d %H:%M} UTC. "
                 "Educational information, not investment advice.*", ""]
        for m in self.messages(session_id):
            who = "**You**" if m.role == "user" else f"**Assistant**{f' ({m.model})' if m.model else ''}"
            lines += [who, "", m.content, ""]
            for call in m.tool_calls:
                lines += [f"> tool `{call.get('name')}` {json.dumps(call.get('arguments', {}))}", ""]
            for i, c in enumerate(m.citations, 1):
                lines += [f"[{i}] {c.get('source', '')}", ""]
        return "\n".join(lines).rstrip() + "\n"


def _loads(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []
