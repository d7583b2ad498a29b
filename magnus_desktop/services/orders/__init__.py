"""Orders: the one rule engine (``rules.preview``) and ``OrderService`` (tickets placed through the
broker, events keyed by ``order_ref``).

``rules`` has no dependency on the brokers, so the paper broker imports it; ``OrderService`` is
loaded on first use (it imports the paper broker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magnus_desktop.services.orders.rules import (
    AccountBook,
    PositionChange,
    TicketPreview,
    preview,
    tick_size,
)

if TYPE_CHECKING:
    from magnus_desktop.services.orders.service import (
        LiveOrdersDisabled,
        OrderService,
        TicketProblems,
        TicketQuote,
    )

_SERVICE_NAMES = ("LiveOrdersDisabled", "OrderService", "TicketProblems", "TicketQuote")


def __getattr__(name: str) -> Any:
    if name in _SERVICE_NAMES:
        from magnus_desktop.services.orders import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AccountBook", "LiveOrdersDisabled", "OrderService", "PositionChange", "TicketPreview",
           "TicketProblems", "TicketQuote", "preview", "tick_size"]
