"""Alembic environment for Magnus Desktop.

The application runs migrations with ``Database.migrate()``, which passes an open connection in
``config.attributes["connection"]``. For writing a new revision by hand, point Alembic at a scratch
database: ``MAGNUS_DB_URL=sqlite:///scratch.sqlite3 alembic -c <ini with script_location> revision
--autogenerate -m "..."``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from magnus_desktop.models import (  # noqa: F401 - each registers its tables on Base
    orm_alerts,
    orm_assistant,
    orm_audit,
    orm_history,
    orm_journal,
    orm_kalshi,
)
from magnus_desktop.models.orm import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("MAGNUS_DB_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("No database: pass config.attributes['connection'] or set MAGNUS_DB_URL")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Offline (--sql) migrations are not supported; run them against a database.")
run_migrations_online()
