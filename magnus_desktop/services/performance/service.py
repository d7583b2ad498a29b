"""``PerformanceService``: the Performance dock's report of one account, recomputed when the trade
history changes (imports), when the app's account changes (fills, the replay day) and when the
Kalshi service stores new fills or settlements (the ``Kalshi (…)`` account, strategy "Kalshi").

Reads run on the ``"db"`` executor, the analytics on the service's own ``"performance"`` thread,
at most every :data:`MIN_INTERVAL_S` seconds while the account keeps changing (a replay playing);
while its dock is hidden the service is paused and only remembers that it is stale. It also keeps
the starting cash each imported statement states (``statement_cash``), the equity's starting capital.

Events (payloads):
    report_changed(PerformanceReport)
    failed(str)   the report could not be computed (why)
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from psygnal import Signal
from sqlalchemy import select

from magnus_desktop.analytics.kalshi_pnl import kalshi_matches
from magnus_desktop.models.orm_journal import StatementCashRow
from magnus_desktop.services.coalescing import CoalescingWorker
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.kalshi.history import load_history
from magnus_desktop.services.performance.inputs import (
    Capital,
    PerformanceInputs,
    app_accounts,
    app_fills,
    app_matches,
    load_cash_events,
    settle_prices,
    statement_capital,
)
from magnus_desktop.services.performance.report import PerformanceReport, build_report
from magnus_desktop.services.portfolio.marking import settlement_price
from magnus_desktop.services.storage import Database, StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.history import HistorySnapshot
    from magnus_desktop.services.imports import ImportReport

log = logging.getLogger(__name__)

EXECUTOR = "performance"
MIN_INTERVAL_S = 2.0


class PerformanceService:
    """Performance of the stored trade history and the app's fills. ``start()`` / ``aclose()``."""

    report_changed = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        #: the account shown (None: the first one)
        self.account: str | None = None
        self.last_report: PerformanceReport | None = None
        # paused until a dock shows it
        self._worker: CoalescingWorker[None] = CoalescingWorker(
            self._refresh_quietly, name="performance report", min_interval_s=MIN_INTERVAL_S, paused=True,
            closed=lambda: ctx.closed)
        self._asked_history = False
        if EXECUTOR not in ctx.executors:
            ctx.executors.add(EXECUTOR)

    async def start(self) -> None:
        ctx = self._ctx
        ctx.history.history_changed.connect(self._on_history_changed)
        ctx.history.imported.connect(self._on_imported)
        ctx.portfolio.account_changed.connect(self._on_changed)
        ctx.kalshi.history_stored.connect(self._on_changed)
        self._worker.submit(None)  # stale from the start: computed when a dock first shows it

    async def aclose(self) -> None:
        ctx = self._ctx
        ctx.history.history_changed.disconnect(self._on_history_changed)
        ctx.history.imported.disconnect(self._on_imported)
        ctx.portfolio.account_changed.disconnect(self._on_changed)
        ctx.kalshi.history_stored.disconnect(self._on_changed)
        await self._worker.aclose()

    # ---- scheduling ------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._worker.paused

    def set_paused(self, paused: bool) -> None:
        """The dock is hidden (paused) or shown; showing a stale report recomputes it at once."""
        self._worker.set_paused(paused)

    def select_account(self, account: str | None) -> None:
        """Show ``account`` (recomputed now unless paused)."""
        self.account = account
        self._on_changed()

    def _on_history_changed(self, _snapshot: HistorySnapshot) -> None:
        self._on_changed()

    def _on_changed(self, *_args: Any) -> None:
        self._worker.submit(None)  # (nothing starts once the context is closed: the worker checks)

    async def _refresh_quietly(self, _: None) -> None:
        """The worker's job: :meth:`refresh`, a failure told through ``failed``."""
        try:
            await self.refresh()
        except (StorageError, ValueError) as exc:
            log.warning("performance report failed: %s", exc)
            emit_isolated(self.failed, f"Performance could not be computed: {exc}")

    # ---- computing -------------------------------------------------------------------------------
    async def refresh(self) -> PerformanceReport:
        """Read the inputs and compute the report of :attr:`account`; emits ``report_changed``.

        Raises:
            StorageError: the database could not be read.
        """
        ctx = self._ctx
        if ctx.db is None:
            raise StorageError("The database is not open yet; try again in a moment.")
        if not self._asked_history and ctx.history.snapshot.events == 0:
            self._asked_history = True  # nobody has read the stored history yet this session
            await ctx.history.refresh()  # emits history_changed (coalesced into the next run)
        day = ctx.day if ctx.clock is not None else None
        inputs = await ctx.run_db(self._read, ctx.db, day)
        inputs = await ctx.executors.run(EXECUTOR, self._match, inputs, day)
        settings = ctx.settings
        fallback = _settings_capital(settings.performance_starting_capital)
        report = await ctx.executors.run(EXECUTOR, build_report, inputs, self.account, settings.risk_free_rate,
                                         fallback)
        self.last_report = report
        emit_isolated(self.report_changed, report)
        return report

    def _read(self, db: Database, day: Any) -> tuple[PerformanceInputs, dict[str, list[Any]]]:
        """Blocking reads (db thread): cash events, statements' cash, app accounts and their fills,
        our Kalshi fills and settlements."""
        inputs = PerformanceInputs()
        inputs.kalshi = load_history(db)
        inputs.cash_events = load_cash_events(db)
        inputs.capital = statement_capital(db)
        fills: dict[str, list[Any]] = {}
        for account_id, name, starting in app_accounts(db):
            account_fills = app_fills(db, account_id, day)
            inputs.app_accounts.append(name)
            fills[name] = account_fills
            inputs.capital.setdefault(name, Capital(starting, f"the app account's starting cash ({starting:,.2f} USD)"))
            if day is not None:
                inputs.end_day[name] = day
        return inputs, fills

    def _match(self, read: tuple[PerformanceInputs, dict[str, list[Any]]], day: Any) -> PerformanceInputs:
        """FIFO lots of the history snapshot and of the app's fills (performance thread)."""
        inputs, fills = read
        ctx = self._ctx
        matches: dict[str, list[Any]] = defaultdict(list)
        for m in ctx.history.snapshot.matches:
            matches[m.account].append(m)
        days = ctx.days
        for name, account_fills in fills.items():
            if not account_fills:
                continue
            settle = settle_prices(account_fills, days, day, lambda c, d: settlement_price(ctx.market, c, d)) \
                if day is not None else {}
            matches[name].extend(app_matches(name, account_fills, settle))
        for name, kalshi in inputs.kalshi.items():
            matches[name].extend(kalshi_matches(name, kalshi.fills, kalshi.settlements))
        inputs.matches = dict(matches)
        return inputs

    # ---- statements' starting cash -----------------------------------------------------------------
    def _on_imported(self, report: ImportReport) -> None:
        if report.dry_run or not report.reconciliation or self._ctx.closed:
            return
        rows = statement_cash_rows(report)
        if rows and self._ctx.db is not None:
            asyncio.get_running_loop().create_task(self._store_cash(rows))

    async def _store_cash(self, rows: list[dict[str, Any]]) -> None:
        try:
            await self._ctx.run_db(store_statement_cash, self._ctx.db, rows)
        except StorageError as exc:
            log.warning("statement cash not stored: %s", exc)
            return
        self._on_changed()


def _settings_capital(amount: float) -> Capital:
    if amount > 0:
        return Capital(amount, f"Settings → Data → Performance starting capital ({amount:,.2f} USD)")
    return Capital(None, "unknown: set Settings → Data → Performance starting capital, or import a statement that "
                         "states its cash")


def statement_cash_rows(report: ImportReport) -> list[dict[str, Any]]:
    """The starting cash per currency a statement states (``statement_cash`` rows).

    The reconciliation computed ``computed_balance = starting + sum(amounts in the currency)`` over
    every event of the file, so ``starting = computed_balance - that sum``; the rate to the base
    currency is the one the file's events in that currency carry (None when it has none: USD
    counts as the base then only if every event of the file is at rate 1).
    """
    moved: dict[str, float] = defaultdict(float)
    rates: dict[str, float] = {}
    for e in report.events:
        moved[e.currency] += e.amount
        rates.setdefault(e.currency, e.fx_rate_to_base)
    days = [e.occurred_at.date() for e in report.events]
    if not days:
        return []
    start = min(days)
    out = []
    seen: set[str] = set()
    for row in report.reconciliation:
        if row.currency in seen:
            continue
        seen.add(row.currency)
        out.append({"account": report.account, "currency": row.currency,
                    "starting": row.computed_balance - moved.get(row.currency, 0.0),
                    "fx_rate_to_base": rates.get(row.currency), "source": row.source,
                    "file_name": report.path.name[:255], "period_start": start})
    return out


def store_statement_cash(db: Database | None, rows: list[dict[str, Any]]) -> int:
    """Insert the rows not stored yet (same account, currency, file and period); returns how many."""
    if db is None:
        return 0
    added = 0
    with db.session() as s:
        for r in rows:
            exists = s.scalar(select(StatementCashRow.id).where(
                StatementCashRow.account == r["account"], StatementCashRow.currency == r["currency"],
                StatementCashRow.file_name == r["file_name"], StatementCashRow.period_start == r["period_start"]))
            if exists is None:
                s.add(StatementCashRow(**r))
                added += 1
    return added
