"""CredentialStore against the REAL Secret Service (private dbus-daemon + gnome-keyring-daemon)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from keyring.backends import SecretService, fail

from magnus_desktop.services.credentials import (
    CredentialsLocked,
    CredentialStore,
    CredentialsUnavailable,
    service_key,
)
from tests.memory_keyring import MemoryKeyring
from tests.secret_service import (  # noqa: F401  (fixture)
    private_secret_service,
    require_secret_service_programs,
    secret_service,
)

SECRET = "hunter2-Ü-ß-🔑"


@pytest.mark.asyncio
async def test_round_trip_through_secret_service(secret_service) -> None:  # noqa: F811
    store = CredentialStore(SecretService.Keyring())
    key = service_key("robinhood", "round-trip")
    try:
        assert await store.get(key, "password") is None
        await store.set(key, "password", SECRET)
        assert await store.get(key, "password") == SECRET
        await store.set(key, "password", SECRET + "-changed")
        assert await store.get(key, "password") == SECRET + "-changed"
        assert await store.delete(key, "password") is True
        assert await store.get(key, "password") is None
        assert await store.delete(key, "password") is False
    finally:
        await store.aclose()


@pytest.mark.asyncio
async def test_secret_service_is_reported_secure(secret_service) -> None:  # noqa: F811
    store = CredentialStore(SecretService.Keyring())
    info = await store.backend_info()
    await store.aclose()
    assert info.secure is True
    assert info.name == "keyring.backends.SecretService.Keyring"
    assert info.warning == ""


@pytest.mark.asyncio
async def test_keyring_calls_run_on_the_dedicated_thread_not_the_loop(secret_service) -> None:  # noqa: F811
    seen: list[str] = []

    class Recording(SecretService.Keyring):
        def get_password(self, service: str, username: str) -> str | None:
            seen.append(threading.current_thread().name)
            return super().get_password(service, username)

    store = CredentialStore(Recording())
    await store.get(service_key("ib", "thread"), "password")
    await store.get(service_key("ib", "thread"), "password")
    await store.aclose()
    assert len(seen) == 2 and seen[0] == seen[1]
    assert seen[0].startswith("keyring") and seen[0] != threading.main_thread().name


@pytest.mark.asyncio
async def test_locked_keyring_gives_credentials_locked_and_loses_nothing(tmp_path: Path) -> None:
    require_secret_service_programs()
    key = service_key("robinhood", "locked")
    home = tmp_path / "keyring-home"
    with private_secret_service(home, "right-password"):
        store = CredentialStore(SecretService.Keyring())
        await store.set(key, "password", SECRET)
        await store.aclose()
    # Same keyring files, wrong unlock password: the login collection stays locked, and the unlock
    # prompt cannot be shown without a desktop (keyring reports KeyringLocked).
    with private_secret_service(home, "wrong-password", unlocks=False):
        store = CredentialStore(SecretService.Keyring())
        with pytest.raises(CredentialsLocked) as caught:
            await store.get(key, "password")
        with pytest.raises(CredentialsLocked):
            await store.set(key, "password", "would-overwrite")
        await store.aclose()
    message = str(caught.value)
    assert "locked" in message and key in message and "Unlock it" in message
    assert SECRET not in message and "right-password" not in message
    with private_secret_service(home, "right-password"):
        store = CredentialStore(SecretService.Keyring())
        assert await store.get(key, "password") == SECRET
        await store.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("refuse_insecure", [True, False])
async def test_fail_backend_gives_credentials_unavailable(refuse_insecure: bool) -> None:
    store = CredentialStore(fail.Keyring(), refuse_insecure=refuse_insecure)
    info = await store.backend_info()
    with pytest.raises(CredentialsUnavailable) as caught:
        await store.set(service_key("robinhood", "main"), "password", SECRET)
    with pytest.raises(CredentialsUnavailable):
        await store.get(service_key("robinhood", "main"), "password")
    await store.aclose()
    assert info.secure is False and info.name == "keyring.backends.fail.Keyring"
    assert "No secure password store" in info.warning and "plain-text" in info.warning
    assert "No secure password store" in str(caught.value)
    assert SECRET not in str(caught.value)




@pytest.mark.asyncio
async def test_insecure_backend_is_flagged_and_refused_without_writing() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend)
    info = await store.backend_info()
    with pytest.raises(CredentialsUnavailable) as caught:
        await store.set(service_key("robinhood", "main"), "password", SECRET)
    await store.aclose()
    assert info.secure is False and "MemoryKeyring" in info.name
    assert "not an operating-system keychain" in info.warning
    assert backend.saved == {}
    assert SECRET not in str(caught.value)


@pytest.mark.asyncio
async def test_keys_outside_the_namespace_and_empty_secrets_are_refused() -> None:
    backend = MemoryKeyring()
    store = CredentialStore(backend, refuse_insecure=False)
    with pytest.raises(ValueError, match="namespace"):
        await store.set("robinhood", "password", SECRET)
    with pytest.raises(ValueError, match="empty secret"):
        await store.set(service_key("robinhood", "main"), "password", "")
    await store.set(service_key("robinhood", "main"), "password", SECRET)
    await store.aclose()
    assert backend.saved == {("magnus-desktop/robinhood/main", "password"): SECRET}
    with pytest.raises(ValueError):
        service_key("robin/hood", "main")

