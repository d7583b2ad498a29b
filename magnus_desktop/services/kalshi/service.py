"""``KalshiService``: Kalshi markets, the account and orders for the Kalshi dock (no Qt).

Offline (the default: Settings → Kalshi → "Connect to Kalshi" off, or the network down) it shows
the markets cached from the last online session (:mod:`.cache`) and says that Kalshi needs the
network. Online it loads series, events and open markets page by page (``markets_page`` per page,
so the browser fills while the rest arrives), then saves them as the new cache.

Orders go through :meth:`place_order` only: the order is previewed (cost, taker fee per the fee
schedule, max loss, balance after), refused with a sentence when it cannot go (offline, no key,
live trading off, market closed, price or size out of range, not enough balance), and audited
exactly like the options orders (``AuditService.record``: ``placed`` → ``filled`` / ``rejected``;
cancels ``cancel_requested`` → ``cancelled``). A ``client_order_id`` is sent once: a second
``place_order`` of the same id (double click, retry) returns the first result without sending.

Each portfolio read (online, with a key) is followed, in the background, by a read of our fills
and settlements since the newest stored ones, every page by the API's cursor, which stores the new ones in the database
(:mod:`.history`: prices in cents, de-duplicated by fill id) for the Performance dock's "Kalshi"
trades. A database failure or a malformed record is logged (:attr:`KalshiService.history_note`)
and never breaks the dock.

Events (payloads):
    state_changed(KalshiState)          online / offline / connecting / error, with a sentence
    markets_reset(MarketSnapshot)       the browser's whole content (cache or start of a load)
    markets_page(tuple[KalshiMarket])   more markets of the load in progress
    portfolio_changed(KalshiPortfolio)  balance, positions, resting orders, fills
    history_stored(tuple[int, int])     new fills and settlements stored for the Performance dock
    order_status(KalshiOrderEvent)      an order placed / filled / rejected / cancelled
    model_changed(bool)                 a model-probability provider was plugged in (True) or out
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from psygnal import Signal

from magnus_desktop.analytics.kalshi_fees import fee_usd
from magnus_desktop.models.kalshi import (
    Balance,
    Candle,
    KalshiEvent,
    KalshiFill,
    KalshiMarket,
    KalshiOrder,
    KalshiPosition,
    KalshiSeries,
    OrderBook,
    OrderRequest,
    market_title,
)
from magnus_desktop.services.alerts.monitors import KalshiQuote
from magnus_desktop.services.coalescing import CoalescingWorker
from magnus_desktop.services.credentials import CredentialsError
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.kalshi.cache import CACHE_FILE, MarketSnapshot, load_snapshot, save_snapshot
from magnus_desktop.services.kalshi.client import DEMO_URL, PRODUCTION_URL, KalshiClient, warm_http_imports
from magnus_desktop.services.kalshi.credentials import delete_key, load_signer, save_key
from magnus_desktop.services.kalshi.errors import KalshiCredentialsError, KalshiError
from magnus_desktop.services.kalshi.history import read_since, store_history
from magnus_desktop.services.kalshi.orders import KalshiPreview, audit_entry, preview_order
from magnus_desktop.services.storage import StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

#: a market's model probability of YES (decimal 0..1), or None when the model has none for it
ProbabilityProvider = Callable[[KalshiMarket], float | None]
StateName = Literal["offline", "connecting", "online", "error"]
NEEDS_NETWORK = "Kalshi needs the network."


@dataclass(frozen=True, slots=True)
class KalshiState:
    """Where the connection stands, and a sentence for the dock's banner."""

    state: StateName
    message: str
    has_key: bool = False
    cached_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KalshiPortfolio:
    """The account as last read (amounts USD unless named cents)."""

    balance: Balance | None = None
    positions: tuple[KalshiPosition, ...] = ()
    resting: tuple[KalshiOrder, ...] = ()
    fills: tuple[KalshiFill, ...] = ()
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class KalshiOrderEvent:
    """An order's status change: ``placed``, ``filled``, ``rejected``, ``cancelled``."""

    client_order_id: str
    state: str
    message: str
    order: KalshiOrder | None = None


class KalshiOrderRefused(KalshiError):
    """The ticket was not sent (the message lists why); nothing reached the exchange."""


@dataclass
class _Sent:
    order: KalshiOrder | None = None
    error: KalshiError | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class KalshiService:
    """Kalshi for the app session. ``client_factory`` builds the client (tests pass one bound to a
    local server); None = :class:`KalshiClient` at the configured address."""

    state_changed = Signal(object)
    markets_reset = Signal(object)
    markets_page = Signal(object)
    portfolio_changed = Signal(object)
    order_status = Signal(object)
    model_changed = Signal(bool)
    history_stored = Signal(object)

    def __init__(self, ctx: AppContext, *,
                 client_factory: Callable[..., KalshiClient] | None = None) -> None:
        self._ctx = ctx
        self._client_factory = client_factory or KalshiClient
        self.client: KalshiClient | None = None
        self.state = KalshiState("offline", NEEDS_NETWORK)
        self.snapshot = MarketSnapshot(datetime.now(UTC), "")
        self.from_cache = False
        self.portfolio = KalshiPortfolio()
        self.probability_provider: ProbabilityProvider | None = None
        self._markets: dict[str, KalshiMarket] = {}
        self._events: dict[str, KalshiEvent] = {}
        self._sent: dict[str, _Sent] = {}
        self._task: asyncio.Task[None] | None = None
        self._active = False
        # the fills/settlements read runs after each portfolio read, in the background (the first one
        # of a long-lived account pages through its whole history); reads asked for meanwhile coalesce
        self._history: CoalescingWorker[None] = CoalescingWorker(self._sync_quietly, name="Kalshi history read",
                                                                 closed=lambda: ctx.closed)
        #: why the last fills/settlements read was incomplete (None when it was complete)
        self.history_note: str | None = None

    # ---- lifecycle --------------------------------------------------------------------------------
    @property
    def cache_path(self) -> Path:
        """The offline cache file (:mod:`.cache`)."""
        return self._ctx.paths.data_dir / CACHE_FILE

    @property
    def base_url(self) -> str:
        cfg = self._ctx.settings.kalshi
        return cfg.base_url or (DEMO_URL if cfg.environment == "demo" else PRODUCTION_URL)

    @property
    def environment(self) -> str:
        """``production`` or ``demo`` (Settings → Kalshi)."""
        return self._ctx.settings.kalshi.environment

    @property
    def account_name(self) -> str:
        return f"Kalshi ({self._ctx.settings.kalshi.environment})"

    async def start(self) -> None:
        """Show the cached markets; connect in the background when Kalshi is enabled."""
        snap, why = await self._ctx.run_compute(load_snapshot, self.cache_path)
        if snap is not None:
            self._set_snapshot(snap, from_cache=True)
        cached = snap.saved_at if snap is not None else None
        note = (f" Showing the markets cached on {cached:%Y-%m-%d %H:%M} UTC." if cached else f" {why}")
        self._set_state(KalshiState("offline", f"{NEEDS_NETWORK} Kalshi is off (Settings → Kalshi).{note}",
                                    cached_at=cached))
        if self._ctx.settings.kalshi.enabled:
            self.connect_in_background()

    def connect_in_background(self) -> None:
        """(Re)connect without waiting (the window never waits for the network)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.connect())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._history.aclose()
        self._ctx.alerts.kalshi_source = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def set_active(self, active: bool) -> None:
        """The dock is shown (True) or hidden: nothing is polled while hidden."""
        self._active = active

    @property
    def active(self) -> bool:
        return self._active

    # ---- connection and markets -------------------------------------------------------------------
    async def connect(self) -> None:
        """Load the key (if any), then series, events and open markets; save them as the cache.

        Never raises: problems become the state's message (the cached markets stay shown)."""
        cached = self.snapshot.saved_at if self.from_cache else None
        self._set_state(KalshiState("connecting", f"Connecting to Kalshi ({self.base_url})…", cached_at=cached))
        signer, key_note = None, ""
        try:
            signer = await load_signer(self._ctx.credentials, self._ctx.settings.kalshi.environment,
                                       executor=self._ctx.executors["network"])
        except (KalshiCredentialsError, CredentialsError) as exc:
            key_note = f" The API key cannot be used: {exc}"
        if self.client is not None:
            await self.client.aclose()
        # building the HTTP client reads the CA bundle (~0.1 s): not on the GUI thread
        factory, compute = self._client_factory, self._ctx.executors["compute"]
        def build() -> KalshiClient:
            warm_http_imports()  # the first request's lazy imports, off the GUI loop
            return factory(self.base_url, signer=signer, parse_executor=compute)

        self.client = await self._ctx.run_compute(build)
        try:
            await self.load_markets()
        except KalshiError as exc:
            self._set_state(KalshiState("error", f"{exc} {self._cache_note()}", has_key=signer is not None,
                                        cached_at=cached))
            return
        note = key_note or ("" if signer else " No API key: market data only (add one with “API key…”).")
        self._set_state(KalshiState("online", f"Online: {len(self._markets):,} markets from {self.base_url}.{note}",
                                    has_key=signer is not None))
        self._update_alert_hook()
        if signer is not None:
            await self.refresh_portfolio_quietly()

    def _cache_note(self) -> str:
        if self.from_cache:
            return f"Showing the markets cached on {self.snapshot.saved_at:%Y-%m-%d %H:%M} UTC. {NEEDS_NETWORK}"
        return NEEDS_NETWORK

    async def load_markets(self, status: str = "open") -> None:
        """Series, events, then markets page by page (``markets_page``); then save the cache.

        Raises:
            KalshiError: the exchange could not be read (the previous markets stay)."""
        client = self._require_client()
        series: list[KalshiSeries] = await client.series_list()
        events: list[KalshiEvent] = await client.events(status=status)
        self._set_snapshot(MarketSnapshot(datetime.now(UTC), self.base_url, tuple(series), tuple(events)),
                           from_cache=False)
        markets: list[KalshiMarket] = []
        async for page in client.iter_markets(status=status):
            markets.extend(page)
            for m in page:
                self._markets[m.ticker] = m
            emit_isolated(self.markets_page, tuple(page))
        self.snapshot = MarketSnapshot(self.snapshot.saved_at, self.base_url, tuple(series), tuple(events),
                                       tuple(markets))
        try:
            await self._ctx.run_compute(save_snapshot, self.cache_path, self.snapshot)
        except OSError as exc:
            log.warning("Kalshi market cache not saved: %s", exc)

    def _set_snapshot(self, snap: MarketSnapshot, *, from_cache: bool) -> None:
        self.snapshot, self.from_cache = snap, from_cache
        self._markets = {m.ticker: m for m in snap.markets}
        self._events = {e.event_ticker: e for e in snap.events}
        emit_isolated(self.markets_reset, snap)

    def _set_state(self, state: KalshiState) -> None:
        self.state = state
        emit_isolated(self.state_changed, state)

    def _require_client(self) -> KalshiClient:
        if self.client is None:
            raise KalshiOrderRefused(f"{NEEDS_NETWORK} Turn on “Connect to Kalshi” in Settings → Kalshi.")
        return self.client

    @property
    def online(self) -> bool:
        return self.state.state == "online" and self.client is not None

    def market(self, ticker: str) -> KalshiMarket | None:
        """The market as last loaded (or cached)."""
        return self._markets.get(ticker)

    def markets(self) -> list[KalshiMarket]:
        return list(self._markets.values())

    def event_of(self, m: KalshiMarket) -> KalshiEvent | None:
        return self._events.get(m.event_ticker)

    def title(self, m: KalshiMarket) -> str:
        """The market's title, or (older markets carry none) its event's title — the market's subtitle."""
        return market_title(m, self._events.get(m.event_ticker))

    # ---- market view ------------------------------------------------------------------------------
    async def orderbook(self, ticker: str) -> OrderBook:
        """The live order book. Raises KalshiError (offline: KalshiOrderRefused)."""
        if not self.online:
            raise KalshiOrderRefused(f"The order book is live data: {NEEDS_NETWORK}")
        return await self._require_client().orderbook(ticker)

    async def refresh_market(self, ticker: str) -> KalshiMarket:
        """Read one market again (status, quotes) and keep it."""
        m = await self._require_client().market(ticker)
        self._markets[ticker] = m
        return m

    async def candles(self, m: KalshiMarket, days: int = 30) -> list[Candle]:
        """Hourly (≤ 7 days) or daily candles of the last ``days`` days up to now or the close."""
        series = m.event_ticker.split("-", 1)[0]
        event = self._events.get(m.event_ticker)
        if event is not None and event.series_ticker:
            series = event.series_ticker
        end = min(datetime.now(UTC), m.close_time or datetime.now(UTC))
        period = 60 if days <= 7 else 1440
        return await self._require_client().candlesticks(series, m.ticker, end - timedelta(days=days), end, period)

    def model_probability(self, m: KalshiMarket) -> float | None:
        """The provider's probability of YES for ``m`` (None without a provider or an answer)."""
        if self.probability_provider is None:
            return None
        try:
            p = self.probability_provider(m)
        except Exception:  # a model's bug must not break the browser
            log.exception("the Kalshi probability provider failed on %s", m.ticker)
            return None
        return p if p is not None and math.isfinite(p) and 0.0 <= p <= 1.0 else None

    def set_probability_provider(self, provider: ProbabilityProvider | None) -> None:
        """Plug a model in (the NFL Elo model does): the browser shows its column, the mispricing
        monitor reads its edges. None unplugs it."""
        self.probability_provider = provider
        self._update_alert_hook()
        emit_isolated(self.model_changed, provider is not None)

    def apply_settings(self, previous_enabled: bool) -> None:
        """Settings changed: "Connect to Kalshi" just turned on → connect now (in the background)."""
        if self._ctx.settings.kalshi.enabled and not previous_enabled:
            self.connect_in_background()

    def _update_alert_hook(self) -> None:
        alerts = self._ctx.alerts
        alerts.kalshi_source = self.alert_quotes if (self.online and self.probability_provider) else None

    def alert_quotes(self) -> list[KalshiQuote]:
        """Open markets with a YES ask and a model probability, as the mispricing monitor reads them."""
        out = []
        for m in self._markets.values():
            if not m.is_open or m.yes_ask_cents is None:
                continue
            p = self.model_probability(m)
            if p is not None:
                out.append(KalshiQuote(m.ticker, m.label, p, m.yes_ask_cents / 100.0, fee_usd(m.yes_ask_cents, 1)))
        return out

    # ---- portfolio --------------------------------------------------------------------------------
    async def refresh_portfolio(self) -> KalshiPortfolio:
        """Balance, positions, resting orders and recent fills. Raises KalshiError."""
        client = self._require_client()
        bal = await client.balance()
        positions = await client.positions()
        resting = await client.orders(status="resting")
        fills = await client.fills(limit=100)
        self.portfolio = KalshiPortfolio(bal, tuple(positions), tuple(resting), tuple(fills), datetime.now(UTC))
        emit_isolated(self.portfolio_changed, self.portfolio)
        self._history.submit(None)
        return self.portfolio

    async def history_idle(self) -> None:
        """Wait until the background fills/settlements read (if any) is done."""
        await self._history.idle()

    async def _sync_quietly(self, _: None) -> None:
        try:
            await self.sync_history()
        except (KalshiError, StorageError) as exc:
            self.history_note = f"Kalshi fills not recorded for Performance: {exc}"
            log.warning("%s", self.history_note)

    async def sync_history(self) -> tuple[int, int]:
        """Read our fills and settlements since the newest stored ones (every page) and store the
        new ones; returns (new fills, new settlements) and emits ``history_stored`` when any.

        Malformed records are left out and named in :attr:`history_note` (the others are stored).

        Raises:
            KalshiError: the exchange could not be read (nothing stored).
            StorageError: the database could not be read or written.
        """
        db = self._ctx.db
        if db is None:
            return 0, 0
        client = self._require_client()
        account = self.account_name
        fills_since, settled_since = await self._ctx.run_db(read_since, db, account)
        fills = await client.fill_history(min_ts=fills_since)
        settlements = await client.settlements(min_ts=settled_since)
        added = await self._ctx.run_db(store_history, db, account, fills.items, settlements.items)
        problems = fills.problems + settlements.problems
        for problem in problems[:5]:
            log.warning("Kalshi record left out of Performance: %s", problem)
        self.history_note = (f"{len(problems)} Kalshi record(s) left out of Performance (malformed): {problems[0]}"
                             if problems else None)
        if any(added):
            emit_isolated(self.history_stored, added)
        return added

    async def refresh_portfolio_quietly(self) -> None:
        try:
            await self.refresh_portfolio()
        except KalshiError as exc:
            log.warning("Kalshi portfolio not read: %s", exc)
            self._ctx.report(f"Kalshi portfolio: {exc}")

    # ---- keys -------------------------------------------------------------------------------------
    async def save_key(self, key_id: str, *, pem: str = "", pem_path: str = "") -> None:
        """Check and store the API key in the keyring, then reconnect. Raises KalshiCredentialsError,
        CredentialsError (nothing stored)."""
        await save_key(self._ctx.credentials, self._ctx.settings.kalshi.environment, key_id, pem=pem,
                       pem_path=pem_path, executor=self._ctx.executors["network"])
        if self._ctx.settings.kalshi.enabled:
            self.connect_in_background()

    async def forget_key(self) -> None:
        await delete_key(self._ctx.credentials, self._ctx.settings.kalshi.environment)

    # ---- orders -----------------------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why no order can be sent now, or None."""
        cfg = self._ctx.settings.kalshi
        if not self.online:
            return f"{NEEDS_NETWORK} Orders go out only while Kalshi is online."
        if not self.state.has_key:
            return "No Kalshi API key: add one with “API key…” to trade."
        if not cfg.live_trading_enabled:
            return ("Live trading is off for Kalshi: turn on “Live trading enabled” in Settings → Kalshi "
                    "(tickets still preview).")
        return None

    def preview(self, req: OrderRequest) -> KalshiPreview:
        """The ticket's figures and problems (:func:`.orders.preview_order`) against the loaded
        market, the last balance and the model's probability."""
        m = self._markets.get(req.ticker)
        cfg = self._ctx.settings.kalshi
        return preview_order(req, m, self.portfolio.balance, self.model_probability(m) if m is not None else None,
                             kelly_fraction=cfg.kelly_fraction, kelly_cap=cfg.kelly_cap)

    async def place_order(self, req: OrderRequest) -> KalshiOrder:
        """Send ``req`` once (by ``client_order_id``), audited; returns the exchange's order.

        Raises:
            KalshiOrderRefused: not sent (offline, no key, live trading off, the preview's problems).
            KalshiMarketClosed, KalshiRejected, KalshiAuthError, KalshiClockSkew, KalshiUnavailable:
                the exchange's answer (audited as ``rejected``; the account is read again).
        """
        earlier = self._sent.get(req.client_order_id)
        if earlier is not None:  # a double click or a retry: never sent twice
            await earlier.done.wait()
            if earlier.error is not None:
                raise earlier.error
            assert earlier.order is not None
            return earlier.order
        p = self.preview(req)
        refusal = self.refusal()
        problems = ([refusal] if refusal else []) + list(p.problems)
        if problems:
            message = " ".join(problems)
            self._audit(req, "rejected", message, p)
            emit_isolated(self.order_status, KalshiOrderEvent(req.client_order_id, "rejected", message))
            raise KalshiOrderRefused(message)
        sent = self._sent[req.client_order_id] = _Sent()
        started = asyncio.get_running_loop().time()
        self._audit(req, "placed", f"sent to Kalshi ({self.base_url})", p)
        emit_isolated(self.order_status, KalshiOrderEvent(req.client_order_id, "placed", ""))
        try:
            order = await self._require_client().create_order(req)
        except KalshiError as exc:
            sent.error = exc
            latency = (asyncio.get_running_loop().time() - started) * 1000.0
            self._audit(req, "rejected", str(exc), p, latency_ms=latency)
            emit_isolated(self.order_status, KalshiOrderEvent(req.client_order_id, "rejected", str(exc)))
            raise
        finally:
            sent.done.set()
        sent.order = order
        latency = (asyncio.get_running_loop().time() - started) * 1000.0
        state = "filled" if order.fill_count > 0 and order.remaining_count == 0 else \
            "partially_filled" if order.fill_count > 0 else "placed"
        if state != "placed":
            self._audit(req, state, f"{order.status}: filled {order.fill_count:g} of {order.initial_count:g}", p,
                        latency_ms=latency, order=order)
        emit_isolated(self.order_status, KalshiOrderEvent(req.client_order_id, state, order.status, order))
        await self.refresh_portfolio_quietly()
        return order

    async def cancel_order(self, order: KalshiOrder) -> KalshiOrder:
        """Cancel what rests of ``order`` (audited). Raises KalshiError with the exchange's reason."""
        req = OrderRequest(order.ticker, order.side, order.action, int(order.initial_count),
                           order.price_cents or 0, order.client_order_id or order.order_id)
        try:
            after = await self._require_client().cancel_order(order.order_id)
        except KalshiError as exc:
            self._audit(req, "cancel_requested", f"refused: {exc}", None, order=order)
            raise
        self._audit(req, "cancel_requested", "accepted by Kalshi", None, order=order)
        self._audit(req, "cancelled", f"{after.status}: {after.remaining_count:g} remaining", None, order=after)
        emit_isolated(self.order_status, KalshiOrderEvent(req.client_order_id, "cancelled", after.status, after))
        await self.refresh_portfolio_quietly()
        return after

    def owns(self, order_ref: str) -> bool:
        """``order_ref`` (a ``client_order_id``) is a Kalshi order of this session or a resting one."""
        return order_ref in self._sent or any(o.client_order_id == order_ref for o in self.portfolio.resting)

    async def cancel_by_ref(self, order_ref: str) -> str:
        """Cancel the Kalshi order whose ``client_order_id`` is ``order_ref`` (the Orders dock's
        Cancel); returns the sentence for the trader (the audit rows are written here)."""
        order = next((o for o in self.portfolio.resting if o.client_order_id == order_ref), None)
        sent = self._sent.get(order_ref)
        if order is None and sent is not None and sent.order is not None and sent.order.remaining_count > 0:
            order = sent.order
        if order is None:
            return "Cancel refused: Kalshi shows no resting order with this reference."
        try:
            after = await self.cancel_order(order)
        except KalshiError as exc:
            return f"Cancel refused: {exc}"
        return f"Cancelled on Kalshi ({after.remaining_count:g} contracts left resting)."

    def _audit(self, req: OrderRequest, action: str, result: str, p: KalshiPreview | None, *,
               latency_ms: float | None = None, order: KalshiOrder | None = None) -> None:
        """One audit row through the app's audit log (:func:`.orders.audit_entry`)."""
        self._ctx.audit.record(audit_entry(self.account_name, req, action, result, p, latency_ms=latency_ms,
                                           order=order))
