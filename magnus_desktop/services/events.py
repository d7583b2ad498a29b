"""Isolated event delivery: one subscriber that raises never silences the others.

psygnal 0.16 stops an emit at the first subscriber that raises (``EmitLoopError``) and has no option to
go on, so services emit through :func:`emit_isolated` (signals) or :func:`call_isolated` (plain
listener callables). A failing subscriber is logged with its traceback the first time and counted
after that.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from psygnal import SignalInstance

log = logging.getLogger(__name__)

#: failures per subscriber (its qualified name), for diagnostics and tests
failures: Counter[str] = Counter()


def _name(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or repr(obj)


def call_isolated(callback: Callable[..., Any], *args: Any) -> bool:
    """Call ``callback(*args)``; log (first time with traceback) and return False if it raises."""
    try:
        callback(*args)
    except Exception:
        key = _name(callback)
        failures[key] += 1
        if failures[key] == 1:
            log.exception("subscriber %s raised; it keeps getting events, the others are unaffected", key)
        else:
            log.warning("subscriber %s raised again (%d times)", key, failures[key])
        return False
    return True


def emit_isolated(signal: SignalInstance, *args: Any) -> int:
    """Emit ``signal`` to each connected slot separately; returns how many slots raised.

    Honours ``signal.blocked()``. Slots whose object was garbage collected are skipped.
    """
    if signal._is_blocked:  # noqa: SLF001 - psygnal has no public per-slot emit
        return 0
    failed = 0
    for slot in list(signal._slots):  # noqa: SLF001
        if not slot._is_alive():  # noqa: SLF001
            continue
        try:
            slot.cb(args)
        except Exception:
            key = _name(getattr(slot, "_f", None) or slot)
            failures[key] += 1
            failed += 1
            if failures[key] == 1:
                log.exception("subscriber %s of %s raised; the other subscribers still ran", key, signal.name)
            else:
                log.warning("subscriber %s of %s raised again (%d times)", key, signal.name, failures[key])
    return failed
