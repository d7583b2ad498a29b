"""The Kalshi API key in the OS keyring (through :class:`CredentialStore`; never in settings or logs).

Keyring service ``magnus-desktop/kalshi/<environment>`` (``production`` or ``demo``), names
``key_id``, and either ``private_key_pem`` (the PEM text) or ``private_key_path`` (a file the app
reads each session; the key itself then stays in that file).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from magnus_desktop.services.credentials import CredentialStore, service_key
from magnus_desktop.services.kalshi.errors import KalshiCredentialsError
from magnus_desktop.services.kalshi.signing import KalshiSigner, load_private_key

KEY_ID, PEM, PEM_PATH = "key_id", "private_key_pem", "private_key_path"


def kalshi_service(environment: str) -> str:
    """``magnus-desktop/kalshi/<environment>``."""
    return service_key("kalshi", environment)


def _read_key_file(path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise KalshiCredentialsError(f"The Kalshi private key file {path} cannot be read: "
                                     f"{exc.strerror or exc}.") from None


async def save_key(store: CredentialStore, environment: str, key_id: str, *, pem: str = "",
                   pem_path: str = "", executor: Executor | None = None) -> None:
    """Check the key, then store it: the key id and the PEM text, or the path of the PEM file.

    Nothing is stored when the key id is empty or the key cannot be read.

    Raises:
        KalshiCredentialsError: empty key id, neither or both of ``pem``/``pem_path``, unreadable key.
        CredentialsError: no usable keyring (the message says which).
    """
    if not key_id.strip():
        raise KalshiCredentialsError("Enter the Kalshi API key id (shown with your key on kalshi.com).")
    if bool(pem.strip()) == bool(pem_path.strip()):
        raise KalshiCredentialsError("Give either the private key's PEM text or the path of its file, not both.")
    loop = asyncio.get_running_loop()
    data = pem.encode() if pem.strip() else await loop.run_in_executor(executor, _read_key_file, pem_path.strip())
    await loop.run_in_executor(executor, load_private_key, data)  # raises before anything is stored
    service = kalshi_service(environment)
    await store.set(service, KEY_ID, key_id.strip())
    keep, drop = (PEM, PEM_PATH) if pem.strip() else (PEM_PATH, PEM)
    await store.set(service, keep, pem if pem.strip() else pem_path.strip())
    await _delete_if_set(store, service, drop)


async def _delete_if_set(store: CredentialStore, service: str, name: str) -> None:
    if await store.get(service, name) is not None:
        await store.delete(service, name)


async def delete_key(store: CredentialStore, environment: str) -> None:
    """Forget the key of ``environment`` (every name)."""
    for name in (KEY_ID, PEM, PEM_PATH):
        await _delete_if_set(store, kalshi_service(environment), name)


async def load_signer(store: CredentialStore, environment: str, *, executor: Executor | None = None,
                      clock: Callable[[], float] | None = None) -> KalshiSigner | None:
    """The signer of the stored key, or None when no key id is stored (public data only).

    Raises:
        KalshiCredentialsError: a key id without a readable private key.
        CredentialsError: the keyring is unavailable or locked.
    """
    service = kalshi_service(environment)
    key_id = await store.get(service, KEY_ID)
    if not key_id:
        return None
    pem = await store.get(service, PEM)
    loop = asyncio.get_running_loop()
    if pem is None:
        path = await store.get(service, PEM_PATH)
        if not path:
            raise KalshiCredentialsError("A Kalshi key id is stored but no private key: add it in Settings → Kalshi.")
        data = await loop.run_in_executor(executor, _read_key_file, path)
    else:
        data = pem.encode()
    key = await loop.run_in_executor(executor, load_private_key, data)
    return KalshiSigner(key_id, key) if clock is None else KalshiSigner(key_id, key, clock=clock)
