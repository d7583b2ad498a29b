"""Kalshi fills and settlements (the Performance dock's Kalshi trades).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kalshi_fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("fill_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=3), nullable=False),
        sa.Column("action", sa.String(length=4), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.Column("yes_price_cents", sa.Integer(), nullable=False),
        sa.Column("no_price_cents", sa.Integer(), nullable=False),
        sa.Column("is_taker", sa.Boolean(), nullable=False),
        sa.Column("fee_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('yes', 'no')", name=op.f("ck_kalshi_fills_side")),
        sa.CheckConstraint("action IN ('buy', 'sell')", name=op.f("ck_kalshi_fills_action")),
        sa.CheckConstraint("count > 0", name=op.f("ck_kalshi_fills_count_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kalshi_fills")),
        sa.UniqueConstraint("account", "fill_id", name=op.f("uq_kalshi_fills_account")),
    )
    op.create_index("ix_kalshi_fills_account_time", "kalshi_fills", ["account", "created_at"])
    op.create_table(
        "kalshi_settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=128), nullable=False),
        sa.Column("event_ticker", sa.String(length=128), nullable=False),
        sa.Column("market_result", sa.String(length=8), nullable=False),
        sa.Column("yes_count", sa.Float(), nullable=False),
        sa.Column("no_count", sa.Float(), nullable=False),
        sa.Column("yes_cost_cents", sa.Integer(), nullable=False),
        sa.Column("no_cost_cents", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.Integer(), nullable=True),
        sa.Column("fee_usd", sa.Float(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("market_result IN ('yes', 'no', 'scalar', 'void')",
                           name=op.f("ck_kalshi_settlements_market_result")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kalshi_settlements")),
        sa.UniqueConstraint("account", "ticker", name=op.f("uq_kalshi_settlements_account")),
    )


def downgrade() -> None:
    op.drop_table("kalshi_settlements")
    op.drop_index("ix_kalshi_fills_account_time", table_name="kalshi_fills")
    op.drop_table("kalshi_fills")
