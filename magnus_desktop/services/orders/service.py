"""``OrderService``: paper tickets for the demo account, placed through the ``Broker`` seam.

Every ticket is previewed by THE order rules (``services.orders.rules.preview``) at the broker's
quotes before any broker call: a ticket with problems is refused here (``TicketProblems``, the
rules' sentences), published as ``rejected`` and never reaches the broker. The broker (the paper
broker by default) fills or rejects the rest and publishes ``OrderEvent`` status changes keyed by
the ticket's ``order_ref``; the service republishes each with the ticket and its preview filled in
(``OrderEvent.ticket``, ``OrderEvent.preview``), so a ticket dialog reacts to its own order only and the audit log records
what was asked and shown. A rejected order is published (``order_status``, state ``rejected``,
``message`` = the reason) and raised to the caller; nothing is stored for it. The same
``order_ref`` is never placed twice (double click, retry): the broker returns the ref again.

Orders while a real account (IB, Robinhood) is the active account of the broker session go to that
account's broker only when its "Live trading enabled" switch is on (Settings → Accounts; off by
default) and the session is connected (:attr:`live`): the ticket then asks the live confirmation
tier (``ui.orders.confirm``), the rules preview it at the active market data's quotes (broker session
first) against the broker's account, and the session's broker receives it; its status events arrive
through the session, keyed by ``order_ref``. Otherwise :meth:`refusal` says why, the ticket disables
Place, and :meth:`place_order` raises ``LiveOrdersDisabled`` before anything is sent: nothing reaches
the broker, and nothing is filled on the demo account either.

Events (payloads):
    order_status(OrderEvent)    submitted → filled, or submitted → rejected (keyed by ``order_ref``;
                                ``.ticket`` and ``.preview`` as sent, where this session sent it); a
                                refusal a broker raises without publishing it (NotConnected, an unknown
                                contract) is published here as ``rejected``
    order_modified(OrderModification)  a modification of a working order, accepted or refused
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.models.domain import (
    ComboTicket,
    Fill,
    OptionContract,
    OrderLeg,
    OrderTicket,
    Strategy,
    Ticket,
)
from magnus_desktop.models.market import DataSource, OptionQuote, OrderEvent
from magnus_desktop.services.brokers.paper import LaterDaysCheck, OrderRejected, PaperBroker
from magnus_desktop.services.brokers.protocols import BrokerError
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.protocols import option_quote_or_missing
from magnus_desktop.services.orders.rules import Contract, TicketPreview, preview
from magnus_desktop.services.portfolio.service import PortfolioService

if TYPE_CHECKING:
    import asyncio

    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)


class LiveOrdersDisabled(BrokerError):
    """A ticket while a real account is active: live orders are not enabled; nothing was sent."""


class TicketProblems(OrderRejected):
    """The order rules refuse the ticket (``str(exc)`` = their sentences); no broker was called.

    Attributes:
        preview: the refused ticket's preview (``problems`` non-empty).
    """

    def __init__(self, preview: TicketPreview) -> None:
        super().__init__(" ".join(preview.problems))
        self.preview = preview


@dataclass(frozen=True, slots=True)
class TicketQuote:
    """The quote a ticket fills against on ``day``: the broker's market data (USD per share, ``nan``
    when not quoted), with its ``source`` and ``as_of``."""

    day: date
    quote: OptionQuote

    @property
    def contract(self) -> OptionContract:
        return self.quote.contract

    @property
    def bid(self) -> float:
        return self.quote.bid

    @property
    def ask(self) -> float:
        return self.quote.ask

    @property
    def last(self) -> float:
        return self.quote.last

    @property
    def und_price(self) -> float:
        return self.quote.und_price

    @property
    def mid(self) -> float:
        return self.quote.mid

    @property
    def source(self) -> DataSource:
        return self.quote.source

    @property
    def as_of(self) -> datetime:
        return self.quote.as_of


@dataclass(frozen=True, slots=True)
class OrderModification:
    """A trader's modification of a working order (``OrderService.order_modified``).

    Attributes:
        order_ref: the order's idempotent reference.
        ticket: the order as modified (new ``qty`` contracts / ``limit_price`` USD per share).
        preview: the order rules' preview of ``ticket`` (its ``problems`` say why it was refused).
        accepted: the broker took the modification (False: the rules or the broker refused it and the
            working order is unchanged).
        result: what happened, for the audit log (the refusal's reason when not accepted).
        at: UTC.
    """

    order_ref: str
    ticket: Ticket
    preview: TicketPreview | None
    accepted: bool
    result: str
    at: datetime


class OrderService:
    """Orders on the demo account through its broker (the paper broker fills at the replay day's
    recorded quote)."""

    order_status = Signal(object)
    order_modified = Signal(object)

    def __init__(self, ctx: AppContext, portfolio: PortfolioService) -> None:
        self._ctx = ctx
        self._portfolio = portfolio
        #: ticket and preview of every order_ref sent through this service (this session)
        self._sent: dict[str, tuple[Ticket, TicketPreview]] = {}
        #: order_refs sent to a live broker (their events come through the session)
        self._live_refs: set[str] = set()
        #: order_refs a broker has published a ``rejected`` status for
        self._rejected_refs: set[str] = set()

    @property
    def broker(self) -> PaperBroker:
        """The broker orders go to (the context's; a ``Broker``)."""
        return self._ctx.broker

    async def start(self) -> None:
        """Listen to the paper broker's and the session's (a live broker's) order-status events."""
        self.broker.order_status.connect(self._on_broker_order_status)
        self._ctx.session.order_status.connect(self._on_session_order_status)

    async def aclose(self) -> None:
        """Wait for an order being stored, so none is cut in half; stop listening."""
        async with self.order_lock:
            log.debug("no order in flight; the order service is closed")
        self.broker.order_status.disconnect(self._on_broker_order_status, missing_ok=True)
        self._ctx.session.order_status.disconnect(self._on_session_order_status, missing_ok=True)

    def _on_session_order_status(self, event: OrderEvent) -> None:
        """A live broker's status of an order this service sent (the paper broker's come directly)."""
        if event.order_ref in self._live_refs:
            if event.state == "rejected":
                self._rejected_refs.add(event.order_ref)
            ticket, p = self._sent.get(event.order_ref, (event.ticket, None))
            emit_isolated(self.order_status, replace(event, ticket=ticket, preview=p))

    def _on_broker_order_status(self, event: OrderEvent) -> None:
        if event.state == "rejected":
            self._rejected_refs.add(event.order_ref)
        ticket, p = self._sent.get(event.order_ref, (event.ticket, None))
        emit_isolated(self.order_status, replace(event, ticket=ticket, preview=p))
        if event.state == "filled":
            self._ctx.refresher.schedule()

    @property
    def order_lock(self) -> asyncio.Lock:
        """One order (or demo seed) at a time: each sees the fills stored before it."""
        return self._portfolio.order_lock

    def new_ticket(self, contract: OptionContract, action: str, qty: int,
                   limit_price: float = math.nan, **options: str) -> OrderTicket:
        """A ticket on the demo account at the replay day, with a fresh ``order_ref``.

        ``options``: ``order_type``, ``tif``, ``position_effect``, ``currency`` (see ``OrderTicket``)."""
        return OrderTicket(contract=contract, action=action, qty=qty, limit_price=limit_price,  # type: ignore[arg-type]
                           order_ref=uuid.uuid4().hex, trade_date=self._ctx.day,
                           account_id=self._portfolio.account_id, **options)  # type: ignore[arg-type]

    def new_combo(self, strategy: Strategy, legs: Sequence[OrderLeg], qty: int, limit_price: float = math.nan,
                  **options: str) -> ComboTicket:
        """A combo (vertical, iron condor, roll) on the demo account at the replay day, fresh ``order_ref``;
        ``limit_price`` net USD per share, + credit / − debit (see ``ComboTicket``)."""
        return ComboTicket(strategy, tuple(legs), qty, limit_price, uuid.uuid4().hex, self._ctx.day,
                           self._portfolio.account_id, **options)  # type: ignore[arg-type]

    async def preview(self, ticket: Ticket) -> TicketPreview:
        """The rules' preview of ``ticket`` against the account marked at its trade day and the
        broker's quotes (compute thread for the marking)."""
        summary = await self._portfolio.account_at(ticket.trade_date)
        return await self.broker.preview(ticket, summary)

    async def quote(self, contract: OptionContract, day: date | None = None) -> TicketQuote:
        """The quote the broker would fill ``contract`` at on ``day`` (default: the replay day)."""
        at = day or self._ctx.day
        if self.live:  # the live account's orders are previewed at the active market data's quotes
            return TicketQuote(at, await option_quote_or_missing(self._ctx.quotes.chain(), contract, at))
        return TicketQuote(at, await self.broker.quote(contract, at))

    @property
    def live(self) -> bool:
        """A real account is active with "Live trading enabled": orders go to its broker."""
        active = self._ctx.session.active
        return active.kind != "paper" and active.live_trading_enabled

    def refusal(self) -> str | None:
        """Why no order can be placed now, or None (the demo account, or a connected real account
        with live trading enabled)."""
        active = self._ctx.session.active
        if active.kind == "paper":
            return None
        if not active.live_trading_enabled:
            return (f"Live orders are not enabled for {active.name}; paper orders only on the demo account "
                    "(switch to it, or turn on \"Live trading enabled\" for this account in Settings → Accounts).")
        if self._ctx.session.broker is None or self._ctx.session.status().state != "connected":
            return f"{active.name} is not connected; no order can be sent until it is."
        return None

    async def place_order(self, ticket: Ticket) -> str:
        """Send ``ticket`` to the broker; returns its ``order_ref`` once it is filled (paper fills
        at once; the fill is then in the account: :meth:`fill_of`).

        The paper broker checks it on its replay day and, as the replay may stand before later fills
        of the account (a backdated order), on every later replay day it affects.

        Raises:
            TicketProblems: the rules' problems; no broker was called (published as ``rejected``).
            OrderRejected: the broker's reason, for the trader (published as ``rejected``; nothing is stored).
            StorageError: the fill could not be saved (published as ``rejected``; nothing is stored).
            LiveOrdersDisabled: a real account is active (nothing is sent to any broker; published
                as ``rejected`` with the reason, so the audit log records it).
        """
        refusal = self.refusal()
        if refusal is not None:
            log.warning("order %s refused: %s", ticket.order_ref, refusal)
            emit_isolated(self.order_status, OrderEvent(ticket.order_ref, "rejected", 0, 0, math.nan, "", refusal,
                                                        self.broker.source, datetime.now(UTC), ticket))
            raise LiveOrdersDisabled(refusal)
        ref = ticket.order_ref
        live = self.live
        broker = self._ctx.session.broker if live else self.broker
        if broker is None:
            raise LiveOrdersDisabled(f"{self._ctx.session.active.name} is not connected; nothing was sent.")
        if ref in self._sent:  # a double click or a retry: the broker has it (and never fills it twice)
            return await broker.place(self._sent[ref][0])  # type: ignore[arg-type]
        p = await (self.live_preview(ticket) if live else self.preview(ticket))
        if p.problems:
            log.info("order %s refused by the rules: %s", ref, " ".join(p.problems))
            emit_isolated(self.order_status, OrderEvent(ref, "rejected", 0, 0, math.nan, "", " ".join(p.problems),
                                                        self.broker.source, datetime.now(UTC), ticket, p))
            raise TicketProblems(p)
        self._sent[ref] = (ticket, p)
        if live:
            self._live_refs.add(ref)
            log.warning("LIVE order %s sent to %s: %s", ref, self._ctx.session.active.name, ticket)
        try:
            return await broker.place(ticket)  # type: ignore[arg-type]
        except BrokerError as exc:
            # a refusal the broker raised without publishing it (session down, a contract it does not
            # know): published here, so the dialog and the audit log see every rejection
            if ref not in self._rejected_refs:
                self._rejected_refs.add(ref)
                emit_isolated(self.order_status, OrderEvent(ref, "rejected", 0, 0, math.nan, "", str(exc),
                                                            broker.source, datetime.now(UTC), ticket, p))
            del self._sent[ref]  # nothing is working: the same ticket may be sent again
            self._live_refs.discard(ref)
            raise

    async def live_preview(self, ticket: Ticket) -> TicketPreview:
        """The rules' preview of ``ticket`` against the live account's last summary, at the active
        market data's quotes (the broker session first, then yfinance, then the replay)."""
        market = self._ctx.quotes.chain()
        quotes: dict[Contract, OptionQuote | None] = {}
        for leg in ticket.legs:
            c = leg.contract
            if isinstance(c, OptionContract) and c not in quotes:
                quotes[c] = await option_quote_or_missing(market, c, ticket.trade_date)
        return preview(ticket, self._portfolio.last_summary, quotes,
                       commission_per_contract=self._ctx.settings.commission_per_contract)

    async def cancel_order(self, order_ref: str) -> None:
        """Ask the broker that has ``order_ref`` (a live one, or the paper broker) to cancel it.
        Raises BrokerError with the reason it cannot."""
        live = self._ctx.session.broker if order_ref in self._live_refs else None
        await (live or self.broker).cancel(order_ref)

    async def modify_order(self, order_ref: str, *, qty: int | None = None,
                           limit_price: float | None = None) -> TicketPreview:
        """Change the quantity (contracts) and/or the limit price (USD per share) of a working order
        this session sent. The modified ticket is previewed by THE order rules first (at the quotes
        the order was previewed at: the live account's for a live order); a ticket with problems is
        refused before any broker call. Every attempt, accepted or refused, is published as
        ``order_modified`` (the audit log writes a ``modified`` row).

        Returns:
            The preview of the order as modified.

        Raises:
            TicketProblems: the rules refuse the modified ticket; nothing was sent.
            BrokerError: no such order from this session, a combo, nothing to change, or the broker
                refused (paper orders never work, so they cannot be modified); the order is unchanged.
        """
        sent = self._sent.get(order_ref)
        if sent is None:
            raise BrokerError(f"Order {order_ref} was not sent in this session; modify it where it is working "
                              "(TWS), or cancel it here.")
        ticket = sent[0]
        if not isinstance(ticket, OrderTicket):
            raise BrokerError("Combo orders are not modified here; cancel it and place a new one.")
        if qty is None and limit_price is None:
            raise BrokerError("Nothing to modify: give a new quantity or limit price.")
        if limit_price is not None and ticket.order_type != "LMT":
            raise BrokerError("A market order has no limit price to modify.")
        new = replace(ticket, qty=ticket.qty if qty is None else qty,
                      limit_price=ticket.limit_price if limit_price is None else limit_price)
        live = order_ref in self._live_refs
        p = await (self.live_preview(new) if live else self.preview(new))
        if p.problems:
            reason = " ".join(p.problems)
            self._modified(order_ref, new, p, False, f"modification refused by the rules: {reason}")
            raise TicketProblems(p)
        broker = self._ctx.session.broker if live else self.broker
        if broker is None:
            raise LiveOrdersDisabled(f"{self._ctx.session.active.name} is not connected; nothing was sent.")
        try:
            await broker.modify(order_ref, qty=None if qty is None else new.qty,
                                limit_price=None if limit_price is None else new.limit_price)
        except BrokerError as exc:
            self._modified(order_ref, new, p, False, f"modification refused by the broker: {exc}")
            raise
        self._sent[order_ref] = (new, p)
        self._modified(order_ref, new, p, True, f"modification sent to the {broker.source} broker")
        return p

    def _modified(self, order_ref: str, ticket: Ticket, p: TicketPreview | None, accepted: bool, result: str) -> None:
        log.info("order %s: %s", order_ref, result)
        emit_isolated(self.order_modified, OrderModification(order_ref, ticket, p, accepted, result, datetime.now(UTC)))

    def fill_of(self, order_ref: str) -> Fill | None:
        """The account's stored fill of ``order_ref`` (None when there is none)."""
        return next((f for f in reversed(self._portfolio.fills) if f.order_ref == order_ref), None)

    async def check_ticket(self, ticket: Ticket) -> LaterDaysCheck | None:
        """Buying power with ``ticket`` filled at today's quotes, on every replay day it affects
        (compute thread). None when a leg has no quote to fill at (the ticket says why)."""
        quotes = await self.broker.quotes(ticket, self._ctx.day)
        p = preview(ticket, None, quotes)
        if any(not (price > 0) for price in p.leg_prices) or not isinstance(ticket.qty, int) or ticket.qty < 1:
            return None
        fills = self.broker.priced_fills(ticket, p, self._ctx.day)
        return await self._ctx.run_compute(self._portfolio.later_days, tuple(self._portfolio.fills), fills)
