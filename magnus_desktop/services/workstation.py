"""The application's services wired together on one asyncio loop (no Qt here).

``Workstation`` owns the database, the replay market data, the replay clock, the paper broker, the
demo account, the scanner and the watchlists. Blocking work never runs on the loop's thread: database
calls go to a one-thread DB executor, numerical work (marking, IV, scans) to a one-thread compute
executor. Results come back to the loop and are published as psygnal events.

Events (payloads):
    date_changed(date)                   replay day changed
    account_changed(AccountSummary)      positions and totals at the replay day
    equity_changed(list[(date, net_liq USD, pnl USD)])   account curve up to the replay day
    scan_changed(ScanOutcome)            ranked wheel opportunities at the replay day
    quotes_changed(dict[str, Quote | None])  watchlist quotes (None = no recorded data)
    watchlists_changed(list[Watchlist])
    order_filled(Fill)
    notice(str)                          something the trader should read (errors included)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from psygnal import Signal

from magnus_desktop.analytics.scanner import ScanParams, scan
from magnus_desktop.models.domain import (
    AccountSummary,
    Fill,
    OptionContract,
    OrderTicket,
    Quote,
    Watchlist,
    WatchlistItem,
)
from magnus_desktop.services.credentials import CredentialsError, CredentialStore, service_key
from magnus_desktop.services.credentials.db_url import db_url_account, join_db_url
from magnus_desktop.services.market_data import ReplayMarketData
from magnus_desktop.services.overrides import SessionOverrides
from magnus_desktop.services.paper_broker import LaterDaysCheck, OrderRejected, PaperBroker, check_later_days
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.portfolio import account_summary, equity_curve
from magnus_desktop.services.replay import ReplayClock
from magnus_desktop.services.repositories import AccountRepo, TradeRepo, WatchlistRepo
from magnus_desktop.services.settings import ACCOUNT_FIELDS, Settings, SettingsStore
from magnus_desktop.services.storage import (
    Database,
    DatabaseLocked,
    DatabaseReadOnly,
    StorageError,
    sqlite_file_of,
)
from magnus_desktop.services.tradingview import ImportSummary, describe_skipped, load_tradingview

log = logging.getLogger(__name__)
T = TypeVar("T")

DEMO_ACCOUNT = "Demo (paper, replay)"


@dataclass(frozen=True, slots=True)
class SeedTrade:
    """One opening trade of the demo account: SELL ``qty`` SPXW puts (``strike`` USD, ``expiry``) on
    ``trade_date`` at that day's recorded bid (the price comes from the chain, not from here)."""

    trade_date: date
    expiry: date
    strike: float
    qty: int


DEMO_SEED_DAY = date(2018, 1, 2)
DEMO_ROLL_DAY = date(2018, 2, 1)
#: The demo account's trades. 2018-01-02: Jan-31-2018 2550/2600/2650 puts (|delta| ~0.07/0.13/0.24
#: that day). They expire on 31 Jan, so the book is rolled on 2018-02-01 into Feb-28-2018
#: 2670/2720/2770 puts (about the same distance below SPX, |delta| ~0.10/0.16/0.28 on the recorded
#: chain; nothing is bought back), and the demo holds short puts through the 5 Feb 2018 shock.
#: Databases seeded before the roll existed keep their three January trades ("Reset demo" adds it).
DEMO_SEED: tuple[SeedTrade, ...] = (
    *(SeedTrade(DEMO_SEED_DAY, date(2018, 1, 31), strike, 1) for strike in (2550.0, 2600.0, 2650.0)),
    *(SeedTrade(DEMO_ROLL_DAY, date(2018, 2, 28), strike, 1) for strike in (2670.0, 2720.0, 2770.0)),
)
DEFAULT_WATCHLIST = "Replay symbols"
DEFAULT_WATCHLIST_ITEMS = (
    WatchlistItem("SPX", "SP"),
    WatchlistItem("SPY", "AMEX"),
    WatchlistItem("VIX", "CBOE"),
    WatchlistItem("AAPL", "NASDAQ"),
    WatchlistItem("GOOG", "NASDAQ"),
)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    day: date
    params: ScanParams
    rows: pd.DataFrame


def scan_params_from_settings(settings: Settings) -> ScanParams:
    s = settings.scanner
    return ScanParams(
        right=s.right,
        dte_min=s.dte_min,
        dte_max=s.dte_max,
        delta_min=s.delta_min,
        delta_max=s.delta_max,
        min_open_interest=s.min_open_interest,
        max_spread_pct=s.max_spread_pct,
        min_annualized_return=s.min_annualized_return,
        premium_source=s.premium_source,
        rate=settings.risk_free_rate,
        div_yield=settings.dividend_yield,
        top=None,
    )


class Workstation:
    """All services of one app session. Create it inside the running loop; ``await start()``."""

    date_changed = Signal(object)
    account_changed = Signal(object)
    equity_changed = Signal(object)
    scan_changed = Signal(object)
    quotes_changed = Signal(object)
    watchlists_changed = Signal(object)
    order_filled = Signal(object)
    notice = Signal(str)

    def __init__(self, settings_store: SettingsStore, settings: Settings, *, db_url: str | None = None,
                 market: ReplayMarketData | None = None, overrides: SessionOverrides | None = None,
                 settings_read_only: str | None = None) -> None:
        self.settings_store = settings_store
        self.settings = settings
        self.overrides = overrides or SessionOverrides()
        #: why settings cannot be saved this session (unwritable config folder), or None
        self.settings_read_only = settings_read_only
        self.db_url = db_url if db_url is not None else settings.db_url
        self.market = market or ReplayMarketData.from_resources()
        self.db: Database | None = None
        #: why the configured database is not in use (we run on a temporary in-memory one), or None
        self.db_problem: str | None = None
        #: why the database is open read-only (changes cannot be saved), or None
        self.db_read_only: str | None = None
        self.account_id = 0
        self.fills: list[Fill] = []
        self.watchlists: list[Watchlist] = []
        self.scan_params = scan_params_from_settings(settings)
        self.clock: ReplayClock | None = None
        self.broker = PaperBroker(self.market, commission_per_contract=settings.commission_per_contract)
        self.credentials = CredentialStore()
        self.last_summary: AccountSummary | None = None
        self.last_scan: ScanOutcome | None = None
        self._db_pool = ThreadPoolExecutor(1, thread_name_prefix="magnus-db")
        self._compute_pool = ThreadPoolExecutor(1, thread_name_prefix="magnus-compute")
        self._equity_cache: dict[date, tuple[date, float, float]] = {}
        self._fills_generation = 0
        self._dirty = False
        self._refresh_task: asyncio.Task[None] | None = None
        self.refreshed = asyncio.Event()
        self._order_lock = asyncio.Lock()  # one order (or seed) at a time: each sees the fills before it

    # ---- plumbing -------------------------------------------------------------------------
    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_pool, fn, *args)

    async def _compute(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._compute_pool, fn, *args)

    @property
    def day(self) -> date:
        assert self.clock is not None, "start() first"
        return self.clock.current

    # ---- start / stop ---------------------------------------------------------------------
    async def start(self, replay_date: date | None = None) -> None:
        """Open the database (migrate), load the replay calendar, seed the demo account, refresh."""
        await self._open_database()
        days = await self._compute(self.market.trading_days)
        await self._compute(self._preload_bars, days[0])
        self.clock = ReplayClock(days, speed=self.settings.replay_speed)
        await self._load_account()
        await self._load_watchlists()
        target = replay_date or self.settings.replay_date
        if target is not None:
            self.clock.jump(target)
        self.clock.date_changed.connect(self._on_clock_date_changed)  # after the jump: one start-up event
        self.date_changed.emit(self.clock.current)
        self._schedule_refresh()

    async def _load_account(self) -> None:
        """Open (or create) the demo account, read its fills, seed it when new and writable."""
        try:
            account = await self._db(
                AccountRepo(self.db).get_or_create, DEMO_ACCOUNT, "demo", self.settings.demo_starting_cash
            )
        except DatabaseReadOnly as exc:  # a read-only database without the demo account
            await self._use_memory_database(f"{exc} It holds no demo account to show.")
            account = await self._db(
                AccountRepo(self.db).get_or_create, DEMO_ACCOUNT, "demo", self.settings.demo_starting_cash
            )
        self.account_id = account.account_id
        self.starting_cash = account.starting_cash
        self.fills = await self._db(TradeRepo(self.db).fills, self.account_id)
        self._fills_generation += 1
        self._equity_cache.clear()
        if not self.fills and not self.db_read_only:
            await self._seed_demo()

    def _preload_bars(self, day: date) -> None:
        """Read every bundled bar file now (compute thread), so later lookups are in memory."""
        for symbol in self.market.known_symbols():
            self.market.quote(symbol, day)

    async def _open_database(self) -> None:
        """Open the configured database; a read-only SQLite file is opened read-only (the trader's
        data shown, changes refused); anything else that fails falls back to a temporary
        in-memory database (``db_problem`` says why)."""
        self.db_problem = self.db_read_only = None
        try:
            url = await self._with_keyring_password(self.db_url)
            self.db = await self._db(Database.open, url)  # migrates to head
            return
        except DatabaseReadOnly as exc:
            failure: StorageError = exc
            path = None if isinstance(exc, DatabaseLocked) else self._sqlite_file()
            if path is not None and path.is_file():
                try:
                    self.db = await self._db(Database.open_read_only, path)
                except StorageError as ro_exc:
                    failure = ro_exc
                else:
                    self.db_read_only = (f"{self.db.describe()[0].upper()}{self.db.describe()[1:]} is read-only: "
                                         "your data is shown, but nothing you change can be saved.")
                    log.warning("%s (%s)", self.db_read_only, exc)
                    self.notice.emit(self.db_read_only)
                    return
        except StorageError as exc:
            failure = exc
        await self._use_memory_database(str(failure))

    async def _with_keyring_password(self, url: str | None) -> str | None:
        """A PostgreSQL URL stored without its password gets it back from the keyring (if any)."""
        if not url or "@" not in url or not url.strip().startswith(("postgres", "postgresql")):
            return url
        try:
            account = db_url_account(url)
            password = await self.credentials.get(service_key("db", account), account)
        except (ValueError, CredentialsError) as exc:
            log.warning("database password not read from the keyring: %s", exc)
            return url
        return url if password is None else join_db_url(url, password)

    async def save_db_password(self, url: str, password: str) -> None:
        """Keep the password of the PostgreSQL ``url`` in the keyring (never in settings).

        Raises:
            CredentialsError: no usable keyring, or it is locked (the message says which).
        """
        account = db_url_account(url)
        await self.credentials.set(service_key("db", account), account, password)

    def apply_settings(self, new: Settings) -> None:
        """Take a validated ``Settings`` from the Settings dialog (in place: every service keeps its
        reference); prices, marks and the scan follow the new rate, yield and commission."""
        replay_date = self.settings.replay_date
        for name in type(new).model_fields:
            if name not in ("schema_version", "replay_date", *ACCOUNT_FIELDS):  # accounts: their own dialog
                setattr(self.settings, name, getattr(new, name))
        self.settings.replay_date = replay_date
        self.broker.commission_per_contract = new.commission_per_contract
        if self.clock is not None:
            self.clock.speed = new.replay_speed
        self.scan_params = replace(self.scan_params, rate=new.risk_free_rate, div_yield=new.dividend_yield)
        self._fills_generation += 1
        self._equity_cache.clear()
        if self.clock is not None:
            self._schedule_refresh()

    def _sqlite_file(self) -> Path | None:
        """The SQLite file the configured URL points at (None for PostgreSQL or in-memory)."""
        return sqlite_file_of(self.db_url, app_paths().default_db_file)

    async def _use_memory_database(self, reason: str) -> None:
        if self.db is not None:
            await self._db(self.db.close)
        self.db_read_only = None
        self.db_problem = (f"{reason} Working on a temporary in-memory database for this session: "
                           "nothing you do now will be saved.")
        log.warning(self.db_problem)
        self.db = await self._db(Database.open, "sqlite://")
        self.notice.emit(self.db_problem)

    async def reopen_database(self, db_url: str | None = None) -> bool:
        """Try the configured database again (or ``db_url``, which then becomes the setting).

        On success the account, its fills and the watchlists are reloaded from it and the panels
        refresh; trades made on the temporary database are not carried over. Returns True when
        the real database is now in use (possibly read-only); on failure the temporary database
        stays in use and ``db_problem`` says why.
        """
        previous, previous_url = self.db, self.db_url
        if db_url is not None:
            self.db_url = db_url
        self.db = None
        await self._open_database()
        if self.db_problem is not None:
            self.db_url = previous_url
            if previous is not None:
                await self._db(previous.close)
            return False
        if previous is not None:
            await self._db(previous.close)
        if db_url is not None:
            self.settings.db_url = db_url
        await self._load_account()
        await self._load_watchlists()
        self._schedule_refresh()
        return True

    async def aclose(self) -> None:
        await self.credentials.aclose()
        if self.clock is not None:
            await self.clock.aclose()
        if self._refresh_task is not None:
            self._refresh_task.cancel()
        if self.db is not None:
            await self._db(self.db.close)
        self._db_pool.shutdown(wait=False)
        self._compute_pool.shutdown(wait=False)

    # ---- replay-driven refresh ------------------------------------------------------------
    async def refresh_now(self) -> None:
        """Publish the full current state again (for views created after ``start``) and wait."""
        self.watchlists_changed.emit(self.watchlists)
        if self.clock is not None:
            self.date_changed.emit(self.clock.current)
        self._schedule_refresh()
        await self.refreshed.wait()

    def _on_clock_date_changed(self, day: date) -> None:
        self.date_changed.emit(day)
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        """Coalesce: a refresh runs for the latest day; days passed meanwhile are skipped."""
        self._dirty = True
        self.refreshed.clear()
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._refresh(self.day)
            except Exception as exc:  # keep the replay alive; tell the trader
                log.exception("refresh failed")
                self.notice.emit(f"Could not update the panels for {self.day}: {exc}")
        self.refreshed.set()

    async def _refresh(self, day: date) -> None:
        summary, curve = await self._mark_account(day)
        self.last_summary = summary
        self.account_changed.emit(summary)
        self.equity_changed.emit(curve)
        outcome = await self._compute(self._scan, day, self.scan_params)
        self.last_scan = outcome
        self.scan_changed.emit(outcome)
        self.quotes_changed.emit(await self._compute(self._quotes, day))

    async def _mark_account(self, day: date) -> tuple[AccountSummary, list[tuple[date, float, float]]]:
        """Mark the account at ``day`` and extend the cached equity curve (computed off the loop;
        the fills list and the cache are only touched on the loop thread)."""
        days = self.clock.days if self.clock else [day]
        missing = [d for d in days if d <= day and d not in self._equity_cache]
        generation = self._fills_generation
        summary, rows = await self._compute(self._mark, tuple(self.fills), day, missing, days)
        if generation == self._fills_generation:  # fills unchanged meanwhile: rows are current
            self._equity_cache.update((row[0], row) for row in rows)
        return summary, [self._equity_cache[d] for d in days if d <= day and d in self._equity_cache]

    def _mark(self, fills: tuple[Fill, ...], day: date, missing: list[date],
              days: list[date]) -> tuple[AccountSummary, list[tuple[date, float, float]]]:
        kwargs: dict[str, Any] = dict(starting_cash=self.starting_cash, rate=self.settings.risk_free_rate,
                                      div_yield=self.settings.dividend_yield)
        summary = account_summary(fills, day, self.market, days, **kwargs)
        return summary, equity_curve(fills, missing, self.market, days, **kwargs)

    def _scan(self, day: date, params: ScanParams) -> ScanOutcome:
        return ScanOutcome(day, params, scan(self.market.chain(day), params, as_of=day))

    def _quotes(self, day: date) -> dict[str, Quote | None]:
        symbols = {item.symbol for wl in self.watchlists for item in wl.items}
        return {s: self.market.quote(s, day) for s in sorted(symbols)}

    # ---- scanner --------------------------------------------------------------------------
    async def rescan(self, params: ScanParams) -> ScanOutcome:
        self.scan_params = params
        outcome = await self._compute(self._scan, self.day, params)
        self.last_scan = outcome
        self.scan_changed.emit(outcome)
        return outcome

    # ---- orders (paper) -------------------------------------------------------------------
    def new_ticket(self, contract: OptionContract, action: str, qty: int, limit_price: float = float("nan")) -> OrderTicket:
        return OrderTicket(contract=contract, action=action, qty=qty, limit_price=limit_price,  # type: ignore[arg-type]
                           order_ref=uuid.uuid4().hex, trade_date=self.day, account_id=self.account_id)

    async def place_order(self, ticket: OrderTicket) -> Fill:
        """Fill ``ticket`` on the demo account at the recorded quote of the replay day and store it.

        The order is checked on the replay day and, as the replay may stand before later fills of
        the account (a backdated order), on every later replay day it affects
        (:func:`~magnus_desktop.services.paper_broker.check_later_days`, on the compute thread).

        Raises:
            OrderRejected: the reason, for the trader (nothing is stored).
            StorageError: the fill could not be saved (nothing is stored).
        """
        async with self._order_lock:
            summary, _curve = await self._mark_account(self.day)
            fill = self.broker.fill(ticket, summary)
            check = await self._compute(self._check_later_days, tuple(self.fills), fill)
            if check.problem is not None:
                raise OrderRejected(check.problem)
            stored = await self._db(TradeRepo(self.db).record_fill, ticket, fill)
            if stored:
                self.fills.append(fill)
                self._invalidate_from(fill.fill_date)
                self.order_filled.emit(fill)
                self._schedule_refresh()
        return fill

    async def check_ticket(self, ticket: OrderTicket) -> LaterDaysCheck | None:
        """Buying power with ``ticket`` filled at today's recorded quote, on every replay day it
        affects (compute thread). None when there is no quote to fill at (the ticket says why)."""
        return await self._compute(self._check_ticket, tuple(self.fills), ticket, self.day)

    def _check_ticket(self, fills: tuple[Fill, ...], ticket: OrderTicket, day: date) -> LaterDaysCheck | None:
        bid, ask, _last, _und = self.market.option_quote(ticket.contract, day)
        price = bid if ticket.action == "SELL" else ask
        if not (price > 0) or ticket.qty < 1:  # NaN or no bid/ask
            return None
        return self._check_later_days(fills, self.broker.priced_fill(ticket, price, day))

    def _check_later_days(self, fills: tuple[Fill, ...], fill: Fill) -> LaterDaysCheck:
        days = self.clock.days if self.clock else [fill.fill_date]
        return check_later_days(fills, fill, self.market, days, starting_cash=self.starting_cash)

    def _summary_at(self, fills: tuple[Fill, ...], day: date) -> AccountSummary:
        days = self.clock.days if self.clock else [day]
        return account_summary(fills, day, self.market, days, starting_cash=self.starting_cash,
                               rate=self.settings.risk_free_rate, div_yield=self.settings.dividend_yield)

    async def _seed_demo(self) -> None:
        """Store the :data:`DEMO_SEED` trades (each checked by the paper broker on its own day)."""
        assert self.clock is not None
        calendar = set(self.clock.days)
        repo = TradeRepo(self.db)
        async with self._order_lock:
            for trade in DEMO_SEED:
                if trade.trade_date not in calendar:
                    log.warning("demo seed on %s skipped: not a replay day", trade.trade_date)
                    continue
                chain = await self._compute(self.market.chain, trade.trade_date)
                underlying = str(chain["underlying"].iloc[0]) if len(chain) else "SPXW"
                contract = OptionContract(underlying, trade.expiry, trade.strike, "P")
                ticket = replace(self.new_ticket(contract, "SELL", trade.qty), trade_date=trade.trade_date)
                summary = await self._compute(self._summary_at, tuple(self.fills), trade.trade_date)
                try:
                    fill = self.broker.fill(ticket, summary)
                except OrderRejected as exc:
                    log.warning("demo seed %s skipped: %s", contract.describe(), exc)
                    continue
                if await self._db(repo.record_fill, ticket, fill):
                    self.fills.append(fill)
        self._fills_generation += 1
        self._equity_cache.clear()

    async def reset_demo(self) -> None:
        """Delete the demo account's trades and open the seed positions again."""
        await self._db(AccountRepo(self.db).delete_account_trades, self.account_id)
        self.fills = []
        await self._seed_demo()
        self._schedule_refresh()
        self.notice.emit("Demo account reset to its opening positions.")

    def _invalidate_from(self, day: date) -> None:
        self._fills_generation += 1
        for d in [d for d in self._equity_cache if d >= day]:
            del self._equity_cache[d]

    # ---- watchlists -----------------------------------------------------------------------
    async def _load_watchlists(self) -> None:
        repo = WatchlistRepo(self.db)
        lists = await self._db(repo.list)
        if not lists and not self.db_read_only:
            wl_id = await self._db(repo.create, DEFAULT_WATCHLIST)
            await self._db(repo.add_items, wl_id, DEFAULT_WATCHLIST_ITEMS)
            lists = await self._db(repo.list)
        self.watchlists = lists
        self.watchlists_changed.emit(lists)

    async def _watchlist_op(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a repository call, reload the lists, refresh quotes; errors become a notice."""
        try:
            result = await self._db(fn, *args)
        except (StorageError, ValueError) as exc:
            self.notice.emit(str(exc))
            return None
        self.watchlists = await self._db(WatchlistRepo(self.db).list)
        self.watchlists_changed.emit(self.watchlists)
        if self.clock is not None:
            self.quotes_changed.emit(await self._compute(self._quotes, self.day))
        return result

    async def create_watchlist(self, name: str) -> int | None:
        return await self._watchlist_op(WatchlistRepo(self.db).create, name)

    async def rename_watchlist(self, watchlist_id: int, name: str) -> None:
        await self._watchlist_op(WatchlistRepo(self.db).rename, watchlist_id, name)

    async def delete_watchlist(self, watchlist_id: int) -> None:
        await self._watchlist_op(WatchlistRepo(self.db).delete, watchlist_id)

    async def move_watchlist(self, watchlist_id: int, position: int) -> None:
        await self._watchlist_op(WatchlistRepo(self.db).move, watchlist_id, position)

    async def add_symbols(self, watchlist_id: int, items: Sequence[WatchlistItem]) -> int | None:
        return await self._watchlist_op(WatchlistRepo(self.db).add_items, watchlist_id, list(items))

    async def remove_symbol(self, watchlist_id: int, item: WatchlistItem) -> None:
        await self._watchlist_op(WatchlistRepo(self.db).remove_item, watchlist_id, item.symbol, item.exchange)

    async def move_symbol(self, watchlist_id: int, symbol: str, position: int) -> None:
        await self._watchlist_op(WatchlistRepo(self.db).move_item, watchlist_id, symbol, position)

    async def import_tradingview(self, path: Path) -> str:
        """Import a TradingView export as a new list named after the file. Returns a summary line.

        The summary names the first skipped entries with their reasons ("line 3: '$$$' — ...",
        then "and K more"); it is an ``ImportSummary`` whose ``skipped`` holds all of them.
        The list and its symbols are stored in one transaction: a file that fails stores nothing.

        Raises:
            WatchlistFormatError: the file is not a TradingView list (nothing is stored).
        """
        parsed = await self._compute(load_tradingview, path)
        name = self._free_name(parsed.name_hint or path.stem)
        wl_id = await self._watchlist_op(WatchlistRepo(self.db).create, name, parsed.items)
        if wl_id is None:
            return ImportSummary(f"Could not create the list {name!r}; nothing was imported.", watchlist=name)
        added = next((len(wl.items) for wl in self.watchlists if wl.watchlist_id == wl_id), 0)
        message = f"Imported {added} symbols into {name!r} ({len(parsed.sections)} sections)."
        if parsed.skipped:
            n = len(parsed.skipped)
            message += f" Skipped {n} {'entry' if n == 1 else 'entries'}: {describe_skipped(parsed.skipped)}."
        return ImportSummary(message, watchlist=name, skipped=parsed.skipped)

    def _free_name(self, base: str) -> str:
        taken = {wl.name for wl in self.watchlists}
        name, n = base, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        return name

    # ---- settings -------------------------------------------------------------------------
    async def save_settings(self) -> bool:
        """Write the settings (the replay day included; command-line overrides excluded).

        Returns False, after logging why, when they cannot be written this session.
        Raises:
            OSError: the file could not be written (the previous file is left intact).
        """
        if self.clock is not None:
            self.settings.replay_date = self.clock.current
        if self.settings_read_only:
            log.warning("settings not saved: %s", self.settings_read_only)
            return False
        await self._db(self.settings_store.save, self.overrides.for_saving(self.settings))
        return True
