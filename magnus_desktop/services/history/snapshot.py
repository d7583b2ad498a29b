"""The trade-history snapshot: everything the trade-history dock shows (closed lots with FIFO
realized P&L, wheel cycles, realized P&L per month, month bars), computed from the stored events.
Pure computation apart from :func:`load_snapshot`; no Qt."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

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
from magnus_desktop.services.imports import load_position_rows
from magnus_desktop.services.storage import Database


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
