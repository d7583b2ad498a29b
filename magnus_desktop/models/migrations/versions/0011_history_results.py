"""The stored trade-history snapshot (FIFO lots, wheel cycles, month bars) of the history dock.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("events_version", sa.String(length=160), nullable=False),
        sa.Column("code_version", sa.String(length=64), nullable=False),
        sa.Column("payload_format", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_results")),
        sa.UniqueConstraint("name", name=op.f("uq_history_results_name")),
    )


def downgrade() -> None:
    op.drop_table("history_results")
