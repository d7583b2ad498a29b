"""The stored trade-history snapshot (table ``history_results``): what the trade-history dock shows,
computed once per change of the events instead of on every open.

The stored result is never used stale. It carries two versions, and a reader uses it only when
both match:

- ``events_version``: of the events it was computed from, ``"<count>:<largest id>:<newest import
  id>:<its imported_at>"`` of ``history_events`` / ``history_imports`` (the app only appends events;
  a removed and re-imported file gets a new ``imported_at``);
- ``code_version``: a digest of the bytecode and constants of the modules that read the events and
  compute the snapshot (``_CODE_MODULES``) and of ``PAYLOAD_FORMAT``, so a changed FIFO or wheel
  rule recomputes.

A missing, stale or unreadable stored result (garbage payload, dropped table) makes the reader
compute the snapshot from the events as before (``HistoryService.refresh``), which then writes the
fresh one back on the db executor. Writers: ``HistoryService.refresh`` after computing, and
``magnus-desktop import`` (:func:`update_stored`) after the import's transaction.

Payload (zlib-compressed): a 4-byte little-endian length, a JSON document of that many bytes,
then the binary columns. The document: ``{"format", "events_version", "events", "lot_method",
"accounts", "matches": {field: column}, "positions": rows, "months": rows, "cycles": rows (steps
as rows), "month_bars", "byteorder"}``. Times are ISO 8601 texts; numbers as Python writes them
(exact round trip; ints stay ints). A closed-lot column of floats only is stored as
``{"f64": [byte offset, count]}`` into the binary part (IEEE 754 doubles in ``byteorder``):
exact, and 5-10x faster to write and read than JSON number texts. Blocking: call these on a
worker thread.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import sys
import zlib
from array import array
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from types import CodeType
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from magnus_desktop.analytics.realized import LotMatch, MonthPnL, PositionPnL
from magnus_desktop.analytics.wheel import WheelCycle, WheelStep
from magnus_desktop.models.history import POSITION_KINDS, PositionEvent
from magnus_desktop.models.orm_history import HistoryEventRow, HistoryImportRow, HistoryResultRow
from magnus_desktop.services.gcpause import automatic_collection_paused
from magnus_desktop.services.history.snapshot import HistorySnapshot, build_snapshot
from magnus_desktop.services.imports import ImportReport, load_position_rows
from magnus_desktop.services.storage import Database, StorageError

log = logging.getLogger(__name__)

#: layout of the payload; part of ``code_version``
PAYLOAD_FORMAT = 1
#: the ``name`` of the stored snapshot's row
NAME = "snapshot"
#: what reads the events and computes the snapshot: a change to any of them invalidates stored results
_CODE_MODULES = (
    "magnus_desktop.analytics.realized",
    "magnus_desktop.analytics.wheel",
    "magnus_desktop.models.history",
    "magnus_desktop.services.history.snapshot",
    "magnus_desktop.services.history.store",
    "magnus_desktop.services.imports.service",
)
_EVENTS = HistoryEventRow.__table__
_IMPORTS = HistoryImportRow.__table__
_RESULTS = HistoryResultRow.__table__
_TIMES = frozenset({"opened_at", "closed_at", "occurred_at"})
_LOT_FIELDS = tuple(f.name for f in fields(LotMatch))
_CYCLE_FIELDS = tuple(f.name for f in fields(WheelCycle))
_STEP_FIELDS = tuple(f.name for f in fields(WheelStep))
_POSITION_FIELDS = tuple(f.name for f in fields(PositionPnL))
_MONTH_FIELDS = tuple(f.name for f in fields(MonthPnL))
_code_version: str | None = None


def code_version() -> str:
    """Digest (32 hex) of ``PAYLOAD_FORMAT`` and of the compiled code of ``_CODE_MODULES``
    (bytecode, names, constants; not file names or line numbers). Cached per process.

    Raises:
        ImportError: a module's code cannot be loaded (then nothing may be stored or trusted).
    """
    global _code_version
    if _code_version is None:
        digest = hashlib.sha256(f"format {PAYLOAD_FORMAT}".encode())
        for name in _CODE_MODULES:
            spec = importlib.util.find_spec(name)
            code = spec.loader.get_code(name) if spec is not None and spec.loader is not None else None  # type: ignore[attr-defined]
            if code is None:
                raise ImportError(f"no code for {name}")
            _digest_code(code, digest)
        _code_version = digest.hexdigest()[:32]
    return _code_version


def _digest_code(code: CodeType, digest: Any) -> None:
    digest.update(code.co_code)
    digest.update(repr((code.co_names, code.co_varnames, code.co_argcount, code.co_kwonlyargcount)).encode())
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _digest_code(const, digest)
        elif isinstance(const, frozenset):  # its repr's order depends on the hash seed
            digest.update(repr(sorted(map(repr, const))).encode())
        else:
            digest.update(repr(const).encode())


def events_version(db: Database) -> str:
    """The version of the stored events (see the module docstring).

    Raises:
        StorageError: the database could not be read.
    """
    with db.session() as session:
        return _events_version(session)


def _events_version(session: Session) -> str:
    count, largest = session.execute(select(func.count(), func.max(_EVENTS.c.id)).select_from(_EVENTS)).one()
    newest = session.execute(select(_IMPORTS.c.id, _IMPORTS.c.imported_at)
                             .order_by(_IMPORTS.c.id.desc()).limit(1)).first()
    if newest is None:
        return f"{count}:{largest or 0}:0:"
    return f"{count}:{largest or 0}:{newest[0]}:{newest[1].isoformat() if newest[1] else ''}"


def read_stored(db: Database) -> tuple[str, bytes | None]:
    """(the events' current version, the stored payload when it was computed from exactly these
    events by this code, else None). A stored result that cannot be read (dropped table, bad row)
    counts as missing and is logged at INFO.

    Raises:
        StorageError: the events' version could not be read (the database itself failed).
    """
    try:
        code = code_version()
        with db.session() as session:
            row = session.execute(select(_RESULTS.c.events_version, _RESULTS.c.code_version,
                                         _RESULTS.c.payload_format, _RESULTS.c.payload)
                                  .where(_RESULTS.c.name == NAME)).first()
    except (StorageError, ImportError) as exc:
        log.info("No usable stored trade-history result (%s); computing it from the events", exc)
        row = None
    version = events_version(db)
    if row is None or (row[0], row[1], row[2]) != (version, code, PAYLOAD_FORMAT) or not isinstance(row[3], bytes):
        return version, None
    return version, row[3]


def load_events(db: Database) -> tuple[int, list[PositionEvent], str | None]:
    """``load_position_rows(db)`` and the version of what it read: (stored events, position events,
    version, or None when an import changed the events meanwhile: then do not store the result).

    Raises:
        StorageError: the database could not be read.
    """
    before = events_version(db)
    stored, events = load_position_rows(db)
    return stored, events, before if events_version(db) == before else None


def encode(snapshot: HistorySnapshot, version: str) -> bytes:
    """The payload of ``snapshot`` computed from the events of ``version`` (module docstring)."""
    iso = _Texts()
    matches: dict[str, Any] = {}
    binary = bytearray()
    for name in _LOT_FIELDS:
        column = list(map(attrgetter(name), snapshot.matches))
        if name in _TIMES:
            matches[name] = iso.column(column)
        elif column and set(map(type, column)) == {float}:
            matches[name] = {"f64": [len(binary), len(column)]}
            binary += array("d", column).tobytes()
        else:
            matches[name] = column
    cycles = []
    for c in snapshot.cycles:
        row: list[Any] = []
        for name in _CYCLE_FIELDS:
            value = getattr(c, name)
            if name in _TIMES:
                value = None if value is None else iso(value)
            elif name == "steps":
                value = [[iso(s.occurred_at), s.step, s.symbol, s.qty, s.amount] for s in value]
            elif name == "_short":
                value = list(value.items())
            row.append(value)
        cycles.append(row)
    doc = {
        "format": PAYLOAD_FORMAT, "events_version": version, "events": snapshot.events,
        "lot_method": snapshot.lot_method, "accounts": snapshot.accounts, "matches": matches,
        "positions": [[getattr(p, name) for name in _POSITION_FIELDS] for p in snapshot.positions],
        "months": [[getattr(m, name) for name in _MONTH_FIELDS] for m in snapshot.months],
        "cycles": cycles, "month_bars": snapshot.month_bars, "byteorder": sys.byteorder,
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()
    return zlib.compress(len(text).to_bytes(4, "little") + text + binary, 1)


def decode(payload: bytes, version: str) -> HistorySnapshot | None:
    """The snapshot in ``payload``; None (logged at INFO) when it is unreadable, of another layout or
    of other events than ``version``."""
    try:
        data = zlib.decompress(payload)
        size = int.from_bytes(data[:4], "little")
        doc = json.loads(data[4:4 + size])
        if doc["format"] != PAYLOAD_FORMAT or doc["events_version"] != version:
            return None
        binary = memoryview(data)[4 + size:]
        when = _Times()
        lots = doc["matches"]
        columns = []
        for name in _LOT_FIELDS:
            column = lots[name]
            if name in _TIMES:
                column = when.column(column)
            elif isinstance(column, dict):
                column = _floats(binary, *column["f64"], swap=doc["byteorder"] != sys.byteorder)
            columns.append(column)
        if len({len(column) for column in columns}) > 1:
            raise ValueError("columns of different lengths")
        matches = list(map(LotMatch, *columns))
        cycles = []
        for row in doc["cycles"]:
            values = dict(zip(_CYCLE_FIELDS, row, strict=True))
            values["opened_at"] = when(values["opened_at"])
            values["closed_at"] = None if values["closed_at"] is None else when(values["closed_at"])
            values["steps"] = [WheelStep(when(s[0]), *s[1:]) for s in values["steps"]]
            values["_short"] = dict(values["_short"])
            cycles.append(WheelCycle(**values))
        return HistorySnapshot(
            int(doc["events"]), str(doc["lot_method"]), matches,
            [PositionPnL(*row) for row in doc["positions"]], [MonthPnL(*row) for row in doc["months"]],
            cycles, list(doc["accounts"]),
            {account: (list(bars[0]), list(bars[1])) for account, bars in doc["month_bars"].items()})
    except (zlib.error, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        log.info("The stored trade-history result is unreadable (%s: %s); computing it from the events",
                 type(exc).__name__, exc)
        return None


def _floats(binary: memoryview, offset: int, count: int, *, swap: bool) -> list[float]:
    """``count`` doubles at byte ``offset`` of ``binary`` (byte-swapped when written on a machine of
    the other byte order). Raises ValueError when ``binary`` is too short."""
    values = array("d")
    values.frombytes(binary[offset:offset + count * values.itemsize])
    if len(values) != count or offset < 0:
        raise ValueError("a float column is cut short")
    if swap:
        values.byteswap()
    return values.tolist()


def save(db: Database, version: str, snapshot: HistorySnapshot) -> bool:
    """Store ``snapshot`` (computed from the events of ``version``) in place of the stored result,
    unless the events changed meanwhile. A dropped ``history_results`` table is created again.

    Returns:
        True when stored; False when the events changed or the database refused (logged at INFO:
        the next open computes from the events, nothing is lost).
    """
    try:
        payload = encode(snapshot, version)
    except (TypeError, ValueError, OverflowError) as exc:  # a value JSON cannot hold: a bug, not bad data
        log.warning("The trade-history result cannot be stored (%s); it is computed on every open", exc)
        return False
    try:
        code = code_version()
        with db.session() as session:
            if _events_version(session) != version:
                return False
            _RESULTS.create(session.connection(), checkfirst=True)
            session.execute(delete(_RESULTS).where(_RESULTS.c.name == NAME))
            session.execute(insert(_RESULTS).values(name=NAME, events_version=version, code_version=code,
                                                    payload_format=PAYLOAD_FORMAT, payload=payload))
    except (StorageError, ImportError) as exc:
        log.info("The trade-history result was not stored (%s); it is computed on the next open", exc)
        return False
    return True


def update_stored(db: Database, report: ImportReport | None = None) -> bool:
    """Bring the stored result up to date with the events (blocking): what ``magnus-desktop import``
    runs after an import, so the app's first open of the trade-history dock reads it. Computes
    only when the stored result is missing or stale.

    Args:
        db: the database.
        report: the import just made, if any. When its file's events are every stored event (the
            first import into an empty history, no duplicate), they are the history: the snapshot
            is computed from them in memory instead of reading them back (same events, same
            order: the import stores them in time order, stable, which is the analytics' order).

    Returns:
        True when the stored result is current (now or already); False when it could not be
        computed or stored (logged at INFO; the dock then computes from the events).
    """
    try:
        version, payload = read_stored(db)
        if payload is not None:
            return True
    except StorageError as exc:
        log.info("The trade-history result was not updated (%s)", exc)
        return False
    with automatic_collection_paused():
        if report is not None and not report.dry_run and report.duplicates == 0 and \
                int(version.split(":", 1)[0]) == report.rows_imported == len(report.events):
            events: list[Any] = [e for e in report.events if e.kind in POSITION_KINDS and e.qty != 0]
            stored, version_read = report.rows_imported, version
        else:
            try:
                stored, events, version_read = load_events(db)
            except StorageError as exc:
                log.info("The trade-history result was not updated (%s)", exc)
                return False
        if version_read is None:
            return False
        return save(db, version_read, build_snapshot(events, stored))


class _Texts:
    """``datetime -> ISO text``, once per distinct time (a history repeats its times). Keyed by the
    time and its UTC offset: equal aware times of two offsets keep their own texts."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[tuple[datetime, Any], str] = {}

    def __call__(self, when: datetime) -> str:
        key = (when, when.utcoffset())
        text = self._memo.get(key)
        if text is None:
            text = self._memo[key] = when.isoformat()
        return text

    def column(self, times: list[datetime]) -> list[str]:
        """``times`` as texts; naive times (a history's) each formatted once, the lookups in C."""
        distinct = set(times)
        if any(when.tzinfo is not None for when in distinct):
            return list(map(self, times))
        texts = {when: when.isoformat() for when in distinct}
        return list(map(texts.__getitem__, times))


class _Times:
    """``ISO text -> datetime``, once per distinct text."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[str, datetime] = {}

    def __call__(self, text: str) -> datetime:
        when = self._memo.get(text)
        if when is None:
            when = self._memo[text] = datetime.fromisoformat(text)
        return when

    def column(self, texts: list[str]) -> list[datetime]:
        """``texts`` as times (each distinct text parsed once, the lookups in C)."""
        memo = self._memo
        parse = datetime.fromisoformat
        memo.update((text, parse(text)) for text in set(texts).difference(memo))
        return list(map(memo.__getitem__, texts))
