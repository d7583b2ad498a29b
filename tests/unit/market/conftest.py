"""Fixtures for the market-data sources: a network guard, the fake Yahoo server, yfinance isolation."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yfinance as yf
from curl_cffi.curl import Curl, CurlOpt
from yfinance import cache as yf_cache
from yfinance.data import YfData

from magnus_desktop.services.market.recorded import ReplayMarketData
from tests.unit.market.fake_yahoo import FakeYahoo, LoopbackSession


class NetworkBlocked(RuntimeError):
    """A test tried to reach a non-loopback address."""


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything connects beyond 127.0.0.1/::1.

    Two doors are guarded: Python sockets (``socket.socket.connect``/``connect_ex``) and libcurl,
    which yfinance uses through curl_cffi and which opens its sockets in C — there every URL and
    proxy handed to a curl handle (``Curl.setopt(URL/PROXY)``) must be loopback. Blocked attempts
    raise ``NetworkBlocked`` and are also recorded, so a library that swallows the exception
    still fails the test at teardown.
    """
    blocked: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_setopt = Curl.setopt

    def check_address(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(str(address[0])):
            blocked.append(f"socket.connect{address!r}")
            raise NetworkBlocked(f"test tried to connect to {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        check_address(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check_address(sock, address)
        return real_connect_ex(sock, address)

    def setopt(curl: Curl, option: CurlOpt, value: Any) -> int:
        if option in (CurlOpt.URL, CurlOpt.PROXY) and value:
            text = value.decode() if isinstance(value, bytes) else str(value)
            if not _is_loopback(urlsplit(text if "//" in text else f"//{text}").hostname):
                blocked.append(f"curl {option.name} {text}")
                raise NetworkBlocked(f"test tried to reach {text}")
        return real_setopt(curl, option, value)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(Curl, "setopt", setopt)
    yield blocked
    assert not blocked, f"network access outside loopback: {blocked}"


@pytest.fixture
def yf_isolated(tmp_path: Path) -> Iterator[Path]:
    """yfinance's process-wide state reset around a test: session, cookie/crumb, response LRU, disk cache."""
    cache_dir = tmp_path / "yf-cache"
    cache_dir.mkdir()
    data = YfData()
    saved_session = data._session
    yf_cache.set_cache_location(str(cache_dir))
    yf_cache._TzCacheManager._tz_cache = None
    yf_cache._CookieCacheManager._Cookie_cache = None
    saved_hide, saved_retries = yf.config.debug.hide_exceptions, yf.config.network.retries

    def reset() -> None:
        data._crumb = None
        data._cookie = None
        data._cookie_strategy = "basic"
        YfData.cache_get.cache_clear()

    reset()
    yield cache_dir
    reset()
    data._set_session(saved_session)
    yf.config.debug.hide_exceptions, yf.config.network.retries = saved_hide, saved_retries
    yf_cache._TzCacheManager._tz_cache = None
    yf_cache._CookieCacheManager._Cookie_cache = None


@pytest.fixture
def fake_yahoo(yf_isolated: Path) -> Iterator[tuple[FakeYahoo, LoopbackSession]]:
    """A running fake Yahoo and a curl_cffi session pointed at it."""
    server = FakeYahoo()
    base = server.start()
    session = LoopbackSession(base)
    yield server, session
    session.close()
    server.stop()


@pytest.fixture
def closed_port_session(yf_isolated: Path) -> Iterator[LoopbackSession]:
    """A session aimed at a loopback port nobody listens on: every request is refused."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    session = LoopbackSession(f"http://127.0.0.1:{port}")
    yield session
    session.close()


@pytest.fixture(scope="session")
def replay_data() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-market")
    yield pool
    pool.shutdown(wait=True)
