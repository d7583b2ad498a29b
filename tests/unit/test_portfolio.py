"""Average-cost accounting, expiry settlement and marking against the bundled real chain."""

from __future__ import annotations

import csv
import math
from datetime import date

import pytest

from magnus_desktop.analytics.pricing import bs_price
from magnus_desktop.models.domain import Fill, OptionContract
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.portfolio.marking import _Book, account_summary, buying_power_at, intrinsic_value

JAN31 = date(2018, 1, 31)
PUT_2600 = OptionContract("SPXW", JAN31, 2600.0, "P")
CALL_2900 = OptionContract("SPXW", JAN31, 2900.0, "C")


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def raw_row(quote_date: str, strike: str, right: str) -> dict[str, str]:
    """The raw CSV row of the bundled SPXW file (read independently of our loader)."""
    path = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if row["quotedate"] == quote_date and row["strike"] == strike and row["type"] == right:
                return row
    raise AssertionError("row not in file")


def fill(contract: OptionContract, qty: int, price: float, day: date, commission: float = 0.0) -> Fill:
    return Fill(contract, qty, price, commission, day, f"ref-{contract.strike}-{qty}-{price}-{day}")


def test_book_average_cost_and_realized() -> None:
    book = _Book()
    book.apply(-2, 5.0, 100)
    book.apply(-1, 8.0, 100)
    assert book.qty == -3 and book.avg_cost == pytest.approx(6.0)
    book.apply(+2, 4.0, 100)  # buy back 2 at 4: (6 - 4) * 2 * 100
    assert book.qty == -1 and book.realized == pytest.approx(400.0)
    book.apply(+3, 1.0, 100)  # close 1 (gain 500) and flip to long 2 at 1.0
    assert book.qty == 2 and book.avg_cost == pytest.approx(1.0)
    assert book.realized == pytest.approx(900.0)


def test_marks_positions_at_recorded_mid(market: ReplayMarketData) -> None:
    day = date(2018, 1, 10)
    row = raw_row("01/10/2018", "2600", "put")
    s = account_summary([fill(PUT_2600, -2, 5.7, date(2018, 1, 2), 1.3)], day, market, market.trading_days(),
                        starting_cash=1_000_000, rate=0.015)
    (p,) = s.positions
    mid = (float(row["bid"]) + float(row["ask"])) / 2
    assert p.mark == pytest.approx(mid)
    assert p.market_value == pytest.approx(-2 * mid * 100)
    assert p.unrealized_pnl == pytest.approx((mid - 5.7) * -2 * 100) and p.unrealized_pnl > 0
    assert p.collateral == 2600 * 100 * 2
    assert p.dte == 21
    und = float(row["underlying_last"])
    # the IV reprices the mark, and short puts have positive delta and positive theta
    assert float(bs_price("P", und, 2600, 21 / 365, 0.015, p.iv)) == pytest.approx(mid, abs=1e-6)
    assert p.delta > 0 and p.theta > 0 and p.vega < 0
    assert s.buying_power == pytest.approx(s.cash - s.collateral_used)
    assert s.net_liquidation - 1_000_000 == pytest.approx(s.realized_pnl + s.unrealized_pnl)


def test_expired_short_put_settles_at_intrinsic(market: ReplayMarketData) -> None:
    days = market.trading_days()
    after = date(2018, 2, 1)
    fills = [fill(PUT_2600, -1, 5.7, date(2018, 1, 2), 0.65)]
    s = account_summary(fills, after, market, days, starting_cash=100_000, rate=0.015)
    assert s.positions == ()
    settle_und = float(raw_row("01/31/2018", "2600", "put")["underlying_last"])
    assert intrinsic_value(PUT_2600, settle_und) == 0.0  # SPX ~2824 on expiry: the put expired worthless
    assert s.realized_pnl == pytest.approx(570.0 - 0.65)
    assert s.cash == pytest.approx(100_000 + 570.0 - 0.65)


def test_itm_settlement_moves_cash(market: ReplayMarketData) -> None:
    days = market.trading_days()
    itm = OptionContract("SPXW", JAN31, 2900.0, "P")
    s = account_summary([fill(itm, -1, 180.0, date(2018, 1, 2))], date(2018, 2, 1), market, days,
                        starting_cash=500_000, rate=0.015)
    settle_und = market.und_price(JAN31)
    loss = (2900.0 - settle_und) * 100
    assert loss > 0
    assert s.cash == pytest.approx(500_000 + 18_000 - loss)
    assert s.realized_pnl == pytest.approx(18_000 - loss)


def test_missing_quote_stays_nan(market: ReplayMarketData) -> None:
    odd = OptionContract("SPXW", JAN31, 2612.5, "P")  # not a listed strike
    s = account_summary([fill(odd, -1, 6.0, date(2018, 1, 2))], date(2018, 1, 3), market, market.trading_days(),
                        starting_cash=100_000, rate=0.015)
    assert math.isnan(s.positions[0].mark)
    assert math.isnan(s.net_liquidation)


def test_fills_after_the_day_are_ignored(market: ReplayMarketData) -> None:
    s = account_summary([fill(CALL_2900, 1, 2.0, date(2018, 1, 5))], date(2018, 1, 3), market,
                        market.trading_days(), starting_cash=10_000, rate=0.015)
    assert s.positions == () and s.cash == 10_000


def test_fills_dated_after_the_marking_day_change_nothing(market: ReplayMarketData) -> None:
    """A fill dated later than the day (as the demo's roll on 2018-02-01) is not effective before it:
    cash, commissions, positions and buying power are as without it."""
    days = market.trading_days()
    feb_put = OptionContract("SPXW", date(2018, 2, 28), 2720.0, "P")
    early = [fill(PUT_2600, -1, 5.7, date(2018, 1, 2), 0.65)]
    late = [*early, fill(feb_put, -2, 9.7, date(2018, 2, 1), 1.30)]
    for day in (date(2018, 1, 2), date(2018, 1, 31)):
        with_late = account_summary(late, day, market, days, starting_cash=1_000_000, rate=0.015)
        without = account_summary(early, day, market, days, starting_cash=1_000_000, rate=0.015)
        assert [p.contract for p in with_late.positions] == [p.contract for p in without.positions] == [PUT_2600]
        for key in ("cash", "collateral_used", "buying_power", "realized_pnl", "net_liquidation"):
            assert getattr(with_late, key) == getattr(without, key), key
        assert buying_power_at(late, day, market, days, starting_cash=1_000_000) == without.buying_power
    on_the_day = account_summary(late, date(2018, 2, 1), market, days, starting_cash=1_000_000, rate=0.015)
    assert [p.contract for p in on_the_day.positions] == [feb_put]
    assert on_the_day.collateral_used == 2720 * 100 * 2


def test_buying_power_without_marks_equals_the_marked_summary(market: ReplayMarketData) -> None:
    days = market.trading_days()
    fills = [fill(PUT_2600, -2, 5.7, date(2018, 1, 2), 1.3), fill(CALL_2900, 1, 0.5, date(2018, 1, 3), 0.65),
             fill(PUT_2600, 1, 4.0, date(2018, 1, 10), 0.65)]
    for day in days[:25]:
        marked = account_summary(fills, day, market, days, starting_cash=600_000, rate=0.015)
        assert buying_power_at(fills, day, market, days, starting_cash=600_000) == pytest.approx(marked.buying_power)
