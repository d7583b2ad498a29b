"""What the running window does when a second launch hands over its command line."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

log = logging.getLogger(__name__)


def parse_forwarded(argv: Sequence[str]) -> tuple[argparse.Namespace | None, str]:
    """(the parsed GUI options, "") or (None, the parser's one-line complaint)."""
    from magnus_desktop.cli import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(list(argv)), ""
    except SystemExit:
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        return None, lines[-1] if lines else "unreadable command line"


def bring_to_front(window: QMainWindow) -> None:
    """Show the window (also from the tray or minimised) and ask the window manager for focus."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()


def activate_from_command_line(window: QMainWindow, argv: Sequence[str]) -> list[str]:
    """Bring ``window`` to the front and apply the second launch's options; returns what was done or
    refused, as sentences (also shown in the status bar). ``--replay-date`` moves the replay;
    ``--theme`` switches the theme; ``--db-url`` and ``--screenshot`` need a new process."""
    bring_to_front(window)
    args, problem = parse_forwarded(argv)
    vm = getattr(window, "vm", None)
    if args is None:
        done = [f"Another launch passed a command line that was not understood: {problem}"]
    else:
        done = []
        if args.replay_date is not None and vm is not None:
            vm.jump(args.replay_date)
            done.append(f"Replay moved to {args.replay_date} (from another launch).")
        if args.theme and vm is not None:
            vm.set_theme(args.theme)
            done.append(f"Theme set to {args.theme} (from another launch).")
        if args.db_url or args.screenshot:
            done.append("Magnus Desktop is already running: --db-url and --screenshot apply to a new start only; "
                        "quit this window first.")
    for sentence in done:
        log.info("%s", sentence)
        show = getattr(window, "show_notice", None)
        if show is not None:
            show(sentence)
    return done
