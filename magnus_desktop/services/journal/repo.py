"""``JournalRepo``: the decision journal's rows (``journal_entries``). Blocking: a worker thread."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from magnus_desktop.models.journal import JournalEntry
from magnus_desktop.models.orm_journal import JOURNAL_ACTIONS, JOURNAL_SOURCES, JournalEntryRow
from magnus_desktop.services.storage import Database

MAX_THESIS = 20_000  # characters


class JournalInputError(ValueError):
    """An entry that cannot be stored as given (the message says which field and why)."""


def _finite(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None  # a number the source did not have is stored as missing, never as NaN
    return value


def _json_numbers(numbers: dict[str, Any]) -> str:
    clean = {}
    for k, v in numbers.items():
        if isinstance(v, float) and not math.isfinite(v):
            continue
        if isinstance(v, (date, datetime)):
            v = v.isoformat()
        clean[str(k)] = v
    return json.dumps(clean, sort_keys=True, default=str)


class JournalRepo:
    """Add, list and close journal entries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, entry: JournalEntry) -> int:
        """Store ``entry`` (its ``id`` is ignored); returns the new id.

        Raises:
            JournalInputError: unknown source/action, a thesis too long, a p_win outside 0-1.
            StorageError: the database refused the write (nothing stored).
        """
        if entry.source not in JOURNAL_SOURCES:
            raise JournalInputError(f"Unknown journal source {entry.source!r} (one of {', '.join(JOURNAL_SOURCES)}).")
        if entry.action not in JOURNAL_ACTIONS:
            raise JournalInputError(f"Unknown journal action {entry.action!r} (one of {', '.join(JOURNAL_ACTIONS)}).")
        if len(entry.thesis) > MAX_THESIS:
            raise JournalInputError(f"The thesis is {len(entry.thesis):,} characters; at most {MAX_THESIS:,} are kept.")
        p_win = _finite("p_win", entry.p_win)
        if p_win is not None and not 0.0 <= p_win <= 1.0:
            raise JournalInputError(f"p_win must be between 0 and 1, got {p_win}.")
        row = JournalEntryRow(
            trade_date=entry.trade_date, source=entry.source, action=entry.action, account=entry.account,
            symbol=entry.symbol, contract_keys=json.dumps(list(entry.contract_keys)), order_ref=entry.order_ref,
            strategy=entry.strategy, thesis=entry.thesis, tags=json.dumps(list(entry.tags)),
            numbers=_json_numbers(entry.numbers), delta=_finite("delta", entry.delta), dte=entry.dte, p_win=p_win,
            score=_finite("score", entry.score), outcome_pnl=None, outcome_closed_at=None, outcome_source="")
        with self.db.session() as s:
            s.add(row)
            s.flush()
            return int(row.id)

    def list(self) -> list[JournalEntry]:
        """Every entry, newest first."""
        with self.db.session() as s:
            rows = s.scalars(select(JournalEntryRow).order_by(JournalEntryRow.created_at.desc(),
                                                               JournalEntryRow.id.desc()))
            return [_entry(r) for r in rows]

    def set_outcomes(self, outcomes: Iterable[tuple[int, float, datetime, str]]) -> int:
        """Store (entry id, P&L USD, closed at, source) for entries still without an outcome;
        returns how many were updated (an entry already closed keeps its first outcome)."""
        n = 0
        with self.db.session() as s:
            for entry_id, pnl, closed_at, source in outcomes:
                row = s.get(JournalEntryRow, entry_id)
                if row is None or row.outcome_pnl is not None or not math.isfinite(pnl):
                    continue
                row.outcome_pnl, row.outcome_closed_at, row.outcome_source = float(pnl), closed_at, source
                n += 1
        return n


def _entry(r: JournalEntryRow) -> JournalEntry:
    return JournalEntry(
        source=r.source, action=r.action, trade_date=r.trade_date, thesis=r.thesis,  # type: ignore[arg-type]
        tags=tuple(json.loads(r.tags or "[]")), account=r.account, symbol=r.symbol,
        contract_keys=tuple(json.loads(r.contract_keys or "[]")), order_ref=r.order_ref, strategy=r.strategy,
        numbers=json.loads(r.numbers or "{}"), delta=r.delta, dte=r.dte, p_win=r.p_win, score=r.score,
        outcome_pnl=r.outcome_pnl, outcome_closed_at=r.outcome_closed_at, outcome_source=r.outcome_source,
        id=r.id, created_at=r.created_at)
