"""The paper broker's later-days buying-power check (its order rules are ``services.orders.rules``:
tests/unit/test_order_rules.py)."""

from __future__ import annotations

from datetime import date

import pytest

from magnus_desktop.models.domain import Fill, OptionContract
from magnus_desktop.services.brokers.paper import check_later_days
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.portfolio.marking import buying_power_at

FEB28 = date(2018, 2, 28)
JAN31 = date(2018, 1, 31)
PUT = OptionContract("SPXW", FEB28, 2720.0, "P")


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def fill(contract: OptionContract, qty: int, price: float, day: date) -> Fill:
    return Fill(contract, qty, price, 0.65 * abs(qty), day, f"ref-{contract.strike}-{qty}-{day}")


def test_later_days_window_and_first_short_day(market: ReplayMarketData) -> None:
    days = market.trading_days()
    later = [fill(PUT, -1, 9.70, date(2018, 2, 2))]
    cash = 500_000.0
    ok = check_later_days(later, fill(OptionContract("SPXW", FEB28, 2000.0, "P"), -1, 0.5, date(2018, 2, 1)),
                          market, days, starting_cash=cash)
    assert ok.problem is None and ok.through == FEB28 and ok.days_checked == 19
    big = fill(OptionContract("SPXW", FEB28, 2790.0, "P"), -1, 22.50, date(2018, 2, 1))
    assert buying_power_at([big], date(2018, 2, 1), market, days, starting_cash=cash) > 0
    bad = check_later_days(later, big, market, days, starting_cash=cash)
    expected = cash + 970 + 2250 - 0.65 * 2 - 2720 * 100 - 2790 * 100
    assert bad.short_day == date(2018, 2, 2) and bad.buying_power == pytest.approx(expected)
    assert bad.problem is not None and f"-${-expected:,.0f}" in bad.problem and "2018-02-02" in bad.problem


def test_the_window_ends_when_the_affected_positions_are_closed(market: ReplayMarketData) -> None:
    days = market.trading_days()
    jan = OptionContract("SPXW", JAN31, 2600.0, "P")
    check = check_later_days([], fill(jan, -1, 5.7, date(2018, 1, 2)), market, days, starting_cash=1e6)
    assert check.through == JAN31 and check.days_checked == len([d for d in days if d <= JAN31])
    assert check.describe() == "Checked against every later replay day up to 2018-01-31"
    closed = [fill(jan, -1, 5.7, date(2018, 1, 2))]
    buy_back = check_later_days(closed, fill(jan, 1, 3.0, date(2018, 1, 10)), market, days, starting_cash=1e6)
    assert buy_back.through == date(2018, 1, 10) and buy_back.days_checked == 1
    assert buy_back.describe().startswith("Checked against the replay day 2018-01-10")
