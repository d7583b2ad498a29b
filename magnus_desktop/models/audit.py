"""Values of the append-only audit log of orders (``services.audit``, table ``audit_log``).

Times are timezone-aware UTC. ``params`` is the ticket as the trader sent it and ``preview`` the
figures the broker's rules gave it at submission (JSON objects: prices USD per share, amounts USD,
quantities in contracts). ``latency_ms`` is milliseconds from the order's submission to this status
(None when there was none to measure: the submission itself, or a refusal before any broker call).
``filled_qty`` (contracts) and ``avg_fill_price`` (USD per share) are the broker's figures at that
status; NaN when it reported none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: What an audit row records. ``placed``: handed to the broker; ``cancel_requested``: the trader asked
#: for a cancel (``result`` says whether the broker took it); the others are broker statuses.
AuditAction = Literal["placed", "modified", "cancel_requested", "cancelled", "rejected", "partially_filled",
                      "filled"]
AUDIT_ACTIONS: tuple[str, ...] = ("placed", "modified", "cancel_requested", "cancelled", "rejected",
                                  "partially_filled", "filled")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row. ``entry_id`` is 0 until stored (then the database's id, increasing)."""

    at: datetime
    account: str
    action: AuditAction
    order_ref: str
    params: dict[str, Any] = field(default_factory=dict)
    preview: dict[str, Any] = field(default_factory=dict)
    result: str = ""
    broker_order_id: str = ""
    source: str = ""
    latency_ms: float | None = None
    filled_qty: float = math.nan
    avg_fill_price: float = math.nan
    entry_id: int = 0


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit rows to show or export; empty fields match everything.

    Attributes:
        account: exact account name.
        action: one of :data:`AUDIT_ACTIONS`.
        text: case-insensitive substring of the order ref, broker order id, result or parameters.
        since, until: UTC bounds, ``since <= at < until``.
    """

    account: str = ""
    action: str = ""
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """An order as the Orders dock shows it, folded from its audit rows / status events.

    Attributes:
        qty: contracts ordered (unsigned); filled_qty: contracts filled so far.
        avg_fill_price: USD per share, NaN before any fill; limit_price: USD per share, NaN = market.
        state: the last broker status (``submitted``, ``partially_filled``, ``filled``, ``cancelled``,
            ``rejected``).
        placed_at, updated_at: UTC.
    """

    order_ref: str
    account: str
    description: str
    action: str
    qty: float
    limit_price: float
    state: str
    filled_qty: float
    avg_fill_price: float
    message: str
    broker_order_id: str
    placed_at: datetime
    updated_at: datetime
    source: str = ""

    @property
    def working(self) -> bool:
        """Still at the broker (can be cancelled)."""
        return self.state in ("submitted", "partially_filled")

