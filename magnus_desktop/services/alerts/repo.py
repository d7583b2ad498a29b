"""``AlertRepo``: alerts in the ``alerts`` table (blocking: call it on the db executor).

A row that cannot be read back (unknown priority or state, facts that are not our JSON) is
skipped with a log line naming its id; the others are returned.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import or_, select, update

from magnus_desktop.models.alerts import ALERT_STATES, Alert, AlertState, Fact, Priority
from magnus_desktop.models.orm_alerts import AlertRow
from magnus_desktop.services.storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """History query: any of monitor / minimum priority / state, ``text`` searched in the title,
    subject and facts (case-insensitive), raised on or after ``since``; newest first, ``limit`` rows."""

    monitor: str | None = None
    min_priority: Priority | None = None
    state: AlertState | None = None
    text: str = ""
    since: datetime | None = None
    limit: int = 500


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _fact_json(f: Fact) -> list[Any]:
    value = f.value
    if isinstance(value, float) and not math.isfinite(value):
        value = None  # JSON has no NaN; read back as NaN
    return [f.label, value, f.unit]


def to_alert(row: AlertRow) -> Alert:
    """The row as an ``Alert``. Raises ValueError (or TypeError/KeyError) for an unreadable row."""
    state = row.state
    if state not in ALERT_STATES:
        raise ValueError(f"unknown state {state!r}")
    facts = tuple(Fact(str(label), math.nan if value is None else (float(value) if isinstance(value, int | float)
                                                                    else str(value)), str(unit))
                  for label, value, unit in json.loads(row.facts))
    actions = tuple(str(a) for a in json.loads(row.actions))
    return Alert(alert_id=row.id, account=row.account, monitor=row.monitor, subject=row.subject,
                 priority=Priority.parse(row.priority), title=row.title, day=row.day,
                 raised_at=cast(datetime, _utc(row.raised_at)), facts=facts, actions=actions,
                 state=cast(AlertState, state), snoozed_until=_utc(row.snoozed_until),
                 acknowledged_at=_utc(row.acknowledged_at), dismissed_at=_utc(row.dismissed_at))


def _readable(rows: Sequence[AlertRow]) -> list[Alert]:
    out = []
    for row in rows:
        try:
            out.append(to_alert(row))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("alert row %s skipped: %s", row.id, exc)
    return out


class AlertRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Store ``alerts``; returns them with their database ids."""
        rows = [AlertRow(account=a.account, monitor=a.monitor, subject=a.subject, priority=a.priority.name,
                         title=a.title, day=a.day, raised_at=a.raised_at,
                         facts=json.dumps([_fact_json(f) for f in a.facts]), actions=json.dumps(list(a.actions)),
                         state=a.state, snoozed_until=a.snoozed_until) for a in alerts]
        with self._db.session() as s:
            s.add_all(rows)
            s.flush()
            ids = [r.id for r in rows]
        return [replace(a, alert_id=i) for a, i in zip(alerts, ids, strict=True)]

    def open_alerts(self, account: str, raised_since: datetime) -> list[Alert]:
        """Alerts not dismissed, plus every alert raised since ``raised_since`` (the cool-down window)."""
        with self._db.session() as s:
            rows = s.scalars(select(AlertRow).where(AlertRow.account == account).where(
                or_(AlertRow.state != "dismissed", AlertRow.raised_at >= raised_since,
                    AlertRow.snoozed_until >= raised_since)).order_by(AlertRow.raised_at, AlertRow.id)).all()
            return _readable(rows)

    def set_state(self, ids: Sequence[int], state: AlertState, at: datetime) -> None:
        """Acknowledge or dismiss (``at``: when, UTC)."""
        values: dict[str, Any] = {"state": state}
        if state == "acknowledged":
            values["acknowledged_at"] = at
        elif state == "dismissed":
            values["dismissed_at"] = at
        with self._db.session() as s:
            s.execute(update(AlertRow).where(AlertRow.id.in_(list(ids))).values(**values))

    def snooze(self, ids: Sequence[int], until: datetime | None) -> None:
        """Hide until ``until`` (UTC); None ends a snooze."""
        with self._db.session() as s:
            s.execute(update(AlertRow).where(AlertRow.id.in_(list(ids))).values(snoozed_until=until))

    def history(self, account: str, flt: HistoryFilter = HistoryFilter()) -> list[Alert]:  # noqa: B008
        """Alerts matching ``flt``, newest first."""
        q = select(AlertRow).where(AlertRow.account == account)
        if flt.monitor:
            q = q.where(AlertRow.monitor == flt.monitor)
        if flt.state:
            q = q.where(AlertRow.state == flt.state)
        if flt.since is not None:
            q = q.where(AlertRow.raised_at >= flt.since)
        if flt.text.strip():
            like = f"%{flt.text.strip()}%"
            q = q.where(or_(AlertRow.title.ilike(like), AlertRow.subject.ilike(like), AlertRow.facts.ilike(like)))
        with self._db.session() as s:
            rows = s.scalars(q.order_by(AlertRow.raised_at.desc(), AlertRow.id.desc()).limit(flt.limit * 2)).all()
            found = _readable(rows)
        if flt.min_priority is not None:
            found = [a for a in found if a.priority >= flt.min_priority]
        return found[:flt.limit]

