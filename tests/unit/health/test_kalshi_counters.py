"""The Kalshi client's health counters: last request time and client-side rate-limit waits."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest
from tenacity import wait_none

from magnus_desktop.services.kalshi.client import KalshiClient


@pytest.mark.asyncio
async def test_rate_limit_waits_and_last_request_are_counted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"series": []})

    client = KalshiClient("https://kalshi.test/trade-api/v2", transport=httpx.MockTransport(handler), reads_per_s=4,
                          retry_wait=wait_none())
    try:
        assert client.last_request_at is None and client.rate_limit_waits == 0
        before = datetime.now(UTC)
        start = time.monotonic()
        for _ in range(6):  # 4 fit the first second's budget; the rest wait for the limiter
            await client.series_list()
        elapsed = time.monotonic() - start
    finally:
        await client.aclose()
    assert client.sent["GET"] == 6
    assert client.rate_limit_waits >= 1
    assert 0.0 < client.rate_limit_wait_s <= elapsed + 0.01
    assert client.last_request_at is not None and client.last_request_at >= before
