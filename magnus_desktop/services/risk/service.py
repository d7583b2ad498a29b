"""``RiskService``: recomputes the risk report on each portfolio update of the active account
(the demo account: the replay positions and fills; a real account: the broker's positions).

The report is computed on its own executor (``"risk"``), at most every :data:`MIN_INTERVAL_S`
seconds while the account keeps changing; updates that arrive while one runs are coalesced
into one more run with the latest account. The trader's scenarios are kept in the settings
(``Settings.risk_scenarios``) and saved with them.

Events (payloads):
    report_changed(RiskReport)   a new report of the active account
    failed(str)                  the report could not be computed (why)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from psygnal import Signal
from pydantic import ValidationError

from magnus_desktop.analytics.risk import RiskError, Scenario
from magnus_desktop.models.domain import AccountSummary
from magnus_desktop.services.coalescing import CoalescingWorker
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.recorded import MarketDataError
from magnus_desktop.services.risk.positions import KnownMark, to_risk_positions
from magnus_desktop.services.risk.report import RiskReport, compute_report
from magnus_desktop.services.risk.scenarios import to_scenarios
from magnus_desktop.services.settings import SettingsSaveError, UserScenario, describe_validation_error

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)


#: the executor the reports are computed on (one thread of its own)
EXECUTOR = "risk"
#: the least time between two reports while the account keeps changing, seconds
MIN_INTERVAL_S = 2.0


class ScenarioError(ValueError):
    """A user scenario cannot be saved or deleted as asked (the message says why)."""


class RiskService:
    """Risk of the account the portfolio service publishes. ``await start()``; ``aclose()``."""

    report_changed = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.last_report: RiskReport | None = None
        self._known: dict[object, KnownMark] = {}
        # a replay at 10 days/s changes the account 10 times a second: a report starts at most every
        # ``min_interval_s`` (the latest account wins), so the risk thread does not compete with the
        # panels' refresh for the CPU and the GIL
        self._worker: CoalescingWorker[AccountSummary] = CoalescingWorker(
            self._report, name="risk report", min_interval_s=MIN_INTERVAL_S, closed=lambda: ctx.closed)
        if EXECUTOR not in ctx.executors:  # its own thread: a report never queues ahead of a refresh pass
            ctx.executors.add(EXECUTOR)

    async def start(self) -> None:
        self._ctx.portfolio.account_changed.connect(self._on_portfolio_account_changed)

    async def aclose(self) -> None:
        self._ctx.portfolio.account_changed.disconnect(self._on_portfolio_account_changed)
        await self._worker.aclose()

    @property
    def min_interval_s(self) -> float:
        """Seconds between two reports while the account keeps changing (a replay playing)."""
        return self._worker.min_interval_s

    @min_interval_s.setter
    def min_interval_s(self, seconds: float) -> None:
        self._worker.min_interval_s = seconds

    @property
    def user_scenarios(self) -> tuple[Scenario, ...]:
        """The trader's scenarios (``Settings.risk_scenarios``) as the report uses them."""
        return to_scenarios(self._ctx.settings.risk_scenarios)

    async def save_scenario(self, scenario: UserScenario, replacing: str | None = None) -> str | None:
        """Add ``scenario``, or put it in place of the one called ``replacing``; persist the settings
        and recompute the report.

        Returns:
            None when saved, else why the settings file could not be written (the scenario is then
            kept for this session only).
        Raises:
            ScenarioError: another scenario already has that name, or too many scenarios.
        """
        current = list(self._ctx.settings.risk_scenarios)
        names = [s.name.casefold() for s in current]
        old = replacing.casefold() if replacing is not None else None
        if scenario.name.casefold() in names and scenario.name.casefold() != old:
            raise ScenarioError(f"a scenario named {scenario.name!r} exists already; choose another name")
        if old is not None and old in names:
            current[names.index(old)] = scenario
        else:
            current.append(scenario)
        limits = self._ctx.settings.risk_limits
        renamed = old is not None and limits.max_loss_scenario.casefold() == old and scenario.name.casefold() != old
        self._store(current)
        if renamed:  # the max-loss limit follows its scenario's new name
            limits.max_loss_scenario = scenario.name
        return await self._persist()

    async def delete_scenario(self, name: str) -> str | None:
        """Delete the user scenario ``name``; persist and recompute (returns as :meth:`save_scenario`).

        Raises:
            ScenarioError: the max-loss limit of Settings → Risk uses it (choose another scenario there first),
                or there is no such user scenario.
        """
        current = list(self._ctx.settings.risk_scenarios)
        kept = [s for s in current if s.name.casefold() != name.casefold()]
        if len(kept) == len(current):
            raise ScenarioError(f"there is no scenario of yours named {name!r}")
        limits = self._ctx.settings.risk_limits
        if limits.max_loss_usd is not None and limits.max_loss_scenario.casefold() == name.casefold():
            raise ScenarioError(f"the max-loss limit (Settings → Risk) is measured in {name!r}: choose another "
                                "scenario there first")
        self._store(kept)
        if limits.max_loss_scenario.casefold() == name.casefold():  # unused limit: back to its default
            limits.max_loss_scenario = type(limits).model_fields["max_loss_scenario"].default
        return await self._persist()

    def _store(self, scenarios: list[UserScenario]) -> None:
        try:
            self._ctx.settings.risk_scenarios = scenarios
        except ValidationError as exc:
            raise ScenarioError(describe_validation_error(exc)) from None
        if self._ctx.portfolio.last_summary is not None:
            self._on_portfolio_account_changed(self._ctx.portfolio.last_summary)

    async def _persist(self) -> str | None:
        try:
            saved = await self._ctx.save_settings()
        except (OSError, SettingsSaveError) as exc:
            log.warning("risk scenarios not saved: %s", exc)
            return f"{exc}; the scenarios are kept for this session only"
        return None if saved else (f"settings cannot be saved this session ({self._ctx.settings_read_only}); "
                                   "the scenarios are kept for this session only")

    @property
    def paused(self) -> bool:
        return self._worker.paused

    def set_paused(self, paused: bool) -> None:
        """Paused, account changes are kept (the latest) but no report is computed: the Risk dock
        pauses the service while it is hidden, so a replay does not pay for reports nobody sees.
        Resuming computes the latest account at once."""
        self._worker.set_paused(paused)

    def _on_portfolio_account_changed(self, summary: AccountSummary) -> None:
        if not self._ctx.closed:
            self._worker.submit(summary)

    async def _report(self, summary: AccountSummary) -> None:
        """The worker's job: compute and publish the report of ``summary``."""
        try:
            report = await self.compute(summary)
        except (RiskError, MarketDataError, ValueError) as exc:
            log.warning("risk report failed: %s", exc)
            emit_isolated(self.failed, str(exc))
            return
        self.last_report = report
        emit_isolated(self.report_changed, report)

    async def compute(self, summary: AccountSummary) -> RiskReport:
        """The report of ``summary`` (compute thread): demo fills enable the replay backtest."""
        ctx = self._ctx
        demo = summary.source == "replay"
        fills = tuple(ctx.portfolio.fills) if demo else None
        account = summary.account or ("demo" if demo else summary.source)
        return await ctx.executors.run(EXECUTOR, self._compute, summary, account, fills, self.user_scenarios)

    def _compute(self, summary: AccountSummary, account: str, fills: tuple | None,
                 scenarios: tuple[Scenario, ...]) -> RiskReport:
        ctx = self._ctx
        rate, div = ctx.settings.risk_free_rate, ctx.settings.dividend_yield
        positions = to_risk_positions(summary.positions, summary.as_of, rate, div, market=ctx.market,
                                      days=ctx.days, known=self._known)
        return compute_report(account, positions, summary.as_of, ctx.market, rate=rate, div_yield=div,
                              user_scenarios=scenarios, fills=fills)
