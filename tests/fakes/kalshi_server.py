"""A local Kalshi Trade API v2 server (plain ``http.server`` in a thread, 127.0.0.1, ephemeral port).

Market data is the real recording in ``../shared/data/kalshi/`` (lognorman20/kalshi-data,
2024-07-13), written by the old kalshi-python SDK: its keys lose their leading ``_`` here. The
orderbooks are served as recorded (legacy ``orderbook.yes/no`` integer cents, ascending); series
are derived from the events (ticker, category, the first event's title). Candlesticks are the two
recorded prices of each market: ``previous_price`` (24 h before) and ``last_price``.

Portfolio endpoints answer spec-valid shapes (``kalshi_openapi_v3.13.0.yaml``: ``GetBalanceResponse``,
``MarketPosition``, ``Fill``, ``Order`` with ``*_dollars`` / ``*_fp`` strings) from an in-memory test
account: a buy limit order at or above the market's recorded ask fills at once at that ask (taker, fee per the schedule),
otherwise it rests.

Every portfolio call (and the orderbook, when signed) is verified with ``cryptography``: RSA-PSS,
SHA-256, salt = digest length, over ``timestamp + METHOD + path`` with the query excluded; a wrong
key id or signature is 401, a timestamp more than ``max_skew_s`` away is 401 ``invalid_timestamp``.

Our trade history: ``add_fill`` books a past fill (spec ``Fill``) on a recorded market at a given
time, ``settle`` settles a recorded finalized market as it was recorded (its ``result`` and
``close_time``) into a spec ``Settlement`` of what the account held; ``/portfolio/fills`` (newest
first) and ``/portfolio/settlements`` are paged by cursor (``history_page_limit`` per page) and
filtered by ``min_ts``.

Controls: ``fail_next`` (statuses to answer before serving normally, e.g. ``[429]``), ``requests``
(method, path, query of every request), ``orders_created`` (POSTs that booked an order),
``closed_tickers``, ``reject_next_order`` (code, message), ``drop_first_order_reply``.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PREFIX = "/trade-api/v2"


def strip_keys(obj: Any) -> Any:
    """The old SDK's ``_field`` names → API names (``discriminator`` dropped)."""
    if isinstance(obj, dict):
        return {k.lstrip("_"): strip_keys(v) for k, v in obj.items() if k != "discriminator"}
    if isinstance(obj, list):
        return [strip_keys(v) for v in obj]
    return obj


@dataclass
class RecordedKalshi:
    """The recording: events, markets (flat, API keys) and orderbooks by ticker."""

    events: list[dict[str, Any]]
    markets: list[dict[str, Any]]
    orderbooks: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, folder: Path) -> RecordedKalshi:
        events = strip_keys(json.loads((folder / "lognorman_event_data_2024-07-13.json").read_text()))
        markets = [m for group in strip_keys(json.loads((folder / "lognorman_market_data_2024-07-13.json").read_text()))
                   for ms in group.values() for m in ms]
        books: dict[str, dict[str, Any]] = {}
        for group in strip_keys(json.loads((folder / "lognorman_orderbook_data_2024-07-13.json").read_text())):
            books.update(group)
        return cls(events, markets, books)

    def series(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for e in self.events:
            out.setdefault(e["series_ticker"], {"ticker": e["series_ticker"], "title": e["title"],
                                                "category": e["category"], "tags": [], "frequency": "custom"})
        return list(out.values())


@dataclass
class _Account:
    balance_cents: int = 100_000
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, dict[str, float]] = field(default_factory=dict)
    settlements: list[dict[str, Any]] = field(default_factory=list)


def _d(cents: float) -> str:
    return f"{cents / 100:.4f}"


def _fp(x: float) -> str:
    return f"{x:.2f}"


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


class FakeKalshi:
    """The server. ``with FakeKalshi(data, public_key=..., key_id=...) as k: k.base_url``."""

    def __init__(self, data: RecordedKalshi, *, key_id: str = "", public_key: rsa.RSAPublicKey | None = None,
                 max_skew_s: float = 5.0, page_limit_max: int = 1000) -> None:
        self.data = data
        self.key_id = key_id
        self.public_key = public_key
        self.max_skew_s = max_skew_s
        self.page_limit_max = page_limit_max
        self.fail_next: list[int] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.orders_created = 0
        self.closed_tickers: set[str] = set()
        self.reject_next_order: tuple[str, str] | None = None
        self.drop_first_order_reply = False
        self.history_page_limit = 100
        self.account = _Account()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def __enter__(self) -> FakeKalshi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-kalshi", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- plumbing ---------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length)) if length else None
        with self._lock:
            self.requests.append((method, parts.path, query))
            status, payload = self._route(h, method, parts.path, query, body)
        data = json.dumps(payload).encode()
        if status == -1:  # booked, but the answer is lost (the connection drops)
            h.close_connection = True
            h.wfile.flush()
            h.connection.close()
            return
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _route(self, h: BaseHTTPRequestHandler, method: str, path: str, q: dict[str, str],
               body: Any) -> tuple[int, Any]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": {"code": "too_many_requests" if status == 429 else "internal",
                                      "message": "injected by the test"}}
        if not path.startswith(PREFIX):
            return 404, {"error": {"code": "not_found", "message": path}}
        p = path[len(PREFIX):]
        needs_auth = p.startswith("/portfolio") or (p.endswith("/orderbook") and "KALSHI-ACCESS-KEY" in h.headers)
        if needs_auth:
            problem = self._verify(h, method, path)
            if problem is not None:
                return 401, {"error": problem}
        return self._dispatch(method, p, q, body)

    def _verify(self, h: BaseHTTPRequestHandler, method: str, path: str) -> dict[str, str] | None:
        key, ts, sig = (h.headers.get(f"KALSHI-ACCESS-{n}") for n in ("KEY", "TIMESTAMP", "SIGNATURE"))
        if not key or not ts or not sig:
            return {"code": "authentication_error", "message": "missing KALSHI-ACCESS headers"}
        if key != self.key_id or self.public_key is None:
            return {"code": "authentication_error", "message": "unknown API key"}
        if abs(int(ts) / 1000.0 - time.time()) > self.max_skew_s:
            return {"code": "invalid_timestamp", "message": "request timestamp outside the allowed window"}
        try:
            self.public_key.verify(base64.b64decode(sig), f"{ts}{method}{path}".encode(),
                                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                                   hashes.SHA256())
        except (InvalidSignature, ValueError):
            return {"code": "authentication_error", "message": "invalid signature"}
        return None

    def _page(self, items: list[Any], q: dict[str, str], default: int) -> tuple[list[Any], str]:
        limit = min(int(q.get("limit") or default), self.page_limit_max)
        start = int(q.get("cursor") or 0)
        end = start + limit
        return items[start:end], (str(end) if end < len(items) else "")

    # ---- endpoints --------------------------------------------------------------------------------
    def _dispatch(self, method: str, p: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = p.strip("/").split("/")
        if method == "GET" and p == "/series":
            rows = [s for s in self.data.series() if not q.get("category") or s["category"] == q["category"]]
            return 200, {"series": rows}
        if method == "GET" and p == "/events":
            rows = [e for e in self.data.events if not q.get("series_ticker") or e["series_ticker"] == q["series_ticker"]]
            page, cursor = self._page(rows, q, 200)
            return 200, {"events": page, "cursor": cursor}
        if method == "GET" and p == "/markets":
            return self._markets(q)
        if method == "GET" and p == "/markets/trades":
            return 200, {"trades": [], "cursor": ""}
        if method == "GET" and parts[0] == "markets" and len(parts) == 2:
            m = self._market(parts[1])
            return (200, {"market": m}) if m else (404, {"error": {"code": "not_found", "message": "market not found"}})
        if method == "GET" and parts[0] == "markets" and parts[2:] == ["orderbook"]:
            book = self.data.orderbooks.get(parts[1])
            if book is None:
                return 404, {"error": {"code": "not_found", "message": "market not found"}}
            return 200, {"orderbook": {"yes": book.get("yes"), "no": book.get("no")}}
        if method == "GET" and parts[0] == "series" and parts[2:3] == ["markets"] and parts[4:] == ["candlesticks"]:
            return self._candles(parts[3], q)
        if p.startswith("/portfolio"):
            return self._portfolio(method, parts[1:], q, body)
        return 404, {"error": {"code": "not_found", "message": p}}

    def _market(self, ticker: str) -> dict[str, Any] | None:
        m = next((m for m in self.data.markets if m["ticker"] == ticker), None)
        if m is not None and ticker in self.closed_tickers:
            m = {**m, "status": "closed"}
        return m

    def _markets(self, q: dict[str, str]) -> tuple[int, Any]:
        rows = self.data.markets
        if q.get("event_ticker"):
            rows = [m for m in rows if m["event_ticker"] == q["event_ticker"]]
        if q.get("series_ticker"):
            rows = [m for m in rows if m["event_ticker"].split("-")[0] == q["series_ticker"]]
        if q.get("status"):
            want = {"open": {"active", "open"}}.get(q["status"], {q["status"]})
            rows = [m for m in rows if m["status"] in want]
        page, cursor = self._page(rows, q, 100)
        return 200, {"markets": page, "cursor": cursor}

    def _candles(self, ticker: str, q: dict[str, str]) -> tuple[int, Any]:
        m = self._market(ticker)
        if m is None:
            return 404, {"error": {"code": "not_found", "message": "market not found"}}
        end = int(q["end_ts"])
        candles = []
        for ts, price in ((end - 86_400, m.get("previous_price")), (end, m.get("last_price"))):
            px = None if price is None else {k: _d(price) for k in ("open_dollars", "high_dollars", "low_dollars",
                                                                    "close_dollars")}
            candles.append({"end_period_ts": ts, "price": px or {}, "yes_bid": {}, "yes_ask": {},
                            "volume_fp": _fp(0), "open_interest_fp": _fp(m.get("open_interest") or 0)})
        return 200, {"ticker": ticker, "candlesticks": candles}

    # ---- portfolio --------------------------------------------------------------------------------
    def _portfolio(self, method: str, parts: list[str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        acct = self.account
        if method == "GET" and parts == ["balance"]:
            value = sum(abs(p["position"]) * 50 for p in acct.positions.values())
            return 200, {"balance": acct.balance_cents, "portfolio_value": int(value), "updated_ts": int(time.time())}
        if method == "GET" and parts == ["positions"]:
            rows = [{"ticker": t, "total_traded_dollars": _d(p["traded_cents"]), "position_fp": _fp(p["position"]),
                     "market_exposure_dollars": _d(p["exposure_cents"]), "realized_pnl_dollars": _d(0),
                     "resting_orders_count": 0, "fees_paid_dollars": _d(p["fees_cents"]),
                     "last_updated_ts": "2024-07-13T12:00:00Z"} for t, p in acct.positions.items()]
            return 200, {"market_positions": rows, "event_positions": [], "cursor": ""}
        if method == "GET" and parts == ["fills"]:
            rows = [f for f in reversed(acct.fills) if int(f.get("ts") or 0) >= int(q.get("min_ts") or 0)]
            page, cursor = self._page(rows, {**q, "limit": str(min(int(q.get("limit") or 100), self.history_page_limit))},
                                      100)
            return 200, {"fills": page, "cursor": cursor}
        if method == "GET" and parts == ["settlements"]:
            since = int(q.get("min_ts") or 0)
            rows = [st for st in reversed(acct.settlements) if _epoch(st["settled_time"]) >= since]
            page, cursor = self._page(rows, {**q, "limit": str(min(int(q.get("limit") or 100), self.history_page_limit))},
                                      100)
            return 200, {"settlements": page, "cursor": cursor}
        if method == "GET" and parts == ["orders"]:
            rows = [o for o in acct.orders.values() if (not q.get("status") or o["status"] == q["status"])
                    and (not q.get("ticker") or o["ticker"] == q["ticker"])]
            page, cursor = self._page(rows, q, 100)
            return 200, {"orders": page, "cursor": cursor}
        if method == "POST" and parts == ["orders"]:
            return self._create(body)
        if method == "DELETE" and len(parts) == 2 and parts[0] == "orders":
            o = acct.orders.get(parts[1])
            if o is None:
                return 404, {"error": {"code": "not_found", "message": "order not found"}}
            reduced = o["remaining_count_fp"]
            o.update(status="canceled", remaining_count_fp=_fp(0))
            if o["action"] == "buy":
                acct.balance_cents += int(round(float(reduced) * float(o[f"{o['side']}_price_dollars"]) * 100))
            return 200, {"order": o, "reduced_by_fp": reduced}
        return 404, {"error": {"code": "not_found", "message": "/".join(parts)}}

    # ---- trade history (tests) ----------------------------------------------------------------------
    def add_fill(self, ticker: str, side: str, action: str, count: int, price_cents: int, fee_cents: int,
                 when: str) -> dict[str, Any]:
        """Book a past fill of ours on the recorded market ``ticker`` at ``price_cents`` of ``side``
        (ISO time ``when``); returns the spec ``Fill`` served."""
        if self._market(ticker) is None:
            raise KeyError(f"{ticker} is not a recorded market")
        yes = price_cents if side == "yes" else 100 - price_cents
        fid = uuid.uuid4().hex
        row = {"fill_id": fid, "trade_id": fid, "order_id": uuid.uuid4().hex, "ticker": ticker,
               "market_ticker": ticker, "side": side, "action": action, "count_fp": _fp(count),
               "yes_price_dollars": _d(yes), "no_price_dollars": _d(100 - yes), "is_taker": True,
               "fee_cost": _d(fee_cents), "created_time": when, "ts": _epoch(when)}
        with self._lock:
            self.account.fills.append(row)
        return row

    def settle(self, ticker: str, fee_cents: int = 0) -> dict[str, Any]:
        """Settle the recorded finalized market ``ticker`` (its recorded ``result`` at its recorded
        ``close_time``) on what the account's fills hold; returns the spec ``Settlement`` served."""
        m = self._market(ticker)
        if m is None or m.get("result") not in ("yes", "no"):
            raise KeyError(f"{ticker} is not a recorded settled market")
        held = {"yes": [0.0, 0.0], "no": [0.0, 0.0]}  # count, cost in cents
        for f in self.account.fills:
            if f["ticker"] != ticker:
                continue
            count, side = float(f["count_fp"]), f["side"]
            price = round(float(f[f"{side}_price_dollars"]) * 100)
            sign = 1 if f["action"] == "buy" else -1
            held[side][0] += sign * count
            held[side][1] += sign * count * price
        result = m["result"]
        row = {"ticker": ticker, "event_ticker": m["event_ticker"], "market_result": result,
               "yes_count_fp": _fp(held["yes"][0]), "yes_total_cost_dollars": _d(held["yes"][1]),
               "no_count_fp": _fp(held["no"][0]), "no_total_cost_dollars": _d(held["no"][1]),
               "revenue": int(round(held[result][0] * 100)), "settled_time": m["close_time"],
               "fee_cost": _d(fee_cents), "value": 100 if result == "yes" else 0}
        with self._lock:
            self.account.settlements.append(row)
        return row

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        acct = self.account
        cid = body.get("client_order_id") or ""
        if cid and any(o["client_order_id"] == cid for o in acct.orders.values()):
            return 409, {"error": {"code": "order_already_exists", "message": "client_order_id already used"}}
        if self.reject_next_order is not None:
            code, message = self.reject_next_order
            self.reject_next_order = None
            return 400, {"error": {"code": code, "message": message}}
        ticker, side, count = body["ticker"], body["side"], int(body["count"])
        m = self._market(ticker)
        if m is None:
            return 404, {"error": {"code": "not_found", "message": "market not found"}}
        if m["status"] not in ("active", "open"):
            return 400, {"error": {"code": "market_closed", "message": "market is closed"}}
        price = int(body["yes_price"] if side == "yes" else body["no_price"])
        if body["action"] == "buy" and price * count > acct.balance_cents:
            return 400, {"error": {"code": "insufficient_balance", "message": "insufficient balance"}}
        ask = m.get(f"{side}_ask")  # the recorded ask of the side bought (1..99 cents, else none)
        best_ask = ask if isinstance(ask, int) and 1 <= ask <= 99 else None
        fills_now = body["action"] == "buy" and best_ask is not None and price >= best_ask
        order_id = uuid.uuid4().hex
        fee = math.ceil(700 * count * best_ask * (100 - best_ask) / 1_000_000) if fills_now and best_ask else 0
        fill_price = best_ask if fills_now and best_ask else price
        o = {"order_id": order_id, "user_id": "test-user", "client_order_id": cid, "ticker": ticker, "side": side,
             "action": body["action"], "type": "limit", "status": "executed" if fills_now else "resting",
             "yes_price_dollars": _d(price if side == "yes" else 100 - price),
             "no_price_dollars": _d(price if side == "no" else 100 - price),
             "fill_count_fp": _fp(count if fills_now else 0), "remaining_count_fp": _fp(0 if fills_now else count),
             "initial_count_fp": _fp(count), "taker_fees_dollars": _d(fee), "maker_fees_dollars": _d(0),
             "taker_fill_cost_dollars": _d(fill_price * count if fills_now else 0), "maker_fill_cost_dollars": _d(0),
             "created_time": "2024-07-13T12:00:00Z"}
        acct.orders[order_id] = o
        self.orders_created += 1
        if body["action"] == "buy":
            acct.balance_cents -= (fill_price if fills_now else price) * count + fee
        if fills_now:
            pos = acct.positions.setdefault(ticker, {"position": 0.0, "exposure_cents": 0.0, "traded_cents": 0.0,
                                                     "fees_cents": 0.0})
            pos["position"] += count if side == "yes" else -count
            pos["exposure_cents"] += fill_price * count
            pos["traded_cents"] += fill_price * count
            pos["fees_cents"] += fee
            acct.fills.append({"fill_id": uuid.uuid4().hex, "trade_id": uuid.uuid4().hex, "order_id": order_id,
                               "ticker": ticker, "market_ticker": ticker, "side": side, "action": "buy",
                               "count_fp": _fp(count), "yes_price_dollars": _d(fill_price if side == "yes" else 100 - fill_price),
                               "no_price_dollars": _d(fill_price if side == "no" else 100 - fill_price),
                               "is_taker": True, "fee_cost": _d(fee), "created_time": "2024-07-13T12:00:00Z",
                               "ts": int(time.time())})
        if self.drop_first_order_reply:
            self.drop_first_order_reply = False
            return -1, {}
        return 201, {"order": o}
