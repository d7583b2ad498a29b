"""Trade history: imported files, broker events, statement open positions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND_CHECK = (
    "kind IN ('trade', 'expiration', 'assignment', 'exercise', 'dividend', 'interest', 'fee', "
    "'tax', 'lending', 'transfer')"
)


def _contract_columns() -> list[sa.Column]:
    return [
        sa.Column("asset_category", sa.String(length=8), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("underlying", sa.String(length=32), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("strike", sa.Float(), nullable=True),
        sa.Column("right", sa.String(length=1), nullable=True),
        sa.Column("multiplier", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "history_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_kind", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_imports")),
    )
    op.create_index(op.f("ix_history_imports_file_sha256"), "history_imports", ["file_sha256"])
    op.create_table(
        "history_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("broker", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        *_contract_columns(),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("commission", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fx_rate_to_base", sa.Float(), nullable=False),
        sa.Column("open_close", sa.String(length=1), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.CheckConstraint(_KIND_CHECK, name=op.f("ck_history_events_kind")),
        sa.CheckConstraint("\"right\" IS NULL OR \"right\" IN ('C', 'P')", name=op.f("ck_history_events_right")),
        sa.CheckConstraint("multiplier > 0", name=op.f("ck_history_events_multiplier_positive")),
        sa.CheckConstraint("fx_rate_to_base > 0", name=op.f("ck_history_events_fx_positive")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["history_imports.id"], name=op.f("fk_history_events_import_id_history_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_events")),
        sa.UniqueConstraint("account", "event_key", name=op.f("uq_history_events_account")),
    )
    op.create_index(op.f("ix_history_events_import_id"), "history_events", ["import_id"])
    op.create_index("ix_history_events_account_time", "history_events", ["account", "occurred_at"])
    op.create_table(
        "history_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("position_key", sa.String(length=96), nullable=False),
        *_contract_columns(),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("mark_price", sa.Float(), nullable=True),
        sa.Column("cost_basis", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fx_rate_to_base", sa.Float(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.CheckConstraint("multiplier > 0", name=op.f("ck_history_positions_multiplier_positive")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["history_imports.id"], name=op.f("fk_history_positions_import_id_history_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_positions")),
        sa.UniqueConstraint("account", "report_date", "position_key", name=op.f("uq_history_positions_account")),
    )
    op.create_index(op.f("ix_history_positions_import_id"), "history_positions", ["import_id"])


def downgrade() -> None:
    for table in ("history_positions", "history_events", "history_imports"):
        op.drop_table(table)
