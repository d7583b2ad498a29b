"""ORM tables (SQLAlchemy 2.0 typed declarative) for SQLite and PostgreSQL.

Money columns are ``Float`` (SQLite REAL / PostgreSQL double precision) in USD: the domain layer,
pricing and analytics all work in binary floats, quotes have at most 4 decimals, and one type end to
end avoids Decimal/float mixing at the repository boundary. A missing price is stored as NULL (SQLite
cannot store NaN) and converted back to NaN by the repositories.

Rows never leave ``services.storage.repositories``: callers get the frozen dataclasses of ``models.domain``.
The schema is created by Alembic (``models/migrations``), never by ``metadata.create_all`` at run time;
a test checks that the migrations and this module describe the same schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Deterministic constraint names on every backend (needed by SQLite batch migrations).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """Current time, timezone-aware UTC (SQLite stores it without the offset)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention above."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountRow(Base):
    """A trading account: the offline demo account or a broker account."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("kind IN ('demo', 'ib', 'robinhood')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    starting_cash: Mapped[float] = mapped_column(Float)  # USD
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class _ContractColumns:
    """Columns naming one option contract (shared by orders and fills)."""

    underlying: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[date] = mapped_column(Date)
    strike: Mapped[float] = mapped_column(Float)  # USD
    right: Mapped[str] = mapped_column(String(1))
    multiplier: Mapped[int] = mapped_column(Integer, default=100)


class OrderRow(_ContractColumns, Base):
    """An order ticket; ``order_ref`` makes submission idempotent."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("action IN ('BUY', 'SELL')", name="action"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("\"right\" IN ('C', 'P')", name="right"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    order_ref: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    trade_date: Mapped[date] = mapped_column(Date)  # replay or real trade date
    action: Mapped[str] = mapped_column(String(4))
    qty: Mapped[int] = mapped_column(Integer)  # contracts, always positive
    limit_price: Mapped[float | None] = mapped_column(Float)  # USD per share; NULL = market
    status: Mapped[str] = mapped_column(String(16))  # 'filled' | 'rejected' | ...
    message: Mapped[str] = mapped_column(Text, default="")


class FillRow(_ContractColumns, Base):
    """An execution of an order (signed quantity)."""

    __tablename__ = "fills"
    __table_args__ = (
        CheckConstraint("\"right\" IN ('C', 'P')", name="right"),
        CheckConstraint("qty <> 0", name="qty_nonzero"),
        Index("ix_fills_account_date", "account_id", "fill_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    fill_date: Mapped[date] = mapped_column(Date)
    qty: Mapped[int] = mapped_column(Integer)  # signed contracts, sell < 0
    price: Mapped[float] = mapped_column(Float)  # USD per share
    commission: Mapped[float] = mapped_column(Float, default=0.0)  # USD, whole fill


class WatchlistRow(Base):
    """A named watchlist; ``position`` orders the lists (0 first)."""

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class WatchlistItemRow(Base):
    """One symbol of a watchlist; deleted with its list."""

    __tablename__ = "watchlist_items"
    __table_args__ = (UniqueConstraint("watchlist_id", "exchange", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    exchange: Mapped[str] = mapped_column(String(32), default="")
    section: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class ScanResultRow(Base):
    """A saved scanner run: parameters and rows as JSON text (NaN allowed, see repositories)."""

    __tablename__ = "scan_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    as_of: Mapped[date] = mapped_column(Date)
    params_json: Mapped[str] = mapped_column(Text)
    rows_json: Mapped[str] = mapped_column(Text)
