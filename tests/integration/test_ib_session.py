"""IBSession against the fake TWS server (real sockets, ib_async unmodified, bundled SPXW/SPY data)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import date

import pytest
import pytest_asyncio

from magnus_desktop.models.domain import CHAIN_COLUMNS, OptionContract, OrderTicket
from magnus_desktop.models.market import OptionQuote
from magnus_desktop.services.brokers.ib import HistoricalPacer, IBConfig, IBSession
from magnus_desktop.services.brokers.protocols import BrokerError, ClientIdInUse, NotConnected
from tests.asyncwait import wait_for
from tests.fakes.fake_tws import FakeTWS

PUT_2700 = OptionContract("SPXW", date(2018, 1, 31), 2700.0, "P")
CALL_2750 = OptionContract("SPXW", date(2018, 1, 31), 2750.0, "C")




def config(server: FakeTWS, **kw) -> IBConfig:
    base = dict(port=server.port, client_id=7, connect_timeout=2.0, request_timeout=3.0,
                backoff_initial=0.05, backoff_max=0.3, hist_retry_after=0.1, chain_strike_window=0.01)
    base.update(kw)
    return IBConfig(**base)


@pytest_asyncio.fixture
async def server():
    s = FakeTWS()
    await s.start()
    yield s
    await s.stop()


@pytest_asyncio.fixture
async def sessions():
    """Sessions a test opens; closed even when the test fails."""
    opened: list[IBSession] = []
    yield opened
    for ib in opened:
        await ib.aclose()


@pytest_asyncio.fixture
async def session(server):
    ib = IBSession(config(server))
    await ib.connect()
    yield ib
    await ib.aclose()


@pytest.mark.asyncio
async def test_connect_syncs_positions_and_account_values(session, server, caplog):
    assert session.state == "connected" and session.account == "DU1234567"
    positions = {type(p.contract).__name__: p for p in await session.positions()}
    put = positions["OptionContract"]
    recorded_bid = server.book.by_key[("SPXW", "20180131", 2600.0, "P")].day(date(2018, 1, 2)).bid
    assert put.qty == -2 and put.contract.strike == 2600 and put.contract.con_id
    assert put.avg_cost == pytest.approx(recorded_bid)  # per share: IB's per-contract cost / 100
    assert positions["StockContract"].contract.symbol == "SPY" and positions["StockContract"].qty == 100
    acct = await session.account_values()
    for v in (acct.net_liquidation, acct.cash, acct.buying_power, acct.maint_margin):
        assert math.isfinite(v)
    assert acct.cash == server.cash and acct.net_liquidation != acct.cash
    assert not [r for r in caplog.records if r.name.startswith("ib_async") and r.levelno >= logging.ERROR]


@pytest.mark.asyncio
async def test_streaming_quotes_arrive_as_option_quotes_with_model_greeks(session, server):
    got: list[OptionQuote] = []
    session.subscribe([PUT_2700], got.extend)
    await wait_for(lambda: any(math.isfinite(q.delta) for q in got))
    q = [q for q in got if math.isfinite(q.delta)][-1]
    day = server.book.by_key[("SPXW", "20180131", 2700.0, "P")].day(date(2018, 1, 2))
    assert q.contract == PUT_2700 and q.contract.con_id
    assert (q.bid, q.ask) == (day.bid, day.ask)
    assert q.delta == pytest.approx(day.delta) and q.iv == pytest.approx(day.iv)
    assert q.und_price == pytest.approx(2695.79) and q.source == "ib"
    n = len(got)
    server.stream_rate = 300
    await wait_for(lambda: len(got) > n + 20)


@pytest.mark.asyncio
async def test_one_raising_listener_does_not_silence_the_others(session, server):
    got: list = []

    def bad(batch):
        raise RuntimeError("broken panel")

    session.subscribe([PUT_2700], bad)
    session.subscribe([PUT_2700], got.extend)
    await wait_for(lambda: len(got) > 0)


@pytest.mark.asyncio
async def test_chain_lookup(session, server):
    df = await session.chain("SPXW")
    assert list(df.columns) == [*CHAIN_COLUMNS, "con_id"]
    assert set(df["right"]) == {"C", "P"} and (df["strike"].sub(2695.79).abs() <= 0.01 * 2695.79).all()
    row = df[(df.strike == 2700) & (df.right == "P")].iloc[0]
    day = server.book.by_key[("SPXW", "20180131", 2700.0, "P")].day(date(2018, 1, 2))
    assert (row.bid, row.ask) == (day.bid, day.ask) and row.con_id > 0


@pytest.mark.asyncio
async def test_order_round_trip_events_keyed_by_order_ref(session, server):
    events = []
    execs = []
    session.order_status.connect(events.append)
    session.execution.connect(execs.append)
    ticket = OrderTicket(PUT_2700, "SELL", 1, 22.5, "ref-rt-1", date(2018, 1, 2))
    assert await session.place(ticket) == "ref-rt-1"
    await wait_for(lambda: any(e.state == "filled" for e in events))
    assert [e.state for e in events] == ["submitted", "filled"]
    assert {e.order_ref for e in events} == {"ref-rt-1"} and events[-1].avg_fill_price == 22.5
    await wait_for(lambda: execs)
    assert execs[0].qty == -1 and execs[0].order_ref == "ref-rt-1" and execs[0].commission == pytest.approx(0.65)
    assert await session.place(ticket) == "ref-rt-1" and server.place_order_count == 1


@pytest.mark.asyncio
async def test_cancel_working_order(session, server):
    server.fill_orders = False
    events = []
    session.order_status.connect(events.append)
    await session.place(OrderTicket(CALL_2750, "SELL", 1, 50.0, "ref-cx", date(2018, 1, 2)))
    await wait_for(lambda: any(e.state == "submitted" for e in events))
    await session.cancel("ref-cx")
    await wait_for(lambda: any(e.state == "cancelled" for e in events))


@pytest.mark.asyncio
async def test_server_killed_mid_stream_reconnects_and_resubscribes(session, server):
    states, got, restored = [], [], []
    session.state_changed.connect(lambda s, r: states.append(s))
    session.subscriptions_restored.connect(restored.append)
    server.stream_rate = 200
    session.subscribe([PUT_2700, "SPX"], got.extend)
    await wait_for(lambda: server.active_subscriptions == 2 and len(got) > 10)
    await server.stop()
    await wait_for(lambda: session.state == "reconnecting")
    await asyncio.sleep(0.3)  # a few refused attempts with backoff
    requests_before = len(server.mkt_data_requests)
    await server.start()
    await wait_for(lambda: session.state == "connected" and restored == [2])
    await wait_for(lambda: server.active_subscriptions == 2)
    assert len(server.mkt_data_requests) == requests_before + 2
    n = len(got)
    await wait_for(lambda: len(got) > n + 10)
    assert states == ["reconnecting", "connected"]


@pytest.mark.asyncio
async def test_connectivity_notices_1100_and_1102(session, server):
    states = []
    session.state_changed.connect(lambda s, r: states.append(s))
    session.subscribe([PUT_2700], lambda b: None)
    await wait_for(lambda: server.active_subscriptions == 1)
    server.send_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
    await wait_for(lambda: session.state == "reconnecting")
    with pytest.raises(NotConnected):
        await session.place(OrderTicket(PUT_2700, "SELL", 1, 22.5, "ref-1100", date(2018, 1, 2)))
    n = len(server.mkt_data_requests)
    server.send_error(1102, "Connectivity between IB and TWS has been restored - data maintained.")
    await wait_for(lambda: session.state == "connected" and len(server.mkt_data_requests) == n + 1)
    assert server.place_order_count == 0 and states == ["reconnecting", "connected"]


@pytest.mark.asyncio
async def test_client_id_in_use_offers_next_id(server):
    server.reject_client_ids = {7}
    ib = IBSession(config(server, connect_timeout=3.0))
    t0 = time.monotonic()
    with pytest.raises(ClientIdInUse) as err:
        await ib.connect()
    assert time.monotonic() - t0 < 1.0  # not ib_async's connect timeout
    assert err.value.next_id == 8 and "326" in str(err.value) and ib.state == "failed"
    await ib.aclose()


@pytest.mark.asyncio
async def test_tws_not_running_is_not_connected_quickly():
    s = FakeTWS()
    await s.start()
    port = s.port
    await s.stop()
    ib = IBSession(IBConfig(port=port, connect_timeout=2.0))
    t0 = time.monotonic()
    with pytest.raises(NotConnected, match="not reachable"):
        await ib.connect()
    assert time.monotonic() - t0 < 1.0 and ib.state == "disconnected"
    await ib.aclose()


@pytest.mark.asyncio
async def test_historical_pacing_violation_is_retried(session, server):
    errors = []
    session.error.connect(errors.append)
    server.historical_pacing_violations = 1
    bars = await session.bars("SPY", date(2017, 12, 1), date(2017, 12, 29))
    assert server.historical_requests == 2 and [e.code for e in errors] == [162]
    assert bars.index[-1] == date(2017, 12, 29) and bars["close"].iloc[-1] == pytest.approx(266.859985)


@pytest.mark.asyncio
async def test_message_pacing_keeps_under_server_limit_and_error_100_pauses(server, sessions):
    ib = IBSession(config(server, max_msg_per_s=10))
    sessions.append(ib)
    await ib.connect()
    server.msg_rate_limit = 12  # ib_async's own start-up burst is not ours to pace
    errors = []
    ib.error.connect(errors.append)
    strikes = [2650.0 + 5 * i for i in range(12)]
    opts = [OptionContract("SPXW", date(2018, 1, 31), k, "C") for k in strikes]
    ib.subscribe(opts, lambda b: None)
    await wait_for(lambda: server.active_subscriptions == 12, timeout=6)
    assert server.rate_violations == 0 and not errors
    server.send_error(100, "Max rate of messages per second has been exceeded:max=50 rec=51 (543)")
    await wait_for(lambda: errors)
    assert errors[0].code == 100 and ib.state == "connected"
    await ib.aclose()


def test_historical_pacer_rules():
    p = HistoricalPacer(max_requests=3, window=10.0, per_contract=2, contract_window=2.0, identical_gap=15.0)
    assert p.delay("a", "a1", 0.0) == 0
    p._all.append(0.0), p._by_contract["a"].append(0.0), p._by_request.__setitem__("a1", 0.0)
    assert p.delay("a", "a1", 1.0) == pytest.approx(14.0)  # identical request within 15 s
    p._all.append(1.0), p._by_contract["a"].append(1.0)
    assert p.delay("a", "a2", 1.5) == pytest.approx(0.5)  # 2 per contract per 2 s
    p._all.append(1.6)
    assert p.delay("b", "b1", 5.0) == pytest.approx(5.0)  # 3 per 10 s


@pytest.mark.asyncio
async def test_same_ticket_through_a_flapping_connection_is_placed_once(server, sessions):
    ib = IBSession(config(server))
    sessions.append(ib)
    await ib.connect()
    events = []
    ib.order_status.connect(events.append)
    ticket = OrderTicket(PUT_2700, "SELL", 1, 22.5, "ref-flap", date(2018, 1, 2))
    server.drop_on_place = True  # the socket dies right after TWS gets the order, before any ack
    server.fill_orders = False
    await ib.place(ticket)
    await wait_for(lambda: server.place_order_count == 1)
    server.drop_on_place = False
    for _ in range(6):  # the UI retries while the connection flaps
        try:
            assert await ib.place(ticket) == "ref-flap"
        except NotConnected:
            pass
        server.drop_connections()
        await asyncio.sleep(0.05)
    await wait_for(lambda: ib.state == "connected" and ib._ib.isConnected())
    assert await ib.place(ticket) == "ref-flap"
    await ib.aclose()
    # a fresh session (an app restart) finds the order among IB's open orders and does not send it again
    again = IBSession(config(server))
    sessions.append(again)
    await again.connect()
    assert await again.place(ticket) == "ref-flap"
    await asyncio.sleep(0.2)  # give the server time to read anything that was sent
    assert server.place_order_count == 1
    assert not [e for e in events if e.state == "rejected"]


@pytest.mark.asyncio
async def test_drop_during_resubscription_still_reconnects(server, sessions):
    ib = IBSession(config(server, max_msg_per_s=20))
    sessions.append(ib)
    await ib.connect()
    opts = [OptionContract("SPXW", date(2018, 1, 31), 2650.0 + 5 * i, "P") for i in range(10)]
    ib.subscribe(opts, lambda b: None)
    await wait_for(lambda: server.active_subscriptions == 10)
    server.drop_connections()
    await wait_for(lambda: 0 < server.active_subscriptions < 10)  # re-subscribing (paced) ...
    server.drop_connections()  # ... and dropped again
    await wait_for(lambda: server.active_subscriptions == 10 and ib.state == "connected")


@pytest.mark.asyncio
async def test_the_default_pacing_stays_under_ibs_50_messages_per_second(server, sessions):
    ib = IBSession(config(server))  # IBConfig's default max_msg_per_s
    sessions.append(ib)
    await ib.connect()
    server.msg_rate_limit = 50  # IB's documented limit per client (ib_async's start-up burst excluded)
    errors = []
    ib.error.connect(errors.append)
    book = server.book
    nearest = sorted((o for o in book.options.values() if o.day(book.quote_date)),
                     key=lambda o: abs(o.strike - book.spx_price))[:70]
    opts = [OptionContract("SPXW", date(2018, 1, 31), o.strike, o.right, 100, o.con_id) for o in nearest]
    ib.subscribe(opts, lambda b: None)
    await wait_for(lambda: server.active_subscriptions == len(opts), timeout=6)
    assert server.rate_violations == 0 and not errors
    await ib.aclose()


@pytest.mark.asyncio
async def test_a_double_click_and_a_retry_after_reconnect_send_one_gtc_order(server, sessions):
    """Three concurrent clicks, then the connection drops and the retry comes after the reconnect:
    IB sees exactly one placeOrder, carrying the ticket's orderRef and time in force."""
    ib = IBSession(config(server))
    sessions.append(ib)
    await ib.connect()
    server.fill_orders = False
    ticket = OrderTicket(PUT_2700, "SELL", 1, 22.5, "ref-double", date(2018, 1, 2), tif="GTC")
    assert await asyncio.gather(*(ib.place(ticket) for _ in range(3))) == ["ref-double"] * 3
    await wait_for(lambda: server.place_order_count == 1)
    server.drop_connections()
    await wait_for(lambda: ib.state == "connected" and ib._ib.isConnected())
    assert await ib.place(ticket) == "ref-double"
    await asyncio.sleep(0.2)  # anything sent has reached the server
    assert server.place_order_count == 1
    (order,) = server.placed_orders
    assert (order.order_ref, order.tif, order.order_type) == ("ref-double", "GTC", "LMT")


@pytest.mark.asyncio
async def test_combos_and_a_nan_limit_are_refused_before_sending(server, sessions):
    from magnus_desktop.models.domain import ComboTicket, OrderLeg
    from magnus_desktop.services.brokers.protocols import OrderRejectedByBroker

    ib = IBSession(config(server))
    sessions.append(ib)
    await ib.connect()
    lower = OptionContract("SPXW", PUT_2700.expiry, 2650.0, "P")
    combo = ComboTicket("vertical", (OrderLeg(PUT_2700, "SELL"), OrderLeg(lower, "BUY")), 1, 1.0, "ref-v",
                        date(2018, 1, 2))
    with pytest.raises(OrderRejectedByBroker, match="vertical orders are not sent through IB"):
        await ib.place(combo)
    with pytest.raises(OrderRejectedByBroker, match="finite limit price"):
        await ib.place(OrderTicket(PUT_2700, "SELL", 1, math.nan, "ref-nan", date(2018, 1, 2), order_type="LMT"))
    await asyncio.sleep(0.1)
    assert server.place_order_count == 0


@pytest.mark.asyncio
async def test_modify_working_order_is_a_placeorder_with_the_same_id(session, server):
    server.fill_orders = False
    events = []
    session.order_status.connect(events.append)
    await session.place(OrderTicket(CALL_2750, "SELL", 2, 50.0, "ref-mod", date(2018, 1, 2)))
    await wait_for(lambda: any(e.state == "submitted" for e in events))
    await session.modify("ref-mod", qty=3, limit_price=48.5)
    await wait_for(lambda: server.modifications)
    order_id = server.placed_orders[0].order_id
    assert server.modifications == [(order_id, 3.0, 48.5)]
    assert server.place_order_count == 1  # modified in place, not a second order
    assert server.orders[order_id].order_ref == "ref-mod" and server.orders[order_id].status == "Submitted"
    with pytest.raises(BrokerError, match="must be > 0"):
        await session.modify("ref-mod", qty=0)
    await session.cancel("ref-mod")
    await wait_for(lambda: any(e.state == "cancelled" for e in events))
    with pytest.raises(BrokerError, match="no working IB order"):
        await session.modify("ref-mod", limit_price=47.0)


@pytest.mark.asyncio
async def test_modify_refuses_a_limit_on_a_market_order_and_sends_nothing(session, server):
    server.fill_orders = False
    events = []
    session.order_status.connect(events.append)
    await session.place(OrderTicket(CALL_2750, "SELL", 1, math.nan, "ref-mkt", date(2018, 1, 2)))
    await wait_for(lambda: any(e.state == "submitted" for e in events))
    with pytest.raises(BrokerError, match="has no limit price"):
        await session.modify("ref-mkt", limit_price=40.0)
    with pytest.raises(BrokerError, match="nothing to modify"):
        await session.modify("ref-mkt")
    assert server.modifications == []
