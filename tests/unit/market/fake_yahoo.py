"""A local stand-in for Yahoo Finance's HTTP API, and the session seam that sends yfinance to it.

Response shapes (field names and nesting) follow what Yahoo sends and yfinance parses:

- chart, ``GET query2.finance.yahoo.com/v8/finance/chart/{symbol}``: yfinance's recorded real
  response ``tests/data/responses/GET_v8_finance_chart_MSFT_88a60786b3.json`` (ranaroussi/yfinance
  @217fa8d) — ``chart.result[0].meta`` (``regularMarketPrice``, ``regularMarketTime``,
  ``exchangeTimezoneName``, ``currentTradingPeriod``, ``validRanges`` ...), ``timestamp`` and
  ``indicators.quote[0]`` / ``indicators.adjclose[0]``; errors as ``chart.error.description``.
- options, ``GET query2.finance.yahoo.com/v7/finance/options/{symbol}[?date=]``: yfinance's mock
  fixture ``tests/mocks/fixtures/options.py`` (@65bab22: ``optionChain.result[0]`` with
  ``underlyingSymbol``, ``expirationDates``, ``strikes``, ``quote``, ``options``) and the contract
  fields yfinance 1.7 reads in ``Ticker._options2df`` (``contractSymbol``, ``lastTradeDate``,
  ``strike``, ``lastPrice``, ``bid``, ``ask``, ``volume``, ``openInterest``, ``impliedVolatility``,
  ``contractSize``, ``currency``, ``expiration``).
- cookie/crumb handshake (``fc.yahoo.com``, ``/v1/test/getcrumb``): answered like yfinance's own
  replay harness ``tests/replay.py`` does (an empty page, a plain-text crumb).

The numbers served are real recorded data from ``resources/data`` (pandas-ta SPY bars, the
optopsy SPXW chain), reshaped into Yahoo's layout — no invented prices.

Seam: yfinance 1.7 sends every request through its ``YfData`` singleton's session, and
``yf.Ticker(symbol, session=...)`` installs the session given (its documented way to pass a
session). ``LoopbackSession`` is a real curl_cffi ``Session`` (the backend yfinance uses) whose
``request`` rewrites ``https://<host>/<path>`` to ``http://127.0.0.1:<port>/<host>/<path>``: the
whole yfinance stack — cookie/crumb handshake, its JSON parsing, libcurl and a real TCP socket —
runs unmodified; only the destination changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
from curl_cffi import requests as curl_requests

NY = ZoneInfo("America/New_York")
Handler = Callable[[dict[str, str]], tuple[int, str, bytes]]


def _ts(day: date, at: time) -> int:
    return int(datetime.combine(day, at, tzinfo=NY).timestamp())


def json_body(obj: Any, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json;charset=utf-8", json.dumps(obj).encode()


def chart_payload(symbol: str, bars: pd.DataFrame, params: dict[str, str], instrument: str = "ETF") -> dict[str, Any]:
    """Yahoo's v8 chart JSON for ``bars`` (daily, index = dates), cut to ``range`` or ``period1/2``."""
    if "period1" in params and "period2" in params:
        lo = datetime.fromtimestamp(int(params["period1"]), tz=UTC).astimezone(NY).date()
        hi = datetime.fromtimestamp(int(params["period2"]), tz=UTC).astimezone(NY).date()
        part = bars[(bars.index.date >= lo) & (bars.index.date < hi)]
    else:
        n = {"1d": 1, "5d": 5, "1mo": 21, "3mo": 63, "1y": 252}.get(params.get("range", "1mo"), 21)
        part = bars.iloc[-n:]
    last_day = bars.index[-1].date()
    close_ts = _ts(last_day, time(16, 0))
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "PCX",
        "fullExchangeName": "NYSEArca",
        "instrumentType": instrument,
        "firstTradeDate": 728317800,
        "regularMarketTime": close_ts,
        "hasPrePostMarketData": True,
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": float(bars["close"].iloc[-1]),
        "regularMarketVolume": float(bars["volume"].iloc[-1]),
        "chartPreviousClose": float(bars["close"].iloc[-len(part) - 1]) if len(bars) > len(part) else None,
        "priceHint": 2,
        "currentTradingPeriod": {
            name: {"timezone": "EST", "start": _ts(last_day, lo), "end": _ts(last_day, hi), "gmtoffset": -18000}
            for name, lo, hi in (
                ("pre", time(4, 0), time(9, 30)),
                ("regular", time(9, 30), time(16, 0)),
                ("post", time(16, 0), time(20, 0)),
            )
        },
        "dataGranularity": params.get("interval", "1d"),
        "range": params.get("range", ""),
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    quote = {col: [float(v) for v in part[col]] for col in ("open", "high", "low", "close", "volume")}
    return {
        "chart": {
            "result": [
                {
                    "meta": meta,
                    "timestamp": [_ts(d.date(), time(9, 30)) for d in part.index],
                    "indicators": {"quote": [quote], "adjclose": [{"adjclose": quote["close"]}]},
                }
            ],
            "error": None,
        }
    }


def chart_error(symbol: str) -> tuple[int, str, bytes]:
    """Yahoo's answer for a symbol it does not know (HTTP 404 with ``chart.error``)."""
    body = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}
    return json_body(body, 404)


def not_found(key: str) -> tuple[int, str, bytes]:
    """Yahoo's 404 answers for a symbol it does not know, per endpoint."""
    symbol = key.rpartition("/")[2]
    if "/v8/finance/chart/" in key:
        return chart_error(symbol)
    if "/quoteSummary/" in key:
        error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}
        return json_body({"quoteSummary": {"result": None, "error": error}}, 404)
    if "/v7/finance/options/" in key:
        return json_body({"optionChain": {"result": [], "error": None}})
    return json_body({"finance": {"result": None, "error": {"code": "Not Found", "description": key}}}, 404)


def _contract(row: pd.Series, expiry_ts: int, trade_ts: int) -> dict[str, Any]:
    strike = float(row["strike"])
    symbol = f"{row['underlying']}{row['expiry']:%y%m%d}{row['right']}{round(strike * 1000):08d}"
    out: dict[str, Any] = {
        "contractSymbol": symbol,
        "strike": strike,
        "currency": "USD",
        "contractSize": "REGULAR",
        "expiration": expiry_ts,
        "lastTradeDate": trade_ts,
        "inTheMoney": bool(strike < row["und_price"]) if row["right"] == "C" else bool(strike > row["und_price"]),
    }
    # Yahoo leaves out fields it has no value for; the recording has NaN there.
    for key, col in (("lastPrice", "last"), ("bid", "bid"), ("ask", "ask"), ("volume", "volume"), ("openInterest", "open_interest")):
        if pd.notna(row[col]):
            out[key] = float(row[col]) if key not in ("volume", "openInterest") else int(row[col])
    return out


def options_payload(yahoo_symbol: str, chain: pd.DataFrame, expiry: date | None) -> dict[str, Any]:
    """Yahoo's v7 options JSON for one recorded chain day; ``expiry`` None = the nearest one."""
    expiries = sorted({d.date() for d in chain["expiry"]})
    chosen = expiry if expiry is not None else expiries[0]
    day = chain["quote_date"].iloc[0].date()
    close_ts = _ts(day, time(16, 0))
    exp_ts = {d: int(datetime.combine(d, time(0, 0), tzinfo=UTC).timestamp()) for d in expiries}
    part = chain[chain["expiry"].dt.date == chosen]
    options = []
    if chosen in exp_ts:
        options = [
            {
                "expirationDate": exp_ts[chosen],
                "hasMiniOptions": False,
                "calls": [_contract(r, exp_ts[chosen], close_ts) for _, r in part[part["right"] == "C"].iterrows()],
                "puts": [_contract(r, exp_ts[chosen], close_ts) for _, r in part[part["right"] == "P"].iterrows()],
            }
        ]
    quote = {
        "symbol": yahoo_symbol,
        "quoteType": "INDEX",
        "currency": "USD",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": float(chain["und_price"].iloc[0]),
        "regularMarketTime": close_ts,
    }
    return {
        "optionChain": {
            "result": [
                {
                    "underlyingSymbol": yahoo_symbol,
                    "expirationDates": [exp_ts[d] for d in expiries],
                    "strikes": sorted({float(s) for s in chain["strike"]}),
                    "hasMiniOptions": False,
                    "quote": quote,
                    "options": options,
                }
            ],
            "error": None,
        }
    }


@dataclass
class FakeYahoo:
    """Threaded HTTP server on 127.0.0.1 answering Yahoo's paths (``/<host>/<path>``).

    ``routes`` maps ``"<host>/<path>"`` to a handler of the query parameters; ``hits`` records every
    request as ``"<host>/<path>"`` (handshake requests included).
    """

    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.routes["fc.yahoo.com/"] = lambda _p: (200, "text/html", b"")
        self.routes["query1.finance.yahoo.com/v1/test/getcrumb"] = lambda _p: (200, "text/plain", b"local-crumb")
        self.routes["query2.finance.yahoo.com/v1/test/getcrumb"] = lambda _p: (200, "text/plain", b"local-crumb")
        self._lock = threading.Lock()

    def start(self) -> str:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                key = unquote(parts.path).lstrip("/")
                if key.count("/") == 0:
                    key += "/"
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.hits.append(key)
                handler = fake.routes.get(key)
                if handler is not None:
                    status, ctype, body = handler(params)
                else:
                    status, ctype, body = not_found(key)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def data_hits(self, prefix: str = "query2.finance.yahoo.com/v") -> list[str]:
        """Hits on Yahoo's data endpoints (handshake requests left out)."""
        with self._lock:
            return [h for h in self.hits if h.startswith(prefix) and "getcrumb" not in h]


class LoopbackSession(curl_requests.Session):
    """A curl_cffi session that sends every ``https://host/path`` to ``<base>/host/path``."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(url)
        local = f"{self.base_url}/{parts.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, *args, **kwargs)
