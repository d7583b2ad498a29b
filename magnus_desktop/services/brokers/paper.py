"""Paper fills for the demo account against the active market data. No order is ever sent anywhere.

:class:`PaperBroker` implements the ``Broker`` seam (``services.brokers.protocols``): ``await
place(ticket)`` returns the ticket's ``order_ref`` and publishes ``order_status`` events keyed by it
(``submitted`` → ``filled``, or ``rejected`` with the reason), plus an ``execution`` per fill. It
fills at the quote of whatever ``MarketData`` it is given: offline the replay (the recorded bid/ask of
the ticket's replay day), later a live source. The account it fills is a :class:`PaperLedger`
(``PortfolioService``): fills are stored there, in the database, which refuses a second fill of the
same ``order_ref``.

Rules: the one rule set of ``services.orders.rules`` (:func:`~magnus_desktop.services.orders.rules.preview`),
the same function the order ticket previews with, so the ticket and the broker never disagree. The
broker adds what only it can know: buying power on every later replay day a backdated order
affects (:func:`check_later_days`). A combo (vertical, iron condor, roll) fills all its legs at
their quotes at one net price, stored in one database transaction, or not at all. The demo
account holds options only: a stock ticket is refused.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Protocol

from psygnal import Signal

from magnus_desktop.models.domain import AccountSummary, ComboTicket, Fill, OptionContract, Ticket
from magnus_desktop.models.market import (
    AccountValues,
    BrokerPosition,
    DataSource,
    Execution,
    OptionQuote,
    OrderEvent,
    OrderState,
    SessionState,
    StockContract,
)
from magnus_desktop.services.brokers.protocols import BrokerError, NotConnected, OrderRejectedByBroker
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.protocols import MarketData, option_quote_or_missing
from magnus_desktop.services.market.recorded import close_of_day
from magnus_desktop.services.orders.rules import TicketPreview, preview
from magnus_desktop.services.portfolio.marking import OptionQuoteSource, buying_power_at, open_contracts_at
from magnus_desktop.services.storage import StorageError

log = logging.getLogger(__name__)

#: Rounding slack (USD) when comparing buying power before and after an order.
_CENT = 0.005
#: Why the paper broker refuses a stock ticket.
STOCK_REFUSAL = ("The demo account trades options only: a stock order cannot be filled on paper "
                 "(the preview above shows what it would do in a cash account).")
Contract = OptionContract | StockContract


class OrderRejected(OrderRejectedByBroker):
    """The paper broker refused a ticket; ``str(exc)`` is the reason for the trader."""


@dataclass(frozen=True, slots=True)
class LaterDaysCheck:
    """Buying power of the account with a new fill, on every replay day that fill affects.

    Attributes:
        trade_date: the fill's day (the first day checked).
        through: the last day checked: the last replay day on which a position the fill affects is
            open (its contract, or one traded on or after ``trade_date``), or a later fill happens.
        days_checked: replay days checked (trade day included).
        short_day: first day on which the fill leaves buying power below 0 (and lower than without
            it); None when there is none.
        buying_power: buying power (USD, negative) on ``short_day``; NaN when ``short_day`` is None.
    """

    trade_date: date
    through: date
    days_checked: int
    short_day: date | None = None
    buying_power: float = math.nan

    @property
    def problem(self) -> str | None:
        if self.short_day is None:
            return None
        return (f"Not enough buying power on {self.short_day:%Y-%m-%d}: with this order (and the account's later "
                f"fills) buying power there would be -${-self.buying_power:,.0f}. Every replay day from "
                f"{self.trade_date:%Y-%m-%d} up to {self.through:%Y-%m-%d} is checked.")

    def describe(self) -> str:
        """The ticket's line: "Checked against every later replay day up to 2018-02-28"."""
        if self.through <= self.trade_date:
            return f"Checked against the replay day {self.trade_date:%Y-%m-%d} (no later day is affected)"
        return f"Checked against every later replay day up to {self.through:%Y-%m-%d}"


def check_later_days(fills: Iterable[Fill], new_fill: Fill | Sequence[Fill], market: OptionQuoteSource,
                     trading_days: Sequence[date], *, starting_cash: float) -> LaterDaysCheck:
    """Buying power with ``new_fill`` (one fill, or the fills of one combo, all on one day) on each
    replay day from its ``fill_date`` on (pure, no I/O).

    ``fills`` are the account's fills, later-dated ones included (a backdated order must not
    leave an order placed later without its cash). A day fails when buying power with the new fill
    is below 0 and below what it is without it. Days after the last one on which an affected
    position is open and after the last fill need no check: there, buying power only changes by
    expiry settlements, which free more collateral (strike × 100) than they cost (intrinsic × 100).

    Args:
        fills: the account's stored fills (any dates).
        new_fill: the order as the paper broker would fill it.
        trading_days: the replay calendar, sorted.
        starting_cash: USD.
    """
    new = [new_fill] if isinstance(new_fill, Fill) else list(new_fill)
    before = list(fills)
    after = [*before, *new]
    start = new[0].fill_date
    affected = {f.contract for f in new} | {f.contract for f in before if f.fill_date >= start}
    last_fill = max(f.fill_date for f in after)
    through, checked = start, 0
    short_day: date | None = None
    short_bp = math.nan
    for day in (d for d in trading_days if d >= start):
        open_now = bool(affected & open_contracts_at(after, day, market, trading_days))
        if not open_now and day > last_fill and day > start:
            break
        checked, through = checked + 1, day
        if short_day is not None:
            continue
        with_fill = buying_power_at(after, day, market, trading_days, starting_cash=starting_cash)
        if with_fill < 0:
            without = buying_power_at(before, day, market, trading_days, starting_cash=starting_cash)
            if with_fill < without - _CENT:
                short_day, short_bp = day, with_fill
    return LaterDaysCheck(start, through, checked, short_day, short_bp)


def paper_fills(ticket: Ticket, prices: Sequence[float], day: date, commission_per_contract: float) -> tuple[Fill, ...]:
    """One :class:`Fill` per leg of ``ticket`` at ``prices`` (USD per share, leg order) on ``day``; no checks.

    ``commission`` of a leg = ``commission_per_contract`` (USD) × its contracts.
    """
    fills = []
    for leg, price in zip(ticket.legs, prices, strict=True):
        qty = leg.signed_qty(ticket.qty)
        fills.append(Fill(contract=leg.contract, qty=qty, price=price,  # type: ignore[arg-type]
                          commission=commission_per_contract * abs(qty), fill_date=day,
                          order_ref=ticket.order_ref, account_id=ticket.account_id))
    return tuple(fills)


class PaperLedger(Protocol):
    """The account the paper broker fills (``PortfolioService`` is one).

    ``fills`` are the stored fills; ``order_lock`` serialises orders, so each sees the fills stored
    before it.
    """

    fills: list[Fill]
    order_lock: asyncio.Lock

    async def account_at(self, day: date) -> AccountSummary:
        """The account marked at the end of ``day`` (positions, buying power USD)."""
        ...

    async def later_days_check(self, fills: Sequence[Fill]) -> LaterDaysCheck:
        """Buying power with ``fills`` (one order's) on every later replay day they affect
        (:func:`check_later_days`)."""
        ...

    async def record_fills(self, ticket: Ticket, fills: Sequence[Fill]) -> bool:
        """Store one order's ``fills`` atomically (False when its ``order_ref`` is already stored).
        Raises StorageError."""
        ...


class PaperBroker:
    """The demo account's broker: async, same order-status events as IB and Robinhood.

    Paper orders fill at once or are rejected at once, so there is never a working order: a
    ``cancel`` is refused with the reason (filled, rejected, or unknown ref).

    Events (payloads), each emitted with ``emit_isolated``:
        order_status      [OrderEvent]   submitted → filled, or submitted → rejected (``message`` = why)
        execution         [Execution]    one per fill
        positions_changed [list[BrokerPosition]] / account_changed [AccountValues]: after a fill
        state_changed     [SessionState, str]
        error             [BrokerError]  (never emitted: a paper order's problems are its rejection)

    Args:
        market: the active market data (``MarketData``): the replay offline, a live source later.
        ledger: the account filled (``PortfolioService``).
        commission_per_contract: USD per contract (the Settings value; may be changed later).
        today: the current (replay) day, for positions and account values.
        account: the account's name as shown.
    """

    source: DataSource = "paper"
    order_status = Signal(object)
    execution = Signal(object)
    positions_changed = Signal(object)
    account_changed = Signal(object)
    state_changed = Signal(str, str)
    error = Signal(object)

    def __init__(self, market: MarketData, ledger: PaperLedger, *, commission_per_contract: float,
                 today: Callable[[], date], account: str = "Demo") -> None:
        self.market = market
        self.commission_per_contract = commission_per_contract
        self.account = account
        self.state: SessionState = "connected"
        self._ledger = ledger
        self._today = today
        #: the last status of every order_ref this broker was handed (this session)
        self._orders: dict[str, OrderEvent] = {}

    # ---- session --------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Nothing to open: paper is always there (until closed)."""
        self._set_state("connected", "paper trading against the active market data")

    async def aclose(self) -> None:
        """Refuse further orders (idempotent)."""
        if self.state != "disconnected":
            self._set_state("disconnected", "closed")

    def _set_state(self, state: SessionState, reason: str) -> None:
        self.state = state
        emit_isolated(self.state_changed, state, reason)

    # ---- quotes ---------------------------------------------------------------------------------
    async def quote(self, contract: OptionContract, day: date) -> OptionQuote:
        """The quote the broker fills ``contract`` at on ``day`` (NaN prices when there is none)."""
        return await option_quote_or_missing(self.market, contract, day)

    async def quotes(self, ticket: Ticket, day: date) -> dict[Contract, OptionQuote | None]:
        """The quote of every leg of ``ticket`` on ``day``; a stock leg has none (paper fills options only)."""
        out: dict[Contract, OptionQuote | None] = {}
        for leg in ticket.legs:
            c = leg.contract
            if c not in out:
                out[c] = await self.quote(c, day) if isinstance(c, OptionContract) else None
        return out

    async def preview(self, ticket: Ticket, account: AccountSummary | None) -> TicketPreview:
        """:func:`~magnus_desktop.services.orders.rules.preview` of ``ticket`` at the market's quotes of
        its trade day, with this broker's commission, plus the paper account's own refusal of stocks."""
        quotes = await self.quotes(ticket, ticket.trade_date)
        p = preview(ticket, account, quotes, commission_per_contract=self.commission_per_contract)
        if any(isinstance(leg.contract, StockContract) for leg in ticket.legs):
            p = replace(p, problems=(*p.problems, STOCK_REFUSAL))
        return p

    def priced_fills(self, ticket: Ticket, p: TicketPreview, day: date) -> tuple[Fill, ...]:
        """The :class:`Fill` of every leg of ``ticket`` at the preview's leg prices on ``day``; no checks."""
        return paper_fills(ticket, p.leg_prices, day, self.commission_per_contract)

    # ---- orders ---------------------------------------------------------------------------------
    def order(self, order_ref: str) -> OrderEvent | None:
        """The last status of ``order_ref`` this session (None if never placed here)."""
        return self._orders.get(order_ref)

    async def place(self, ticket: Ticket) -> str:
        """Fill ``ticket`` at the quotes of its trade day and store its fills; returns its ``order_ref``.

        Publishes ``submitted``, then ``filled`` (and one ``execution`` per leg) or ``rejected``. A ref
        already placed (this session, or stored in the account) is never filled again: the call
        returns the ref and publishes nothing. A combo's legs are stored in one transaction.

        Raises:
            NotConnected: the broker was closed.
            OrderRejected: the preview's problems (quantity, price, tick, expiry, quote, limit, combo
                shape, covered call, buying power) or buying power on a later replay day; nothing is stored.
            StorageError: the fills could not be saved (published as ``rejected``); nothing is stored.
        """
        if self.state != "connected":
            raise NotConnected("The paper broker is closed; no order was placed.")
        ref = ticket.order_ref
        if ref in self._orders or any(f.order_ref == ref for f in self._ledger.fills):
            log.info("order %s was placed before; it is not placed again", ref)
            return ref
        self._publish(ticket, "submitted")
        try:
            async with self._ledger.order_lock:
                fills, p = await self._fill(ticket)
        except OrderRejected as exc:
            self._publish(ticket, "rejected", message=str(exc))
            raise
        except StorageError as exc:
            self._publish(ticket, "rejected", message=f"The fill could not be saved, so no order was placed: {exc}")
            raise
        if not fills:
            self._publish(ticket, "rejected", message=f"Order {ref} is already on record; it is not filled twice.")
            return ref
        price = p.net_price if isinstance(ticket, ComboTicket) else p.fill_price
        self._publish(ticket, "filled", price=price)
        for fill in fills:
            emit_isolated(self.execution, self._execution(fill))
        return ref

    async def _fill(self, ticket: Ticket) -> tuple[tuple[Fill, ...], TicketPreview]:
        day = ticket.trade_date
        summary = await self._ledger.account_at(day)
        p = await self.preview(ticket, summary)
        if p.problems:
            raise OrderRejected(" ".join(p.problems))
        fills = self.priced_fills(ticket, p, day)
        check = await self._ledger.later_days_check(fills)
        if check.problem is not None:
            raise OrderRejected(check.problem)
        return (fills if await self._ledger.record_fills(ticket, fills) else ()), p

    def _publish(self, ticket: Ticket, state: OrderState, *, price: float = math.nan, message: str = "") -> None:
        filled = ticket.qty if state == "filled" else 0
        event = OrderEvent(order_ref=ticket.order_ref, state=state, filled_qty=filled,
                           remaining_qty=ticket.qty - filled if state == "submitted" else 0,
                           avg_fill_price=price, broker_order_id=f"paper-{ticket.order_ref}", message=message,
                           source=self.source, at=datetime.now(UTC), ticket=ticket)
        self._orders[ticket.order_ref] = event
        emit_isolated(self.order_status, event)

    async def cancel(self, order_ref: str) -> None:
        """Paper orders never work: each fills or is rejected when placed, so nothing can be cancelled.

        Raises:
            BrokerError: always, saying why (already filled, rejected, still being filled, unknown ref).
        """
        raise BrokerError(self._not_working(order_ref, "cancel", "cancelled"))

    async def modify(self, order_ref: str, *, qty: int | None = None, limit_price: float | None = None) -> None:
        """Paper orders never work (each fills or is rejected when placed), so nothing can be modified.

        Raises:
            BrokerError: always, saying why (already filled, rejected, still being filled, unknown ref).
        """
        raise BrokerError(self._not_working(order_ref, "modify", "modified"))

    def _not_working(self, order_ref: str, verb: str, done: str) -> str:
        """Why the paper order ``order_ref`` cannot be ``verb``-ed (none ever works)."""
        last = self._orders.get(order_ref)
        stored = any(f.order_ref == order_ref for f in self._ledger.fills)
        if last is None and not stored:
            return f"No paper order {order_ref!r} to {verb}."
        if stored or (last is not None and last.state == "filled"):
            return (f"Order {order_ref} is already filled, so it cannot be {done} "
                    "(paper orders fill at once). Close the position with an opposite order instead.")
        assert last is not None
        if last.state == "rejected":
            return f"Order {order_ref} was rejected; nothing is working to {verb}."
        return f"Order {order_ref} is being filled now; a paper order cannot be {done}."

    # ---- account --------------------------------------------------------------------------------
    async def positions(self) -> list[BrokerPosition]:
        """Open positions at the end of the current day (contracts, signed; avg cost USD per share)."""
        summary = await self._ledger.account_at(self._today())
        as_of = close_of_day(summary.as_of)
        return [BrokerPosition(self.account, p.contract, p.qty, p.avg_cost, self.source, as_of)
                for p in summary.positions]

    async def account_values(self) -> AccountValues:
        """Net liquidation, cash, buying power and collateral (as ``maint_margin``), USD."""
        s = await self._ledger.account_at(self._today())
        return AccountValues(self.account, s.net_liquidation, s.cash, s.buying_power, s.collateral_used,
                             "USD", self.source, close_of_day(s.as_of))

    async def executions(self) -> list[Execution]:
        """Every stored fill of the account, oldest first."""
        return [self._execution(f) for f in sorted(self._ledger.fills, key=lambda f: f.fill_date)]

    def _execution(self, fill: Fill) -> Execution:
        return Execution(exec_id=f"paper-{fill.order_ref}", order_ref=fill.order_ref, account=self.account,
                         contract=fill.contract, qty=fill.qty, price=fill.price, commission=fill.commission,
                         at=close_of_day(fill.fill_date), source=self.source)
