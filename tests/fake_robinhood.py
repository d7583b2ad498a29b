"""A local stand-in for api.robinhood.com: a real HTTP server on 127.0.0.1, reached through robin_stocks'
own ``requests`` session (``robin_stocks.robinhood.globals.SESSION``) by a transport adapter that
rewrites ``https://api.robinhood.com/`` to it. Every other https host is blocked (no network in tests).

Where each response shape comes from (field names as the library reads or documents them):

- ``POST /oauth2/token/``: request payload and the success keys ``access_token``/``token_type``/
  ``refresh_token`` from robin_stocks 3.4 ``authentication.login``; a challenge answers with
  ``{"verification_workflow": {"id": ...}}`` (same function). Wrong password: HTTP 400
  ``{"detail": "Unable to log in with provided credentials."}`` (robin_stocks issue #524, which raised
  that detail, and JestonBlu/RobinHood issue #157). Wrong TOTP: ``{"detail": "Please enter a valid code."}``
  (robin_stocks issue #156).
- ``pathfinder/user_machine/`` → ``{"id"}``; ``pathfinder/inquiries/<id>/user_view/`` GET →
  ``context.sheriff_challenge {id, type, status}``, POST → ``type_context.result ==
  "workflow_status_approved"``; ``challenge/<id>/respond/`` → ``{"status": "validated"}``;
  ``push/<id>/get_prompts_status/`` → ``{"challenge_status"}``: robin_stocks 3.4
  ``authentication._validate_sherrif_id`` (and PR #526 for the ``type_context.context`` variant).
- Accounts, portfolios, positions, instruments, quotes: the ``:Dictionary Keys:`` lists in the
  docstrings of ``profiles.load_account_profile``, ``profiles.load_portfolio_profile``,
  ``account.get_open_stock_positions``, ``stocks.get_instrument_by_url``, ``stocks.get_quotes``
  (numbers as strings, as Robinhood sends them).
- Option positions (``chain_symbol, average_price, quantity, type, option, option_id``), option
  instruments (``id, url, chain_symbol, expiration_date, strike_price, type, trade_value_multiplier``),
  option market data (bid/ask/last, volume, open_interest, implied_volatility and the Greeks —
  ``options.get_option_market_data_by_id``: "including the greeks, open interest ... adjusted mark
  price"), chains (``expiration_dates``, ``options.get_chains`` / ``helper.id_for_chain``), option
  orders (the payload of ``orders.order_sell_option_limit`` incl. ``ref_id``; the reply's ``id``,
  ``state`` "queued/confirmed/filled/cancelled…", ``cancel_url`` as ``get_all_open_option_orders`` reads).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from robin_stocks.robinhood import globals as rh_globals

from magnus_desktop.services.brokers.robinhood import RobinhoodTOTP, _TimeoutAdapter

API = "https://api.robinhood.com/"
ACCOUNT_NUMBER = "5QR12345"
EXPIRY = "2030-01-18"


def _instrument(option_id: str, strike: str, kind: str) -> dict[str, Any]:
    return {
        "id": option_id, "url": f"{API}options/instruments/{option_id}/", "chain_symbol": "AAPL",
        "chain_id": "chain-aapl", "expiration_date": EXPIRY, "strike_price": strike, "type": kind,
        "state": "active", "tradability": "tradable", "trade_value_multiplier": "100.0000",
    }


def _market_data(option_id: str, bid: str, ask: str, delta: str) -> dict[str, Any]:
    return {
        "instrument": f"{API}options/instruments/{option_id}/", "bid_price": bid, "ask_price": ask,
        "last_trade_price": bid, "adjusted_mark_price": ask, "volume": 1520, "open_interest": 8231,
        "implied_volatility": "0.271300", "delta": delta, "gamma": "0.012100", "theta": "-0.041200",
        "vega": "0.188000", "rho": "0.050000", "updated_at": "2029-12-20T20:59:59.123456Z",
    }


@dataclass
class FakeRobinhood:
    """State of the fake API; tests change the fields to script a scenario."""

    username: str = "trader@example.com"
    password: str = "correct horse battery staple"
    totp_secret: str | None = "JBSWY3DPEHPK3PXP"
    challenge: str | None = None  # None, "sms" or "prompt"
    sms_code: str = "424242"
    app_approved: bool = False
    challenge_passed: bool = False
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    instruments: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "opt-p180": _instrument("opt-p180", "180.0000", "put"),
        "opt-p190": _instrument("opt-p190", "190.0000", "put"),
        "opt-c200": _instrument("opt-c200", "200.0000", "call"),
    })
    market: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "opt-p180": _market_data("opt-p180", "2.1500", "2.2500", "-0.221000"),
        "opt-p190": _market_data("opt-p190", "4.9000", "5.0500", "-0.382000"),
        "opt-c200": _market_data("opt-c200", "3.3000", "3.4500", "0.402000"),
    })

    def posted_orders(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if method == "POST" and path == "/options/orders/"]

    # ---------------------------------------------------------------- routing
    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        if path == "/oauth2/token/":
            return self._token(body)
        if path == "/pathfinder/user_machine/":
            return 200, {"id": "machine-1"}
        if path == "/pathfinder/inquiries/machine-1/user_view/":
            if method == "GET":
                status = "validated" if self.challenge_passed else "issued"
                kind = "prompt" if self.challenge == "prompt" else "sms"
                return 200, {"context": {"sheriff_challenge": {"id": "chal-1", "type": kind, "status": status}}}
            result = "workflow_status_approved" if self.challenge_passed else "workflow_status_internal_pending"
            return 200, {"type_context": {"result": result}}
        if path == "/challenge/chal-1/respond/":
            if body.get("response") == self.sms_code:
                self.challenge_passed = True
                return 200, {"id": "chal-1", "status": "validated"}
            return 400, {"detail": "Invalid code.", "challenge": {"remaining_attempts": 2}}
        if path == "/push/chal-1/get_prompts_status/":
            self.challenge_passed = self.app_approved
            return 200, {"challenge_status": "validated" if self.app_approved else "issued"}
        if path.startswith(("/accounts/", "/portfolios/", "/positions/", "/options/positions/")):
            return self._account(path)
        if path.startswith(("/instruments/", "/quotes/", "/marketdata/", "/options/instruments/", "/options/chains/")):
            return self._market(path, query)
        if path.startswith("/options/orders/"):
            return self._orders(method, path, body)
        return 404, {"detail": "Not found."}

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("username") != self.username or form.get("password") != self.password:
            return 400, {"detail": "Unable to log in with provided credentials."}
        if self.totp_secret and not RobinhoodTOTP(self.totp_secret).verify(form.get("mfa_code", ""), valid_window=1):
            return 400, {"detail": "Please enter a valid code."}
        if self.challenge and not self.challenge_passed:
            return 403, {"verification_workflow": {"id": "workflow-1", "workflow_status": "workflow_status_internal_pending"}}
        return 200, {"access_token": "at-" + uuid.uuid4().hex, "token_type": "Bearer", "expires_in": 86400,
                     "refresh_token": "rt-" + uuid.uuid4().hex, "scope": "internal", "backup_code": None}

    def _authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("Authorization", "").startswith("Bearer at-")

    def _account(self, path: str) -> tuple[int, Any]:
        account = {
            "url": f"{API}accounts/{ACCOUNT_NUMBER}/", "account_number": ACCOUNT_NUMBER, "type": "margin",
            "buying_power": "2500.5000", "cash": "3100.2500", "portfolio_cash": "3100.2500",
            "cash_held_for_orders": "0.0000", "option_level": "option_level_2",
        }
        if path == "/accounts/":
            return 200, {"next": None, "previous": None, "results": [account]}
        if path.startswith(f"/accounts/{ACCOUNT_NUMBER}"):
            return 200, account
        if path.startswith(f"/portfolios/{ACCOUNT_NUMBER}"):
            return 200, {"account": account["url"], "equity": "12345.6700", "market_value": "9245.4200",
                         "extended_hours_equity": "12350.0100", "withdrawable_amount": "3100.2500"}
        if path == "/positions/":
            return 200, {"next": None, "previous": None, "results": [{
                "url": f"{API}positions/{ACCOUNT_NUMBER}/aapl-id/", "instrument": f"{API}instruments/aapl-id/",
                "account": account["url"], "account_number": ACCOUNT_NUMBER, "average_buy_price": "150.2500",
                "quantity": "10.00000000", "updated_at": "2029-12-20T15:00:00Z"}]}
        if path == "/options/positions/":
            return 200, {"next": None, "previous": None, "results": [{
                "account": account["url"], "chain_symbol": "AAPL", "average_price": "-125.0000",
                "quantity": "2.0000", "type": "short", "option": f"{API}options/instruments/opt-p180/",
                "option_id": "opt-p180", "trade_value_multiplier": "100.0000"}]}
        return 404, {"detail": "Not found."}

    def _market(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/instruments/aapl-id/":
            return 200, {"id": "aapl-id", "url": f"{API}instruments/aapl-id/", "symbol": "AAPL",
                         "tradable_chain_id": "chain-aapl", "state": "active", "tradeable": True}
        if path == "/instruments/":
            found = query.get("symbol") == "AAPL"
            return 200, {"next": None, "results": [{"id": "aapl-id", "symbol": "AAPL",
                                                   "tradable_chain_id": "chain-aapl"}] if found else []}
        if path == "/quotes/":
            symbols = query.get("symbols", "").split(",")
            return 200, {"results": [self._stock_quote() if s == "AAPL" else None for s in symbols]}
        if path == "/options/chains/chain-aapl/":
            return 200, {"id": "chain-aapl", "symbol": "AAPL", "expiration_dates": [EXPIRY, "2030-02-15"],
                         "trade_value_multiplier": "100.0000", "can_open_position": True}
        if path == "/options/instruments/":
            rows = [i for i in self.instruments.values()
                    if query.get("chain_id") == i["chain_id"]
                    and query.get("expiration_dates", EXPIRY) == i["expiration_date"]
                    and ("strike_price" not in query or float(query["strike_price"]) == float(i["strike_price"]))
                    and ("type" not in query or query["type"] == i["type"])]
            return 200, {"next": None, "previous": None, "results": rows}
        if path.startswith("/options/instruments/"):
            option_id = path.split("/")[3]
            return (200, self.instruments[option_id]) if option_id in self.instruments else (404, {"detail": "Not found."})
        if path == "/marketdata/options/":
            option_id = query.get("instruments", "").rstrip("/").split("/")[-1]
            return 200, {"results": [self.market.get(option_id)]}
        return 404, {"detail": "Not found."}

    @staticmethod
    def _stock_quote() -> dict[str, Any]:
        return {"ask_price": "195.1200", "ask_size": 100, "bid_price": "195.0800", "bid_size": 300,
                "last_trade_price": "195.1000", "last_extended_hours_trade_price": None,
                "previous_close": "193.5500", "adjusted_previous_close": "193.5500",
                "previous_close_date": "2029-12-19", "symbol": "AAPL", "trading_halted": False,
                "has_traded": True, "last_trade_price_source": "nls", "updated_at": "2029-12-20T20:59:59Z",
                "instrument": f"{API}instruments/aapl-id/"}

    def _orders(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/options/orders/" and method == "GET":
            return 200, {"next": None, "previous": None, "results": list(self.orders.values())}
        if path == "/options/orders/" and method == "POST":
            if body.get("quantity", 0) > 50:
                return 400, {"detail": "You do not have enough buying power to place this order."}
            order_id = f"order-{len(self.orders) + 1}"
            self.orders[order_id] = {
                "id": order_id, "ref_id": body["ref_id"], "state": "queued", "direction": body["direction"],
                "quantity": f"{body['quantity']:.5f}", "processed_quantity": "0.00000",
                "pending_quantity": f"{body['quantity']:.5f}", "price": f"{body['price']:.8f}",
                "type": "limit", "legs": [dict(leg, executions=[]) for leg in body["legs"]],
                "cancel_url": f"{API}options/orders/{order_id}/cancel/",
                "created_at": "2029-12-20T15:00:00Z", "updated_at": "2029-12-20T15:00:00Z",
            }
            return 201, self.orders[order_id]
        parts = path.strip("/").split("/")
        order = self.orders.get(parts[2]) if len(parts) > 2 else None
        if order is None:
            return 404, {"detail": "Not found."}
        if len(parts) == 4 and parts[3] == "cancel" and method == "POST":
            order.update(state="cancelled", cancel_url=None, pending_quantity="0.00000")
            return 200, {}
        return 200, order

    def fill(self, order_id: str, price: str) -> None:
        """Script a full fill of an order (as Robinhood reports it on the next GET)."""
        order = self.orders[order_id]
        qty = order["quantity"]
        order.update(state="filled", processed_quantity=qty, pending_quantity="0.00000", cancel_url=None,
                     updated_at="2029-12-20T15:01:00Z")
        order["legs"][0]["executions"] = [{"id": f"exec-{order_id}", "price": price, "quantity": qty,
                                           "settlement_date": "2029-12-21", "timestamp": "2029-12-20T15:01:00Z"}]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeRobinhood

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if "json" in (self.headers.get("Content-Type") or ""):
            body: Any = json.loads(raw) if raw else {}
        else:
            body = {k: v[-1] for k, v in parse_qs(raw).items()}
        public = parts.path.startswith(("/oauth2/", "/pathfinder/", "/challenge/", "/push/", "/quotes/",
                                        "/instruments/", "/options/chains/"))
        if not public and not self.fake._authorized(dict(self.headers)):
            status, reply = 401, {"detail": "Authentication credentials were not provided."}
        else:
            status, reply = self.fake.handle(method, parts.path, query, body)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None


class _RedirectAdapter(HTTPAdapter):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        request.url = self.base + request.url[len(API):]
        response = super().send(request, **kwargs)
        return response


class _NoNetworkAdapter(_TimeoutAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise requests.ConnectionError(f"network disabled in tests: {request.url}")


@contextmanager
def serve_fake_robinhood(fake: FakeRobinhood) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 and route robin_stocks' session to it; restore the session after."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="fake-robinhood", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    session = rh_globals.SESSION
    saved_adapters = dict(session.adapters)
    saved_headers = dict(session.headers)
    session.mount("https://", _NoNetworkAdapter(5.0))
    session.mount(API, _RedirectAdapter(base))
    try:
        yield base
    finally:
        session.adapters.clear()
        session.adapters.update(saved_adapters)
        session.headers.clear()
        session.headers.update(saved_headers)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_rh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRobinhood]:
    """A fake Robinhood served locally; HOME is a temp folder (so token files would show up there)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    robin = FakeRobinhood()
    with serve_fake_robinhood(robin):
        yield robin
