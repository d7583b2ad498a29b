"""Per-account secrets in the keyring: save (all or nothing), move on rename, delete with the account.

Secrets live under ``service_key(kind, account name)`` (``magnus-desktop/robinhood/Main``) with the
secret's name as the keyring user name (``password``, ``totp_secret``). Values never leave this module
except to the broker adapter that needs them; callers learn only whether a secret exists.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping

from magnus_desktop.services.credentials import (
    CredentialsError,
    CredentialStore,
    CredentialsUnavailable,
    service_key,
)
from magnus_desktop.services.settings import AccountConfig, AccountKind

log = logging.getLogger(__name__)

#: the secrets each kind of account keeps in the keyring (IB's TWS API has no password; paper needs none)
SECRET_NAMES: dict[AccountKind, tuple[str, ...]] = {"paper": (), "ib": (), "robinhood": ("password", "totp_secret")}
#: entries removed with an account: its secrets plus what older versions stored (the Robinhood user name)
_CLEANUP_NAMES: dict[AccountKind, tuple[str, ...]] = {**SECRET_NAMES, "robinhood": ("password", "totp_secret",
                                                                                  "username")}
MIN_TOTP_CHARS = 16  # 80 bits, what Robinhood issues


def normalize_totp_secret(secret: str) -> str:
    """The base32 TOTP secret without spaces, upper case.

    Raises:
        ValueError: not base32, or shorter than 16 characters (the message never contains the secret).
    """
    clean = secret.replace(" ", "").replace("-", "").upper()
    try:
        base64.b32decode(clean + "=" * (-len(clean) % 8), casefold=False)
    except (binascii.Error, ValueError):
        raise ValueError("the TOTP secret is not valid base32 (letters A–Z and digits 2–7): copy it again from "
                         "Robinhood (Security → Two-factor authentication → Authenticator app → Can't scan it?)"
                         ) from None
    if len(clean) < MIN_TOTP_CHARS:
        raise ValueError(f"the TOTP secret is too short ({len(clean)} characters; Robinhood's have "
                         f"{MIN_TOTP_CHARS} or more)")
    return clean


class AccountSecrets:
    """Keyring operations for account secrets over one :class:`CredentialStore`."""

    def __init__(self, credentials: CredentialStore) -> None:
        self.credentials = credentials

    @staticmethod
    def key(account: AccountConfig) -> str:
        return service_key(account.kind, account.name)

    async def save(self, account: AccountConfig, secrets: Mapping[str, str]) -> None:
        """Store ``secrets`` (name → value) for ``account``, all or nothing.

        Raises:
            ValueError: a name this kind of account does not keep, an empty value, a TOTP secret that is
                not base32. Nothing was written.
            CredentialsError (Locked / Unavailable): the keyring refused; every secret has its previous
                value again.
        """
        allowed = SECRET_NAMES[account.kind]
        unknown = sorted(set(secrets) - set(allowed))
        if unknown:
            keeps = ", ".join(allowed) or "no secrets"
            raise ValueError(f"{account.kind} accounts keep {keeps}; not {', '.join(unknown)}")
        values: dict[str, str] = {}
        for name, value in secrets.items():
            if not value:
                raise ValueError(f"the {name.replace('_', ' ')} is empty; nothing was saved")
            values[name] = normalize_totp_secret(value) if name == "totp_secret" else value
        key = self.key(account)
        previous = {name: await self.credentials.get(key, name) for name in values}
        written: list[str] = []
        try:
            for name, value in values.items():
                await self.credentials.set(key, name, value)
                written.append(name)
        except CredentialsError:
            await self._restore(key, {n: previous[n] for n in written})
            raise

    async def exists(self, account: AccountConfig) -> dict[str, bool]:
        """Which of the account's secrets are stored (name → bool). Raises CredentialsError."""
        key = self.key(account)
        return {name: bool(await self.credentials.get(key, name)) for name in SECRET_NAMES[account.kind]}

    async def copy(self, old: AccountConfig, new: AccountConfig) -> list[str]:
        """Copy the secrets of ``old`` to ``new`` (a rename); returns the names copied.

        Raises CredentialsError; then nothing was written under ``new``.
        """
        if old.kind != new.kind or self.key(old) == self.key(new):
            return []
        values = {n: v for n in SECRET_NAMES[old.kind] if (v := await self.credentials.get(self.key(old), n))}
        previous = {n: await self.credentials.get(self.key(new), n) for n in values}
        written: list[str] = []
        try:
            for name, value in values.items():
                await self.credentials.set(self.key(new), name, value)
                written.append(name)
        except CredentialsError:
            await self._restore(self.key(new), {n: previous[n] for n in written})
            raise
        return written

    async def delete(self, account: AccountConfig) -> None:
        """Remove every secret of ``account``.

        A keyring that cannot store anything (keyring's fail/null backend) holds none of ours: that is
        not an error. Raises CredentialsError when a real keyring is locked or fails.
        """
        names = _CLEANUP_NAMES[account.kind]
        if not names:
            return
        key = self.key(account)
        try:
            for name in names:
                await self.credentials.delete(key, name)
        except CredentialsUnavailable:
            info = await self.credentials.backend_info()
            if info.secure:
                raise
            log.info("no usable keyring (%s): account %r had no stored secrets to delete", info.name, account.name)

    async def _restore(self, key: str, previous: Mapping[str, str | None]) -> None:
        """Best effort: put back what ``previous`` held (the keyring just failed, it may fail again)."""
        for name, value in previous.items():
            try:
                if value:
                    await self.credentials.set(key, name, value)
                else:
                    await self.credentials.delete(key, name)
            except CredentialsError as exc:
                log.warning("could not restore %s/%s after a failed save: %s", key, name, exc)
