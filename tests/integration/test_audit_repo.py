"""The audit log is append-only on SQLite and a real PostgreSQL: the repository can only append and
read, and the database itself refuses an UPDATE or DELETE made through the app's session."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text, update

from magnus_desktop.models.audit import AuditEntry, AuditFilter
from magnus_desktop.models.orm_audit import APPEND_ONLY_MESSAGE, AuditRow
from magnus_desktop.services.storage import AuditRepo, Database, StorageError

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _entry(ref: str, action: str = "placed", at: datetime = T0, **kw: object) -> AuditEntry:
    return AuditEntry(at=at, account=str(kw.pop("account", "Demo")), action=action, order_ref=ref,  # type: ignore[arg-type]
                      params={"symbol": "SPXW 2018-01-31 2500 P", "qty": 1, "limit_price": math.nan},
                      preview={"max_loss": math.inf, "premium": 230.0}, **kw)  # type: ignore[arg-type]


def _raw_rows(db: Database) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AuditRow.id, AuditRow.result, AuditRow.action))]


def test_repository_offers_append_and_queries_only() -> None:
    public = {name for name in dir(AuditRepo) if not name.startswith("_")}
    assert public == {"append", "query", "count", "iter_matching", "accounts", "recent_orders"}


def test_update_and_delete_through_the_session_are_refused_and_the_row_stays(db: Database) -> None:
    repo = AuditRepo(db)
    stored = repo.append(_entry("ref-1", result="sent", latency_ms=None))
    before = _raw_rows(db)
    attempts = [
        update(AuditRow).where(AuditRow.id == stored.entry_id).values(result="forged"),
        delete(AuditRow).where(AuditRow.id == stored.entry_id),
        delete(AuditRow),
        text("UPDATE audit_log SET action = 'filled'"),
    ]
    if db.backend == "postgresql":
        attempts.append(text("TRUNCATE audit_log"))
    for statement in attempts:
        with pytest.raises(StorageError, match="append-only"), db.session() as s:
            s.execute(statement)
    # the ORM unit of work: change an attribute, delete the object
    with pytest.raises(StorageError, match="append-only"), db.session() as s:
        s.get(AuditRow, stored.entry_id).result = "forged"  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="append-only"), db.session() as s:
        s.delete(s.get(AuditRow, stored.entry_id))
    assert _raw_rows(db) == before == [(stored.entry_id, "sent", "placed")]
    assert APPEND_ONLY_MESSAGE.startswith("audit_log is append-only")


def test_append_round_trips_utc_json_and_missing_numbers(db: Database) -> None:
    repo = AuditRepo(db)
    local = T0.astimezone(ZoneInfo("America/New_York"))
    stored = repo.append(_entry("ref-1", "filled", local, latency_ms=12.5, filled_qty=1.0, avg_fill_price=2.3,
                                broker_order_id="paper-ref-1", source="paper"))
    [back] = repo.query()
    assert back == stored and back.entry_id > 0
    assert back.at == T0 and back.at.tzinfo is not None and back.at.utcoffset() == timedelta(0)
    assert back.params["limit_price"] is None and back.preview["max_loss"] == "inf"
    assert (back.latency_ms, back.filled_qty, back.avg_fill_price) == (12.5, 1.0, 2.3)
    placed = repo.append(_entry("ref-2"))
    assert placed.latency_ms is None and math.isnan(placed.avg_fill_price)
    with pytest.raises(ValueError, match="Unknown audit action"):
        repo.append(_entry("ref-3", "edited"))
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.append(_entry("ref-3", at=T0.replace(tzinfo=None)))


def test_filters_pages_newest_first(db: Database) -> None:
    repo = AuditRepo(db)
    for i in range(7):
        account = "Demo" if i % 2 == 0 else "IB paper"
        repo.append(_entry(f"ref-{i}", "placed" if i < 5 else "rejected", T0 + timedelta(minutes=i),
                           account=account, result=f"result {i} 100%_done"))
    assert [e.order_ref for e in repo.query(limit=3)] == ["ref-6", "ref-5", "ref-4"]
    assert [e.order_ref for e in repo.query(limit=3, offset=3)] == ["ref-3", "ref-2", "ref-1"]
    assert repo.count() == 7 and repo.accounts() == ["Demo", "IB paper"]
    assert {e.order_ref for e in repo.query(AuditFilter(account="IB paper"))} == {"ref-1", "ref-3", "ref-5"}
    assert [e.order_ref for e in repo.query(AuditFilter(action="rejected"))] == ["ref-6", "ref-5"]
    assert [e.order_ref for e in repo.query(AuditFilter(text="RESULT 3"))] == ["ref-3"]
    assert repo.count(AuditFilter(text="%")) == 7 and repo.count(AuditFilter(text="0%_")) == 7  # literal
    assert repo.count(AuditFilter(text="2600")) == 0 and repo.count(AuditFilter(text="2500 p")) == 7
    window = AuditFilter(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [e.order_ref for e in repo.query(window)] == ["ref-3", "ref-2"]
    assert [e.order_ref for e in repo.iter_matching(AuditFilter(account="Demo"))] == ["ref-6", "ref-4", "ref-2",
                                                                                      "ref-0"]


def test_recent_orders_returns_every_row_of_the_latest_refs(db: Database) -> None:
    repo = AuditRepo(db)
    for ref, action in [("a", "placed"), ("b", "placed"), ("a", "filled"), ("c", "rejected"), ("b", "rejected")]:
        repo.append(_entry(ref, action))
    got = [(e.order_ref, e.action) for e in repo.recent_orders(2)]
    assert got == [("b", "placed"), ("c", "rejected"), ("b", "rejected")]
