"""ORM tables of the trade history filled by ``magnus-desktop import`` (see ``services.imports``).

- ``history_imports``: one row per imported file (name, sha256, kind, account, counts).
- ``history_events``: one row per broker event (trade, expiration, assignment, exercise, dividend,
  interest, fee, tax, stock-lending income, transfer); ``(account, event_key)`` is unique, which is
  how a repeated import is detected.
- ``history_positions``: the open positions a statement lists (IBKR ``OpenPositions``), one row
  per account, report date and contract.
- ``history_results``: the trade-history dock's computed snapshot (FIFO lots, wheel cycles, month
  bars), stored with the version of the events and of the analytics code it was computed from
  (``services.history.store``). Derived data only: deleting it loses nothing.

Units as in ``models.history``: prices per share/unit in ``currency``, amounts in ``currency``,
signed quantities. Tables live on the shared declarative ``Base`` of ``models.orm``, so Alembic
and the schema test see them once this module is imported.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.orm import Base, utc_now

_KIND_CHECK = (
    "kind IN ('trade', 'expiration', 'assignment', 'exercise', 'dividend', 'interest', 'fee', "
    "'tax', 'lending', 'transfer')"
)


class HistoryImportRow(Base):
    """One imported file."""

    __tablename__ = "history_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_kind: Mapped[str] = mapped_column(String(16))  # 'ibkr-flex' | 'robinhood-csv'
    account: Mapped[str] = mapped_column(String(64))
    rows_imported: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)


class HistoryEventRow(Base):
    """One broker event (see ``models.history.HistoryEvent`` for every field's unit)."""

    __tablename__ = "history_events"
    __table_args__ = (
        UniqueConstraint("account", "event_key"),
        CheckConstraint(_KIND_CHECK, name="kind"),
        CheckConstraint("\"right\" IS NULL OR \"right\" IN ('C', 'P')", name="right"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
        CheckConstraint("fx_rate_to_base > 0", name="fx_positive"),
        Index("ix_history_events_account_time", "account", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("history_imports.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    broker: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)  # as printed in the file, naive
    asset_category: Mapped[str] = mapped_column(String(8))
    symbol: Mapped[str] = mapped_column(String(64))
    underlying: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[date | None] = mapped_column(Date)
    strike: Mapped[float | None] = mapped_column(Float)
    right: Mapped[str | None] = mapped_column(String(1))
    multiplier: Mapped[float] = mapped_column(Float)
    qty: Mapped[float] = mapped_column(Float)  # signed
    price: Mapped[float | None] = mapped_column(Float)  # per share/unit, currency
    amount: Mapped[float] = mapped_column(Float)  # net cash, currency
    commission: Mapped[float] = mapped_column(Float)  # cost >= 0, currency
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate_to_base: Mapped[float] = mapped_column(Float)
    open_close: Mapped[str] = mapped_column(String(1))
    description: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)


class HistoryPositionRow(Base):
    """An open position as a statement lists it on its report date."""

    __tablename__ = "history_positions"
    __table_args__ = (
        UniqueConstraint("account", "report_date", "position_key"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("history_imports.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    report_date: Mapped[date] = mapped_column(Date)
    position_key: Mapped[str] = mapped_column(String(96))  # broker contract id or contract key
    asset_category: Mapped[str] = mapped_column(String(8))
    symbol: Mapped[str] = mapped_column(String(64))
    underlying: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[date | None] = mapped_column(Date)
    strike: Mapped[float | None] = mapped_column(Float)
    right: Mapped[str | None] = mapped_column(String(1))
    multiplier: Mapped[float] = mapped_column(Float)
    qty: Mapped[float] = mapped_column(Float)  # signed
    mark_price: Mapped[float | None] = mapped_column(Float)  # per share/unit, currency
    cost_basis: Mapped[float | None] = mapped_column(Float)  # whole position, currency
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate_to_base: Mapped[float] = mapped_column(Float)
    source_line: Mapped[int] = mapped_column(Integer)


class HistoryResultRow(Base):
    """A stored trade-history snapshot (``services.history.store``); derived from ``history_events``.

    ``events_version`` names the events it was computed from (count, largest id, newest import),
    ``code_version`` the analytics that computed it; a reader uses ``payload`` (zlib-compressed
    JSON, layout ``payload_format``) only when both match the database and the running code.
    """

    __tablename__ = "history_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)  # 'snapshot'
    events_version: Mapped[str] = mapped_column(String(160))
    code_version: Mapped[str] = mapped_column(String(64))
    payload_format: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
