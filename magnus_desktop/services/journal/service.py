"""``JournalService``: the decision journal of the app session (no Qt).

Entries come from the order ticket (sent or cancelled), an alert action and an assistant answer;
outcomes are linked when the position closes, on every ``history_changed`` (imports) and every
account change of the app (its fills; rate-limited); the review and the learned preferences are
computed from the stored entries (``analytics.journal``). "Apply to scanner" sets the scanner's
|delta| and DTE filter defaults to the learned ranges only when the trader asks, and saves the
settings; "Reset" puts those four filters back to their defaults.

Events (payloads):
    entries_changed(list[JournalEntry])   newest first
    failed(str)
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.analytics.journal import (
    Outcome,
    Preferences,
    derive_preferences,
    link_outcomes,
)
from magnus_desktop.analytics.realized import realized_pnl
from magnus_desktop.models.journal import JournalEntry
from magnus_desktop.services.coalescing import CoalescingWorker
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.journal.repo import JournalInputError, JournalRepo
from magnus_desktop.services.performance.inputs import app_accounts, app_fills, fill_events, settle_prices
from magnus_desktop.services.portfolio.marking import settlement_price
from magnus_desktop.services.settings import ScannerSettings
from magnus_desktop.services.storage import StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)
MIN_INTERVAL_S = 2.0
#: the scanner filters "Apply to scanner" may change (and "Reset" restores)
PREFERENCE_FIELDS = ("delta_min", "delta_max", "dte_min", "dte_max")


class JournalService:
    """The decision journal. ``start()`` / ``aclose()``."""

    entries_changed = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.entries: list[JournalEntry] = []
        self._links: CoalescingWorker[None] = CoalescingWorker(
            self._link_quietly, name="journal outcome links", min_interval_s=MIN_INTERVAL_S, closed=lambda: ctx.closed)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._ctx.history.history_changed.connect(self._on_changed)
        self._ctx.portfolio.account_changed.connect(self._on_changed)
        try:
            await self.reload()
        except StorageError as exc:
            log.warning("journal not read: %s", exc)

    async def aclose(self) -> None:
        self._ctx.history.history_changed.disconnect(self._on_changed)
        self._ctx.portfolio.account_changed.disconnect(self._on_changed)
        await self._links.aclose()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _repo(self) -> JournalRepo:
        if self._ctx.db is None:
            raise StorageError("The database is not open yet; try again in a moment.")
        return JournalRepo(self._ctx.db)

    async def reload(self) -> list[JournalEntry]:
        """Read the entries again; emits ``entries_changed``."""
        self.entries = await self._ctx.run_db(self._repo().list)
        emit_isolated(self.entries_changed, list(self.entries))
        return self.entries

    async def add(self, entry: JournalEntry) -> int:
        """Store ``entry`` and link its outcome if its position already closed.

        Raises:
            JournalInputError: the entry is not valid (message says why); nothing stored.
            StorageError: the database refused it; nothing stored.
        """
        entry_id = await self._ctx.run_db(self._repo().add, entry)
        await self.reload()
        self._on_changed()
        return entry_id

    def add_soon(self, entry: JournalEntry) -> None:
        """:meth:`add` in the background (from a dialog closing); failures are reported."""
        async def run() -> None:
            try:
                await self.add(entry)
            except (JournalInputError, StorageError) as exc:
                emit_isolated(self.failed, f"The journal entry was not saved: {exc}")
                self._ctx.report(f"The journal entry was not saved: {exc}")
        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- outcomes --------------------------------------------------------------------------------
    def _on_changed(self, *_args: Any) -> None:
        if self._ctx.closed or not any(not e.closed and e.contract_keys for e in self.entries):
            return
        self._links.submit(None)

    async def _link_quietly(self, _: None) -> None:
        """The worker's job: :meth:`link_now`; a database failure is logged (the next change retries)."""
        try:
            await self.link_now()
        except StorageError as exc:
            log.warning("journal outcomes not linked: %s", exc)

    async def link_now(self) -> int:
        """Link the outcomes of closed positions (history and the app's fills); returns how many."""
        ctx = self._ctx
        db = ctx.db
        if db is None:
            return 0
        open_entries = [e for e in self.entries if not e.closed and e.contract_keys]
        if not open_entries:
            return 0
        snapshot = ctx.history.snapshot
        outcomes: list[Outcome] = link_outcomes(
            open_entries, snapshot.matches,
            {(p.account, p.contract_key): p.open_qty for p in snapshot.positions}, "history")
        linked = {o.entry_id for o in outcomes}
        day = ctx.day if ctx.clock is not None else None
        accounts = await ctx.run_db(app_accounts, db)
        for account_id, name, _cash in accounts:
            fills = await ctx.run_db(app_fills, db, account_id, day)
            if not fills:
                continue
            report = await ctx.run_compute(_fill_report, name, fills, ctx.days, day,
                                           lambda c, d: settlement_price(ctx.market, c, d))
            outcomes += [o for o in link_outcomes([e for e in open_entries if e.id not in linked], report.matches,
                                                  {(p.account, p.contract_key): p.open_qty for p in report.positions},
                                                  "fills")]
        if not outcomes:
            return 0
        n = await ctx.run_db(self._repo().set_outcomes,
                             [(o.entry_id, o.pnl, o.closed_at, o.source) for o in outcomes])
        if n:
            await self.reload()
        return n

    # ---- learned preferences ---------------------------------------------------------------------
    def preferences(self) -> Preferences:
        return derive_preferences(self.entries)

    def scanner_changes(self, prefs: Preferences) -> dict[str, tuple[float, float]]:
        """Field → (current, proposed) of the scanner filters ``prefs`` would set."""
        sc = self._ctx.settings.scanner
        out: dict[str, tuple[float, float]] = {}
        if prefs.delta_range is not None:
            out["delta_min"] = (sc.delta_min, prefs.delta_range[0])
            out["delta_max"] = (sc.delta_max, prefs.delta_range[1])
        if prefs.dte_range is not None:
            out["dte_min"] = (sc.dte_min, prefs.dte_range[0])
            out["dte_max"] = (sc.dte_max, prefs.dte_range[1])
        return out

    async def apply_to_scanner(self, prefs: Preferences) -> dict[str, float]:
        """Set the scanner's filter defaults to the learned ranges (the trader accepted them) and
        save the settings; returns the values set.

        Raises:
            ValueError: no preference to apply, or values the scanner settings refuse.
        """
        changes = {k: v[1] for k, v in self.scanner_changes(prefs).items()}
        if not prefs.ready or not changes:
            raise ValueError(prefs.reason or "No learned preference to apply.")
        await self._set_scanner(changes)
        return changes

    async def reset_scanner(self) -> dict[str, float]:
        """Put the four filters back to the scanner's defaults and save; returns the values set."""
        defaults = ScannerSettings()
        values = {name: getattr(defaults, name) for name in PREFERENCE_FIELDS}
        await self._set_scanner(values)
        return values

    async def _set_scanner(self, values: dict[str, float]) -> None:
        ctx = self._ctx
        current = ctx.settings.scanner.model_dump()
        scanner = ScannerSettings.model_validate({**current, **values})  # raises ValueError when refused
        new = ctx.settings.model_copy(update={"scanner": scanner})
        ctx.apply_settings(new)
        try:
            await ctx.save_settings()
        except OSError as exc:
            ctx.report(f"The scanner filters changed for this session but could not be saved: {exc}")


def _fill_report(name: str, fills: list[Any], days: list[date], day: date | None, price: Any) -> Any:
    settle = settle_prices(fills, days, day, price) if day is not None else {}
    return realized_pnl(fill_events(name, fills, settle))
