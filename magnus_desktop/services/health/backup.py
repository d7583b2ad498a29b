"""One-click backup of the trader's data to a zip, and a restore that checks everything first.

A backup zip holds:

* ``db/magnus.sqlite3`` — a consistent snapshot of the SQLite database (SQLite's online backup API,
  so it is safe while the app writes; WAL content included). A PostgreSQL database is not in the zip:
  back it up with ``pg_dump`` (the result says so).
* ``config/settings.json`` (credentials masked with ``services.redact.mask_secrets``; the file never
  holds passwords — they live in the system keyring, which is not backed up), ``config/layout.ini``
  and ``config/tables.ini`` (window layout and table columns), when present.
* ``notes/…`` — the assistant's notes folder (``.md``, ``.markdown``, ``.txt``), when one is set.
* ``manifest.json`` — format, creation time, app version, the database's schema revision, and the
  size and SHA-256 of every other file.

:func:`validate_backup` extracts a zip into a scratch folder and refuses it (``RestoreRefused``, the
message says why) unless the manifest is ours, every file is present, unaltered (size + SHA-256),
and no other file is there, the settings parse, and the database passes ``PRAGMA integrity_check``
and has a schema revision this app knows. Only then does :func:`install_backup` touch the current
data: each file is staged next to its target and moved over it with ``os.replace`` (atomic per file).
All functions block: run them on an executor thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from magnus_desktop import __version__
from magnus_desktop.services.paths import folder_problem
from magnus_desktop.services.redact import mask_secrets
from magnus_desktop.services.settings import SettingsStore

FORMAT = "magnus-desktop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_NAME = "db/magnus.sqlite3"
CONFIG_FILES = ("settings.json", "layout.ini", "tables.ini")
NOTE_SUFFIXES = (".md", ".markdown", ".txt")
BACKUP_PREFIX = "magnus-backup-"
#: a zip member larger than this (bytes) is refused before extraction (a zip bomb, not a backup)
MAX_MEMBER_BYTES = 50_000_000_000
PG_NOTE = ("The database is PostgreSQL: this backup holds the settings, layout and notes only. "
           "Back the database up with pg_dump (for example: pg_dump -Fc -f magnus.dump <your database URL>).")


class BackupError(Exception):
    """A backup or restore could not be done; the message is for the user (nothing was changed
    unless it says so)."""


class RestoreRefused(BackupError):
    """The zip is not a complete, intact backup of this app; the current data was not touched."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A written backup: the zip, the files inside (manifest excluded), and ``note`` for the user
    (e.g. PostgreSQL not included)."""

    path: Path
    files: tuple[str, ...]
    schema_revision: str | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ValidatedBackup:
    """A zip that passed :func:`validate_backup`, extracted into ``folder`` (a scratch folder the
    caller removes). ``files`` maps zip names to the extracted paths."""

    source: Path
    folder: Path
    created: str
    app_version: str
    schema_revision: str | None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def has_db(self) -> bool:
        return DB_NAME in self.files


# ---- backup ---------------------------------------------------------------------------------------
def backup_name(now: datetime) -> str:
    """``magnus-backup-20261202-135520.zip`` (UTC)."""
    return f"{BACKUP_PREFIX}{now.astimezone(UTC):%Y%m%d-%H%M%S}.zip"


def create_backup(dest_dir: Path, *, db_file: Path | None, config_dir: Path, notes_folder: Path | None = None,
                  db_note: str = "", now: datetime | None = None, name: str | None = None,
                  settings_file: Path | None = None) -> BackupResult:
    """Write a backup zip into ``dest_dir`` (created if missing).

    Args:
        dest_dir: the folder of the zip.
        db_file: the SQLite database to snapshot; None when there is none to include (then
            ``db_note`` says why, e.g. :data:`PG_NOTE`).
        config_dir: folder of ``settings.json``, ``layout.ini``, ``tables.ini``.
        notes_folder: the notes folder (its ``.md``/``.markdown``/``.txt`` files, recursively).
        settings_file: the settings file (default ``config_dir/settings.json``).
        now: creation time (names the zip).
        name: the zip's file name (default :func:`backup_name`).

    Raises:
        BackupError: the folder cannot be written, the database cannot be read, the disk is full;
            no partial zip is left behind.
    """
    now = now or datetime.now(UTC)
    problem = folder_problem(dest_dir)
    if problem:
        raise BackupError(f"The backup folder {dest_dir} {problem} Choose another folder.")
    target = dest_dir / (name or backup_name(now))
    tmp = dest_dir / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        with tempfile.TemporaryDirectory(prefix="magnus-backup-") as scratch:
            entries = list(_gather(Path(scratch), db_file, config_dir, notes_folder,
                                   settings_file or config_dir / "settings.json"))
            revision = _schema_revision(Path(scratch) / "db.sqlite3") if db_file is not None else None
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                        "created": now.isoformat(timespec="seconds"), "app_version": __version__,
                        "schema_revision": revision,
                        "files": {arc: {"size": p.stat().st_size, "sha256": _sha256(p)} for arc, p in entries}}
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for arc, path in entries:
                    zf.write(path, arc)
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
        os.replace(tmp, target)
    except BackupError:
        _unlink(tmp)
        raise
    except (OSError, sqlite3.Error) as exc:
        _unlink(tmp)
        raise BackupError(f"The backup could not be written to {dest_dir}: {_reason(exc)}. Nothing was saved; "
                          "check the free space and that the folder is writable.") from exc
    return BackupResult(target, tuple(arc for arc, _ in entries), revision, db_note)


def _gather(scratch: Path, db_file: Path | None, config_dir: Path, notes_folder: Path | None,
            settings_file: Path) -> Iterable[tuple[str, Path]]:
    """(zip name, file to add) pairs; the database snapshot and the masked settings are written to ``scratch``."""
    if db_file is not None:
        if not db_file.is_file():
            raise BackupError(f"The database file {db_file} does not exist; nothing was saved.")
        snapshot = scratch / "db.sqlite3"
        snapshot_sqlite(db_file, snapshot)
        yield DB_NAME, snapshot
    for name in CONFIG_FILES:
        path = settings_file if name == "settings.json" else config_dir / name
        if not path.is_file():
            continue
        if name == "settings.json":
            masked = scratch / name
            masked.write_text(mask_secrets(path.read_text(encoding="utf-8")), encoding="utf-8")
            path = masked
        yield f"config/{name}", path
    if notes_folder is not None and notes_folder.is_dir():
        for path in sorted(notes_folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in NOTE_SUFFIXES:
                yield "notes/" + path.relative_to(notes_folder).as_posix(), path


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """Copy the SQLite database ``source`` to ``dest`` with the online backup API (consistent while
    others write; the copy is a plain rollback-journal file).

    Raises:
        sqlite3.Error: the source cannot be read.
    """
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _schema_revision(db: Path) -> str | None:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: an empty database
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---- validation -----------------------------------------------------------------------------------
def validate_backup(zip_path: Path, folder: Path, known_revisions: Iterable[str | None]) -> ValidatedBackup:
    """Check ``zip_path`` completely and extract it into ``folder`` (an empty scratch folder).

    Args:
        known_revisions: the schema revisions this app can open (its migration chain; an older one is
            upgraded when the database opens). A database with another revision is refused.

    Raises:
        RestoreRefused: not a zip, damaged or truncated, not a Magnus Desktop backup, a file missing,
            altered or unexpected, settings unreadable, database corrupt or of an unknown schema.
    """
    where = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise RestoreRefused(f"{zip_path} does not exist.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise RestoreRefused(f"{where} is not a readable zip file ({_reason(exc)}): it is damaged, truncated "
                             "or not a backup. Your current data was not touched.") from None
    with zf:
        manifest = _manifest(zf, where)
        listed: dict[str, Any] = manifest["files"]
        names = {i.filename for i in zf.infolist() if not i.is_dir()} - {MANIFEST}
        missing, extra = sorted(set(listed) - names), sorted(names - set(listed))
        if missing or extra:
            what = (f"missing {', '.join(missing[:5])}" if missing else f"unexpected {', '.join(extra[:5])}")
            raise RestoreRefused(f"{where} does not match its manifest ({what}): it is damaged or was changed. "
                                 "Your current data was not touched.")
        files = {name: _extract(zf, name, listed[name], folder, where) for name in sorted(listed)}
    revision = manifest.get("schema_revision")
    if DB_NAME in files:
        _check_database(files[DB_NAME], revision, set(known_revisions), where)
    if "config/settings.json" in files:
        _check_settings(files["config/settings.json"], where)
    return ValidatedBackup(zip_path, folder, str(manifest.get("created", "")), str(manifest.get("app_version", "")),
                           revision, files)


def _manifest(zf: zipfile.ZipFile, where: str) -> dict[str, Any]:
    foreign = (f"{where} is not a Magnus Desktop backup (no valid {MANIFEST}). Your current data was not touched.")
    try:
        raw = zf.read(MANIFEST)
    except KeyError:
        raise RestoreRefused(foreign) from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise RestoreRefused(f"{where} is damaged ({_reason(exc)}). Your current data was not touched.") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RestoreRefused(foreign) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise RestoreRefused(foreign)
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise RestoreRefused(f"{where} was made by a newer Magnus Desktop (backup format {version}); update the "
                             "app to restore it. Your current data was not touched.")
    for name, meta in manifest["files"].items():
        if not _safe_name(name) or not isinstance(meta, dict) or not isinstance(meta.get("size"), int) \
                or not isinstance(meta.get("sha256"), str):
            raise RestoreRefused(foreign)
    return manifest


def _safe_name(name: str) -> bool:
    """A relative path inside ``db/``, ``config/`` or ``notes/`` with no ``..`` (no zip slip)."""
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name or ":" in name or len(p.parts) < 2:
        return False
    if p.parts[0] == "db":
        return name == DB_NAME
    if p.parts[0] == "config":
        return len(p.parts) == 2 and p.parts[1] in CONFIG_FILES
    return p.parts[0] == "notes" and p.suffix.lower() in NOTE_SUFFIXES


def _extract(zf: zipfile.ZipFile, name: str, meta: dict[str, Any], folder: Path, where: str) -> Path:
    """Extract one member, checking its size and SHA-256 against the manifest while streaming."""
    damaged = f"{where} is damaged: {name} is not the file that was backed up"
    size = meta["size"]
    if zf.getinfo(name).file_size != size or size > MAX_MEMBER_BYTES:
        raise RestoreRefused(f"{damaged} (size differs). Your current data was not touched.")
    out = folder.joinpath(*PurePosixPath(name).parts)
    out.parent.mkdir(parents=True, exist_ok=True)
    digest, written = hashlib.sha256(), 0
    try:
        with zf.open(name) as src, out.open("wb") as dst:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > size:
                    raise RestoreRefused(f"{damaged} (too long). Your current data was not touched.")
                digest.update(chunk)
                dst.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise RestoreRefused(f"{where} is damaged or truncated ({name}: {_reason(exc)}). "
                             "Your current data was not touched.") from None
    except OSError as exc:
        raise BackupError(f"The backup could not be unpacked into a temporary folder: {_reason(exc)}. "
                          "Your current data was not touched.") from exc
    if written != size or digest.hexdigest() != meta["sha256"]:
        raise RestoreRefused(f"{damaged} (checksum differs). Your current data was not touched.")
    return out


def _check_database(path: Path, revision: str | None, known: set[str | None], where: str) -> None:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            try:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                row = None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"The database in {where} is not a readable SQLite database ({_reason(exc)}). "
                             "Your current data was not touched.") from None
    if result != ["ok"]:
        raise RestoreRefused(f"The database in {where} failed SQLite's integrity check ({'; '.join(result[:3])}). "
                             "Your current data was not touched.")
    stored = str(row[0]) if row else None
    if stored != revision:
        raise RestoreRefused(f"The database in {where} has schema revision {stored or 'none'}, its manifest says "
                             f"{revision or 'none'}: it was changed. Your current data was not touched.")
    if stored not in known:
        raise RestoreRefused(f"The database in {where} has schema revision {stored or 'none'}, which this version of "
                             "Magnus Desktop does not know (a newer app or another program made it). "
                             "Your current data was not touched.")


def _check_settings(path: Path, where: str) -> None:
    probe = path.with_name(f".probe-{path.name}")
    shutil.copyfile(path, probe)
    store = SettingsStore(probe)
    store.load()
    if store.problem:
        raise RestoreRefused(f"The settings in {where} cannot be read ({store.problem}). "
                             "Your current data was not touched.")
    for leftover in probe.parent.glob(f"{probe.name}*"):
        _unlink(leftover)


# ---- install --------------------------------------------------------------------------------------
def restore_targets(backup: ValidatedBackup, *, db_file: Path | None, config_dir: Path,
                    notes_folder: Path | None, settings_file: Path | None = None) -> list[tuple[Path, Path]]:
    """(extracted file, the file it replaces) pairs. The settings go to ``settings_file`` (default
    ``config_dir/settings.json``), notes into ``notes_folder`` (skipped when there is none); files of
    the notes folder not in the backup are left alone.

    Raises:
        RestoreRefused: the backup holds a database but ``db_file`` is None (PostgreSQL in use).
    """
    pairs: list[tuple[Path, Path]] = []
    for name, extracted in backup.files.items():
        parts = PurePosixPath(name).parts
        if name == DB_NAME:
            if db_file is None:
                raise RestoreRefused("This backup holds a SQLite database, but Magnus Desktop uses PostgreSQL now: "
                                     "restore the database with pg_restore, or switch to SQLite in Settings → Data "
                                     "first. Your current data was not touched.")
            pairs.append((extracted, db_file))
        elif name == "config/settings.json":
            pairs.append((extracted, settings_file or config_dir / parts[1]))
        elif parts[0] == "config":
            pairs.append((extracted, config_dir / parts[1]))
        elif notes_folder is not None:
            pairs.append((extracted, notes_folder.joinpath(*parts[1:])))
    return pairs


def install_backup(pairs: list[tuple[Path, Path]]) -> None:
    """Stage every file next to its target, then move each over its target (``os.replace``).

    Call with the database closed. A staging failure (disk full, folder not writable) removes the
    staged copies and changes nothing. A SQLite target's stale ``-wal``/``-shm`` files are removed
    (they belong to the replaced database).

    Raises:
        BackupError: staging failed (nothing changed), or a move failed (the message says which
            files were replaced; the safety copy restores the rest).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for extracted, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.restore-{secrets.token_hex(4)}.tmp")
            staged.append((tmp, target))
            shutil.copyfile(extracted, tmp)
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
    except OSError as exc:
        for tmp, _target in staged:
            _unlink(tmp)
        raise BackupError(f"The restore could not write {staged[-1][1] if staged else 'its files'}: {_reason(exc)}. "
                          "Nothing was changed.") from exc
    done: list[Path] = []
    for tmp, target in staged:
        try:
            if target.suffix in (".sqlite3", ".sqlite", ".db"):
                for suffix in ("-wal", "-shm", "-journal"):
                    _unlink(target.with_name(target.name + suffix))
            os.replace(tmp, target)
            done.append(target)
        except OSError as exc:
            for left, _t in staged:
                _unlink(left)
            raise BackupError(f"The restore stopped at {target} ({_reason(exc)}) after replacing "
                              f"{len(done)} of {len(staged)} files.") from exc


def latest_backup(folder: Path) -> Path | None:
    """The newest ``magnus-backup-*.zip`` in ``folder`` by modification time (None if none)."""
    try:
        found = [p for p in folder.glob(f"{BACKUP_PREFIX}*.zip") if p.is_file()]
    except OSError:
        return None
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass  # never created, or already moved


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return mask_secrets(str(text))
