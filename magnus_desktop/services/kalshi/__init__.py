"""Kalshi prediction markets (no Qt): the Trade API v2 client, request signing, the key in the
keyring, the offline market cache and :class:`KalshiService` (state + events for the dock)."""

from magnus_desktop.services.kalshi.client import DEMO_URL, PRODUCTION_URL, KalshiClient, Page
from magnus_desktop.services.kalshi.errors import (
    KalshiAuthError,
    KalshiClockSkew,
    KalshiCredentialsError,
    KalshiError,
    KalshiMarketClosed,
    KalshiNotFound,
    KalshiRateLimited,
    KalshiRejected,
    KalshiUnavailable,
)
from magnus_desktop.services.kalshi.signing import KalshiSigner, load_private_key

__all__ = ["DEMO_URL", "PRODUCTION_URL", "KalshiAuthError", "KalshiClient", "KalshiClockSkew",
           "KalshiCredentialsError", "KalshiError", "KalshiMarketClosed", "KalshiNotFound", "KalshiRateLimited",
           "KalshiRejected", "KalshiSigner", "KalshiUnavailable", "Page", "load_private_key"]
