"""Import a broker statement file into the trade history: detect, parse, reconcile, store.

One file is one database transaction: every row of it is stored, or (on any error) none. Events
already stored for the account (same ``event_key``: the broker's id or the content hash) are
skipped and counted as duplicates; so are repeated keys inside the file. Blocking: call it from a
worker thread, never from the GUI thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice, repeat
from operator import add, attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, Float, insert, select, update
from sqlalchemy.orm import Session

from magnus_desktop.analytics.realized import RealizedReport, realized_pnl
from magnus_desktop.models.history import (
    EVENT_KINDS,
    POSITION_KINDS,
    HistoryEvent,
    PositionEvent,
    new_history_event,
)
from magnus_desktop.models.orm_history import HistoryEventRow, HistoryImportRow, HistoryPositionRow
from magnus_desktop.services.gcpause import automatic_collection_paused
from magnus_desktop.services.imports.common import FileKind, ImportFormatError, ParsedFile, SkippedLine
from magnus_desktop.services.imports.ibkr_flex import parse_ibkr_flex
from magnus_desktop.services.imports.reconcile import ReconciliationRow, reconcile
from magnus_desktop.services.imports.robinhood_csv import HEADER, parse_robinhood_csv
from magnus_desktop.services.storage import Database

BATCH = 20_000  # rows per executemany
#: SQLite page cache (KiB) of the connection while a file is stored: the unique (account, event_key)
#: index takes content-hash keys (Robinhood) at random places, and a 2 MiB default cache spills
#: its pages to the WAL again and again; restored after the import.
IMPORT_CACHE_KIB = 65_536
_EVENTS = HistoryEventRow.__table__
_POSITIONS = HistoryPositionRow.__table__
_IMPORTS = HistoryImportRow.__table__


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do).

    ``by_kind`` counts the events newly stored per kind (with ``dry_run``: the events found);
    ``duplicates`` the events skipped because their key was already stored or repeated.
    """

    path: Path
    kind: FileKind
    account: str
    dry_run: bool
    rows_imported: int
    duplicates: int
    positions_imported: int
    by_kind: dict[str, int]
    skipped: list[SkippedLine]
    reconciliation: list[ReconciliationRow]
    import_id: int | None = None
    events: list[HistoryEvent] = field(default_factory=list, repr=False)
    _realized: RealizedReport | None = field(default=None, repr=False)

    @property
    def realized(self) -> RealizedReport:
        """FIFO realized P&L of this file's events (computed on first use; amounts in each currency)."""
        if self._realized is None:
            self._realized = realized_pnl(self.events)
        return self._realized

    @property
    def reconciled(self) -> bool:
        """True when every stated balance matches within 0.01 (also when the file states none)."""
        return all(row.ok for row in self.reconciliation)


def detect_kind(path: Path | str) -> FileKind:
    """``"ibkr-flex"`` or ``"robinhood-csv"`` from the first bytes of the file.

    Raises:
        ImportFormatError: unreadable file, or neither layout.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFormatError(path, 0, f"cannot read the file ({exc.strerror or exc})") from None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<") and "FlexQueryResponse" in text:
        return "ibkr-flex"
    first = text.split("\n", 1)[0]
    if all(name in first for name in HEADER):
        return "robinhood-csv"
    raise ImportFormatError(path, 1, "neither an IBKR Flex XML (<FlexQueryResponse>) nor a Robinhood "
                            "activity CSV; name the kind with --kind")


def parse_file(path: Path | str, kind: FileKind | None = None, account: str | None = None) -> ParsedFile:
    """Parse ``path`` as ``kind`` (detected when None). Raises ``ImportFormatError``."""
    kind = kind or detect_kind(path)
    if kind == "ibkr-flex":
        return parse_ibkr_flex(path, account)
    return parse_robinhood_csv(path, account)


def import_file(db: Database | None, path: Path | str, kind: FileKind | None = None,
                account: str | None = None, *, dry_run: bool = False) -> ImportReport:
    """Parse, reconcile and (unless ``dry_run``) store one statement file.

    Args:
        db: the open database; may be None when ``dry_run`` (nothing is read or written).
        path: the file.
        kind: ``"ibkr-flex"`` or ``"robinhood-csv"``; detected when None.
        account: account name for every row (default: the statement's account id, or
            ``"robinhood"`` for a Robinhood file).
        dry_run: parse, reconcile and report; store nothing.

    Raises:
        ImportFormatError: bad input (names file and line); nothing stored.
        StorageError: the database refused the write; nothing stored.
    """
    with automatic_collection_paused():  # a command-line import: see services/gcpause.py
        return _import_file(db, path, kind, account, dry_run)


def _import_file(db: Database | None, path: Path | str, kind: FileKind | None, account: str | None,
                 dry_run: bool) -> ImportReport:
    parsed = parse_file(path, kind, account)
    sha = _sha256(parsed.path)
    recon = reconcile(parsed)
    if dry_run or db is None:
        keys = Counter(e.event_key for e in parsed.events)
        return ImportReport(parsed.path, parsed.kind, parsed.account, True, len(keys),
                            sum(keys.values()) - len(keys), len(parsed.positions),
                            _by_kind(parsed.events), parsed.skipped, recon, None, parsed.events)
    with db.bulk_session() as session:  # on SQLite: synchronous=NORMAL for this transaction only
        import_id, new_events, n_positions = store_parsed(session, parsed, sha)
    return ImportReport(parsed.path, parsed.kind, parsed.account, False, len(new_events),
                        len(parsed.events) - len(new_events), n_positions, _by_kind(new_events),
                        parsed.skipped, recon, import_id, parsed.events)


def store_parsed(session: Session, parsed: ParsedFile, sha256: str) -> tuple[int, list[HistoryEvent], int]:
    """Insert one parsed file inside the caller's transaction (bulk Core inserts).

    One query reads the event keys already stored for the file's accounts (duplicate detection in
    memory, no per-row query); the new rows go in as executemany batches of :data:`BATCH`
    (on SQLite built by :func:`_sqlite_insert`, elsewhere by :func:`_bulk_insert`).

    Returns:
        (import id, the events newly stored, number of positions newly stored).
    """
    import_id = session.execute(
        insert(_IMPORTS).values(file_name=parsed.path.name[:255], file_sha256=sha256, file_kind=parsed.kind,
                                account=parsed.account, rows_imported=0, duplicates=0)
        .returning(_IMPORTS.c.id)
    ).scalar_one()
    new_events = _new_events(session, parsed.events)
    # time order (stable: ties keep the file's order) = id order, and the (account, occurred_at)
    # index grows at its end instead of at random places
    new_events.sort(key=_occurred_at)
    connection = session.connection()
    cache = _set_cache(connection, -IMPORT_CACHE_KIB)
    try:
        positions = _new_positions(session, parsed)
        sqlite = connection.dialect.name == "sqlite" and connection.dialect.paramstyle == "qmark"
        with _checks_done_here(connection, sqlite and _event_checks_hold(new_events)):
            if not (sqlite and _sqlite_insert(connection, _EVENTS, import_id, _EVENT_FIELDS, new_events)):
                _bulk_insert(session, _EVENTS, _EVENT_COLUMNS, map(_event_fields, new_events), (import_id,))
        if not (sqlite and _sqlite_insert(connection, _POSITIONS, import_id, _POSITION_FIELDS, positions)):
            _bulk_insert(session, _POSITIONS, ("import_id", *_POSITION_FIELDS),
                         (tuple(getattr(p, f) for f in _POSITION_FIELDS) for p in positions), (import_id,))
    finally:
        _set_cache(connection, cache)
    session.execute(update(_IMPORTS).where(_IMPORTS.c.id == import_id).values(
        rows_imported=len(new_events), duplicates=len(parsed.events) - len(new_events)))
    return import_id, new_events, len(positions)


#: The CHECK constraints of ``history_events`` (their SQL, as the model declares it) and, for each,
#: a test over a list of events that is True only when every event satisfies it. Values a test
#: cannot judge (NaN, a text where a number belongs) make it False, leaving the verdict to SQLite.
_EVENT_CHECKS: dict[str, Callable[[list[HistoryEvent]], bool]] = {
    f"kind IN ({', '.join(map(repr, EVENT_KINDS))})": lambda events: set(map(attrgetter("kind"), events)) <= _KINDS,
    "\"right\" IS NULL OR \"right\" IN ('C', 'P')": lambda events: set(map(attrgetter("right"), events)) <= _RIGHTS,
    "multiplier > 0": lambda events: _all_positive(map(attrgetter("multiplier"), events)),
    "fx_rate_to_base > 0": lambda events: _all_positive(map(attrgetter("fx_rate_to_base"), events)),
}
_KINDS = frozenset(EVENT_KINDS)
_RIGHTS = frozenset({None, "C", "P"})


def _all_positive(values: Iterable[Any]) -> bool:
    """True when every value is a number > 0 (each distinct value compared once; NaN is not > 0)."""
    try:
        return all(value > 0 for value in set(values))
    except TypeError:  # unhashable, or not comparable with 0
        return False


def _event_checks_hold(events: list[HistoryEvent]) -> bool:
    """True when ``events`` satisfy every CHECK constraint of ``history_events``, tested here in
    bulk; False when they do not, or when the table's constraints are not the ones tested here."""
    declared = {str(c.sqltext) for c in _EVENTS.constraints if isinstance(c, CheckConstraint)}
    return declared == set(_EVENT_CHECKS) and all(check(events) for check in _EVENT_CHECKS.values())


@contextmanager
def _checks_done_here(connection: Any, done: bool) -> Iterator[None]:
    """With ``done`` (SQLite only): SQLite skips the CHECK constraints (``PRAGMA
    ignore_check_constraints``) for the block, because :func:`_event_checks_hold` has tested them
    for the rows it inserts; restored when the block ends, also on error.

    Why: SQLite evaluates the ``kind IN (...)`` check by building a small temporary index for every
    inserted row, which costs about as much as the rest of the insert. NOT NULL, UNIQUE and foreign
    keys are enforced as always. Changing the flag makes SQLite re-prepare its statements, so no
    statement compiled without the checks outlives the block.
    """
    if not done:
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar())
    connection.exec_driver_sql("PRAGMA ignore_check_constraints=ON")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA ignore_check_constraints={'ON' if previous else 'OFF'}")


def _set_cache(connection: Any, cache_size: int | None) -> int | None:
    """Set SQLite's ``PRAGMA cache_size`` of ``connection`` (< 0: KiB, > 0: pages; None: leave it);
    returns the previous value (None on other databases)."""
    if connection.dialect.name != "sqlite" or cache_size is None:
        return None
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar())
    connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
    return previous


def _bulk_insert(session: Session, table: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
                 leading: tuple[Any, ...] = ()) -> None:
    """executemany of ``rows`` (value tuples in ``columns`` order) in batches of :data:`BATCH`.

    ``leading``: values of the first ``len(leading)`` columns, the same on every row (the import
    id); ``rows`` then hold the other columns only, and the leading values are joined column-wise.

    The statement is ``insert(table)`` compiled once for the session's dialect; each column's
    bind processor (e.g. SQLite's datetime → ISO text) is applied here, column-wise, so the rows
    are stored exactly as the ORM would store them, without SQLAlchemy's per-row parameter
    dictionaries (which cost more than the inserts themselves). Dialects with named parameters
    (psycopg2) take the Core ``execute(insert(table), dicts)`` path.
    """
    connection = session.connection()
    dialect = connection.dialect
    if leading:
        rows = ((*leading, *row) for row in rows) if not dialect.positional else rows
    if not dialect.positional:
        for batch in _batches(rows):
            session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in batch])
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = [columns.index(name) for name in compiled.positiontup or ()]
    in_order = order == list(range(len(columns)))
    converters = [(position, _converter(table.c[columns[i]].type, dialect))
                  for position, i in enumerate(order)]
    converters = [(position, conv) for position, conv in converters if conv is not None]
    sql = str(compiled)
    for batch in _batches(rows):
        if not in_order:
            batch = [tuple(row[i] for i in order) for row in ((*leading, *r) for r in batch)]
            leading_here: tuple[Any, ...] = ()
        else:
            leading_here = leading
        if leading_here or converters:  # column-wise: the leading values and the bind processors
            cols: list[Any] = [repeat(value, len(batch)) for value in leading_here]
            cols += zip(*batch, strict=True)
            for position, conv in converters:
                cols[position] = map(conv, cols[position])
            batch = list(zip(*cols, strict=True))
        connection.exec_driver_sql(sql, batch)


def _sqlite_insert(connection: Any, table: Any, import_id: int, fields: tuple[str, ...], items: list[Any]) -> bool:
    """executemany of ``items`` (objects with the attributes ``fields``) into ``table`` on SQLite,
    ``import_id`` in every row, in batches of :data:`BATCH`.

    The rows are stored exactly as the ORM would store them (each column's bind processor, e.g.
    datetime → ISO text, applied; memoised per value), but each row is built by C code alone: the
    columns that need no conversion come from one ``attrgetter``, the converted ones are appended
    (``operator.add`` of two tuples), and ``import_id`` is a literal of the statement, which names
    its columns in that order. Returns False (nothing done) when fewer than two columns need no
    conversion (``attrgetter`` of one name returns no tuple).
    """
    dialect = connection.dialect
    converters = {f: _converter(table.c[f].type, dialect) for f in fields}
    plain = [f for f in fields if converters[f] is None]
    converted = [(f, conv) for f, conv in converters.items() if conv is not None]
    if len(plain) < 2:
        return False
    quote = dialect.identifier_preparer.quote
    names = ("import_id", *plain, *(f for f, _conv in converted))
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, names))}) "
           f"VALUES ({int(import_id)}, {', '.join('?' * (len(names) - 1))})")
    get = attrgetter(*plain)
    for start in range(0, len(items), BATCH):
        batch = items[start:start + BATCH]
        if converted:
            tails = zip(*(map(conv, map(attrgetter(f), batch)) for f, conv in converted), strict=True)
            rows = list(map(add, map(get, batch), tails))
        else:
            rows = list(map(get, batch))
        connection.exec_driver_sql(sql, rows)
    return True


class _Memo(dict[Any, Any]):
    """``processor(value)`` memoised per value: ``memo[value]`` (a C dict lookup once seen)."""

    def __init__(self, processor: Callable[[Any], Any]) -> None:
        super().__init__({None: None})
        self.processor = processor

    def __missing__(self, value: Any) -> Any:
        out = self[value] = self.processor(value)
        return out


def _converter(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column's bind processor (None when it has none, or when the driver takes the value as
    it is: SQLite's ``Float`` processor only turns ints into floats, which REAL affinity does too).
    A date/time processor is memoised per value (a statement repeats its dates and times) and
    called as a C dict lookup; a value that is no date raises ``TypeError`` (unhashable, or the
    processor's own)."""
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None or (dialect.name == "sqlite" and isinstance(column_type, Float)):
        return None
    if not isinstance(column_type, Date | DateTime):
        return processor
    return _Memo(processor).__getitem__


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


def _new_events(session: Session, events: list[HistoryEvent]) -> list[HistoryEvent]:
    accounts = {e.account for e in events}
    stored: set[tuple[str, str]] = set()
    for acct in accounts:
        stored.update((acct, k) for k in session.execute(
            select(_EVENTS.c.event_key).where(_EVENTS.c.account == acct)).scalars())
    if len(accounts) == 1:  # the usual file: one account, so the keys alone identify the events
        keys = {key for _acct, key in stored}
        add = keys.add
        # add() returns None: an event is kept the first time its key is seen
        return [e for e in events if e.event_key not in keys and not add(e.event_key)]
    fresh = []
    for e in events:
        ident = (e.account, e.event_key)
        if ident not in stored:
            stored.add(ident)
            fresh.append(e)
    return fresh


def _new_positions(session: Session, parsed: ParsedFile) -> list[Any]:
    if not parsed.positions:
        return []
    stored = {tuple(row) for row in session.execute(
        select(_POSITIONS.c.account, _POSITIONS.c.report_date, _POSITIONS.c.position_key)
        .where(_POSITIONS.c.account.in_({p.account for p in parsed.positions})))}
    fresh = []
    for p in parsed.positions:
        ident = (p.account, p.report_date, p.position_key)
        if ident not in stored:
            stored.add(ident)
            fresh.append(p)
    return fresh


_EVENT_FIELDS: tuple[str, ...] = HistoryEvent.__slots__  # type: ignore[attr-defined]
_EVENT_COLUMNS = ("import_id", *_EVENT_FIELDS)
_POSITION_FIELDS = (
    "account", "report_date", "position_key", "asset_category", "symbol", "underlying", "expiry", "strike",
    "right", "multiplier", "qty", "mark_price", "cost_basis", "currency", "fx_rate_to_base", "source_line")


_event_fields = attrgetter(*_EVENT_FIELDS)
_occurred_at = attrgetter("occurred_at")


def load_events(db: Database, account: str | None = None) -> list[HistoryEvent]:
    """Stored events, oldest first (ties in import order), optionally of one account.

    On SQLite the rows are read through the driver and the ISO date/time texts converted with
    ``fromisoformat`` (SQLAlchemy's per-value regex parsing costs more than the query).
    """
    return _read_events(db, account, _EVENT_FIELDS, None)


#: What the trade-history analytics (FIFO realized P&L, wheel cycles) read of an event: every
#: field but ``broker``, ``event_key`` (2nd, 3rd), ``description`` and ``source_line`` (last two).
_ANALYTICS_FIELDS = (_EVENT_FIELDS[0], *_EVENT_FIELDS[3:-2])
assert _EVENT_FIELDS[1:3] == ("broker", "event_key") and _EVENT_FIELDS[-2:] == ("description", "source_line")


def load_position_events(db: Database, account: str | None = None) -> tuple[int, list[HistoryEvent]]:
    """(number of stored events, the events that move a position, oldest first): the input of the
    trade-history analytics (``realized_pnl``, ``wheel_cycles``), read lean.

    Only the kinds of ``POSITION_KINDS`` with a quantity are read, and without the columns the
    analytics never look at: ``broker``, ``event_key`` and ``description`` are ``""`` and
    ``source_line`` is 0 in the returned events (use :func:`load_events` for whole events).
    """
    from sqlalchemy import func

    where = _EVENTS.c.kind.in_(sorted(POSITION_KINDS)) & (_EVENTS.c.qty != 0)
    events = _read_events(db, account, _ANALYTICS_FIELDS, where)
    count = select(func.count()).select_from(_EVENTS)
    if account is not None:
        count = count.where(_EVENTS.c.account == account)
    with db.session() as session:
        stored = int(session.execute(count).scalar_one())
    return stored, events


def load_position_rows(db: Database, account: str | None = None) -> tuple[int, list[PositionEvent]]:
    """Like :func:`load_position_events`, as light ``PositionEvent`` tuples: only the columns the
    analytics read come out of the database, as plain tuples (a Core ``select``, no ORM objects,
    no frozen dataclass per row). The trade-history dock's input.

    Returns:
        (number of stored events, the events that move a position, oldest first; ties in import order).
    """
    from sqlalchemy import func

    where = _EVENTS.c.kind.in_(sorted(POSITION_KINDS)) & (_EVENTS.c.qty != 0)
    fields = PositionEvent._fields
    query = select(*(_EVENTS.c[f] for f in fields)).where(where)
    count = select(func.count()).select_from(_EVENTS)
    if account is not None:
        query = query.where(_EVENTS.c.account == account)
        count = count.where(_EVENTS.c.account == account)
    make = PositionEvent._make
    with db.session() as session:
        stored = int(session.execute(count).scalar_one())
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            rows = session.execute(query.order_by(_EVENTS.c.occurred_at, _EVENTS.c.id))
            return stored, [make(row) for row in rows]
        unordered = query.add_columns(_EVENTS.c.id)
        compiled = unordered.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        raw = connection.exec_driver_sql(str(compiled), params).cursor.fetchall()  # type: ignore[union-attr]
    at, exp = fields.index("occurred_at"), fields.index("expiry")
    raw.sort(key=lambda r: (r[at], r[-1]))  # ISO texts sort as times; a Python sort beats SQLite's here
    to_dt, to_date = datetime.fromisoformat, date.fromisoformat
    times: dict[str, datetime] = {}  # a history repeats its times (fills of one order) and expiries
    days: dict[str, date] = {}
    out = []
    for row in raw:
        values = list(row[:-1])
        text = values[at]
        when = times.get(text)
        if when is None:
            when = times[text] = to_dt(text)
        values[at] = when
        text = values[exp]
        if text is not None:
            day = days.get(text)
            if day is None:
                day = days[text] = to_date(text)
            values[exp] = day
        out.append(make(values))
    return stored, out


def _read_events(db: Database, account: str | None, fields: tuple[str, ...], where: Any) -> list[HistoryEvent]:
    """Events with ``fields`` read (the others ``""``, or 0 for ``source_line``), oldest first."""
    query = select(*(_EVENTS.c[f] for f in fields)).order_by(_EVENTS.c.occurred_at, _EVENTS.c.id)
    if account is not None:
        query = query.where(_EVENTS.c.account == account)
    if where is not None:
        query = query.where(where)
    with db.session() as session:
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            return [_event(fields, row) for row in session.execute(query)]
        unordered = query.order_by(None).add_columns(_EVENTS.c.id)
        compiled = unordered.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        rows = connection.exec_driver_sql(str(compiled), params).cursor.fetchall()  # type: ignore[union-attr]
    at, exp = fields.index("occurred_at"), fields.index("expiry")
    rows.sort(key=lambda r: (r[at], r[-1]))  # ISO texts sort as times; a Python sort beats SQLite's here
    to_dt, to_date = datetime.fromisoformat, date.fromisoformat
    times: dict[str, datetime] = {}  # a history repeats its times (fills of one order)
    whole = fields == _EVENT_FIELDS
    new_event = new_history_event
    out = []
    for row in rows:
        values = list(row[:-1])
        text = values[at]
        when = times.get(text)
        if when is None:
            when = times[text] = to_dt(text)
        values[at] = when
        if values[exp] is not None:
            values[exp] = to_date(values[exp])
        out.append(new_event(*values) if whole else new_event(values[0], "", "", *values[1:], "", 0))
    return out


def _event(fields: tuple[str, ...], values: Any) -> HistoryEvent:
    """An event from a row of ``fields`` (all of them, or :data:`_ANALYTICS_FIELDS`)."""
    if fields == _EVENT_FIELDS:
        return HistoryEvent(*values)
    return HistoryEvent(values[0], "", "", *values[1:], "", 0)


def count_rows(db: Database) -> dict[str, int]:
    """Rows in each trade-history table (for tests and the CLI summary)."""
    from sqlalchemy import func

    with db.session() as session:
        return {t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (_IMPORTS, _EVENTS, _POSITIONS)}


def _by_kind(events: list[HistoryEvent]) -> dict[str, int]:
    counts = Counter(e.kind for e in events)
    return {k: counts[k] for k in EVENT_KINDS if counts[k]}


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
