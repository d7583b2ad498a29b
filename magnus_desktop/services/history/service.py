"""``HistoryService``: the stored trade history as one snapshot (closed lots with FIFO realized
P&L, wheel cycles, realized P&L per month), and broker-statement imports.

Blocking work runs on the context's executors: reading the events on ``"db"``, the FIFO and wheel
analytics on ``"compute"``, an import (parse + one transaction) on ``"db"``. After an import the
snapshot is rebuilt and ``history_changed`` fires, so every view refreshes.

Events (payloads):
    history_changed(HistorySnapshot)
    imported(ImportReport)
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.analytics.realized import (
    LOT_METHOD,
    LotMatch,
    MonthNames,
    MonthPnL,
    PositionLike,
    PositionPnL,
    realized_pnl,
)
from magnus_desktop.analytics.wheel import WheelCycle, wheel_cycles
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.imports import FileKind, ImportReport, import_file, load_position_rows
from magnus_desktop.services.storage import Database, StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


@dataclass(frozen=True, slots=True)
class HistorySnapshot:
    """Everything the trade-history dock shows; amounts in each row's currency.

    Attributes:
        events: number of stored events.
        lot_method: how closes are matched to lots (``"FIFO"``).
        matches: closed lots, newest close first.
        positions: realized P&L per position (account + contract).
        months: realized P&L per close month and currency (``realized_base`` in base currency).
        cycles: wheel cycles, oldest first.
        accounts: the accounts that have events.
        month_bars: per account, (months ``YYYY-MM`` ascending, realized P&L of the lots closed
            in each, converted to the account's base currency at each close's
            ``fx_rate_to_base``): the dock's bar chart, summed here off the GUI thread.
    """

    events: int
    lot_method: str
    matches: list[LotMatch]
    positions: list[PositionPnL]
    months: list[MonthPnL]
    cycles: list[WheelCycle]
    accounts: list[str]
    month_bars: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)

    @property
    def realized_base(self) -> float:
        """Total realized P&L in the accounts' base currency."""
        return sum(m.realized_base for m in self.months)


EMPTY = HistorySnapshot(0, LOT_METHOD, [], [], [], [], [])


def build_snapshot(events: list[PositionLike], stored: int | None = None) -> HistorySnapshot:
    """The snapshot of ``events`` (chronological): pure computation, no I/O.

    Args:
        events: the stored events (``HistoryEvent``), or only those that move a position (the
            analytics read no others), e.g. the ``PositionEvent`` tuples of
            ``services.imports.load_position_rows``.
        stored: number of stored events (default ``len(events)``).
    """
    report = realized_pnl(events)
    matches = sorted(report.matches, key=_closed_at, reverse=True)
    return HistorySnapshot(len(events) if stored is None else stored, report.lot_method, matches, report.positions,
                           report.months, wheel_cycles(events), sorted({e.account for e in events}),
                           month_bars(matches))


def month_bars(matches: list[LotMatch]) -> dict[str, tuple[list[str], list[float]]]:
    """Per account: (months ``YYYY-MM`` ascending, realized P&L of the lots closed in each month,
    converted to the account's base currency at each close's ``fx_rate_to_base``). Each month's
    sum runs in the order of ``matches``."""
    totals: dict[str, defaultdict[str, float]] = {}
    month_name = MonthNames()
    for m in matches:
        total = totals.get(m.account)
        if total is None:
            total = totals[m.account] = defaultdict(float)
        total[month_name(m.closed_at)] += m.realized * m.fx_rate_to_base
    out = {}
    for account, total in totals.items():
        months = sorted(total)
        out[account] = (months, [total[month] for month in months])
    return out


_closed_at = attrgetter("closed_at")


def load_snapshot(db: Database) -> HistorySnapshot:
    """Read the stored history and build the snapshot (blocking: a worker thread)."""
    stored, events = load_position_rows(db)
    return build_snapshot(events, stored)


class HistoryService:
    """The trade history of the context's database."""

    history_changed = Signal(object)
    imported = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.snapshot: HistorySnapshot = EMPTY
        #: seconds the last refresh took (read + analytics)
        self.last_load_s = 0.0

    async def refresh(self) -> HistorySnapshot:
        """Re-read the stored history off the GUI thread; emits ``history_changed``.

        Raises:
            StorageError: the database could not be read.
        """
        db = self._db()
        start = time.perf_counter()
        stored, events = await self._ctx.run_db(load_position_rows, db)
        self.snapshot = await self._ctx.run_compute(build_snapshot, events, stored)
        self.last_load_s = time.perf_counter() - start
        emit_isolated(self.history_changed, self.snapshot)
        return self.snapshot

    async def preview(self, path: Path | str, kind: FileKind | None = None,
                      account: str | None = None) -> ImportReport:
        """Dry run: parse and reconcile ``path``; nothing is stored.

        Raises:
            ImportFormatError: bad input (names the file and line).
        """
        return await self._ctx.run_compute(_dry_run, Path(path), kind, account or None)

    async def import_file(self, path: Path | str, kind: FileKind | None = None,
                          account: str | None = None) -> ImportReport:
        """Import ``path`` in one transaction, then refresh; emits ``imported`` and ``history_changed``.

        Raises:
            ImportFormatError: bad input; nothing stored.
            StorageError: the database refused the write; nothing stored.
        """
        db = self._db()
        report = await self._ctx.run_db(_store, db, Path(path), kind, account or None)
        emit_isolated(self.imported, report)
        await self.refresh()
        return report

    def _db(self) -> Database:
        if self._ctx.db is None:
            raise StorageError("The database is not open yet; try again in a moment.")
        return self._ctx.db


def _dry_run(path: Path, kind: FileKind | None, account: str | None) -> ImportReport:
    return import_file(None, path, kind, account, dry_run=True)


def _store(db: Database, path: Path, kind: FileKind | None, account: str | None) -> ImportReport:
    return import_file(db, path, kind, account)
