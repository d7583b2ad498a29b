"""The audit service writes one row per order status of real paper orders (fill, a rule rejection, a
refusal before any broker call, a refused cancel), on the DB thread, and exports them as CSV."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.audit import service as audit_service
from magnus_desktop.services.brokers.paper import OrderRejected
from magnus_desktop.services.brokers.protocols import BrokerError
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.orders import LiveOrdersDisabled
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.storage import AuditRepo

JAN31 = date(2018, 1, 31)
PUT = OptionContract("SPXW", JAN31, 2500.0, "P")
CALL = OptionContract("SPXW", JAN31, 2800.0, "C")


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    context = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}")
    await context.start()
    await context.refreshed.wait()
    yield context
    await context.aclose()


async def _rows(ctx: AppContext) -> list:
    await ctx.audit.idle()
    rows, total = await ctx.audit.query(AuditFilter(), 100, 0)
    assert total == len(rows)
    return list(reversed(rows))  # oldest first


@pytest.mark.asyncio
async def test_fill_and_rule_rejection_each_write_placed_then_result(ctx: AppContext,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    writers: set[str] = set()
    append = AuditRepo.append

    def spy(self: AuditRepo, entry: object) -> object:
        writers.add(threading.current_thread().name)
        return append(self, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(AuditRepo, "append", spy)
    put = ctx.orders.new_ticket(PUT, "SELL", 1)
    await ctx.orders.place_order(put)
    call = ctx.orders.new_ticket(CALL, "SELL", 1)
    with pytest.raises(OrderRejected, match="covered call"):
        await ctx.orders.place_order(call)
    rows = await _rows(ctx)
    # the order rules refuse the covered call in OrderService, before any broker call: no "placed" row
    assert [(r.order_ref, r.action) for r in rows] == [(put.order_ref, "placed"), (put.order_ref, "filled"),
                                                       (call.order_ref, "rejected")]
    fill = ctx.orders.fill_of(put.order_ref)
    assert fill is not None
    placed, filled, rejected = rows
    assert placed.params["symbol"] == PUT.describe() and placed.params["qty"] == 1
    assert placed.params["limit_price"] is None  # market
    # the preview is the broker's rules before the fill: a cash-secured put's collateral, its premium
    assert placed.preview["collateral"] == PUT.strike * 100 and placed.preview["fill_price"] == fill.price
    assert placed.preview["problems"] == [] and placed.latency_ms is None
    assert filled.avg_fill_price == fill.price and filled.filled_qty == 1
    assert filled.result == f"filled 1 @ {fill.price:.2f}" and filled.broker_order_id == f"paper-{put.order_ref}"
    assert filled.latency_ms is not None and filled.latency_ms > 0
    assert "covered call" in rejected.result and rejected.latency_ms is None  # no broker round trip
    assert rejected.preview["max_loss"] == "inf" and "covered call" in rejected.preview["problems"][0]
    assert {r.account for r in rows} == {ctx.session.active.name}
    assert writers and threading.main_thread().name not in writers  # the DB executor, not the loop thread


@pytest.mark.asyncio
async def test_refusal_before_any_broker_call_is_written(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "Live orders are not enabled for IB paper; paper orders only on the demo account."
    monkeypatch.setattr(ctx.orders, "refusal", lambda: reason)
    sent: list[object] = []
    monkeypatch.setattr(ctx.broker, "place", lambda ticket: sent.append(ticket))
    ticket = ctx.orders.new_ticket(PUT, "SELL", 2)
    with pytest.raises(LiveOrdersDisabled):
        await ctx.orders.place_order(ticket)
    [row] = await _rows(ctx)
    assert (row.order_ref, row.action, row.result) == (ticket.order_ref, "rejected", reason)
    assert row.params["qty"] == 2 and row.latency_ms is None and sent == []
    [line] = ctx.audit.order_lines()
    assert (line.order_ref, line.state, line.description) == (ticket.order_ref, "rejected", PUT.describe())


@pytest.mark.asyncio
async def test_a_refusal_the_broker_raises_without_publishing_is_written_once(ctx: AppContext) -> None:
    """The paper broker, closed, raises NotConnected before it publishes anything: the service
    publishes the rejection, so the audit log has it (one row, not two), and the same ticket can be
    sent again once the broker is back."""
    events: list[object] = []
    ctx.orders.order_status.connect(events.append)
    await ctx.broker.aclose()
    ticket = ctx.orders.new_ticket(PUT, "SELL", 1)
    with pytest.raises(BrokerError, match="closed"):
        await ctx.orders.place_order(ticket)
    [row] = await _rows(ctx)
    assert (row.order_ref, row.action) == (ticket.order_ref, "rejected") and "closed" in row.result
    assert row.preview["collateral"] == PUT.strike * 100  # the preview it was refused with
    assert [e.state for e in events] == ["rejected"]  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_a_modification_of_a_paper_order_is_refused_and_written(ctx: AppContext) -> None:
    quote = await ctx.orders.quote(PUT)
    ticket = ctx.orders.new_ticket(PUT, "SELL", 1, quote.bid)  # a limit at the bid: fills
    await ctx.orders.place_order(ticket)
    with pytest.raises(BrokerError, match="already filled, so it cannot be modified"):
        await ctx.orders.modify_order(ticket.order_ref, qty=2)
    with pytest.raises(BrokerError, match="not sent in this session"):
        await ctx.orders.modify_order("no-such-ref", qty=2)
    rows = await _rows(ctx)
    assert [r.action for r in rows] == ["placed", "filled", "modified"]
    assert rows[-1].params["modification"] == "refused" and rows[-1].params["qty"] == 2
    assert "already filled" in rows[-1].result and rows[-1].preview["collateral"] == 2 * PUT.strike * 100
    assert ctx.audit.order_lines()[-1].qty == 1  # a refused modification changes nothing


@pytest.mark.asyncio
async def test_cancel_request_is_written_with_the_brokers_answer(ctx: AppContext) -> None:
    ticket = ctx.orders.new_ticket(PUT, "SELL", 1)
    await ctx.orders.place_order(ticket)
    with pytest.raises(BrokerError) as refused:
        await ctx.orders.cancel_order(ticket.order_ref)
    await ctx.audit.record_cancel_request(ticket.order_ref, f"refused: {refused.value}")
    rows = await _rows(ctx)
    assert [r.action for r in rows] == ["placed", "filled", "cancel_requested"]
    assert "already filled" in rows[-1].result and rows[-1].broker_order_id == f"paper-{ticket.order_ref}"
    assert ctx.audit.order_lines()[-1].state == "filled"  # the request changes no state


@pytest.mark.asyncio
async def test_a_failing_write_tells_the_trader_once_and_orders_still_fill(ctx: AppContext,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: AuditRepo, entry: object) -> object:
        raise audit_service.StorageError("The database file is read-only; nothing was changed.")

    monkeypatch.setattr(AuditRepo, "append", broken)
    notices: list[str] = []
    ctx.notice.connect(notices.append)
    for _ in range(2):
        await ctx.orders.place_order(ctx.orders.new_ticket(PUT, "SELL", 1))
    await ctx.audit.idle()
    assert len(ctx.portfolio.fills) >= 2
    told = [n for n in notices if "audit log" in n]
    assert len(told) == 1 and "could not be written" in told[0] and "read-only" in told[0]


@pytest.mark.asyncio
async def test_recent_orders_survive_a_restart_and_export_as_csv(ctx: AppContext, tmp_path: Path) -> None:
    t1 = ctx.orders.new_ticket(PUT, "SELL", 1)
    await ctx.orders.place_order(t1)
    t2 = ctx.orders.new_ticket(CALL, "SELL", 1)
    with pytest.raises(OrderRejected):
        await ctx.orders.place_order(t2)
    await ctx.audit.idle()
    live = ctx.audit.order_lines()
    await ctx.audit.reload()  # what a restart reads back from the database
    assert ctx.audit.order_lines() == live and [line.state for line in live] == ["filled", "rejected"]
    out = tmp_path / "audit.csv"
    assert await ctx.audit.export_csv(out, AuditFilter(action="rejected")) == 1
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(audit_service.CSV_HEADER)
    [row] = rows[1:]
    record = dict(zip(rows[0], row, strict=True))
    assert record["order_ref"] == t2.order_ref and record["action"] == "rejected"
    assert "covered call" in record["result"] and record["latency_ms"] == ""  # refused before any broker call
    assert json.loads(record["parameters"])["symbol"] == CALL.describe()
    assert record["avg_fill_price_usd"] == "" and not (tmp_path / "audit.csv.part").exists()
