"""Performance of the trade history and the app's fills: daily equity, ratios, trade statistics
(no Qt). See ``analytics.performance`` for the formulas."""

from magnus_desktop.services.performance.inputs import Capital, PerformanceInputs
from magnus_desktop.services.performance.report import METHOD, NO_DATA, PerformanceReport, build_report
from magnus_desktop.services.performance.service import PerformanceService

__all__ = ["METHOD", "NO_DATA", "Capital", "PerformanceInputs", "PerformanceReport", "PerformanceService",
           "build_report"]
