"""The orders view model: paper tickets (quote, checks, placing) for every dialog that opens one.

Order events are ``OrderEvent`` status changes keyed by ``order_ref`` (``order_status``): a ticket
dialog reacts to its own order only. ``order_filled`` / ``order_rejected`` are the same events
filtered by state, for the window (order count, notices).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.models.domain import (
    AccountSummary,
    ComboTicket,
    OptionContract,
    OrderLeg,
    OrderTicket,
    Strategy,
    Ticket,
)
from magnus_desktop.models.market import OrderEvent
from magnus_desktop.services.brokers.paper import OrderRejected
from magnus_desktop.services.brokers.protocols import BrokerError
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.journal.entries import ticket_entry
from magnus_desktop.services.orders import LiveOrdersDisabled
from magnus_desktop.services.orders.payoff import PayoffCurves, payoff_curves
from magnus_desktop.services.orders.rules import Contract, LegQuote, TicketPreview, preview
from magnus_desktop.services.portfolio.demo import DEMO_ACCOUNT
from magnus_desktop.services.storage import StorageError
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class OrdersViewModel(QObject):
    order_status = Signal(object)  # OrderEvent (every state, keyed by its order_ref)
    order_filled = Signal(object)  # OrderEvent in state "filled"
    order_rejected = Signal(str, str)  # (order_ref, reason) of an OrderEvent in state "rejected"
    ticket_checked = Signal(object, object)  # (OrderTicket, LaterDaysCheck | None)
    quote_received = Signal(object)  # TicketQuote
    #: (contract, day, p_win decimal or None, the model's name or why there is none)
    p_win_received = Signal(object, object, object, str)
    account_changed = Signal(object)
    date_changed = Signal(object)
    #: the active account changed state or kind: whether orders may be placed (``refusal``) may differ
    refusal_changed = Signal()
    #: (request key, chain DataFrame or None, error text): the option chain a combo ticket picks strikes from
    chain_received = Signal(str, object, str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._orders = ctx.orders
        self._portfolio = ctx.portfolio
        bridge(self, [(ctx.orders.order_status, self._on_orders_order_status),
                      (ctx.portfolio.account_changed, self.account_changed.emit),
                      (ctx.date_changed, self.date_changed.emit),
                      (ctx.session.state_changed, self._on_session_state_changed)])

    def _on_session_state_changed(self, _account: str, _state: str, _reason: str) -> None:
        self.refusal_changed.emit()

    def active_account(self) -> str:
        """The name of the broker session's active account (Settings → Accounts)."""
        return self._ctx.session.active.name

    def refusal(self) -> str | None:
        """Why no order can be placed now (a real account is active: live orders are not enabled), or None."""
        return self._orders.refusal()

    def _on_orders_order_status(self, event: OrderEvent) -> None:
        self.order_status.emit(event)
        if event.state == "filled":
            self.order_filled.emit(event)
        elif event.state == "rejected":
            self.order_rejected.emit(event.order_ref, event.message)

    def journal_ticket(self, ticket: OrderTicket | ComboTicket, action: str, thesis: str, tags: str,
                       quote: tuple[float, ...], p_win: float | None) -> None:
        """Journal ``ticket`` as ``"sent"`` or ``"cancelled"`` with the thesis, tags and the numbers the
        dialog has (``quote`` = bid, ask, last, underlying of the first leg; saved in the background)."""
        day = self.replay_day() or date.today()
        account = DEMO_ACCOUNT if self.tier() == "paper" else ""  # a real account: its statements' names differ
        s = self._ctx.settings
        entry = ticket_entry(ticket, action, thesis, tags, account, quote, p_win, day,  # type: ignore[arg-type]
                             s.risk_free_rate, s.dividend_yield)
        self._ctx.journal.add_soon(entry)

    def theme(self) -> str:
        """``"dark"`` or ``"light"`` (Settings): the payoff chart's colours follow it."""
        return str(self._ctx.settings.theme)

    def tier(self) -> str | None:
        """The confirmation an order needs now: ``"paper"`` (the demo account: one click), ``"live"``
        (a real account with "Live trading enabled": typed confirmation), None (orders refused)."""
        if self.refusal() is not None:
            return None
        return "paper" if self._ctx.session.active.kind == "paper" else "live"

    def replay_day(self) -> date | None:
        return self._ctx.clock.current if self._ctx.clock is not None else None

    def last_summary(self) -> AccountSummary | None:
        return self._portfolio.last_summary

    def commission_per_contract(self) -> float:
        return self._ctx.settings.commission_per_contract

    def new_ticket(self, contract: OptionContract, action: str, qty: int, limit_price: float = math.nan,
                   **options: str) -> OrderTicket:
        """A single-leg ticket with a fresh ``order_ref``; ``options``: order_type, tif, position_effect."""
        return self._orders.new_ticket(contract, action, qty, limit_price, **options)

    def new_combo(self, strategy: Strategy, legs: tuple[OrderLeg, ...], qty: int, limit_price: float = math.nan,
                  **options: str) -> ComboTicket:
        """A vertical, iron condor or roll with a fresh ``order_ref`` (limit: net USD per share, + credit)."""
        return self._orders.new_combo(strategy, legs, qty, limit_price, **options)

    def payoff(self, ticket: Ticket, p: TicketPreview, quotes: Mapping[Contract, LegQuote | None],
               und_price: float) -> PayoffCurves | None:
        """The payoff chart's curves of ``ticket`` (at expiry and T+0 at the legs' IV, with the Settings
        rate and dividend yield) at the replay day; pure numpy over ~250 prices, fast enough per edit."""
        day = self.replay_day()
        if day is None or not math.isfinite(und_price):
            return None
        s = self._ctx.settings
        return payoff_curves(ticket, p, quotes, und_price, day, s.risk_free_rate, s.dividend_yield)

    def preview(self, ticket: Ticket, quotes: Mapping[Contract, LegQuote | None] | LegQuote | None) -> TicketPreview:
        """THE order rules' preview of ``ticket`` (``services.orders.rules.preview``) against the last
        marked account and ``quotes`` (bid/ask USD per share), with the Settings commission. Pure
        arithmetic, fast enough for every edit of a ticket field."""
        return preview(ticket, self._portfolio.last_summary, quotes,
                       commission_per_contract=self.commission_per_contract())

    @asyncSlot(object)
    async def request_quote(self, contract: OptionContract) -> None:
        """Look up the recorded quote of ``contract`` at the replay day; ``quote_received`` has it."""
        if self._ctx.clock is None:
            return
        try:
            quote = await self._orders.quote(contract)
        except Exception as exc:  # the ticket keeps showing no quote; the trader is told why
            log.exception("quote lookup failed")
            self._ctx.report(f"Could not read the recorded quote of {contract.describe()}: {exc}")
            return
        self.quote_received.emit(quote)
        q = quote.quote
        if q.bid > 0 and q.ask > 0 and q.und_price > 0:
            p, note = await self._ctx.predictor.p_win_of(contract.underlying, quote.day, contract.right,
                                                        contract.strike, q.und_price, q.bid, q.ask,
                                                        contract.dte(quote.day))
        else:
            p, note = None, "no p_win: the contract has no two-sided quote"
        if shiboken6.isValid(self):
            self.p_win_received.emit(contract, quote.day, p, note)

    @asyncSlot(str, str)
    async def request_chain(self, key: str, underlying: str) -> None:
        """The option chain of ``underlying`` at the replay day from the active market data (broker
        session → yfinance → replay); ``chain_received(key, …)`` has it, or the reason it has not."""
        if self._ctx.clock is None:
            return
        try:
            chain = await self._ctx.quotes.chain().chain(underlying, self._ctx.day)
        except Exception as exc:  # the ticket shows why it has no strikes to pick
            log.warning("chain of %s failed: %s", underlying, exc)
            self.chain_received.emit(key, None, f"No option chain of {underlying} on {self._ctx.day}: {exc}")
            return
        self.chain_received.emit(key, chain, "")

    @asyncSlot(object)
    async def place_order(self, ticket: Ticket) -> None:
        """Place ``ticket``; its fill or rejection arrives keyed by its ``order_ref`` (``order_status``)."""
        try:
            ref = await self._orders.place_order(ticket)
        except (OrderRejected, StorageError, LiveOrdersDisabled):  # published as "rejected" with the reason
            return
        except BrokerError as exc:  # e.g. the broker is closed: nothing was placed; the ticket says why
            self._on_orders_order_status(OrderEvent(ticket.order_ref, "rejected", 0, 0, math.nan, "", str(exc),
                                                    self._orders.broker.source, datetime.now(UTC)))
            return
        fill = self._orders.fill_of(ref)
        if fill is None:
            return
        if isinstance(ticket, ComboTicket):  # one order, several legs: say what was filled as a whole
            event = self._orders.broker.order(ref)
            net = event.avg_fill_price if event is not None else math.nan
            price = f" at a net {'credit' if net >= 0 else 'debit'} of {abs(net):.2f}" if math.isfinite(net) else ""
            self._ctx.report(f"Filled {ticket.qty} × {ticket.describe()}{price} (paper fill).")
            return
        side = "Sold" if fill.qty < 0 else "Bought"
        self._ctx.report(f"{side} {abs(fill.qty)} {fill.contract.describe()} at {fill.price:.2f} (paper fill).")

    @asyncSlot(object)
    async def check_ticket(self, ticket: OrderTicket) -> None:
        """Buying power with ``ticket`` on every later replay day it affects (compute thread)."""
        try:
            check = await self._orders.check_ticket(ticket)
        except Exception as exc:  # a failed check must not pass silently: the ticket shows why
            log.exception("later-days check failed")
            self._ctx.report(f"Could not check the order against later replay days: {exc}")
            return
        self.ticket_checked.emit(ticket, check)
