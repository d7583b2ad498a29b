"""KalshiClient against a local Kalshi server serving the real recorded markets (../shared/data/kalshi)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tenacity import wait_none

from magnus_desktop.analytics.kalshi_fees import fee_cents
from magnus_desktop.models.kalshi import OrderRequest
from magnus_desktop.services.kalshi import (
    KalshiAuthError,
    KalshiClient,
    KalshiClockSkew,
    KalshiMarketClosed,
    KalshiRateLimited,
    KalshiRejected,
    KalshiSigner,
)
from tests.fakes.kalshi_fixtures import KEY_ID
from tests.fakes.kalshi_server import FakeKalshi, RecordedKalshi


@pytest.fixture
def rsa_key(kalshi_key: rsa.RSAPrivateKey) -> rsa.RSAPrivateKey:
    return kalshi_key


@pytest.fixture
def recorded(kalshi_recorded: RecordedKalshi) -> RecordedKalshi:
    return kalshi_recorded


@pytest.fixture
def server(kalshi_server: FakeKalshi) -> FakeKalshi:
    return kalshi_server


def client(server: FakeKalshi, key: rsa.RSAPrivateKey | None = None, key_id: str = KEY_ID,
           clock: Callable[[], float] = time.time) -> KalshiClient:
    """A client of the fake (no retry wait); ``clock`` is this computer's clock (signer and client)."""
    signer = KalshiSigner(key_id, key, clock=clock) if key is not None else None
    return KalshiClient(server.base_url, signer=signer, retry_wait=wait_none(), reads_per_s=1000, writes_per_s=1000,
                        clock=clock)


def _book_ticker(recorded: RecordedKalshi) -> tuple[str, int]:
    """A recorded orderbook with resting NO bids; its YES ask (100 − best NO bid)."""
    for ticker, book in recorded.orderbooks.items():
        if book.get("no"):
            return ticker, 100 - max(p for p, _ in book["no"])
    raise AssertionError("the recording has no orderbook with NO bids")


def _quoted_market(recorded: RecordedKalshi) -> tuple[str, int]:
    """A recorded active market with a YES ask; that ask in cents."""
    for m in recorded.markets:
        if m["status"] == "active" and 1 <= (m["yes_ask"] or 0) <= 90:
            return m["ticker"], m["yes_ask"]
    raise AssertionError("the recording has no active market with a YES ask")


@pytest.mark.asyncio
async def test_markets_paginate_through_every_recorded_market(server: FakeKalshi, recorded: RecordedKalshi) -> None:
    async with client(server) as kc:
        pages = [page async for page in kc.iter_markets(limit=40)]
    tickers = [m.ticker for page in pages for m in page]
    assert tickers == [m["ticker"] for m in recorded.markets]
    assert len(pages) == -(-len(recorded.markets) // 40)
    cursors = [q.get("cursor") for (_, path, q) in server.requests if path.endswith("/markets")]
    assert cursors[0] is None and all(c for c in cursors[1:])


@pytest.mark.asyncio
async def test_market_fields_convert_once_with_units_in_names(server: FakeKalshi, recorded: RecordedKalshi) -> None:
    raw = next(m for m in recorded.markets if m["yes_bid"] and m["yes_ask"] and m["volume"])
    async with client(server) as kc:
        m = await kc.market(raw["ticker"])
        by_event = await kc.markets(event_ticker=raw["event_ticker"])
    assert (m.yes_bid_cents, m.yes_ask_cents, m.last_price_cents) == (raw["yes_bid"], raw["yes_ask"], raw["last_price"] or None)
    assert m.volume == raw["volume"] and m.open_interest == raw["open_interest"]
    assert m.close_time is not None and m.close_time.isoformat().startswith(raw["close_time"][:19])
    assert {x.ticker for x in by_event} == {x["ticker"] for x in recorded.markets if x["event_ticker"] == raw["event_ticker"]}


@pytest.mark.asyncio
async def test_orderbook_is_reciprocal(server: FakeKalshi, recorded: RecordedKalshi) -> None:
    ticker, yes_ask = _book_ticker(recorded)
    async with client(server) as kc:
        book = await kc.orderbook(ticker)
    raw = recorded.orderbooks[ticker]
    assert book.best_yes_ask_cents == yes_ask
    assert book.best_yes_bid_cents == (max(p for p, _ in raw["yes"]) if raw.get("yes") else None)
    assert [p for p, _ in book.yes_asks()] == sorted(100 - p for p, _ in raw["no"])


@pytest.mark.asyncio
async def test_events_and_series_filters(server: FakeKalshi, recorded: RecordedKalshi) -> None:
    series_ticker = recorded.events[0]["series_ticker"]
    async with client(server) as kc:
        events = await kc.events(series_ticker=series_ticker, limit=7)
        all_events = await kc.events(limit=7)
        econ = await kc.series_list(category="Economics")
    assert {e.series_ticker for e in events} == {series_ticker}
    assert len(all_events) == len(recorded.events)
    assert econ and {s.category for s in econ} == {"Economics"}


@pytest.mark.asyncio
async def test_portfolio_needs_a_valid_signature(server: FakeKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    async with client(server, rsa_key) as kc:
        bal = await kc.balance()
        assert bal.balance_cents == server.account.balance_cents
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with client(server, other) as kc:
        with pytest.raises(KalshiAuthError, match="private key") as err:
            await kc.balance()
        assert not isinstance(err.value, KalshiClockSkew)
    async with client(server, rsa_key, key_id="not-my-key") as kc:
        with pytest.raises(KalshiAuthError, match="key id"):
            await kc.positions()
    async with client(server) as kc:
        with pytest.raises(KalshiAuthError, match="API key"):
            await kc.balance()


@pytest.mark.asyncio
async def test_signature_excludes_the_query_string(server: FakeKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    async with client(server, rsa_key) as kc:
        orders = await kc.orders(status="resting", ticker="X")  # query params on a signed call
    assert orders == []
    assert server.requests[-1][2] == {"status": "resting", "ticker": "X", "limit": "1000"}


@pytest.mark.asyncio
async def test_clock_skew_is_named(server: FakeKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    async with client(server, rsa_key, clock=lambda: time.time() + 120) as kc:
        with pytest.raises(KalshiClockSkew, match="clock") as err:
            await kc.balance()
    assert 115 < err.value.skew_s < 125  # our clock vs the server's Date header
    assert "ahead of" in str(err.value)


@pytest.mark.asyncio
async def test_429_then_success_is_retried(server: FakeKalshi) -> None:
    server.fail_next = [429, 503]
    async with client(server) as kc:
        markets = await kc.markets(limit=1000)
    assert markets and len([r for r in server.requests if r[1].endswith("/markets")]) == 3
    server.fail_next = [429] * 10
    async with client(server) as kc:
        with pytest.raises(KalshiRateLimited):
            await kc.market(markets[0].ticker)


@pytest.mark.asyncio
async def test_order_fills_against_the_recorded_book_with_the_schedule_fee(
        server: FakeKalshi, recorded: RecordedKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    ticker, yes_ask = _quoted_market(recorded)
    before = server.account.balance_cents
    async with client(server, rsa_key) as kc:
        order = await kc.create_order(OrderRequest(ticker, "yes", "buy", 3, yes_ask, uuid.uuid4().hex))
        positions = await kc.positions()
        fills = await kc.fills()
        balance = await kc.balance()
    assert order.status == "executed" and order.fill_count == 3
    assert order.taker_fees_usd == pytest.approx(fee_cents(yes_ask, 3) / 100)
    assert [(p.ticker, p.position) for p in positions] == [(ticker, 3.0)]
    assert fills[0].yes_price_cents == yes_ask and fills[0].fee_usd == pytest.approx(fee_cents(yes_ask, 3) / 100)
    assert balance.balance_cents == before - 3 * yes_ask - fee_cents(yes_ask, 3)


@pytest.mark.asyncio
async def test_resting_order_cancel(server: FakeKalshi, recorded: RecordedKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    ticker, yes_ask = _quoted_market(recorded)
    async with client(server, rsa_key) as kc:
        order = await kc.create_order(OrderRequest(ticker, "yes", "buy", 2, yes_ask - 1, uuid.uuid4().hex))
        assert order.status == "resting" and order.remaining_count == 2
        assert [o.order_id for o in await kc.orders(status="resting")] == [order.order_id]
        cancelled = await kc.cancel_order(order.order_id)
    assert cancelled.status == "canceled" and cancelled.remaining_count == 0


@pytest.mark.asyncio
async def test_lost_reply_is_retried_once_and_booked_once(
        server: FakeKalshi, recorded: RecordedKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    ticker, yes_ask = _quoted_market(recorded)
    server.drop_first_order_reply = True
    cid = uuid.uuid4().hex
    async with client(server, rsa_key) as kc:
        order = await kc.create_order(OrderRequest(ticker, "yes", "buy", 1, yes_ask, cid))
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) == 2 and server.orders_created == 1
    assert order.client_order_id == cid and len(server.account.orders) == 1


@pytest.mark.asyncio
async def test_closed_market_and_exchange_rejection(
        server: FakeKalshi, recorded: RecordedKalshi, rsa_key: rsa.RSAPrivateKey) -> None:
    ticker, yes_ask = _quoted_market(recorded)
    server.closed_tickers.add(ticker)
    async with client(server, rsa_key) as kc:
        with pytest.raises(KalshiMarketClosed, match="not open"):
            await kc.create_order(OrderRequest(ticker, "yes", "buy", 1, yes_ask, uuid.uuid4().hex))
        server.closed_tickers.clear()
        server.reject_next_order = ("insufficient_balance", "insufficient balance")
        with pytest.raises(KalshiRejected, match="insufficient balance"):
            await kc.create_order(OrderRequest(ticker, "yes", "buy", 1, yes_ask, uuid.uuid4().hex))
    assert server.orders_created == 0 and server.account.orders == {}


@pytest.mark.asyncio
async def test_candlesticks_are_the_recorded_prices(server: FakeKalshi, recorded: RecordedKalshi) -> None:
    from datetime import UTC, datetime, timedelta

    raw = next(m for m in recorded.markets if m["last_price"] and m["previous_price"])
    end = datetime(2024, 7, 13, tzinfo=UTC)
    async with client(server) as kc:
        candles = await kc.candlesticks(raw["event_ticker"].split("-")[0], raw["ticker"], end - timedelta(days=2), end)
    assert [c.close_cents for c in candles] == [raw["previous_price"], raw["last_price"]]
