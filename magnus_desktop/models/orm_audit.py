"""ORM table of the append-only order audit log (values: ``models.audit``).

Rows are only ever inserted: the database itself refuses UPDATE and DELETE on ``audit_log``
(SQLite ``BEFORE UPDATE/DELETE`` triggers that raise; PostgreSQL a trigger function that raises,
on rows and on TRUNCATE), created by migration 0003. ``at`` is UTC (SQLite stores it without
the offset); ``params_json`` / ``preview_json`` are JSON objects (see ``models.audit``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.audit import AUDIT_ACTIONS
from magnus_desktop.models.orm import Base

ACTION_CHECK = "action IN (" + ", ".join(f"'{a}'" for a in AUDIT_ACTIONS) + ")"
#: the message both backends raise on an UPDATE or DELETE of an audit row
APPEND_ONLY_MESSAGE = "audit_log is append-only: rows cannot be updated or deleted"


class AuditRow(Base):
    """One audit row (never updated, never deleted)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(ACTION_CHECK, name="action"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_account_at", "account", "at"),
        Index("ix_audit_log_order_ref", "order_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # UTC
    account: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(24))
    order_ref: Mapped[str] = mapped_column(String(64))
    broker_order_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    params_json: Mapped[str] = mapped_column(Text)
    preview_json: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[float | None] = mapped_column(Float)  # ms from submission to this status
    filled_qty: Mapped[float | None] = mapped_column(Float)  # contracts filled so far; NULL = not reported
    avg_fill_price: Mapped[float | None] = mapped_column(Float)  # USD per share; NULL = no fill
