"""Positions, marks, Greeks and P&L of an account, rebuilt from its fills.

Accounting (average-cost method, all USD):
    cash          = starting_cash - sum(qty * price * multiplier) - sum(commission) + settlements
    market_value  = sum(open qty * mark * multiplier)
    net_liq       = cash + market_value
    unrealized    = sum(open qty * (mark - avg_cost) * multiplier)
    realized      = closed-trade gains + expiry settlements - all commissions
so that ``net_liq - starting_cash == realized + unrealized`` holds exactly (a test checks it).

An option is live through its expiry day (marked at that day's recorded quote). On the first replay
day after expiry it is settled in cash at intrinsic value against *its own* underlying's price on the
last replay day on or before expiry (SPXW/SPX: the chain's SPX level; SPY, AAPL, GOOG: their recorded
close), as a cash-settled index option is at the close.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

import numpy as np

from magnus_desktop.analytics.pricing import bs_greeks, implied_vol
from magnus_desktop.models.domain import AccountSummary, Fill, OptionContract, PositionSnapshot
from magnus_desktop.models.market import OptionQuote
from magnus_desktop.services.orders.rules import collateral_by_group

NAN = math.nan


class OptionQuoteSource(Protocol):
    """What marking needs from market data, synchronously (``ReplayMarketData`` satisfies it)."""

    def option_quote(self, contract: OptionContract, day: date) -> OptionQuote:
        """The end-of-day quote of ``contract`` on ``day`` (NaN prices when not quoted)."""
        ...

    def underlying_price(self, symbol: str, day: date) -> float:
        """Close of ``symbol`` on ``day``, USD per share; NaN when there is none."""
        ...


@dataclass(slots=True)
class _Book:
    """Running average-cost state of one contract."""

    qty: int = 0
    avg_cost: float = 0.0
    realized: float = 0.0

    def apply(self, qty: int, price: float, multiplier: int) -> None:
        if self.qty == 0 or (self.qty > 0) == (qty > 0):
            new_qty = self.qty + qty
            self.avg_cost = (self.avg_cost * abs(self.qty) + price * abs(qty)) / abs(new_qty)
            self.qty = new_qty
            return
        closing = min(abs(qty), abs(self.qty))
        self.realized += (price - self.avg_cost) * closing * (1 if self.qty > 0 else -1) * multiplier
        remaining = qty + (closing if qty < 0 else -closing)
        self.qty += qty - remaining
        if self.qty == 0:
            self.avg_cost = 0.0
        if remaining:
            self.qty, self.avg_cost = remaining, price


def intrinsic_value(contract: OptionContract, und_price: float) -> float:
    """Intrinsic value per share (USD): max(S-K, 0) for calls, max(K-S, 0) for puts."""
    if contract.right == "C":
        return max(und_price - contract.strike, 0.0)
    return max(contract.strike - und_price, 0.0)


def settlement_price(market: OptionQuoteSource, contract: OptionContract, trading_days: Sequence[date]) -> float:
    """Price of ``contract``'s own underlying (USD per share) on the last trading day on or before
    its expiry; NaN when there is none (never another underlying's price)."""
    days = [d for d in trading_days if d <= contract.expiry]
    return market.underlying_price(contract.underlying, days[-1]) if days else NAN


def build_books(
    fills: Iterable[Fill], day: date, market: OptionQuoteSource, trading_days: Sequence[date]
) -> tuple[dict[OptionContract, _Book], float, float]:
    """Replay ``fills`` up to ``day`` into per-contract books.

    Returns:
        (books of contracts still open at ``day``, cash flow USD from trades and settlements,
        realized P&L USD of contracts already expired and settled, commissions excluded).
    """
    books: dict[OptionContract, _Book] = {}
    cash_flow = 0.0
    for fill in sorted((f for f in fills if f.fill_date <= day), key=lambda f: f.fill_date):
        c = fill.contract
        books.setdefault(c, _Book()).apply(fill.qty, fill.price, c.multiplier)
        cash_flow -= fill.qty * fill.price * c.multiplier + fill.commission
    realized = 0.0
    open_books: dict[OptionContract, _Book] = {}
    for contract, book in books.items():
        if contract.expiry < day and book.qty != 0:
            value = intrinsic_value(contract, settlement_price(market, contract, trading_days))
            cash_flow += book.qty * value * contract.multiplier
            book.apply(-book.qty, value, contract.multiplier)
        if book.qty != 0:
            open_books[contract] = book
        realized += book.realized
    return open_books, cash_flow, realized


def put_collateral(contract: OptionContract, qty: int) -> float:
    """Cash (USD) a position secures: strike × multiplier × |qty| for a short put, else 0."""
    return contract.strike * contract.multiplier * abs(qty) if (qty < 0 and contract.right == "P") else 0.0


def buying_power_at(fills: Iterable[Fill], day: date, market: OptionQuoteSource, trading_days: Sequence[date], *,
                    starting_cash: float) -> float:
    """Buying power (USD) at the end of ``day``: cash − collateral, as in :func:`account_summary`,
    without marking the positions (no quotes or IV needed). Fills dated after ``day`` are ignored."""
    books, cash_flow, _realized = build_books(fills, day, market, trading_days)
    return starting_cash + cash_flow - collateral_by_group((c, b.qty) for c, b in books.items())


def _share_collateral(positions: tuple[PositionSnapshot, ...]) -> tuple[PositionSnapshot, ...]:
    """Each position's share of its (underlying, expiry) group's netted collateral (USD): a short
    put alone keeps strike × 100 × |qty|; in a vertical or condor the group's collateral (the widest
    width × 100) is split over its short legs by their own put collateral (or contracts)."""
    groups: dict[tuple[str, date], list[int]] = {}
    for i, p in enumerate(positions):
        if isinstance(p.contract, OptionContract):
            groups.setdefault((p.contract.underlying, p.contract.expiry), []).append(i)
    out = list(positions)
    for members in groups.values():
        total = collateral_by_group((positions[i].contract, positions[i].qty) for i in members)  # type: ignore[misc]
        shorts = [i for i in members if positions[i].qty < 0]
        weights = [positions[i].collateral or 0.0 for i in shorts]
        if sum(weights) <= 0:
            weights = [float(-positions[i].qty) for i in shorts]
        norm = sum(weights)
        for i in members:
            share = total * weights[shorts.index(i)] / norm if i in shorts and norm > 0 else 0.0
            if share != out[i].collateral:
                out[i] = replace(out[i], collateral=share)
    return tuple(out)


def open_contracts_at(fills: Iterable[Fill], day: date, market: OptionQuoteSource,
                      trading_days: Sequence[date]) -> set[OptionContract]:
    """Contracts with a non-zero position at the end of ``day`` (an option is open through its expiry day)."""
    return set(build_books(fills, day, market, trading_days)[0])


def mark_position(
    contract: OptionContract, book: _Book, day: date, market: OptionQuoteSource, rate: float, div_yield: float
) -> PositionSnapshot:
    """Mark one open position at ``day``: mark = mid of the recorded bid/ask (last if one side is
    missing), IV from the mid with our solver, Greeks scaled to the position (shares-equivalent)."""
    quote = market.option_quote(contract, day)
    bid, ask, und = quote.bid, quote.ask, quote.und_price
    mark = (bid + ask) / 2.0 if np.isfinite(bid) and np.isfinite(ask) and ask > 0 else quote.last
    dte = contract.dte(day)
    t_years = max(dte, 0) / 365.0
    iv = float(implied_vol(mark, contract.right, und, contract.strike, t_years, rate, div_yield))
    g = bs_greeks(contract.right, und, contract.strike, t_years, rate, iv, div_yield)
    scale = book.qty * contract.multiplier
    short_credit = book.qty < 0 and book.avg_cost > 0
    return PositionSnapshot(
        contract=contract,
        qty=book.qty,
        avg_cost=book.avg_cost,
        mark=mark,
        market_value=book.qty * mark * contract.multiplier,
        unrealized_pnl=(mark - book.avg_cost) * scale,
        delta=float(g.delta) * scale,
        gamma=float(g.gamma) * scale,
        theta=float(g.theta) * scale,
        vega=float(g.vega) * scale,
        iv=iv,
        dte=dte,
        pct_max_profit=(book.avg_cost - mark) / book.avg_cost if short_credit else NAN,
        collateral=put_collateral(contract, book.qty),
        und_price=und,
        source=quote.source,
        as_of=quote.as_of,
    )


def account_summary(
    fills: Iterable[Fill],
    day: date,
    market: OptionQuoteSource,
    trading_days: Sequence[date],
    *,
    starting_cash: float,
    rate: float,
    div_yield: float = 0.0,
) -> AccountSummary:
    """Positions and account totals at the end of ``day`` (USD; Greeks as in ``PositionSnapshot``).

    Missing marks stay NaN and propagate into the totals that need them (never counted as 0).
    """
    fills = list(fills)
    books, cash_flow, realized = build_books(fills, day, market, trading_days)
    commissions = sum(f.commission for f in fills if f.fill_date <= day)
    positions = _share_collateral(tuple(
        mark_position(c, b, day, market, rate, div_yield)
        for c, b in sorted(books.items(), key=lambda kv: (kv[0].expiry, kv[0].underlying, kv[0].right, kv[0].strike))
    ))
    cash = starting_cash + cash_flow
    market_value = sum(p.market_value for p in positions)
    collateral = collateral_by_group((p.contract, p.qty) for p in positions)  # type: ignore[misc]
    return AccountSummary(
        as_of=day,
        cash=cash,
        market_value=market_value,
        net_liquidation=cash + market_value,
        collateral_used=collateral,
        buying_power=cash - collateral,
        realized_pnl=realized - commissions,
        unrealized_pnl=sum(p.unrealized_pnl for p in positions),
        net_delta=sum(p.delta for p in positions),
        theta_per_day=sum(p.theta for p in positions),
        positions=positions,
    )


def equity_curve(
    fills: Sequence[Fill],
    days: Sequence[date],
    market: OptionQuoteSource,
    trading_days: Sequence[date],
    *,
    starting_cash: float,
    rate: float,
    div_yield: float = 0.0,
) -> list[tuple[date, float, float]]:
    """(day, net liquidation USD, total P&L USD) for each of ``days``."""
    out = []
    for d in days:
        s = account_summary(fills, d, market, trading_days, starting_cash=starting_cash, rate=rate, div_yield=div_yield)
        out.append((d, s.net_liquidation, s.net_liquidation - starting_cash))
    return out
