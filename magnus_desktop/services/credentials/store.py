"""Secrets through ``keyring`` only, every call on one dedicated worker thread (never the GUI thread).

Keys are namespaced: the keyring *service* is ``magnus-desktop/<kind>/<account>`` (see
:func:`service_key`) and the keyring *user name* is the secret's name (``"password"``,
``"totp_secret"`` …). Secrets are never logged, never put in exception messages, and never written
anywhere but the keyring: when no secure backend exists (headless Linux) the store says so and refuses;
it does not fall back to a plain-text file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from magnus_desktop.services.credentials.errors import (
    CredentialsError,
    CredentialsLocked,
    CredentialsUnavailable,
)

log = logging.getLogger(__name__)

APP_NAMESPACE = "magnus-desktop"

#: Backends that keep secrets encrypted by the operating system's password store.
SECURE_BACKENDS: frozenset[str] = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)
_NO_STORE_BACKENDS = frozenset({"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"})

T = TypeVar("T")


def service_key(kind: str, account: str) -> str:
    """Keyring service name ``magnus-desktop/<kind>/<account>`` (e.g. ``magnus-desktop/robinhood/main``).

    Raises:
        ValueError: ``kind`` or ``account`` is empty or contains ``/``.
    """
    for label, part in (("kind", kind), ("account", account)):
        if not part or "/" in part:
            raise ValueError(f"Credential {label} must be non-empty and contain no '/': {part!r}")
    return f"{APP_NAMESPACE}/{kind}/{account}"


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """The active keyring backend as Settings shows it.

    Attributes:
        name: dotted class name, e.g. ``keyring.backends.SecretService.Keyring``.
        secure: True only for an OS password store (Secret Service, KWallet, macOS Keychain, Windows
            Credential Locker).
        warning: a sentence for the user when ``secure`` is False ("" otherwise).
    """

    name: str
    secure: bool
    warning: str


def describe_backend(backend: KeyringBackend) -> BackendInfo:
    """Classify ``backend`` (a chainer is secure when every backend it chains is)."""
    name = _class_name(backend)
    chained = getattr(backend, "backends", None)
    if name == "keyring.backends.chainer.ChainerBackend" and chained is not None:
        inner = [_class_name(b) for b in chained]
        if inner and all(_is_secure(b) for b in chained):
            return BackendInfo(f"{name} ({', '.join(inner)})", True, "")
        if not inner:
            return BackendInfo(name, False, _no_store_warning())
        return BackendInfo(f"{name} ({', '.join(inner)})", False, _insecure_warning(", ".join(inner)))
    if _is_secure(backend):
        return BackendInfo(name, True, "")
    if name in _NO_STORE_BACKENDS:
        return BackendInfo(name, False, _no_store_warning())
    return BackendInfo(name, False, _insecure_warning(name))


def _is_secure(backend: KeyringBackend) -> bool:
    """True for a known OS password store or a subclass of one."""
    return any(f"{c.__module__}.{c.__qualname__}" in SECURE_BACKENDS for c in type(backend).__mro__)


def _class_name(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _no_store_warning() -> str:
    return (
        "No secure password store is available, so passwords cannot be saved. On Linux without a "
        "desktop session there is none: install and unlock a Secret Service (gnome-keyring or KWallet). "
        "Magnus Desktop never falls back to a plain-text file."
    )


def _insecure_warning(name: str) -> str:
    return (
        f"The password store {name} is not an operating-system keychain and may keep secrets "
        "unencrypted or readable by other programs. Configure keyring to use the Secret Service, "
        "macOS Keychain or Windows Credential Locker."
    )


class CredentialStore:
    """Async facade over ``keyring``; one worker thread serialises every keyring call.

    Args:
        backend: the keyring backend to use; ``None`` = keyring's default (resolved on the worker).
        refuse_insecure: raise :class:`CredentialsUnavailable` instead of using a backend that is not
            an OS password store (plain-text files, unknown third-party backends).
    """

    def __init__(self, backend: KeyringBackend | None = None, *, refuse_insecure: bool = True) -> None:
        self._backend = backend
        self._refuse_insecure = refuse_insecure
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyring")
        self._closed = False

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The one worker thread every keyring call runs on (shut down by :meth:`aclose`)."""
        return self._executor

    async def get(self, service: str, name: str) -> str | None:
        """The secret stored under ``service``/``name``, or None when there is none.

        Raises:
            CredentialsUnavailable, CredentialsLocked, CredentialsError.
        """
        return await self._run("read", service, name, lambda kr: kr.get_password(service, name))

    async def set(self, service: str, name: str, secret: str) -> None:
        """Store ``secret`` (replacing any previous one). Raises as :meth:`get`; ValueError if empty."""
        if not secret:
            raise ValueError(f"Refusing to store an empty secret for {service}/{name}")
        await self._run("save", service, name, lambda kr: kr.set_password(service, name, secret))

    async def delete(self, service: str, name: str) -> bool:
        """Remove the secret; returns False when there was none. Raises as :meth:`get`."""

        def delete(kr: KeyringBackend) -> bool:
            try:
                kr.delete_password(service, name)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return await self._run("delete", service, name, delete)

    async def backend_info(self) -> BackendInfo:
        """The active backend, whether it is secure, and the warning to show when it is not."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: describe_backend(self._resolve()))

    async def aclose(self) -> None:
        """Stop the worker thread after pending calls finish (idempotent)."""
        if not self._closed:
            self._closed = True
            await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)

    def _resolve(self) -> KeyringBackend:
        if self._backend is None:
            self._backend = keyring.get_keyring()
        return self._backend

    async def _run(self, action: str, service: str, name: str, call: Callable[[KeyringBackend], T]) -> T:
        if not service.startswith(APP_NAMESPACE + "/"):
            raise ValueError(f"Credential service {service!r} is outside the {APP_NAMESPACE}/ namespace")
        if self._closed:
            raise CredentialsError("The credential store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, action, service, name, call)

    def _call(self, action: str, service: str, name: str, call: Callable[[KeyringBackend], T]) -> T:
        """Runs on the keyring thread; translates keyring errors into ours (no secret in any message)."""
        backend = self._resolve()
        info = describe_backend(backend)
        where = f"{service}/{name}"
        if not info.secure and self._refuse_insecure:
            raise CredentialsUnavailable(f"Cannot {action} {where}: {info.warning} (backend: {info.name})")
        try:
            return call(backend)
        except keyring.errors.KeyringLocked:
            raise CredentialsLocked(
                f"Cannot {action} {where}: the password store ({info.name}) is locked. Unlock it "
                "(e.g. log in to the desktop session or open Passwords and Keys) and try again."
            ) from None
        except keyring.errors.NoKeyringError:
            raise CredentialsUnavailable(f"Cannot {action} {where}: {_no_store_warning()}") from None
        except keyring.errors.InitError as exc:
            raise CredentialsUnavailable(
                f"Cannot {action} {where}: the password store ({info.name}) could not be opened "
                f"({type(exc).__name__})"
            ) from None
        except Exception as exc:  # any other backend/D-Bus failure: typed, without the backend's text
            log.warning("keyring %s of %s failed: %s", action, where, type(exc).__name__)
            raise CredentialsError(
                f"Cannot {action} {where}: the password store ({info.name}) failed ({type(exc).__name__})"
            ) from None
