"""``AlertService``: runs the monitors, de-duplicates, persists and publishes alerts (no Qt).

The monitors run on every replay step (the context's refresher calls :meth:`refresh`), on every
coalesced account update of a real broker account (quote batches), the risk-limits monitor also on
every new risk report (``RiskService.report_changed``), and all on their cadence
(:class:`MonitorScheduler`, APScheduler on the asyncio loop). Input building and the monitors run on the compute executor, storage
on the db executor; the alert list is only touched on the loop thread. In replay "now" is the close
of the replay day, so the cool-down and snoozes follow the replay clock.

Events (payloads):
    alerts_changed(tuple[Alert])   every alert not dismissed (snoozed ones included), oldest first
    raised(tuple[Alert])           alerts raised by one run (for notifications)
    problems_changed(tuple[str])   what the trader should know: monitors that failed (once each),
                                   sources missing offline (earnings, dividends, Kalshi)
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from psygnal import Signal

from magnus_desktop.models.alerts import Alert, AlertState
from magnus_desktop.services.alerts.dedupe import dedupe
from magnus_desktop.services.alerts.inputs import KALSHI_NOTE, OFFLINE_NOTES, build_input
from magnus_desktop.services.alerts.monitors import (
    MONITORS,
    KalshiQuote,
    MonitorRun,
    RiskLimitInput,
    run_monitors,
)
from magnus_desktop.services.alerts.repo import AlertRepo, HistoryFilter
from magnus_desktop.services.alerts.risk_input import RiskLimitInputError, risk_limit_input
from magnus_desktop.services.alerts.schedule import MonitorScheduler
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.recorded import close_of_day
from magnus_desktop.services.storage import StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.risk.report import RiskReport

log = logging.getLogger(__name__)
#: a real account's quote batches run the monitors at most this often (s)
LIVE_RUN_INTERVAL = 1.0
KalshiSource = Callable[[], Sequence[KalshiQuote]]


class AlertService:
    """The alerts centre of one app session. Created by the ``AppContext``; ``await start()``."""

    alerts_changed = Signal(object)
    raised = Signal(object)
    problems_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        #: alerts not dismissed, plus those inside the cool-down (the de-duplication memory)
        self._known: list[Alert] = []
        self._prev_scan_best: dict[str, float] = {}
        self._failures: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._memory_ids = itertools.count(-1, -1)
        self._save_problem_reported = False
        self._live_handle: asyncio.TimerHandle | None = None
        self._last_live_run = -LIVE_RUN_INTERVAL
        self._live_task: asyncio.Task[None] | None = None
        self._risk_tasks: set[asyncio.Task[tuple[Alert, ...]]] = set()
        #: the Kalshi hook: a callable returning the markets to check (None = not connected)
        self.kalshi_source: KalshiSource | None = None
        #: False: only replay steps and quote batches run the monitors (the headless CLI)
        self.scheduled = True
        self.scheduler = MonitorScheduler(self._cadences, self.run_scheduled)

    # ---- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.reload()
        self._ctx.portfolio.account_changed.connect(self._on_portfolio_account_changed)
        self._ctx.risk.report_changed.connect(self._on_risk_report_changed)
        if self.scheduled:
            self.scheduler.start()
        emit_isolated(self.problems_changed, self.problems())

    async def reload(self) -> None:
        """Read the account's open and recent alerts from the database."""
        ctx = self._ctx
        since = datetime.now(UTC) - timedelta(days=3650)  # replay alerts are dated 2018: keep them all
        try:
            self._known = await ctx.run_db(AlertRepo(ctx.db).open_alerts, self.account, since)
        except StorageError as exc:
            log.warning("alerts not read: %s", exc)
            self._known = []
        emit_isolated(self.alerts_changed, self.visible())

    async def aclose(self) -> None:
        self._ctx.portfolio.account_changed.disconnect(self._on_portfolio_account_changed)
        self._ctx.risk.report_changed.disconnect(self._on_risk_report_changed)
        if self._live_handle is not None:
            self._live_handle.cancel()
        await self.scheduler.aclose()
        for task in (self._live_task, *self._risk_tasks):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)

    # ---- what is shown ------------------------------------------------------------------------------
    @property
    def account(self) -> str:
        return self._ctx.settings.active_account

    def now(self, day: date | None = None) -> datetime:
        """"Now" for the cool-down and snoozes: the replay day's close (UTC), or the wall clock while
        a real broker account is shown."""
        if self._ctx.portfolio.showing_broker:
            return datetime.now(UTC)
        return close_of_day(day or self._ctx.day).astimezone(UTC)

    def visible(self) -> tuple[Alert, ...]:
        """Every alert not dismissed, oldest first (snoozed ones too; see ``Alert.snoozed``)."""
        return tuple(a for a in self._known if a.state != "dismissed")

    def unread(self) -> int:
        """New alerts not snoozed now."""
        now = self.now()
        return sum(1 for a in self._known if a.state == "new" and not a.snoozed(now))

    def problems(self) -> tuple[str, ...]:
        """Failed monitors (one line each) and the sources missing offline."""
        failed = tuple(f"Monitor {name} failed: {msg}" for name, msg in sorted(self._failures.items()))
        kalshi = () if self.kalshi_source is not None else (KALSHI_NOTE,)
        return failed + OFFLINE_NOTES + kalshi

    # ---- running the monitors -----------------------------------------------------------------------
    def _cadences(self) -> dict[str, str]:
        cfg = self._ctx.settings.alerts
        return {m.name: m.cadence(cfg) for m in MONITORS if m.enabled(cfg)}

    async def refresh(self, day: date) -> None:
        """A replay step: run every enabled monitor for ``day``."""
        await self.run(day)

    async def run_scheduled(self, names: tuple[str, ...]) -> None:
        """The scheduler's call: run ``names`` for the current day."""
        if not self._ctx.closed:
            await self.run(self._ctx.day, names)

    async def run(self, day: date, names: Sequence[str] | None = None) -> tuple[Alert, ...]:
        """Run the enabled monitors (only ``names`` when given) for ``day``; raise, store and
        publish what survives de-duplication. Returns the alerts raised."""
        async with self._lock:
            result = await self._evaluate(day, names)
            raised = await self._raise(day, result)
        self._note_failures(result, names)
        if raised:
            emit_isolated(self.raised, raised)
            emit_isolated(self.alerts_changed, self.visible())
        return raised

    async def _evaluate(self, day: date, names: Sequence[str] | None) -> MonitorRun:
        ctx = self._ctx
        cfg = ctx.settings.alerts
        scan = ctx.scanner.last_scan
        records = scan.records if scan is not None and scan.day == day else ()
        watch = {item.symbol for wl in ctx.watchlists.watchlists for item in wl.items}
        kalshi = None
        if self.kalshi_source is not None:
            try:
                kalshi = tuple(self.kalshi_source())
            except Exception as exc:  # the hook must not stop the other monitors
                log.exception("the Kalshi source failed")
                self._failures["kalshi"] = f"its market source failed: {exc}"
        risk, risk_problem = None, None
        if cfg.risk_limits_enabled and (names is None or "risk_limits" in names):
            try:
                risk = await ctx.run_compute(self._risk_input, day)
            except RiskLimitInputError as exc:
                risk_problem = str(exc)
        inp = await ctx.run_compute(lambda: build_input(
            ctx.market, day, ctx.portfolio.last_summary, scan_records=records, watch_symbols=watch,
            prev_scan_best=self._prev_scan_best, use_market_prices=not ctx.portfolio.showing_broker, kalshi=kalshi,
            risk=risk))
        result = await ctx.run_compute(run_monitors, inp, cfg, names)
        if risk_problem is not None:
            result = MonitorRun(result.candidates, (*result.failures, ("risk_limits", risk_problem)))
        if names is None or "watchlist" in names:
            self._prev_scan_best = {s: score for s, (score, _row) in inp.scan_best.items()}
        return result

    def _risk_input(self, day: date) -> RiskLimitInput:
        """The risk-limits input (compute thread): the latest risk report when it is of ``day``."""
        ctx = self._ctx
        s = ctx.settings
        return risk_limit_input(s.risk_limits, ctx.portfolio.last_summary, day, ctx.risk.last_report, ctx.market,
                                s.risk_scenarios, rate=s.risk_free_rate, div_yield=s.dividend_yield, days=ctx.days)

    def _on_risk_report_changed(self, report: RiskReport) -> None:
        """A new risk report: check the risk limits against it at once (its day; the wall clock's
        day for a real account)."""
        if self._ctx.closed or not self._ctx.settings.alerts.risk_limits_enabled:
            return
        day = datetime.now().date() if self._ctx.portfolio.showing_broker else report.as_of
        task = asyncio.get_running_loop().create_task(self.run(day, ("risk_limits",)))
        self._risk_tasks.add(task)
        task.add_done_callback(self._risk_tasks.discard)

    async def risk_checks_done(self) -> None:
        """Wait for the risk-limit runs started by risk reports (tests, shutdown)."""
        while self._risk_tasks:
            await asyncio.gather(*self._risk_tasks, return_exceptions=True)

    async def _raise(self, day: date, result: MonitorRun) -> tuple[Alert, ...]:
        now = self.now(day)
        cooldown = timedelta(hours=self._ctx.settings.alerts.cooldown_hours)
        fresh = dedupe(result.candidates, self._known, now, cooldown)
        if not fresh:
            return ()
        alerts = [Alert(0, self.account, c.monitor, c.subject, c.priority, c.title, day, now, c.facts, c.actions)
                  for c in fresh]
        stored = await self._store(alerts)
        self._known.extend(stored)
        self._forget(now - cooldown)
        return tuple(stored)

    async def _store(self, alerts: list[Alert]) -> list[Alert]:
        ctx = self._ctx
        try:
            return await ctx.run_db(AlertRepo(ctx.db).add, alerts)
        except StorageError as exc:  # read-only database: the alerts still show this session
            if not self._save_problem_reported:
                self._save_problem_reported = True
                ctx.report(f"Alerts cannot be saved ({exc}); they are kept for this session only.")
            return [replace(a, alert_id=next(self._memory_ids)) for a in alerts]

    def _forget(self, horizon: datetime) -> None:
        """Drop dismissed alerts that no longer matter for de-duplication."""
        self._known = [a for a in self._known if a.state != "dismissed" or a.raised_at >= horizon
                       or (a.snoozed_until is not None and a.snoozed_until >= horizon)]

    def _note_failures(self, result: MonitorRun, names: Sequence[str] | None) -> None:
        ran = set(names) if names is not None else {m.name for m in MONITORS}
        before = dict(self._failures)
        for name in ran:
            if name != "kalshi" or self.kalshi_source is None:
                self._failures.pop(name, None)
        self._failures.update(dict(result.failures))
        if self._failures != before:
            for name, msg in result.failures:
                if before.get(name) != msg:
                    self._ctx.report(f"The {name} monitor failed ({msg}); the other monitors still run.")
            emit_isolated(self.problems_changed, self.problems())

    # ---- quote batches of a real account --------------------------------------------------------
    def _on_portfolio_account_changed(self, _summary: object) -> None:
        """A quote batch of a real account: run at once (a triggering quote reaches the tray within
        a second), then at most every :data:`LIVE_RUN_INTERVAL` s (batches in between coalesce)."""
        if not self._ctx.portfolio.showing_broker or self._ctx.closed or self._live_handle is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_live_run + LIVE_RUN_INTERVAL - loop.time())
        self._live_handle = loop.call_later(delay, self._run_live)

    def _run_live(self) -> None:
        self._live_handle = None
        self._last_live_run = asyncio.get_running_loop().time()
        if not self._ctx.closed:
            self._live_task = asyncio.get_running_loop().create_task(self.run(datetime.now().date()))

    # ---- triage ---------------------------------------------------------------------------------------
    async def acknowledge(self, ids: Sequence[int]) -> None:
        await self._set_state(ids, "acknowledged")

    async def dismiss(self, ids: Sequence[int]) -> None:
        await self._set_state(ids, "dismissed")

    async def _set_state(self, ids: Sequence[int], state: AlertState) -> None:
        at = self.now()
        await self._update(ids, lambda repo, stored: repo.set_state(stored, state, at),
                           lambda a: replace(a, state=state, **({"acknowledged_at": at} if state == "acknowledged"
                                                                else {"dismissed_at": at})))

    async def snooze(self, ids: Sequence[int], duration: timedelta) -> None:
        """Hide ``ids`` for ``duration`` from now (replay time in replay)."""
        until = self.now() + duration
        await self._update(ids, lambda repo, stored: repo.snooze(stored, until), lambda a: replace(a, snoozed_until=until))

    async def _update(self, ids: Sequence[int], write: Callable[[AlertRepo, list[int]], None],
                      change: Callable[[Alert], Alert]) -> None:
        wanted = set(ids)
        stored = [i for i in wanted if i > 0]
        if stored:
            await self._ctx.run_db(write, AlertRepo(self._ctx.db), stored)
        self._known = [change(a) if a.alert_id in wanted else a for a in self._known]
        emit_isolated(self.alerts_changed, self.visible())

    async def history(self, flt: HistoryFilter = HistoryFilter()) -> list[Alert]:  # noqa: B008
        """Stored alerts matching ``flt`` (dismissed included), newest first."""
        return await self._ctx.run_db(AlertRepo(self._ctx.db).history, self.account, flt)
