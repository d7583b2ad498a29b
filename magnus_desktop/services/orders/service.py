"""``OrderService``: paper tickets for the demo account, checked and filled by the paper broker.

Every order event carries the ticket's ``order_ref``, so a ticket dialog reacts to its own order
only. A rejected order is published (``order_rejected``) and raised to the caller; nothing is
stored for it.

Events (payloads):
    order_filled(Fill)                      the fill was stored (``fill.order_ref``)
    order_rejected(str order_ref, str reason)
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.models.domain import Fill, OptionContract, OrderTicket
from magnus_desktop.services.brokers.paper import LaterDaysCheck, OrderRejected, check_later_days
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.portfolio.service import PortfolioService
from magnus_desktop.services.storage import StorageError, TradeRepo

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TicketQuote:
    """The recorded quote a ticket fills against: USD per share, ``nan`` when not quoted that day."""

    contract: OptionContract
    day: date
    bid: float
    ask: float
    last: float
    und_price: float

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


class OrderService:
    """Paper orders on the demo account (fills at the replay day's recorded quote)."""

    order_filled = Signal(object)
    order_rejected = Signal(str, str)

    def __init__(self, ctx: AppContext, portfolio: PortfolioService) -> None:
        self._ctx = ctx
        self._portfolio = portfolio

    async def start(self) -> None:
        """Orders need no start-up work (the portfolio loads the account)."""

    async def aclose(self) -> None:
        """Wait for an order being stored, so none is cut in half."""
        async with self.order_lock:
            log.debug("no order in flight; the order service is closed")

    @property
    def order_lock(self) -> asyncio.Lock:
        """One order (or demo seed) at a time: each sees the fills stored before it."""
        return self._portfolio.order_lock

    def new_ticket(self, contract: OptionContract, action: str, qty: int,
                   limit_price: float = math.nan) -> OrderTicket:
        """A ticket on the demo account at the replay day, with a fresh ``order_ref``."""
        return OrderTicket(contract=contract, action=action, qty=qty, limit_price=limit_price,  # type: ignore[arg-type]
                           order_ref=uuid.uuid4().hex, trade_date=self._ctx.day,
                           account_id=self._portfolio.account_id)

    async def quote(self, contract: OptionContract, day: date | None = None) -> TicketQuote:
        """The recorded quote of ``contract`` on ``day`` (default: the replay day; compute executor)."""
        at = day or self._ctx.day
        bid, ask, last, und = await self._ctx.run_compute(self._ctx.market.option_quote, contract, at)
        return TicketQuote(contract, at, bid, ask, last, und)

    async def place_order(self, ticket: OrderTicket) -> Fill:
        """Fill ``ticket`` on the demo account at the recorded quote of the replay day and store it.

        The order is checked on the replay day and, as the replay may stand before later fills of
        the account (a backdated order), on every later replay day it affects
        (:func:`~magnus_desktop.services.brokers.paper.check_later_days`, on the compute thread).

        Raises:
            OrderRejected: the reason, for the trader (nothing is stored).
            StorageError: the fill could not be saved (nothing is stored).
        """
        try:
            return await self._place(ticket)
        except OrderRejected as exc:
            emit_isolated(self.order_rejected, ticket.order_ref, str(exc))
            raise
        except StorageError as exc:
            emit_isolated(self.order_rejected, ticket.order_ref,
                          f"The fill could not be saved, so no order was placed: {exc}")
            raise

    async def _place(self, ticket: OrderTicket) -> Fill:
        ctx, portfolio = self._ctx, self._portfolio
        async with portfolio.order_lock:
            summary, _curve = await portfolio.mark_account(ctx.day)
            fill = ctx.broker.fill(ticket, summary)
            check = await ctx.run_compute(self._check_later_days, tuple(portfolio.fills), fill)
            if check.problem is not None:
                raise OrderRejected(check.problem)
            stored = await ctx.run_db(TradeRepo(ctx.db).record_fill, ticket, fill)
            if stored:
                portfolio.add_fill(fill)
                emit_isolated(self.order_filled, fill)
                ctx.refresher.schedule()
        return fill

    async def check_ticket(self, ticket: OrderTicket) -> LaterDaysCheck | None:
        """Buying power with ``ticket`` filled at today's recorded quote, on every replay day it
        affects (compute thread). None when there is no quote to fill at (the ticket says why)."""
        return await self._ctx.run_compute(self._check_ticket, tuple(self._portfolio.fills), ticket, self._ctx.day)

    def _check_ticket(self, fills: tuple[Fill, ...], ticket: OrderTicket, day: date) -> LaterDaysCheck | None:
        bid, ask, _last, _und = self._ctx.market.option_quote(ticket.contract, day)
        price = bid if ticket.action == "SELL" else ask
        if not (price > 0) or ticket.qty < 1:  # NaN or no bid/ask
            return None
        return self._check_later_days(fills, self._ctx.broker.priced_fill(ticket, price, day))

    def _check_later_days(self, fills: tuple[Fill, ...], fill: Fill) -> LaterDaysCheck:
        return check_later_days(fills, fill, self._ctx.market, self._ctx.days or [fill.fill_date],
                                starting_cash=self._portfolio.starting_cash)
