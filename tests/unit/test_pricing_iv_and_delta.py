"""``iv_and_delta``: the one place an IV (and the delta at it) is read off a single quoted price."""

from __future__ import annotations

import math

import pytest

from magnus_desktop.analytics.pricing import bs_greeks, bs_price, iv_and_delta


@pytest.mark.parametrize(("right", "strike", "dte", "vol"), [("P", 2650.0, 14, 0.31), ("C", 2800.0, 45, 0.18),
                                                              ("P", 2400.0, 3, 0.62)])
def test_recovers_the_volatility_that_priced_the_option(right: str, strike: float, dte: int, vol: float) -> None:
    und, rate, q = 2700.0, 0.015, 0.018
    price = float(bs_price(right, und, strike, dte / 365.0, rate, vol, q))
    iv, delta = iv_and_delta(price, right, und, strike, dte, rate, q)
    assert iv == pytest.approx(vol, abs=1e-8)
    assert delta == pytest.approx(float(bs_greeks(right, und, strike, dte / 365.0, rate, vol, q).delta), abs=1e-8)
    assert (delta < 0) == (right == "P")


@pytest.mark.parametrize(("price", "und", "dte"), [(0.0, 2700.0, 10), (math.nan, 2700.0, 10), (5.0, 2700.0, 0),
                                                   (5.0, math.nan, 10), (5000.0, 2700.0, 10)])
def test_unsolvable_quotes_give_nan_not_an_error(price: float, und: float, dte: int) -> None:
    iv, delta = iv_and_delta(price, "P", und, 2650.0, dte, 0.0)
    assert math.isnan(iv) and math.isnan(delta)


def test_a_bad_right_is_an_error_even_for_an_unsolvable_quote() -> None:
    with pytest.raises(ValueError):
        iv_and_delta(0.0, "X", 2700.0, 2650.0, 10, 0.0)
    with pytest.raises(ValueError):
        iv_and_delta(5.0, "X", 2700.0, 2650.0, 10, 0.0)
