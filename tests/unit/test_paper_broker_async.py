"""The async paper broker on the ``Broker`` seam: statuses keyed by order_ref, reasons, idempotency,
cancel refusals, and ``OrderService`` placing through it; per-underlying settlement."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.models.domain import AccountSummary, Fill, OptionContract, OrderTicket, Ticket
from magnus_desktop.models.market import Execution, OrderEvent
from magnus_desktop.services.brokers.paper import LaterDaysCheck, OrderRejected, PaperBroker, check_later_days
from magnus_desktop.services.brokers.protocols import Broker, BrokerError, NotConnected, OrderRejectedByBroker
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.market.replay import ReplayMarket
from magnus_desktop.services.portfolio.marking import account_summary, settlement_price
from magnus_desktop.services.settings import Settings, SettingsStore

JAN2, JAN31 = date(2018, 1, 2), date(2018, 1, 31)
PUT = OptionContract("SPXW", JAN31, 2600.0, "P")
CALL = OptionContract("SPXW", JAN31, 2800.0, "C")


class MemoryLedger:
    """A ``PaperLedger`` in memory; like the database it refuses a second fill of one order_ref."""

    def __init__(self, market: ReplayMarketData, *, refuse_all: bool = False) -> None:
        self.market, self.refuse_all = market, refuse_all
        self.fills: list[Fill] = []
        self.order_lock = asyncio.Lock()
        self.days = market.trading_days()

    async def account_at(self, day: date) -> AccountSummary:
        return account_summary(self.fills, day, self.market, self.days, starting_cash=1_000_000.0, rate=0.0)

    async def later_days_check(self, fills: Sequence[Fill]) -> LaterDaysCheck:
        return check_later_days(self.fills, fills, self.market, self.days, starting_cash=1_000_000.0)

    async def record_fills(self, ticket: Ticket, fills: Sequence[Fill]) -> bool:
        if self.refuse_all or any(f.order_ref == ticket.order_ref for f in self.fills):
            return False
        self.fills.extend(fills)
        return True


@pytest.fixture
def data() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest.fixture
def pool():
    with ThreadPoolExecutor(1) as executor:
        yield executor


def paper(data: ReplayMarketData, pool: ThreadPoolExecutor, ledger: MemoryLedger | None = None):
    ledger = ledger or MemoryLedger(data)
    broker = PaperBroker(ReplayMarket(data, pool), ledger, commission_per_contract=0.65, today=lambda: JAN2)
    events: list[OrderEvent] = []
    executions: list[Execution] = []
    broker.order_status.connect(events.append)
    broker.execution.connect(executions.append)
    return broker, ledger, events, executions


def ticket(contract: OptionContract, action: str, qty: int = 1, ref: str = "ref-1") -> OrderTicket:
    return OrderTicket(contract, action, qty, math.nan, ref, JAN2)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_submitted_then_filled_at_the_recorded_bid(data, pool) -> None:
    broker, ledger, events, executions = paper(data, pool)
    assert isinstance(broker, Broker)
    assert await broker.place(ticket(PUT, "SELL", 2)) == "ref-1"
    assert [(e.order_ref, e.state) for e in events] == [("ref-1", "submitted"), ("ref-1", "filled")]
    bid = data.option_quote(PUT, JAN2).bid
    assert bid > 0 and events[1].avg_fill_price == bid and events[1].filled_qty == 2
    assert events[0].remaining_qty == 2 and events[1].remaining_qty == 0 and events[1].source == "paper"
    (fill,) = ledger.fills
    assert fill.qty == -2 and fill.price == bid and fill.commission == pytest.approx(1.30)
    assert [(x.order_ref, x.qty, x.price) for x in executions] == [("ref-1", -2, bid)]
    (pos,) = await broker.positions()
    assert pos.contract == PUT and pos.qty == -2 and pos.source == "paper"
    values = await broker.account_values()
    assert values.maint_margin == pytest.approx(2600.0 * 100 * 2)
    assert [x.order_ref for x in await broker.executions()] == ["ref-1"]


@pytest.mark.asyncio
async def test_rejected_with_the_rules_reason(data, pool) -> None:
    broker, ledger, events, executions = paper(data, pool)
    with pytest.raises(OrderRejected, match="covered call") as caught:
        await broker.place(ticket(CALL, "SELL"))
    assert isinstance(caught.value, OrderRejectedByBroker)
    assert [e.state for e in events] == ["submitted", "rejected"]
    assert "covered call" in events[1].message and events[1].order_ref == "ref-1"
    assert ledger.fills == [] and executions == []
    odd = OptionContract("SPXW", JAN31, 2601.0, "P")  # not quoted: the market has nothing to fill at
    with pytest.raises(OrderRejected, match="No recorded bid"):
        await broker.place(ticket(odd, "SELL", ref="ref-2"))
    assert events[-1].state == "rejected" and "nothing to fill against" in events[-1].message


@pytest.mark.asyncio
async def test_a_duplicate_ref_is_filled_once(data, pool) -> None:
    broker, ledger, events, _x = paper(data, pool)
    first, again = ticket(PUT, "SELL"), ticket(PUT, "SELL", qty=3)  # same ref, even another size
    await asyncio.gather(broker.place(first), broker.place(again))
    assert len(ledger.fills) == 1 and ledger.fills[0].qty == -1
    assert [e.state for e in events] == ["submitted", "filled"]
    # a new session (restart) over the same stored fills: still not filled twice
    fresh, _ledger, fresh_events, _y = paper(data, pool, ledger)
    assert await fresh.place(first) == "ref-1"
    assert len(ledger.fills) == 1 and fresh_events == []


@pytest.mark.asyncio
async def test_the_store_refusing_a_ref_is_reported_not_filled(data, pool) -> None:
    broker, ledger, events, executions = paper(data, pool, MemoryLedger(data, refuse_all=True))
    await broker.place(ticket(PUT, "SELL"))
    assert [e.state for e in events] == ["submitted", "rejected"] and "not filled twice" in events[1].message
    assert ledger.fills == [] and executions == []


@pytest.mark.asyncio
async def test_cancel_is_refused_clearly(data, pool) -> None:
    broker, _ledger, events, _x = paper(data, pool)
    await broker.place(ticket(PUT, "SELL"))
    with pytest.raises(BrokerError, match="already filled, so it cannot be cancelled"):
        await broker.cancel("ref-1")
    with pytest.raises(OrderRejected):
        await broker.place(ticket(CALL, "SELL", ref="ref-2"))
    with pytest.raises(BrokerError, match="was rejected; nothing is working"):
        await broker.cancel("ref-2")
    with pytest.raises(BrokerError, match="No paper order 'nope'"):
        await broker.cancel("nope")
    assert [e.state for e in events] == ["submitted", "filled", "submitted", "rejected"]  # no "cancelled"
    await broker.aclose()
    with pytest.raises(NotConnected):
        await broker.place(ticket(PUT, "SELL", ref="ref-3"))


@pytest.mark.asyncio
async def test_order_service_places_through_the_broker_and_relays_its_events(tmp_path: Path,
                                                                              data: ReplayMarketData) -> None:
    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=data,
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    await ctx.start()
    await ctx.refreshed.wait()
    seen: list[tuple[str, str]] = []
    ctx.orders.order_status.connect(lambda e: seen.append((e.order_ref, e.state)))
    try:
        assert isinstance(ctx.broker, Broker) and ctx.broker.market is ctx.replay
        t = ctx.orders.new_ticket(OptionContract("SPXW", JAN31, 2500.0, "P"), "SELL", 1)
        ref = await ctx.orders.place_order(t)
        assert ref == t.order_ref and seen == [(ref, "submitted"), (ref, "filled")]
        fill = ctx.orders.fill_of(ref)
        assert fill is not None and fill.price == data.option_quote(t.contract, ctx.day).bid
        assert await ctx.orders.place_order(t) == ref and ctx.orders.fill_of(ref) == fill  # not twice
        assert sum(f.order_ref == ref for f in ctx.portfolio.fills) == 1 and len(seen) == 2
        with pytest.raises(BrokerError, match="already filled"):
            await ctx.orders.cancel_order(ref)
        quote = await ctx.orders.quote(t.contract)
        assert quote.source == "replay" and quote.bid == fill.price and quote.day == ctx.day
    finally:
        await ctx.aclose()


def test_settlement_uses_the_contracts_own_underlying(data: ReplayMarketData) -> None:
    """A (synthetic) SPY put settles against SPY's recorded close, not the SPX level."""
    days = data.trading_days()
    expiry = date(2018, 1, 19)
    spy_close = float(data.bars("SPY", expiry, expiry)["close"].iloc[0])
    assert data.underlying_price("SPY", expiry) == spy_close
    assert data.underlying_price("SPXW", expiry) == data.und_price(expiry) > 10 * spy_close
    put = OptionContract("SPY", expiry, round(spy_close) + 10.0, "P")
    assert settlement_price(data, put, days) == spy_close
    intrinsic = put.strike - spy_close  # ~10 USD; against SPX it would be 0
    fills = [Fill(put, -1, 12.0, 0.65, JAN2, "spy-1")]
    after = account_summary(fills, date(2018, 1, 22), data, days, starting_cash=100_000.0, rate=0.0)
    assert after.positions == ()
    assert after.cash == pytest.approx(100_000.0 + 1200.0 - 0.65 - intrinsic * 100)
    assert after.realized_pnl == pytest.approx((12.0 - intrinsic) * 100 - 0.65)
    # marked before expiry: its underlying is SPY's close, and the quote says where it came from
    q = data.option_quote(put, date(2018, 1, 10))
    assert q.und_price == float(data.bars("SPY", date(2018, 1, 10), date(2018, 1, 10))["close"].iloc[0])
    assert math.isnan(q.bid) and q.source == "replay"  # no SPY options are recorded
    assert math.isnan(data.underlying_price("AAPL", date(2018, 1, 22)))  # no bar that day: not a stale close
