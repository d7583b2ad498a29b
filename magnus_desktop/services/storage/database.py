"""The application database: SQLite file (WAL) by default, PostgreSQL by URL; Alembic migrations.

All calls are blocking; run them on the DB executor thread, never on the GUI thread::

    db = Database.open(None)            # SQLite in the user data dir, migrated to the latest schema
    with db.session() as s:             # commits on success, rolls back on any error
        ...
    db.close()

Every database failure surfaces as a ``StorageError`` subclass whose message names the database
(PostgreSQL password masked) and what the user can do; a failed write rolls back and leaves the
stored data as it was.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.redact import mask_secrets

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "models" / "migrations"
Backend = Literal["sqlite", "postgresql"]

#: PostgreSQL SQLSTATEs: read-only transaction / lock not available / lock timeout.
_PG_READ_ONLY = {"25006"}
_PG_LOCKED = {"55P03"}


class StorageError(Exception):
    """Base of every database error; the message is meant for the user."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or created (bad URL, server down, folder not creatable)."""


class DatabaseReadOnly(StorageError):
    """The database refuses writes (read-only file, folder or server); nothing was changed."""


class DatabaseLocked(DatabaseReadOnly):
    """Another program held the write lock for longer than the busy timeout; nothing was changed."""


class DatabaseCorrupt(StorageError):
    """The SQLite file is not a readable database; it is left untouched."""


class MigrationError(StorageError):
    """The schema could not be brought up to date (or is newer than this application)."""


class ConstraintViolation(StorageError):
    """A write broke a uniqueness or foreign-key rule; nothing was changed."""


class Database:
    """An open database: engine, session factory and schema migrations."""

    _read_only_path: Path | None = None

    def __init__(self, engine: Engine, backend: Backend, *, busy_timeout_s: float = 5.0,
                 read_only: bool = False) -> None:
        self._engine = engine
        self._backend: Backend = backend
        #: True when opened by :meth:`open_read_only`: every write raises ``DatabaseReadOnly``.
        self.read_only = read_only
        self._busy_timeout_s = busy_timeout_s
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        url: str | None,
        *,
        sqlite_path: Path | None = None,
        busy_timeout_s: float = 5.0,
        connect_timeout_s: int = 5,
        migrate: bool = True,
    ) -> Database:
        """Open (and by default migrate) a database.

        Args:
            url: ``sqlite:///path``, ``postgresql://user:pw@host:port/db`` (or ``postgresql+psycopg2://``);
                None or ``""`` means the SQLite file ``sqlite_path`` or ``app_paths().default_db_file``.
            sqlite_path: SQLite file used when ``url`` is empty.
            busy_timeout_s: SQLite: how long a write waits for another program's lock, seconds.
            connect_timeout_s: PostgreSQL: how long to wait for the server, seconds.
            migrate: run ``alembic upgrade head`` after connecting.

        Returns:
            The open database.

        Raises:
            DatabaseUnavailable: bad URL, server unreachable/refusing, file or folder not creatable.
            DatabaseCorrupt: the SQLite file is not a database (it is not modified).
            DatabaseReadOnly: the schema needs an upgrade but the database refuses writes.
            MigrationError: the migration failed or the database is newer than this application.
        """
        parsed = _resolve_url(url, sqlite_path)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed, busy_timeout_s)
            backend: Backend = "sqlite"
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": connect_timeout_s, "application_name": "magnus-desktop"},
            )
            backend = "postgresql"
        db = cls(engine, backend, busy_timeout_s=busy_timeout_s)
        try:
            db._check_connection()
            if migrate:
                db.migrate()
            if db.sqlite_path is not None:
                db._check_writable()
        except BaseException:
            db.close()
            raise
        return db

    @classmethod
    def open_read_only(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Database:
        """Open an existing, up-to-date SQLite file without writing to it (read-only file or folder).

        SQLite's ``mode=ro`` is tried first; a WAL database in a read-only folder cannot create its
        ``-shm`` file, so it is then opened ``immutable=1`` (safe here: nothing can write it).

        Raises:
            DatabaseUnavailable: the file does not exist or cannot be read.
            DatabaseCorrupt: the file is not a database.
            MigrationError: the schema is not the one this application writes (it needs an
                upgrade, which a read-only database cannot take, or it is newer).
        """
        if not path.is_file():
            raise DatabaseUnavailable(f"The database file {path} does not exist.")
        last: StorageError | None = None
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            uri = f"{path.resolve().as_uri()}?{flags}"
            engine = create_engine(
                "sqlite://",
                creator=lambda uri=uri: sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False),
            )
            event.listen(engine, "connect", _on_sqlite_connect_read_only)
            event.listen(engine, "begin", _on_sqlite_begin)
            db = cls(engine, "sqlite", busy_timeout_s=busy_timeout_s, read_only=True)
            db._read_only_path = path
            try:
                db._check_connection()
                revision = db.current_revision()
            except StorageError as exc:
                db.close()
                last = exc
                continue
            except DBAPIError as exc:
                db.close()
                last = db.translate(exc)
                continue
            if revision != head_revision():
                db.close()
                raise MigrationError(
                    f"{db.describe()} has schema revision {revision or 'none'}, this application needs "
                    f"{head_revision()}; a read-only database cannot be upgraded."
                )
            return db
        assert last is not None
        raise last

    def _check_writable(self) -> None:
        """SQLite opens a read-only file read-only without a word, and an up-to-date schema needs
        no write to migrate: take (and release) the write lock once so a read-only database is
        known at open, not at the trader's first order.

        Raises:
            DatabaseReadOnly / DatabaseLocked: the lock cannot be taken.
        """
        try:
            with self._engine.connect() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("ROLLBACK")
        except sqlite3.Error as exc:
            detail = str(exc).strip() or type(exc).__name__
            where = self.describe()
            err = self._translate_sqlite(exc, detail, where[0].upper() + where[1:])
            if isinstance(err, DatabaseLocked):  # busy now, not read-only: writes wait or fail later
                log.info("database busy at open: %s", err)
                return
            raise err from exc

    def _check_connection(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except DBAPIError as exc:
            raise self.translate(exc, connecting=True) from exc

    # -------------------------------------------------------------- properties
    @property
    def url(self) -> str:
        """The database URL for display, password masked."""
        return mask_secrets(self._engine.url.render_as_string(hide_password=True))

    @property
    def backend(self) -> Backend:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._backend

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for Core bulk statements and tests)."""
        return self._engine

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL / in-memory databases."""
        ro_path: Path | None = getattr(self, "_read_only_path", None)
        if ro_path is not None:
            return ro_path
        database = self._engine.url.database
        if self._backend != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database.removeprefix("file:"))

    def describe(self) -> str:
        """Human name of the database: the SQLite file path or the masked URL."""
        path = self.sqlite_path
        return f"the database file {path}" if path else f"the database {self.url}"

    # ---------------------------------------------------------------- sessions
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any exception.

        Raises:
            StorageError: a subclass describing the failure; nothing of the block is stored.
        """
        session = self._sessions()
        with self._unit_of_work(session):
            yield session

    @contextmanager
    def bulk_session(self) -> Iterator[Session]:
        """:meth:`session` for one large write (a statement import): on SQLite its transaction
        runs with ``PRAGMA synchronous=NORMAL`` instead of the default ``FULL``.

        In WAL mode (see ``_on_sqlite_connect``) ``NORMAL`` cannot corrupt the database: a power
        loss right after the commit may lose that last transaction, which an import can simply
        repeat (its rows are skipped as duplicates if they were kept). The setting cannot change
        inside a transaction, so it is set on the session's own connection before the transaction
        begins and restored after it ends, also on error; if it cannot be restored the connection
        is discarded, so the rest of the application never writes with it. Other databases: the
        same as :meth:`session`.

        Raises:
            StorageError: as :meth:`session`; nothing of the block is stored.
        """
        if self._backend != "sqlite":
            with self.session() as session:
                yield session
            return
        try:
            connection = self._engine.connect()  # pooled; no transaction begun yet
        except DBAPIError as exc:
            raise self.translate(exc) from exc
        try:
            raw = connection.connection.driver_connection
            assert raw is not None
            previous = int(raw.execute("PRAGMA synchronous").fetchone()[0])
            raw.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            connection.close()
            where = self.describe()
            raise self._translate_sqlite(exc, str(exc).strip() or type(exc).__name__,
                                         where[0].upper() + where[1:]) from exc
        try:
            session = self._sessions(bind=connection)  # the sessions' own settings, on this connection
            with self._unit_of_work(session):
                yield session
        finally:
            try:
                raw.execute(f"PRAGMA synchronous={previous}")
            except sqlite3.Error:
                log.warning("could not restore PRAGMA synchronous after a bulk write; connection discarded")
                connection.invalidate()
            connection.close()

    @contextmanager
    def _unit_of_work(self, session: Session) -> Iterator[None]:
        """Commit ``session`` when the block ends, roll it back on any exception, close it."""
        try:
            yield
            session.commit()
        except DBAPIError as exc:
            _rollback(session)
            raise self.translate(exc) from exc
        except BaseException:
            _rollback(session)
            raise
        finally:
            session.close()

    def close(self) -> None:
        """Release every pooled connection (the database can be opened again)."""
        self._engine.dispose()

    # --------------------------------------------------------------- migration
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (no-op when already there).

        Raises:
            DatabaseReadOnly: an upgrade is needed but the database refuses writes.
            MigrationError: a migration failed or the database has an unknown (newer) revision.
        """
        cfg = alembic_config()
        try:
            with self._engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except DBAPIError as exc:
            err = self.translate(exc)
            if isinstance(err, DatabaseReadOnly | DatabaseUnavailable | DatabaseCorrupt):
                raise err from exc
            raise MigrationError(f"Updating the schema of {self.describe()} failed: {err}") from exc
        except Exception as exc:
            raise MigrationError(
                f"Updating the schema of {self.describe()} failed: {exc}. The database was left as it "
                "was; if it was created by a newer Magnus Desktop, update the application."
            ) from exc

    def current_revision(self) -> str | None:
        """The Alembic revision stored in the database (None for an empty database)."""
        with self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # ------------------------------------------------------------------ errors
    def translate(self, exc: DBAPIError, *, connecting: bool = False) -> StorageError:
        """Map a driver error to the matching ``StorageError`` with a message for the user."""
        orig = exc.orig
        detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        where = self.describe()
        where = where[0].upper() + where[1:]
        if isinstance(exc, IntegrityError):
            return ConstraintViolation(f"{where} refused the change ({detail}); nothing was stored.")
        if self._backend == "sqlite":
            return self._translate_sqlite(orig, detail, where)
        code = getattr(orig, "pgcode", None)
        if code in _PG_READ_ONLY:
            return DatabaseReadOnly(f"{where} is read-only ({detail}); nothing was changed.")
        if code in _PG_LOCKED:
            return DatabaseLocked(f"{where} is locked by another session ({detail}); nothing was changed.")
        if connecting or code is None or exc.connection_invalidated:
            return DatabaseUnavailable(
                f"Cannot connect to PostgreSQL {self.url}: {detail}. Check that the server is running "
                "and that the URL, user and password in Settings are right."
            )
        return StorageError(f"{where} reported an error: {detail}; nothing was changed.")

    def _translate_sqlite(self, orig: Any, detail: str, where: str) -> StorageError:
        name = getattr(orig, "sqlite_errorname", "")
        text = detail.lower()
        if name.startswith("SQLITE_BUSY") or "locked" in text:
            return DatabaseLocked(
                f"{where} is locked by another program (waited {self._busy_timeout_s:g} s); nothing was "
                "changed. Close the other Magnus Desktop window or database tool and try again."
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
            return DatabaseReadOnly(
                f"{where} is read-only ({detail}); nothing was changed. Make the file and its folder "
                "writable, or choose another database in Settings."
            )
        if name in {"SQLITE_NOTADB", "SQLITE_CORRUPT"} or "not a database" in text or "malformed" in text:
            return DatabaseCorrupt(
                f"{where} is not a readable SQLite database ({detail}). It was left untouched: move it "
                "aside or restore a backup, then start again to create a new one."
            )
        if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
            return DatabaseUnavailable(
                f"Cannot open or create {where} ({detail}). Check that the folder exists and is writable."
            )
        return StorageError(f"{where} reported an error: {detail}; nothing was changed.")


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """The newest migration revision shipped with the application."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _rollback(session: Session) -> None:
    with suppress(SQLAlchemyError):
        session.rollback()


def sqlite_file_of(url: str | None, default_file: Path) -> Path | None:
    """The SQLite file ``url`` names (``default_file`` for an empty URL); None for PostgreSQL,
    in-memory or unparsable URLs."""
    try:
        parsed = _resolve_url(url, default_file)
    except StorageError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database.removeprefix("file:"))


def _resolve_url(url: str | None, sqlite_path: Path | None) -> URL:
    if not url or not url.strip():
        path = sqlite_path or app_paths().default_db_file
        return URL.create("sqlite", database=str(path))
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):
        # no chaining: the parser's message repeats the URL, password included
        raise DatabaseUnavailable(
            "The database URL in Settings is not valid. Use sqlite:///path/to/file.sqlite3 or "
            "postgresql://user:password@host:5432/dbname."
        ) from None
    # explicit drivers: SQLAlchemy 2.1's default for postgresql:// is psycopg 3, ours is psycopg2
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        return parsed.set(drivername="postgresql+psycopg2")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        return parsed
    raise DatabaseUnavailable(
        f"Unsupported database {parsed.render_as_string(hide_password=True)}: use sqlite:///file "
        "or postgresql://user:password@host:port/dbname (psycopg2)."
    )


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not url.query.get("uri"):
        path = Path(database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"Cannot create the folder {path.parent} for the database file ({exc.strerror}). "
                "Choose a writable location in Settings."
            ) from exc
        if path.is_dir():
            raise DatabaseUnavailable(f"The database path {path} is a folder, not a file.")
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN: real transactions, transactional DDL.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode and str(mode[0]).lower() not in {"wal", "memory"}:
            log.warning("SQLite journal_mode is %s, not WAL (read-only or in-memory database)", mode[0])
    finally:
        cur.close()


def _on_sqlite_connect_read_only(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.isolation_level = None
    dbapi_conn.execute("PRAGMA query_only=ON")


def _on_sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")
