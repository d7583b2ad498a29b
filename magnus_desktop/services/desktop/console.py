"""Console output for the Windows build's command-line commands.

``MagnusDesktop.exe`` is a GUI-subsystem program (no console window flashes when the app starts
from the Start menu), so Windows gives it no standard handles when it is typed in ``cmd`` or
PowerShell: ``MagnusDesktop.exe scan --format json`` printed nothing. A redirected or piped run
(``> out.json``, ``| more``) inherits real handles and needs nothing. When there are none, the
process attaches to its parent's console and writes there (``AttachConsole(ATTACH_PARENT_PROCESS)``
and the ``CONOUT$`` device; source:
https://learn.microsoft.com/windows/console/attachconsole). ``cmd`` does not wait for a GUI
program, so the prompt may come back before the output; ``start /wait MagnusDesktop.exe …`` waits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

#: AttachConsole's "the console of the parent process" (winbase.h)
ATTACH_PARENT_PROCESS = -1


def attach_parent_console(argv: list[str], kernel32: Any | None = None,
                          opener: Callable[[str, str], TextIO] | None = None) -> bool:
    """Give a handle-less GUI process's ``sys.stdout``/``sys.stderr`` (None) the parent's console.

    Only for a command-line run (``argv`` has arguments); a plain double-click start stays silent.
    Streams that exist (a pipe, a file, a console program) are left alone.

    Args:
        argv: ``sys.argv``.
        kernel32: ``ctypes.windll.kernel32`` or a stand-in (tests); default: the real one on Windows.
        opener: ``open`` or a stand-in (tests), called as ``opener("CONOUT$", "w")``.

    Returns:
        True when the streams now write to the parent's console; False off Windows, without
        arguments, with streams already present, or when there is no parent console.
    """
    if len(argv) < 2 or (sys.stdout is not None and sys.stderr is not None):
        return False
    if kernel32 is None:
        if sys.platform != "win32":
            return False
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    if not kernel32.AttachConsole(ATTACH_PARENT_PROCESS):
        return False
    opener = opener or (lambda name, mode: open(name, mode, encoding="utf-8", errors="replace"))  # noqa: SIM115
    try:
        console = opener("CONOUT$", "w")
    except OSError:
        return False
    if sys.stdout is None:
        sys.stdout = console
    if sys.stderr is None:
        sys.stderr = console
    return True
