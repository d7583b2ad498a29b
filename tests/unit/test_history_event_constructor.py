"""``new_history_event``: the fast positional constructor builds exactly the value the dataclass does."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from magnus_desktop.models.history import HistoryEvent, new_history_event

VALUES = ("acct", "robinhood", "rh:0:0", "trade", datetime(2023, 12, 29), "OPT", "SPY231215C00470000", "SPY",
          date(2023, 12, 15), 470.0, "C", 100.0, -1.0, 1.38, 137.97, 0.03, "USD", 1.0, "O", "SPY 12/15/2023 Call", 7)


def test_it_builds_the_value_of_the_dataclass_constructor() -> None:
    fast, slow = new_history_event(*VALUES), HistoryEvent(*VALUES)
    assert type(fast) is HistoryEvent
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert dataclasses.astuple(fast) == VALUES
    assert dataclasses.replace(fast, qty=2.0) == dataclasses.replace(slow, qty=2.0)


def test_the_value_stays_frozen_and_every_field_is_required() -> None:
    event = new_history_event(*VALUES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.qty = 5.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        new_history_event(*VALUES[:-1])
    with pytest.raises(TypeError):
        new_history_event(*VALUES, 8)
