"""Decision journal storage: round trip, outcomes kept once, bad input, and migration 0009 on a
database at 0008 that already holds data (SQLite and, when available, PostgreSQL)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, select

from magnus_desktop.models.journal import JournalEntry, option_key
from magnus_desktop.models.orm import AccountRow
from magnus_desktop.services.journal import JournalInputError, JournalRepo
from magnus_desktop.services.storage import Database, alembic_config
from magnus_desktop.services.storage.repositories import AccountRepo


def entry(**kw: object) -> JournalEntry:
    base: dict[str, object] = dict(
        source="ticket", action="sent", trade_date=date(2018, 2, 1), thesis="Sell the 2670 put after the rally",
        tags=("wheel", "high-iv"), account="Demo", symbol="SPXW",
        contract_keys=(option_key("SPXW", date(2018, 2, 28), 2670.0, "P"),), order_ref="ref-1", strategy="single",
        numbers={"bid": 12.3, "ask": 12.9, "iv": 0.18, "delta": -0.1, "nan_one": float("nan")},
        delta=-0.1, dte=27, p_win=0.86, score=0.12)
    base.update(kw)
    return JournalEntry(**base)  # type: ignore[arg-type]


def test_round_trip_and_outcome_kept_once(db: Database) -> None:
    repo = JournalRepo(db)
    first = repo.add(entry())
    second = repo.add(entry(source="assistant", action="noted", thesis="", tags=(), contract_keys=(), order_ref=None,
                            delta=float("nan"), p_win=None, numbers={}))
    got = {e.id: e for e in repo.list()}
    a = got[first]
    assert a.thesis == "Sell the 2670 put after the rally" and a.tags == ("wheel", "high-iv")
    assert a.contract_keys == ("OPT:SPXW:2018-02-28:2670:P",) and a.order_ref == "ref-1"
    assert a.numbers == {"bid": 12.3, "ask": 12.9, "iv": 0.18, "delta": -0.1}  # NaN left out, not stored
    assert (a.delta, a.dte, a.p_win, a.score) == (-0.1, 27, 0.86, 0.12)
    assert a.outcome_pnl is None and not a.closed
    assert got[second].delta is None  # NaN delta stored as missing
    assert repo.set_outcomes([(first, 512.5, datetime(2018, 3, 1, 16), "fills")]) == 1
    assert repo.set_outcomes([(first, -1.0, datetime(2018, 3, 2, 16), "history")]) == 0  # first outcome stays
    a = {e.id: e for e in repo.list()}[first]
    assert a.outcome_pnl == 512.5 and a.outcome_closed_at == datetime(2018, 3, 1, 16) and a.outcome_source == "fills"


@pytest.mark.parametrize("bad, message", [
    (dict(source="email"), "Unknown journal source"),
    (dict(action="maybe"), "Unknown journal action"),
    (dict(p_win=1.5), "between 0 and 1"),
    (dict(thesis="x" * 20_001), "at most"),
])
def test_bad_entries_are_refused_and_store_nothing(db: Database, bad: dict[str, object], message: str) -> None:
    repo = JournalRepo(db)
    with pytest.raises(JournalInputError, match=message):
        repo.add(entry(**bad))
    assert repo.list() == []


def test_migration_0009_upgrades_a_0008_database_with_data(db_url: str) -> None:
    db = Database.open(db_url, migrate=False)
    try:
        cfg = alembic_config()
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0008")
        assert "journal_entries" not in inspect(db.engine).get_table_names()
        AccountRepo(db).get_or_create("kept account", "demo", 12_345.0)
        db.migrate()
        tables = set(inspect(db.engine).get_table_names())
        assert {"journal_entries", "statement_cash"} <= tables
        with db.session() as s:
            kept = s.scalar(select(AccountRow).where(AccountRow.name == "kept account"))
            assert kept is not None and kept.starting_cash == 12_345.0
        new_id = JournalRepo(db).add(entry())
        assert [e.id for e in JournalRepo(db).list()] == [new_id]
        with db.engine.begin() as conn:  # and back down: the journal tables go, the data before stays
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
        assert "journal_entries" not in inspect(db.engine).get_table_names()
        with db.session() as s:
            assert s.scalar(select(AccountRow.starting_cash).where(AccountRow.name == "kept account")) == 12_345.0
    finally:
        db.close()


def test_nan_score_is_missing_not_nan(db: Database) -> None:
    repo = JournalRepo(db)
    repo.add(entry(score=float("nan")))
    (e,) = repo.list()
    assert e.score is None and not (isinstance(e.score, float) and math.isnan(e.score))
