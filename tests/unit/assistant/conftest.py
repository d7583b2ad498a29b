"""Retrieval tests run with the network unreachable: any non-loopback connect fails the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_LOOPBACK = ("127.", "::1", "localhost")


def _guard(address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host.startswith(_LOOPBACK):
        return
    if isinstance(host, (bytes, str)) and not isinstance(address, tuple):  # AF_UNIX path
        return
    raise AssertionError(f"network access attempted: {address!r}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def connect(self: socket.socket, address: object) -> None:
        _guard(address)
        return _real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _guard(address)
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


@pytest.fixture
def tiny_kb(tmp_path: Path) -> Path:
    """A two-page knowledge base (guide/ + concepts/) for the mechanics tests."""
    root = tmp_path / "kb"
    (root / "guide").mkdir(parents=True)
    (root / "concepts").mkdir()
    (root / "concepts" / "greeks.md").write_text(
        "# Greeks\n\n## Vega\nVega is the change in option price per one vol point of implied volatility.\n\n"
        "## Theta\nTheta is the option value lost per calendar day.\n", "utf-8")
    (root / "guide" / "scanner.md").write_text(
        "# Scanner\n\n## Filters\nDTE range, delta range, minimum open interest and maximum spread.\n", "utf-8")
    return root
