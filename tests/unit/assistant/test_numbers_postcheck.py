"""Numbers as people write them, and the post-check that removes figures no tool returned."""

from __future__ import annotations

from datetime import date

import pytest

from magnus_desktop.services.assistant.numbers import contains_value, find_numbers, fmt_pct, fmt_usd, matches
from magnus_desktop.services.assistant.postcheck import REMOVED, allowed_numbers, check_numbers


@pytest.mark.parametrize("text", ["0.2372", "23.7 %", "23.72%", "about 24%", "IV of 23.7 percent"])
def test_an_iv_is_accepted_as_a_decimal_or_a_percentage(text: str) -> None:
    assert contains_value(text, 0.2372)


@pytest.mark.parametrize("text", ["$1,234.50", "1234.5", "1,234.50 USD", "-$1,234.50", "a loss of $1,234.5"])
def test_money_is_accepted_with_dollar_sign_and_thousands(text: str) -> None:
    assert contains_value(text, -1234.5) and contains_value(text, 1234.5)


@pytest.mark.parametrize(("text", "value"), [("23.8 %", 0.2372), ("$1,235.50", 1234.5), ("0.25", 0.2372),
                                             ("2,700", 2650.0), ("6.40", 6.1)])
def test_a_different_figure_is_not_accepted(text: str, value: float) -> None:
    assert not contains_value(text, value)


def test_find_numbers_reads_signs_decimals_and_percent() -> None:
    found = find_numbers("net delta -44.25 shares, IV 34.2 %, strike 2,650")
    assert [(n.value, n.decimals, n.percent) for n in found] == [(-44.25, 2, False), (34.2, 1, True), (2650.0, 0, False)]
    assert matches(found[1], 0.3423) and not matches(found[1], 0.35)


def test_formatting_round_trips_through_the_matcher() -> None:
    for value in (1234.5, -98.76, 0.0):
        assert contains_value(fmt_usd(value), value)
    assert contains_value(fmt_pct(0.08943), 0.08943)


def test_post_check_keeps_figures_from_the_results_and_removes_invented_ones() -> None:
    allowed = allowed_numbers([6.1, 6.4, 0.0894, date(2018, 1, 31), "SPX 2,700 put"], "bid and ask on 2018-01-10?")
    checked = check_numbers("The 2,700 put expiring 2018-01-31 had a bid of $6.10 and an ask of 6.40 (IV 8.9 %), "
                            "so buy 5 contracts at 7.25.", allowed)
    assert checked.removed == ("5", "7.25")
    assert checked.text.count(REMOVED) == 2
    assert "$6.10" in checked.text and "6.40" in checked.text and "8.9 %" in checked.text
    assert "2 figure(s)" in checked.note


def test_post_check_of_text_without_numbers_changes_nothing() -> None:
    checked = check_numbers("Vega measures sensitivity to volatility.", [])
    assert checked.text == "Vega measures sensitivity to volatility." and checked.removed == () and checked.note == ""
