"""``rules.preview_many`` (the bulk path the orders benchmark uses) equals ``rules.preview`` ticket
by ticket, field for field, on the benchmark's tickets (real SPXW quotes of 2018-01-02: single legs,
verticals, iron condors, rolls, with and without problems) and on hand-made odd tickets."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg, OrderTicket
from magnus_desktop.models.market import StockContract
from magnus_desktop.services.orders.rules import AccountBook, BidAsk, TicketPreview, preview, preview_many

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
    """The batch memo (collateral and risk per exposure set) returns what a fresh computation does."""
    day = date(2018, 1, 2)
    put = OptionContract("SPXW", date(2018, 1, 31), 2600.0, "P")
    book = AccountBook(1e6, [])
    quotes = {put: BidAsk(5.7, 5.9)}
    tickets = [OrderTicket(put, "SELL", 2, math.nan, f"r{i}", day) for i in range(repeat)]
    first, second = preview_many(tickets, book, quotes, commission_per_contract=FEE)
    fresh = preview(tickets[1], book, quotes, commission_per_contract=FEE)
    assert _same(second, fresh) == [] and _same(first, second) == ["order_ref"]


def _random_case(rng: random.Random, n: int) -> tuple[list, AccountBook, dict]:  # type: ignore[type-arg]
    """``n`` random tickets of every kind on two underlyings and three expiries, against a random book
    (short and long options, shares or none) and random quotes (some legs unquoted or unknown)."""
    day = date(2018, 1, 2)
    expiries = (date(2018, 1, 19), date(2018, 2, 16), date(2018, 3, 16))
    strikes = {"AAPL": [150.0 + 5 * i for i in range(8)], "SPXW": [2500.0 + 25 * i for i in range(8)]}
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
        kind = rng.randrange(6)
        limit = math.nan if rng.random() < 0.6 else round(rng.uniform(-4, 6) / 0.05) * 0.05
        if kind == 0:
            c = rng.choice(contracts)
            return OrderTicket(c, rng.choice(("BUY", "SELL")), qty, abs(limit) if limit == limit else limit, f"s{i}", day,
                               position_effect=rng.choice(("auto", "open", "close")))
        if kind == 1:
            return OrderTicket(shares, rng.choice(("BUY", "SELL")), qty * 50, math.nan, f"t{i}", day)
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
