"""A real broker account as the broker reports it (no Qt): positions, account values, quotes.

Real accounts are never rebuilt from local fills: :class:`BrokerAccountFeed` follows THE broker
session (``BrokerSessionManager``) and keeps the broker's latest positions and account values, and
streams quotes of the held contracts through the session's ``MarketData.subscribe`` where the
broker offers it (IB: with its model Greeks); a broker that streams nothing (Robinhood) is asked for
positions, account values and quotes every :data:`POLL_INTERVAL_S` seconds instead. :func:`broker_summary` turns them into the
``AccountSummary`` / ``PositionSnapshot`` shape the positions and dashboard docks show.

Missing quotes stay missing (NaN, shown as "—"), never 0. Greeks: the broker's model Greeks when it
streams them (``greeks_source`` "IB model"), else ours (Black-Scholes, IV from the quote's mid;
``greeks_source`` "model"), else NaN.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from magnus_desktop.analytics.pricing import bs_greeks, implied_vol
from magnus_desktop.models.domain import NAN, AccountSummary, OptionContract, PositionSnapshot
from magnus_desktop.models.market import AccountValues, BrokerPosition, OptionQuote, PriceQuote, SessionState
from magnus_desktop.services.brokers.protocols import BrokerError
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.portfolio.marking import put_collateral
from magnus_desktop.services.session.status import KIND_LABEL

if TYPE_CHECKING:
    from magnus_desktop.services.session import BrokerSessionManager

log = logging.getLogger(__name__)

#: account kinds whose positions come from the broker, not from local fills
LIVE_KINDS = frozenset({"ib", "robinhood"})
#: option roots whose underlying trades under another symbol (SPXW options on the SPX index)
UNDERLYING_OF_ROOT = {"SPXW": "SPX"}
#: broker net-liquidation samples kept for the equity curve (one per account update)
MAX_EQUITY_SAMPLES = 10_000
#: seconds between snapshots of a broker that streams nothing (Robinhood): positions, values, quotes
POLL_INTERVAL_S = 15.0

Quote = OptionQuote | PriceQuote
#: quote key: (underlying, expiry, strike, right) of an option (con_id ignored), or a symbol
QuoteKey = tuple[str, date, float, str] | str


def quote_key(contract: OptionContract | Any) -> QuoteKey:
    """Key of a position's contract (option or ``StockContract``) or a symbol, for quote lookups."""
    if isinstance(contract, OptionContract):
        return (contract.underlying, contract.expiry, float(contract.strike), contract.right)
    return contract if isinstance(contract, str) else str(contract.symbol)


def underlying_symbol(contract: OptionContract) -> str:
    """The symbol the underlying's price is quoted under ("SPX" for SPXW options)."""
    return UNDERLYING_OF_ROOT.get(contract.underlying, contract.underlying)


def _finite(x: float) -> bool:
    return isinstance(x, float | int) and math.isfinite(x)


# ------------------------------------------------------------------------------------- status
@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What the positions header says about a real account's data.

    Attributes:
        account: the account's name in Settings → Accounts.
        kind: "ib" or "robinhood".
        state: the session's connection state.
        last_update: when the broker last sent positions, account values or a quote (UTC); None = nothing yet.
    """

    account: str
    kind: str
    state: SessionState
    last_update: datetime | None


def describe_feed(status: FeedStatus, now: datetime) -> str:
    """Header text: ``"IB paper (IB) — live, as of 12:03:04"`` while connected, else the state and the
    age of the last update (``"IB paper (IB) — reconnecting — last update 12:02:55, 9 s old"``).

    Times are shown in the local time zone. Data is only called "live" while the session is connected.
    """
    name = f"{status.account} ({KIND_LABEL.get(status.kind, status.kind)})"  # type: ignore[call-overload]
    if status.last_update is None:
        return f"{name} — {status.state}, nothing received yet"
    stamp = status.last_update.astimezone().strftime("%H:%M:%S")
    if status.state == "connected":
        return f"{name} — live, as of {stamp}"
    age = max(0.0, (now - status.last_update).total_seconds())
    return f"{name} — {status.state} — last update {stamp}, {_age(age)} old"


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"


# ------------------------------------------------------------------------------------ marking
def broker_position_snapshot(pos: BrokerPosition, quotes: Mapping[QuoteKey, Quote], today: date, *,
                             rate: float, div_yield: float = 0.0) -> PositionSnapshot:
    """One broker position marked at its latest quote (NaN where there is none).

    Args:
        pos: as the broker reports it (``avg_cost`` USD per share).
        quotes: latest quotes by :func:`quote_key`.
        today: the local date (for DTE and the model's time to expiry).
        rate, div_yield: annualised decimals for our model Greeks.
    """
    contract = pos.contract
    quote = quotes.get(quote_key(contract))
    qty = int(pos.qty) if float(pos.qty).is_integer() else pos.qty
    if not isinstance(contract, OptionContract):
        return _stock_snapshot(pos, qty, quote)  # type: ignore[arg-type]
    oq = quote if isinstance(quote, OptionQuote) else None
    mark = NAN
    if oq is not None:
        mark = oq.mid if _finite(oq.mid) else oq.last
    und = oq.und_price if oq is not None and _finite(oq.und_price) else NAN
    if not _finite(und):
        uq = quotes.get(underlying_symbol(contract))
        if isinstance(uq, PriceQuote):
            und = uq.last if _finite(uq.last) else uq.mid
    dte = contract.dte(today)
    scale = qty * contract.multiplier
    iv, delta, gamma, theta, vega, greeks_source = _greeks(contract, oq, mark, und, dte, rate, div_yield)
    short_credit = qty < 0 and pos.avg_cost > 0
    return PositionSnapshot(
        contract=contract, qty=qty, avg_cost=pos.avg_cost, mark=mark,  # type: ignore[arg-type]
        market_value=qty * mark * contract.multiplier, unrealized_pnl=(mark - pos.avg_cost) * scale,
        delta=delta * scale, gamma=gamma * scale, theta=theta * scale, vega=vega * scale, iv=iv, dte=dte,
        pct_max_profit=(pos.avg_cost - mark) / pos.avg_cost if short_credit else NAN,
        collateral=put_collateral(contract, int(qty)), und_price=und,
        source=oq.source if oq is not None else pos.source, as_of=oq.as_of if oq is not None else None,
        greeks_source=greeks_source,
    )


def _greeks(contract: OptionContract, oq: OptionQuote | None, mark: float, und: float, dte: int, rate: float,
            div_yield: float) -> tuple[float, float, float, float, float, str]:
    """(iv, delta, gamma, theta, vega per share, where they came from)."""
    if oq is not None and _finite(oq.delta):
        label = f"{KIND_LABEL.get(oq.source, oq.source)} model"  # type: ignore[call-overload]
        return oq.iv, oq.delta, oq.gamma, oq.theta, oq.vega, label
    if _finite(mark) and _finite(und) and mark > 0:
        t_years = max(dte, 0) / 365.0
        iv = float(implied_vol(mark, contract.right, und, contract.strike, t_years, rate, div_yield))
        g = bs_greeks(contract.right, und, contract.strike, t_years, rate, iv, div_yield)
        return iv, float(g.delta), float(g.gamma), float(g.theta), float(g.vega), "model"
    return NAN, NAN, NAN, NAN, NAN, ""


def _stock_snapshot(pos: BrokerPosition, qty: float, quote: Quote | None) -> PositionSnapshot:
    pq = quote if isinstance(quote, PriceQuote) else None
    mark = NAN if pq is None else (pq.last if _finite(pq.last) else pq.mid)
    return PositionSnapshot(
        contract=pos.contract, qty=qty, avg_cost=pos.avg_cost, mark=mark,  # type: ignore[arg-type]
        market_value=qty * mark, unrealized_pnl=(mark - pos.avg_cost) * qty,
        delta=float(qty), gamma=0.0, theta=0.0, vega=0.0, iv=NAN, dte=NAN, pct_max_profit=NAN,  # type: ignore[arg-type]
        collateral=0.0, und_price=mark, source=pq.source if pq is not None else pos.source,
        as_of=pq.as_of if pq is not None else None, greeks_source="shares",
    )


def broker_summary(account: str, positions: Sequence[BrokerPosition], values: AccountValues | None,
                   quotes: Mapping[QuoteKey, Quote], today: date, updated_at: datetime | None, *,
                   rate: float, div_yield: float = 0.0, source: str = "") -> AccountSummary:
    """The broker's account in the docks' shape: its own totals, its positions at their latest quotes.

    ``source`` labels the summary before the broker sent anything ("ib" / "robinhood").
    Totals the broker did not send (no account values yet) are NaN; the market value, P&L and Greek
    totals are NaN when any position has no quote (never counted as 0).
    """
    snaps = tuple(broker_position_snapshot(p, quotes, today, rate=rate, div_yield=div_yield)
                  for p in sorted(positions, key=_sort_key))
    v = values
    return AccountSummary(
        as_of=today,
        cash=v.cash if v else NAN,
        market_value=sum(p.market_value for p in snaps),
        net_liquidation=v.net_liquidation if v else NAN,
        collateral_used=v.maint_margin if v else NAN,
        buying_power=v.buying_power if v else NAN,
        realized_pnl=NAN,
        unrealized_pnl=sum(p.unrealized_pnl for p in snaps),
        net_delta=sum(p.delta for p in snaps),
        theta_per_day=sum(p.theta for p in snaps),
        positions=snaps,
        source=v.source if v else (positions[0].source if positions else source),
        account=account,
        updated_at=updated_at,
    )


def _sort_key(p: BrokerPosition) -> tuple[int, str, str]:
    c = p.contract
    if isinstance(c, OptionContract):
        return (0, c.expiry.isoformat(), c.describe())
    return (1, "", str(getattr(c, "symbol", "")))


# ---------------------------------------------------------------------------------------- feed
class BrokerAccountFeed:
    """The active real account's latest positions, account values and quotes, from THE session.

    Args:
        session: the app's one ``BrokerSessionManager``.
        on_change: called (on the loop) whenever something the docks show changed.
        now: UTC clock (tests inject one).
        poll_interval_s: seconds between snapshots of a broker without streaming quotes.
    """

    def __init__(self, session: BrokerSessionManager, on_change: Callable[[], None], *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self._session = session
        self.poll_interval_s = poll_interval_s
        self._poller: asyncio.Task[None] | None = None
        self._on_change = on_change
        self._now = now
        self._account = ""
        self._state: SessionState = "disconnected"
        self.positions: list[BrokerPosition] = []
        self.values: AccountValues | None = None
        self.quotes: dict[QuoteKey, Quote] = {}
        #: (UTC time, net liquidation USD) as the broker reported it, oldest first
        self.equity: list[tuple[datetime, float]] = []
        self.last_update: datetime | None = None
        self._subscribed: dict[QuoteKey, OptionContract | str] = {}
        self._sub_broker: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._links = [(session.state_changed, self._on_session_state_changed),
                       (session.positions_changed, self._on_session_positions_changed),
                       (session.account_changed, self._on_session_account_changed)]

    @property
    def active(self) -> bool:
        """The active account is a real broker's (its positions come from the broker)."""
        return self._session.active.kind in LIVE_KINDS

    @property
    def account(self) -> str:
        return self._session.active.name

    def status(self) -> FeedStatus:
        a = self._session.active
        return FeedStatus(a.name, a.kind, self._session.status().state, self.last_update)

    def start(self) -> None:
        for signal, slot in self._links:
            signal.connect(slot)
        self._account = self._session.active.name

    async def aclose(self) -> None:
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def summary(self, *, rate: float, div_yield: float = 0.0) -> AccountSummary:
        """The account now (local date), as :func:`broker_summary` builds it."""
        today = self._now().astimezone().date()
        return broker_summary(self.account, self.positions, self.values, self.quotes, today, self.last_update,
                              rate=rate, div_yield=div_yield, source=self._session.active.kind)

    # ---- session events -------------------------------------------------------------------------
    def _on_session_state_changed(self, account: str, state: str, _reason: str) -> None:
        if account != self._account:
            self._reset()
            self._account = account
        self._state = state  # type: ignore[assignment]
        if state == "connected" and self.active:
            self._spawn(self._load())
            broker = self._session.broker
            if broker is not None and not callable(getattr(broker, "subscribe", None)) and (
                    self._poller is None or self._poller.done()):
                self._poller = self._spawn(self._poll(broker))
        self._on_change()

    def _on_session_positions_changed(self, positions: list[BrokerPosition]) -> None:
        if not self.active:
            return
        self.positions = list(positions)
        self._touch()
        self._follow_quotes()
        self._on_change()

    def _on_session_account_changed(self, values: AccountValues) -> None:
        if not self.active or values is self.values:  # the same report twice (event, then our load)
            return
        self.values = values
        self._touch()
        if _finite(values.net_liquidation):
            self.equity.append((self.last_update or values.as_of, values.net_liquidation))
            del self.equity[:-MAX_EQUITY_SAMPLES]
        self._on_change()

    def _on_quotes(self, batch: Sequence[Quote]) -> None:
        if not self.active:
            return
        for q in batch:
            key = quote_key(q.contract) if isinstance(q, OptionQuote) else q.symbol
            if key in self._subscribed:
                self.quotes[key] = q
        self._touch()
        self._on_change()

    # ---- internals --------------------------------------------------------------------------------
    async def _load(self) -> None:
        """On (re)connect: the broker's positions and account values now."""
        broker = self._session.broker
        if broker is None:
            return
        try:
            positions = await broker.positions()
            values = await broker.account_values()
        except BrokerError as exc:  # the session state says why; the next event brings data
            log.info("broker account not loaded: %s", exc)
            return
        if broker is not self._session.broker:
            return
        self._on_session_positions_changed(positions)
        self._on_session_account_changed(values)

    async def _poll(self, broker: Any) -> None:
        """A broker without streaming: its positions, values (they arrive as session events) and the
        held contracts' quotes, every ``poll_interval_s`` while it is the active, connected broker."""
        while broker is self._session.broker and self.active:
            await asyncio.sleep(self.poll_interval_s)
            if self._session.status().state != "connected" or broker is not self._session.broker:
                continue
            await self._load()
            await self._snapshot_quotes(broker)

    async def _snapshot_quotes(self, broker: Any) -> None:
        got = 0
        for p in list(self.positions):
            c = p.contract
            try:
                if isinstance(c, OptionContract):
                    q: Quote = await broker.option_quote(c)
                else:
                    q = await broker.underlying_price(str(getattr(c, "symbol", "")))
            except (MarketDataError, BrokerError) as exc:  # stays missing (NaN), never 0
                log.info("no quote of %s from %s: %s", c, self.account, exc)
                continue
            if broker is not self._session.broker:
                return
            self.quotes[quote_key(c)] = q
            got += 1
        if got:
            self._touch()
            self._on_change()

    def _touch(self) -> None:
        self.last_update = self._now()

    def _follow_quotes(self) -> None:
        """Stream quotes of the held contracts (and their underlyings) through the session's broker."""
        broker = self._session.broker
        if broker is not self._sub_broker:
            self._unsubscribe_all()
        if broker is None or not callable(getattr(broker, "subscribe", None)):
            return
        wanted: dict[QuoteKey, OptionContract | str] = {}
        for p in self.positions:
            c = p.contract
            if isinstance(c, OptionContract):
                wanted[quote_key(c)] = c
                wanted[underlying_symbol(c)] = underlying_symbol(c)
            else:
                symbol = str(getattr(c, "symbol", ""))
                wanted[symbol] = symbol
        gone = [v for k, v in self._subscribed.items() if k not in wanted]
        new = [v for k, v in wanted.items() if k not in self._subscribed]
        if gone:
            broker.unsubscribe(gone, self._on_quotes)
        if new:
            broker.subscribe(new, self._on_quotes)
        for k in set(self._subscribed) - set(wanted):
            self.quotes.pop(k, None)
        self._subscribed = wanted
        self._sub_broker = broker

    def _unsubscribe_all(self) -> None:
        if self._sub_broker is not None and self._subscribed:
            try:
                self._sub_broker.unsubscribe(list(self._subscribed.values()), self._on_quotes)
            except Exception:  # a closed session: nothing streams any more anyway
                log.exception("unsubscribing the account's quotes failed")
        self._subscribed = {}
        self._sub_broker = None

    def _reset(self) -> None:
        """Another account became active: forget everything of the previous one."""
        self._unsubscribe_all()
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        self.positions, self.values, self.quotes, self.equity = [], None, {}, []
        self.last_update = None

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def equity_rows(samples: Iterable[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """The broker's net-liquidation samples (UTC time, USD), oldest first, one per distinct time."""
    out: dict[datetime, float] = {}
    for at, value in samples:
        out[at] = value
    return sorted(out.items())
