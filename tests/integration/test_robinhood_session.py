"""RobinhoodSession against a local HTTP server speaking Robinhood's documented payloads (see
tests/fake_robinhood.py for where every shape comes from). robin_stocks runs unmodified; only its
session's transport is pointed at 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import math
import os
from datetime import date
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService

from magnus_desktop.models.domain import OptionContract, OrderTicket
from magnus_desktop.models.market import OrderEvent, StockContract
from magnus_desktop.services.brokers.protocols import (
    AuthenticationFailed,
    Broker,
    NotConnected,
    OrderRejectedByBroker,
)
from magnus_desktop.services.brokers.robinhood import RobinhoodSession, order_ref_to_ref_id
from magnus_desktop.services.credentials import CredentialStore, join_db_url, service_key, split_db_url
from magnus_desktop.services.logs import setup_logging
from magnus_desktop.services.market.protocols import UnknownSymbol
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.settings import Settings, SettingsStore
from tests.fake_robinhood import ACCOUNT_NUMBER, EXPIRY, FakeRobinhood, serve_fake_robinhood
from tests.memory_keyring import MemoryKeyring
from tests.secret_service import secret_service  # noqa: F401  (fixture)

PUT_180 = OptionContract("AAPL", date.fromisoformat(EXPIRY), 180.0, "P")




async def _store_with(fake: FakeRobinhood, backend: KeyringBackend | None = None, **override: str) -> CredentialStore:
    store = CredentialStore(backend or MemoryKeyring(), refuse_insecure=backend is not None)
    key = service_key("robinhood", "main")
    values = {"username": fake.username, "password": fake.password, "totp_secret": fake.totp_secret or ""}
    values.update(override)
    for name, value in values.items():
        if value:
            await store.set(key, name, value)
    return store


async def _never_answered(kind: str) -> str:
    await asyncio.Event().wait()
    return ""


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    robin = FakeRobinhood()
    with serve_fake_robinhood(robin):
        yield robin


async def _connected(fake: FakeRobinhood, **kwargs) -> RobinhoodSession:
    store = await _store_with(fake)
    session = RobinhoodSession(store, "main", _never_answered, poll_interval_s=3600, **kwargs)
    await session.connect()
    return session


@pytest.mark.asyncio
async def test_login_with_totp_connects_and_writes_no_token_file(fake: FakeRobinhood, tmp_path: Path) -> None:
    real_tokens = Path(os.path.expanduser("~")) / ".tokens"
    states: list[tuple[str, str]] = []
    store = await _store_with(fake)
    session = RobinhoodSession(store, "main", _never_answered, poll_interval_s=3600)
    session.state_changed.connect(lambda s, why: states.append((s, why)))
    await session.connect()
    try:
        assert isinstance(session, Broker)
        assert session.state == "connected"
        assert [s for s, _ in states] == ["connecting", "connected"]
        token_posts = [b for m, p, b in fake.requests if p == "/oauth2/token/"]
        assert len(token_posts) == 1 and len(token_posts[0]["mfa_code"]) == 6
    finally:
        await session.aclose()
    assert not (tmp_path / "home" / ".tokens").exists()
    assert real_tokens == tmp_path / "home" / ".tokens"
    assert not any(p.name.endswith(".pickle") for p in tmp_path.rglob("*"))
    assert session.state == "disconnected"


@pytest.mark.asyncio
async def test_wrong_password_is_a_clear_authentication_failure(fake: FakeRobinhood) -> None:
    store = await _store_with(fake, password="wrong password!")
    session = RobinhoodSession(store, "main", _never_answered)
    with pytest.raises(AuthenticationFailed, match="rejected the user name or password") as caught:
        await session.connect()
    await session.aclose()
    assert "wrong password!" not in str(caught.value)
    assert "Unable to log in with provided credentials" in str(caught.value)
    assert session.state == "disconnected"


@pytest.mark.asyncio
async def test_wrong_totp_secret_is_a_clear_authentication_failure(fake: FakeRobinhood) -> None:
    store = await _store_with(fake, totp_secret="KRSXG5CTMVRXEZLU")  # valid base32, wrong secret
    session = RobinhoodSession(store, "main", _never_answered)
    with pytest.raises(AuthenticationFailed, match="one-time code") as caught:
        await session.connect()
    await session.aclose()
    assert "TOTP secret" in str(caught.value) and "KRSXG5CTMVRXEZLU" not in str(caught.value)


@pytest.mark.asyncio
async def test_garbage_totp_secret_and_missing_credentials(fake: FakeRobinhood) -> None:
    store = await _store_with(fake, totp_secret="not base32 !!")
    session = RobinhoodSession(store, "main", _never_answered)
    with pytest.raises(AuthenticationFailed, match="not valid base32"):
        await session.connect()
    await session.aclose()
    empty = RobinhoodSession(CredentialStore(MemoryKeyring(), refuse_insecure=False), "main", _never_answered)
    with pytest.raises(AuthenticationFailed, match="Settings → Accounts"):
        await empty.connect()
    await empty.aclose()
    assert not any(p == "/oauth2/token/" for _, p, _ in fake.requests)  # neither reached Robinhood


@pytest.mark.asyncio
async def test_sms_challenge_answered_through_the_handler(fake: FakeRobinhood) -> None:
    fake.challenge = "sms"
    asked: list[str] = []

    async def handler(kind: str) -> str:
        asked.append(kind)
        return fake.sms_code

    store = await _store_with(fake)
    session = RobinhoodSession(store, "main", handler, poll_interval_s=0.01)
    await session.connect()
    await session.aclose()
    assert asked == ["sms"]
    assert fake.challenge_passed
    assert [b for m, p, b in fake.requests if p == "/challenge/chal-1/respond/"] == [{"response": "424242"}]


@pytest.mark.asyncio
async def test_unanswered_challenge_fails_clearly_after_the_timeout(fake: FakeRobinhood) -> None:
    fake.challenge = "sms"
    store = await _store_with(fake)
    session = RobinhoodSession(store, "main", _never_answered, challenge_timeout_s=0.3, poll_interval_s=0.01)
    with pytest.raises(AuthenticationFailed, match="sms verification was not answered"):
        await session.connect()
    await session.aclose()
    assert not fake.challenge_passed
    assert session.state == "disconnected"


@pytest.mark.asyncio
async def test_wrong_sms_code_and_app_prompt(fake: FakeRobinhood) -> None:
    fake.challenge = "sms"

    async def wrong(kind: str) -> str:
        return "000000"

    session = RobinhoodSession(await _store_with(fake), "main", wrong, poll_interval_s=0.01)
    with pytest.raises(AuthenticationFailed, match="rejected the sms verification code"):
        await session.connect()
    await session.aclose()

    fake.challenge = "prompt"
    asked: list[str] = []

    async def approve_in_app(kind: str) -> str:
        asked.append(kind)
        fake.app_approved = True  # the user taps "Approve" on the phone
        await asyncio.Event().wait()
        return ""

    session = RobinhoodSession(await _store_with(fake), "main", approve_in_app, poll_interval_s=0.01)
    await session.connect()
    assert session.state == "connected"
    await session.aclose()
    assert asked == ["app"]


@pytest.mark.asyncio
async def test_positions_and_account_values_convert_at_the_boundary(fake: FakeRobinhood) -> None:
    session = await _connected(fake)
    try:
        positions = await session.positions()
        account = await session.account_values()
    finally:
        await session.aclose()
    stock = next(p for p in positions if isinstance(p.contract, StockContract))
    option = next(p for p in positions if isinstance(p.contract, OptionContract))
    assert stock.contract.symbol == "AAPL" and stock.qty == 10 and stock.avg_cost == 150.25
    assert option.contract == PUT_180 and option.qty == -2.0
    assert option.avg_cost == pytest.approx(1.25)  # "-125.0000" per contract = 1.25 USD/share credit
    assert account.account == ACCOUNT_NUMBER
    assert (account.net_liquidation, account.cash, account.buying_power) == (12345.67, 3100.25, 2500.5)
    assert math.isnan(account.maint_margin) and account.source == "robinhood"


@pytest.mark.asyncio
async def test_place_is_idempotent_per_order_ref(fake: FakeRobinhood) -> None:
    session = await _connected(fake)
    events: list[OrderEvent] = []
    session.order_status.connect(events.append)
    ticket = OrderTicket(PUT_180, "SELL", 1, float("nan"), "ticket-001", date(2029, 12, 20))
    try:
        assert await session.place(ticket) == "ticket-001"
        assert await session.place(ticket) == "ticket-001"
        posted = fake.posted_orders()
        assert len(posted) == 1
        assert posted[0]["ref_id"] == order_ref_to_ref_id("ticket-001")
        assert posted[0]["price"] == 2.15  # nan limit = the quoted bid for a sell
        # We are short 2 of this put, so a SELL opens more; a BUY of 1 closes.
        assert posted[0]["legs"][0]["position_effect"] == "open" and posted[0]["direction"] == "credit"
        await session.place(OrderTicket(PUT_180, "BUY", 1, 1.05, "ticket-002", date(2029, 12, 20)))
        assert fake.posted_orders()[1]["legs"][0]["position_effect"] == "close"
        fake.fill("order-1", "2.15000000")
        changed = await session.poll_orders()
        executions = await session.executions()
    finally:
        await session.aclose()
    assert [e.state for e in events] == ["submitted", "submitted", "filled"]
    assert changed[0].order_ref == "ticket-001" and changed[0].filled_qty == 1 and changed[0].avg_fill_price == 2.15
    assert executions[0].order_ref == "ticket-001" and executions[0].qty == -1 and executions[0].price == 2.15


@pytest.mark.asyncio
async def test_a_ref_placed_before_a_restart_is_found_and_not_sent_again(fake: FakeRobinhood) -> None:
    ticket = OrderTicket(PUT_180, "SELL", 1, 2.2, "ticket-restart", date(2029, 12, 20))
    first = await _connected(fake)
    await first.place(ticket)
    await first.aclose()
    second = await _connected(fake)  # a new session knows nothing locally
    try:
        assert await second.place(ticket) == "ticket-restart"
        await second.cancel("ticket-restart")
    finally:
        await second.aclose()
    assert len(fake.posted_orders()) == 1
    assert fake.orders["order-1"]["state"] == "cancelled"


@pytest.mark.asyncio
async def test_rejected_order_and_not_connected(fake: FakeRobinhood) -> None:
    session = await _connected(fake)
    try:
        with pytest.raises(OrderRejectedByBroker, match="buying power"):
            await session.place(OrderTicket(PUT_180, "SELL", 60, 2.2, "too-big", date(2029, 12, 20)))
    finally:
        await session.aclose()
    with pytest.raises(NotConnected, match="not connected"):
        await session.place(OrderTicket(PUT_180, "SELL", 1, 2.2, "after-close", date(2029, 12, 20)))
    assert len(fake.posted_orders()) == 1


@pytest.mark.asyncio
async def test_quotes_option_quotes_and_chain(fake: FakeRobinhood) -> None:
    session = await _connected(fake)
    try:
        quote = await session.underlying_price("aapl")
        with pytest.raises(UnknownSymbol, match="ZZZZ"):
            await session.underlying_price("ZZZZ")
        option = await session.option_quote(PUT_180)
        chain = await session.chain("AAPL")
    finally:
        await session.aclose()
    assert (quote.symbol, quote.last, quote.bid, quote.ask, quote.prev_close) == ("AAPL", 195.10, 195.08, 195.12, 193.55)
    assert quote.as_of.tzinfo is not None and quote.source == "robinhood"
    assert (option.bid, option.ask, option.open_interest) == (2.15, 2.25, 8231)
    assert (option.iv, option.delta, option.theta, option.vega) == (0.2713, -0.221, -0.0412, 0.188)
    assert list(chain["strike"]) == [200.0, 180.0, 190.0] and list(chain["right"]) == ["C", "P", "P"]
    assert set(chain["und_price"]) == {195.10}


@pytest.mark.asyncio
async def test_login_flow_leaves_no_secret_in_logs_files_or_errors(
    fake: FakeRobinhood, secret_service, isolated_home: Path, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    db_password = "db-Secret-4711"
    paths = app_paths().ensure()
    log_file = setup_logging(paths.log_dir, logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    store = CredentialStore(SecretService.Keyring())
    errors: list[str] = []
    try:
        # Settings → Accounts saves the Robinhood secrets and the DB password to the keyring only.
        safe_url, password = split_db_url(f"postgresql://magnus:{db_password}@db.example:5432/magnus")
        assert password is not None
        await store.set(service_key("db", "main"), "password", password)
        SettingsStore(paths.settings_file).save(Settings(db_url=safe_url))
        key = service_key("robinhood", "main")
        await store.set(key, "username", fake.username)
        await store.set(key, "totp_secret", fake.totp_secret or "")
        await store.set(key, "password", "a wrong one")
        with pytest.raises(AuthenticationFailed) as caught:
            await RobinhoodSession(store, "main", _never_answered).connect()
        errors.append(repr(caught.value) + str(caught.value))
        await store.set(key, "password", fake.password)
        session = RobinhoodSession(store, "main", _never_answered, poll_interval_s=3600)
        await session.connect()
        await session.positions()
        await session.account_values()
        await session.aclose()
        restored = join_db_url(SettingsStore(paths.settings_file).load().db_url or "",
                               await store.get(service_key("db", "main"), "password"))
        assert db_password in restored
    finally:
        await store.aclose()
        for handler in logging.getLogger().handlers[:]:
            if getattr(handler, "baseFilename", None) == str(log_file):
                handler.close()
                logging.getLogger().removeHandler(handler)
    secrets = [fake.password, "a wrong one", fake.totp_secret or "", db_password]
    log_text = log_file.read_text(encoding="utf-8")
    assert "Robinhood" in log_text or caplog.records  # something was logged
    files = {p: p.read_bytes() for p in isolated_home.rglob("*") if p.is_file()}
    assert paths.settings_file in files
    for secret in secrets:
        assert secret not in caplog.text, secret
        assert secret not in log_text, secret
        assert all(secret.encode() not in data for data in files.values()), secret
        assert all(secret not in text for text in errors), secret
