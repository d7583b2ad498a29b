"""The payoff chart's data of a ticket: its opened exposure (as the rules count it) priced by our BSM.

No Qt. The curves describe the exposure the order OPENS, like the preview's max loss, max profit and
breakevens (``services.orders.rules``): closed contracts realise their P&L and leave the chart, so a
roll shows the leg it opens and a pure close has no curve. ``cash`` is the opened legs' premium at
the preview's fill prices minus the whole commission, so the expiry curve's extremes are
``-max_loss`` / ``max_profit`` and its zeros the preview's breakevens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from magnus_desktop.analytics.payoff_curves import (
    PayoffLegs,
    first_expiry_pnl,
    price_grid,
    today_pnl,
    zero_crossings,
)
from magnus_desktop.analytics.pricing import implied_vol
from magnus_desktop.models.domain import OptionContract, Ticket
from magnus_desktop.services.orders.rules import Contract, LegQuote, TicketPreview


@dataclass(frozen=True, slots=True)
class PayoffCurves:
    """What the payoff chart draws (prices USD per share / index points, P&L USD).

    Attributes:
        prices: underlying prices, ascending, shape (m,).
        at_expiry: P&L at the opened legs' expiry, shape (m,); legs of several expiries (a calendar):
            when the first expires, the later ones at BSM on their remaining time at their IV.
        today: P&L today at the legs' current IV (T+0), shape (m,); NaN where a leg has no IV.
        breakevens: the preview's breakevens (underlying prices at expiry); for legs of several
            expiries, where ``at_expiry`` crosses zero.
        und_price: the underlying now (NaN when unknown).
        legs: the opened legs behind the curves.
    """

    prices: np.ndarray
    at_expiry: np.ndarray
    today: np.ndarray
    breakevens: tuple[float, ...]
    und_price: float
    legs: PayoffLegs


def opened_units(before: int, after: int) -> int:
    """Signed contracts (shares) an order opens when a position goes ``before`` → ``after``."""
    if before * after < 0:
        return after
    opens = max(abs(after) - abs(before), 0)
    return opens if after > 0 else -opens


def payoff_legs(ticket: Ticket, p: TicketPreview, quotes: Mapping[Contract, LegQuote | None], und_price: float,
                day: date, rate: float, div_yield: float = 0.0) -> PayoffLegs:
    """The opened legs of ``ticket`` with each option's IV implied from its quote's mid at ``und_price``.

    Args:
        quotes: each leg's quote (``bid``/``ask`` USD per share); a missing one leaves the leg's IV NaN.
        und_price: USD per share (index points); day: today, for each leg's ``t_years`` = dte / 365.
        rate, div_yield: annualised continuous decimals.
    """
    rows = []
    cash = -p.commission
    for leg, change, price in zip(ticket.legs, p.positions, p.leg_prices, strict=True):
        units = opened_units(change.before, change.after)
        if not units:
            continue
        c = leg.contract
        if isinstance(c, OptionContract):
            t = max(c.dte(day), 0) / 365.0
            rows.append((c.right, c.strike, float(units * c.multiplier), t, _iv(c, quotes.get(c), und_price, t,
                                                                                  rate, div_yield)))
            cash -= units * price * c.multiplier
        else:
            rows.append(("S", 0.0, float(units), 0.0, math.nan))
            cash -= units * price
    return PayoffLegs.of(rows, cash)


def _iv(c: OptionContract, quote: LegQuote | None, und: float, t: float, rate: float, div_yield: float) -> float:
    if quote is None or not (quote.bid >= 0 and quote.ask > 0) or not math.isfinite(und) or t <= 0:
        return math.nan
    mid = (quote.bid + quote.ask) / 2.0
    return float(implied_vol(mid, c.right, und, c.strike, t, rate, div_yield))


def payoff_curves(ticket: Ticket, p: TicketPreview, quotes: Mapping[Contract, LegQuote | None], und_price: float,
                  day: date, rate: float, div_yield: float = 0.0, points: int = 241) -> PayoffCurves | None:
    """Both curves over a grid around the strikes and ``und_price``; None when the order opens nothing
    or a fill price is unknown (no curve to draw)."""
    legs = payoff_legs(ticket, p, quotes, und_price, day, rate, div_yield)
    if not legs.rights or not math.isfinite(legs.cash):
        return None
    strikes = [float(k) for k, r in zip(legs.strikes, legs.rights, strict=True) if r != "S"]
    several = len({float(t) for t, r in zip(legs.t_years, legs.rights, strict=True) if r != "S"}) > 1
    if several:  # a calendar: widen the grid to the far leg's one-sd move over the near leg's life
        opt = legs.options
        sd = float(np.nanmax(legs.ivs[opt]) * np.sqrt(max(legs.t_years[opt].min(), 1 / 365)))
        if np.isfinite(sd) and np.isfinite(und_price):
            strikes += [und_price * (1 - 3 * sd), und_price * (1 + 3 * sd)]
    prices = price_grid(strikes, und_price, points)
    at_first = first_expiry_pnl(legs, prices, rate, div_yield)
    evens = zero_crossings(prices, at_first) if several else p.breakevens
    return PayoffCurves(prices, at_first, today_pnl(legs, prices, rate, div_yield), evens, und_price, legs)


__all__ = ["PayoffCurves", "opened_units", "payoff_curves", "payoff_legs"]
