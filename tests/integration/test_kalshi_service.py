"""KalshiService in a real AppContext (SQLite audit log, in-memory keyring) against the local Kalshi server."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from tenacity import wait_none

from magnus_desktop.analytics.kalshi_fees import fee_cents
from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.models.kalshi import OrderRequest
from magnus_desktop.services.alerts.monitors import kalshi_mispricing
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.credentials import CredentialStore
from magnus_desktop.services.kalshi import (
    KalshiAuthError,
    KalshiClient,
    KalshiClockSkew,
    KalshiCredentialsError,
    KalshiMarketClosed,
)
from magnus_desktop.services.kalshi.credentials import KEY_ID as KEY_NAME
from magnus_desktop.services.kalshi.credentials import kalshi_service
from magnus_desktop.services.kalshi.service import KalshiOrderRefused
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import AlertSettings, Settings, SettingsStore
from tests.fakes.kalshi_fixtures import KEY_ID, pem_of
from tests.fakes.kalshi_server import FakeKalshi
from tests.memory_keyring import MemoryKeyring

MakeCtx = Callable[..., AppContext]


def _settings(server: FakeKalshi, *, enabled: bool = True, live: bool = True) -> Settings:
    s = Settings()
    s.kalshi.enabled, s.kalshi.base_url, s.kalshi.live_trading_enabled = enabled, server.base_url, live
    return s


def _fast_client(base_url: str, **kw: object) -> KalshiClient:
    return KalshiClient(base_url, retry_wait=wait_none(), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def replay_market() -> ReplayMarketData:
    """The bundled replay data, read once for this module (the contexts need a replay calendar)."""
    market = ReplayMarketData.from_resources()
    market.trading_days()
    return market


@pytest_asyncio.fixture
async def make_ctx(tmp_path: Path, replay_market: ReplayMarketData) -> AsyncIterator[Callable[..., AppContext]]:
    """Builds started contexts sharing one data folder, keyring and database; closes them after."""
    keyring = MemoryKeyring()
    made: list[AppContext] = []

    async def make(settings: Settings) -> AppContext:
        ctx = AppContext(SettingsStore(tmp_path / "s.json"), settings, db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         market=replay_market, credentials=CredentialStore(keyring, refuse_insecure=False))
        ctx.kalshi._client_factory = _fast_client  # noqa: SLF001 - no retry waits in tests
        made.append(ctx)
        await ctx.start()
        if ctx.kalshi._task is not None:  # noqa: SLF001
            await ctx.kalshi._task  # noqa: SLF001
        return ctx

    yield make  # type: ignore[misc]
    for ctx in made:
        await ctx.aclose()


async def _online_with_key(make_ctx: MakeCtx, server: FakeKalshi, key: rsa.RSAPrivateKey, **kw: bool) -> AppContext:
    ctx = await make_ctx(_settings(server, **kw))  # type: ignore[misc]
    await ctx.kalshi.save_key(KEY_ID, pem=pem_of(key))
    await ctx.kalshi._task  # noqa: SLF001 - the reconnect save_key started
    assert ctx.kalshi.state.state == "online" and ctx.kalshi.state.has_key
    return ctx


def _quoted(ctx: AppContext) -> tuple[str, int]:
    m = next(m for m in ctx.kalshi.markets() if m.is_open and m.yes_ask_cents and m.yes_ask_cents <= 90)
    assert m.yes_ask_cents is not None
    return m.ticker, m.yes_ask_cents


async def _audit(ctx: AppContext) -> list[tuple[str, str]]:
    await ctx.audit.idle()
    rows, _ = await ctx.audit.query(AuditFilter(), 100, 0)
    return [(r.action, r.order_ref) for r in reversed(rows)]


@pytest.mark.asyncio
async def test_offline_shows_the_markets_cached_by_the_last_online_session(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi) -> None:
    first = await make_ctx(_settings(kalshi_server, enabled=False))  # type: ignore[misc]
    assert first.kalshi.state.state == "offline" and "needs the network" in first.kalshi.state.message
    assert first.kalshi.markets() == [] and "No Kalshi markets are cached" in first.kalshi.state.message
    online = await make_ctx(_settings(kalshi_server))  # type: ignore[misc]
    assert online.kalshi.state.state == "online"
    live = {m.ticker: m for m in online.kalshi.markets()}
    open_recorded = [m["ticker"] for m in kalshi_server.data.markets if m["status"] == "active"]
    assert sorted(live) == sorted(open_recorded)
    offline = await make_ctx(_settings(kalshi_server, enabled=False))  # type: ignore[misc]
    assert offline.kalshi.from_cache and "needs the network" in offline.kalshi.state.message
    assert {m.ticker: m for m in offline.kalshi.markets()} == live  # same values, units and times


@pytest.mark.asyncio
async def test_a_corrupt_cache_is_reported_not_fatal(make_ctx: MakeCtx, kalshi_server: FakeKalshi,
                                                     tmp_path: Path) -> None:
    ctx = await make_ctx(_settings(kalshi_server, enabled=False))  # type: ignore[misc]
    ctx.kalshi.cache_path.parent.mkdir(parents=True, exist_ok=True)
    ctx.kalshi.cache_path.write_text("{not json")
    again = await make_ctx(_settings(kalshi_server, enabled=False))  # type: ignore[misc]
    assert again.kalshi.markets() == [] and "cannot be read" in again.kalshi.state.message


@pytest.mark.asyncio
async def test_order_is_audited_filled_and_never_sent_twice(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    ticker, ask = _quoted(ctx)
    balance_before = ctx.kalshi.portfolio.balance.balance_cents  # type: ignore[union-attr]
    req = OrderRequest(ticker, "yes", "buy", 4, ask, uuid.uuid4().hex)
    p = ctx.kalshi.preview(req)
    assert (p.fee_cents, p.max_loss_cents, p.crosses) == (fee_cents(ask, 4), 4 * ask + fee_cents(ask, 4), True)
    order = await ctx.kalshi.place_order(req)
    again = await ctx.kalshi.place_order(req)  # a double click
    assert again == order and kalshi_server.orders_created == 1
    assert len([r for r in kalshi_server.requests if r[0] == "POST"]) == 1
    assert await _audit(ctx) == [("placed", req.client_order_id), ("filled", req.client_order_id)]
    assert ctx.kalshi.portfolio.balance.balance_cents == balance_before - p.max_loss_cents  # type: ignore[union-attr]
    assert [(x.ticker, x.position) for x in ctx.kalshi.portfolio.positions] == [(ticker, 4.0)]


@pytest.mark.asyncio
async def test_live_trading_off_refuses_and_audits_without_sending(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key, live=False)
    ticker, ask = _quoted(ctx)
    req = OrderRequest(ticker, "yes", "buy", 1, ask, uuid.uuid4().hex)
    with pytest.raises(KalshiOrderRefused, match="Live trading is off"):
        await ctx.kalshi.place_order(req)
    assert kalshi_server.orders_created == 0 and await _audit(ctx) == [("rejected", req.client_order_id)]


@pytest.mark.asyncio
async def test_closed_market_and_exchange_rejection_change_nothing(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    ticker, ask = _quoted(ctx)
    before = ctx.kalshi.portfolio
    kalshi_server.closed_tickers.add(ticker)  # closed since our market list was loaded
    closed = OrderRequest(ticker, "yes", "buy", 1, ask, uuid.uuid4().hex)
    with pytest.raises(KalshiMarketClosed, match="not open"):
        await ctx.kalshi.place_order(closed)
    kalshi_server.closed_tickers.clear()
    kalshi_server.reject_next_order = ("insufficient_balance", "insufficient balance")
    refused = OrderRequest(ticker, "yes", "buy", 1, ask, uuid.uuid4().hex)
    with pytest.raises(Exception, match="insufficient balance"):
        await ctx.kalshi.place_order(refused)
    with pytest.raises(KalshiMarketClosed):  # the same ticket again: the first answer, not a second send
        await ctx.kalshi.place_order(closed)
    assert kalshi_server.orders_created == 0
    assert len([r for r in kalshi_server.requests if r[0] == "POST"]) == 2
    assert await _audit(ctx) == [("placed", closed.client_order_id), ("rejected", closed.client_order_id),
                                 ("placed", refused.client_order_id), ("rejected", refused.client_order_id)]
    assert ctx.kalshi.portfolio.positions == before.positions == ()
    assert ctx.kalshi.portfolio.balance == before.balance


@pytest.mark.asyncio
async def test_wrong_key_id_is_named_and_nothing_is_booked(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await make_ctx(_settings(kalshi_server))  # type: ignore[misc]
    notices: list[str] = []
    ctx.notice.connect(notices.append)
    await ctx.kalshi.save_key("0000-not-the-key", pem=pem_of(kalshi_key))
    await ctx.kalshi._task  # noqa: SLF001
    assert ctx.kalshi.state.state == "online"  # public market data still loads
    assert any("key id" in n for n in notices)
    ticker, ask = _quoted(ctx)
    with pytest.raises(KalshiAuthError, match="key id"):
        await ctx.kalshi.place_order(OrderRequest(ticker, "yes", "buy", 1, ask, uuid.uuid4().hex))
    assert kalshi_server.orders_created == 0


@pytest.mark.asyncio
async def test_unreadable_pem_is_refused_and_nothing_is_stored(make_ctx: MakeCtx, kalshi_server: FakeKalshi,
                                                               tmp_path: Path) -> None:
    ctx = await make_ctx(_settings(kalshi_server))  # type: ignore[misc]
    with pytest.raises(KalshiCredentialsError, match="not a PEM private key"):
        await ctx.kalshi.save_key(KEY_ID, pem="-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    missing = tmp_path / "nope.key"
    with pytest.raises(KalshiCredentialsError, match="cannot be read"):
        await ctx.kalshi.save_key(KEY_ID, pem_path=str(missing))
    assert await ctx.credentials.get(kalshi_service("production"), KEY_NAME) is None


@pytest.mark.asyncio
async def test_model_probabilities_feed_the_mispricing_monitor(make_ctx: MakeCtx, kalshi_server: FakeKalshi) -> None:
    ctx = await make_ctx(_settings(kalshi_server))  # type: ignore[misc]
    assert ctx.alerts.kalshi_source is None  # no model yet
    ticker, ask = _quoted(ctx)
    ctx.kalshi.set_probability_provider(lambda m: 0.95 if m.ticker == ticker else None)
    assert ctx.alerts.kalshi_source is not None
    quotes = list(ctx.alerts.kalshi_source())
    assert [q.ticker for q in quotes] == [ticker]
    alerts = kalshi_mispricing_for(quotes)
    edge = 0.95 - ask / 100 - fee_cents(ask, 1) / 100
    assert [a.subject for a in alerts] == ([ticker] if edge >= AlertSettings().kalshi_min_edge else [])


def kalshi_mispricing_for(quotes: list) -> list:
    from datetime import date

    from magnus_desktop.services.alerts.monitors import MonitorInput

    return kalshi_mispricing(MonitorInput(day=date(2024, 7, 13), kalshi=quotes), AlertSettings())


@pytest.mark.asyncio
async def test_clock_skew_is_named_audited_and_changes_nothing(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    ticker, ask = _quoted(ctx)
    before = ctx.kalshi.portfolio
    client = ctx.kalshi.client
    assert client is not None and client.signer is not None
    skewed = lambda: time.time() - 90  # noqa: E731 - this computer's clock 90 s behind
    client.signer._clock = client._clock = skewed  # noqa: SLF001
    req = OrderRequest(ticker, "yes", "buy", 1, ask, uuid.uuid4().hex)
    with pytest.raises(KalshiClockSkew, match=r"(89|90|91) s behind"):
        await ctx.kalshi.place_order(req)
    assert kalshi_server.orders_created == 0 and ctx.kalshi.portfolio.balance == before.balance
    assert await _audit(ctx) == [("placed", req.client_order_id), ("rejected", req.client_order_id)]


@pytest.mark.asyncio
async def test_orders_dock_cancel_of_a_resting_kalshi_order(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    ticker, ask = _quoted(ctx)
    req = OrderRequest(ticker, "yes", "buy", 2, ask - 1, uuid.uuid4().hex)  # below the ask: rests
    order = await ctx.kalshi.place_order(req)
    assert order.status == "resting" and ctx.kalshi.owns(req.client_order_id)
    assert [o.order_id for o in ctx.kalshi.portfolio.resting] == [order.order_id]
    answer = await ctx.kalshi.cancel_by_ref(req.client_order_id)
    assert answer.startswith("Cancelled on Kalshi") and ctx.kalshi.portfolio.resting == ()
    assert kalshi_server.account.orders[order.order_id]["status"] == "canceled"
    assert [a for a, _ in await _audit(ctx)] == ["placed", "cancel_requested", "cancelled"]
    line = next(x for x in ctx.audit.order_lines() if x.order_ref == req.client_order_id)
    assert line.state == "cancelled"


# ---- our fills and settlements → the Performance dock -----------------------------------------------
# Recorded finalized markets (lognorman 2024-07-13): OSCARPIC-24-O settled YES and OSCARPIC-24-KOTFM
# NO on 2024-03-11, MEASLES-24-100 YES on 2024-04-06.
WON, LOST, MEASLES = "OSCARPIC-24-O", "OSCARPIC-24-KOTFM", "MEASLES-24-100"


def _book_history(server: FakeKalshi) -> None:
    server.add_fill(WON, "yes", "buy", 10, 40, 17, "2024-03-01T15:00:00Z")
    server.add_fill(WON, "yes", "sell", 4, 55, 8, "2024-03-05T15:00:00Z")
    server.add_fill(LOST, "yes", "buy", 5, 20, 8, "2024-03-02T15:00:00Z")
    server.add_fill(MEASLES, "no", "buy", 3, 25, 5, "2024-03-20T15:00:00Z")
    for ticker in (WON, LOST, MEASLES):
        server.settle(ticker)


def _history_requests(server: FakeKalshi, path: str) -> list[dict[str, str]]:
    return [q for m, p, q in server.requests if m == "GET" and p.endswith(path)]


@pytest.mark.asyncio
async def test_kalshi_fills_and_settlements_are_stored_once_and_counted_by_performance(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    from magnus_desktop.analytics.performance import KALSHI
    from magnus_desktop.services.kalshi.history import load_history

    _book_history(kalshi_server)
    kalshi_server.history_page_limit = 2  # 4 fills and 3 settlements: two pages each, by cursor
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    await ctx.kalshi.history_idle()
    assert ctx.db is not None and ctx.kalshi.history_note is None
    fill_pages = _history_requests(kalshi_server, "/portfolio/fills")
    assert [q.get("cursor") for q in fill_pages[-2:]] == [None, "2"]
    account = ctx.kalshi.account_name
    stored = load_history(ctx.db)[account]
    assert len(stored.fills) == 4 and sorted(s.ticker for s in stored.settlements) == sorted([WON, LOST, MEASLES])
    assert {f.yes_price_cents for f in stored.fills if f.ticker == MEASLES} == {75}  # a NO at 25¢ is YES 75¢

    ctx.performance.account = account
    report = await ctx.performance.refresh()
    assert report.account == account and account in report.accounts
    # by hand, USD: contracts x (exit or settlement - entry) - fees
    won = 4 * (0.55 - 0.40) + 6 * (1.00 - 0.40) - 0.17 - 0.08  # 3.95: 4 sold at 55¢, 6 paid 100¢
    lost = 5 * (0.00 - 0.20) - 0.08  # -1.08: YES bought at 20¢, settled NO
    measles = 3 * (0.00 - 0.25) - 0.05  # -0.80: NO bought at 25¢, settled YES
    assert report.overall is not None and report.overall.total_pnl == pytest.approx(won + lost + measles)
    assert [s.key for s in report.by_strategy] == [KALSHI]
    assert {s.key: s.total_pnl for s in report.by_underlying} == pytest.approx(
        {WON: won, LOST: lost, MEASLES: measles})
    assert {s.key: s.total_pnl for s in report.by_month} == pytest.approx({"2024-03": won + lost, "2024-04": measles})
    assert report.overall.wins == 2 and report.overall.losses == 2  # WON closed on two days (sale, settlement)
    assert report.curve is not None and report.curve.frame["pnl"].sum() == pytest.approx(won + lost + measles)
    assert report.curve.frame.index[0].date().isoformat() == "2024-03-01"  # the first opening day

    # reading the account again stores nothing new and counts nothing twice; the read starts at the newest
    stored_events: list[object] = []
    ctx.kalshi.history_stored.connect(stored_events.append)
    await ctx.kalshi.refresh_portfolio()
    await ctx.kalshi.history_idle()
    assert stored_events == [] and _history_requests(kalshi_server, "/portfolio/fills")[-1].get("min_ts")
    again = await ctx.performance.refresh()
    assert again.overall is not None and again.overall.total_pnl == pytest.approx(won + lost + measles)
    assert len(load_history(ctx.db)[account].fills) == 4
    # the account filter: the demo account's report has no Kalshi trade
    ctx.performance.account = report.accounts[0] if report.accounts[0] != account else report.accounts[1]
    other = await ctx.performance.refresh()
    assert other.account != account and all(s.key != KALSHI for s in other.by_strategy)


@pytest.mark.asyncio
async def test_a_malformed_fill_or_a_database_failure_never_breaks_the_kalshi_dock(
        make_ctx: MakeCtx, kalshi_server: FakeKalshi, kalshi_key: rsa.RSAPrivateKey) -> None:
    from sqlalchemy import text

    from magnus_desktop.services.kalshi.history import load_history

    good = kalshi_server.add_fill(WON, "yes", "buy", 2, 40, 3, "2024-03-01T15:00:00Z")
    kalshi_server.account.fills.append({**good, "fill_id": "broken", "trade_id": "broken", "side": "maybe"})
    ctx = await _online_with_key(make_ctx, kalshi_server, kalshi_key)
    await ctx.kalshi.history_idle()
    assert [f.fill_id for f in ctx.kalshi.portfolio.fills] == [good["fill_id"]]  # the dock shows the good one
    assert ctx.kalshi.history_note is not None and "broken" in ctx.kalshi.history_note
    assert ctx.db is not None
    assert [f.fill_id for f in load_history(ctx.db)[ctx.kalshi.account_name].fills] == [good["fill_id"]]

    with ctx.db.engine.begin() as conn:  # the database fails under the service
        conn.execute(text("DROP TABLE kalshi_fills"))
    kalshi_server.add_fill(LOST, "yes", "buy", 1, 20, 1, "2024-03-02T15:00:00Z")
    seen: list[object] = []
    ctx.kalshi.portfolio_changed.connect(seen.append)
    portfolio = await ctx.kalshi.refresh_portfolio()
    await ctx.kalshi.history_idle()
    assert seen == [portfolio] and portfolio.balance is not None and len(portfolio.fills) == 2
    assert ctx.kalshi.history_note is not None and "not recorded" in ctx.kalshi.history_note
