"""``KalshiClient``: the Kalshi Trade API v2 over httpx (async), typed at the boundary.

Why httpx and not Kalshi's SDK (``kalshi-python-async``): every 3.x release after 3.2.0 requires
Python ≥ 3.13 (we ship 3.11), and 3.2.0 pulls aiohttp, aiohttp-retry and lazy_imports beside the
httpx we already use, generated from an older spec. httpx runs on the qasync loop as it is, a
``MockTransport``/local server tests it, and :mod:`.convert` turns the JSON into our typed records.

* Public market data (series, events, markets, a market, candlesticks, trades) needs no key; the
  order book is signed when a key is set (the v3.13 spec lists it as authenticated).
* Portfolio calls (balance, positions, fills, orders, create, cancel) are signed
  (:mod:`.signing`).
* Rate limits are kept on our side (Basic tier: 20 reads/s, 10 writes/s; aiolimiter).
* 429 and 5xx answers and network errors are retried with exponential backoff and jitter
  (tenacity); an order create is retried with the *same* ``client_order_id``, so the exchange
  never books it twice — a retry the exchange answers "duplicate" returns the order it already has.

Source: ``kalshi_openapi_v3.13.0.yaml`` (Kalshi Trade API v2, docs.kalshi.com/openapi.yaml).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base

from magnus_desktop.models.kalshi import (
    Balance,
    Candle,
    KalshiEvent,
    KalshiFill,
    KalshiMarket,
    KalshiOrder,
    KalshiPosition,
    KalshiSeries,
    KalshiSettlement,
    OrderBook,
    OrderRequest,
    PublicTrade,
)
from magnus_desktop.services.kalshi import convert
from magnus_desktop.services.kalshi.errors import (
    KalshiAuthError,
    KalshiClockSkew,
    KalshiError,
    KalshiMarketClosed,
    KalshiNotFound,
    KalshiRateLimited,
    KalshiRejected,
    KalshiUnavailable,
)
from magnus_desktop.services.kalshi.signing import KalshiSigner

log = logging.getLogger(__name__)

PRODUCTION_URL = "https://api.elections.kalshi.com/trade-api/v2"
DEMO_URL = "https://demo-api.kalshi.co/trade-api/v2"
#: Basic tier limits (docs.kalshi.com "Rate Limits and Tiers")
READS_PER_S = 20
WRITES_PER_S = 10
#: a clock this far from the exchange's is named as the likely cause of a 401
SKEW_TOLERANCE_S = 5.0
_CLOSED_CODES = ("market_closed", "market_not_open", "trading_is_paused", "market_settled", "closed")

T = TypeVar("T")


class _Transient(Exception):
    """A response worth retrying (429, 5xx); carries the final error if retries run out."""

    def __init__(self, error: KalshiError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list endpoint; ``cursor`` is "" on the last page."""

    items: list[T]
    cursor: str


@dataclass(frozen=True, slots=True)
class Checked(Generic[T]):
    """Records read from every page, and a sentence per malformed one left out."""

    items: list[T]
    problems: list[str]


def _or_problem(parse: Callable[[Any], T]) -> Callable[[Any], T | str]:
    """``parse``, with a malformed record (:class:`.convert.MalformedRecord`) turned into the sentence
    saying why, so one bad record never hides the others."""
    def safe(obj: Any) -> T | str:
        try:
            return parse(obj)
        except convert.MalformedRecord as exc:
            return str(exc)

    return safe


def _split(parsed: Iterable[T | str], out: Checked[T]) -> Checked[T]:
    """Add :func:`_or_problem` results to ``out``: records to ``items``, sentences to ``problems``."""
    for item in parsed:
        if isinstance(item, str):
            out.problems.append(item)
        else:
            out.items.append(item)
    return out


def warm_http_imports() -> None:
    """Import, here (a worker thread), what httpx → httpcore → anyio import lazily on the first
    request: that first request runs on the GUI event loop, and importing anyio's API and its
    asyncio backend there stalled it for ~40 ms of CPU (measured while 5,000 markets loaded,
    ``benchmarks/bench_kalshi.py``)."""
    import importlib

    import anyio

    # names and modules of anyio 4 / httpcore 1; one a later version no longer has is skipped
    for name in ("Lock", "Event", "Semaphore", "CancelScope", "fail_after", "move_on_after", "sleep",
                 "get_cancelled_exc_class", "EndOfStream", "BrokenResourceError", "ClosedResourceError"):
        getattr(anyio, name, None)
    for module in ("anyio._backends._asyncio", "anyio.streams.tls", "h11", "httpcore._async.connection_pool",
                   "httpcore._async.http11", "httpcore._backends.anyio"):
        try:
            importlib.import_module(module)
        except ImportError:
            continue


class KalshiClient:
    """Async Kalshi Trade API v2 client.

    Args:
        base_url: API root including ``/trade-api/v2`` (:data:`PRODUCTION_URL`, :data:`DEMO_URL`, a test server).
        signer: signs authenticated calls; None = public market data only (portfolio calls raise
            :class:`KalshiAuthError`).
        transport: an httpx transport (tests); None = the network.
        reads_per_s, writes_per_s: client-side rate limits.
        attempts: tries per request on 429/5xx/network errors (1 = no retry).
        retry_wait: tenacity wait between tries (default: exponential 0.25 s .. 8 s with jitter).
        timeout: seconds per request.
        clock: seconds since the epoch (clock-skew diagnosis).
        parse_executor: where response bodies are decoded and list pages converted (a page of
            1,000 markets is ~1 MB of JSON); None = on the event loop.
    """

    def __init__(self, base_url: str = PRODUCTION_URL, *, signer: KalshiSigner | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, reads_per_s: float = READS_PER_S,
                 writes_per_s: float = WRITES_PER_S, attempts: int = 4, retry_wait: wait_base | None = None,
                 timeout: float = 10.0, clock: Callable[[], float] = time.time,
                 parse_executor: Executor | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout,
                                       headers={"Accept": "application/json"})
        self._reads = AsyncLimiter(reads_per_s, 1.0)
        self._writes = AsyncLimiter(writes_per_s, 1.0)
        self._attempts = max(1, attempts)
        self._wait = retry_wait if retry_wait is not None else wait_exponential_jitter(multiplier=0.25, max=8.0)
        self._clock = clock
        self._parse_executor = parse_executor
        #: HTTP requests actually sent (retries included), by method: tests and the benchmark read it
        self.sent: dict[str, int] = {}
        #: when the latest request was sent (UTC), None before the first (the health panel)
        self.last_request_at: datetime | None = None
        #: requests that waited for our client-side rate limiter, and the seconds waited in all
        self.rate_limit_waits = 0
        self.rate_limit_wait_s = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> KalshiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- transport --------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                    body: Mapping[str, Any] | None = None, auth: bool = False,
                    transform: Callable[[Any], Any] | None = None) -> Any:
        """One API call with rate limit, signing and retries; the decoded JSON body (passed
        through ``transform`` on the parse executor when given).

        Raises:
            KalshiAuthError / KalshiClockSkew (401), KalshiNotFound (404), KalshiRejected /
            KalshiMarketClosed (400/403/409), KalshiRateLimited (429 after retries),
            KalshiUnavailable (5xx or no answer after retries).
        """
        if auth and self.signer is None:
            raise KalshiAuthError("Kalshi portfolio data needs an API key: add your key id and private key "
                                  "in Settings → Kalshi.")
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        limiter = self._reads if method == "GET" else self._writes
        retrying = AsyncRetrying(stop=stop_after_attempt(self._attempts), wait=self._wait, reraise=True,
                                 retry=retry_if_exception_type((_Transient, httpx.TransportError)))
        try:
            async for attempt in retrying:
                with attempt:
                    if not limiter.has_capacity():
                        self.rate_limit_waits += 1
                    waited = time.monotonic()
                    async with limiter:
                        self.rate_limit_wait_s += time.monotonic() - waited
                        return await self._send(method, path, query, body, auth, transform)
        except _Transient as exc:
            raise exc.error from None
        except httpx.TransportError as exc:
            raise KalshiUnavailable(f"Kalshi could not be reached ({type(exc).__name__}: {exc}). "
                                    "Kalshi needs the network.") from None
        raise AssertionError("unreachable")  # pragma: no cover - AsyncRetrying returns or raises

    async def _send(self, method: str, path: str, query: Mapping[str, Any], body: Mapping[str, Any] | None,
                    auth: bool, transform: Callable[[Any], Any] | None = None) -> Any:
        request = self._http.build_request(method, path, params=query or None, json=body)
        if self.signer is not None and (auth or path.endswith("/orderbook")):
            request.headers.update(self.signer.headers(method, request.url.path))
        self.sent[method] = self.sent.get(method, 0) + 1
        self.last_request_at = datetime.now(UTC)
        response = await self._http.send(request)
        if response.status_code < 400:
            content = response.content

            def decode() -> Any:
                data = json.loads(content) if content else {}
                return transform(data) if transform is not None else data

            if self._parse_executor is None:
                return decode()
            return await asyncio.get_running_loop().run_in_executor(self._parse_executor, decode)
        raise self._error(response)

    def _error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        code, message = _error_body(response)
        if status == 429:
            return _Transient(KalshiRateLimited(f"Kalshi is rate-limiting us (429): {message or 'too many requests'}.",
                                                status=status, code=code))
        if status >= 500:
            return _Transient(KalshiUnavailable(f"Kalshi answered {status}: {message or 'server error'}; try again later.",
                                                status=status, code=code))
        if status == 401:
            skew = self._skew_s(response)
            if "timestamp" in f"{code} {message}".lower() or abs(skew) > SKEW_TOLERANCE_S:
                return KalshiClockSkew(
                    f"Kalshi refused the request's timestamp: this computer's clock is {_skew_text(skew)} "
                    "the exchange's. Synchronise the system clock and try again.", skew_s=skew, code=code)
            return KalshiAuthError(f"Kalshi refused the API key (401{': ' + message if message else ''}). Check the "
                                   "key id and that the private key is the one issued with it.", status=status, code=code)
        if status == 404:
            return KalshiNotFound(f"Kalshi has no such item (404{': ' + message if message else ''}).",
                                  status=status, code=code)
        text = message or response.reason_phrase
        if any(c in f"{code} {message}".lower() for c in _CLOSED_CODES):
            return KalshiMarketClosed(f"The market is not open for trading ({text}).", status=status, code=code)
        return KalshiRejected(f"Kalshi refused the request ({status}{' ' + code if code else ''}): {text}.",
                              status=status, code=code)

    def _skew_s(self, response: httpx.Response) -> float:
        """Local clock minus the exchange's ``Date`` header, seconds (NaN without one)."""
        date = response.headers.get("date")
        if not date:
            return math.nan
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return math.nan
        return self._clock() - server

    async def _pages(self, path: str, key: str, params: Mapping[str, Any], parse: Callable[[Any], T],
                     *, auth: bool = False, max_pages: int = 10_000) -> AsyncIterator[list[T]]:
        cursor = ""

        def page(data: Any) -> tuple[list[T], str]:
            return [parse(x) for x in data.get(key) or ()], str(data.get("cursor") or "")

        for _ in range(max_pages):
            items, cursor = await self._call("GET", path, params={**params, "cursor": cursor or None}, auth=auth,
                                             transform=page)
            yield items
            if not cursor:
                return

    # ---- public market data -----------------------------------------------------------------------
    async def series_list(self, *, category: str | None = None, tags: str | None = None) -> list[KalshiSeries]:
        """``GET /series`` (optionally one category, e.g. "Sports")."""
        data = await self._call("GET", "/series", params={"category": category, "tags": tags})
        return [convert.series(s) for s in data.get("series") or ()]

    async def series(self, series_ticker: str) -> KalshiSeries:
        """``GET /series/{series_ticker}``."""
        data = await self._call("GET", f"/series/{series_ticker}")
        return convert.series(data["series"])

    def iter_events(self, *, series_ticker: str | None = None, status: str | None = None,
                    limit: int = 200) -> AsyncIterator[list[KalshiEvent]]:
        """``GET /events`` page by page (cursor pagination)."""
        return self._pages("/events", "events", {"series_ticker": series_ticker, "status": status, "limit": limit},
                           convert.event)

    async def events(self, **filters: Any) -> list[KalshiEvent]:
        """Every event matching the filters of :meth:`iter_events`."""
        return [e async for page in self.iter_events(**filters) for e in page]

    def iter_markets(self, *, event_ticker: str | None = None, series_ticker: str | None = None,
                     status: str | None = None, tickers: str | None = None,
                     limit: int = 1000) -> AsyncIterator[list[KalshiMarket]]:
        """``GET /markets`` page by page; filters by event, series, status (open, closed, settled …)."""
        return self._pages("/markets", "markets", {"event_ticker": event_ticker, "series_ticker": series_ticker,
                                                   "status": status, "tickers": tickers, "limit": limit},
                           convert.market)

    async def markets(self, **filters: Any) -> list[KalshiMarket]:
        """Every market matching the filters of :meth:`iter_markets`."""
        return [m async for page in self.iter_markets(**filters) for m in page]

    async def market(self, ticker: str) -> KalshiMarket:
        """``GET /markets/{ticker}``. Raises KalshiNotFound."""
        data = await self._call("GET", f"/markets/{ticker}")
        return convert.market(data["market"])

    async def orderbook(self, ticker: str, depth: int = 0) -> OrderBook:
        """``GET /markets/{ticker}/orderbook`` (``depth`` 0 = all levels), bids best first."""
        data = await self._call("GET", f"/markets/{ticker}/orderbook", params={"depth": depth or None})
        return convert.orderbook(ticker, data)

    async def candlesticks(self, series_ticker: str, ticker: str, start: datetime, end: datetime,
                           period_minutes: int = 60) -> list[Candle]:
        """``GET /series/{s}/markets/{t}/candlesticks`` between ``start`` and ``end`` (1, 60 or 1440 minutes)."""
        if period_minutes not in (1, 60, 1440):
            raise ValueError(f"period_minutes must be 1, 60 or 1440, not {period_minutes}")
        data = await self._call("GET", f"/series/{series_ticker}/markets/{ticker}/candlesticks",
                                params={"start_ts": int(start.timestamp()), "end_ts": int(end.timestamp()),
                                        "period_interval": period_minutes})
        return [convert.candle(c) for c in data.get("candlesticks") or ()]

    async def trades(self, ticker: str, limit: int = 100) -> list[PublicTrade]:
        """``GET /markets/trades``: the latest ``limit`` trades of ``ticker`` (one page)."""
        data = await self._call("GET", "/markets/trades", params={"ticker": ticker, "limit": limit})
        return [convert.trade(t) for t in data.get("trades") or ()]

    # ---- portfolio (signed) -----------------------------------------------------------------------
    async def balance(self) -> Balance:
        """``GET /portfolio/balance`` (cents)."""
        return convert.balance(await self._call("GET", "/portfolio/balance", auth=True))

    async def positions(self) -> list[KalshiPosition]:
        """``GET /portfolio/positions``: every market position (all pages)."""
        return [p async for page in self._pages("/portfolio/positions", "market_positions", {"limit": 1000},
                                                 convert.position, auth=True) for p in page]

    async def fills(self, *, ticker: str | None = None, limit: int = 200) -> list[KalshiFill]:
        """``GET /portfolio/fills``: the latest fills (one page of ``limit``); a malformed fill is
        logged and left out (it never hides the others)."""
        data = await self._call("GET", "/portfolio/fills", params={"ticker": ticker, "limit": limit}, auth=True)
        checked = _split(map(_or_problem(convert.checked_fill), data.get("fills") or ()), Checked([], []))
        for problem in checked.problems:
            log.warning("Kalshi fill skipped: %s", problem)
        return checked.items

    async def fill_history(self, *, min_ts: int | None = None, limit: int = 1000) -> Checked[KalshiFill]:
        """``GET /portfolio/fills``, every page (the API's ``cursor``), newest first, since
        ``min_ts`` (Unix seconds; None = all). Prices stay integer cents, fees USD.

        Returns:
            The fills and, for each malformed one left out, why (:func:`.convert.checked_fill`).

        Raises:
            KalshiError: a page could not be read (nothing is returned then).
        """
        return await self._checked_pages("/portfolio/fills", "fills", {"min_ts": min_ts, "limit": limit},
                                         convert.checked_fill)

    async def settlements(self, *, min_ts: int | None = None, limit: int = 1000) -> Checked[KalshiSettlement]:
        """``GET /portfolio/settlements``, every page, since ``min_ts`` (Unix seconds; None = all).
        Costs and revenue in integer cents, fees USD; malformed ones are left out and described.

        Raises:
            KalshiError: a page could not be read.
        """
        return await self._checked_pages("/portfolio/settlements", "settlements", {"min_ts": min_ts, "limit": limit},
                                         convert.settlement)

    async def _checked_pages(self, path: str, key: str, params: Mapping[str, Any],
                             parse: Callable[[Any], T]) -> Checked[T]:
        out: Checked[T] = Checked([], [])
        async for page in self._pages(path, key, params, _or_problem(parse), auth=True):
            _split(page, out)
        return out

    async def orders(self, *, status: str | None = None, ticker: str | None = None) -> list[KalshiOrder]:
        """``GET /portfolio/orders`` (``status``: resting, canceled, executed), all pages."""
        return [o async for page in self._pages("/portfolio/orders", "orders",
                                                 {"status": status, "ticker": ticker, "limit": 1000},
                                                 convert.order, auth=True) for o in page]

    async def create_order(self, req: OrderRequest) -> KalshiOrder:
        """``POST /portfolio/orders``: a limit order. Retried with the same ``client_order_id``; if the
        exchange says that id exists already (a retry of an order it did book), its order is returned.

        Raises:
            KalshiMarketClosed, KalshiRejected: the exchange's reason; nothing was placed.
            KalshiAuthError, KalshiClockSkew, KalshiRateLimited, KalshiUnavailable: as :meth:`_call`.
        """
        try:
            data = await self._call("POST", "/portfolio/orders", body=convert.order_request_json(req), auth=True)
        except KalshiRejected as exc:
            if exc.status == 409:  # a conflict: maybe the first try was booked and its answer was lost
                existing = await self.order_by_client_id(req.ticker, req.client_order_id)
                if existing is not None:
                    return existing
            raise
        return convert.order(data["order"])

    async def order_by_client_id(self, ticker: str, client_order_id: str) -> KalshiOrder | None:
        """Our order on ``ticker`` with ``client_order_id`` (any status), or None."""
        for o in await self.orders(ticker=ticker):
            if o.client_order_id == client_order_id:
                return o
        return None

    async def cancel_order(self, order_id: str) -> KalshiOrder:
        """``DELETE /portfolio/orders/{order_id}``: cancels what rests; returns the order after it."""
        data = await self._call("DELETE", f"/portfolio/orders/{order_id}", auth=True)
        return convert.order(data["order"])


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` of an ``ErrorResponse`` (``{"error": {...}}`` or flat); "" when absent."""
    try:
        data = response.json()
    except ValueError:
        return "", response.text[:200].strip()
    if isinstance(data, Mapping):
        inner = data.get("error", data)
        if isinstance(inner, Mapping):
            msg = str(inner.get("message") or "")
            details = str(inner.get("details") or "")
            return str(inner.get("code") or ""), f"{msg} ({details})" if details and details != msg else msg
        return "", str(inner)
    return "", ""


def _skew_text(skew: float) -> str:
    if not math.isfinite(skew):
        return "out of step with"
    return f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'}"
