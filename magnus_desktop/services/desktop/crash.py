"""Crash reports: one text file per uncaught error in the log folder, credentials masked.

``crash-<UTC time>.txt`` holds the app version, platform, Python, where it happened (thread, Qt
message) and the traceback. "Help → Report a problem" puts them in its zip.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from magnus_desktop import __version__
from magnus_desktop.services.redact import mask_secrets

CRASH_PREFIX = "crash-"


def system_summary() -> str:
    """Version, platform and interpreter, one per line (crash reports and the problem report)."""
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    return (f"Magnus Desktop {__version__}{frozen}\nPlatform: {platform.platform()} ({platform.machine()})\n"
            f"Python: {sys.version.split()[0]} {platform.python_implementation()}\n")


def write_crash_report(log_dir: Path, where: str, details: str, now: datetime | None = None) -> Path:
    """Write one crash report; returns its path.

    Args:
        log_dir: the log folder (created if missing).
        where: "main thread", "thread <name>", "Qt fatal message" …
        details: the traceback or message text (masked again here).

    Raises:
        OSError: the folder cannot be written (the caller logs and carries on).
    """
    now = now or datetime.now(UTC)
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%d-%H%M%S-%f")
    path = log_dir / f"{CRASH_PREFIX}{stamp}.txt"
    text = (f"Uncaught error in {where} at {now.isoformat(timespec='seconds')}\n{system_summary()}\n"
            f"{mask_secrets(details)}")
    path.write_text(text, encoding="utf-8")
    return path
