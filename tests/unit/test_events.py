"""``emit_isolated``: one subscriber that raises never silences the others (psygnal alone would)."""

from __future__ import annotations

import logging

import pytest
from psygnal import EmitLoopError, Signal

from magnus_desktop.services import events
from magnus_desktop.services.events import call_isolated, emit_isolated


class Source:
    changed = Signal(int, str)


def test_plain_psygnal_emit_stops_at_the_first_raising_subscriber() -> None:
    """The reason the helper exists (if psygnal ever changes this, the helper may go)."""
    source, got = Source(), []

    def bad(_n: int, _s: str) -> None:
        raise RuntimeError("boom")

    source.changed.connect(bad)
    source.changed.connect(lambda n, s: got.append((n, s)))
    with pytest.raises(EmitLoopError):
        source.changed.emit(1, "a")
    assert got == []


def test_every_subscriber_runs_and_the_failure_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    source, got = Source(), []

    def first(n: int, s: str) -> None:
        got.append(("first", n, s))

    def broken_subscriber(_n: int, _s: str) -> None:
        raise ValueError("bad subscriber")

    def last(n: int, s: str) -> None:
        got.append(("last", n, s))

    for slot in (first, broken_subscriber, last):
        source.changed.connect(slot)
    events.failures.clear()
    with caplog.at_level(logging.WARNING, logger="magnus_desktop.services.events"):
        assert emit_isolated(source.changed, 1, "a") == 1
        assert emit_isolated(source.changed, 2, "b") == 1
    assert got == [("first", 1, "a"), ("last", 1, "a"), ("first", 2, "b"), ("last", 2, "b")]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "broken_subscriber" in tracebacks[0].getMessage()
    assert "raised again (2 times)" in caplog.records[-1].getMessage()


def test_a_blocked_signal_delivers_nothing() -> None:
    source, got = Source(), []
    source.changed.connect(lambda n, s: got.append(n))
    with source.changed.blocked():
        assert emit_isolated(source.changed, 1, "a") == 0
    emit_isolated(source.changed, 2, "b")
    assert got == [2]


def test_call_isolated_reports_failure_without_raising() -> None:
    def broken(_x: int) -> None:
        raise KeyError("x")

    assert call_isolated(broken, 1) is False
    assert call_isolated(lambda x: None, 1) is True
