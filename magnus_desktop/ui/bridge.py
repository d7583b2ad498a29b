"""Service events (psygnal) into a view model (QObject), disconnected when the view model goes.

The services run on the qasync loop, which is the GUI thread, so a slot runs directly. When the
view model's C++ object is destroyed (its dock closed for good, a test tearing down), its
subscriptions are dropped, so a service never calls into a deleted object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from psygnal import SignalInstance
from PySide6.QtCore import QObject

Connection = tuple[SignalInstance, Callable[..., Any]]


def bridge(owner: QObject, connections: Iterable[Connection]) -> None:
    """Connect each (service event, slot) pair for as long as ``owner`` lives."""
    made = list(connections)
    for signal, slot in made:
        signal.connect(slot)

    def disconnect(*_args: object) -> None:
        for signal, slot in made:
            with contextlib.suppress(RuntimeError, ValueError, TypeError):
                signal.disconnect(slot)
        made.clear()

    owner.destroyed.connect(disconnect)
