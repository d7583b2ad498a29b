"""``analytics.realized.month_of``: the month label of realized P&L, formatted without strftime."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from magnus_desktop.analytics.realized import month_of


@pytest.mark.parametrize("when", [datetime(2018, 1, 2, 9, 30), datetime(2023, 12, 31, 23, 59), date(2024, 2, 29),
                                  datetime(1999, 10, 1)])
def test_month_of_is_the_strftime_year_month(when: date) -> None:
    assert month_of(when) == when.strftime("%Y-%m")
