"""ORM tables of our Kalshi trade history (``services.kalshi.history``), the Performance dock's
"Kalshi" trades.

- ``kalshi_fills``: one row per fill of ours (``GET /portfolio/fills``); ``(account, fill_id)`` is
  unique, which is how a fill read again is recognised. Prices are integer **cents** per contract
  (1..99, ``yes_price_cents + no_price_cents = 100``), the fee is USD, counts are contracts.
- ``kalshi_settlements``: how each market we held settled (``GET /portfolio/settlements``), one row
  per account and market. Costs and revenue are integer **cents**, the fee USD.

``account`` is the Kalshi account's name in the app (``Kalshi (production)`` / ``Kalshi (demo)``).
Times are UTC, stored naive.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from magnus_desktop.models.orm import Base, utc_now


class KalshiFillRow(Base):
    """One of our Kalshi fills (see the module docstring for units)."""

    __tablename__ = "kalshi_fills"
    __table_args__ = (
        UniqueConstraint("account", "fill_id"),
        CheckConstraint("side IN ('yes', 'no')", name="side"),
        CheckConstraint("action IN ('buy', 'sell')", name="action"),
        CheckConstraint("count > 0", name="count_positive"),
        Index("ix_kalshi_fills_account_time", "account", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    fill_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(64))
    ticker: Mapped[str] = mapped_column(String(128))
    side: Mapped[str] = mapped_column(String(3))
    action: Mapped[str] = mapped_column(String(4))
    count: Mapped[float] = mapped_column(Float)  # contracts
    yes_price_cents: Mapped[int] = mapped_column(Integer)
    no_price_cents: Mapped[int] = mapped_column(Integer)
    is_taker: Mapped[bool] = mapped_column(Boolean)
    fee_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class KalshiSettlementRow(Base):
    """How one market we held settled (see the module docstring for units)."""

    __tablename__ = "kalshi_settlements"
    __table_args__ = (
        UniqueConstraint("account", "ticker"),
        CheckConstraint("market_result IN ('yes', 'no', 'scalar', 'void')", name="market_result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    ticker: Mapped[str] = mapped_column(String(128))
    event_ticker: Mapped[str] = mapped_column(String(128))
    market_result: Mapped[str] = mapped_column(String(8))
    yes_count: Mapped[float] = mapped_column(Float)
    no_count: Mapped[float] = mapped_column(Float)
    yes_cost_cents: Mapped[int] = mapped_column(Integer)
    no_cost_cents: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int | None] = mapped_column(Integer)
    fee_usd: Mapped[float] = mapped_column(Float)
    settled_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
