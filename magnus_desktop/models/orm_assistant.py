"""ORM tables of the assistant's conversations (``services.assistant.store``).

``assistant_sessions``: one conversation (title, created/updated UTC). ``assistant_messages``: its
turns in order; ``role`` is ``"user"`` or ``"assistant"``; ``tool_calls`` and ``citations`` are JSON
text (``[{"name", "arguments", "result"}]``, ``[{"source", "text"}]``); ``model`` names the model
that phrased an assistant turn ("" for none). Deleting a session deletes its messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.orm import Base


class AssistantSessionRow(Base):
    """One conversation."""

    __tablename__ = "assistant_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssistantMessageRow(Base):
    """One turn of a conversation."""

    __tablename__ = "assistant_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("assistant_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    tool_calls: Mapped[str] = mapped_column(Text, default="[]")
    citations: Mapped[str] = mapped_column(Text, default="[]")
    model: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
