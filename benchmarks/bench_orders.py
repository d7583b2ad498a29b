"""Speed of THE order rules: ``services.orders.rules.preview_many`` over 10,000 tickets in one run.

Tickets are built from the REAL recorded SPXW chain of 2018-01-02 (bundled replay data): a mix of
single legs (sell/buy puts and calls, market and limit), put and call verticals, iron condors and
rolls of the demo account's seeded short puts, each previewed against the account as the demo seed
leaves it (an ``AccountBook``, built once like a ticket dialog's account) with the recorded
bid/ask of every leg. Target: the 10,000 previews (problems, collateral, max loss/profit,
breakevens, position after the fill) in <= 100 ms of CPU time (``--quick``: 2,000 tickets, same target scaled).
"""

from __future__ import annotations

import math
import os
import random
from datetime import date

from benchmarks.common import Result, best_interleaved

DAY = date(2018, 1, 2)
TARGET_MS_PER_10K = 100.0
#: tickets the per-ticket reference is timed on (scaled to the batch size)
REF_N = 1_000


def _tickets(n: int):  # type: ignore[no-untyped-def]
    from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg, OrderTicket
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.orders.rules import AccountBook, BidAsk

    market = ReplayMarketData.from_resources()
    chain = market.chain(DAY)
    chain = chain[(chain["bid"] > 0) & (chain["ask"] > 0)]
    quotes = {}
    for row in chain.itertuples(index=False):
        c = OptionContract(str(row.underlying), row.expiry.date(), float(row.strike), row.right)
        quotes[c] = BidAsk(float(row.bid), float(row.ask))
    expiry = next(iter(quotes)).expiry
    puts = sorted(c.strike for c in quotes if c.right == "P" and 2300 <= c.strike <= 2690)
    calls = sorted(c.strike for c in quotes if c.right == "C" and 2700 <= c.strike <= 3000)
    held = [(OptionContract("SPXW", expiry, k, "P"), -1) for k in (2550.0, 2600.0, 2650.0)]  # the demo seed
    book = AccountBook(1_000_000.0, held)
    rng = random.Random(7)

    def opt(k: float, right: str) -> OptionContract:
        return OptionContract("SPXW", expiry, k, right)  # type: ignore[arg-type]

    tickets = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            right = rng.choice("PC")
            k = rng.choice(puts if right == "P" else calls)
            limit = math.nan if i % 8 else round(quotes[opt(k, right)].bid, 1)
            tickets.append(OrderTicket(opt(k, right), rng.choice(("SELL", "BUY")), rng.randint(1, 5), limit, f"s{i}", DAY))
        elif kind == 1:
            j = rng.randrange(1, len(puts))
            legs = (OrderLeg(opt(puts[j], "P"), "SELL"), OrderLeg(opt(puts[j - 1], "P"), "BUY"))
            tickets.append(ComboTicket("vertical", legs, rng.randint(1, 5), math.nan, f"v{i}", DAY))
        elif kind == 2:
            j, m = rng.randrange(1, len(puts)), rng.randrange(0, len(calls) - 1)
            legs = (OrderLeg(opt(puts[j - 1], "P"), "BUY"), OrderLeg(opt(puts[j], "P"), "SELL"),
                    OrderLeg(opt(calls[m], "C"), "SELL"), OrderLeg(opt(calls[m + 1], "C"), "BUY"))
            tickets.append(ComboTicket("iron_condor", legs, rng.randint(1, 3), math.nan, f"ic{i}", DAY))
        else:
            old = rng.choice(held)[0]
            legs = (OrderLeg(old, "BUY"), OrderLeg(opt(rng.choice(puts), "P"), "SELL"))
            tickets.append(ComboTicket("roll", legs, 1, math.nan, f"r{i}", DAY))
    return tickets, book, quotes


def run(quick: bool) -> list[Result]:
    """``preview_many`` over 10,000 mixed tickets (2,000 with ``quick``), with the per-ticket
    ``preview`` loop over the same tickets timed in the same run as the reference, and the rules as
    they were before the speed work (:mod:`benchmarks.baseline`) on the same tickets: before/after."""
    from benchmarks.baseline import baseline_module, label
    from magnus_desktop.services.orders.rules import preview, preview_many

    n = 2_000 if quick else 10_000
    tickets, book, quotes = _tickets(n)
    fns = {
        "ours": lambda: preview_many(tickets, book, quotes, commission_per_contract=0.65),
        # the reference on the first 1,000 tickets (one preview() is a batch of one: ~1 ms), scaled to n
        "one_by_one": lambda: [preview(t, book, quotes, commission_per_contract=0.65) for t in tickets[:REF_N]],
    }
    old = baseline_module("magnus_desktop/services/orders/rules.py")
    if old is not None:
        old_book = old.AccountBook(book.buying_power, list(book.held.items()))
        fns["before"] = lambda: old.preview_many(tickets, old_book, quotes, commission_per_contract=0.65)
    best = best_interleaved(fns, repeat=3 if quick else 7)
    (wall, seconds), (_ref_wall, reference) = best["ours"], best["one_by_one"]
    reference *= n / min(n, REF_N)
    refused = sum(bool(p.problems) for p in preview_many(tickets, book, quotes, commission_per_contract=0.65))
    rows = [Result(f"orders.preview {n:,} tickets", "time", seconds * 1e3, "ms", reference="preview one by one",
                   ratio=reference / seconds, target=TARGET_MS_PER_10K * n / 10_000, direction="max_value",
                   note=f"preview_many (one AccountBook, one columnar NumPy pass over the legs): CPU time (single-"
                        f"threaded, = wall time on a free core; wall {wall * 1e3:.0f} ms at load "
                        f"{os.getloadavg()[0]:.1f}); preview() per ticket (a batch of one each, timed on "
                        f"{min(n, REF_N):,}, scaled) {reference * 1e3:.0f} ms in this run (ratio = "
                        f"that / ours); real SPXW quotes "
                        f"2018-01-02; single/vertical/iron condor/roll 1:1:1:1; {refused:,} with problems "
                        "(e.g. uncovered calls, limits off the quote)")]
    if "before" in best:
        _before_wall, before = best["before"]
        same = repr(old.preview_many(tickets, old_book, quotes, commission_per_contract=0.65)) == repr(
            preview_many(tickets, book, quotes, commission_per_contract=0.65))
        rows.append(Result(f"orders.preview {n:,} tickets {label()}", "time", before * 1e3, "ms",
                           reference="ours (row above)", ratio=before / seconds,
                           note=f"the rules before the speed work, same tickets, same run, CPU time; ratio = before / ours; previews {'identical' if same else 'DIFFER'}"))
    return rows
