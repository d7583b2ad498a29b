"""``services.history.month_bars``: the dock's monthly bars per account, summed off the GUI thread
(realized P&L of the lots closed in each month, times each close's ``fx_rate_to_base``)."""

from __future__ import annotations

from datetime import datetime

import pytest

from magnus_desktop.analytics.realized import LotMatch
from magnus_desktop.services.history.snapshot import month_bars


def _match(account: str, closed: datetime, realized: float, fx: float = 1.0) -> LotMatch:
    return LotMatch(account, "STK:X", "X", datetime(2023, 1, 2), closed, 1.0, 1.0, 2.0, 1.0, realized, "USD", fx)


def test_bars_are_per_account_and_month_in_base_currency() -> None:
    matches = [
        _match("A", datetime(2023, 3, 5), 10.0),
        _match("B", datetime(2023, 3, 6), 99.0),
        _match("A", datetime(2023, 3, 30), -4.0, fx=0.5),
        _match("A", datetime(2023, 1, 9), 7.0, fx=2.0),
        _match("A", datetime(2024, 1, 9), 1.5),
    ]
    bars = month_bars(matches)
    assert set(bars) == {"A", "B"}
    months, values = bars["A"]
    assert months == ["2023-01", "2023-03", "2024-01"]
    assert values == pytest.approx([14.0, 8.0, 1.5])
    assert bars["B"] == (["2023-03"], [99.0])
    assert month_bars([]) == {}
