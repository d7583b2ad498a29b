"""ORM tables of the decision journal (``services.journal``) and of statements' stated cash
(``services.performance``).

- ``journal_entries``: one journaled decision: where it came from (``source``: ``ticket``,
  ``alert``, ``assistant``), what happened there (``action``: ``sent``, ``cancelled``, ``noted``),
  the thesis, tags (JSON list), the numbers at the time (JSON object; ``delta`` per share signed,
  ``dte`` calendar days, ``p_win`` 0-1 and ``score`` also as columns for the review), the contract
  keys (JSON list, ``models.history.HistoryEvent.contract_key`` layout) and the ``order_ref``;
  ``outcome_*`` is filled when the position closes (realized P&L in USD / base currency).
- ``statement_cash``: the starting cash a broker statement states, per account and currency, with
  the rate to the base currency (None when the file gives none); the performance dock's starting
  capital.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.orm import Base, utc_now

JOURNAL_SOURCES = ("ticket", "alert", "assistant")
JOURNAL_ACTIONS = ("sent", "cancelled", "noted")


class JournalEntryRow(Base):
    """One journaled decision (see the module docstring)."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("source IN ('ticket', 'alert', 'assistant')", name="source"),
        CheckConstraint("action IN ('sent', 'cancelled', 'noted')", name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    trade_date: Mapped[date] = mapped_column(Date)  # the replay day or the real day of the decision
    source: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(100), default="")
    symbol: Mapped[str] = mapped_column(String(32), default="")
    contract_keys: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    order_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    strategy: Mapped[str] = mapped_column(String(40), default="")
    thesis: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    numbers: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    delta: Mapped[float | None] = mapped_column(Float)  # per share, signed
    dte: Mapped[int | None] = mapped_column(Integer)  # calendar days
    p_win: Mapped[float | None] = mapped_column(Float)  # 0..1
    score: Mapped[float | None] = mapped_column(Float)
    outcome_pnl: Mapped[float | None] = mapped_column(Float)  # USD (base currency)
    outcome_closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome_source: Mapped[str] = mapped_column(String(16), default="")  # 'history' | 'fills'


class StatementCashRow(Base):
    """The starting cash one imported statement states for one currency."""

    __tablename__ = "statement_cash"
    __table_args__ = (UniqueConstraint("account", "currency", "file_name", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    starting: Mapped[float] = mapped_column(Float)  # in currency
    fx_rate_to_base: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # 'CashReport' | 'StmtFunds'
    file_name: Mapped[str] = mapped_column(String(255))
    period_start: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
