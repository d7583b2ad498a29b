"""Append-only audit log of orders; the database refuses UPDATE and DELETE on it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# literal copies (a migration never changes with the ORM module)
_ACTION_CHECK = ("action IN ('placed', 'modified', 'cancel_requested', 'cancelled', 'rejected', "
                 "'partially_filled', 'filled')")
_MESSAGE = "audit_log is append-only: rows cannot be updated or deleted"

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
]
_PG_TRIGGERS = [
    f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("broker_order_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("preview_json", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("filled_qty", sa.Float(), nullable=True),
        sa.Column("avg_fill_price", sa.Float(), nullable=True),
        sa.CheckConstraint(_ACTION_CHECK, name=op.f("ck_audit_log_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_account_at", "audit_log", ["account", "at"])
    op.create_index("ix_audit_log_order_ref", "audit_log", ["order_ref"])
    for statement in _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log")  # its triggers go with it
        op.execute("DROP FUNCTION audit_log_append_only()")
        return
    op.execute("DROP TRIGGER audit_log_no_update")
    op.execute("DROP TRIGGER audit_log_no_delete")
    op.drop_table("audit_log")
