"""``rules.preview_many`` (the bulk path the orders benchmark uses) equals ``rules.preview`` ticket
by ticket, field for field, on the benchmark's tickets (real SPXW quotes of 2018-01-02: single legs,
verticals, iron condors, rolls, with and without problems), on hand-made odd tickets and on random
books and tickets of every kind; and that the sentence gate of the batch (problem sentences written only
for tickets a check may concern) gives what writing every ticket's sentences gives."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg, OrderTicket
from magnus_desktop.models.market import StockContract
from magnus_desktop.services.orders.rules import (
    AccountBook,
    BidAsk,
    TicketPreview,
    _Batch,
    preview,
    preview_many,
)

FEE = 0.65


def _same(a: TicketPreview, b: TicketPreview) -> list[str]:
    """Fields that differ (repr, so NaN == NaN and 0.0 != -0.0)."""
    return [f for f in TicketPreview._fields if repr(getattr(a, f)) != repr(getattr(b, f))]


def test_preview_many_equals_preview_on_the_benchmark_tickets() -> None:
    from benchmarks.bench_orders import _tickets

    tickets, book, quotes = _tickets(2_000)
    many = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    single = [preview(t, book, quotes, commission_per_contract=FEE) for t in tickets]
    assert len(many) == len(tickets)
    assert [(t.order_ref, _same(a, b)) for t, a, b in zip(tickets, many, single, strict=True) if _same(a, b)] == []
    assert {p.strategy for p in many} == {"single", "vertical", "iron_condor", "roll"}
    with_problems = [p for p in many if p.problems]
    assert with_problems and len(with_problems) < len(many)


def test_preview_many_equals_preview_on_odd_tickets() -> None:
    day, jan31, feb28 = date(2018, 1, 2), date(2018, 1, 31), date(2018, 2, 28)
    put, put2 = OptionContract("SPXW", jan31, 2600.0, "P"), OptionContract("SPXW", jan31, 2550.0, "P")
    call, later = OptionContract("AAPL", jan31, 180.0, "C"), OptionContract("SPXW", feb28, 2600.0, "P")
    shares = StockContract("AAPL")
    quotes = {put: BidAsk(5.7, 5.9), put2: BidAsk(3.1, 3.3), call: BidAsk(1.1, 1.3), later: BidAsk(9.0, 9.4),
              shares: BidAsk(170.0, 170.1)}
    book = AccountBook(50_000.0, [(put, -1), (shares, 100.0)])
    tickets = [
        OrderTicket(put, "SELL", 1, math.nan, "a", day),
        OrderTicket(put, "BUY", 3, math.nan, "b", day, position_effect="close"),  # flips: closes 1, opens 2
        OrderTicket(call, "SELL", 2, 1.1, "c", day),  # 100 shares cover 1 of 2 calls
        OrderTicket(shares, "SELL", 150, math.nan, "d", day),  # short stock in a cash account
        OrderTicket(put, "SELL", 0, math.nan, "e", day),  # quantity 0
        OrderTicket(put, "SELL", 1, 5.73, "f", day),  # off the tick
        OrderTicket(OptionContract("SPXW", jan31, 1234.0, "P"), "SELL", 1, math.nan, "g", day),  # unknown
        ComboTicket("vertical", (OrderLeg(put, "SELL"), OrderLeg(put2, "BUY")), 2, 2.5, "h", day),
        ComboTicket("roll", (OrderLeg(put, "BUY"), OrderLeg(later, "SELL")), 1, math.nan, "i", day),
        ComboTicket("roll", (OrderLeg(put, "BUY"), OrderLeg(later, "SELL")), 2, math.nan, "j", day),  # > held
        ComboTicket("iron_condor", (OrderLeg(put2, "BUY"), OrderLeg(put, "SELL")), 1, math.nan, "k", day),
        ComboTicket("vertical", (OrderLeg(put, "SELL"), OrderLeg(call, "BUY")), 1, math.nan, "l", day),
    ]
    many = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    single = [preview(t, book, quotes, commission_per_contract=FEE) for t in tickets]
    assert [(t.order_ref, _same(a, b)) for t, a, b in zip(tickets, many, single, strict=True) if _same(a, b)] == []
    assert sum(bool(p.problems) for p in many) >= 8


@pytest.mark.parametrize("repeat", [2])
def test_a_repeated_exposure_set_gives_the_same_figures_as_a_fresh_batch(repeat: int) -> None:
    """A ticket repeated in a batch gets what a fresh batch of one gives it."""
    day = date(2018, 1, 2)
    put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
    book = AccountBook(1e6, [])
    quotes = {put: BidAsk(5.7, 5.9)}
    tickets = [OrderTicket(put, "SELL", 2, math.nan, f"r{i}", day) for i in range(repeat)]
    first, second = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    fresh = preview(tickets[1], book, quotes, commission_per_contract=FEE)
    assert _same(second, fresh) == [] and _same(first, second) == ["order_ref"]


def _random_case(rng: random.Random, n: int) -> tuple[list, AccountBook, dict]:  # type: ignore[type-arg]
    """``n`` random tickets of every kind on two underlyings and four expiries (one already past),
    against a random book (short and long options, shares or none) and random quotes (some legs
    unquoted or unknown): single options buy/sell to open/close, market and limit (on and off the
    tick, NaN), shares, verticals, iron condors, rolls, calendars, a covered call as a combo with its
    shares, a few tickets in EUR."""
    day = date(2018, 1, 2)
    expiries = (date(2017, 12, 15), date(2018, 1, 19), date(2018, 2, 16), date(2018, 3, 16))
    strikes = {"AAPL": [147.3, *(150.0 + 5 * i for i in range(7))], "SPXW": [2500.0 + 25 * i for i in range(8)]}
    contracts = [OptionContract(u, e, k, r) for u, ks in strikes.items() for e in expiries for k in ks for r in "PC"]
    shares = StockContract("AAPL")
    quotes: dict = {}  # type: ignore[type-arg]
    for c in [*contracts, shares]:
        if rng.random() < 0.9:  # some contracts unknown to the market data
            bid = round(rng.uniform(0.0, 12.0), 2) if rng.random() < 0.95 else math.nan  # some unquoted sides
            quotes[c] = BidAsk(bid, round((bid if bid == bid else 1.0) + rng.uniform(0.05, 0.6), 2))
    held = [(c, rng.choice((-2, -1, 1, 3))) for c in rng.sample(contracts, 12)]
    book = AccountBook(rng.choice((math.nan, 5_000.0, 250_000.0)), [*held, (shares, rng.choice((0.0, 100.0, 350.0)))])

    def one(i: int):  # type: ignore[no-untyped-def]
        qty = rng.choice((1, 1, 2, 3, 5, 0))
        u, e = rng.choice(tuple(strikes)), rng.choice(expiries)
        ks = strikes[u]
        kind = rng.randrange(7)
        limit = math.nan if rng.random() < 0.6 else round(rng.uniform(-4, 6) / 0.05) * 0.05
        currency = "EUR" if rng.random() < 0.03 else "USD"
        if kind == 0:
            c = rng.choice(contracts)
            explicit = {"order_type": "LMT"} if limit != limit and rng.random() < 0.1 else {}  # a limit order, NaN
            return OrderTicket(c, rng.choice(("BUY", "SELL")), qty, abs(limit) if limit == limit else limit, f"s{i}", day,
                               position_effect=rng.choice(("auto", "open", "close")), currency=currency, **explicit)
        if kind == 1:
            stock_limit = math.nan if rng.random() < 0.7 else round(rng.uniform(165, 175), rng.choice((2, 3)))
            return OrderTicket(shares, rng.choice(("BUY", "SELL")), qty * 50, stock_limit, f"t{i}", day)
        if kind == 6:  # a covered call written as a combo with its shares (not a listed combo: a structure problem)
            call = OptionContract("AAPL", e, rng.choice(strikes["AAPL"]), "C")
            return ComboTicket("vertical", (OrderLeg(shares, "BUY", 100), OrderLeg(call, "SELL")), qty, math.nan,
                               f"cc{i}", day, currency=currency)
        if kind == 2:
            j = rng.randrange(1, len(ks))
            right = rng.choice("PC")
            legs = (OrderLeg(OptionContract(u, e, ks[j], right), "SELL"), OrderLeg(OptionContract(u, e, ks[j - 1], right), "BUY"))
            return ComboTicket("vertical", legs if rng.random() < 0.5 else legs[::-1], qty, limit, f"v{i}", day)
        if kind == 3:
            a, b = sorted(rng.sample(range(len(ks)), 4))[:2], sorted(rng.sample(range(len(ks)), 4))[2:]
            legs = (OrderLeg(OptionContract(u, e, ks[a[0]], "P"), "BUY"), OrderLeg(OptionContract(u, e, ks[a[1]], "P"), "SELL"),
                    OrderLeg(OptionContract(u, e, ks[b[0]], "C"), "SELL"), OrderLeg(OptionContract(u, e, ks[b[1]], "C"), "BUY"))
            return ComboTicket("iron_condor", legs, qty, limit, f"ic{i}", day)
        if kind == 4:
            old, signed = rng.choice(held)
            new = OptionContract(old.underlying, rng.choice(expiries), rng.choice(strikes[old.underlying]), old.right)
            legs = (OrderLeg(old, "BUY" if signed < 0 else "SELL"), OrderLeg(new, "SELL" if signed < 0 else "BUY"))
            return ComboTicket("roll", legs, rng.choice((1, abs(signed), abs(signed) + 1)), limit, f"r{i}", day)
        k = rng.choice(ks)
        near, far = sorted(rng.sample(expiries, 2))
        right = rng.choice("PC")
        legs = (OrderLeg(OptionContract(u, near, k, right), "SELL"), OrderLeg(OptionContract(u, far, k, right), "BUY"))
        return ComboTicket("calendar", legs, qty, limit, f"c{i}", day)

    return [one(i) for i in range(n)], book, quotes


@pytest.mark.parametrize("seed", range(12))
def test_preview_many_equals_preview_on_random_tickets(seed: int) -> None:
    """Property: on random books, quotes and tickets (singles, shares, verticals, condors, rolls,
    calendars; zero quantities, limits on and off the tick, unquoted and unknown legs), the batch
    gives each ticket exactly the preview a batch of one gives it."""
    tickets, book, quotes = _random_case(random.Random(seed), 300)
    many = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    single = [preview(t, book, quotes, commission_per_contract=FEE) for t in tickets]
    assert [(t.order_ref, _same(a, b)) for t, a, b in zip(tickets, many, single, strict=True) if _same(a, b)] == []
    assert {p.strategy for p in many} == {"single", "vertical", "iron_condor", "roll", "calendar"}
    assert 0 < sum(bool(p.problems) for p in many) < len(many)  # both kinds of ticket are drawn


@pytest.mark.parametrize("seed", range(4))
def test_the_sentence_gate_misses_no_problem(seed: int) -> None:
    """The batch writes problem sentences only for tickets one of its checks flags (and a combo's
    structure sentences once per distinct combo): writing every ticket's sentences gives the same."""
    tickets, book, quotes = _random_case(random.Random(100 + seed), 400)
    gated = _Batch(book, quotes, FEE).run(tickets)
    every = _Batch(book, quotes, FEE, every_sentence=True).run(tickets)
    assert [t.order_ref for t, a, b in zip(tickets, gated, every, strict=True) if _same(a, b)] == []


def test_a_ticket_gets_the_same_preview_wherever_it_stands_in_the_batch() -> None:
    tickets, book, quotes = _random_case(random.Random(7), 300)
    forward = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    shuffled = tickets[:]
    random.Random(8).shuffle(shuffled)
    by_ref = {p.order_ref: p for p in preview_many(shuffled, book, quotes, commission_per_contract=FEE)}
    assert [p.order_ref for p in forward if _same(p, by_ref[p.order_ref])] == []


def test_the_random_tickets_meet_every_kind_of_problem() -> None:
    """The property cases above draw each kind of refusal (so their equality covers it)."""
    said = " | ".join(s for seed in range(12) for p in preview_many(*_random_case(random.Random(seed), 300)[:3])
                      for s in p.problems)
    for phrase in ("expired on", "is not a contract the active market data knows", "No recorded", "off the tick size",
                   "would not fill", "must be a covered call", "short needs a margin account", "Not enough buying power",
                   "Quantity must be a whole number", "trades in USD only", "to close needs a", "to open would close",
                   "A roll closes a held position", "made of options only", "The limit price must be a finite number"):
        assert phrase in said, phrase


def test_as_dict_gives_every_field_and_plain_positions() -> None:
    put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
    p = preview(OrderTicket(put, "SELL", 1, math.nan, "x", date(2018, 1, 2)), AccountBook(1e6, []), BidAsk(5.7, 5.9))
    d = p.as_dict()
    assert list(d) == list(TicketPreview._fields)
    assert d["positions"] == ({"contract": {"underlying": "SPXW", "expiry": date(2018, 1, 31), "strike": 2600.0,
                                            "right": "P", "multiplier": 100, "con_id": None}, "before": 0, "after": -1},)
    assert d["collateral"] == 260_000.0 and d["premium"] == 570.0


def test_a_quantity_beyond_the_batch_integers_is_refused_with_a_sentence() -> None:
    """The batch computes in 64-bit integers: 10**20 contracts must give a clear refusal, not an
    OverflowError (the figures of a refused ticket are those of quantity 0)."""
    put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
    book, quote = AccountBook(1e6, []), BidAsk(5.7, 5.9)
    huge = preview(OrderTicket(put, "SELL", 10**20, math.nan, "x", date(2018, 1, 2)), book, quote)
    assert huge.problems == ("Quantity 100,000,000,000,000,000,000 is more than the 1,000,000,000 contracts a ticket "
                             "can hold.",)
    assert huge.premium == 0.0 and huge.opens == 0
    limit = preview(OrderTicket(put, "SELL", 10**9, math.nan, "y", date(2018, 1, 2)), book, quote)
    assert limit.opens == 10**9 and limit.collateral == 2600.0 * 100 * 10**9
    assert limit.problems[0].startswith("Not enough buying power")
