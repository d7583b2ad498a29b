"""Orders: paper tickets, their checks and fills (``OrderService``); events keyed by ``order_ref``."""

from magnus_desktop.services.orders.service import OrderService, TicketQuote

__all__ = ["OrderService", "TicketQuote"]
