"""Typed credential errors. Messages name the key and the backend, never the secret."""

from __future__ import annotations


class CredentialsError(RuntimeError):
    """Base of credential-store errors; the message is meant for the user."""


class CredentialsUnavailable(CredentialsError):
    """No usable secure password store (keyring's fail/null backend, or the store cannot be reached)."""


class CredentialsLocked(CredentialsError):
    """The password store exists but is locked (the user dismissed or could not answer the unlock prompt)."""
