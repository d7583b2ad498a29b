"""``HealthService``: what the Health dock shows — connections, latency, loop lag, memory, the
database — and its one-click backup and restore.

Nothing here runs by itself: the dock asks for a :meth:`HealthService.snapshot` at most once a
second while it is visible. The cheap in-memory figures are read on the loop; file sizes, memory and
percentiles are computed on the service's own executor (``"health"``), as are backups and the
validation of a zip to restore. The restore's file moves run on the ``"db"`` executor with the
database closed, then the database is reopened through ``AppContext.reopen_database``.

Events (payloads):
    restored(str)   a backup was restored (the message for the user); the UI reloads the layout
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.health.backup import (
    PG_NOTE,
    BackupError,
    BackupResult,
    create_backup,
    install_backup,
    latest_backup,
    restore_targets,
    validate_backup,
)
from magnus_desktop.services.health.lag import LagFigures, LagWindow
from magnus_desktop.services.health.latency import LatencyRow, summarise
from magnus_desktop.services.settings import ACCOUNT_FIELDS, Settings, SettingsStore
from magnus_desktop.services.storage import sqlite_file_of
from magnus_desktop.services.storage.database import alembic_config

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

EXECUTOR = "health"
#: the GUI loop-lag probe's period, seconds
LAG_INTERVAL_S = 0.25
LAST_BACKUP_FILE = "last-backup.json"


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """One line of the Connections table: what (``name``), its ``state`` word, and ``detail``."""

    name: str
    state: str
    detail: str


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """The Health dock's figures at ``at``. Sizes in bytes; None = not known (the note says why)."""

    at: datetime
    connections: tuple[ConnectionRow, ...]
    latency: tuple[LatencyRow, ...]
    lag: LagFigures | None
    rss_bytes: int | None
    memory_note: str
    db: str
    db_bytes: int | None
    db_note: str
    last_backup: Path | None
    last_backup_at: datetime | None


class HealthService:
    """The app's health figures and its backups. ``start()`` / ``aclose()`` as every service."""

    restored = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        #: GUI loop lag of the last minute; the Health dock's timer ticks it while the dock is shown
        self.lag = LagWindow(LAG_INTERVAL_S)
        self._busy = False
        if EXECUTOR not in ctx.executors:
            ctx.executors.add(EXECUTOR)

    async def start(self) -> None:
        """Nothing runs until the dock asks."""

    async def aclose(self) -> None:
        """Nothing to stop: a running backup finishes on its thread."""

    @property
    def backup_dir(self) -> Path:
        """The default folder of backups: ``<data dir>/backups``."""
        return self._ctx.paths.data_dir / "backups"

    @property
    def busy(self) -> bool:
        """A backup or restore is running."""
        return self._busy

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await self._ctx.executors.run(EXECUTOR, fn, *args)

    # ---- figures ----------------------------------------------------------------------------------
    async def snapshot(self) -> HealthSnapshot:
        """The figures now (cheap reads here; sizes, memory and percentiles on the health executor)."""
        ctx = self._ctx
        rows = [self._session_row(), *self._market_rows(), self._kalshi_row()]
        model_state = ctx.assistant.model_state
        latency = ctx.executors.latency.copy()
        db_file, db_note = self._db_file_for_backup()
        db_name = ctx.db.describe() if ctx.db is not None else "no database"
        lag = self.lag.figures()

        def collect() -> HealthSnapshot:
            rss, mem_note = process_rss()
            last, last_at = self._last_backup()
            size = _db_bytes(db_file) if db_file is not None else None
            model = _model_row(model_state)
            return HealthSnapshot(datetime.now(UTC), (*rows, model), tuple(summarise(latency)), lag, rss, mem_note,
                                  db_name, size, db_note, last, last_at)

        snap: HealthSnapshot = await self._run(collect)
        return snap

    def _session_row(self) -> ConnectionRow:
        st = self._ctx.session.status()
        age = "no message yet" if st.last_message_age_s is None else f"last message {_age(st.last_message_age_s)} ago"
        reconnects = f"{st.reconnect_count} reconnect{'s' if st.reconnect_count != 1 else ''}"
        return ConnectionRow(f"Broker session — {st.account}", st.state, f"{age} · {reconnects} · {st.reason}")

    def _market_rows(self) -> list[ConnectionRow]:
        chain = self._ctx.quotes.chain()
        order = " → ".join(s.source for s in chain.sources)
        out = []
        for kind, stats in chain.stats.items():
            total = stats.hits + stats.misses + stats.shared
            source = chain.last_source.get(kind, "idle")
            rate = (f"cache hit rate {stats.hit_rate:.0%} of {total:,} request{'s' if total != 1 else ''}" if total
                    else "no request through the cache yet")
            out.append(ConnectionRow(f"Market data — {kind}", source, f"{rate} · source order {order}"))
        return out

    def _kalshi_row(self) -> ConnectionRow:
        k = self._ctx.kalshi
        client = k.client
        if client is None:
            return ConnectionRow("Kalshi", k.state.state, k.state.message)
        mode = "authenticated" if getattr(client, "signer", None) is not None else "public (no API key)"
        last_at: datetime | None = getattr(client, "last_request_at", None)
        last = ("no request yet" if last_at is None
                else f"last request {_age((datetime.now(UTC) - last_at).total_seconds())} ago")
        count: int = getattr(client, "rate_limit_waits", 0)
        waits = f"{count} rate-limit wait{'s' if count != 1 else ''} ({getattr(client, 'rate_limit_wait_s', 0.0):.1f} s)"
        return ConnectionRow("Kalshi", k.state.state, f"{mode} · {last} · {waits} · {k.state.message}")

    def _last_backup(self) -> tuple[Path | None, datetime | None]:
        record = self._ctx.paths.data_dir / LAST_BACKUP_FILE
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            path, at = Path(data["path"]), datetime.fromisoformat(data["created"])
            if path.is_file():
                return path, at
        except (OSError, ValueError, KeyError, TypeError):
            pass
        found = latest_backup(self.backup_dir)
        if found is None:
            return None, None
        return found, datetime.fromtimestamp(found.stat().st_mtime, UTC)

    # ---- backup and restore -----------------------------------------------------------------------
    def _db_file_for_backup(self) -> tuple[Path | None, str]:
        """The SQLite file to back up and a note when none is (PostgreSQL, temporary database)."""
        ctx = self._ctx
        if ctx.db is not None and ctx.db.backend == "postgresql":
            return None, PG_NOTE
        if ctx.db_problem:
            return None, "The database is not in use this session (a temporary one is): it is not in the backup."
        path = ctx.db.sqlite_path if ctx.db is not None else None
        if path is None:
            return None, "The database is in memory: it is not in the backup."
        return path, ""

    def _configured_sqlite(self) -> Path | None:
        """The SQLite file a restore replaces (the configured one, even when it failed to open)."""
        ctx = self._ctx
        if ctx.db is not None and ctx.db.backend == "postgresql":
            return None
        return sqlite_file_of(ctx.db_url, ctx.paths.default_db_file)

    async def backup(self, dest_dir: Path | None = None) -> BackupResult:
        """Write a backup zip into ``dest_dir`` (default :attr:`backup_dir`).

        Raises:
            BackupError: the folder is not writable, the disk is full, another backup runs, ...
        """
        self._claim()
        try:
            db_file, note = self._db_file_for_backup()
            ctx = self._ctx
            notes = ctx.settings.assistant.notes_folder
            result: BackupResult = await self._run(
                lambda: create_backup(dest_dir or self.backup_dir, db_file=db_file, config_dir=ctx.paths.config_dir,
                                      notes_folder=notes, db_note=note, settings_file=ctx.settings_store.path))
            await self._run(self._record_backup, result.path)
            log.info("backup written to %s (%d files)", result.path, len(result.files))
            return result
        finally:
            self._busy = False

    def _claim(self) -> None:
        if self._busy:
            raise BackupError("A backup or restore is already running; wait for it to finish.")
        self._busy = True

    def _record_backup(self, path: Path) -> None:
        record = self._ctx.paths.data_dir / LAST_BACKUP_FILE
        try:
            record.write_text(json.dumps({"path": str(path), "created": datetime.now(UTC).isoformat()}),
                              encoding="utf-8")
        except OSError as exc:  # the backup exists; only the "last backup" line falls back to the folder scan
            log.warning("could not record the last backup in %s: %s", record, exc)

    async def restore(self, zip_path: Path) -> str:
        """Restore ``zip_path`` (see ``backup.validate_backup``): validate fully, keep a safety copy
        of the current data, replace the files (database closed meanwhile), reopen the database and
        apply the restored settings. Returns the message for the user (also emitted as ``restored``).

        Raises:
            RestoreRefused: the zip is corrupt, truncated, foreign or of an unknown schema (nothing changed).
            BackupError: the safety copy or the file moves failed (the message says what changed).
        """
        ctx = self._ctx
        if ctx.db_read_only:
            raise BackupError(f"{ctx.db_read_only} Make it writable before restoring; nothing was changed.")
        self._claim()
        scratch = Path(tempfile.mkdtemp(prefix="magnus-restore-"))
        try:
            known = await self._run(known_revisions)
            validated = await self._run(validate_backup, zip_path, scratch, known)
            settings_file = validated.files.get("config/settings.json")
            notes = ctx.settings.assistant.notes_folder
            if settings_file is not None:
                notes = await self._run(_keep_database_setting, settings_file, ctx.settings.db_url)
            db_target = self._configured_sqlite()
            pairs = restore_targets(validated, db_file=db_target, config_dir=ctx.paths.config_dir, notes_folder=notes,
                                    settings_file=ctx.settings_store.path)
            db_file, _note = self._db_file_for_backup()
            stamp = datetime.now(UTC)
            safety: BackupResult = await self._run(
                lambda: create_backup(self.backup_dir / "before-restore", db_file=db_file,
                                      config_dir=ctx.paths.config_dir, notes_folder=ctx.settings.assistant.notes_folder,
                                      now=stamp, name=f"before-restore-{stamp:%Y%m%d-%H%M%S}.zip",
                                      settings_file=ctx.settings_store.path))
            kept_aside = None
            if validated.has_db and db_file is None and db_target is not None and db_target.is_file():
                # the configured file is not in use (unreadable): keep its bytes as they are, too
                kept_aside = safety.path.with_name(f"{db_target.name}.{safety.path.stem}")
                await self._run(shutil.copy2, db_target, kept_aside)
            db = ctx.db if validated.has_db else None

            def swap() -> None:
                if db is not None:
                    _checkpoint_and_close(db)
                install_backup(pairs)

            try:
                await ctx.run_db(swap)
            except BackupError as exc:
                raise BackupError(f"{exc} Your data before the restore is in {safety.path}.") from exc
            finally:
                reopened = await ctx.reopen_database() if validated.has_db else True
            if settings_file is not None:
                self._apply_restored_settings(await self._run(ctx.settings_store.load))
        finally:
            self._busy = False
            await asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, scratch, True)
        message = (f"Restored {zip_path.name} (made {validated.created or 'at an unknown time'}). "
                   f"Your data before the restore was saved to {safety.path}.")
        if kept_aside is not None:
            message += f" The database file that could not be opened was kept as {kept_aside}."
        if not reopened:
            message += f" The restored database could not be opened: {ctx.db_problem}"
        if settings_file is not None:
            message += " Restart Magnus Desktop so restored broker accounts take effect."
        log.info("restore: %s", message)
        emit_isolated(self.restored, message)
        return message

    def _apply_restored_settings(self, new: Settings) -> None:
        """The restored settings become the session's settings (in place, so the save at quit keeps
        them); broker accounts take effect after a restart."""
        ctx = self._ctx
        replay_date = ctx.settings.replay_date
        ctx.apply_settings(new)
        for name in ACCOUNT_FIELDS:
            setattr(ctx.settings, name, getattr(new, name))
        ctx.settings.replay_date = new.replay_date or replay_date


def _keep_database_setting(settings_file: Path, db_url: str | None) -> Path | None:
    """The restored settings keep the database setting in use now (the database is restored into
    that database's file, so it must stay the one in use); returns their notes folder."""
    store = SettingsStore(settings_file)
    restored = store.load()
    if restored.db_url != db_url:
        restored.db_url = db_url
        store.save(restored)
    return restored.assistant.notes_folder


def known_revisions() -> set[str | None]:
    """Every schema revision of this app's migration chain (older ones upgrade on open)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _checkpoint_and_close(db: Any) -> None:
    """Fold the WAL into the database file and release every connection (before the file is replaced)."""
    if db.sqlite_path is not None and not db.read_only:
        try:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:  # noqa: BLE001 — the safety copy holds the data; the file is replaced anyway
            log.warning("WAL checkpoint before restore failed: %s", exc)
    db.close()


def _db_bytes(path: Path) -> int | None:
    """The database file's size plus its ``-wal`` file (bytes); None when it cannot be read."""
    total = 0
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            total += p.stat().st_size
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return total


def process_rss() -> tuple[int | None, str]:
    """This process's resident memory (bytes) and a note on how it was read."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.Process().memory_info().rss), "resident set size (psutil)"
    statm = Path("/proc/self/statm")
    if statm.exists():
        try:
            pages = int(statm.read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE"), "resident set size (/proc)"
        except (OSError, ValueError, IndexError):
            pass
    if sys.platform != "win32":
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * (1 if sys.platform == "darwin" else 1024), "peak resident size (psutil not installed)"
    return None, "not measured: install psutil"


def _model_row(state: Any) -> ConnectionRow:
    info = state.info
    if info is None:
        detail = state.message or "loads with the first question or when the Assistant dock is shown"
        return ConnectionRow("Assistant model", state.status, detail)
    try:
        size = f"{info.path.stat().st_size / 1e6:,.0f} MB"
    except OSError:
        size = "size unknown"
    return ConnectionRow("Assistant model", state.status, f"{info.name} · {size} · context {info.n_ctx:,} tokens")


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
