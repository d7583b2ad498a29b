"""Orders: paper tickets, their checks and fills (``OrderService``); events keyed by ``order_ref``."""

from magnus_desktop.services.orders.service import LiveOrdersDisabled, OrderService, TicketQuote

__all__ = ["LiveOrdersDisabled", "OrderService", "TicketQuote"]
