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
from dataclasses import asdict, dataclass
from datetime import date
from itertools import repeat
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

import numpy as np

from magnus_desktop.analytics.payoff import (
    CALL,
    PUT,
    SHARES,
    Exposure,
    breakevens_rows,
    collateral,
    collateral_below_strikes,
    profile_rows,
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
#: The largest ticket quantity (contracts or shares) the rules preview; a larger one is refused with
#: its own sentence (the batch computes in 64-bit integers; no listed order comes near it).
MAX_QTY = 10**9
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


class PositionChange(NamedTuple):
    """One contract the order trades: held before and after the fill (signed contracts or shares)."""

    contract: Contract
    before: int
    after: int


class TicketPreview(NamedTuple):
    """What a ticket would do to the account (USD unless stated). See the module rules.

    An immutable named tuple (a batch builds 10,000 of them in C, see :func:`preview_many`); use
    :meth:`as_dict` for a plain dict of it.

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

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, each position as ``{"contract": {...its fields}, "before", "after"}``
        (what ``dataclasses.asdict`` gave when this was a dataclass)."""
        out = self._asdict()
        out["positions"] = tuple({"contract": asdict(p.contract), "before": p.before, "after": p.after}
                                 for p in self.positions)
        return out

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
    return _Batch(AccountBook.of(account), quotes, commission_per_contract).run([ticket])[0]  # type: ignore[arg-type]


def preview_many(tickets: Iterable[Ticket], account: AccountSummary | AccountBook | None,
                 quotes: Mapping[Contract, LegQuote | None], *,
                 commission_per_contract: float = 0.0) -> list[TicketPreview]:
    """``[preview(t, account, quotes) for t in tickets]``, faster for many tickets.

    THE rules: :func:`preview` is ``preview_many([ticket])[0]``. The account is indexed once, each
    distinct contract's held quantity and quote looked up once, and the tickets are previewed as
    columns in one NumPy pass (see ``_Batch``); a ticket's figures do not depend on the other
    tickets. 10,000 mixed tickets take ~90 ms CPU (``benchmarks/bench_orders.py``); one ticket a
    few hundred µs. ``quotes`` must be a mapping by contract; the quotes and the account must not
    change while the call runs.

    Args:
        tickets: ``OrderTicket``/``ComboTicket`` values.
        account, quotes, commission_per_contract: as for :func:`preview`.

    Returns:
        One :class:`TicketPreview` per ticket, in order.
    """
    return _Batch(AccountBook.of(account), quotes, commission_per_contract).run(list(tickets))


_CONTRACT, _ACTION, _QTY, _TRADE_DATE, _LIMIT, _CURRENCY, _ORDER_TYPE, _EFFECT, _ORDER_REF, _STRATEGY = map(
    attrgetter, ("contract", "action", "qty", "trade_date", "limit_price", "currency", "order_type",
                 "position_effect", "order_ref", "strategy"))
#: The fields an ``OptionContract`` compares by (``con_id`` is not one).
_OPTION_KEY = attrgetter("underlying", "expiry", "strike", "right", "multiplier")
#: A day after every expiry (ordinal) for share legs, which never expire.
_NEVER = date.max.toordinal()


class _Batch:
    """One account book, one set of quotes and one commission rate; :meth:`run` previews many tickets.

    The tickets are laid out as columns, one row per leg (held quantity, bid/ask, multiplier, side,
    ratio...), per ticket, and per (ticket, underlying + expiry group) for the collateral, and the
    figures are NumPy array operations over them; max loss/profit, breakevens and collateral come
    from :func:`analytics.payoff.profile_rows` / :func:`~analytics.payoff.breakevens_rows`, which
    repeat :func:`~analytics.payoff.profile`'s float operations row by row, so a ticket's figures do
    not depend on the other tickets of the batch (``preview(t)`` is ``preview_many([t])[0]``).
    The problem sentences are written by the ``_problems`` functions below for every ticket that
    one of their checks may concern (wrong quantity, currency, quote, limit or order type, a
    position effect, shares, an uncovered call, buying power); a ticket none concerns has only its
    combo structure problems, written once per distinct (strategy, quantity, legs).

    Args:
        every_sentence: run the sentence functions on every ticket (tests compare both ways).
    """

    __slots__ = ("book", "quotes", "fee", "every_sentence", "_index", "_cols", "_groups", "_group_cols")

    def __init__(self, book: AccountBook, quotes: Mapping[Contract, LegQuote | None], fee: float, *,
                 every_sentence: bool = False) -> None:
        self.book = book
        self.quotes = quotes
        self.fee = fee
        self.every_sentence = every_sentence
        self._index: dict[object, int] = {}
        # per contract: held, bid, ask, known, multiplier, is option, group, right code, strike,
        # expiry ordinal, currency not USD
        self._cols: tuple[list, ...] = tuple([] for _ in range(11))  # type: ignore[type-arg]
        self._groups: dict[GroupKey, int] = {}
        # per group: underlying, held right codes, strikes, units, held slope, collateral, shares
        self._group_cols: tuple[list, ...] = tuple([] for _ in range(7))  # type: ignore[type-arg]

    def _add(self, contract: Contract) -> int:
        j = len(self._cols[0])
        quote = self.quotes.get(contract)
        bid = ask = math.nan
        if quote is not None:
            bid, ask = _fillable(quote.bid), _fillable(quote.ask)
        if isinstance(contract, OptionContract):
            key = (contract.underlying, contract.expiry)
            group = self._groups.get(key)
            if group is None:
                group = self._add_group(key)
            row = (contract.multiplier, True, group, _right_code(contract.right), contract.strike,
                   contract.expiry.toordinal(), False)
        else:
            row = (1, False, -1, SHARES, 0.0, _NEVER, contract.currency != ACCOUNT_CURRENCY)
        for col, value in zip(self._cols, (self.book.held.get(contract, 0), bid, ask, quote is not None, *row),
                              strict=True):
            col.append(value)
        return j

    def _add_group(self, key: GroupKey) -> int:
        book = self.book
        held = book.groups.get(key, ())
        g = self._groups[key] = len(self._group_cols[0])
        values = (key[0], [_right_code(r) for r, _k, _u in held], [k for _r, k, _u in held],
                  [u for _r, _k, u in held], slope_beyond(held), book.group_collateral(key),
                  book.shares.get(key[0], 0.0))
        for col, value in zip(self._group_cols, values, strict=True):
            col.append(value)
        return g

    def run(self, tickets: list[Ticket]) -> list[TicketPreview]:  # noqa: C901, PLR0915 - one pass of columns
        """The preview of each ticket, in order (see :func:`preview`)."""
        n = len(tickets)
        if not n:
            return []
        combo = [type(t) is ComboTicket or isinstance(t, ComboTicket) for t in tickets]
        # one row per leg; an OrderTicket stands for its one leg of ratio 1 (its .legs builds that leg anew)
        rows = [x for t, c in zip(tickets, combo, strict=True) for x in (t.legs if c else (t,))]  # type: ignore[attr-defined]
        nlegs = [len(t.legs) if c else 1 for t, c in zip(tickets, combo, strict=True)]  # type: ignore[union-attr]
        contracts: list[Contract] = list(map(_CONTRACT, rows))
        actions: list[str] = list(map(_ACTION, rows))
        ratios = [x.ratio if type(x) is OrderLeg else 1 for x in rows]
        try:  # an option's key is its fields' tuple, hashed in C (the dataclass hash and == are Python)
            keys: list[object] = list(map(_OPTION_KEY, contracts))
        except AttributeError:  # share legs: the contract is its own key
            keys = [_OPTION_KEY(c) if type(c) is OptionContract else c for c in contracts]
        index = self._index
        for key, contract in dict(zip(keys, contracts, strict=True)).items():
            if key not in index:
                index[key] = self._add(contract)
        cidx = list(map(index.__getitem__, keys))
        (c_held, c_bid, c_ask, c_known, c_mult, c_option, c_group, c_right, c_strike, c_expiry,
         c_ccy) = (np.array(col) for col in self._cols)
        lc = np.array(cidx, dtype=np.intp)
        is_combo = np.array(combo, dtype=bool)
        nl = np.array(nlegs, dtype=np.intp)
        lt = np.repeat(np.arange(n), nl)
        starts = np.cumsum(nl) - nl
        qtys = [q if isinstance(q, int) and 0 < q <= MAX_QTY else 0 for q in map(_QTY, tickets)]
        qty = np.array(qtys, dtype=np.int64)
        sell = np.array([a == "SELL" for a in actions], dtype=bool)
        held = c_held[lc].astype(np.int64)
        option = c_option[lc].astype(bool)
        mult = c_mult[lc].astype(np.int64)
        signed = qty[lt] * np.array(ratios, dtype=np.int64)
        signed = np.where(sell, -signed, signed)
        price = np.where(sell, c_bid[lc], c_ask[lc]).astype(float)
        after = held + signed
        closes = np.where(held * signed < 0, np.minimum(np.abs(held), np.abs(signed)), 0)
        opens = np.where(held * after >= 0, np.maximum(np.abs(after) - np.abs(held), 0), np.abs(after))
        units = np.abs(signed)
        cash = np.where(sell, price, -price)
        premium = np.bincount(lt, weights=cash * mult * units, minlength=n)
        net = np.bincount(lt, weights=cash * np.array(ratios, dtype=np.int64), minlength=n)
        commission = self.fee * np.bincount(lt, weights=np.where(option, units, 0), minlength=n)
        t_closes = np.bincount(lt, weights=closes, minlength=n).astype(np.int64)
        t_opens = np.bincount(lt, weights=opens, minlength=n).astype(np.int64)
        opened = opens > 0
        n_short = np.bincount(lt, weights=opened & (signed < 0), minlength=n)
        n_long = np.bincount(lt, weights=opened & (signed >= 0), minlength=n)
        sides = np.where((n_short > 0) & (n_long == 0), "short", np.where((n_long > 0) & (n_short == 0), "long", ""))
        expiry = c_expiry[lc]
        opened_options = opened & option
        first_expiry = np.full(n, _NEVER)
        last_expiry = np.zeros(n, dtype=np.int64)
        np.minimum.at(first_expiry, lt[opened_options], expiry[opened_options])
        np.maximum.at(last_expiry, lt[opened_options], expiry[opened_options])
        several = last_expiry > first_expiry

        coll_new, coll_freed, uncovered = self._collateral(n, lt, lc, option, signed, mult, c_group, c_right,
                                                           c_strike, contracts)
        loss, profit, evens = self._opened_risk(n, lt, lc, opened, signed, opens, mult, price, commission,
                                                c_right, c_strike)
        profit = np.where(several, math.nan, profit)
        bp = self.book.buying_power
        after_bp = bp + premium - commission - coll_new + coll_freed
        fill_price = np.where(is_combo, np.abs(net), price[starts])

        # which tickets a problem sentence may concern
        trade_dates = list(map(_TRADE_DATE, tickets))
        days = {d: d.toordinal() for d in set(trade_dates)}
        day = np.array(list(map(days.__getitem__, trade_dates)), dtype=np.int64)
        leg_flag = (option & (expiry < day[lt])) | ~c_known[lc].astype(bool) | np.isnan(price) | c_ccy[lc].astype(bool)
        stocks = ~option
        flag = (qty == 0) | (np.bincount(lt, weights=leg_flag | stocks, minlength=n) > 0)
        limits = list(map(_LIMIT, tickets))
        flag |= np.array(list(map(ACCOUNT_CURRENCY.__ne__, map(_CURRENCY, tickets)))) | np.array(
            list(map("MKT".__ne__, map(_ORDER_TYPE, tickets)))) | np.array(
            [not (type(x) is float and x != x) for x in limits]) | (~is_combo & np.array(  # noqa: PLR0124 - NaN
                list(map("auto".__ne__, map(_EFFECT, tickets)))))
        with np.errstate(invalid="ignore"):
            flag |= (after_bp < 0) & (after_bp < bp - CENT) & np.isfinite(after_bp)
        if uncovered:
            flag[list(uncovered)] = True
        if self.every_sentence:
            flag[:] = True
        t_stocks = np.bincount(lt, weights=stocks, minlength=n) > 0

        # back to Python values
        held_l, signed_l, price_l, after_l = held.tolist(), signed.tolist(), price.tolist(), after.tolist()
        closes_l, opens_l, known_l = closes.tolist(), opens.tolist(), c_known[lc].astype(bool).tolist()
        starts_l, nl_l, net_l, after_bp_l = starts.tolist(), nlegs, net.tolist(), after_bp.tolist()

        def legs_of(i: int) -> list[_Leg]:
            s = starts_l[i]
            return [_Leg(leg, signed_l[k], held_l[k], price_l[k], closes_l[k], opens_l[k], known_l[k])
                    for k, leg in enumerate(tickets[i].legs, s)]

        problems: list[tuple[str, ...]] = [()] * n
        for i in np.flatnonzero(flag).tolist():
            problems[i] = _problems(tickets[i], legs_of(i), qtys[i], net_l[i], self.book, after_bp_l[i],
                                    uncovered.get(i, {}), bool(t_stocks[i]))
        plain_combos = np.flatnonzero(is_combo & ~flag)
        if len(plain_combos):  # structure problems, once per (strategy, quantity, legs)
            width = int(nl[plain_combos].max())
            shape = np.full((len(plain_combos), 2 + 3 * width), -1, dtype=np.int64)
            strategies: dict[str, int] = {}
            shape[:, 0] = [strategies.setdefault(tickets[i].strategy, len(strategies)) for i in plain_combos.tolist()]
            shape[:, 1] = np.where(shape[:, 0] == strategies.get("roll", -1), qty[plain_combos], 0)  # only a roll's
            # problems depend on the quantity (against the held position)
            row_of = np.full(n, -1, dtype=np.intp)
            row_of[plain_combos] = np.arange(len(plain_combos))
            in_shape = row_of[lt] >= 0
            pos = (np.arange(len(lt)) - starts[lt])[in_shape]
            rows = row_of[lt][in_shape]
            shape[rows, 2 + 3 * pos] = lc[in_shape]
            shape[rows, 3 + 3 * pos] = sell[in_shape]
            shape[rows, 4 + 3 * pos] = np.array(ratios, dtype=np.int64)[in_shape]
            first, inverse = _unique_rows(shape)
            found = [_structure_problems(tickets[i], legs_of(i))  # type: ignore[arg-type]
                     for i in plain_combos[first].tolist()]
            for i, k in zip(plain_combos.tolist(), inverse.tolist(), strict=True):
                problems[i] = tuple(found[k])

        leg_prices = [tuple(price_l[s:s + k]) for s, k in zip(starts_l, nl_l, strict=True)]
        changes = list(map(tuple.__new__, repeat(PositionChange), zip(contracts, held_l, after_l, strict=True)))
        positions = [tuple(changes[s:s + k]) for s, k in zip(starts_l, nl_l, strict=True)]
        columns = (list(map(_ORDER_REF, tickets)), list(map(_STRATEGY, tickets)), fill_price.tolist(), net_l,
                   leg_prices, premium.tolist(), commission.tolist(), coll_new.tolist(), coll_freed.tolist(),
                   loss.tolist(), profit.tolist(), [() if s else e for s, e in zip(several.tolist(), evens, strict=True)],
                   [bp] * n, after_bp_l, positions, t_closes.tolist(), t_opens.tolist(), sides.tolist(), problems)
        return list(map(tuple.__new__, repeat(TicketPreview), zip(*columns, strict=True)))

    def _collateral(self, n: int, lt: np.ndarray, lc: np.ndarray, option: np.ndarray, signed: np.ndarray,
                    mult: np.ndarray, c_group: np.ndarray, c_right: np.ndarray, c_strike: np.ndarray,
                    contracts: list[Contract]) -> tuple[np.ndarray, np.ndarray, dict[int, dict[str, float]]]:
        """Per ticket: (collateral newly secured, collateral freed, {ticket: {underlying: short-call
        units not covered}}). One row per (ticket, group) the ticket's options touch, in leg order:
        the held group plus the ticket's legs, shares delivering (:func:`_covered_collateral`)."""
        legs = np.flatnonzero(option)
        if not len(legs):
            zero = np.zeros(n)
            return zero, np.where(0.0 > -zero, 0.0, -zero), {}
        (g_underlying, g_rights, g_strikes, g_units, g_slope, g_collateral, g_shares) = self._group_cols
        group = c_group[lc[legs]]
        key = lt[legs] * len(g_underlying) + group
        _u, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # rows in the order their first leg comes
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        row_of_leg = rank[inverse.reshape(-1)]
        row_ticket, row_group = lt[legs][first[order]], group[first[order]]
        rows = len(order)
        shares = np.array(g_shares, dtype=float)[row_group]
        stock_legs = np.flatnonzero(~option)
        if len(stock_legs):  # shares the same ticket trades deliver too
            change: dict[tuple[int, str], float] = {}
            for k in stock_legs.tolist():
                key2 = (int(lt[k]), contracts[k].symbol)  # type: ignore[union-attr]
                change[key2] = change.get(key2, 0.0) + int(signed[k])
            shares = np.array([s + change.get((t, g_underlying[g]), 0.0) for s, t, g in
                               zip(shares.tolist(), row_ticket.tolist(), row_group.tolist(), strict=True)])
        shares = np.where(0.0 > shares, 0.0, shares)
        right = c_right[lc[legs]]
        added_units = (signed[legs] * mult[legs]).astype(float)
        held_need = -np.array(g_slope, dtype=float)[row_group]
        need = held_need - np.bincount(row_of_leg, weights=np.where(right != PUT, added_units, 0.0), minlength=rows)
        deliver = (need > 0) & (shares > 0)
        # the exposures of each row: held (book order), the ticket's legs (leg order), delivered shares
        counts = np.array([len(r) for r in g_rights], dtype=np.intp)
        offsets = np.cumsum(counts) - counts
        h_count = counts[row_group]
        h_total = int(h_count.sum())
        h_row = np.repeat(np.arange(rows), h_count)
        h_index = np.repeat(offsets[row_group] - (np.cumsum(h_count) - h_count), h_count) + np.arange(h_total)
        d_rows = np.flatnonzero(deliver)
        e_row = np.concatenate([h_row, row_of_leg, d_rows])
        e_part = np.concatenate([np.zeros(h_total, np.intp), np.ones(len(legs), np.intp), np.full(len(d_rows), 2)])
        e_seq = np.concatenate([np.arange(h_total), legs, np.zeros(len(d_rows), np.intp)])
        e_right = np.concatenate([_flat(g_rights, np.int64)[h_index], right, np.full(len(d_rows), SHARES)])
        e_strike = np.concatenate([_flat(g_strikes, float)[h_index], c_strike[lc[legs]].astype(float),
                                   np.zeros(len(d_rows))])
        e_units = np.concatenate([_flat(g_units, float)[h_index], added_units,
                                  np.where(shares < need, shares, need)[d_rows]])
        sort = np.lexsort((e_seq, e_part, e_row))
        covered = self._worst(e_row[sort], e_right[sort], e_strike[sort], e_units[sort], np.zeros(rows), rows)
        covered = np.where(covered > 0.0, covered, 0.0)
        before = np.bincount(row_ticket, weights=np.array(g_collateral, dtype=float)[row_group], minlength=n)
        delta = np.bincount(row_ticket, weights=covered, minlength=n) - before
        uncovered: dict[int, dict[str, float]] = {}
        for r in np.flatnonzero((need > shares) & (need > held_need)).tolist():
            by = uncovered.setdefault(int(row_ticket[r]), {})
            u = g_underlying[int(row_group[r])]
            by[u] = by.get(u, 0.0) + float(need[r]) - float(shares[r])
        return np.where(0.0 > delta, 0.0, delta), np.where(0.0 > -delta, 0.0, -delta), uncovered

    @staticmethod
    def _worst(row: np.ndarray, right: np.ndarray, strike: np.ndarray, units: np.ndarray, cash: np.ndarray,
               rows: int, *, risk: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray, list[tuple[float, ...]]]:
        """Rows of exposures (``row`` ascending) → ``−min`` of each row's profile (collateral), or with
        ``risk`` (max loss, max profit, breakevens) counting ``cash``."""
        sizes = np.bincount(row, minlength=rows)
        offsets = np.cumsum(sizes) - sizes
        worst = np.zeros(rows)
        best = np.zeros(rows)
        evens: list[tuple[float, ...]] = [()] * rows
        for size in np.unique(sizes[sizes > 0]).tolist():
            these = np.flatnonzero(sizes == size)
            ix = offsets[these][:, None] + np.arange(size)
            prices, values, slope = profile_rows(right[ix], strike[ix], units[ix], cash[these])
            if not risk:
                worst[these] = -values.min(axis=1)
                continue
            worst[these] = -np.where(slope < 0, -math.inf, values.min(axis=1))
            best[these] = np.where(slope > 0, math.inf, values.max(axis=1))
            for r, e in zip(these.tolist(), breakevens_rows(prices, values, slope), strict=True):
                evens[r] = e
        return (worst, best, evens) if risk else worst

    def _opened_risk(self, n: int, lt: np.ndarray, lc: np.ndarray, opened: np.ndarray, signed: np.ndarray,
                     opens: np.ndarray, mult: np.ndarray, price: np.ndarray, commission: np.ndarray,
                     c_right: np.ndarray, c_strike: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[float, ...]]]:
        """Per ticket (max loss, max profit, breakevens) of the exposure it opens, commissions
        included; (0, 0, ()) when it opens nothing. The opened units of each leg: an option
        ``(right, strike, units × multiplier)``, shares ``("S", 0, units)``; cash −units × price × multiplier."""
        legs = np.flatnonzero(opened)
        units = np.where(signed[legs] > 0, opens[legs], -opens[legs])
        exposure = (units * mult[legs]).astype(float)
        row = lt[legs]
        cash = np.bincount(row, weights=-(units * price[legs] * mult[legs]), minlength=n) - commission
        loss, profit, evens = self._worst(row, c_right[lc[legs]], c_strike[lc[legs]].astype(float), exposure, cash,
                                          n, risk=True)
        return loss, profit, evens  # type: ignore[return-value]


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first row of each distinct row, the distinct row of every row) of a 2-D int array
    (``np.unique(axis=0)`` without its slow structured sort)."""
    order = np.lexsort(a.T[::-1])  # stable: equal rows keep their order
    ranked = a[order]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    inverse = np.empty(len(a), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _flat(cols: list[list[float]], dtype: type) -> np.ndarray:
    return np.array([x for col in cols for x in col], dtype=dtype)


def _right_code(right: str) -> int:
    return PUT if right == "P" else CALL if right == "C" else SHARES


def _fillable(price: float) -> float:
    """``price`` (USD per share) when a fill can happen at it, else NaN."""
    if isinstance(price, float | int) and math.isfinite(price) and price > 0:
        return price
    return math.nan


def _multiplier(contract: Contract) -> int:
    return contract.multiplier if isinstance(contract, OptionContract) else 1


# ---- problems -----------------------------------------------------------------------------------
def _problems(ticket: Ticket, legs: list[_Leg], qty: int, net: float, book: AccountBook, after: float,
              uncovered: dict[str, float], stocks: bool) -> tuple[str, ...]:
    """The problem sentences in a fixed order (``stocks``: some leg trades shares)."""
    out: list[str] = []
    if qty < 1:
        unit = "share" if all(isinstance(x.leg.contract, StockContract) for x in legs) else "contract"
        if isinstance(ticket.qty, int) and ticket.qty > MAX_QTY:
            out.append(f"Quantity {ticket.qty:,} is more than the {MAX_QTY:,} {unit}s a ticket can hold.")
        else:
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
