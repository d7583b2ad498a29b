"""The GUI-thread garbage collector's schedule: short young collections, the middle generation every
MIDDLE_EVERY, a full one only when the old generation grew by a quarter (CPython's own rule)."""

from __future__ import annotations

import gc
import threading

import pytest

from magnus_desktop.widgets import gc_guard
from magnus_desktop.widgets.gc_guard import MIDDLE_EVERY, MainThreadGarbageCollector


class FakeGc:
    """Stands in for the gc functions the guard reads, recording what it collects."""

    def __init__(self, old_objects: int) -> None:
        self.count = (0, 0, 0)
        self.old = [object()] * old_objects
        self.collected: list[int] = []

    def get_count(self) -> tuple[int, int, int]:
        return self.count

    def get_objects(self, generation: int | None = None) -> list[object]:
        assert generation == 2
        return self.old

    def collect(self, generation: int = 2) -> int:
        self.collected.append(generation)
        return 0


@pytest.fixture()
def fake_gc(qapp, monkeypatch) -> FakeGc:  # noqa: ANN001
    fake = FakeGc(old_objects=1000)
    monkeypatch.setattr(gc_guard.gc, "get_count", fake.get_count)
    monkeypatch.setattr(gc_guard.gc, "get_objects", fake.get_objects)
    monkeypatch.setattr(gc_guard.gc, "collect", fake.collect)
    return fake


def test_nothing_is_collected_below_the_young_threshold(fake_gc) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()
    try:
        fake_gc.count = (gc.get_threshold()[0] - 1, 50, 50)
        assert guard.check() == -1
        assert fake_gc.collected == []
    finally:
        guard.stop()


def test_middle_generation_every_few_young_collections(fake_gc) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()
    try:
        young = gc.get_threshold()[0] + 1
        fake_gc.count = (young, MIDDLE_EVERY - 1, 0)
        assert guard.check() == 0
        fake_gc.count = (young, MIDDLE_EVERY, 0)
        assert guard.check() == 1
        assert fake_gc.collected == [0, 1]
    finally:
        guard.stop()


def test_full_collection_only_when_the_old_generation_grew_by_a_quarter(fake_gc) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()  # remembers 1,000 old objects
    try:
        due = (gc.get_threshold()[0] + 1, MIDDLE_EVERY, gc.get_threshold()[2] + 1)
        fake_gc.old = [object()] * 1200  # +20 %: not yet
        fake_gc.count = due
        assert guard.check() == 1
        fake_gc.old = [object()] * 1300  # +30 %
        assert guard.check() == 2
        # the baseline is now 1,300: the same size again is not due
        assert guard.check() == 1
        assert fake_gc.collected == [1, 2, 1]
    finally:
        guard.stop()


def test_it_collects_on_the_gui_thread_from_its_timer(qapp, qtbot) -> None:  # noqa: ANN001
    threads: list[str] = []
    before = gc.isenabled()  # off: the session's own guard (tests/ui/conftest.py) runs
    guard = MainThreadGarbageCollector(interval_ms=10)
    original = guard.check

    def check() -> int:
        threads.append(threading.current_thread().name)
        return original()

    guard._timer.timeout.disconnect()
    guard._timer.timeout.connect(check)
    try:
        qtbot.waitUntil(lambda: len(threads) >= 3, timeout=2000)
        assert set(threads) == {threading.main_thread().name}
        assert not gc.isenabled()
    finally:
        guard.stop()
    assert gc.isenabled() == before  # stopping restores what it found (the session's guard keeps gc off)


def test_after_a_freeze_the_smaller_old_generation_is_the_baseline(fake_gc) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()  # 1,000 old objects
    try:
        due = (gc.get_threshold()[0] + 1, MIDDLE_EVERY, gc.get_threshold()[2] + 1)
        fake_gc.count = due
        fake_gc.old = [object()] * 100  # gc.freeze() moved the rest out of the generations
        assert guard.check() == 1  # 100 is the new baseline, not growth
        fake_gc.old = [object()] * 130  # +30 % over 100
        assert guard.check() == 2
    finally:
        guard.stop()


def test_no_collection_while_paused_then_it_resumes(fake_gc) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()
    try:
        fake_gc.count = (gc.get_threshold()[0] + 1, 0, 0)
        with gc_guard.paused():
            with gc_guard.paused():  # blocks may overlap (two refreshes across an await)
                assert guard.check() == -1
            assert gc_guard.is_paused()
            assert guard.check() == -1
        assert not gc_guard.is_paused()
        assert guard.check() == 0
        assert fake_gc.collected == [0]
    finally:
        guard.stop()


def test_a_pause_that_outlives_its_limit_is_ignored(fake_gc, monkeypatch) -> None:  # noqa: ANN001
    guard = MainThreadGarbageCollector()
    try:
        fake_gc.count = (gc.get_threshold()[0] + 1, 0, 0)
        with gc_guard.paused():
            monkeypatch.setattr(gc_guard, "MAX_PAUSE_S", 0.0)
            assert guard.check() == 0
        assert fake_gc.collected == [0]
    finally:
        guard.stop()


def test_a_pause_stops_automatic_collection_and_restores_it() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        with gc_guard.paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with gc_guard.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
