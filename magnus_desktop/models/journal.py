"""Decision-journal values (frozen dataclasses, no I/O).

Units: ``delta`` per share, signed as the option's (a put's is < 0); ``dte`` calendar days;
``p_win`` and ``iv`` decimals (0.82, 0.18); ``outcome_pnl`` USD (base currency) of the closed
position, commissions included. ``contract_keys`` use ``HistoryEvent.contract_key``'s layout
(``OPT:SPXW:2018-02-28:2670:P``), so outcomes match the trade history and the app's fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

JournalSource = Literal["ticket", "alert", "assistant"]
JournalAction = Literal["sent", "cancelled", "noted"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journaled decision.

    Attributes:
        source: where it was journaled (order ticket, alert action, assistant answer).
        action: what happened there: the ticket was ``sent`` or ``cancelled``; an alert or an
            answer was ``noted``.
        trade_date: the day of the decision (the replay day in the replay).
        numbers: everything the source had at the time (bid, ask, iv, Greeks, p_win, score, ...).
        strategy: the setup (``single``, ``vertical``, ``iron_condor``, ``roll``, an alert's kind, ...).
        outcome_pnl / outcome_closed_at / outcome_source: filled when the position closes
            (``"history"``: imported statements; ``"fills"``: the app's own fills).
    """

    source: JournalSource
    action: JournalAction
    trade_date: date
    thesis: str = ""
    tags: tuple[str, ...] = ()
    account: str = ""
    symbol: str = ""
    contract_keys: tuple[str, ...] = ()
    order_ref: str | None = None
    strategy: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    delta: float | None = None
    dte: int | None = None
    p_win: float | None = None
    score: float | None = None
    outcome_pnl: float | None = None
    outcome_closed_at: datetime | None = None
    outcome_source: str = ""
    id: int | None = None
    created_at: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.outcome_pnl is not None


def option_key(underlying: str, expiry: date, strike: float, right: str) -> str:
    """The contract key of a listed option (``HistoryEvent.contract_key`` layout)."""
    return f"OPT:{underlying}:{expiry.isoformat()}:{strike:g}:{right}"


def parse_tags(text: str) -> tuple[str, ...]:
    """``"earnings, high-iv ,  "`` → ``("earnings", "high-iv")`` (comma separated, trimmed,
    lower-cased, duplicates dropped, order kept)."""
    out: list[str] = []
    for part in text.split(","):
        tag = part.strip().lower()
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)
