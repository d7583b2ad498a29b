"""``PortfolioService``: the account the docks show — the demo account's fills, marks and equity
curve, or, while a real broker account is active, the broker's own positions and values (no Qt).

The fills list and the equity cache are only touched on the loop thread; marking runs on the
compute executor, storage on the db executor.

Real accounts are not rebuilt from local fills; paper still is. While the active account of THE
broker session is IB or Robinhood, ``account_changed`` carries the broker's positions and account
values (:mod:`services.portfolio.live`; ``AccountSummary.source`` "ib"/"robinhood") and the replay
day no longer marks anything; switching back to the demo account restores the replay view.

Events (payloads):
    account_changed(AccountSummary)                 positions and totals (replay day, or the broker's now)
    equity_changed(list[EquityRow])                 demo: (date, net_liq USD, total P&L USD) up to the day
    broker_equity_changed(BrokerEquity)             real account: net liquidation samples as the broker sent them
    feed_changed(FeedStatus | None)                 the real account's state and last update (None = demo)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.models.domain import AccountSummary, Fill, OptionContract, OrderTicket, Ticket
from magnus_desktop.services.brokers.paper import LaterDaysCheck, check_later_days, paper_fills
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.orders.rules import preview
from magnus_desktop.services.portfolio.demo import DEMO_ACCOUNT, DEMO_SEED
from magnus_desktop.services.portfolio.live import BrokerAccountFeed, FeedStatus, equity_rows
from magnus_desktop.services.portfolio.marking import account_summary, equity_curve
from magnus_desktop.services.session.status import KIND_LABEL
from magnus_desktop.services.storage import AccountRepo, DatabaseReadOnly, TradeRepo

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

#: One point of the equity curve: (replay day, net liquidation USD, total P&L since start USD).
EquityRow = tuple[date, float, float]
#: How often (s) a real account's summary is rebuilt at most while quotes stream in.
LIVE_PUBLISH_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class BrokerEquity:
    """A real account's equity curve: only what the broker reported, no invented history.

    Attributes:
        account: the account's name; source: "ib" / "robinhood".
        samples: (UTC time, net liquidation USD) as each account update arrived, oldest first.
    """

    account: str
    source: str
    samples: tuple[tuple[datetime, float], ...]

    def title(self) -> str:
        """Chart title naming the account and that the values are the broker's own."""
        by = KIND_LABEL.get(self.source, self.source)  # type: ignore[call-overload]
        return f"{self.account}: net liquidation as reported by {by} since connecting (USD)"


class PortfolioService:
    """The demo account of one app session. Created by the ``AppContext``; ``await start()``.

    It is the paper broker's ``PaperLedger``: the broker reads the account from it and stores its
    fills through it (:meth:`account_at`, :meth:`later_days_check`, :meth:`record_fills`).
    """

    account_changed = Signal(object)
    equity_changed = Signal(object)
    broker_equity_changed = Signal(object)
    feed_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.account_id = 0
        self.starting_cash = ctx.settings.demo_starting_cash
        self.fills: list[Fill] = []
        self.last_summary: AccountSummary | None = None
        #: one order (or seed) at a time: each sees the fills stored before it
        self.order_lock = asyncio.Lock()
        self._equity_cache: dict[date, EquityRow] = {}
        self._fills_generation = 0
        #: the active real account as its broker reports it (idle while the demo account is active)
        self.live: BrokerAccountFeed | None = BrokerAccountFeed(ctx.session, self._on_live_changed)
        self._live_was_active = False
        self._publish_handle: asyncio.TimerHandle | None = None

    # ---- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.load_account()
        if self.live is not None:
            self.live.start()

    async def reload(self) -> None:
        """The database changed (reopened): read the account from it again."""
        await self.load_account()

    async def aclose(self) -> None:
        """Stop following the broker session (the context closes the database); the last state
        stays readable."""
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        if self.live is not None:
            await self.live.aclose()

    # ---- a real account (the broker's view) ------------------------------------------------------
    @property
    def showing_broker(self) -> bool:
        """The docks show a real broker account (not the demo account rebuilt from fills)."""
        return self.live is not None and self.live.active

    def _on_live_changed(self) -> None:
        """Something of the session changed: publish soon (coalesced), or go back to the replay view."""
        if self._ctx.closed:  # the session closes during shutdown: nothing new starts
            return
        active = self.showing_broker
        if active != self._live_was_active:
            self._live_was_active = active
            if not active:  # back on the demo account: the replay view returns
                emit_isolated(self.feed_changed, None)
                self._ctx.refresher.schedule()
                return
        if not active:
            return
        if self._publish_handle is None:
            loop = asyncio.get_running_loop()
            self._publish_handle = loop.call_later(LIVE_PUBLISH_INTERVAL, self.publish_broker_account)

    def publish_broker_account(self) -> None:
        """Publish the real account now: ``account_changed``, ``broker_equity_changed``, ``feed_changed``."""
        self._publish_handle = None
        live = self.live
        if live is None or not live.active:
            return
        settings = self._ctx.settings
        summary = live.summary(rate=settings.risk_free_rate, div_yield=settings.dividend_yield)
        self.last_summary = summary
        emit_isolated(self.account_changed, summary)
        emit_isolated(self.broker_equity_changed,
                      BrokerEquity(live.account, self._ctx.session.active.kind, tuple(equity_rows(live.equity))))
        emit_isolated(self.feed_changed, self.feed_status())

    def feed_status(self) -> FeedStatus | None:
        """The real account's state and last update; None while the demo account is active."""
        return self.live.status() if self.live is not None and self.live.active else None

    async def load_account(self) -> None:
        """Open (or create) the demo account, read its fills, seed it when new and writable."""
        ctx = self._ctx
        try:
            account = await ctx.run_db(AccountRepo(ctx.db).get_or_create, DEMO_ACCOUNT, "demo",
                                       ctx.settings.demo_starting_cash)
        except DatabaseReadOnly as exc:  # a read-only database without the demo account
            await ctx.use_memory_database(f"{exc} It holds no demo account to show.")
            account = await ctx.run_db(AccountRepo(ctx.db).get_or_create, DEMO_ACCOUNT, "demo",
                                       ctx.settings.demo_starting_cash)
        self.account_id = account.account_id
        self.starting_cash = account.starting_cash
        self.fills = await ctx.run_db(TradeRepo(ctx.db).fills, self.account_id)
        self.invalidate()
        if not self.fills and not ctx.db_read_only:
            await self._seed_demo()

    # ---- refresh ----------------------------------------------------------------------------------
    async def refresh(self, day: date) -> None:
        """Mark the account at ``day`` and publish ``account_changed`` and ``equity_changed``
        (a real account: publish the broker's view again instead; the replay day marks nothing)."""
        if self.showing_broker:
            self.publish_broker_account()
            return
        summary, curve = await self.mark_account(day)
        if self.showing_broker:  # the account switched while marking: the replay view is stale
            return
        self.last_summary = summary
        emit_isolated(self.account_changed, summary)
        emit_isolated(self.equity_changed, curve)

    async def mark_account(self, day: date) -> tuple[AccountSummary, list[EquityRow]]:
        """Mark the account at ``day`` and extend the cached equity curve (computed off the loop;
        the fills list and the cache are only touched on the loop thread)."""
        days = self._ctx.days or [day]
        missing = [d for d in days if d <= day and d not in self._equity_cache]
        generation = self._fills_generation
        summary, rows = await self._ctx.run_compute(self._mark, tuple(self.fills), day, missing, days)
        if generation == self._fills_generation:  # fills unchanged meanwhile: rows are current
            self._equity_cache.update((row[0], row) for row in rows)
        return summary, [self._equity_cache[d] for d in days if d <= day and d in self._equity_cache]

    def _mark(self, fills: tuple[Fill, ...], day: date, missing: list[date],
              days: list[date]) -> tuple[AccountSummary, list[EquityRow]]:
        kwargs = self._marking_kwargs()
        summary = account_summary(fills, day, self._ctx.market, days, **kwargs)
        return summary, equity_curve(fills, missing, self._ctx.market, days, **kwargs)

    def _marking_kwargs(self) -> dict[str, Any]:
        settings = self._ctx.settings
        return dict(starting_cash=self.starting_cash, rate=settings.risk_free_rate,
                    div_yield=settings.dividend_yield)

    def summary_at(self, fills: tuple[Fill, ...], day: date) -> AccountSummary:
        """The account with ``fills`` marked at ``day`` (blocking: call it on the compute executor)."""
        return account_summary(fills, day, self._ctx.market, self._ctx.days or [day], **self._marking_kwargs())

    # ---- the paper broker's ledger ------------------------------------------------------------
    async def account_at(self, day: date) -> AccountSummary:
        """The account marked at the end of ``day`` (compute thread)."""
        return (await self.mark_account(day))[0]

    async def later_days_check(self, fills: Sequence[Fill]) -> LaterDaysCheck:
        """Buying power with one order's ``fills`` on every later replay day they affect (compute thread)."""
        return await self._ctx.run_compute(self.later_days, tuple(self.fills), tuple(fills))

    def later_days(self, fills: tuple[Fill, ...], new: Fill | Sequence[Fill]) -> LaterDaysCheck:
        """:func:`check_later_days` of ``new`` (one order's fills) against ``fills`` (blocking: compute executor)."""
        first = new if isinstance(new, Fill) else new[0]
        return check_later_days(fills, new, self._ctx.market, self._ctx.days or [first.fill_date],
                                starting_cash=self.starting_cash)

    async def record_fills(self, ticket: Ticket, fills: Sequence[Fill]) -> bool:
        """Store one order's ``fills`` (db thread, one transaction: every leg or none) and add them
        to the account; False when the database already holds its ``order_ref`` (nothing changes then).

        Raises:
            StorageError: they could not be saved (nothing is stored).
        """
        stored = await self._ctx.run_db(TradeRepo(self._ctx.db).record_fills, ticket, tuple(fills))
        if stored:
            for fill in fills:
                self.add_fill(fill)
        return bool(stored)

    # ---- fills ------------------------------------------------------------------------------------
    def add_fill(self, fill: Fill) -> None:
        """A stored fill joins the account; the equity curve from its day on is recomputed."""
        self.fills.append(fill)
        self._fills_generation += 1
        for d in [d for d in self._equity_cache if d >= fill.fill_date]:
            del self._equity_cache[d]

    def invalidate(self) -> None:
        """Marks depend on something that changed (fills reloaded, rate, yield): recompute all."""
        self._fills_generation += 1
        self._equity_cache.clear()

    # ---- the demo seed --------------------------------------------------------------------------
    async def _seed_demo(self) -> None:
        """Store the :data:`DEMO_SEED` trades, each checked by the paper broker's rules
        (``services.orders.rules.preview``) at the recorded quote of its own day.

        The seed is the demo account's opening history, written directly, not orders: it publishes
        no order events (a reset must not count as orders the trader placed)."""
        ctx = self._ctx
        calendar = set(ctx.days)
        repo = TradeRepo(ctx.db)
        async with self.order_lock:
            for trade in DEMO_SEED:
                if trade.trade_date not in calendar:
                    log.warning("demo seed on %s skipped: not a replay day", trade.trade_date)
                    continue
                chain = await ctx.run_compute(ctx.market.chain, trade.trade_date)
                underlying = str(chain["underlying"].iloc[0]) if len(chain) else "SPXW"
                contract = OptionContract(underlying, trade.expiry, trade.strike, "P")
                ticket = OrderTicket(contract=contract, action="SELL", qty=trade.qty, limit_price=float("nan"),
                                     order_ref=uuid.uuid4().hex, trade_date=trade.trade_date,
                                     account_id=self.account_id)
                summary = await ctx.run_compute(self.summary_at, tuple(self.fills), trade.trade_date)
                quote = await ctx.run_compute(ctx.market.option_quote, contract, trade.trade_date)
                commission = ctx.broker.commission_per_contract
                p = preview(ticket, summary, quote, commission_per_contract=commission)
                if p.problems:
                    log.warning("demo seed %s skipped: %s", contract.describe(), " ".join(p.problems))
                    continue
                fills = paper_fills(ticket, p.leg_prices, trade.trade_date, commission)
                if await ctx.run_db(repo.record_fills, ticket, fills):
                    self.fills.extend(fills)
        self.invalidate()

    async def reset_demo(self) -> None:
        """Delete the demo account's trades and open the seed positions again."""
        ctx = self._ctx
        await ctx.run_db(AccountRepo(ctx.db).delete_account_trades, self.account_id)
        self.fills = []
        await self._seed_demo()
        ctx.refresher.schedule()
        ctx.report("Demo account reset to its opening positions.")
