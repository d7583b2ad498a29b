"""ORM table of the alerts centre (``services.alerts``): every raised alert with its facts,
suggested actions, state and snooze.

``facts`` and ``actions`` are JSON text (``[[label, value, unit], ...]`` and ``["close", ...]``);
``priority`` is the name (``"HIGH"``) with no CHECK constraint on purpose: a row with an unknown
priority or unreadable JSON is skipped with a log line when read, never a crash. Times are UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.orm import Base


class AlertRow(Base):
    """One raised alert (see ``models.alerts.Alert``)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_key_time", "account", "monitor", "subject", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    monitor: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facts: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
