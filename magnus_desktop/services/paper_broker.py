"""Paper fills for the demo account against the recorded quotes. No order is ever sent anywhere.

Rules (what a broker would enforce on a cash account):
    * SELL fills at the recorded bid, BUY at the recorded ask of the replay day; a limit is honoured
      (SELL needs bid >= limit, BUY needs ask <= limit), the fill is still at the quote.
    * Opening or adding to a short put needs buying power >= strike x multiplier x qty (cash-secured),
      the premium received counting towards it.
    * Opening a short call needs 100 shares per contract (covered call); the demo account holds no
      shares, so such an order is rejected with that reason.
    * Opening a long option needs cash for premium + commission.
"""

from __future__ import annotations

import math
from datetime import date

from magnus_desktop.models.domain import AccountSummary, Fill, OrderTicket
from magnus_desktop.services.portfolio import OptionQuoteSource


class OrderRejected(Exception):
    """The paper broker refused a ticket; ``str(exc)`` is the reason for the trader."""


class PaperBroker:
    """Prices and validates tickets; the caller persists the returned :class:`Fill`."""

    def __init__(self, market: OptionQuoteSource, *, commission_per_contract: float) -> None:
        self.market = market
        self.commission_per_contract = commission_per_contract

    def quote_price(self, ticket: OrderTicket, day: date) -> float:
        """Recorded bid (SELL) or ask (BUY) of ``ticket.contract`` on ``day`` (USD per share).

        Raises:
            OrderRejected: not quoted that day, no bid to sell into, or the limit is not met.
        """
        bid, ask, _last, _und = self.market.option_quote(ticket.contract, day)
        side, price = ("bid", bid) if ticket.action == "SELL" else ("ask", ask)
        if not math.isfinite(price) or price <= 0:
            raise OrderRejected(f"{ticket.contract.describe()} has no {side} on {day:%Y-%m-%d}; nothing to fill against.")
        limit = ticket.limit_price
        if math.isfinite(limit):
            if ticket.action == "SELL" and price < limit:
                raise OrderRejected(f"Bid {price:.2f} is below your limit {limit:.2f}; not filled.")
            if ticket.action == "BUY" and price > limit:
                raise OrderRejected(f"Ask {price:.2f} is above your limit {limit:.2f}; not filled.")
        return price

    def fill(self, ticket: OrderTicket, account: AccountSummary) -> Fill:
        """Validate ``ticket`` against ``account`` (at the replay day) and price it.

        Raises:
            OrderRejected: with the reason (quantity, expiry, quote, limit, collateral, covered call).
        """
        if ticket.qty <= 0:
            raise OrderRejected("Quantity must be a positive number of contracts.")
        c = ticket.contract
        if c.expiry < account.as_of:
            raise OrderRejected(f"{c.describe()} expired on {c.expiry:%Y-%m-%d}.")
        price = self.quote_price(ticket, account.as_of)
        commission = self.commission_per_contract * ticket.qty
        held = sum(p.qty for p in account.positions if p.contract == c)
        new_short = max(-(held + ticket.signed_qty), 0) - max(-held, 0)
        new_long = max(held + ticket.signed_qty, 0) - max(held, 0)
        if new_short > 0 and c.right == "C":
            raise OrderRejected(
                f"Selling {c.describe()} to open is a covered call: it needs {c.multiplier} shares of the "
                "underlying per contract, and the demo account holds none (SPX is an index). "
                "Sell cash-secured puts instead."
            )
        if new_short > 0:
            needed = c.strike * c.multiplier * new_short
            available = account.buying_power + price * c.multiplier * ticket.qty - commission
            if needed > available:
                raise OrderRejected(
                    f"Not enough buying power: a cash-secured put needs ${needed:,.0f} of collateral, "
                    f"${available:,.0f} is available after the premium."
                )
        if new_long > 0:
            cost = price * c.multiplier * ticket.qty + commission
            if cost > account.buying_power:
                raise OrderRejected(f"Not enough buying power: ${cost:,.2f} needed, ${account.buying_power:,.2f} available.")
        return Fill(
            contract=c,
            qty=ticket.signed_qty,
            price=price,
            commission=commission,
            fill_date=account.as_of,
            order_ref=ticket.order_ref,
            account_id=ticket.account_id,
        )
