"""The trade history (imported broker statements): what the trade-history dock shows, and imports
run off the GUI thread. No Qt."""

from magnus_desktop.services.history.service import HistoryService
from magnus_desktop.services.history.snapshot import HistorySnapshot, build_snapshot, load_snapshot

__all__ = ["HistoryService", "HistorySnapshot", "build_snapshot", "load_snapshot"]
