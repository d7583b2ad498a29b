"""services.gcpause: automatic collection off for a command-line bulk job, restored as it was."""

from __future__ import annotations

import gc

import pytest

from magnus_desktop.services.gcpause import automatic_collection_paused


@pytest.fixture(autouse=True)
def _restore_gc():  # type: ignore[no-untyped-def]
    was_on = gc.isenabled()
    yield
    (gc.enable if was_on else gc.disable)()


def test_paused_then_back_on_also_after_an_error() -> None:
    gc.enable()
    with automatic_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), automatic_collection_paused():
        raise ValueError("bad file")
    assert gc.isenabled()


def test_never_turns_on_what_it_did_not_turn_off() -> None:
    gc.disable()  # as the app runs (widgets/gc_guard.py collects on the GUI thread)
    with automatic_collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
