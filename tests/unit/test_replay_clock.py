from __future__ import annotations

import asyncio
from datetime import date

import pytest

from magnus_desktop.services.replay import ReplayClock

DAYS = [date(2018, 1, 2), date(2018, 1, 3), date(2018, 1, 5), date(2018, 1, 8)]


def test_step_and_jump_emit_dates() -> None:
    clock = ReplayClock(DAYS)
    seen: list[date] = []
    clock.date_changed.connect(seen.append)
    assert clock.step() and clock.current == DAYS[1]
    assert clock.jump(date(2018, 1, 6)) == date(2018, 1, 5)  # a weekend goes to the previous trading day
    assert clock.jump(date(2017, 12, 1)) == DAYS[0]
    assert not clock.step(-1)
    clock.jump(date(2019, 1, 1))
    assert clock.at_end and not clock.step()
    assert seen == [DAYS[1], DAYS[2], DAYS[0], DAYS[3]]


def test_empty_calendar_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        ReplayClock([])


@pytest.mark.asyncio
async def test_play_runs_to_the_end_and_stops() -> None:
    clock = ReplayClock(DAYS, speed=200.0)
    states: list[bool] = []
    clock.playing_changed.connect(states.append)
    seen: list[date] = []
    clock.date_changed.connect(seen.append)
    clock.play()
    for _ in range(200):
        if not clock.is_playing:
            break
        await asyncio.sleep(0.01)
    assert seen == DAYS[1:]
    assert states == [True, False]


@pytest.mark.asyncio
async def test_pause_stops_and_loop_wraps() -> None:
    clock = ReplayClock(DAYS, speed=500.0, loop_at_end=True)
    seen: list[date] = []
    clock.date_changed.connect(seen.append)
    clock.play()
    await asyncio.sleep(0.05)
    clock.pause()
    count = len(seen)
    await asyncio.sleep(0.03)
    assert len(seen) == count and count > len(DAYS)  # wrapped around at least once
    assert DAYS[0] in seen
    await clock.aclose()
