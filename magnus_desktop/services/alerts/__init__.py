"""The alerts centre: monitors (pure functions), de-duplication, persistence, scheduling (no Qt)."""

from magnus_desktop.services.alerts.monitors import (
           MONITOR_NAMES,
           MONITORS,
           KalshiQuote,
           MonitorInput,
           run_monitors,
)
from magnus_desktop.services.alerts.repo import AlertRepo, HistoryFilter
from magnus_desktop.services.alerts.service import AlertService

__all__ = ["MONITORS", "MONITOR_NAMES", "AlertRepo", "AlertService", "HistoryFilter", "KalshiQuote",
           "MonitorInput", "run_monitors"]
