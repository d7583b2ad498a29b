"""THE order rules: what a ticket would do to an account, and why it cannot be sent (no Qt, no I/O).

:func:`preview` is the one rule set. The paper broker fills only a ticket whose preview has no
``problems`` (and refuses it with those sentences), ``OrderService`` refuses such a ticket before
any broker call, and the order ticket shows the same preview, so the ticket and the fill never
disagree.

Rules (a cash account; every amount USD, prices USD per share):
    * A sell fills at the bid, a buy at the ask, per leg; a combo fills all legs at one net price
      (credit > 0) or not at all. A limit is honoured (single leg: sell needs bid >= limit, buy
      needs ask <= limit; combo: natural net >= the signed limit), the fill is still at the quote.
    * Tick size of a limit (:func:`tick_size`): options quoted below $3.00 trade in $0.01 (penny
      classes) and from $3.00 in $0.05; the SPX family (SPX, SPXW, XSP) in $0.05 below $3.00 and
      $0.10 from $3.00 (Cboe SPX rules); stocks $0.01 from $1.00 and $0.0001 below (Reg NMS 612);
      a combo's net price $0.05 for the SPX family and $0.01 for other roots.
    * Collateral (:func:`collateral_by_group`): options of one underlying and expiry are netted;
      the cash secured is the worst value of the group at expiry (``analytics.payoff.collateral``):
      a short put strike × 100, a vertical credit spread width × 100, an iron condor the wider
      vertical × 100. The premium goes to cash, so a defined-risk combo's buying-power effect is
      its max loss.
    * A short call needs 100 covering shares per contract (or a long call of the same expiry, as
      in a vertical); selling stock short needs a margin account and is refused.
    * An order that lowers buying power must leave it >= 0 (an order that raises it, such as a
      close, is never refused for it, so a trader can always reduce risk).
    * Max loss, max profit and breakevens describe the exposure the order OPENS, at the expiry of
      its opened legs, counting the opened legs' premium and every commission: a short put
      (strike − credit) × 100; a vertical (width − credit) × 100 for a credit, debit × 100 for a
      debit; an iron condor (wider width − credit) × 100. Contracts an order closes realise their
      P&L and add no exposure, so a pure close has max loss 0 and a roll's figures are those of
      the leg it opens; the roll's net credit or debit is ``net_price``.
      Opened legs of several expiries (a calendar) have no single expiry to draw a payoff at: the
      max loss is the net debit and commissions (the far leg is worth at least the near leg's
      intrinsic value when the near leg expires), max profit and breakevens are NaN / none here
      (the payoff chart prices the far leg at the near expiry instead). Collateral stays per
      expiry: a calendar's short near put is cash-secured, its short near call needs shares.
    * Commission: ``commission_per_contract`` per option contract; stock tickets are previewed
      without commission (the setting is per option contract).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from magnus_desktop.analytics.payoff import (
    Exposure,
    breakevens_of,
    collateral,
    collateral_below_strikes,
    profile,
    slope_beyond,
)
from magnus_desktop.models.domain import (
    AccountSummary,
    ComboTicket,
    OptionContract,
    OrderLeg,
    OrderTicket,
    Ticket,
)
from magnus_desktop.models.market import StockContract

#: Rounding slack (USD) when comparing buying power before and after an order.
CENT = 0.005
#: Roots whose options follow the Cboe SPX tick rules.
SPX_FAMILY = frozenset({"SPX", "SPXW", "XSP"})
#: The currency every account here trades in.
ACCOUNT_CURRENCY = "USD"

Contract = OptionContract | StockContract
GroupKey = tuple[str, date]


class LegQuote(Protocol):
    """What a fill needs from a quote: ``bid``/``ask`` USD per share (NaN when not quoted)."""

    bid: float
    ask: float


@dataclass(frozen=True, slots=True)
class BidAsk:
    """A bare quote for :func:`preview`: ``bid``/``ask`` USD per share (NaN = not quoted)."""

    bid: float
    ask: float


@dataclass(frozen=True, slots=True)
class PositionChange:
    """One contract the order trades: held before and after the fill (signed contracts or shares)."""

    contract: Contract
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class TicketPreview:
    """What a ticket would do to the account (USD unless stated). See the module rules.

    Attributes:
        order_ref: the ticket's; strategy: ``"single"``, ``"vertical"``, ``"iron_condor"``, ``"roll"``,
            ``"calendar"``.
        fill_price: USD per share: a single leg's fill price (bid for a sell, ask for a buy); a
            combo's absolute net price; NaN when a leg has no quote.
        net_price: USD per share, signed as cash: + net credit, − net debit (a roll's net).
        leg_prices: fill price of each leg, USD per share, in ticket order.
        premium: cash from the fill, signed: + credit, − debit; Σ price × multiplier × units.
        commission: USD (>= 0).
        collateral: cash the order newly secures (>= 0); collateral_freed: cash it releases (>= 0).
        max_loss, max_profit: of the opened exposure incl. commissions (inf = unlimited); 0 when the
            order only closes; max_profit NaN when the opened legs expire on several days (a calendar).
        breakevens: underlying prices (USD per share) at expiry where the opened exposure breaks even
            (none for opened legs of several expiries).
        buying_power: before the order (NaN when unknown); buying_power_after: + premium −
            commission − collateral + collateral_freed.
        positions: each traded contract, held before → after.
        closes / opens: contracts (shares) the order closes / opens over all legs; opens_side
            "long"/"short"/"" (a single leg's side; "" for a mixed combo).
        problems: sentences saying why the ticket cannot be sent (empty = it can).
    """

    order_ref: str
    strategy: str
    fill_price: float
    net_price: float
    leg_prices: tuple[float, ...]
    premium: float
    commission: float
    collateral: float
    collateral_freed: float
    max_loss: float
    max_profit: float
    breakevens: tuple[float, ...]
    buying_power: float
    buying_power_after: float
    positions: tuple[PositionChange, ...]
    closes: int = 0
    opens: int = 0
    opens_side: str = ""
    problems: tuple[str, ...] = ()

    @property
    def credit(self) -> bool:
        return self.premium >= 0

    @property
    def buying_power_effect(self) -> float:
        """``buying_power_after − buying_power`` (USD; a defined-risk combo: −max loss)."""
        return self.premium - self.commission - self.collateral + self.collateral_freed

    @property
    def flips(self) -> bool:
        """True when a single-leg order closes a position and opens the opposite one (−1 → +1)."""
        return self.closes > 0 and self.opens > 0 and len(self.positions) == 1

    def describe_position_change(self) -> str:
        """"closes 1, opens 1 long" / "opens 2 short" / "closes 3"; "" for an empty order."""
        parts = [f"closes {self.closes}"] if self.closes else []
        if self.opens:
            parts.append(f"opens {self.opens} {self.opens_side}".rstrip())
        return ", ".join(parts)


# ---- the account as the rules see it ------------------------------------------------------------
class AccountBook:
    """Held quantities and collateral groups of an account, indexed once for many previews.

    Args:
        buying_power: USD (NaN = unknown: not checked).
        positions: (contract, signed qty) pairs; shares are ``StockContract`` positions.
    """

    __slots__ = ("buying_power", "held", "shares", "groups", "_group_collateral")

    def __init__(self, buying_power: float, positions: Iterable[tuple[Contract, float]]) -> None:
        self.buying_power = buying_power
        self.held: dict[Contract, int] = {}
        self.shares: dict[str, float] = {}
        self.groups: dict[GroupKey, list[Exposure]] = {}
        for contract, qty in positions:
            if not qty:
                continue
            if isinstance(contract, OptionContract):
                self.held[contract] = self.held.get(contract, 0) + int(qty)
                self.groups.setdefault((contract.underlying, contract.expiry), []).append(
                    (contract.right, contract.strike, qty * contract.multiplier))
            else:
                self.held[contract] = self.held.get(contract, 0) + int(qty)
                self.shares[contract.symbol] = self.shares.get(contract.symbol, 0.0) + qty
        self._group_collateral: dict[GroupKey, float] = {}

    @classmethod
    def of(cls, account: AccountSummary | AccountBook | None) -> AccountBook:
        """The book of an ``AccountSummary`` (``None``: an empty account of unknown buying power)."""
        if isinstance(account, AccountBook):
            return account
        if account is None:
            return cls(math.nan, ())
        return cls(account.buying_power, ((p.contract, p.qty) for p in account.positions))

    def group_collateral(self, key: GroupKey) -> float:
        """Collateral (USD) of one held group, shares covering its short calls (cached)."""
        value = self._group_collateral.get(key)
        if value is None:
            value = _covered_collateral(self.groups.get(key, ()), self.shares.get(key[0], 0.0))
            self._group_collateral[key] = value
        return value


def collateral_by_group(positions: Iterable[tuple[OptionContract, float]]) -> float:
    """Total collateral (USD) of option positions: each (underlying, expiry) group netted
    (:func:`analytics.payoff.collateral`), no shares. The demo account's ``collateral_used``."""
    book = AccountBook(math.nan, positions)
    return sum(book.group_collateral(key) for key in book.groups)


def _covered_collateral(exposures: Iterable[Exposure], shares: float) -> float:
    exposures = list(exposures)
    if not exposures:
        return 0.0
    need = -slope_beyond(exposures)
    if need > 0 and shares > 0:  # held shares deliver against the short calls
        exposures.append(("S", 0.0, min(need, shares)))
    if need > shares:  # an uncovered short call: its unlimited upside is a problem, not a cash amount
        return collateral_below_strikes(exposures)
    return collateral(exposures)


# ---- tick size ----------------------------------------------------------------------------------
def tick_size(contract: Contract, price: float, *, combo: bool = False) -> float:
    """Minimum price increment (USD per share) of a limit at ``price`` (see the module rules)."""
    if isinstance(contract, StockContract):
        return 0.01 if price >= 1.0 else 0.0001
    spx = contract.underlying.upper() in SPX_FAMILY
    if combo:
        return 0.05 if spx else 0.01
    if spx:
        return 0.05 if price < 3.0 else 0.10
    return 0.01 if price < 3.0 else 0.05


def on_tick(price: float, tick: float) -> bool:
    """``price`` is a whole multiple of ``tick`` (to 1e-9 USD)."""
    return abs(price / tick - round(price / tick)) < 1e-6


# ---- the preview --------------------------------------------------------------------------------
@dataclass(slots=True)
class _Leg:
    leg: OrderLeg
    signed: int
    held: int
    price: float
    closes: int
    opens: int
    known: bool = True


def preview(ticket: Ticket, account: AccountSummary | AccountBook | None,
            quotes: Mapping[Contract, LegQuote | None] | LegQuote | None, *,
            commission_per_contract: float = 0.0) -> TicketPreview:
    """What ``ticket`` would do to ``account`` when filled at ``quotes``, and its problems.

    Args:
        ticket: an ``OrderTicket`` (one stock or option) or a ``ComboTicket``.
        account: the account's positions and buying power (``AccountSummary`` as marked at the
            ticket's day, or a prebuilt :class:`AccountBook`); None = empty, buying power unknown.
        quotes: each leg's quote by contract (anything with ``bid``/``ask`` USD per share, NaN =
            not quoted; a contract absent or None = unknown to the market data). A single-leg
            ticket may pass its one quote.
        commission_per_contract: USD per option contract.

    Returns:
        The :class:`TicketPreview`; ``problems`` empty when the ticket can be sent.
    """
    if quotes is None or hasattr(quotes, "bid"):
        quotes = {ticket.legs[0].contract: quotes}  # type: ignore[dict-item]
    return _Batch(AccountBook.of(account), quotes, commission_per_contract).preview(ticket)  # type: ignore[arg-type]


def preview_many(tickets: Iterable[Ticket], account: AccountSummary | AccountBook | None,
                 quotes: Mapping[Contract, LegQuote | None], *,
                 commission_per_contract: float = 0.0) -> list[TicketPreview]:
    """``[preview(t, account, quotes) for t in tickets]``, faster for many tickets.

    The account is indexed once, each contract's held quantity and fill prices are looked up once,
    and the collateral and risk of an exposure set met before are reused (the figures are the
    same as :func:`preview`'s, field for field). ``quotes`` must be a mapping by contract; the
    quotes and the account must not change while the call runs.

    Args:
        tickets: ``OrderTicket``/``ComboTicket`` values.
        account, quotes, commission_per_contract: as for :func:`preview`.

    Returns:
        One :class:`TicketPreview` per ticket, in order.
    """
    batch = _Batch(AccountBook.of(account), quotes, commission_per_contract)
    return [batch.preview(t) for t in tickets]


#: Per contract: (held, bid, ask, known, multiplier, is_option); bid/ask NaN when not fillable.
_ContractFill = tuple[int, float, float, bool, int, bool]


class _Batch:
    """One account book, one set of quotes and one commission rate for one or many previews.

    Memoises per contract (held quantity, fill prices) and per exposure set (collateral, opened
    max loss/profit/breakevens): pure functions of their keys, so a memo hit returns exactly the
    figures a fresh computation would.
    """

    __slots__ = ("book", "quotes", "fee", "_fills", "_held_need", "_covered", "_risk")

    def __init__(self, book: AccountBook, quotes: Mapping[Contract, LegQuote | None], fee: float) -> None:
        self.book = book
        self.quotes = quotes
        self.fee = fee
        self._fills: dict[Contract, _ContractFill] = {}
        self._held_need: dict[GroupKey, float] = {}
        self._covered: dict[tuple[GroupKey, tuple[Exposure, ...], float], tuple[float, float]] = {}
        self._risk: dict[tuple[tuple[Exposure, ...], float], tuple[float, float, tuple[float, ...]]] = {}

    def _fill_of(self, contract: Contract) -> _ContractFill:
        quote = self.quotes.get(contract)
        bid = ask = math.nan
        if quote is not None:
            bid, ask = _fillable(quote.bid), _fillable(quote.ask)
        option = isinstance(contract, OptionContract)
        mult = contract.multiplier if option else 1  # type: ignore[union-attr]
        fill = (self.book.held.get(contract, 0), bid, ask, quote is not None, mult, option)
        self._fills[contract] = fill
        return fill

    def preview(self, ticket: Ticket) -> TicketPreview:
        qty = ticket.qty if isinstance(ticket.qty, int) and ticket.qty > 0 else 0
        fills = self._fills
        legs: list[_Leg] = []
        options = closes = opens = 0
        premium = net = 0.0
        stocks = False
        for leg in ticket.legs:
            held, bid, ask, known, mult, option = fills.get(leg.contract) or self._fill_of(leg.contract)
            sell = leg.action == "SELL"
            signed = -qty * leg.ratio if sell else qty * leg.ratio
            price = bid if sell else ask
            after = held + signed
            leg_closes = min(abs(held), abs(signed)) if held * signed < 0 else 0
            leg_opens = max(abs(after) - abs(held), 0) if held * after >= 0 else abs(after)
            legs.append(_Leg(leg, signed, held, price, leg_closes, leg_opens, known))
            units = abs(signed)
            if option:
                options += units
            else:
                stocks = True
            cash = price if sell else -price
            premium += cash * mult * units
            net += cash * leg.ratio
            closes += leg_closes
            opens += leg_opens
        commission = self.fee * options
        book = self.book
        coll_new, coll_freed, uncovered = self._collateral_change(legs)
        loss, profit, evens = self._opened_risk(legs, commission)
        if _several_expiries(legs):
            profit, evens = math.nan, ()
        bp = book.buying_power
        after_bp = bp + premium - commission - coll_new + coll_freed
        fill_price = abs(net) if isinstance(ticket, ComboTicket) else legs[0].price
        problems = _problems(ticket, legs, qty, net, book, after_bp, uncovered, stocks)
        return TicketPreview(ticket.order_ref, ticket.strategy, fill_price, net, tuple([x.price for x in legs]),
                             premium, commission, coll_new, coll_freed, loss, profit, evens, bp, after_bp,
                             tuple([PositionChange(x.leg.contract, x.held, x.held + x.signed) for x in legs]),
                             closes, opens, _opens_side(legs), problems)

    def _opened_risk(self, legs: list[_Leg], commission: float) -> tuple[float, float, tuple[float, ...]]:
        """(max loss, max profit, breakevens) of the opened exposure, commissions included."""
        exposures, cash = _opened_exposures(legs)
        if not exposures:
            return 0.0, 0.0, ()
        cash -= commission
        key = (tuple(exposures), cash)
        risk = self._risk.get(key) if cash else None  # 0.0 and -0.0 share a key: not memoised
        if risk is None:
            prices, values, slope = profile(exposures, cash)
            low = -math.inf if slope < 0 else min(values)
            high = math.inf if slope > 0 else max(values)
            risk = self._risk[key] = (-low, high, breakevens_of(prices, values, slope))
        return risk

    def _collateral_change(self, legs: list[_Leg]) -> tuple[float, float, dict[str, float]]:
        """(collateral newly secured, collateral freed, {underlying: short-call units not covered})."""
        book = self.book
        touched: dict[GroupKey, list[Exposure]] = {}
        share_change: dict[str, float] = {}
        for x in legs:
            c = x.leg.contract
            if isinstance(c, OptionContract):
                key = (c.underlying, c.expiry)
                added = touched.get(key)
                if added is None:
                    added = touched[key] = []
                added.append((c.right, c.strike, float(x.signed * c.multiplier)))
            else:
                share_change[c.symbol] = share_change.get(c.symbol, 0.0) + x.signed
        before = after = 0.0
        uncovered: dict[str, float] = {}
        for key, added in touched.items():
            shares = book.shares.get(key[0], 0.0) + share_change.get(key[0], 0.0)
            before += book.group_collateral(key)
            held_need = self._held_need.get(key)
            if held_need is None:
                held_need = self._held_need[key] = -slope_beyond(book.groups.get(key, ()))
            need, covered = self._covered_of(key, added, max(shares, 0.0))
            if need > max(shares, 0.0) and need > held_need:  # the order adds an uncovered short call
                uncovered[key[0]] = uncovered.get(key[0], 0.0) + need - max(shares, 0.0)
            after += covered
        delta = after - before
        return max(delta, 0.0), max(-delta, 0.0), uncovered

    def _covered_of(self, key: GroupKey, added: list[Exposure], shares: float) -> tuple[float, float]:
        """Of the held group ``key`` plus the ``added`` exposures: (short-call units not covered by
        calls, collateral USD with ``shares`` delivering)."""
        memo_key = (key, tuple(added), shares)
        found = self._covered.get(memo_key)
        if found is None:
            exposures = list(self.book.groups.get(key, ()))
            exposures += added
            found = self._covered[memo_key] = (-slope_beyond(exposures), _covered_collateral(exposures, shares))
        return found


def _fillable(price: float) -> float:
    """``price`` (USD per share) when a fill can happen at it, else NaN."""
    if isinstance(price, float | int) and math.isfinite(price) and price > 0:
        return price
    return math.nan


def _multiplier(contract: Contract) -> int:
    return contract.multiplier if isinstance(contract, OptionContract) else 1


def _opens_side(legs: list[_Leg]) -> str:
    sides = {("short" if x.signed < 0 else "long") for x in legs if x.opens}
    return sides.pop() if len(sides) == 1 else ""


def _several_expiries(legs: list[_Leg]) -> bool:
    """The opened option legs expire on different days (a calendar): no single payoff at expiry."""
    expiries = {x.leg.contract.expiry for x in legs if x.opens and isinstance(x.leg.contract, OptionContract)}
    return len(expiries) > 1


def _opened_exposures(legs: list[_Leg]) -> tuple[list[Exposure], float]:
    """The exposure the order opens, and the premium (USD, signed as cash) of the opened units."""
    exposures: list[Exposure] = []
    cash = 0.0
    for x in legs:
        if not x.opens:
            continue
        units = x.opens if x.signed > 0 else -x.opens
        c = x.leg.contract
        if isinstance(c, OptionContract):
            exposures.append((c.right, c.strike, units * c.multiplier))
            cash -= units * x.price * c.multiplier
        else:
            exposures.append(("S", 0.0, float(units)))
            cash -= units * x.price
    return exposures, cash


# ---- problems -----------------------------------------------------------------------------------
def _problems(ticket: Ticket, legs: list[_Leg], qty: int, net: float, book: AccountBook, after: float,
              uncovered: dict[str, float], stocks: bool) -> tuple[str, ...]:
    """The problem sentences in a fixed order (``stocks``: some leg trades shares)."""
    out: list[str] = []
    if qty < 1:
        unit = "share" if all(isinstance(x.leg.contract, StockContract) for x in legs) else "contract"
        out.append(f"Quantity must be a whole number of at least 1 {unit}; got {ticket.qty!r}.")
    if ticket.currency != ACCOUNT_CURRENCY or stocks and any(
            isinstance(x.leg.contract, StockContract) and x.leg.contract.currency != ACCOUNT_CURRENCY for x in legs):
        currency = next((x.leg.contract.currency for x in legs if isinstance(x.leg.contract, StockContract)
                         and x.leg.contract.currency != ACCOUNT_CURRENCY), ticket.currency)
        out.append(f"This account trades in {ACCOUNT_CURRENCY} only; the ticket is in {currency}.")
    quoted = _quote_problems(ticket, legs, out)
    _limit_problems(ticket, legs, net, quoted, out)
    if isinstance(ticket, ComboTicket):
        out.extend(_structure_problems(ticket, legs))
    elif qty and ticket.position_effect != "auto":
        out.extend(_effect_problems(ticket, legs[0]))
    if uncovered or stocks:
        out.extend(_cover_problems(legs, book, uncovered))
    bp = book.buying_power
    if after < 0 and after < bp - CENT and math.isfinite(after):
        out.append(_buying_power_problem(legs, bp, after))
    return tuple(out)


def _quote_problems(ticket: Ticket, legs: list[_Leg], out: list[str]) -> bool:
    """Expired, unknown or unquoted legs; True when every leg has a price to fill at."""
    day = ticket.trade_date
    ok = True
    for x in legs:
        c = x.leg.contract
        if isinstance(c, OptionContract) and c.expiry < day:
            out.append(f"{_describe(c)} expired on {c.expiry:%Y-%m-%d}.")
            ok = False
        elif not x.known:
            out.append(f"{_describe(c)} is not a contract the active market data knows on {day:%Y-%m-%d}: "
                       "check the underlying, expiry, strike and right.")
            ok = False
        elif x.price != x.price:  # NaN: not quoted on that side
            side = "bid" if x.leg.action == "SELL" else "ask"
            out.append(f"No recorded {side} for {_describe(c)} on {day:%Y-%m-%d}: nothing to fill against.")
            ok = False
    return ok


def _limit_problems(ticket: Ticket, legs: list[_Leg], net: float, quoted: bool, out: list[str]) -> None:
    limit = ticket.limit_price
    if ticket.order_type == "MKT":
        if not (isinstance(limit, float | int) and math.isnan(limit)):
            out.append(f"A market order takes no limit price (got {limit!r}); choose a limit order for a limit.")
        return
    if ticket.order_type != "LMT":
        out.append(f"Order type must be MKT or LMT, not {ticket.order_type!r}.")
        return
    if not (isinstance(limit, float | int) and math.isfinite(limit)):
        out.append(f"The limit price must be a finite number of USD per share; got {limit!r}.")
        return
    combo = isinstance(ticket, ComboTicket)
    if not combo and limit <= 0:
        out.append(f"The limit price must be above $0.00 per share; got {limit:.2f}.")
        return
    tick = tick_size(legs[0].leg.contract, abs(limit), combo=combo)
    if not on_tick(abs(limit), tick):
        what = "a net price" if combo else f"{_describe(legs[0].leg.contract)} at {abs(limit):.2f}"
        out.append(f"Limit {limit:.4f} is off the tick size: {what} trades in steps of ${tick:g}.")
        return
    if not quoted:
        return
    if combo:
        if net < limit - 1e-9:
            got = f"credit {net:.2f}" if net >= 0 else f"debit {-net:.2f}"
            want = f"credit of at least {limit:.2f}" if limit >= 0 else f"debit of at most {-limit:.2f}"
            out.append(f"The natural net {got} misses your limit ({want}): it would not fill.")
        return
    x = legs[0]
    if x.price < limit if x.leg.action == "SELL" else x.price > limit:
        side, relation = ("Bid", "below") if x.leg.action == "SELL" else ("Ask", "above")
        out.append(f"{side} {x.price:.2f} is {relation} your limit {limit:.2f}: it would not fill.")


def _effect_problems(ticket: OrderTicket, x: _Leg) -> list[str]:
    """Buy/sell to open/close against what the account holds."""
    label = _describe(x.leg.contract)
    verb = "Buy" if x.leg.action == "BUY" else "Sell"
    if ticket.position_effect == "close":
        side = "short" if x.leg.action == "BUY" else "long"
        if x.closes == 0:
            return [f"{verb} to close needs a {side} position in {label}; the account holds {x.held:+d}."]
        if x.opens:
            return [f"{verb} to close {abs(x.signed)} exceeds the {abs(x.held)} {side} held in {label}."]
    elif ticket.position_effect == "open" and x.closes:
        return [f"{verb} to open would close {x.closes} of the {x.held:+d} held in {label}; "
                f"use {verb.lower()} to close."]
    return []


def _cover_problems(legs: list[_Leg], book: AccountBook, uncovered: dict[str, float]) -> list[str]:
    out = []
    for underlying, units in uncovered.items():
        x = next(x for x in legs if isinstance(x.leg.contract, OptionContract)
                 and x.leg.contract.underlying == underlying)
        held = book.shares.get(underlying, 0.0)
        label = _describe(x.leg.contract)
        m = _multiplier(x.leg.contract)
        out.append(f"A short call must be a covered call: it needs {m} covering shares of {underlying} per "
                   f"contract, {units:,.0f} more than the {held:,.0f} held, for {label}. "
                   + ("Sell cash-secured puts instead." if underlying.upper() in SPX_FAMILY else
                      f"Buy {units:,.0f} shares of {underlying} first, or sell a put instead."))
    for x in legs:
        c = x.leg.contract
        if isinstance(c, StockContract) and x.signed < 0 and x.opens:
            out.append(f"Selling {x.opens:,} shares of {c.symbol} short needs a margin account; this account "
                       f"trades cash only (it holds {x.held:,} shares).")
    return out


def _buying_power_problem(legs: list[_Leg], bp: float, after: float) -> str:
    shorts = [x for x in legs if x.opens and x.signed < 0 and isinstance(x.leg.contract, OptionContract)]
    if len(legs) == 1 and shorts and shorts[0].leg.contract.right == "P":  # type: ignore[union-attr]
        c = shorts[0].leg.contract
        needed = c.strike * c.multiplier * shorts[0].opens  # type: ignore[union-attr]
        return (f"Not enough buying power: a cash-secured put needs ${needed:,.0f} of collateral, "
                f"${needed + after:,.0f} is available after the premium.")
    return f"Not enough buying power: ${bp - after:,.2f} needed, ${bp:,.2f} available."


def _structure_problems(ticket: ComboTicket, legs: list[_Leg]) -> list[str]:
    """The legs form the combo the ticket names."""
    first = legs[0].leg.contract
    one_underlying = one_expiry = ratio_one = True
    for x in legs:
        c = x.leg.contract
        if not isinstance(c, OptionContract):
            return [f"A {ticket.strategy.replace('_', ' ')} is made of options only."]
        one_underlying = one_underlying and c.underlying == first.underlying  # type: ignore[union-attr]
        one_expiry = one_expiry and c.expiry == first.expiry  # type: ignore[union-attr]
        ratio_one = ratio_one and x.leg.ratio == 1
    name = ticket.strategy.replace("_", " ")
    if not one_underlying:
        underlyings = sorted({x.leg.contract.underlying for x in legs})  # type: ignore[union-attr]
        return [f"All legs of a {name} must be on one underlying; got {', '.join(underlyings)}."]
    if not ratio_one:
        return [f"Every leg of a {name} trades one contract per combo (ratio 1)."]
    if ticket.strategy == "roll":
        return _roll_problems(legs)
    if ticket.strategy == "calendar":
        return _calendar_problems(legs)
    if not one_expiry:
        return [f"All legs of a {name} must share one expiry."]
    if ticket.strategy == "vertical":
        return _vertical_problems(legs, name)
    if ticket.strategy == "iron_condor":
        return _condor_problems(legs)
    return [f"Unknown combo {ticket.strategy!r}: a combo is a vertical, an iron condor, a roll or a calendar."]


def _vertical_problems(legs: list[_Leg], name: str = "vertical") -> list[str]:
    if len(legs) != 2:
        return [f"A {name} has 2 legs; got {len(legs)}."]
    a, b = legs[0].leg, legs[1].leg
    if a.contract.right != b.contract.right:  # type: ignore[union-attr]
        return [f"Both legs of a {name} are calls or both are puts."]
    if a.contract.strike == b.contract.strike:  # type: ignore[union-attr]
        return [f"The legs of a {name} need two different strikes."]
    if a.action == b.action:
        return [f"A {name} buys one leg and sells the other."]
    return []


def _condor_problems(legs: list[_Leg]) -> list[str]:
    if len(legs) != 4:
        return [f"An iron condor has 4 legs; got {len(legs)}."]
    puts = [x for x in legs if x.leg.contract.right == "P"]  # type: ignore[union-attr]
    calls = [x for x in legs if x.leg.contract.right == "C"]  # type: ignore[union-attr]
    if len(puts) != 2 or len(calls) != 2:
        return ["An iron condor is a put vertical and a call vertical (2 puts, 2 calls)."]
    for side, pair in (("put", puts), ("call", calls)):
        problems = _vertical_problems(pair, f"{side} vertical of an iron condor")
        if problems:
            return problems
    # each pair now has one SELL and one BUY leg: (sold strike, bought strike) per side
    p0, p1 = puts[0].leg, puts[1].leg
    c0, c1 = calls[0].leg, calls[1].leg
    put_sold, put_bought = (p0, p1) if p0.action == "SELL" else (p1, p0)
    call_sold, call_bought = (c0, c1) if c0.action == "SELL" else (c1, c0)
    if max(p0.contract.strike, p1.contract.strike) > min(c0.contract.strike, c1.contract.strike):  # type: ignore[union-attr]
        return ["The put strikes of an iron condor must lie at or below its call strikes."]
    short_put_inside = put_sold.contract.strike > put_bought.contract.strike  # type: ignore[union-attr]
    short_call_inside = call_sold.contract.strike < call_bought.contract.strike  # type: ignore[union-attr]
    if short_put_inside != short_call_inside:
        return ["Both verticals of an iron condor must be sold (short condor) or both bought (long condor)."]
    return []


def _calendar_problems(legs: list[_Leg]) -> list[str]:
    if len(legs) != 2:
        return [f"A calendar has 2 legs (sell the near expiry, buy the far one); got {len(legs)}."]
    near, far = legs[0].leg, legs[1].leg
    a: OptionContract = near.contract  # type: ignore[assignment]
    b: OptionContract = far.contract  # type: ignore[assignment]
    if a.right != b.right or a.strike != b.strike:
        return ["Both legs of a calendar are the same right at the same strike."]
    if not a.expiry < b.expiry:
        return [f"A calendar sells the nearer expiry first: {a.describe()} must expire before {b.describe()}."]
    if near.action != "SELL" or far.action != "BUY":
        return ["A calendar sells the near expiry and buys the far one."]
    return []


def _roll_problems(legs: list[_Leg]) -> list[str]:
    if len(legs) != 2:
        return [f"A roll has 2 legs (close, then open); got {len(legs)}."]
    close, new = legs
    old_c: OptionContract = close.leg.contract  # type: ignore[assignment]
    new_c: OptionContract = new.leg.contract  # type: ignore[assignment]
    if old_c.right != new_c.right:
        return ["A roll keeps the right: both legs are calls or both are puts."]
    if close.leg.action == new.leg.action:
        return ["A roll buys one leg and sells the other (close, then open)."]
    if close.held == 0 or close.closes < abs(close.signed):
        side = "short" if close.leg.action == "BUY" else "long"
        return [f"A roll closes a held position: {abs(close.signed)} {side} {old_c.describe()} needed, "
                f"the account holds {close.held:+d}."]
    if new_c.expiry < old_c.expiry:
        return [f"A roll moves to a later expiry: {new_c.describe()} expires {new_c.expiry:%Y-%m-%d}, before "
                f"{old_c.describe()} ({old_c.expiry:%Y-%m-%d})."]
    if new_c.expiry == old_c.expiry and new_c.strike == old_c.strike:
        return ["A roll changes the expiry or the strike; both legs are the same contract."]
    return []


def _describe(contract: Contract) -> str:
    return contract.describe() if isinstance(contract, OptionContract) else f"{contract.symbol} shares"


def quotes_needed(ticket: Ticket) -> tuple[Contract, ...]:
    """The contracts whose quotes :func:`preview` needs, in leg order."""
    return tuple(leg.contract for leg in ticket.legs)


__all__ = ["AccountBook", "BidAsk", "PositionChange", "TicketPreview", "collateral_by_group", "on_tick", "preview",
           "preview_many",
           "quotes_needed", "tick_size"]
