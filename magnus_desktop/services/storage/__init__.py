"""Storage: the SQLAlchemy ``Database`` (SQLite WAL or PostgreSQL, migrated at open) and the
repositories that turn ORM rows into the frozen dataclasses of ``models.domain``.

Everything callers need is importable from here; ``database`` and ``repositories`` hold the code.
"""

from magnus_desktop.services.storage.audit import AuditRepo
from magnus_desktop.services.storage.database import (
    ConstraintViolation,
    Database,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    MigrationError,
    StorageError,
    alembic_config,
    head_revision,
    sqlite_file_of,
)
from magnus_desktop.services.storage.repositories import (
    AccountRepo,
    DuplicateName,
    NotFound,
    ScanResultRepo,
    TradeRepo,
    WatchlistRepo,
)

__all__ = [
    "AccountRepo",
    "AuditRepo",
    "ConstraintViolation",
    "Database",
    "DatabaseCorrupt",
    "DatabaseLocked",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "DuplicateName",
    "MigrationError",
    "NotFound",
    "ScanResultRepo",
    "StorageError",
    "TradeRepo",
    "WatchlistRepo",
    "alembic_config",
    "head_revision",
    "sqlite_file_of",
]
