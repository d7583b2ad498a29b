"""Combos through ``OrderService`` and the paper broker on a real SQLite database: every leg filled at
the recorded quotes at one net price in ONE transaction (or nothing), rolls, the rules refusing a ticket
before any broker call, and the same ``order_ref`` never filled twice."""

from __future__ import annotations

import asyncio
import math
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from magnus_desktop.models.domain import OptionContract, OrderLeg
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.orders import TicketProblems
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.storage import StorageError, TradeRepo
from magnus_desktop.services.storage import repositories as repos

JAN31 = date(2018, 1, 31)


def opt(strike: float, right: str) -> OptionContract:
    return OptionContract("SPXW", JAN31, strike, right)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def data() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest_asyncio.fixture
async def ctx(tmp_path: Path, data: ReplayMarketData):  # type: ignore[no-untyped-def]
    c = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=data, db_url=f"sqlite:///{tmp_path / 'm.db'}")
    await c.start()
    await c.refreshed.wait()
    yield c
    await c.aclose()


def condor_legs() -> list[OrderLeg]:
    return [OrderLeg(opt(2400.0, "P"), "BUY"), OrderLeg(opt(2450.0, "P"), "SELL"),
            OrderLeg(opt(2800.0, "C"), "SELL"), OrderLeg(opt(2850.0, "C"), "BUY")]


@pytest.mark.asyncio
async def test_iron_condor_fills_every_leg_at_the_recorded_quotes_in_one_order(ctx: AppContext, data) -> None:
    updates = []
    ctx.orders.order_status.connect(updates.append)
    before = await ctx.portfolio.account_at(ctx.day)
    ticket = ctx.orders.new_combo("iron_condor", condor_legs(), 2)
    p = await ctx.orders.preview(ticket)
    assert p.problems == () and p.collateral == pytest.approx(50 * 100 * 2)
    await ctx.orders.place_order(ticket)
    fills = [f for f in ctx.portfolio.fills if f.order_ref == ticket.order_ref]
    quotes = [data.option_quote(leg.contract, ctx.day) for leg in ticket.legs]
    expected = [q.ask if leg.action == "BUY" else q.bid for q, leg in zip(quotes, ticket.legs, strict=True)]
    assert [f.price for f in fills] == expected
    assert [f.qty for f in fills] == [2, -2, -2, 2]
    stored = await ctx.run_db(TradeRepo(ctx.db).fills, ctx.portfolio.account_id)
    assert [f for f in stored if f.order_ref == ticket.order_ref] == fills
    after = await ctx.portfolio.account_at(ctx.day)
    # the broker's fills moved buying power exactly as previewed: −(max loss) for a defined-risk combo
    assert after.buying_power - before.buying_power == pytest.approx(p.buying_power_effect)
    assert p.buying_power_effect == pytest.approx(-p.max_loss)
    filled = [u for u in updates if u.state == "filled"]
    assert len(filled) == 1 and filled[0].ticket == ticket and filled[0].preview == p
    assert filled[0].avg_fill_price == pytest.approx(p.net_price)


@pytest.mark.asyncio
async def test_a_combo_is_stored_whole_or_not_at_all(ctx: AppContext, monkeypatch) -> None:
    real = repos._contract_fields
    calls = {"n": 0}

    def fail_on_third_leg(contract):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:  # the order row, two legs' fills, then the third leg fails
            raise StorageError("disk full (injected)")
        return real(contract)

    monkeypatch.setattr(repos, "_contract_fields", fail_on_third_leg)
    fills_before = list(ctx.portfolio.fills)
    ticket = ctx.orders.new_combo("iron_condor", condor_legs(), 1)
    with pytest.raises(StorageError, match="disk full"):
        await ctx.orders.place_order(ticket)
    monkeypatch.setattr(repos, "_contract_fields", real)
    stored = await ctx.run_db(TradeRepo(ctx.db).fills, ctx.portfolio.account_id)
    assert not [f for f in stored if f.order_ref == ticket.order_ref]  # no leg half-recorded
    assert ctx.portfolio.fills == fills_before


@pytest.mark.asyncio
async def test_roll_down_closes_and_opens_in_one_order(ctx: AppContext) -> None:
    held = await ctx.portfolio.account_at(ctx.day)
    assert any(p.contract == opt(2650.0, "P") and p.qty == -1 for p in held.positions)  # the demo seed
    ticket = ctx.orders.new_combo("roll", [OrderLeg(opt(2650.0, "P"), "BUY"), OrderLeg(opt(2500.0, "P"), "SELL")], 1)
    p = await ctx.orders.preview(ticket)
    assert p.problems == () and p.net_price < 0  # rolling down a short put costs a net debit
    assert p.collateral_freed == pytest.approx(150 * 100)
    await ctx.orders.place_order(ticket)
    after = {pos.contract: pos.qty for pos in (await ctx.portfolio.account_at(ctx.day)).positions}
    assert opt(2650.0, "P") not in after and after[opt(2500.0, "P")] == -1


@pytest.mark.asyncio
async def test_the_rules_refuse_a_ticket_before_any_broker_call(ctx: AppContext, monkeypatch) -> None:
    calls = []
    real_place = ctx.broker.place

    async def counting_place(ticket):  # type: ignore[no-untyped-def]
        calls.append(ticket.order_ref)
        return await real_place(ticket)

    monkeypatch.setattr(ctx.broker, "place", counting_place)
    updates = []
    ctx.orders.order_status.connect(updates.append)
    n_fills = len(ctx.portfolio.fills)
    bad = ctx.orders.new_ticket(opt(2500.0, "P"), "SELL", 1, math.nan, order_type="LMT")
    with pytest.raises(TicketProblems, match="finite number of USD per share"):
        await ctx.orders.place_order(bad)
    off_tick = ctx.orders.new_ticket(opt(2500.0, "P"), "SELL", 1, 4.03)
    with pytest.raises(TicketProblems, match="off the tick size"):
        await ctx.orders.place_order(off_tick)
    assert calls == [] and len(ctx.portfolio.fills) == n_fills
    assert [(u.order_ref, u.state) for u in updates] == [(bad.order_ref, "rejected"), (off_tick.order_ref, "rejected")]
    assert updates[0].ticket == bad and updates[0].preview is not None and updates[0].preview.problems


@pytest.mark.asyncio
async def test_a_double_click_places_one_order(ctx: AppContext) -> None:
    ticket = ctx.orders.new_ticket(opt(2500.0, "P"), "SELL", 1)
    refs = await asyncio.gather(ctx.orders.place_order(ticket), ctx.orders.place_order(ticket),
                                ctx.orders.place_order(ticket))
    assert refs == [ticket.order_ref] * 3
    assert sum(f.order_ref == ticket.order_ref for f in ctx.portfolio.fills) == 1
    stored = await ctx.run_db(TradeRepo(ctx.db).fills, ctx.portfolio.account_id)
    assert sum(f.order_ref == ticket.order_ref for f in stored) == 1
