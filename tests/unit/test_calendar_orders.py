"""Calendar combos through THE order rules and the payoff chart's curves, on the real Agilent chain
(2016-01-05, several expiries; tests/data/PROVENANCE.md)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from magnus_desktop.analytics.calendars import calendar_pnl_at_near, rank_calendars
from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg
from magnus_desktop.models.market import StockContract
from magnus_desktop.services.orders.payoff import payoff_curves
from magnus_desktop.services.orders.rules import AccountBook, BidAsk, preview

CHAIN = Path(__file__).resolve().parents[1] / "data" / "optopsy_A_agilent_2016-01-05.csv"
DAY = date(2016, 1, 5)
RATE = 0.015
FEE = 0.65


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    from magnus_desktop.services.market.chains import load_chain

    return load_chain(CHAIN)


def _quotes(chain: pd.DataFrame, *contracts: OptionContract) -> dict[OptionContract, BidAsk]:
    out = {}
    for c in contracts:
        row = chain[(chain["expiry"] == pd.Timestamp(c.expiry)) & (chain["strike"] == c.strike)
                    & (chain["right"] == c.right)].iloc[0]
        out[c] = BidAsk(float(row["bid"]), float(row["ask"]))
    return out


def _calendar(right: str, strike: float, near: date, far: date, actions=("SELL", "BUY")) -> ComboTicket:  # type: ignore[no-untyped-def]
    legs = (OrderLeg(OptionContract("A", near, strike, right), actions[0]),  # type: ignore[arg-type]
            OrderLeg(OptionContract("A", far, strike, right), actions[1]))  # type: ignore[arg-type]
    return ComboTicket("calendar", legs, 2, math.nan, "cal-1", DAY)


def test_put_calendar_preview(chain: pd.DataFrame) -> None:
    t = _calendar("P", 40.0, date(2016, 2, 19), date(2016, 5, 20))
    quotes = _quotes(chain, *(leg.contract for leg in t.legs))
    near, far = quotes[t.legs[0].contract], quotes[t.legs[1].contract]
    p = preview(t, AccountBook(100_000.0, []), quotes, commission_per_contract=FEE)
    assert p.problems == ()
    natural = near.bid - far.ask  # sell the near at its bid, buy the far at its ask: a debit
    assert p.net_price == pytest.approx(natural) and natural < 0
    assert p.premium == pytest.approx(natural * 100 * 2)
    assert p.commission == pytest.approx(4 * FEE)
    assert p.max_loss == pytest.approx(-natural * 200 + 4 * FEE)  # the debit and the commissions
    assert math.isnan(p.max_profit) and p.breakevens == ()
    assert p.collateral == pytest.approx(40.0 * 100 * 2)  # the near put is cash-secured (per expiry)


def test_call_calendar_needs_covering_shares_on_the_cash_account(chain: pd.DataFrame) -> None:
    t = _calendar("C", 40.0, date(2016, 2, 19), date(2016, 5, 20))
    quotes = _quotes(chain, *(leg.contract for leg in t.legs))
    p = preview(t, AccountBook(100_000.0, []), quotes)
    assert any("covering" in msg for msg in p.problems)
    covered = preview(t, AccountBook(100_000.0, [(StockContract("A"), 200)]), quotes)
    assert covered.problems == ()


def test_calendar_structure_problems(chain: pd.DataFrame) -> None:
    jan, feb = date(2016, 1, 15), date(2016, 2, 19)
    cases = {
        "sells the nearer expiry first": _calendar("P", 40.0, feb, jan),
        "sells the near expiry and buys the far one": _calendar("P", 40.0, jan, feb, ("BUY", "SELL")),
    }
    for text, t in cases.items():
        quotes = _quotes(chain, *(leg.contract for leg in t.legs))
        assert any(text in msg for msg in preview(t, None, quotes).problems), text
    odd = ComboTicket("calendar", (OrderLeg(OptionContract("A", jan, 40.0, "P"), "SELL"),
                                   OrderLeg(OptionContract("A", feb, 42.5, "P"), "BUY")), 1, math.nan, "x", DAY)
    assert "same right at the same strike" in preview(odd, None, _quotes(chain, *(x.contract for x in odd.legs))).problems[0]


def test_payoff_curve_is_the_calendar_at_the_near_expiry(chain: pd.DataFrame) -> None:
    """The ticket's chart: the far leg at BSM on its remaining time, at its IV implied from its mid."""
    row = rank_calendars(chain, RATE, right="P").query("strike == 40.0 and near_dte == 45 and far_dte == 136").iloc[0]
    t = _calendar("P", 40.0, row.near_expiry, row.far_expiry)
    quotes = _quotes(chain, *(leg.contract for leg in t.legs))
    p = preview(t, AccountBook(100_000.0, []), quotes)
    curves = payoff_curves(t, p, quotes, 40.55, DAY, RATE)
    assert curves is not None
    gap = (row.far_dte - row.near_dte) / 365
    expected = calendar_pnl_at_near(curves.prices, "P", 40.0, gap, row.far_iv, -p.net_price, RATE) * 200
    assert curves.at_expiry == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert len(curves.breakevens) == 2 and curves.breakevens[0] < 40.0 < curves.breakevens[1]
    for b in curves.breakevens:
        assert float(calendar_pnl_at_near(b, "P", 40.0, gap, row.far_iv, -p.net_price, RATE)) == pytest.approx(
            0.0, abs=0.01)
