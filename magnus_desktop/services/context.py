"""``AppContext``: the one composition root of an app session (no Qt).

It holds the settings (and where they are saved), the paths, the ``Database``, one executor per
blocking resource, the replay clock, the market data, the credential store and the services, and
starts and closes them in order. The UI builds one ``AppContext``, awaits :meth:`start`, and talks
to the services it holds through view models.

Events (payloads):
    date_changed(date)      the replay day changed (also once at start)
    playing_changed(bool)   the replay clock started or stopped playing
    notice(str)             something the trader should read (errors included)

Services (each with ``start()`` / ``aclose()`` and its own events): ``quotes``, ``portfolio``, ``audit``,
``orders``, ``scanner``, ``watchlists``, ``overview``, ``risk``, ``performance``, ``journal``, ``research``, ``alerts``,
``kalshi``, ``assistant``, ``health``;
``symbol`` is the shared research symbol (``SymbolContext``). Each replay day, :attr:`refresher` asks each to refresh,
isolated from the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

from psygnal import Signal

from magnus_desktop.services.alerts import AlertService
from magnus_desktop.services.assistant.knowledge_service import KnowledgeService
from magnus_desktop.services.assistant.service import AssistantService
from magnus_desktop.services.audit import AuditService
from magnus_desktop.services.brokers.paper import PaperBroker
from magnus_desktop.services.credentials import CredentialsError, CredentialStore, service_key
from magnus_desktop.services.credentials.db_url import db_url_account, join_db_url
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.health.service import HealthService
from magnus_desktop.services.history import HistoryService
from magnus_desktop.services.journal import JournalService
from magnus_desktop.services.kalshi.nfl_markets import nfl_probability_provider
from magnus_desktop.services.kalshi.nfl_service import NflModelService
from magnus_desktop.services.kalshi.service import KalshiService
from magnus_desktop.services.market.live import LiveQuoteSources
from magnus_desktop.services.market.overview import MarketOverviewService
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.market.replay import ReplayMarket
from magnus_desktop.services.orders import OrderService
from magnus_desktop.services.overrides import SessionOverrides
from magnus_desktop.services.paths import AppPaths, app_paths
from magnus_desktop.services.performance import PerformanceService
from magnus_desktop.services.portfolio.demo import DEMO_ACCOUNT
from magnus_desktop.services.portfolio.service import PortfolioService
from magnus_desktop.services.predictor.service import BUNDLED_MODEL, PredictorService
from magnus_desktop.services.refresh import ReplayRefresher
from magnus_desktop.services.replay import ReplayClock
from magnus_desktop.services.research import SymbolContext
from magnus_desktop.services.research.desk import DeskService
from magnus_desktop.services.research.service import ResearchService
from magnus_desktop.services.risk import RiskService
from magnus_desktop.services.scanner import ScannerService
from magnus_desktop.services.session import BrokerSessionManager
from magnus_desktop.services.settings import (
    ACCOUNT_FIELDS,
    DOCK_FIELDS,
    Settings,
    SettingsSaveError,
    SettingsStore,
)
from magnus_desktop.services.storage import (
    Database,
    DatabaseLocked,
    DatabaseReadOnly,
    StorageError,
    sqlite_file_of,
)
from magnus_desktop.services.watchlists import WatchlistService

log = logging.getLogger(__name__)
T = TypeVar("T")


class Service(Protocol):
    """What the context needs of a service."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class _OverrideAwareStore:
    """What the broker session manager saves through: command-line overrides are never persisted,
    and nothing is written when the config folder is not writable this session."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def save(self, settings: Settings) -> None:
        ctx = self._ctx
        if ctx.settings_read_only:
            raise SettingsSaveError(ctx.settings_store.path, ctx.settings_read_only)
        ctx.settings_store.save(ctx.overrides.for_saving(settings))


class AppContext:
    """All services of one app session. Create it inside the running loop (or before it, then
    ``await start()`` inside it)."""

    date_changed = Signal(object)
    playing_changed = Signal(bool)
    notice = Signal(str)

    def __init__(self, settings_store: SettingsStore, settings: Settings, *, db_url: str | None = None,
                 market: ReplayMarketData | None = None, overrides: SessionOverrides | None = None,
                 settings_read_only: str | None = None, credentials: CredentialStore | None = None,
                 paths: AppPaths | None = None, session_options: Mapping[str, Any] | None = None) -> None:
        self.settings_store = settings_store
        self.settings = settings
        self.overrides = overrides or SessionOverrides()
        #: why settings cannot be saved this session (unwritable config folder), or None
        self.settings_read_only = settings_read_only
        self.paths = paths or app_paths()
        self.db_url = db_url if db_url is not None else settings.db_url
        self.db: Database | None = None
        #: why the configured database is not in use (we run on a temporary in-memory one), or None
        self.db_problem: str | None = None
        #: why the database is open read-only (changes cannot be saved), or None
        self.db_read_only: str | None = None
        self.credentials = credentials or CredentialStore()
        self.executors = Executors()
        self.executors.register("keyring", self.credentials.executor)
        self.market = market or ReplayMarketData.from_resources()
        #: the async ``MarketData`` seam over the same recorded data; follows the replay day
        self.replay = ReplayMarket(self.market, self.executors["compute"])
        self.clock: ReplayClock | None = None
        self.refresher = ReplayRefresher(lambda: self.day, self.report)
        #: THE one broker session (paper / IB / Robinhood) of the active account; opened in the
        #: background after the services start, so the window never waits for a connection
        #: ``session_options``: extra ``BrokerSessionManager`` arguments (tests: fast IB backoff)
        self.session = BrokerSessionManager(settings, _OverrideAwareStore(self), self.credentials,
                                            executor=self.executors["db"], **dict(session_options or {}))
        #: the market data panels ask first: broker session → yfinance (if on) → replay
        self.quotes = LiveQuoteSources(self)
        self.portfolio = PortfolioService(self)
        #: the paper broker (``Broker`` seam): fills the demo account at the active market data's quotes
        self.broker = PaperBroker(self.replay, self.portfolio, commission_per_contract=settings.commission_per_contract,
                                  today=lambda: self.day, account=DEMO_ACCOUNT)
        self.orders = OrderService(self, self.portfolio)
        #: the append-only order audit log; closed after the orders (it stores their last rows)
        self.audit = AuditService(self)
        #: trade win probability (``p_win``): the trader's model, else the bundled one; own executor
        self.predictor = PredictorService(self.executors, model_path=self.paths.data_dir / "predictor" / "model.json",
                                          market=self.market, bundled_model=BUNDLED_MODEL)
        self.scanner = ScannerService(self)
        self.watchlists = WatchlistService(self)
        self.overview = MarketOverviewService(self)
        #: imported broker statements: closed trades, wheel cycles, monthly realized P&L; imports
        self.history = HistoryService(self)
        #: performance of the trade history and the app's fills (paused while its dock is hidden)
        self.performance = PerformanceService(self)
        #: the decision journal: entries from tickets, alerts and answers; outcomes linked as positions close
        self.journal = JournalService(self)
        #: the active account's risk, recomputed on each portfolio update
        self.risk = RiskService(self)
        #: THE research symbol: watchlists, positions, scanner and the palette set it; research docks follow
        self.symbol = SymbolContext()
        #: the research desk: earnings dates and cached daily bars through ``quotes``
        self.research = ResearchService(self)
        #: the research desk's earnings, sectors, options-flow and calendar figures (own executor)
        self.desk = DeskService(self)
        #: monitors → de-duplicated, persisted alerts (after the others: it reads their results)
        self.alerts = AlertService(self)
        #: the NFL Elo model of a results file the user opens (nothing bundled); ``probability_for`` provider
        self.nfl = NflModelService(self.executors)
        #: Kalshi prediction markets: cached markets offline, live ones (and orders) online
        self.kalshi = KalshiService(self)
        # the NFL Elo model plugs into Kalshi's NFL game markets once a results file is evaluated
        self.nfl.evaluated.connect(self._on_nfl_evaluated)
        #: the assistant's knowledge index: bundled knowledge base + notes folder, indexed off the loop
        self.knowledge = KnowledgeService(self)
        #: the private assistant: router + tools over these services, a local model on its own thread
        self.assistant = AssistantService(self)
        #: the Health dock's figures (connections, latency, loop lag, memory, database) and backup/restore
        self.health = HealthService(self)
        #: started in this order, closed in the reverse order
        self.services: list[tuple[str, Service]] = [
            ("quotes", self.quotes), ("portfolio", self.portfolio), ("audit", self.audit), ("orders", self.orders),
            ("predictor", self.predictor), ("scanner", self.scanner), ("watchlists", self.watchlists),
            ("overview", self.overview), ("risk", self.risk), ("performance", self.performance),
            ("journal", self.journal), ("research", self.research), ("desk", self.desk),
            ("alerts", self.alerts), ("nfl", self.nfl), ("kalshi", self.kalshi), ("knowledge", self.knowledge),
            ("assistant", self.assistant), ("health", self.health)]
        self.refresher.add("the replay market", self.replay.set_day)
        self.refresher.add("the account", self.portfolio.refresh)
        self.refresher.add("the scanner", self.scanner.refresh)
        self.refresher.add("the watchlist quotes", self.watchlists.refresh)
        self.refresher.add("the market overview", self.overview.refresh)
        self.refresher.add("the alerts", self.alerts.refresh)
        self._session_task: asyncio.Task[None] | None = None
        self._started: list[Service] = []
        self._closed = False

    def _on_nfl_evaluated(self, _evaluation: object) -> None:
        """A results file was evaluated: its Elo probabilities price Kalshi's NFL game markets (the
        Kalshi dock's Model column, the ticket's edge, the mispricing monitor)."""
        self.kalshi.set_probability_provider(nfl_probability_provider(self.nfl.probability_for))

    # ---- plumbing -------------------------------------------------------------------------------
    async def run_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.executors.run("db", fn, *args)

    async def run_compute(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.executors.run("compute", fn, *args)

    def report(self, message: str) -> None:
        """Tell the trader (the ``notice`` event; every subscriber gets it even if one raises)."""
        emit_isolated(self.notice, message)

    @property
    def closed(self) -> bool:
        """``aclose`` has begun: nothing new may be scheduled, and the executors take no more work."""
        return self._closed

    @property
    def day(self) -> date:
        """The replay day (``start`` first)."""
        assert self.clock is not None, "start() first"
        return self.clock.current

    @property
    def days(self) -> list[date]:
        """The replay calendar (empty before ``start``)."""
        return self.clock.days if self.clock is not None else []

    @property
    def refreshed(self) -> asyncio.Event:
        """An ``asyncio.Event`` set when no refresh pass is pending or running."""
        return self.refresher.refreshed

    # ---- start / stop -----------------------------------------------------------------------------
    async def start(self, replay_date: date | None = None) -> None:
        """Open the database (migrate), load the replay calendar, start the services, refresh."""
        await self._open_database()
        days = await self.run_compute(self.market.trading_days)
        await self.run_compute(self._preload_bars, days[0])
        self.clock = ReplayClock(days, speed=self.settings.replay_speed)
        for _name, service in self.services:
            await service.start()
            self._started.append(service)
        target = replay_date or self.settings.replay_date
        if target is not None:
            self.clock.jump(target)
        self.clock.date_changed.connect(self._on_clock_date_changed)  # after the jump: one start-up event
        self.clock.playing_changed.connect(self._on_clock_playing_changed)
        emit_isolated(self.date_changed, self.clock.current)
        self.refresher.schedule()
        self._session_task = asyncio.get_running_loop().create_task(self._start_session())

    async def _start_session(self) -> None:
        try:
            await self.session.start()
        except Exception as exc:  # the session reports connection problems as states; anything else here
            log.exception("broker session start failed")
            self.report(f"The broker session could not start: {exc}")

    def _preload_bars(self, day: date) -> None:
        """Read every bundled bar file now (compute thread), so later lookups are in memory."""
        for symbol in self.market.known_symbols():
            self.market.quote(symbol, day)

    async def aclose(self) -> None:
        """Stop the clock and the refresh, close the services (reverse order), the keyring worker
        and the database, shut the executors down. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.clock is not None:
            await self.clock.aclose()
        await self.refresher.aclose()
        if self._session_task is not None:
            await asyncio.gather(self._session_task, return_exceptions=True)
        try:
            await self.session.aclose()
        except Exception:  # never keep the trader from quitting
            log.exception("closing the broker session failed")
        for service in reversed(self._started):
            try:
                await service.aclose()
            except Exception:  # one service failing to close must not keep the others open
                log.exception("closing %s failed", type(service).__name__)
        await self.credentials.aclose()
        if self.db is not None:
            await self.run_db(self.db.close)
        self.executors.shutdown()

    async def refresh_now(self) -> None:
        """Publish the full current state again (for views created after ``start``) and wait."""
        self.watchlists.republish()
        if self.clock is not None:
            emit_isolated(self.date_changed, self.clock.current)
        await self.refresher.refresh_now()

    def _on_clock_date_changed(self, day: date) -> None:
        emit_isolated(self.date_changed, day)
        self.refresher.schedule()

    def _on_clock_playing_changed(self, playing: bool) -> None:
        emit_isolated(self.playing_changed, playing)

    # ---- the database -----------------------------------------------------------------------------
    async def _open_database(self) -> None:
        """Open the configured database; a read-only SQLite file is opened read-only (the trader's
        data shown, changes refused); anything else that fails falls back to a temporary
        in-memory database (``db_problem`` says why)."""
        self.db_problem = self.db_read_only = None
        try:
            url = await self._with_keyring_password(self.db_url)
            self.db = await self.run_db(Database.open, url)  # migrates to head
            return
        except DatabaseReadOnly as exc:
            failure: StorageError = exc
            path = None if isinstance(exc, DatabaseLocked) else self._sqlite_file()
            if path is not None and path.is_file():
                try:
                    self.db = await self.run_db(Database.open_read_only, path)
                except StorageError as ro_exc:
                    failure = ro_exc
                else:
                    self.db_read_only = (f"{self.db.describe()[0].upper()}{self.db.describe()[1:]} is read-only: "
                                         "your data is shown, but nothing you change can be saved.")
                    log.warning("%s (%s)", self.db_read_only, exc)
                    self.report(self.db_read_only)
                    return
        except StorageError as exc:
            failure = exc
        await self.use_memory_database(str(failure))

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

    def _sqlite_file(self) -> Path | None:
        """The SQLite file the configured URL points at (None for PostgreSQL or in-memory)."""
        return sqlite_file_of(self.db_url, self.paths.default_db_file)

    async def use_memory_database(self, reason: str) -> None:
        """Switch to a temporary in-memory database for this session; ``db_problem`` says why."""
        if self.db is not None:
            await self.run_db(self.db.close)
        self.db_read_only = None
        self.db_problem = (f"{reason} Working on a temporary in-memory database for this session: "
                           "nothing you do now will be saved.")
        log.warning(self.db_problem)
        self.db = await self.run_db(Database.open, "sqlite://")
        self.report(self.db_problem)

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
                await self.run_db(previous.close)
            return False
        if previous is not None:
            await self.run_db(previous.close)
        if db_url is not None:
            self.settings.db_url = db_url
        await self.portfolio.reload()
        await self.watchlists.reload()
        await self.audit.reload()
        await self.alerts.reload()
        self.refresher.schedule()
        return True

    # ---- settings ---------------------------------------------------------------------------------
    def apply_settings(self, new: Settings) -> None:
        """Take a validated ``Settings`` from the Settings dialog (in place: every service keeps its
        reference); prices, marks and the scan follow the new rate, yield and commission."""
        replay_date = self.settings.replay_date
        kalshi_was_enabled = self.settings.kalshi.enabled
        for name in type(new).model_fields:
            # accounts: their own dialog; the risk scenarios: the Risk dock's editor (a dialog opened
            # before an edit there must not put back the old list)
            if name not in ("schema_version", "replay_date", *ACCOUNT_FIELDS, *DOCK_FIELDS):
                setattr(self.settings, name, getattr(new, name))
        self.settings.replay_date = replay_date
        self.broker.commission_per_contract = new.commission_per_contract
        if self.clock is not None:
            self.clock.speed = new.replay_speed
        self.scanner.apply_settings(new)
        self.kalshi.apply_settings(kalshi_was_enabled)
        self.knowledge.apply_settings(new)
        self.portfolio.invalidate()
        if self.clock is not None:
            self.refresher.schedule()

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
        await self.run_db(self.settings_store.save, self.overrides.for_saving(self.settings))
        return True
