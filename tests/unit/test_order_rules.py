"""THE order rules (``services.orders.rules.preview``): single legs (moved from the paper broker's
``evaluate_order`` and the ticket's ``ticket_preview`` tests), combos, rolls, stocks and bad input."""

from __future__ import annotations

import math
from datetime import date

import pytest

from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg, OrderTicket
from magnus_desktop.models.market import StockContract
from magnus_desktop.services.orders.rules import AccountBook, BidAsk, preview, tick_size

JAN2, JAN19, JAN31, FEB28 = date(2018, 1, 2), date(2018, 1, 19), date(2018, 1, 31), date(2018, 2, 28)
PUT = OptionContract("SPXW", JAN31, 2600.0, "P")
CALL = OptionContract("SPXW", JAN31, 2750.0, "C")
FEE = 0.65


def single(contract: OptionContract, action: str, qty: int, bid: float, ask: float, limit: float, bp: float,
           held: int = 0, day: date = JAN2, **kw):  # type: ignore[no-untyped-def]
    ticket = OrderTicket(contract, action, qty, limit, "t", day, **kw)  # type: ignore[arg-type]
    book = AccountBook(bp, [(contract, held)])
    return preview(ticket, book, BidAsk(bid, ask), commission_per_contract=FEE)


# ---- single legs (behaviour kept from evaluate_order / ticket_preview) ---------------------------
def test_short_put_preview() -> None:
    bid, qty, bp = 5.70, 2, 1_000_000.0
    p = single(PUT, "SELL", qty, bid, 5.90, math.nan, bp)
    assert p.fill_price == bid and p.credit
    assert p.premium == pytest.approx(bid * 100 * qty)
    assert p.commission == pytest.approx(FEE * qty)
    assert p.collateral == pytest.approx(2600 * 100 * qty)
    assert p.max_loss == pytest.approx((2600 - bid) * 100 * qty + FEE * qty)
    assert p.max_profit == pytest.approx(bid * 100 * qty - FEE * qty)
    assert p.breakevens == pytest.approx((2600 - bid + FEE / 100,))
    assert p.buying_power_after == pytest.approx(bp - 2600 * 100 * qty + bid * 100 * qty - FEE * qty)
    assert [(c.before, c.after) for c in p.positions] == [(0, -2)]
    assert p.problems == ()


def test_long_option_risks_only_the_premium() -> None:
    p = single(CALL, "BUY", 3, 1.10, 1.30, math.nan, 10_000.0)
    assert p.fill_price == 1.30 and not p.credit
    assert p.premium == pytest.approx(-1.30 * 100 * 3) and p.collateral == 0.0
    assert p.max_loss == pytest.approx(1.30 * 100 * 3 + FEE * 3) and math.isinf(p.max_profit)
    assert p.breakevens == pytest.approx((2750 + 1.30 + FEE / 100,))
    assert p.buying_power_after == pytest.approx(10_000 - 390 - 1.95)


def test_short_call_is_unlimited_and_needs_covering_shares() -> None:
    p = single(CALL, "SELL", 1, 1.10, 1.30, math.nan, 1e6)
    assert math.isinf(p.max_loss) and p.collateral == 0.0
    assert any("covered call" in s and "100 covering shares" in s for s in p.problems)


def test_shares_cover_a_short_call() -> None:
    aapl_call = OptionContract("AAPL", JAN31, 180.0, "C")
    ticket = OrderTicket(aapl_call, "SELL", 2, math.nan, "cc", JAN2)
    shares = StockContract("AAPL")
    covered = preview(ticket, AccountBook(50_000.0, [(shares, 200)]), BidAsk(2.0, 2.1))
    assert covered.problems == () and covered.collateral == 0.0
    short_of_shares = preview(ticket, AccountBook(50_000.0, [(shares, 150)]), BidAsk(2.0, 2.1))
    assert any("50 more than the 150 held" in s for s in short_of_shares.problems)


def test_buying_back_a_short_put_frees_its_collateral() -> None:
    p = single(PUT, "BUY", 1, 5.70, 5.90, math.nan, 50_000.0, held=-1)
    assert p.collateral == 0.0 and p.collateral_freed == 2600 * 100 and p.max_loss == 0.0
    assert p.buying_power_after == pytest.approx(50_000 - 590 - 0.65 + 2600 * 100)


def test_closing_is_never_refused_for_buying_power_even_when_it_is_negative() -> None:
    closing = single(PUT, "BUY", 1, 9.70, 10.10, math.nan, -50_000.0, held=-1)
    assert closing.problems == () and closing.closes == 1 and closing.opens == 0
    assert closing.buying_power_after == pytest.approx(-50_000 - 1010 - 0.65 + 260_000)
    opening = single(PUT, "SELL", 1, 9.70, 10.10, math.nan, -50_000.0, held=-1)
    assert "Not enough buying power" in opening.problems[0]


def test_a_flip_is_described_and_priced() -> None:
    e = single(PUT, "BUY", 2, 9.70, 10.10, math.nan, 100_000.0, held=-1)
    assert e.flips and e.describe_position_change() == "closes 1, opens 1 long"
    assert e.collateral == 0.0 and e.max_loss == pytest.approx(10.10 * 100 + 1.30)
    assert single(PUT, "SELL", 3, 9.70, 10.10, math.nan, 1e6, held=1).describe_position_change() \
        == "closes 1, opens 2 short"


def test_expired_contract_is_refused() -> None:
    e = single(OptionContract("SPXW", JAN31, 2600.0, "P"), "SELL", 1, 1.0, 1.1, math.nan, 1e6, day=date(2018, 2, 1))
    assert e.problems == ("SPXW 2018-01-31 2600 P expired on 2018-01-31.",)


def test_limit_missing_quote_and_buying_power_are_reported() -> None:
    assert "Bid 5.70 is below your limit 6.00" in " ".join(single(PUT, "SELL", 1, 5.70, 5.90, 6.0, 1e6).problems)
    assert single(PUT, "SELL", 1, 5.70, 5.90, 5.5, 1e6).problems == ()
    nan_quote = single(PUT, "SELL", 1, math.nan, math.nan, math.nan, 1e6)
    assert math.isnan(nan_quote.fill_price) and "No recorded bid" in nan_quote.problems[0]
    poor = single(PUT, "SELL", 1, 5.70, 5.90, math.nan, 100_000.0)
    assert poor.buying_power_after < 0 and "Not enough buying power" in poor.problems[0]


def test_buy_or_sell_to_open_or_close_is_checked_against_the_position() -> None:
    nothing = single(PUT, "BUY", 1, 5.7, 5.9, math.nan, 1e6, position_effect="close")
    assert nothing.problems == ("Buy to close needs a short position in SPXW 2018-01-31 2600 P; the account holds +0.",)
    too_many = single(PUT, "BUY", 2, 5.7, 5.9, math.nan, 1e6, held=-1, position_effect="close")
    assert "exceeds the 1 short held" in too_many.problems[0]
    assert single(PUT, "BUY", 1, 5.7, 5.9, math.nan, 1e6, held=-1, position_effect="close").problems == ()
    reopen = single(PUT, "BUY", 1, 5.7, 5.9, math.nan, 1e6, held=-1, position_effect="open")
    assert "use buy to close" in reopen.problems[0]


# ---- combos --------------------------------------------------------------------------------------
P2550 = OptionContract("SPXW", JAN31, 2550.0, "P")
C2800 = OptionContract("SPXW", JAN31, 2800.0, "C")
C2850 = OptionContract("SPXW", JAN31, 2850.0, "C")
QUOTES = {PUT: BidAsk(5.70, 5.90), P2550: BidAsk(3.90, 4.10), C2800: BidAsk(2.00, 2.20), C2850: BidAsk(0.80, 1.00)}


def combo(strategy: str, legs: list[tuple[OptionContract, str]], qty: int = 1, limit: float = math.nan) -> ComboTicket:
    return ComboTicket(strategy, tuple(OrderLeg(c, a) for c, a in legs), qty, limit, "c", JAN2)  # type: ignore[arg-type]


def test_put_credit_spread_max_loss_is_width_minus_credit() -> None:
    t = combo("vertical", [(PUT, "SELL"), (P2550, "BUY")], qty=2, limit=1.50)
    p = preview(t, AccountBook(100_000.0, []), QUOTES, commission_per_contract=FEE)
    credit = 5.70 - 4.10  # sell at the bid, buy at the ask
    fees = FEE * 4
    assert p.net_price == pytest.approx(credit) and p.premium == pytest.approx(credit * 100 * 2)
    assert p.max_loss == pytest.approx((50 - credit) * 100 * 2 + fees)
    assert p.max_profit == pytest.approx(credit * 100 * 2 - fees)
    assert p.breakevens == pytest.approx((2600 - credit + fees / 200,))
    assert p.collateral == pytest.approx(50 * 100 * 2)  # width x 100: the credit goes to cash
    assert p.buying_power_effect == pytest.approx(-p.max_loss)  # defined risk: buying power falls by max loss
    assert p.problems == ()


def test_call_debit_spread_risks_the_debit() -> None:
    t = combo("vertical", [(C2800, "BUY"), (C2850, "SELL")])
    p = preview(t, AccountBook(100_000.0, []), QUOTES)
    debit = 2.20 - 0.80
    assert p.net_price == pytest.approx(-debit) and p.collateral == 0.0
    assert (p.max_loss, p.max_profit) == pytest.approx((debit * 100, (50 - debit) * 100))
    assert p.breakevens == pytest.approx((2800 + debit,))


def test_iron_condor_risks_the_wider_side_once() -> None:
    wide_call = OptionContract("SPXW", JAN31, 2900.0, "C")
    quotes = {**QUOTES, wide_call: BidAsk(0.20, 0.30)}
    t = combo("iron_condor", [(P2550, "BUY"), (PUT, "SELL"), (C2800, "SELL"), (wide_call, "BUY")])
    p = preview(t, AccountBook(100_000.0, []), quotes)
    credit = 5.70 - 4.10 + 2.00 - 0.30
    assert p.max_loss == pytest.approx((100 - credit) * 100)  # the call side is 100 wide, the put side 50
    assert p.max_profit == pytest.approx(credit * 100)
    assert p.breakevens == pytest.approx((2600 - credit, 2800 + credit))
    assert p.collateral == pytest.approx(100 * 100) and p.problems == ()


def test_combo_limit_and_tick() -> None:
    t = combo("vertical", [(PUT, "SELL"), (P2550, "BUY")], limit=1.75)
    assert "credit 1.60 misses your limit (credit of at least 1.75)" in preview(t, None, QUOTES).problems[0]
    off_tick = combo("vertical", [(PUT, "SELL"), (P2550, "BUY")], limit=1.53)
    assert "off the tick size" in preview(off_tick, None, QUOTES).problems[0]


def test_combo_shapes_are_checked() -> None:
    same_strike = combo("vertical", [(PUT, "SELL"), (PUT, "BUY")])
    assert preview(same_strike, None, QUOTES).problems == ("The legs of a vertical need two different strikes.",)
    mixed = combo("vertical", [(PUT, "SELL"), (C2800, "BUY")])
    assert preview(mixed, None, QUOTES).problems == ("Both legs of a vertical are calls or both are puts.",)
    broken = combo("iron_condor", [(P2550, "BUY"), (PUT, "SELL"), (C2800, "BUY"), (C2850, "SELL")])
    assert "must be sold (short condor) or both bought (long condor)" in preview(broken, None, QUOTES).problems[0]


# ---- rolls ---------------------------------------------------------------------------------------
FEB_PUT = OptionContract("SPXW", FEB28, 2600.0, "P")


def test_roll_out_is_one_order_with_a_net_credit() -> None:
    t = combo("roll", [(PUT, "BUY"), (FEB_PUT, "SELL")])
    quotes = {PUT: BidAsk(5.70, 5.90), FEB_PUT: BidAsk(20.10, 20.50)}
    p = preview(t, AccountBook(300_000.0, [(PUT, -1)]), quotes, commission_per_contract=FEE)
    assert p.net_price == pytest.approx(20.10 - 5.90)  # net credit per share
    assert p.collateral == 0.0 and p.collateral_freed == 0.0  # same strike: the collateral moves over
    assert [(c.before, c.after) for c in p.positions] == [(-1, 0), (0, -1)]
    assert p.max_loss == pytest.approx((2600 - 20.10) * 100 + 2 * FEE)  # the position the roll leaves
    assert p.problems == ()


def test_roll_to_an_earlier_expiry_or_without_a_position_is_refused() -> None:
    early = OptionContract("SPXW", JAN19, 2600.0, "P")
    t = combo("roll", [(PUT, "BUY"), (early, "SELL")])
    quotes = {PUT: BidAsk(5.70, 5.90), early: BidAsk(2.0, 2.1)}
    problems = preview(t, AccountBook(300_000.0, [(PUT, -1)]), quotes).problems
    assert problems == ("A roll moves to a later expiry: SPXW 2018-01-19 2600 P expires 2018-01-19, before "
                        "SPXW 2018-01-31 2600 P (2018-01-31).",)
    nothing_held = preview(combo("roll", [(PUT, "BUY"), (FEB_PUT, "SELL")]), AccountBook(3e5, []),
                           {PUT: BidAsk(5.7, 5.9), FEB_PUT: BidAsk(20.1, 20.5)}).problems
    assert "A roll closes a held position" in nothing_held[0]


# ---- stocks --------------------------------------------------------------------------------------
def test_stock_buy_and_short_sale() -> None:
    aapl = StockContract("AAPL")
    buy = preview(OrderTicket(aapl, "BUY", 10, 170.0, "s", JAN2), AccountBook(5_000.0, []), BidAsk(169.9, 170.0))
    assert buy.premium == pytest.approx(-1700.0) and buy.max_loss == pytest.approx(1700.0)
    assert buy.breakevens == (170.0,) and math.isinf(buy.max_profit) and buy.problems == ()
    short = preview(OrderTicket(aapl, "SELL", 10, math.nan, "s", JAN2), AccountBook(5_000.0, []), BidAsk(169.9, 170))
    assert any("needs a margin account" in s for s in short.problems)


# ---- bad input: a clear sentence each ------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "expected"), [
    (dict(limit_price=math.nan, order_type="LMT"), "The limit price must be a finite number of USD per share; got nan."),
    (dict(limit_price=math.inf), "The limit price must be a finite number of USD per share; got inf."),
    (dict(limit_price=5.73), "Limit 5.7300 is off the tick size: SPXW 2018-01-31 2600 P at 5.73 trades in steps of $0.1."),
    (dict(qty=0), "Quantity must be a whole number of at least 1 contract; got 0."),
    (dict(qty=-3), "Quantity must be a whole number of at least 1 contract; got -3."),
    (dict(currency="EUR"), "This account trades in USD only; the ticket is in EUR."),
])
def test_bad_input_is_named(kwargs: dict, expected: str) -> None:
    base = dict(contract=PUT, action="SELL", qty=1, limit_price=5.5, order_ref="bad", trade_date=JAN2)
    p = preview(OrderTicket(**{**base, **kwargs}), AccountBook(1e6, []), BidAsk(5.7, 5.9))  # type: ignore[arg-type]
    assert expected in p.problems


def test_unknown_contract_is_named() -> None:
    ghost = OptionContract("SPXW", JAN31, 2601.0, "P")
    p = preview(OrderTicket(ghost, "SELL", 1, math.nan, "g", JAN2), None, {})
    assert p.problems[0].startswith("SPXW 2018-01-31 2601 P is not a contract the active market data knows")


@pytest.mark.parametrize(("root", "price", "tick"), [
    ("SPXW", 2.95, 0.05), ("SPXW", 3.0, 0.10), ("SPX", 12.3, 0.10), ("AAPL", 2.99, 0.01), ("AAPL", 3.0, 0.05),
])
def test_tick_size_rule(root: str, price: float, tick: float) -> None:
    assert tick_size(OptionContract(root, JAN31, 100.0, "P"), price) == tick
