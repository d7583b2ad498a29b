"""The ``Broker`` seam: one session per account, async orders, status events keyed by ``order_ref``.

Events are psygnal signals on the implementing object (payloads in brackets):

    order_status   [OrderEvent]           submitted / partially_filled / filled / cancelled / rejected
    positions_changed [list[BrokerPosition]]
    account_changed   [AccountValues]
    execution      [Execution]
    state_changed  [SessionState, str]    connection state and a human reason
    error          [BrokerError]          errors not tied to one request (e.g. 1100 connectivity lost)
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from magnus_desktop.models.domain import OrderTicket
from magnus_desktop.models.market import AccountValues, BrokerPosition, DataSource, Execution, SessionState


class BrokerError(RuntimeError):
    """Base of broker errors; ``code`` is the broker's error code where it has one (IB: 326, 1100 …)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotConnected(BrokerError):
    """The session is not connected (TWS not running, network down); nothing was sent."""


class AuthenticationFailed(BrokerError):
    """Wrong user name, password or one-time code; nothing was sent."""


class ClientIdInUse(BrokerError):
    """IB error 326: another API client uses this client id; ``next_id`` is a free one to offer."""

    def __init__(self, message: str, next_id: int) -> None:
        super().__init__(message, 326)
        self.next_id = next_id


class OrderRejectedByBroker(BrokerError):
    """The broker refused the order (the reason is the message); nothing is working."""


@runtime_checkable
class Broker(Protocol):
    """One account's order and account session."""

    source: DataSource
    account: str
    state: SessionState

    async def connect(self) -> None:
        """Open the session (returns once connected; keeps reconnecting in the background after).

        Raises: NotConnected, AuthenticationFailed, ClientIdInUse.
        """
        ...

    async def aclose(self) -> None:
        """Close the session and cancel background tasks (idempotent)."""
        ...

    async def place(self, ticket: OrderTicket) -> str:
        """Send ``ticket``; returns its ``order_ref``. A ref already sent is never sent twice.

        Raises: NotConnected, OrderRejectedByBroker.
        """
        ...

    async def cancel(self, order_ref: str) -> None:
        """Ask the broker to cancel a working order. Raises NotConnected, BrokerError (unknown ref)."""
        ...

    async def modify(self, order_ref: str, *, qty: int | None = None, limit_price: float | None = None) -> None:
        """Change a working order's quantity (contracts) and/or limit price (USD per share).
        Raises NotConnected, BrokerError (unknown ref, not working, or the broker cannot modify)."""
        ...

    async def positions(self) -> list[BrokerPosition]:
        """Positions as the broker reports them now."""
        ...

    async def account_values(self) -> AccountValues:
        """Net liquidation, cash, buying power, margin as the broker reports them now."""
        ...

    async def executions(self) -> list[Execution]:
        """Today's executions (IB) or recent fills (Robinhood)."""
        ...
