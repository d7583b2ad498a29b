"""Kalshi request signing: RSA-PSS with SHA-256 over ``timestamp_ms + METHOD + path``.

Source: Kalshi API docs, "API Keys" (docs.kalshi.com/getting_started/api_keys): the message is the
request's millisecond timestamp, the upper-case HTTP method and the URL path *without* the query
string (``/trade-api/v2/portfolio/orders``); PSS padding with MGF1(SHA-256) and a salt as long as the
digest (32 bytes); the base64 signature goes in ``KALSHI-ACCESS-SIGNATURE`` beside
``KALSHI-ACCESS-KEY`` (the key id) and ``KALSHI-ACCESS-TIMESTAMP``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from magnus_desktop.services.kalshi.errors import KalshiCredentialsError

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"


def pss_padding() -> padding.PSS:
    """PSS with MGF1(SHA-256) and salt length = digest length (32 bytes)."""
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def signed_message(timestamp_ms: int, method: str, path: str) -> bytes:
    """``f"{timestamp_ms}{METHOD}{path}"`` with any query string cut off ``path``."""
    return f"{timestamp_ms}{method.upper()}{path.split('?', 1)[0]}".encode()


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    """An unencrypted PEM RSA private key (PKCS#1 or PKCS#8).

    Raises:
        KalshiCredentialsError: empty, not PEM, encrypted, or not RSA (the message says which, never the key).
    """
    data = pem.encode() if isinstance(pem, str) else pem
    if not data.strip():
        raise KalshiCredentialsError("The Kalshi private key is empty: paste the PEM text or pick the .key file.")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KalshiCredentialsError("The Kalshi private key is encrypted with a password; export it "
                                     "unencrypted (as Kalshi issues it).") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KalshiCredentialsError("The Kalshi private key could not be read: it is not a PEM private key "
                                     "(expected text starting with '-----BEGIN RSA PRIVATE KEY-----' or "
                                     "'-----BEGIN PRIVATE KEY-----').") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KalshiCredentialsError("The Kalshi private key is not an RSA key; Kalshi signs with RSA.")
    return key


class KalshiSigner:
    """Signs requests with one API key.

    Args:
        key_id: the API key id Kalshi shows next to the key (a UUID).
        private_key: the key (see :func:`load_private_key`).
        clock: seconds since the epoch (tests shift it to simulate clock skew).

    Raises:
        KalshiCredentialsError: an empty key id.
    """

    def __init__(self, key_id: str, private_key: rsa.RSAPrivateKey, *, clock: Callable[[], float] = time.time) -> None:
        key_id = key_id.strip()
        if not key_id:
            raise KalshiCredentialsError("No Kalshi API key id: enter the key id shown with your API key.")
        self.key_id = key_id
        self._key = private_key
        self._clock = clock

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The three ``KALSHI-ACCESS-*`` headers for a request to ``path`` (query ignored)."""
        ts = int(self._clock() * 1000)
        sig = self._key.sign(signed_message(ts, method, path), pss_padding(), hashes.SHA256())
        return {KEY_HEADER: self.key_id, TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: base64.b64encode(sig).decode()}
