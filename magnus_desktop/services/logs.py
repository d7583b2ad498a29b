"""Logging to a rotating file in the user log dir (and stderr for warnings)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Attach a 2 MB x 5 rotating handler to the root logger; returns the log file path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "magnus-desktop.log"
    root = logging.getLogger()
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(console)
    root.setLevel(level)
    return path


def setup_console_logging(level: int = logging.INFO) -> None:
    """Log to stderr only (used when the log folder cannot be written)."""
    root = logging.getLogger()
    if not any(type(h) is logging.StreamHandler for h in root.handlers):
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(console)
    root.setLevel(level)
