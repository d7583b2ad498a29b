"""Paper fills for the demo account against the active market data. No order is ever sent anywhere.

:class:`PaperBroker` implements the ``Broker`` seam (``services.brokers.protocols``): ``await
place(ticket)`` returns the ticket's ``order_ref`` and publishes ``order_status`` events keyed by it
(``submitted`` → ``filled``, or ``rejected`` with the reason), plus an ``execution`` per fill. It
fills at the quote of whatever ``MarketData`` it is given: offline the replay (the recorded bid/ask of
the ticket's replay day), later a live source. The account it fills is a :class:`PaperLedger`
(``PortfolioService``): fills are stored there, in the database, which refuses a second fill of the
same ``order_ref``.

Rules (what a broker would enforce on a cash account), all in :func:`evaluate_order` — the order
ticket's preview calls the same function, so the ticket and the broker never disagree:
    * SELL fills at the recorded bid, BUY at the recorded ask of the replay day; a limit is honoured
      (SELL needs bid >= limit, BUY needs ask <= limit), the fill is still at the quote.
    * Opening or adding to a short put needs buying power >= strike x multiplier x qty (cash-secured),
      the premium received counting towards it.
    * Opening a short call needs 100 shares per contract (covered call); the demo account holds no
      shares, so such an order is rejected with that reason.
    * Opening a long option needs cash for premium + commission.
    * An order that lowers buying power must leave it >= 0 — on its trade day and, for a backdated
      order, on every later replay day it affects (:func:`check_later_days`). An order that raises
      buying power (closing a position) is never refused for it, so a trader can always reduce risk.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, Protocol

from psygnal import Signal

from magnus_desktop.models.domain import AccountSummary, Fill, OptionContract, OrderTicket
from magnus_desktop.models.market import (
    AccountValues,
    BrokerPosition,
    DataSource,
    Execution,
    OptionQuote,
    OrderEvent,
    OrderState,
    SessionState,
)
from magnus_desktop.services.brokers.protocols import BrokerError, NotConnected, OrderRejectedByBroker
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.protocols import MarketData, option_quote_or_missing
from magnus_desktop.services.market.recorded import close_of_day
from magnus_desktop.services.portfolio.marking import OptionQuoteSource, buying_power_at, open_contracts_at
from magnus_desktop.services.storage import StorageError

log = logging.getLogger(__name__)

Action = Literal["SELL", "BUY"]
#: Rounding slack (USD) when comparing buying power before and after an order.
_CENT = 0.005


class OrderRejected(OrderRejectedByBroker):
    """The paper broker refused a ticket; ``str(exc)`` is the reason for the trader."""


@dataclass(frozen=True, slots=True)
class OrderEffect:
    """What one order would do to the account on its trade day (USD unless stated).

    Attributes:
        fill_price: USD per share the paper broker fills at (bid for SELL, ask for BUY); NaN = no quote.
        premium: cash from the option, signed: + credit (SELL), − debit (BUY); price × multiplier × qty.
        commission: commission_per_contract × qty (>= 0).
        collateral: cash secured by the new short puts: strike × multiplier × contracts opened short.
        max_loss: worst case of the new exposure incl. commission; ``inf`` for a new short call
            (uncovered); 0 when the ticket only closes a position.
        buying_power: before the order (NaN when unknown).
        buying_power_after: buying_power + premium − commission − collateral + collateral freed by
            buying back short puts.
        closes: contracts of the held position the order closes (>= 0).
        opens: contracts the order opens (>= 0); ``opens_side`` says "long" or "short".
        problems: reasons the paper broker rejects the order (empty = it fills).
    """

    fill_price: float
    premium: float
    commission: float
    collateral: float
    max_loss: float
    buying_power: float
    buying_power_after: float
    closes: int = 0
    opens: int = 0
    opens_side: str = ""
    problems: tuple[str, ...] = ()

    @property
    def credit(self) -> bool:
        return self.premium >= 0

    @property
    def flips(self) -> bool:
        """True when the order closes a position and opens the opposite one (e.g. −1 → +1)."""
        return self.closes > 0 and self.opens > 0

    def describe_position_change(self) -> str:
        """"closes 1, opens 1 long" / "opens 2 short" / "closes 3"; "" for an empty order."""
        parts = [f"closes {self.closes}"] if self.closes else []
        if self.opens:
            parts.append(f"opens {self.opens} {self.opens_side}")
        return ", ".join(parts)


def evaluate_order(contract: OptionContract, action: Action, qty: int, bid: float, ask: float, limit: float,
                   commission_per_contract: float, buying_power: float, held_qty: int = 0,
                   day: date | None = None) -> OrderEffect:
    """Fill, cash, collateral, max loss and the broker's objections for one order (the one rule set).

    Args:
        contract: the option (its ``multiplier`` scales every USD amount).
        action: ``"SELL"`` or ``"BUY"``; qty: contracts, >= 1.
        bid, ask: recorded quote, USD per share (NaN = not quoted).
        limit: USD per share, NaN = none (fill at the quote).
        commission_per_contract: USD.
        buying_power: USD before the order (cash − collateral in use); NaN when unknown (not checked).
        held_qty: signed contracts already held of this contract (short < 0).
        day: the trade day, to refuse an expired contract (None = not checked).

    Source:
        Cash-secured put: collateral = strike × 100 per contract, max loss = (strike − premium) × 100
        (the underlying goes to 0); a long option can lose its premium; a naked short call is unlimited.
    """
    m = contract.multiplier
    price = bid if action == "SELL" else ask
    price = price if math.isfinite(price) and price > 0 else math.nan
    signed = -qty if action == "SELL" else qty
    new_short = max(max(-(held_qty + signed), 0) - max(-held_qty, 0), 0)
    new_long = max(max(held_qty + signed, 0) - max(held_qty, 0), 0)
    closes = min(abs(held_qty), abs(signed)) if held_qty * signed < 0 else 0
    commission = commission_per_contract * qty
    premium = (price if action == "SELL" else -price) * m * qty
    put = contract.right == "P"
    collateral = contract.strike * m * new_short if put else 0.0
    freed = contract.strike * m * (closes if held_qty < 0 else 0) if put else 0.0
    if new_short > 0 and not put:
        max_loss = math.inf
    else:
        max_loss = (contract.strike - price) * m * new_short + price * m * new_long
        max_loss = max_loss + commission if new_short or new_long else 0.0
    after = buying_power + premium - commission - collateral + freed
    problems = _problems(contract, action, qty, price, limit, new_short, new_long, buying_power, after, day)
    side = "short" if new_short else "long" if new_long else ""
    return OrderEffect(price, premium, commission, collateral, max_loss, buying_power, after,
                       closes, new_short + new_long, side, problems)


def _problems(contract: OptionContract, action: Action, qty: int, price: float, limit: float, new_short: int,
              new_long: int, buying_power: float, after: float, day: date | None) -> tuple[str, ...]:
    side = "bid" if action == "SELL" else "ask"
    out = []
    if qty < 1:
        out.append("Quantity must be at least 1 contract.")
    if day is not None and contract.expiry < day:
        out.append(f"{contract.describe()} expired on {contract.expiry:%Y-%m-%d}.")
    elif math.isnan(price):
        when = f" on {day:%Y-%m-%d}" if day is not None else ""
        out.append(f"No recorded {side} for {contract.describe()}{when}: nothing to fill against.")
    elif math.isfinite(limit) and (price < limit if action == "SELL" else price > limit):
        relation = "below" if action == "SELL" else "above"
        out.append(f"{side.capitalize()} {price:.2f} is {relation} your limit {limit:.2f}: it would not fill.")
    if new_short > 0 and contract.right == "C":
        out.append(
            f"Selling {contract.describe()} to open is a covered call: it needs {contract.multiplier} shares of "
            "the underlying per contract, and the demo account holds none (SPX is an index). "
            "Sell cash-secured puts instead."
        )
    elif math.isfinite(after) and after < 0 and after < buying_power - _CENT:
        if new_short > 0:
            needed = contract.strike * contract.multiplier * new_short
            out.append(f"Not enough buying power: a cash-secured put needs ${needed:,.0f} of collateral, "
                       f"${needed + after:,.0f} is available after the premium.")
        else:
            out.append(f"Not enough buying power: ${buying_power - after:,.2f} needed, "
                       f"${buying_power:,.2f} available.")
    return tuple(out)


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


def check_later_days(fills: Iterable[Fill], new_fill: Fill, market: OptionQuoteSource,
                     trading_days: Sequence[date], *, starting_cash: float) -> LaterDaysCheck:
    """Buying power with ``new_fill`` on each replay day from its ``fill_date`` on (pure, no I/O).

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
    before = list(fills)
    after = [*before, new_fill]
    start = new_fill.fill_date
    affected = {new_fill.contract} | {f.contract for f in before if f.fill_date >= start}
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


def paper_fill(ticket: OrderTicket, price: float, day: date, commission_per_contract: float) -> Fill:
    """The :class:`Fill` of ``ticket`` at ``price`` (USD per share) on ``day``; no checks.

    ``commission`` = ``commission_per_contract`` (USD) × contracts.
    """
    return Fill(contract=ticket.contract, qty=ticket.signed_qty, price=price,
                commission=commission_per_contract * ticket.qty, fill_date=day,
                order_ref=ticket.order_ref, account_id=ticket.account_id)


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

    async def later_days_check(self, fill: Fill) -> LaterDaysCheck:
        """Buying power with ``fill`` on every later replay day it affects (:func:`check_later_days`)."""
        ...

    async def record_fill(self, ticket: OrderTicket, fill: Fill) -> bool:
        """Store ``fill`` (False when its ``order_ref`` is already stored). Raises StorageError."""
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

    async def evaluate(self, ticket: OrderTicket, buying_power: float, held_qty: int) -> OrderEffect:
        """:func:`evaluate_order` at the market's quote of ``ticket.contract`` on its trade day."""
        q = await self.quote(ticket.contract, ticket.trade_date)
        return evaluate_order(ticket.contract, ticket.action, ticket.qty, q.bid, q.ask, ticket.limit_price,
                              self.commission_per_contract, buying_power, held_qty, ticket.trade_date)

    def priced_fill(self, ticket: OrderTicket, price: float, day: date) -> Fill:
        """The :class:`Fill` of ``ticket`` at ``price`` (USD per share) on ``day``; no checks."""
        return paper_fill(ticket, price, day, self.commission_per_contract)

    # ---- orders ---------------------------------------------------------------------------------
    def order(self, order_ref: str) -> OrderEvent | None:
        """The last status of ``order_ref`` this session (None if never placed here)."""
        return self._orders.get(order_ref)

    async def place(self, ticket: OrderTicket) -> str:
        """Fill ``ticket`` at the quote of its trade day and store the fill; returns its ``order_ref``.

        Publishes ``submitted``, then ``filled`` (and an ``execution``) or ``rejected``. A ref
        already placed (this session, or stored in the account) is never filled again: the call
        returns the ref and publishes nothing.

        Raises:
            NotConnected: the broker was closed.
            OrderRejected: the reason (quantity, expiry, quote, limit, buying power on this or a
                later replay day, covered call); nothing is stored.
            StorageError: the fill could not be saved (published as ``rejected``); nothing is stored.
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
                fill = await self._fill(ticket)
        except OrderRejected as exc:
            self._publish(ticket, "rejected", message=str(exc))
            raise
        except StorageError as exc:
            self._publish(ticket, "rejected", message=f"The fill could not be saved, so no order was placed: {exc}")
            raise
        if fill is None:
            self._publish(ticket, "rejected", message=f"Order {ref} is already on record; it is not filled twice.")
            return ref
        self._publish(ticket, "filled", fill=fill)
        emit_isolated(self.execution, self._execution(fill))
        return ref

    async def _fill(self, ticket: OrderTicket) -> Fill | None:
        day = ticket.trade_date
        summary = await self._ledger.account_at(day)
        held = sum(p.qty for p in summary.positions if p.contract == ticket.contract)
        effect = await self.evaluate(ticket, summary.buying_power, held)
        if effect.problems:
            raise OrderRejected(" ".join(effect.problems))
        fill = self.priced_fill(ticket, effect.fill_price, day)
        check = await self._ledger.later_days_check(fill)
        if check.problem is not None:
            raise OrderRejected(check.problem)
        return fill if await self._ledger.record_fill(ticket, fill) else None

    def _publish(self, ticket: OrderTicket, state: OrderState, *, fill: Fill | None = None, message: str = "") -> None:
        filled = ticket.qty if fill is not None else 0
        event = OrderEvent(order_ref=ticket.order_ref, state=state, filled_qty=filled,
                           remaining_qty=ticket.qty - filled if state == "submitted" else 0,
                           avg_fill_price=fill.price if fill is not None else math.nan,
                           broker_order_id=f"paper-{ticket.order_ref}", message=message, source=self.source,
                           at=datetime.now(UTC), ticket=ticket)
        self._orders[ticket.order_ref] = event
        emit_isolated(self.order_status, event)

    async def cancel(self, order_ref: str) -> None:
        """Paper orders never work: each fills or is rejected when placed, so nothing can be cancelled.

        Raises:
            BrokerError: always, saying why (already filled, rejected, still being filled, unknown ref).
        """
        last = self._orders.get(order_ref)
        stored = any(f.order_ref == order_ref for f in self._ledger.fills)
        if last is None and not stored:
            raise BrokerError(f"No paper order {order_ref!r} to cancel.")
        if stored or (last is not None and last.state == "filled"):
            raise BrokerError(f"Order {order_ref} is already filled, so it cannot be cancelled "
                              "(paper orders fill at once). Close the position with an opposite order instead.")
        assert last is not None
        if last.state == "rejected":
            raise BrokerError(f"Order {order_ref} was rejected; nothing is working to cancel.")
        raise BrokerError(f"Order {order_ref} is being filled now; a paper order cannot be cancelled.")

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
