"""Credentials: secrets through the OS keyring only (no Qt). See :mod:`.store` and :mod:`.db_url`."""

from magnus_desktop.services.credentials.db_url import db_url_account, join_db_url, split_db_url
from magnus_desktop.services.credentials.errors import (
    CredentialsError,
    CredentialsLocked,
    CredentialsUnavailable,
)
from magnus_desktop.services.credentials.store import (
    BackendInfo,
    CredentialStore,
    describe_backend,
    service_key,
)

__all__ = [
    "BackendInfo",
    "CredentialStore",
    "CredentialsError",
    "CredentialsLocked",
    "CredentialsUnavailable",
    "db_url_account",
    "describe_backend",
    "join_db_url",
    "service_key",
    "split_db_url",
]
