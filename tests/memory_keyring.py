"""A keyring backend that keeps secrets in a dict, for tests that must not touch a real keyring.

Not a secure store: ``CredentialStore`` refuses it unless ``refuse_insecure=False`` (or a test
patches the check), which is exactly what the plain-text-backend tests rely on.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username))
