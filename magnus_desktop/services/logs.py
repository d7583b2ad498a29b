"""Logging to a rotating file in the user log dir (and stderr for warnings), credentials masked.

Every handler installed here carries :class:`SecretMaskingFilter`, so passwords in messages,
arguments, exception text and stack text never reach the log file or the console.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from magnus_desktop.services.redact import mask_secrets

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"
LOG_FILE_NAME = "magnus-desktop.log"
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}
_OURS = "_magnus_desktop_handler"  # attribute marking the handlers this module installed


class SecretMaskingFilter(logging.Filter):
    """Rewrites each record with credentials masked (message + args merged, exception and stack text).

    Attach it to handlers (a logger's filters do not see records propagated from child loggers).
    """

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__()
        self._formatter = formatter or logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — args that do not fit the format: keep the text, drop the args
            message = f"{record.msg!s} (arguments dropped: they did not match the format)"
        record.msg, record.args = mask_secrets(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def parse_level(level: int | str) -> int:
    """A ``logging`` level number from ``"DEBUG"``/``"INFO"``/``"WARNING"``/``"ERROR"`` or a number.

    Raises:
        ValueError: an unknown level name.
    """
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}") from None


def set_log_level(level: int | str) -> None:
    """Change the root level now (the Settings dialog's live change).

    Raises:
        ValueError: an unknown level name.
    """
    logging.getLogger().setLevel(parse_level(level))


def setup_logging(log_dir: Path, level: int | str = logging.INFO, *, fallback_dir: Path | None = None) -> Path:
    """Log to ``log_dir/magnus-desktop.log`` (2 MB x 5 rotating) and warnings to stderr.

    Calling it again with another folder moves the file handler there (the console handler is
    kept); the level is applied every time.

    Args:
        log_dir: folder of the log file (created if missing).
        level: root level, a name (``"INFO"``) or a ``logging`` number.
        fallback_dir: used when ``log_dir`` cannot be created or written (a warning is logged).

    Returns:
        The log file in use.

    Raises:
        OSError: neither folder can hold the log file.
        ValueError: an unknown level name.
    """
    root = logging.getLogger()
    root.setLevel(parse_level(level))
    try:
        path = _attach_file_handler(root, log_dir)
    except OSError as exc:
        if fallback_dir is None or fallback_dir == log_dir:
            raise
        path = _attach_file_handler(root, fallback_dir)
        logging.getLogger(__name__).warning(
            "cannot write logs to %s (%s); logging to %s instead", log_dir, exc.strerror or exc, fallback_dir)
    if not any(getattr(h, _OURS, "") == "console" for h in root.handlers):
        root.addHandler(_ours(logging.StreamHandler(), "console", logging.WARNING))
    return path


def _attach_file_handler(root: logging.Logger, log_dir: Path) -> Path:
    path = log_dir / LOG_FILE_NAME
    current = [h for h in root.handlers if getattr(h, _OURS, "") == "file"]
    if any(Path(h.baseFilename) == path.absolute() for h in current if isinstance(h, logging.FileHandler)):
        return path
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    root.addHandler(_ours(handler, "file", logging.NOTSET))
    for old in current:
        root.removeHandler(old)
        old.close()
    return path


def _ours(handler: logging.Handler, kind: str, level: int) -> logging.Handler:
    formatter = logging.Formatter(LOG_FORMAT)
    handler.setFormatter(formatter)
    handler.setLevel(level)
    handler.addFilter(SecretMaskingFilter(formatter))
    setattr(handler, _OURS, kind)
    return handler


def setup_console_logging(level: int | str = logging.INFO) -> None:
    """Log everything to stderr only, credentials masked (the log folder cannot be written)."""
    root = logging.getLogger()
    root.setLevel(parse_level(level))
    if not any(getattr(h, _OURS, "") == "console" for h in root.handlers):
        root.addHandler(_ours(logging.StreamHandler(), "console", logging.NOTSET))
