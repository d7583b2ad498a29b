"""Scanner: ranked wheel opportunities of the replay day (``ScannerService``) and the hints that
say which filter to loosen when nothing passes."""

from magnus_desktop.services.scanner.hints import loosen_hints, no_later_expiry
from magnus_desktop.services.scanner.service import (
    ScannerService,
    ScanOutcome,
    scan_params_from_settings,
    scan_records,
)

__all__ = ["ScanOutcome", "ScannerService", "loosen_hints", "no_later_expiry", "scan_params_from_settings", "scan_records"]
