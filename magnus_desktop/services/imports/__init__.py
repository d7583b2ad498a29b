"""Broker statement imports into the trade history (no Qt): IBKR Flex XML and Robinhood CSV.

``import_file(db, path)`` parses, reconciles and stores one file in one transaction; see
``ibkr_flex``, ``robinhood_csv`` and ``reconcile`` for what each reads and checks.
"""

from magnus_desktop.services.imports.common import (
    FILE_KINDS,
    FileKind,
    ImportFormatError,
    ParsedFile,
    SkippedLine,
)
from magnus_desktop.services.imports.reconcile import ReconciliationRow, reconcile
from magnus_desktop.services.imports.service import (
    ImportReport,
    count_rows,
    detect_kind,
    import_file,
    load_events,
    load_position_events,
    load_position_rows,
    parse_file,
)

__all__ = [
    "FILE_KINDS", "FileKind", "ImportFormatError", "ImportReport", "ParsedFile", "ReconciliationRow",
    "SkippedLine", "count_rows", "detect_kind", "import_file", "load_events", "load_position_events",
    "load_position_rows", "parse_file", "reconcile",
]
