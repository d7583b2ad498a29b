"""Interactive Brokers: ONE ``ib_async.IB`` connection per account serving both seams.

``IBSession`` implements ``Broker`` (orders, positions, account values, executions) and ``MarketData``
(streaming quotes with IB's model Greeks, snapshots, option chains, bars) over a single TWS/Gateway
socket. This is the only module that imports ``ib_async``; every IB object is converted to our
dataclasses here (snake_case out; IB's per-contract option ``avgCost`` is divided by the multiplier).

Rules it keeps (see docs/PITFALLS): the ``IB()`` object is created inside ``connect()``/``start()``,
i.e. on the running loop; only non-blocking calls and ``*Async`` methods are used.

Events (psygnal, each delivered per subscriber in isolation, see ``services.events``):

    state_changed     [str, str]          disconnected/connecting/connected/reconnecting/failed, reason
    order_status      [OrderEvent]        keyed by the ticket's order_ref
    positions_changed [list]              list[BrokerPosition], the whole account after each change
    account_changed   [AccountValues]
    execution         [Execution]         once per exec_id, after IB's commission report
    error             [BrokerError]       errors not tied to one call (1100, 100 pacing, unknown contract)
    subscriptions_restored [int]          market-data subscriptions re-requested after a (re)connect

Connection handling:
    * socket closed -> ``reconnecting``; reconnect with capped exponential backoff plus jitter
      (tenacity), then re-request every market-data subscription that was active.
    * 1100 / 2110 (TWS lost its link to IB; the socket stays up) -> ``reconnecting``;
      1101 / 1102 (link restored) -> re-subscribe everything, ``connected``.
    * 326 (client id in use) -> ``ClientIdInUse`` with ``next_id`` (client_id + 1) at once, instead of
      ib_async's wait for its connect timeout.

Pacing: every request goes through one limiter (``max_msg_per_s``, default 45 < IB's 50 msg/s: 5/s left
for ib_async's own requests, and 200 market-data lines come back within 4.5 s of a reconnect);
error 100 pauses requests for a second. Historical requests also obey IB's historical-data rules
(<= 60 per 10 min, no identical request within 15 s, <= 5 per contract per 2 s) and a 162 pacing
violation is retried after ``hist_retry_after`` seconds.

Source: error codes and pacing rules from IB's TWS API docs ("Message Codes", "Historical Data
Limitations"); wire behaviour from /work/shared/reference/tws-protocol-notes.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
from aiolimiter import AsyncLimiter
from ib_async import IB, Contract, Index, LimitOrder, MarketOrder, Option, Stock, Ticker, Trade
from psygnal import Signal
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from magnus_desktop.models.domain import CHAIN_COLUMNS, OptionContract, OrderTicket, Ticket
from magnus_desktop.models.market import (
    AccountValues,
    BrokerPosition,
    DataSource,
    Execution,
    OptionQuote,
    OrderEvent,
    OrderState,
    PriceQuote,
    SessionState,
    StockContract,
)
from magnus_desktop.services.brokers.protocols import (
    BrokerError,
    ClientIdInUse,
    NotConnected,
    OrderRejectedByBroker,
)
from magnus_desktop.services.events import call_isolated, emit_isolated
from magnus_desktop.services.market.protocols import (
    BarInterval,
    NoData,
    QuoteListener,
    SourceOffline,
    UnknownSymbol,
)

log = logging.getLogger(__name__)

NAN = math.nan
#: option roots whose IB symbol differs (IB: symbol SPX, tradingClass SPXW)
ROOT_SYMBOL = {"SPXW": "SPX", "NDXP": "NDX", "RUTW": "RUT", "VIXW": "VIX", "XSP": "XSP"}
INDEXES = {"SPX": "CBOE", "VIX": "CBOE", "NDX": "NASDAQ", "RUT": "RUSSELL", "XSP": "CBOE"}
LINK_LOST = {1100, 2110}
LINK_RESTORED = {1101, 1102}
ACCOUNT_TAGS = ("NetLiquidation", "TotalCashValue", "BuyingPower", "MaintMarginReq")
BAR_SIZE = {"1d": "1 day", "1h": "1 hour", "5m": "5 mins", "1m": "1 min"}


@dataclass(frozen=True, slots=True)
class IBConfig:
    """Where TWS/Gateway listens and how the session paces itself (times in seconds)."""

    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 1
    account: str = ""
    connect_timeout: float = 4.0
    request_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_msg_per_s: float = 45.0
    hist_retry_after: float = 15.0
    readonly: bool = False
    chain_expiries: int = 1
    chain_strike_window: float = 0.05  # strikes within +-5 % of the underlying get quotes


class HistoricalPacer:
    """IB's historical-data limits: <= ``max_requests`` per ``window`` s, <= ``per_contract`` requests
    for one contract per ``contract_window`` s, no identical request within ``identical_gap`` s."""

    def __init__(self, max_requests: int = 60, window: float = 600.0, per_contract: int = 5,
                 contract_window: float = 2.0, identical_gap: float = 15.0) -> None:
        self.max_requests, self.window = max_requests, window
        self.per_contract, self.contract_window = per_contract, contract_window
        self.identical_gap = identical_gap
        self._all: deque[float] = deque()
        self._by_contract: dict[str, deque[float]] = {}
        self._by_request: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def delay(self, contract_key: str, request_key: str, now: float) -> float:
        """Seconds to wait before this request may go out."""
        waits = [0.0]
        while self._all and now - self._all[0] >= self.window:
            self._all.popleft()
        if len(self._all) >= self.max_requests:
            waits.append(self._all[0] + self.window - now)
        q = self._by_contract.setdefault(contract_key, deque())
        while q and now - q[0] >= self.contract_window:
            q.popleft()
        if len(q) >= self.per_contract:
            waits.append(q[0] + self.contract_window - now)
        last = self._by_request.get(request_key)
        if last is not None and now - last < self.identical_gap:
            waits.append(last + self.identical_gap - now)
        return max(waits)

    async def acquire(self, contract_key: str, request_key: str) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while (wait := self.delay(contract_key, request_key, loop.time())) > 0:
                await asyncio.sleep(wait)
            now = loop.time()
            self._all.append(now)
            self._by_contract[contract_key].append(now)
            self._by_request[request_key] = now


@dataclass(eq=False)
class _Sub:
    key: OptionContract | str
    contract: Contract
    listeners: list[QuoteListener] = field(default_factory=list)
    ticker: Ticker | None = None


def _price(x: float | None) -> float:
    """IB price -> USD or nan (IB uses nan, None and -1 for 'no price')."""
    return float(x) if x is not None and math.isfinite(x) and x >= 0 else NAN


def _num(x: float | None) -> float:
    return float(x) if x is not None and math.isfinite(x) else NAN


def _now() -> datetime:
    return datetime.now(UTC)


def to_ib_contract(c: OptionContract | StockContract | str) -> Contract:
    """Our contract (or a symbol) -> an ib_async Contract (SPXW -> symbol SPX, tradingClass SPXW)."""
    if isinstance(c, OptionContract):
        opt = Option(ROOT_SYMBOL.get(c.underlying, c.underlying), f"{c.expiry:%Y%m%d}", c.strike, c.right,
                     "SMART", str(c.multiplier), "USD", tradingClass=c.underlying)
        if c.con_id:
            opt.conId = c.con_id
        return opt
    symbol = c if isinstance(c, str) else c.symbol
    if isinstance(c, StockContract) and c.sec_type == "IND" or symbol in INDEXES:
        ind = Index(symbol, INDEXES.get(symbol, "CBOE"), "USD")
        if isinstance(c, StockContract) and c.con_id:
            ind.conId = c.con_id
        return ind
    stk = Stock(symbol, "SMART", "USD")
    if isinstance(c, StockContract) and c.con_id:
        stk.conId = c.con_id
    return stk


def from_ib_contract(c: Contract) -> OptionContract | StockContract | None:
    """An ib_async Contract -> ours; None for kinds we do not model (futures, bags ...)."""
    if c.secType in ("OPT", "FOP") and c.lastTradeDateOrContractMonth:
        expiry = datetime.strptime(c.lastTradeDateOrContractMonth[:8], "%Y%m%d").date()
        return OptionContract(c.tradingClass or c.symbol, expiry, float(c.strike), "C" if c.right.startswith("C") else "P",
                              int(float(c.multiplier or 100)), c.conId or None)
    if c.secType in ("STK", "IND"):
        return StockContract(c.symbol, c.exchange or c.primaryExchange or "SMART", c.currency or "USD",
                             "IND" if c.secType == "IND" else "STK", c.conId or None)
    return None


class IBSession:
    """One IB account over one TWS/Gateway socket (``Broker`` + ``MarketData``)."""

    source: DataSource = "ib"
    state_changed = Signal(str, str)
    order_status = Signal(OrderEvent)
    positions_changed = Signal(list)
    account_changed = Signal(AccountValues)
    execution = Signal(Execution)
    error = Signal(BrokerError)
    subscriptions_restored = Signal(int)

    def __init__(self, config: IBConfig) -> None:
        self.config = config
        self.account = config.account
        self.state: SessionState = "disconnected"
        self._ib: IB | None = None
        self._pacer = AsyncLimiter(1, 1.0 / config.max_msg_per_s)
        self._paused_until = 0.0
        self._hist = HistoricalPacer()
        self._hist_errors: dict[int, tuple[int, str]] = {}
        self._subs: dict[OptionContract | str, _Sub] = {}
        self._by_ticker: dict[int, _Sub] = {}
        self._refs: dict[str, int] = {}  # order_ref -> IB orderId, every ref sent or adopted
        self._last_status: dict[str, tuple[str, float]] = {}
        self._exec_seen: set[str] = set()
        self._place_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._reconnect_task: asyncio.Task | None = None
        self._closing = False
        self._link_lost = False

    # ----------------------------------------------------------------------------- state
    @property
    def connected(self) -> bool:
        return self.state == "connected" and self._ib is not None and self._ib.isConnected()

    def _set_state(self, state: SessionState, reason: str) -> None:
        if state != self.state:
            self.state = state
            log.info("IB session %s: %s", state, reason)
            emit_isolated(self.state_changed, state, reason)

    def _spawn(self, coro) -> asyncio.Task:  # type: ignore[no-untyped-def]
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("IB session task failed", exc_info=exc)

    def _ensure_ib(self) -> IB:
        if self._ib is None:  # created on the running loop: ib_async caches the first loop it sees
            asyncio.get_running_loop()
            ib = IB()
            ib.RequestTimeout = self.config.request_timeout
            ib.errorEvent += self._on_error
            ib.disconnectedEvent += self._on_disconnected
            ib.pendingTickersEvent += self._on_tickers
            ib.orderStatusEvent += self._on_order_status
            ib.commissionReportEvent += self._on_commission
            ib.positionEvent += self._on_position
            ib.accountValueEvent += self._on_account_value
            self._ib = ib
        return self._ib

    # ------------------------------------------------------------------------ connecting
    async def connect(self) -> None:
        """Connect once (``connect_timeout`` s at most); the session reconnects by itself afterwards.

        Raises:
            NotConnected: TWS/Gateway not reachable (refused, timed out).
            ClientIdInUse: error 326; ``next_id`` is the id to offer instead.
        """
        if self.connected:
            return
        self._closing = False
        self._set_state("connecting", f"{self.config.host}:{self.config.port} client {self.config.client_id}")
        try:
            await self._attempt()
        except ClientIdInUse as e:
            self._set_state("failed", str(e))
            raise
        except BrokerError as e:
            self._set_state("disconnected", str(e))
            raise
        await self._after_connect("connected")

    async def start(self) -> None:
        """Connect in the background, retrying with backoff until connected or ``aclose()``."""
        self._closing = False
        self._ensure_ib()
        if self._reconnect_task is None or self._reconnect_task.done():
            self._set_state("connecting", "connecting in the background")
            self._reconnect_task = self._spawn(self._reconnect_loop())

    async def aclose(self) -> None:
        """Disconnect and stop reconnecting (idempotent)."""
        self._closing = True
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._ib is not None and self._ib.isConnected():
            self._ib.disconnect()
        self._by_ticker.clear()
        self._set_state("disconnected", "closed")

    async def _attempt(self) -> None:
        ib = self._ensure_ib()
        if ib.isConnected():
            ib.disconnect()
        loop = asyncio.get_running_loop()
        in_use: asyncio.Future[str] = loop.create_future()

        def on_error(req_id: int, code: int, msg: str, contract: object) -> None:
            if code == 326 and not in_use.done():
                in_use.set_result(msg)

        ib.errorEvent += on_error
        cfg = self.config
        task = loop.create_task(ib.connectAsync(cfg.host, cfg.port, cfg.client_id, timeout=cfg.connect_timeout,
                                                readonly=cfg.readonly, account=cfg.account))
        try:
            await asyncio.wait({task, in_use}, return_when=asyncio.FIRST_COMPLETED)
            if in_use.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                ib.disconnect()
                raise ClientIdInUse(f"IB client id {cfg.client_id} is already in use by another API client "
                                    f"(TWS error 326). Try client id {cfg.client_id + 1}.", cfg.client_id + 1)
            task.result()
        except (OSError, TimeoutError, ConnectionError, asyncio.CancelledError) as e:
            current = asyncio.current_task()
            if isinstance(e, asyncio.CancelledError) and (current is None or current.cancelling()):
                raise  # we are being cancelled (aclose, loop shutdown): never retry
            if ib.isConnected():
                ib.disconnect()
            raise NotConnected(f"TWS/IB Gateway not reachable at {cfg.host}:{cfg.port} "
                               f"({type(e).__name__}: {e or 'no answer'}); is it running with the API enabled?") from e
        finally:
            ib.errorEvent -= on_error
            if not in_use.done():
                in_use.cancel()
        if not self.account:
            accounts = ib.managedAccounts()
            self.account = accounts[0] if accounts else ""

    async def _after_connect(self, reason: str) -> None:
        self._link_lost = False
        self._by_ticker.clear()
        self._set_state("connected", reason)
        self._check_unconfirmed_refs()
        emit_isolated(self.positions_changed, self._positions_now())
        if self._subs:  # its own task: a drop while re-subscribing must start a new reconnect loop
            self._spawn(self._resubscribe_all())

    def _on_disconnected(self) -> None:
        if self._closing or self.state not in ("connected", "reconnecting"):
            return
        self._by_ticker.clear()
        self._set_state("reconnecting", "connection to TWS lost")
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = self._spawn(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        cfg = self.config
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=cfg.backoff_initial, max=cfg.backoff_max, jitter=cfg.backoff_initial),
            retry=retry_if_exception_type(BrokerError),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if self._closing:
                    return
                try:
                    await self._attempt()
                except ClientIdInUse as e:  # after a drop TWS may still hold our id for a moment
                    emit_isolated(self.error, e)
                    raise
        await self._after_connect("reconnected")

    # ------------------------------------------------------------------------------- errors
    def _on_error(self, req_id: int, code: int, msg: str, contract: Contract | None) -> None:
        if code in LINK_LOST:
            self._link_lost = True
            self._set_state("reconnecting", f"TWS lost its connection to IB ({code}): {msg}")
            emit_isolated(self.error, BrokerError(msg, code))
        elif code in LINK_RESTORED:
            if self.state == "reconnecting" or self._link_lost:
                self._link_lost = False
                self._set_state("connected", f"IB connectivity restored ({code})")
            self._spawn(self._resubscribe_all())
        elif code == 100:
            self._paused_until = time.monotonic() + 1.0
            emit_isolated(self.error, BrokerError(f"IB pacing violation, requests paused 1 s: {msg}", code))
        elif code in (162, 366, 322):
            self._hist_errors[req_id] = (code, msg)
        elif code == 200 and req_id > 0 and contract is not None:
            sub = next((s for s in self._subs.values() if s.ticker is not None and s.contract == contract), None)
            if sub is not None:
                self._drop_sub(sub)
                emit_isolated(self.error, BrokerError(f"IB knows no contract {sub.key}: {msg}", code))
        elif code == 326:
            pass  # handled by _attempt
        elif 2100 <= code < 2200:
            log.debug("IB notice %s: %s", code, msg)
        else:
            log.info("IB error %s (req %s): %s", code, req_id, msg)

    # ----------------------------------------------------------------------------- pacing
    async def _paced(self) -> None:
        await self._pacer.acquire()
        wait = self._paused_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _require_connected(self) -> IB:
        if not self.connected or self._link_lost:
            raise NotConnected(f"IB session is {self.state}; nothing was sent")
        assert self._ib is not None
        return self._ib

    # ------------------------------------------------------------------ account / positions
    def _positions_now(self) -> list[BrokerPosition]:
        if self._ib is None:
            return []
        out = []
        at = _now()
        for p in self._ib.positions(self.account or ""):
            c = from_ib_contract(p.contract)
            if c is None:
                log.warning("IB position in %s (%s) is not an option/stock: not shown", p.contract.localSymbol,
                            p.contract.secType)
                continue
            mult = c.multiplier if isinstance(c, OptionContract) else 1
            out.append(BrokerPosition(p.account, c, float(p.position), float(p.avgCost) / mult, "ib", at))
        return out

    async def positions(self) -> list[BrokerPosition]:
        """Positions as IB reports them (``avg_cost`` USD per share). Raises NotConnected."""
        self._require_connected()
        return self._positions_now()

    def _account_now(self) -> AccountValues:
        assert self._ib is not None
        vals: dict[str, float] = {}
        for v in self._ib.accountValues(self.account or ""):
            if v.tag in ACCOUNT_TAGS and v.currency in ("USD", "BASE") and v.tag not in vals:
                with contextlib.suppress(ValueError):
                    vals[v.tag] = float(v.value)
        return AccountValues(self.account, vals.get("NetLiquidation", NAN), vals.get("TotalCashValue", NAN),
                             vals.get("BuyingPower", NAN), vals.get("MaintMarginReq", NAN), "USD", "ib", _now())

    async def account_values(self) -> AccountValues:
        """Net liquidation, cash, buying power, maintenance margin (USD) as IB reports them."""
        self._require_connected()
        return self._account_now()

    async def executions(self) -> list[Execution]:
        """Today's fills as IB reports them (``qty`` signed, ``price`` USD per share)."""
        ib = self._require_connected()
        return [e for f in ib.fills() if (e := self._execution(f)) is not None]

    def _execution(self, fill) -> Execution | None:  # type: ignore[no-untyped-def]
        c = from_ib_contract(fill.contract)
        if c is None:
            return None
        ex = fill.execution
        report = fill.commissionReport
        commission = float(report.commission) if report is not None and report.execId else NAN
        qty = float(ex.shares) * (-1.0 if ex.side in ("SLD", "SELL") else 1.0)
        return Execution(ex.execId, ex.orderRef or "", ex.acctNumber, c, qty, float(ex.price), commission,
                         ex.time if isinstance(ex.time, datetime) else _now(), "ib")

    def _on_position(self, position: object) -> None:
        emit_isolated(self.positions_changed, self._positions_now())

    def _on_account_value(self, value) -> None:  # type: ignore[no-untyped-def]
        if value.tag in ACCOUNT_TAGS and self._ib is not None:
            emit_isolated(self.account_changed, self._account_now())

    def _on_commission(self, trade: Trade, fill, report) -> None:  # type: ignore[no-untyped-def]
        ex = self._execution(fill)
        if ex is not None and ex.exec_id not in self._exec_seen:
            self._exec_seen.add(ex.exec_id)
            emit_isolated(self.execution, ex)

    # ------------------------------------------------------------------------------ orders
    def _trade_for(self, ref: str) -> Trade | None:
        if self._ib is None:
            return None
        return next((t for t in self._ib.trades() if t.order.orderRef == ref), None)

    def _broker_knows(self, ref: str) -> bool:
        if self._ib is None:
            return False
        return self._trade_for(ref) is not None or any(f.execution.orderRef == ref for f in self._ib.fills())

    def _check_unconfirmed_refs(self) -> None:
        """After a (re)connect: refs we sent that IB has no order or fill for were lost with the socket."""
        for ref in list(self._refs):
            if not self._broker_knows(ref) and ref not in self._last_status:
                del self._refs[ref]
                self._emit_order(ref, "rejected", 0.0, NAN, NAN, "",
                                 "IB never received this order (connection dropped while sending); nothing is "
                                 "working - it may be sent again")

    async def place(self, ticket: Ticket) -> str:
        """Send a single-leg ``ticket`` as a limit (``order_type`` "LMT") or market order with its
        time in force (``tif`` DAY/GTC).

        Idempotent by ``ticket.order_ref`` (IB ``orderRef``): a ref sent by this session, or one IB reports
        as an open order or a fill after a (re)connect, is never sent again. The order rules
        (``services.orders.rules``) are applied by ``OrderService`` before this is called.

        Raises:
            NotConnected: session down, nothing sent.
            OrderRejectedByBroker: a combo (not sent through IB in this version: its BAG contract needs
                each leg's conId), a limit that is not a finite price, or a contract IB does not know.
        """
        ref = ticket.order_ref
        if not ref:
            raise OrderRejectedByBroker("an order needs an order_ref (idempotency key)")
        if not isinstance(ticket, OrderTicket):
            raise OrderRejectedByBroker(f"{ticket.strategy.replace('_', ' ')} orders are not sent through IB in this "
                                        "version; place the legs in TWS, or use the paper account")
        if not isinstance(ticket.qty, int) or ticket.qty <= 0:
            raise OrderRejectedByBroker(f"quantity must be > 0 contracts, got {ticket.qty}")
        if ticket.order_type == "LMT" and not math.isfinite(ticket.limit_price):
            raise OrderRejectedByBroker(f"a limit order needs a finite limit price, got {ticket.limit_price}")
        async with self._place_lock:
            if ref in self._refs:
                return ref
            ib = self._require_connected()
            existing = self._trade_for(ref)
            if existing is not None or self._broker_knows(ref):
                self._refs[ref] = existing.order.orderId if existing else 0
                return ref
            contract = await self._qualified(ticket.contract)
            if contract is None:
                raise OrderRejectedByBroker(f"IB knows no contract {ticket.contract.describe()}")
            order = (LimitOrder(ticket.action, ticket.qty, ticket.limit_price) if ticket.order_type == "LMT"
                     else MarketOrder(ticket.action, ticket.qty))
            order.orderRef = ref
            order.tif = ticket.tif
            if self.account:
                order.account = self.account
            await self._paced()
            ib = self._require_connected()
            try:
                trade = ib.placeOrder(contract, order)
            except ConnectionError as e:
                raise NotConnected(f"IB connection dropped before the order was sent: {e}") from e
            self._refs[ref] = trade.order.orderId
            return ref

    async def cancel(self, order_ref: str) -> None:
        """Ask IB to cancel the working order ``order_ref``. Raises NotConnected, BrokerError (unknown ref)."""
        ib = self._require_connected()
        trade = self._trade_for(order_ref)
        if trade is None or trade.isDone():
            raise BrokerError(f"no working IB order with ref {order_ref!r}")
        await self._paced()
        ib.cancelOrder(trade.order)

    async def modify(self, order_ref: str, *, qty: int | None = None, limit_price: float | None = None) -> None:
        """Change the quantity and/or the limit price of the working order ``order_ref``: IB's
        modification is a ``placeOrder`` with the same ``orderId`` (the order keeps its place in the
        session, its ``orderRef`` and its ``permId``). The order rules check the modified ticket
        first (``OrderService.modify_order``).

        Args:
            qty: new total quantity (contracts, > 0; at least what is already filled); None keeps it.
            limit_price: new limit, USD per share (a limit order only); None keeps it.

        Raises:
            NotConnected: session down, nothing sent.
            BrokerError: no working order with that ref, nothing to change, a limit on a market order,
                or a quantity below the filled quantity.
        """
        ib = self._require_connected()
        trade = self._trade_for(order_ref)
        if trade is None or trade.isDone():
            raise BrokerError(f"no working IB order with ref {order_ref!r}")
        order = trade.order
        if qty is None and limit_price is None:
            raise BrokerError("nothing to modify: give a new quantity or limit price")
        if limit_price is not None:
            if order.orderType != "LMT":
                raise BrokerError(f"order {order_ref!r} is a {order.orderType} order: it has no limit price")
            if not math.isfinite(limit_price) or limit_price <= 0:
                raise BrokerError(f"a limit price must be a finite price above 0, got {limit_price}")
        filled = float(trade.orderStatus.filled or 0)
        if qty is not None and (qty <= 0 or qty < filled):
            raise BrokerError(f"the quantity must be > 0 and at least the {filled:g} already filled, got {qty}")
        if qty is not None:
            order.totalQuantity = qty
        if limit_price is not None:
            order.lmtPrice = limit_price
        await self._paced()
        ib = self._require_connected()
        try:
            ib.placeOrder(trade.contract, order)
        except ConnectionError as e:
            raise NotConnected(f"IB connection dropped before the modification was sent: {e}") from e

    def _on_order_status(self, trade: Trade) -> None:
        ref = trade.order.orderRef
        if not ref:
            return
        st = trade.orderStatus
        status, filled = st.status, float(st.filled or 0)
        state: OrderState
        if status == "Filled":
            state = "filled"
        elif status in ("Cancelled", "ApiCancelled"):
            codes = {e.errorCode for e in trade.log}
            state = "rejected" if codes & {201, 203} else "cancelled"
        elif status == "Inactive":
            state = "rejected"
        elif status in ("PreSubmitted", "Submitted"):
            state = "partially_filled" if filled > 0 else "submitted"
        else:
            return
        message = next((e.message for e in reversed(trade.log) if e.message), "")
        remaining = float(st.remaining) if st.remaining is not None else NAN
        avg = float(st.avgFillPrice) if filled > 0 else NAN
        self._emit_order(ref, state, filled, remaining, avg, str(trade.order.orderId), message)

    def _emit_order(self, ref: str, state: OrderState, filled: float, remaining: float, avg: float,
                    broker_id: str, message: str) -> None:
        if self._last_status.get(ref) == (state, filled):
            return
        self._last_status[ref] = (state, filled)
        emit_isolated(self.order_status, OrderEvent(ref, state, filled, remaining, avg, broker_id, message, "ib",
                                                    _now()))

    # ------------------------------------------------------------------------ market data
    async def _qualified(self, c: OptionContract | StockContract | str) -> Contract | None:
        contract = to_ib_contract(c)
        if contract.conId:
            return contract
        ib = self._require_connected()
        await self._paced()
        details = await ib.reqContractDetailsAsync(contract)
        if len(details) != 1:
            return None
        return details[0].contract

    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stream quotes (OptionQuote with IB's model Greeks, or PriceQuote) for ``contracts`` to ``listener``.

        Batches arrive once per socket read. Kept across reconnects; unknown contracts are reported
        on ``error`` and dropped.
        """
        for key in contracts:
            sub = self._subs.get(key)
            if sub is None:
                sub = self._subs[key] = _Sub(key, to_ib_contract(key))
                if self.connected:
                    self._spawn(self._activate(sub))
            if listener not in sub.listeners:
                sub.listeners.append(listener)

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stop streaming ``contracts`` to ``listener`` (IB's line is cancelled when nobody listens)."""
        for key in contracts:
            sub = self._subs.get(key)
            if sub is None:
                continue
            with contextlib.suppress(ValueError):
                sub.listeners.remove(listener)
            if not sub.listeners:
                self._drop_sub(sub)

    def _drop_sub(self, sub: _Sub) -> None:
        self._subs.pop(sub.key, None)
        if sub.ticker is not None:
            self._by_ticker.pop(id(sub.ticker), None)
            if self.connected and self._ib is not None:
                self._spawn(self._cancel_line(sub.ticker.contract))
            sub.ticker = None

    async def _cancel_line(self, contract: Contract) -> None:
        await self._paced()
        if self.connected and self._ib is not None:
            self._ib.cancelMktData(contract)

    async def _activate(self, sub: _Sub) -> None:
        if not sub.contract.conId:
            contract = await self._qualified(sub.key)
            if contract is None:
                self._subs.pop(sub.key, None)
                emit_isolated(self.error, BrokerError(f"IB knows no contract {sub.key}", 200))
                return
            sub.contract = contract
        await self._paced()
        if self._subs.get(sub.key) is not sub or not self.connected or self._ib is None:
            return
        ticks = "100,101" if sub.contract.secType == "OPT" else ""
        sub.ticker = self._ib.reqMktData(sub.contract, ticks, False, False)
        self._by_ticker[id(sub.ticker)] = sub

    async def _resubscribe_all(self) -> None:
        subs = list(self._subs.values())
        for s in subs:
            s.ticker = None
        self._by_ticker.clear()
        results = await asyncio.gather(*(self._activate(s) for s in subs), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, NotConnected):
                log.error("re-subscribing failed", exc_info=r)
        restored = sum(1 for s in subs if s.ticker is not None)
        emit_isolated(self.subscriptions_restored, restored)

    def _on_tickers(self, tickers: set[Ticker]) -> None:
        batches: dict[int, tuple[QuoteListener, list[OptionQuote | PriceQuote]]] = {}
        for t in tickers:
            sub = self._by_ticker.get(id(t))
            if sub is None:
                continue
            q = self._quote(sub.key, t)
            for listener in sub.listeners:
                batches.setdefault(id(listener), (listener, []))[1].append(q)
        for listener, batch in batches.values():
            call_isolated(listener, batch)

    @staticmethod
    def _quote(key: OptionContract | str, t: Ticker) -> OptionQuote | PriceQuote:
        at = t.time if isinstance(t.time, datetime) else _now()
        delayed = t.marketDataType in (3, 4)
        if isinstance(key, OptionContract):
            g = t.modelGreeks
            con_id = t.contract.conId if t.contract is not None else None
            contract = key if key.con_id or not con_id else OptionContract(
                key.underlying, key.expiry, key.strike, key.right, key.multiplier, con_id)
            oi = t.callOpenInterest if key.right == "C" else t.putOpenInterest
            return OptionQuote(
                contract, _price(t.bid), _price(t.ask), _price(t.last), _num(t.volume), _num(oi),
                _num(g.undPrice) if g else NAN, "ib", at,
                iv=_num(g.impliedVol) if g else NAN, delta=_num(g.delta) if g else NAN,
                gamma=_num(g.gamma) if g else NAN, theta=_num(g.theta) if g else NAN,
                vega=_num(g.vega) if g else NAN, delayed=delayed,
            )
        return PriceQuote(key, _price(t.last), _price(t.bid), _price(t.ask), _price(t.close), _num(t.volume),
                          "ib", at, delayed)

    async def _snapshots(self, keys: Sequence[OptionContract | str], contracts: Sequence[Contract]
                         ) -> list[OptionQuote | PriceQuote]:
        ib = self._require_connected()

        async def one(c: Contract) -> Ticker:
            await self._paced()
            (t,) = await asyncio.wait_for(ib.reqTickersAsync(c), self.config.request_timeout)
            return t

        tickers = await asyncio.gather(*(one(c) for c in contracts))
        return [self._quote(k, t) for k, t in zip(keys, tickers, strict=True)]

    @staticmethod
    def _live_only(at: date | datetime | None) -> None:
        day = at.date() if isinstance(at, datetime) else at
        if day is not None and day < datetime.now(UTC).date():
            raise NoData(f"IB serves live quotes only; use bars() for {day.isoformat()}")

    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Snapshot of ``symbol`` now (USD per share). Raises UnknownSymbol, NoData, SourceOffline."""
        self._live_only(at)
        contract = await self._qualified_or_raise(symbol)
        (q,) = await self._snapshots([symbol], [contract])
        assert isinstance(q, PriceQuote)
        return q

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """Snapshot of one option with IB's model Greeks. Raises UnknownSymbol, NoData, SourceOffline."""
        self._live_only(at)
        ib_contract = await self._qualified_or_raise(contract)
        (q,) = await self._snapshots([contract], [ib_contract])
        assert isinstance(q, OptionQuote)
        return q

    async def _qualified_or_raise(self, c: OptionContract | str) -> Contract:
        try:
            contract = await self._qualified(c)
        except NotConnected as e:
            raise SourceOffline(str(e)) from e
        if contract is None:
            raise UnknownSymbol(f"IB knows no contract {c.describe() if isinstance(c, OptionContract) else c}")
        return contract

    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        """Option chain of ``symbol`` (root, e.g. ``SPXW`` or ``AAPL``) in CHAIN_COLUMNS plus ``con_id``.

        Expirations and strikes from ``reqSecDefOptParams``; the nearest ``chain_expiries`` expirations
        are qualified (one contract-details request per expiry) and the strikes within
        ``chain_strike_window`` of the underlying get a snapshot quote (USD per share).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        self._live_only(at)
        und_symbol = ROOT_SYMBOL.get(symbol, symbol)
        und = await self._qualified_or_raise(und_symbol)
        try:
            ib = self._require_connected()
        except NotConnected as e:
            raise SourceOffline(str(e)) from e
        await self._paced()
        params = await ib.reqSecDefOptParamsAsync(und.symbol, "", und.secType, und.conId)
        chains = [p for p in params if p.tradingClass == symbol] or [p for p in params if p.exchange == "SMART"] or params
        if not chains:
            raise NoData(f"IB lists no options on {symbol}")
        p = chains[0]
        (und_quote,) = await self._snapshots([und_symbol], [und])
        assert isinstance(und_quote, PriceQuote)
        und_price = und_quote.last if math.isfinite(und_quote.last) else und_quote.prev_close
        rows = []
        for expiry in sorted(p.expirations)[: self.config.chain_expiries]:
            await self._paced()
            details = await ib.reqContractDetailsAsync(
                Option(und.symbol, expiry, exchange="SMART", currency="USD", tradingClass=p.tradingClass))
            for d in details:
                c = from_ib_contract(d.contract)
                if not isinstance(c, OptionContract):
                    continue
                near = not math.isfinite(und_price) or abs(c.strike / und_price - 1) <= self.config.chain_strike_window
                if near:
                    rows.append((c, d.contract))
        if not rows:
            raise NoData(f"IB returned no {symbol} options near {und_price:g}")
        quotes = await self._snapshots([r[0] for r in rows], [r[1] for r in rows])
        today = pd.Timestamp(_now().date())
        df = pd.DataFrame({
            "underlying": symbol,
            "quote_date": today,
            "und_price": [q.und_price if isinstance(q, OptionQuote) and math.isfinite(q.und_price) else und_price
                          for q in quotes],
            "expiry": [pd.Timestamp(c.expiry) for c, _ in rows],
            "strike": [c.strike for c, _ in rows],
            "right": [c.right for c, _ in rows],
            "bid": [q.bid for q in quotes],
            "ask": [q.ask for q in quotes],
            "last": [q.last for q in quotes],
            "volume": [q.volume for q in quotes],
            "open_interest": [q.open_interest if isinstance(q, OptionQuote) else NAN for q in quotes],
            "con_id": [c.con_id for c, _ in rows],
        })
        return df[[*CHAIN_COLUMNS, "con_id"]].sort_values(["expiry", "right", "strike"]).reset_index(drop=True)

    async def bars(self, symbol: str, start: date, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """OHLCV bars (USD, shares) from IB's historical data, paced to IB's limits.

        Raises: UnknownSymbol, NoData, SourceOffline (also after repeated pacing violations, 162).
        """
        contract = await self._qualified_or_raise(symbol)
        days = max((end - start).days + 1, 1)
        duration = f"{days} D" if days <= 365 else f"{math.ceil(days / 365)} Y"
        request_key = f"{contract.conId}|{end}|{duration}|{interval}"
        for attempt in range(3):
            await self._hist.acquire(str(contract.conId), request_key if attempt == 0 else f"{request_key}#{attempt}")
            await self._paced()
            ib = self._ib
            if ib is None or not self.connected:
                raise SourceOffline(f"IB session is {self.state}")
            before = set(self._hist_errors)
            bars = await ib.reqHistoricalDataAsync(contract, f"{end:%Y%m%d} 23:59:59 UTC", duration,
                                                   BAR_SIZE[interval], "TRADES", True, 1, False, [])
            new_errors = [self._hist_errors.pop(k) for k in set(self._hist_errors) - before]
            if bars:
                break
            if any(code == 162 and "pacing" in msg.lower() for code, msg in new_errors) and attempt < 2:
                emit_isolated(self.error, BrokerError(
                    f"IB historical-data pacing violation; retrying in {self.config.hist_retry_after:g} s", 162))
                await asyncio.sleep(self.config.hist_retry_after)
                continue
            detail = "; ".join(msg for _, msg in new_errors) or "empty answer"
            raise NoData(f"IB has no {interval} bars for {symbol} {start}..{end}: {detail}")
        else:
            raise SourceOffline(f"IB historical data for {symbol}: pacing violations persisted")
        df = pd.DataFrame({"open": [b.open for b in bars], "high": [b.high for b in bars], "low": [b.low for b in bars],
                           "close": [b.close for b in bars], "volume": [b.volume for b in bars]},
                          index=pd.Index([b.date for b in bars], name="date"))
        keep = [(d.date() if isinstance(d, datetime) else d) >= start for d in df.index]
        return df[keep]
