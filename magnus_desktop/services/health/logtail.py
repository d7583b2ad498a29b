"""The log viewer's data: the tail of the current log file as records, filtered by level and text.

Records are parsed from ``services.logs.LOG_FORMAT`` (``2026-12-02 13:55:20,123 INFO    thread
logger: message``); lines that do not start a record (traceback lines) belong to the record before
them. Reads are bounded (:data:`MAX_TAIL_BYTES`) and meant for an executor thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

#: bytes read from the end of the log file
MAX_TAIL_BYTES = 2_000_000
LEVEL_NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


@dataclass(frozen=True, slots=True)
class LogRecordText:
    """One record as written: its ``level`` name and full ``text`` (continuation lines included)."""

    level: str
    text: str

    @property
    def levelno(self) -> int:
        return logging.getLevelName(self.level) if self.level in LEVEL_NAMES else logging.INFO


@dataclass(frozen=True, slots=True)
class LogTail:
    """What was read: the file, its size and modification time (to skip unchanged re-reads),
    whether older lines were left out (``truncated``), and the records."""

    path: Path
    size: int
    mtime_ns: int
    truncated: bool
    records: tuple[LogRecordText, ...]


def current_log_file() -> Path | None:
    """The file the app's rotating file handler writes (None when logging to the console only)."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_magnus_desktop_handler", "") == "file" and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def read_tail(path: Path, max_bytes: int = MAX_TAIL_BYTES) -> LogTail:
    """The last ``max_bytes`` of ``path`` as records (a partial first line is dropped).

    Raises:
        OSError: the file cannot be read (missing, no permission).
    """
    with path.open("rb") as fh:
        stat = path.stat()
        size = stat.st_size
        truncated = size > max_bytes
        if truncated:
            fh.seek(size - max_bytes)
        data = fh.read(max_bytes)
    text = data.decode("utf-8", errors="replace")
    if truncated:
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return LogTail(path, size, stat.st_mtime_ns, truncated, tuple(parse_records(text)))


def parse_records(text: str) -> list[LogRecordText]:
    """``text`` split into records (see the module docstring); leading orphan lines form an INFO record."""
    records: list[LogRecordText] = []
    level, lines = "", []  # the record being gathered
    for line in text.splitlines():
        match = _RECORD.match(line)
        if match is not None:
            if lines:
                records.append(LogRecordText(level or "INFO", "\n".join(lines)))
            level, lines = match.group(1), [line]
        else:
            lines.append(line)
    if lines and any(lines):
        records.append(LogRecordText(level or "INFO", "\n".join(lines)))
    return records


def filter_records(records: tuple[LogRecordText, ...] | list[LogRecordText], min_level: str = "DEBUG",
                   search: str = "") -> list[LogRecordText]:
    """The records at ``min_level`` or above whose text contains ``search`` (case-insensitive).

    Raises:
        ValueError: ``min_level`` is not one of :data:`LEVEL_NAMES`.
    """
    if min_level not in LEVEL_NAMES:
        raise ValueError(f"unknown log level {min_level!r}; use one of {', '.join(LEVEL_NAMES)}")
    floor = logging.getLevelName(min_level)
    needle = search.strip().casefold()
    return [r for r in records if r.levelno >= floor and (not needle or needle in r.text.casefold())]
