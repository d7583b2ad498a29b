"""Fixtures of the local Kalshi server (a pytest plugin of ``tests/conftest.py``): ``kalshi_key`` (a
test RSA key), ``kalshi_recorded`` (the recording; skips when ../shared/data is absent), ``kalshi_server``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.kalshi_server import FakeKalshi, RecordedKalshi

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
KALSHI_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "kalshi"


def pem_of(key: rsa.RSAPrivateKey) -> str:
    """The key as unencrypted PKCS#8 PEM text (what Kalshi hands out)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="session")
def kalshi_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def kalshi_recorded() -> RecordedKalshi:
    if not KALSHI_DATA.is_dir():
        pytest.skip(f"{KALSHI_DATA} is absent: the recorded Kalshi data is test-only and not in the checkout")
    return RecordedKalshi.load(KALSHI_DATA)


@pytest.fixture
def kalshi_server(kalshi_recorded: RecordedKalshi, kalshi_key: rsa.RSAPrivateKey) -> Iterator[FakeKalshi]:
    with FakeKalshi(kalshi_recorded, key_id=KEY_ID, public_key=kalshi_key.public_key()) as fake:
        yield fake
