"""``AuditRepo``: the append-only order audit log (``audit_log``): append and queries, nothing else.

There is no update or delete here, and the database refuses both (triggers of migration 0003), so
a row once written stays as written. Every method is blocking: call it on the DB executor thread.
Times are stored and returned as UTC; JSON columns hold objects whose NaN became ``null`` and
whose infinities became the strings ``"inf"`` / ``"-inf"`` (strict JSON on both backends).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from magnus_desktop.models.audit import AUDIT_ACTIONS, AuditEntry, AuditFilter
from magnus_desktop.models.orm_audit import AuditRow
from magnus_desktop.services.storage.database import Database

_BATCH = 500


class AuditRepo:
    """The audit log of one database: :meth:`append` and read-only queries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Store ``entry`` as a new row; returns it with its ``entry_id``.

        Raises:
            ValueError: an unknown ``action`` or a naive ``at``.
            StorageError: the database failed (read-only, locked …); nothing was stored.
        """
        if entry.action not in AUDIT_ACTIONS:
            raise ValueError(f"Unknown audit action {entry.action!r}; one of {AUDIT_ACTIONS}")
        if entry.at.tzinfo is None:
            raise ValueError("An audit time must be timezone-aware (UTC)")
        latency = _finite(entry.latency_ms)
        row = AuditRow(at=_utc(entry.at), account=entry.account, action=entry.action, order_ref=entry.order_ref,
                       broker_order_id=entry.broker_order_id, source=entry.source,
                       params_json=dumps(entry.params), preview_json=dumps(entry.preview),
                       result=entry.result, latency_ms=latency, filled_qty=_finite(entry.filled_qty),
                       avg_fill_price=_finite(entry.avg_fill_price))
        with self.db.session() as s:
            s.add(row)
            s.flush()
            return _entry(row)

    def query(self, flt: AuditFilter = AuditFilter(), *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:  # noqa: B008
        """Rows matching ``flt``, newest first (by time, then id), ``limit`` from ``offset``."""
        stmt = _where(select(AuditRow), flt).order_by(AuditRow.at.desc(), AuditRow.id.desc())
        with self.db.session() as s:
            return [_entry(r) for r in s.scalars(stmt.limit(max(limit, 0)).offset(max(offset, 0)))]

    def count(self, flt: AuditFilter = AuditFilter()) -> int:  # noqa: B008
        """How many rows match ``flt``."""
        with self.db.session() as s:
            return int(s.scalar(_where(select(func.count(AuditRow.id)), flt)) or 0)

    def iter_matching(self, flt: AuditFilter = AuditFilter()) -> Iterator[AuditEntry]:  # noqa: B008
        """Every row matching ``flt``, newest first, read in batches (for exports of any size)."""
        offset = 0
        while True:
            batch = self.query(flt, limit=_BATCH, offset=offset)
            yield from batch
            if len(batch) < _BATCH:
                return
            offset += _BATCH

    def accounts(self) -> list[str]:
        """The accounts that have audit rows, sorted."""
        with self.db.session() as s:
            return sorted(s.scalars(select(AuditRow.account).distinct()))

    def recent_orders(self, orders: int = 200) -> list[AuditEntry]:
        """Every row of the ``orders`` most recently active order refs, oldest first."""
        last = func.max(AuditRow.id).label("last")
        refs = select(AuditRow.order_ref, last).group_by(AuditRow.order_ref).order_by(last.desc()).limit(orders)
        with self.db.session() as s:
            wanted = [ref for ref, _ in s.execute(refs)]
            if not wanted:
                return []
            stmt = select(AuditRow).where(AuditRow.order_ref.in_(wanted)).order_by(AuditRow.id)
            return [_entry(r) for r in s.scalars(stmt)]


def _where(stmt: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.account:
        stmt = stmt.where(AuditRow.account == flt.account)
    if flt.action:
        stmt = stmt.where(AuditRow.action == flt.action)
    if flt.since is not None:
        stmt = stmt.where(AuditRow.at >= _utc(flt.since))
    if flt.until is not None:
        stmt = stmt.where(AuditRow.at < _utc(flt.until))
    text = flt.text.strip().lower()
    if text:
        columns = (AuditRow.order_ref, AuditRow.broker_order_id, AuditRow.result, AuditRow.params_json)
        stmt = stmt.where(or_(*(func.lower(c).contains(text, autoescape=True) for c in columns)))
    return stmt


def _utc(at: datetime) -> datetime:
    """``at`` in UTC; SQLite keeps no offset, so it gets the naive UTC wall time."""
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _entry(row: AuditRow) -> AuditEntry:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    return AuditEntry(at=at.astimezone(UTC), account=row.account, action=row.action,  # type: ignore[arg-type]
                      order_ref=row.order_ref, params=json.loads(row.params_json),
                      preview=json.loads(row.preview_json), result=row.result,
                      broker_order_id=row.broker_order_id, source=row.source, latency_ms=row.latency_ms,
                      filled_qty=_nan(row.filled_qty), avg_fill_price=_nan(row.avg_fill_price), entry_id=row.id)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def jsonable(value: Any) -> Any:
    """``value`` as strict JSON: NaN → None, ±inf → "inf"/"-inf", dates → ISO text, tuples → lists."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    return jsonable(item()) if callable(item) else str(value)


def dumps(value: dict[str, Any]) -> str:
    """Strict JSON text of ``value`` (see :func:`jsonable`), keys sorted."""
    return json.dumps(jsonable(value), sort_keys=True, allow_nan=False)
