"""BrokerSessionManager with real parts: the fake TWS (real sockets, ib_async unmodified), the fake
Robinhood HTTP server (robin_stocks unmodified) and a private, real Secret Service keyring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from keyring.backends import SecretService

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.credentials import CredentialsLocked, CredentialStore, service_key
from magnus_desktop.services.session import BrokerSessionManager, UnknownAccount
from magnus_desktop.services.settings import DEMO_ACCOUNT, AccountConfig, Settings, SettingsStore
from tests.asyncwait import wait_for
from tests.fake_robinhood import FakeRobinhood
from tests.fakes.fake_tws import FakeTWS
from tests.memory_keyring import MemoryKeyring
from tests.secret_service import (  # noqa: F401  (fixture)
    private_secret_service,
    require_secret_service_programs,
    secret_service,
)

IB_FAST = {"connect_timeout": 2.0, "request_timeout": 3.0, "backoff_initial": 0.05, "backoff_max": 0.3}






@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeTWS]:
    s = FakeTWS()
    await s.start()
    yield s
    await s.stop()


def _settings_file(home: Path) -> Path:
    return home / "settings.json"


def _manager(home: Path, accounts: list[AccountConfig], credentials: CredentialStore | None = None,
             **kw) -> BrokerSessionManager:
    settings = Settings(accounts=accounts)
    credentials = credentials or CredentialStore(MemoryKeyring(), refuse_insecure=False)
    return BrokerSessionManager(settings, SettingsStore(_settings_file(home)), credentials, ib_options=IB_FAST, **kw)


@pytest_asyncio.fixture
async def managers() -> AsyncIterator[list[BrokerSessionManager]]:
    opened: list[BrokerSessionManager] = []
    yield opened
    for m in opened:
        await m.aclose()


def _ib(server: FakeTWS, name: str = "IB paper", client_id: int = 7) -> AccountConfig:
    return AccountConfig(name=name, kind="ib", port=server.port, client_id=client_id)


# ------------------------------------------------------------------------------------------ IB
@pytest.mark.asyncio
async def test_switch_demo_to_ib_connects_and_positions_arrive(server, managers, tmp_path) -> None:
    m = _manager(tmp_path, [_ib(server)])
    managers.append(m)
    states: list[tuple[str, str]] = []
    positions: list[list] = []
    m.state_changed.connect(lambda account, state, reason: states.append((account, state)))
    m.positions_changed.connect(positions.append)
    await m.start()
    assert m.status().account == DEMO_ACCOUNT and m.status().state == "connected" and m.broker is None
    status = await m.switch("IB paper")
    assert status.state == "connected" and status.kind == "ib" and "DU1234567" in status.reason
    await wait_for(lambda: any(any(isinstance(p.contract, OptionContract) for p in batch) for batch in positions))
    put = next(p for batch in positions for p in batch if isinstance(p.contract, OptionContract))
    assert put.qty == -2 and put.contract.strike == 2600 and put.source == "ib"
    assert m.status().last_message_age_s is not None and m.status().last_message_age_s < 5
    assert states == [(DEMO_ACCOUNT, "connected"), (DEMO_ACCOUNT, "disconnected"), ("IB paper", "connecting"),
                      ("IB paper", "connected")]
    saved = json.loads(_settings_file(tmp_path).read_text(encoding="utf-8"))
    assert saved["active_account"] == "IB paper"


@pytest.mark.asyncio
async def test_tws_down_is_reconnecting_with_the_reason_and_recovers(managers, tmp_path) -> None:
    server = FakeTWS()
    await server.start()
    await server.stop()  # a port where TWS is not running
    m = _manager(tmp_path, [_ib(server)])
    managers.append(m)
    states: list[str] = []
    m.state_changed.connect(lambda account, state, reason: states.append(state))
    status = await m.switch("IB paper")
    assert status.state == "reconnecting"
    assert f"127.0.0.1:{server.port}" in status.reason and "not reachable" in status.reason
    assert "Retrying" in status.reason
    await asyncio.sleep(0.3)  # a few refused attempts with backoff
    assert m.status().state == "reconnecting" and "not reachable" in m.status().reason
    await server.start()  # TWS started
    try:
        await wait_for(lambda: m.status().state == "connected")
        assert m.status().reconnect_count == 0
        await server.stop()  # killed mid-session ...
        await wait_for(lambda: m.status().state == "reconnecting")
        await server.start()  # ... and restarted
        await wait_for(lambda: m.status().state == "connected")
        assert m.status().reconnect_count == 1 and "Reconnected" in m.status().reason
        assert states == ["connecting", "reconnecting", "connected", "reconnecting", "connected"]
    finally:
        await m.aclose()
        await server.stop()


@pytest.mark.asyncio
async def test_client_id_in_use_fails_offers_the_next_id_and_retry_works(server, managers, tmp_path) -> None:
    server.reject_client_ids = {7}
    m = _manager(tmp_path, [_ib(server)])
    managers.append(m)
    status = await m.switch("IB paper")
    assert status.state == "failed" and status.next_client_id == 8
    assert "326" in status.reason and "client id 8" in status.reason
    assert m.broker is None  # no half-open session left behind
    status = await m.retry_with_client_id()
    assert status.state == "connected" and status.next_client_id is None
    assert m.settings.account("IB paper").client_id == 8
    saved = json.loads(_settings_file(tmp_path).read_text(encoding="utf-8"))
    assert next(a for a in saved["accounts"] if a["name"] == "IB paper")["client_id"] == 8
    with pytest.raises(ValueError, match="no other id"):
        await m.retry_with_client_id()


@pytest.mark.asyncio
async def test_client_id_taken_once_tws_comes_up_stops_the_retries(managers, tmp_path) -> None:
    server = FakeTWS()
    await server.start()
    await server.stop()
    server.reject_client_ids = {7}
    m = _manager(tmp_path, [_ib(server)])
    managers.append(m)
    assert (await m.switch("IB paper")).state == "reconnecting"
    await server.start()
    try:
        await wait_for(lambda: m.status().state == "failed")
        assert m.status().next_client_id == 8 and m.broker is None
        connections = server.connections
        await asyncio.sleep(0.4)
        assert server.connections == connections  # retrying stopped
    finally:
        await m.aclose()
        await server.stop()


@pytest.mark.asyncio
async def test_switching_closes_the_previous_session(server, managers, tmp_path) -> None:
    other = FakeTWS()
    await other.start()
    m = _manager(tmp_path, [_ib(server), _ib(other, "IB second", 9)])
    managers.append(m)
    seen: list[str] = []
    try:
        await m.switch("IB paper")
        await wait_for(lambda: len(server._clients) == 1)
        first = m.broker
        await m.switch("IB second")
        await wait_for(lambda: len(server._clients) == 0)  # the server saw the disconnect
        assert len(other._clients) == 1 and m.broker is not first
        m.state_changed.connect(lambda account, state, reason: seen.append(account))
        m.positions_changed.connect(lambda batch: seen.append("positions"))
        first.positions_changed.emit([])  # a late event of the closed session is not forwarded
        await m.switch(DEMO_ACCOUNT)
        await wait_for(lambda: len(other._clients) == 0)
    finally:
        await other.stop()
    assert "positions" not in seen and m.status().state == "connected"


@pytest.mark.asyncio
async def test_unknown_account_and_demo_protection(managers, tmp_path) -> None:
    m = _manager(tmp_path, [])
    managers.append(m)
    with pytest.raises(UnknownAccount, match="no account named 'nope'"):
        await m.switch("nope")
    with pytest.raises(ValueError, match="cannot be removed"):
        await m.delete_account(DEMO_ACCOUNT)
    with pytest.raises(ValueError, match="cannot be changed"):
        await m.save_account(AccountConfig(name=DEMO_ACCOUNT, live_trading_enabled=True), previous_name=DEMO_ACCOUNT)
    with pytest.raises(ValueError, match="unique"):
        await m.save_account(AccountConfig(name="demo (PAPER, replay)"))
    assert [a.name for a in m.accounts] == [DEMO_ACCOUNT]
    assert not _settings_file(tmp_path).exists()  # nothing half-saved


# ------------------------------------------------------------------------------------ Robinhood


def _rh(fake: FakeRobinhood, name: str) -> AccountConfig:
    return AccountConfig(name=name, kind="robinhood", username=fake.username)


@pytest_asyncio.fixture
async def keyring_store(secret_service) -> AsyncIterator[CredentialStore]:  # noqa: F811
    store = CredentialStore(SecretService.Keyring())
    yield store
    await store.aclose()


@pytest.mark.asyncio
async def test_robinhood_wrong_password_fails_and_stores_nothing(fake_rh, keyring_store, managers, tmp_path,
                                                                 isolated_home) -> None:
    m = _manager(isolated_home, [_rh(fake_rh, "RH wrong")], keyring_store)
    managers.append(m)
    await m.save_secrets("RH wrong", {"password": "not the password", "totp_secret": fake_rh.totp_secret or ""})
    status = await m.switch("RH wrong")
    assert status.state == "failed" and "rejected the user name or password" in status.reason
    assert "not the password" not in status.reason and m.broker is None
    key = service_key("robinhood", "RH wrong")
    assert await keyring_store.get(key, "password") == "not the password"  # secrets untouched
    assert await keyring_store.get(key, "username") is None  # the user name lives in settings only
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(".tokens" in p.parts or p.suffix == ".pickle" for p in files)
    assert all(b"not the password" not in p.read_bytes() for p in files)
    # the right password then signs in, and positions come through the manager
    await m.save_secrets("RH wrong", {"password": fake_rh.password})
    positions: list[list] = []
    m.positions_changed.connect(positions.append)
    assert (await m.test_connection("RH wrong")).state == "connected"
    await m.broker.positions()
    assert positions and {type(p.contract).__name__ for p in positions[0]} == {"StockContract", "OptionContract"}


@pytest.mark.asyncio
async def test_robinhood_challenge_unanswered_fails_answered_connects(fake_rh, keyring_store, managers,
                                                                      isolated_home) -> None:
    fake_rh.challenge = "sms"
    m = _manager(isolated_home, [_rh(fake_rh, "RH sms")], keyring_store, challenge_timeout_s=0.3)
    managers.append(m)
    await m.save_secrets("RH sms", {"password": fake_rh.password, "totp_secret": fake_rh.totp_secret or ""})
    asked: list[tuple[str, str]] = []
    reasons: list[str] = []
    m.challenge_requested.connect(lambda account, kind: asked.append((account, kind)))
    m.state_changed.connect(lambda account, state, reason: reasons.append(reason))
    status = await m.switch("RH sms")
    assert asked == [("RH sms", "sms")] and any("sms verification" in r for r in reasons)
    assert status.state == "failed" and "not answered within" in status.reason
    assert not fake_rh.challenge_passed and m.broker is None

    m.challenge_requested.connect(lambda account, kind: m.answer_challenge(fake_rh.sms_code))
    status = await m.switch("RH sms")
    assert status.state == "connected" and fake_rh.challenge_passed
    assert m.answer_challenge("late") is False


@pytest.mark.asyncio
async def test_locked_keyring_fails_with_the_keyrings_message(fake_rh, managers, tmp_path) -> None:
    require_secret_service_programs()
    home = tmp_path / "locked-keyring"
    account = _rh(fake_rh, "RH locked")
    with private_secret_service(home, "right-password"):
        store = CredentialStore(SecretService.Keyring())
        await store.set(service_key("robinhood", account.name), "password", fake_rh.password)
        await store.aclose()
    with private_secret_service(home, "wrong-password", unlocks=False):  # same keyring, not unlocked
        store = CredentialStore(SecretService.Keyring())
        m = _manager(tmp_path, [account], store)
        try:
            status = await m.switch("RH locked")
            assert status.state == "failed" and "locked" in status.reason and "Unlock it" in status.reason
            with pytest.raises(CredentialsLocked):
                await m.save_secrets("RH locked", {"password": "new one"})
            with pytest.raises(CredentialsLocked):
                await m.delete_account("RH locked")
            assert "RH locked" in [a.name for a in m.accounts]  # the account and its secrets stay
        finally:
            await m.aclose()
            await store.aclose()
    assert not any(p == "/oauth2/token/" for _, p, _ in fake_rh.requests)  # nothing reached Robinhood
    with private_secret_service(home, "right-password"):
        store = CredentialStore(SecretService.Keyring())
        assert await store.get(service_key("robinhood", account.name), "password") == fake_rh.password
        await store.aclose()


@pytest.mark.asyncio
async def test_secrets_never_reach_the_settings_file_and_follow_the_account(fake_rh, keyring_store, managers,
                                                                           isolated_home) -> None:
    m = _manager(isolated_home, [], keyring_store)
    managers.append(m)
    await m.save_account(_rh(fake_rh, "RH main"))
    with pytest.raises(ValueError, match="not valid base32"):
        await m.save_secrets("RH main", {"password": "pw-Ünïcode-4711", "totp_secret": "not base32 !!"})
    assert await m.secret_status("RH main") == {"password": False, "totp_secret": False}  # all or nothing
    await m.save_secrets("RH main", {"password": "pw-Ünïcode-4711", "totp_secret": "jbsw y3dp ehpk 3pxp"})
    assert await m.secret_status("RH main") == {"password": True, "totp_secret": True}
    old_key, new_key = service_key("robinhood", "RH main"), service_key("robinhood", "RH renamed")
    assert await keyring_store.get(old_key, "totp_secret") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError, match="keep password, totp_secret; not api_key"):
        await m.save_secrets("RH main", {"api_key": "x"})

    await m.save_account(_rh(fake_rh, "RH renamed"), previous_name="RH main")  # a rename moves the secrets
    assert await keyring_store.get(old_key, "password") is None
    assert await keyring_store.get(new_key, "password") == "pw-Ünïcode-4711"
    await m.switch("RH renamed")
    text = _settings_file(isolated_home).read_text(encoding="utf-8")
    assert "RH renamed" in text and fake_rh.username in text
    for secret in ("pw-Ünïcode-4711", "JBSWY3DPEHPK3PXP", "jbsw y3dp"):
        assert secret not in text and secret.encode() not in _settings_file(isolated_home).read_bytes()

    await m.delete_account("RH renamed")  # the active account: the demo takes over, the secrets go
    assert m.status().account == DEMO_ACCOUNT and m.status().state == "connected"
    assert await keyring_store.get(new_key, "password") is None
    assert await keyring_store.get(new_key, "totp_secret") is None
    assert json.loads(_settings_file(isolated_home).read_text(encoding="utf-8"))["active_account"] == DEMO_ACCOUNT
