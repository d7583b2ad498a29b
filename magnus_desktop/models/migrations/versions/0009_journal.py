"""Decision journal entries and statements' starting cash.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("contract_keys", sa.Text(), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=40), nullable=False),
        sa.Column("thesis", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=True),
        sa.Column("dte", sa.Integer(), nullable=True),
        sa.Column("p_win", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("outcome_pnl", sa.Float(), nullable=True),
        sa.Column("outcome_closed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome_source", sa.String(length=16), nullable=False),
        sa.CheckConstraint("source IN ('ticket', 'alert', 'assistant')", name=op.f("ck_journal_entries_source")),
        sa.CheckConstraint("action IN ('sent', 'cancelled', 'noted')", name=op.f("ck_journal_entries_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index(op.f("ix_journal_entries_order_ref"), "journal_entries", ["order_ref"])
    op.create_table(
        "statement_cash",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starting", sa.Float(), nullable=False),
        sa.Column("fx_rate_to_base", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_cash")),
        sa.UniqueConstraint("account", "currency", "file_name", "period_start",
                            name=op.f("uq_statement_cash_account")),
    )


def downgrade() -> None:
    op.drop_table("statement_cash")
    op.drop_index(op.f("ix_journal_entries_order_ref"), table_name="journal_entries")
    op.drop_table("journal_entries")
