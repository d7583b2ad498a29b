"""Risk of the active account (no Qt): Greeks, scenario grid, VaR/ES, stress, the 5 Feb 2018
replay and the VaR backtest (``service.RiskService``; the computation in ``report``)."""

from magnus_desktop.services.risk.report import RiskReport, compute_report
from magnus_desktop.services.risk.service import RiskService, ScenarioError

__all__ = ["RiskReport", "RiskService", "ScenarioError", "compute_report"]
