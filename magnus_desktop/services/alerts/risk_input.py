"""The risk-limits monitor's input (blocking: compute thread; no Qt): the limits of Settings → Risk
and the book's P&L in the max-loss scenario, taken from the risk report of the same account and day
when there is one, else computed for that one scenario (the Risk dock may be hidden, its service
paused)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from magnus_desktop.models.domain import AccountSummary
from magnus_desktop.services.alerts.monitors import RiskLimitInput
from magnus_desktop.services.market.recorded import MarketDataError, ReplayMarketData
from magnus_desktop.services.risk.report import RiskReport
from magnus_desktop.services.risk.scenarios import UnknownScenarioError, scenario_stress
from magnus_desktop.services.settings import RiskLimitSettings, UserScenario


class RiskLimitInputError(ValueError):
    """The max-loss limit cannot be checked (unknown scenario, no data): the message says why."""


def risk_limit_input(limits: RiskLimitSettings, summary: AccountSummary | None, day: date,
                     report: RiskReport | None, market: ReplayMarketData, user: Sequence[UserScenario], *,
                     rate: float, div_yield: float, days: Sequence[date] = ()) -> RiskLimitInput:
    """The monitor's :class:`RiskLimitInput` at ``day`` (the scenario P&L only when the max-loss
    limit is on).

    Raises:
        RiskLimitInputError: the max-loss scenario does not exist or cannot be computed.
    """
    name = limits.max_loss_scenario
    if limits.max_loss_usd is None or summary is None:
        return RiskLimitInput(limits, name)
    if report is not None and report.as_of == day:
        for s in report.stress:
            if s.scenario.name == name:
                return RiskLimitInput(limits, name, s.scenario.label, s.pnl,
                                      f"risk report of {report.account} on {day.isoformat()}")
    try:
        res = scenario_stress(summary, day, market, name, user, rate=rate, div_yield=div_yield, days=days)
    except (UnknownScenarioError, MarketDataError, ValueError) as exc:
        raise RiskLimitInputError(f"the max-loss limit cannot be checked: {exc}") from exc
    pnl = res.pnl if math.isfinite(res.pnl) else math.nan
    return RiskLimitInput(limits, name, res.scenario.label, pnl,
                          f"full revaluation of the positions on {day.isoformat()} for the alerts")
