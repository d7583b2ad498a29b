"""Typed Kalshi errors; every message is a sentence for the trader and never contains a secret."""

from __future__ import annotations


class KalshiError(RuntimeError):
    """Base of the Kalshi client's errors.

    Attributes:
        status: the HTTP status (0 when no response came). code: the API's error code ("" if none).
    """

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class KalshiCredentialsError(KalshiError):
    """No key id, or the private key cannot be read (not a PEM RSA key, encrypted, missing file)."""


class KalshiAuthError(KalshiError):
    """The exchange refused the signature (401): a wrong key id, a key that does not match it, or a revoked key."""


class KalshiClockSkew(KalshiAuthError):
    """The exchange refused the request's timestamp: this computer's clock is off.

    Attributes:
        skew_s: local clock minus the exchange's (from its ``Date`` header), seconds; NaN if unknown.
    """

    def __init__(self, message: str, *, skew_s: float, status: int = 401, code: str = "") -> None:
        super().__init__(message, status=status, code=code)
        self.skew_s = skew_s


class KalshiNotFound(KalshiError):
    """404: no such market, event, series or order."""


class KalshiRejected(KalshiError):
    """The exchange refused an order (400/403/409): the message is its reason. Nothing was placed."""


class KalshiMarketClosed(KalshiRejected):
    """The market does not take orders (closed, settled or not open yet)."""


class KalshiRateLimited(KalshiError):
    """429 after every retry."""


class KalshiUnavailable(KalshiError):
    """No answer (network down, timeout) or 5xx after every retry."""
