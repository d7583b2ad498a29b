"""The Kalshi client's first request imports nothing on the event loop (the GUI thread): what
httpx → httpcore → anyio import lazily is imported beforehand by ``warm_http_imports`` on a worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import asyncio, json, sys
    from tests.fakes.kalshi_server import FakeKalshi, RecordedKalshi
    from magnus_desktop.services.kalshi.client import KalshiClient, warm_http_imports

    warm = sys.argv[1] == "warm"
    data = RecordedKalshi([], [{"ticker": "KXT-1", "event_ticker": "KXT", "status": "active"}], {})

    async def main():
        with FakeKalshi(data) as fake:
            if warm:
                warm_http_imports()
            client = KalshiClient(fake.base_url)
            before = set(sys.modules)
            await client.markets(status="open")
            after = set(sys.modules)
            await client.aclose()
        return sorted(m for m in after - before if m.split(".")[0] in ("anyio", "httpcore", "h11", "httpx"))

    print(json.dumps(asyncio.run(main())))
""")


def _new_modules(mode: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_the_warm_up_the_first_request_imports_on_the_loop() -> None:
    assert _new_modules("cold"), "the premise: httpx/anyio import lazily on the first request"


def test_after_the_warm_up_the_first_request_imports_nothing() -> None:
    assert _new_modules("warm") == []


def test_the_default_retry_waits_use_no_deprecated_tenacity_argument() -> None:
    """pytest runs with warnings as errors: building the clients with their default back-off must not warn
    (tenacity deprecated ``wait_exponential_jitter(initial=…)``; same waits with ``multiplier=``)."""
    import asyncio
    import warnings

    from magnus_desktop.services.kalshi.client import KalshiClient
    from magnus_desktop.services.market.yahoo import YahooMarket

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = KalshiClient("http://127.0.0.1:9")
        YahooMarket()
    asyncio.run(client.aclose())
