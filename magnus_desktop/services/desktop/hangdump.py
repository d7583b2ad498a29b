"""Stack dumps for a run that hangs: ``MAGNUS_DUMP_STACKS_AFTER=SECONDS``.

When the variable holds a positive number, every thread's Python stack is written to stderr after
that many seconds and again every as many seconds while the process runs (:func:`faulthandler.dump_traceback_later`,
``repeat=True``). It costs nothing until then and changes nothing else: a run that finishes in
time prints nothing. The Windows smoke test sets it for the installed exe's ``ask``, so a run
that never exits shows where each thread waits; a trader can set it the same way to report a
freeze (``set MAGNUS_DUMP_STACKS_AFTER=120`` in ``cmd``, then ``MagnusDesktop.exe ask … 2> stacks.txt``).
"""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Mapping
from typing import TextIO

ENV = "MAGNUS_DUMP_STACKS_AFTER"


def arm_from_env(environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> float | None:
    """Arm the repeating stack dump when :data:`ENV` is a positive number of seconds.

    Args:
        environ: the environment (default ``os.environ``).
        stream: where to write (default ``sys.stderr``); it needs a real file descriptor.

    Returns:
        The interval in seconds, or None when the variable is unset, not a positive number, or the
        stream has no file descriptor (a GUI process without stderr) — never raises.
    """
    text = (os.environ if environ is None else environ).get(ENV, "").strip()
    try:
        seconds = float(text)
    except ValueError:
        return None
    if not 0 < seconds < float("inf"):  # also NaN
        return None
    stream = sys.stderr if stream is None else stream
    try:
        stream.fileno()
        faulthandler.dump_traceback_later(seconds, repeat=True, file=stream)
    except (AttributeError, OSError, ValueError):
        return None
    return seconds
