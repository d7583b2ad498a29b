"""Robinhood through robin_stocks: the only module that imports it.

What we take from robin_stocks: its authenticated ``requests`` session (``SESSION``), its URL helpers,
its device-token generator and its login payload. What we do ourselves, and why:

- **Login.** ``robin_stocks.login`` reads challenge codes with ``input()``, sleeps 5 s per poll,
  loops forever on an app-approval prompt, always returns None when ``store_session=False`` and
  creates ``~/.tokens`` even then. :meth:`RobinhoodSession.connect` runs the same OAuth exchange
  with the same payload, asks :data:`ChallengeHandler` (the UI) for SMS/e-mail codes, gives up after
  ``challenge_timeout_s``, and never writes tokens anywhere (they live in memory only).
- **Requests.** robin_stocks' ``request_get`` turns HTTP errors into ``None``/``[]`` (a failed
  positions request would read as "no positions"); we call ``SESSION`` with ``raise_for_status`` and
  a timeout so a failure is an error.

All robin_stocks/requests work runs on the session's own one-thread executor, never on the loop.
robin_stocks keeps one global session, so only one :class:`RobinhoodSession` can be connected at a time.

Credentials come from :class:`CredentialStore` under ``magnus-desktop/robinhood/<account>``:
``username``, ``password`` and (optional) ``totp_secret`` (base32, as Robinhood shows it when you
choose "authenticator app"); the one-time code is made with pyotp.

Events (psygnal): ``order_status`` [OrderEvent], ``positions_changed`` [list[BrokerPosition]],
``account_changed`` [AccountValues], ``execution`` [Execution], ``state_changed`` [SessionState, str],
``error`` [BrokerError].
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pandas as pd
import pyotp
import requests
from psygnal import Signal
from requests.adapters import HTTPAdapter
from robin_stocks.robinhood import authentication as rh_auth
from robin_stocks.robinhood import globals as rh_globals
from robin_stocks.robinhood import helper as rh_helper
from robin_stocks.robinhood import urls as rh_urls

from magnus_desktop.models.domain import CHAIN_COLUMNS, NAN, OptionContract, OrderTicket
from magnus_desktop.models.market import (
    AccountValues,
    BrokerPosition,
    Execution,
    OptionQuote,
    OrderEvent,
    OrderState,
    PriceQuote,
    SessionState,
    StockContract,
)
from magnus_desktop.services.brokers.protocols import (
    AuthenticationFailed,
    BrokerError,
    NotConnected,
    OrderRejectedByBroker,
)
from magnus_desktop.services.credentials import CredentialsError, CredentialStore, service_key
from magnus_desktop.services.market.protocols import NoData, SourceOffline, UnknownSymbol

log = logging.getLogger(__name__)

ChallengeKind = Literal["sms", "email", "app", "mfa"]
#: Asks the user for a verification code (``"sms"``, ``"email"``, ``"mfa"``) or to approve the sign-in
#: in the Robinhood app (``"app"``: return any text once approved, or ``""`` to give up). ``""``/None
#: cancels the login.
ChallengeHandler = Callable[[ChallengeKind], Awaitable[str | None]]

API = "https://api.robinhood.com/"
#: Same OAuth client id and payload as robin_stocks 3.4 ``authentication.login``.
CLIENT_ID = "c82SH0WZOsabOXGP2sxqcj34FxkvfnWRZBKlBjFS"
_REF_NAMESPACE = uuid.UUID("6f1c0d9e-2b1f-4c8e-9a57-3f0e6b7d2c41")
_STATE_MAP: dict[str, OrderState] = {
    "queued": "submitted",
    "unconfirmed": "submitted",
    "confirmed": "submitted",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "rejected": "rejected",
    "failed": "rejected",
}


class _TimeoutAdapter(HTTPAdapter):
    """Gives every robin_stocks request a timeout (its ``request_get`` sets none)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        return super().send(request, **kwargs)


class _LogStream:
    """robin_stocks prints progress and errors to a stream: send them to our log at DEBUG instead."""

    def write(self, text: str) -> int:
        if text.strip():
            log.debug("robin_stocks: %s", text.strip())
        return len(text)

    def flush(self) -> None:
        return None


class RobinhoodTOTP(pyotp.TOTP):
    """pyotp >= 2.10 refuses secrets under 112 bits; Robinhood issues 16-character (80-bit) secrets."""

    min_secret_length_bits = 80


def order_ref_to_ref_id(order_ref: str) -> str:
    """Robinhood's idempotency key (a UUID) for our ``order_ref``: the same ref always maps to the same id."""
    return str(uuid.uuid5(_REF_NAMESPACE, order_ref))


def _num(value: Any) -> float:
    """Robinhood sends numbers as strings or null; missing → ``nan``."""
    try:
        return float(value) if value not in (None, "") else NAN
    except (TypeError, ValueError):
        return NAN


class RobinhoodSession:
    """One Robinhood account: login with challenges, positions, account, option orders, quotes, chains.

    Args:
        credentials: where username/password/TOTP secret live (``magnus-desktop/robinhood/<account>``).
        account: the account's name in Settings (the keyring account, not Robinhood's number).
        challenge_handler: awaited on the loop when Robinhood asks for a verification code.
        challenge_timeout_s: how long a challenge may stay unanswered before the login fails.
        username: the sign-in name from Settings → Accounts (an identifier, not a secret); None = read
            it from the keyring entry ``username`` like the password.
        poll_interval_s: seconds between polls of a pending challenge / app approval, and of open orders.
        request_timeout_s: per HTTP request.
    """

    source = "robinhood"
    order_status = Signal(object)
    positions_changed = Signal(object)
    account_changed = Signal(object)
    execution = Signal(object)
    state_changed = Signal(str, str)
    error = Signal(object)

    _active: RobinhoodSession | None = None

    def __init__(
        self,
        credentials: CredentialStore,
        account: str,
        challenge_handler: ChallengeHandler,
        *,
        challenge_timeout_s: float = 120.0,
        poll_interval_s: float = 5.0,
        request_timeout_s: float = 16.0,
        username: str | None = None,
    ) -> None:
        self.account = account
        self._username = username
        self.state: SessionState = "disconnected"
        self._credentials = credentials
        self._challenge_handler = challenge_handler
        self._challenge_timeout_s = challenge_timeout_s
        self._poll_interval_s = poll_interval_s
        self._request_timeout_s = request_timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"robinhood-{account}")
        self._secrets: tuple[str, ...] = ()
        self._account_url = ""
        self._account_number = ""
        self._placed: dict[str, dict[str, Any]] = {}  # order_ref -> last order JSON
        self._place_lock = asyncio.Lock()
        self._poll_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- session
    async def connect(self) -> None:
        """Log in (answering challenges through the handler) and load the account.

        Raises:
            AuthenticationFailed: wrong password/TOTP, challenge unanswered/rejected, credentials missing
                or the keyring locked/unavailable. Nothing is stored.
            NotConnected: Robinhood cannot be reached.
        """
        if RobinhoodSession._active is not None and RobinhoodSession._active is not self:
            raise BrokerError(
                f"Robinhood account {RobinhoodSession._active.account!r} is connected: disconnect it first "
                "(robin_stocks supports one session per process)"
            )
        self._set_state("connecting", "Signing in to Robinhood")
        try:
            username, password, totp_secret = await self._load_credentials()
            await self._login(username, password, totp_secret)
            await self._load_account()
        except BrokerError as exc:
            await self._run(self._forget_token)
            self._set_state("failed", str(exc))
            raise
        RobinhoodSession._active = self
        self._set_state("connected", f"Robinhood account {self._account_number_masked()} connected")
        self._poll_task = asyncio.create_task(self._poll_orders_forever(), name=f"robinhood-poll-{self.account}")

    async def aclose(self) -> None:
        """Log out locally (drop the token from memory), stop polling and the worker thread (idempotent)."""
        if self._poll_task is not None:
            self._poll_task.cancel()
            self._poll_task = None
        if RobinhoodSession._active is self:
            await self._run(self._forget_token)
            RobinhoodSession._active = None
        if self.state != "disconnected":
            self._set_state("disconnected", "Robinhood session closed")
        self._executor.shutdown(wait=False)

    async def _load_credentials(self) -> tuple[str, str, str | None]:
        key = service_key("robinhood", self.account)
        try:
            username = self._username or await self._credentials.get(key, "username")
            password = await self._credentials.get(key, "password")
            totp_secret = await self._credentials.get(key, "totp_secret")
        except CredentialsError as exc:
            raise AuthenticationFailed(f"Cannot read the Robinhood credentials: {exc}") from None
        if not username or not password:
            raise AuthenticationFailed(
                f"No Robinhood user name and password saved for account {self.account!r}: "
                "enter them in Settings → Accounts"
            )
        self._secrets = tuple(s for s in (password, totp_secret) if s)
        return username, password, totp_secret

    def _set_state(self, state: SessionState, reason: str) -> None:
        self.state = state
        self.state_changed.emit(state, reason)

    def _account_number_masked(self) -> str:
        return "…" + self._account_number[-4:] if self._account_number else self.account

    def _scrub(self, text: str) -> str:
        """Remove any credential that a server or library might echo back."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------------- login
    async def _login(self, username: str, password: str, totp_secret: str | None) -> None:
        device_token = rh_auth.generate_device_token()
        payload = {
            "client_id": CLIENT_ID,
            "expires_in": 86400,
            "grant_type": "password",
            "password": password,
            "scope": "internal",
            "username": username,
            "device_token": device_token,
            "try_passkeys": False,
            "token_request_path": "/login",
            "create_read_only_secondary_token": True,
        }
        if totp_secret:
            payload["mfa_code"] = self._totp_code(totp_secret)
        status, data = await self._run(self._post_token, payload)
        if "verification_workflow" in data:
            await self._verify_workflow(device_token, str(data["verification_workflow"].get("id", "")))
            if totp_secret:
                payload["mfa_code"] = self._totp_code(totp_secret)
            status, data = await self._run(self._post_token, payload)
        if data.get("mfa_required"):
            code = await self._ask("mfa")
            payload["mfa_code"] = code
            status, data = await self._run(self._post_token, payload)
        if "access_token" not in data:
            raise self._login_error(status, data, with_totp=bool(totp_secret))
        await self._run(self._install_token, f"{data.get('token_type', 'Bearer')} {data['access_token']}")

    @staticmethod
    def _totp_code(secret: str) -> str:
        try:
            return RobinhoodTOTP(secret.replace(" ", "").upper()).now()
        except (binascii.Error, ValueError):
            raise AuthenticationFailed(
                "The saved Robinhood TOTP secret is not valid base32: copy it again from Robinhood "
                "(Security → Two-factor authentication → Authenticator app → Can't scan it?)"
            ) from None

    def _login_error(self, status: int, data: dict[str, Any], *, with_totp: bool) -> BrokerError:
        detail = self._scrub(str(data.get("detail") or data.get("error_description") or data.get("error") or ""))
        if status in (400, 401, 403):
            if "code" in detail.lower() or "mfa" in detail.lower():
                hint = "check the TOTP secret saved for this account and the computer's clock" if with_totp else (
                    "enter the current code from your authenticator app"
                )
                return AuthenticationFailed(f"Robinhood rejected the one-time code ({detail}): {hint}", status)
            return AuthenticationFailed(
                f"Robinhood rejected the user name or password for account {self.account!r}"
                + (f" ({detail})" if detail else ""),
                status,
            )
        return NotConnected(f"Robinhood login failed with HTTP {status}" + (f": {detail}" if detail else ""), status)

    def _post_token(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Runs on the worker. Returns (HTTP status, JSON body)."""
        self._ensure_timeout_adapter()
        try:
            res = rh_globals.SESSION.post(rh_urls.login_url(), data=payload, timeout=self._request_timeout_s)
        except requests.RequestException as exc:
            raise NotConnected(f"Cannot reach Robinhood to sign in ({type(exc).__name__})") from None
        try:
            body = res.json()
        except ValueError:
            body = {}
        return res.status_code, body if isinstance(body, dict) else {}

    def _ensure_timeout_adapter(self) -> None:
        """Every https request of robin_stocks' session gets a timeout; its prints go to our log."""
        if not isinstance(rh_globals.SESSION.adapters.get("https://"), _TimeoutAdapter):
            rh_globals.SESSION.mount("https://", _TimeoutAdapter(self._request_timeout_s))
        if not isinstance(rh_helper.get_output(), _LogStream):
            rh_helper.set_output(_LogStream())

    @staticmethod
    def _install_token(authorization: str) -> None:
        rh_helper.update_session("Authorization", authorization)
        rh_helper.set_login_state(True)

    @staticmethod
    def _forget_token() -> None:
        rh_globals.SESSION.headers.pop("Authorization", None)
        rh_helper.set_login_state(False)

    async def _ask(self, kind: ChallengeKind, remaining: float | None = None) -> str:
        remaining = self._challenge_timeout_s if remaining is None else max(0.0, remaining)
        self._set_state("connecting", f"Robinhood asks for a {kind} verification")
        try:
            answer = await asyncio.wait_for(self._challenge_handler(kind), timeout=remaining)
        except TimeoutError:
            raise AuthenticationFailed(
                f"The Robinhood {kind} verification was not answered within {remaining:.0f} s; nothing was "
                "sent. Connect again to get a new code."
            ) from None
        if not answer or not answer.strip():
            raise AuthenticationFailed(f"The Robinhood {kind} verification was cancelled; you are not signed in")
        return answer.strip()

    async def _verify_workflow(self, device_token: str, workflow_id: str) -> None:
        """Robinhood's "sheriff" verification (same endpoints as robin_stocks 3.4 ``_validate_sherrif_id``)."""
        deadline = time.monotonic() + self._challenge_timeout_s
        machine = await self._json("POST", f"{API}pathfinder/user_machine/",
                                   json={"device_id": device_token, "flow": "suv", "input": {"workflow_id": workflow_id}})
        machine_id = machine.get("id")
        if not machine_id:
            raise AuthenticationFailed("Robinhood asked for a verification but sent no verification id")
        inquiry_url = f"{API}pathfinder/inquiries/{machine_id}/user_view/"
        while True:
            view = await self._json("GET", inquiry_url)
            context = view.get("context") or (view.get("type_context") or {}).get("context") or {}
            challenge = context.get("sheriff_challenge") or {}
            if challenge.get("status") == "validated":
                break
            kind, challenge_id = challenge.get("type"), challenge.get("id")
            if kind in ("sms", "email") and challenge.get("status") == "issued":
                code = await self._ask(kind, deadline - time.monotonic())
                try:
                    reply = await self._json("POST", f"{API}challenge/{challenge_id}/respond/", data={"response": code})
                except NotConnected:
                    raise
                except BrokerError:
                    reply = {}
                if reply.get("status") != "validated":
                    raise AuthenticationFailed(f"Robinhood rejected the {kind} verification code; connect again")
                break
            if kind == "prompt":
                await self._await_app_approval(str(challenge_id), deadline)
                break
            if time.monotonic() >= deadline:
                raise AuthenticationFailed(
                    f"Robinhood's verification did not start within {self._challenge_timeout_s:.0f} s; connect again"
                )
            await asyncio.sleep(self._poll_interval_s)
        while time.monotonic() < deadline:
            result = await self._json("POST", inquiry_url, json={"sequence": 0, "user_input": {"status": "continue"}})
            if (result.get("type_context") or {}).get("result") == "workflow_status_approved":
                return
            await asyncio.sleep(self._poll_interval_s)
        raise AuthenticationFailed("Robinhood did not approve the sign-in in time; connect again")

    async def _await_app_approval(self, challenge_id: str, deadline: float) -> None:
        """Poll the push prompt while the handler tells the user to approve in the Robinhood app."""
        asking = asyncio.create_task(self._ask("app", deadline - time.monotonic()))
        try:
            while time.monotonic() < deadline:
                status = await self._json("GET", f"{API}push/{challenge_id}/get_prompts_status/")
                if status.get("challenge_status") == "validated":
                    return
                if asking.done():
                    asking.result()  # raises AuthenticationFailed when the user cancelled
                await asyncio.sleep(self._poll_interval_s)
        finally:
            asking.cancel()
        raise AuthenticationFailed(
            f"The sign-in was not approved in the Robinhood app within {self._challenge_timeout_s:.0f} s; connect again"
        )

    # ---------------------------------------------------------------- requests
    async def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return await self._run(self._request, method, url, kwargs)

    def _request(self, method: str, url: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Runs on the worker: one HTTP call, errors raised (never turned into empty data)."""
        self._ensure_timeout_adapter()
        try:
            if "json" in kwargs:  # robin_stocks' session defaults to a form Content-Type, which would win
                kwargs = {**kwargs, "headers": {"Content-Type": "application/json"}}
            res = rh_globals.SESSION.request(method, url, timeout=self._request_timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise NotConnected(f"Cannot reach Robinhood ({type(exc).__name__})") from None
        if res.status_code == 401:
            raise NotConnected("Robinhood ended the session (HTTP 401): connect again", 401)
        if res.status_code >= 400:
            try:
                detail = res.json().get("detail", "") if isinstance(res.json(), dict) else ""
            except ValueError:
                detail = ""
            raise BrokerError(f"Robinhood answered HTTP {res.status_code}" + (f": {detail}" if detail else ""),
                              res.status_code)
        try:
            body = res.json()
        except ValueError:
            raise BrokerError(f"Robinhood sent a non-JSON answer for {url.split('?')[0]}") from None
        if not isinstance(body, dict):
            raise BrokerError(f"Robinhood sent an unexpected answer for {url.split('?')[0]}")
        return body

    def _results(self, url: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs on the worker: all pages of a paginated ``results`` list."""
        page = self._request("GET", url, {"params": params} if params else {})
        rows = [r for r in page.get("results", []) if r is not None]
        while page.get("next"):
            page = self._request("GET", page["next"], {})
            rows.extend(r for r in page.get("results", []) if r is not None)
        return rows

    def _require_connected(self) -> None:
        if self.state != "connected":
            raise NotConnected(f"Robinhood account {self.account!r} is not connected; nothing was sent")

    # ----------------------------------------------------------------- account
    async def _load_account(self) -> None:
        accounts = await self._run(self._results, rh_urls.account_profile_url())
        if not accounts:
            raise BrokerError("Robinhood signed in but reported no brokerage account")
        self._account_url = str(accounts[0].get("url", ""))
        self._account_number = str(accounts[0].get("account_number", ""))

    async def account_values(self) -> AccountValues:
        """Cash, buying power and equity (net liquidation) in USD; Robinhood reports no maintenance margin (nan)."""
        self._require_connected()
        account = await self._json("GET", rh_urls.account_profile_url(self._account_number))
        portfolio = await self._json("GET", rh_urls.portfolio_profile_url(self._account_number))
        values = AccountValues(
            account=self._account_number,
            net_liquidation=_num(portfolio.get("equity")),
            cash=_num(account.get("portfolio_cash", account.get("cash"))),
            buying_power=_num(account.get("buying_power")),
            maint_margin=NAN,
            currency="USD",
            source="robinhood",
            as_of=datetime.now(UTC),
        )
        self.account_changed.emit(values)
        return values

    async def positions(self) -> list[BrokerPosition]:
        """Stock and option positions as Robinhood reports them (avg_cost USD per share)."""
        self._require_connected()
        positions = await self._run(self._positions)
        self.positions_changed.emit(positions)
        return positions

    def _positions(self) -> list[BrokerPosition]:
        now = datetime.now(UTC)
        out: list[BrokerPosition] = []
        for row in self._results(rh_urls.positions_url(), {"nonzero": "true"}):
            symbol = row.get("symbol") or self._request("GET", row["instrument"], {}).get("symbol")
            out.append(BrokerPosition(self._account_number, StockContract(str(symbol)), _num(row.get("quantity")),
                                      _num(row.get("average_buy_price")), "robinhood", now))
        for row in self._results(rh_urls.option_positions_url(None), {"nonzero": "True"}):
            instrument = self._request("GET", row["option"], {})
            contract = self._contract_from_instrument(instrument)
            qty = _num(row.get("quantity")) * (-1.0 if row.get("type") == "short" else 1.0)
            # average_price is per contract (x multiplier), negative for a credit: USD per share here.
            avg_cost = abs(_num(row.get("average_price"))) / contract.multiplier
            out.append(BrokerPosition(self._account_number, contract, qty, avg_cost, "robinhood", now))
        return out

    @staticmethod
    def _contract_from_instrument(instrument: dict[str, Any]) -> OptionContract:
        multiplier = _num(instrument.get("trade_value_multiplier"))
        return OptionContract(
            underlying=str(instrument["chain_symbol"]),
            expiry=date.fromisoformat(str(instrument["expiration_date"])),
            strike=float(instrument["strike_price"]),
            right="C" if instrument.get("type") == "call" else "P",
            multiplier=int(multiplier) if math.isfinite(multiplier) else 100,
        )

    async def executions(self) -> list[Execution]:
        """Fills of option orders updated in the last 7 days (qty signed, price USD per share)."""
        self._require_connected()
        return await self._run(self._executions)

    def _executions(self) -> list[Execution]:
        since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%d")
        refs = {order_ref_to_ref_id(ref): ref for ref in self._placed}
        out: list[Execution] = []
        for order in self._results(rh_urls.option_orders_url(start_date=since)):
            for leg in order.get("legs", []):
                executions = leg.get("executions") or []
                if not executions:
                    continue
                contract = self._contract_from_instrument(self._request("GET", leg["option"], {}))
                sign = -1.0 if leg.get("side") == "sell" else 1.0
                for fill in executions:
                    out.append(Execution(
                        exec_id=str(fill.get("id", "")),
                        order_ref=refs.get(str(order.get("ref_id")), str(order.get("ref_id", ""))),
                        account=self._account_number, contract=contract,
                        qty=sign * _num(fill.get("quantity")), price=_num(fill.get("price")),
                        commission=_num(order.get("regulatory_fees", NAN)),
                        at=_parse_time(fill.get("timestamp")), source="robinhood",
                    ))
        return out

    # ------------------------------------------------------------------ orders
    async def place(self, ticket: OrderTicket) -> str:
        """Send a limit order for ``ticket``'s option; returns ``ticket.order_ref``.

        A ref already sent (by this session, or found among Robinhood's recent orders by its
        ``ref_id``) is never sent again. ``limit_price`` nan = the quoted bid (sell) / ask (buy).

        Raises:
            NotConnected: not signed in, or the network failed (the order may have reached Robinhood:
                placing the same ticket again is safe, it is looked up by its ref first).
            OrderRejectedByBroker: Robinhood refused it (the reason is the message).
            BrokerError: the option is not listed, or there is no quote for a nan limit price.
        """
        self._require_connected()
        if ticket.qty <= 0:
            raise BrokerError(f"Order quantity must be positive, got {ticket.qty}")
        async with self._place_lock:
            if ticket.order_ref in self._placed:
                log.info("order %s already sent; not sending again", ticket.order_ref)
                return ticket.order_ref
            existing = await self._run(self._find_order_by_ref, ticket.order_ref)
            if existing is not None:
                self._placed[ticket.order_ref] = existing
                log.info("order %s found at Robinhood (id %s); not sending again", ticket.order_ref, existing.get("id"))
                return ticket.order_ref
            order = await self._run(self._send_order, ticket)
            self._placed[ticket.order_ref] = order
        self.order_status.emit(self._event(ticket.order_ref, order))
        return ticket.order_ref

    def _find_order_by_ref(self, order_ref: str) -> dict[str, Any] | None:
        since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%d")
        ref_id = order_ref_to_ref_id(order_ref)
        for order in self._results(rh_urls.option_orders_url(start_date=since)):
            if order.get("ref_id") == ref_id:
                return order
        return None

    def _option_instrument(self, contract: OptionContract) -> dict[str, Any]:
        chain_id = self._chain_id(contract.underlying)
        rows = self._results(rh_urls.option_instruments_url(), {
            "chain_id": chain_id, "expiration_dates": contract.expiry.isoformat(),
            "strike_price": f"{contract.strike:.4f}", "type": "call" if contract.right == "C" else "put",
            "state": "active",
        })
        for row in rows:
            if row.get("expiration_date") == contract.expiry.isoformat() and math.isclose(
                    _num(row.get("strike_price")), contract.strike):
                return row
        raise UnknownSymbol(f"Robinhood lists no option {contract.describe()}")

    def _chain_id(self, symbol: str) -> str:
        rows = self._request("GET", rh_urls.instruments_url(), {"params": {"symbol": symbol.upper()}}).get("results") or []
        chain_id = rows[0].get("tradable_chain_id") if rows and rows[0] else None
        if not chain_id:
            raise UnknownSymbol(f"Robinhood has no options for {symbol!r}")
        return str(chain_id)

    def _send_order(self, ticket: OrderTicket) -> dict[str, Any]:
        instrument = self._option_instrument(ticket.contract)
        price = ticket.limit_price
        if not math.isfinite(price):
            quote = self._market_data(str(instrument["url"]))
            price = _num(quote.get("bid_price" if ticket.action == "SELL" else "ask_price"))
            if not math.isfinite(price) or price <= 0:
                raise BrokerError(f"No {('bid' if ticket.action == 'SELL' else 'ask')} for "
                                  f"{ticket.contract.describe()}: enter a limit price")
        held = sum(_num(p.get("quantity")) * (-1 if p.get("type") == "short" else 1)
                   for p in self._results(rh_urls.option_positions_url(None), {"nonzero": "True"})
                   if p.get("option_id") == instrument.get("id") or p.get("option") == instrument.get("url"))
        closing = (ticket.action == "SELL" and held >= ticket.qty) or (ticket.action == "BUY" and -held >= ticket.qty)
        payload = {
            "account": self._account_url,
            "direction": "credit" if ticket.action == "SELL" else "debit",
            "time_in_force": "gtc",
            "legs": [{"position_effect": "close" if closing else "open", "side": ticket.action.lower(),
                      "ratio_quantity": 1, "option": instrument["url"]}],
            "type": "limit",
            "trigger": "immediate",
            "price": rh_helper.round_price(price),
            "quantity": ticket.qty,
            "override_day_trade_checks": False,
            "override_dtbp_checks": False,
            "ref_id": order_ref_to_ref_id(ticket.order_ref),
        }
        try:
            return self._request("POST", rh_urls.option_orders_url(), {"json": payload})
        except NotConnected:
            raise
        except BrokerError as exc:
            if exc.code is not None and 400 <= exc.code < 500:
                raise OrderRejectedByBroker(f"Robinhood refused {ticket.contract.describe()}: {exc}", exc.code) from None
            raise

    async def cancel(self, order_ref: str) -> None:
        """Ask Robinhood to cancel a working order. Raises NotConnected, BrokerError (unknown ref)."""
        self._require_connected()
        order = self._placed.get(order_ref) or await self._run(self._find_order_by_ref, order_ref)
        if order is None:
            raise BrokerError(f"No Robinhood order with reference {order_ref!r}")
        await self._json("POST", rh_urls.option_cancel_url(order["id"]))
        fresh = await self._json("GET", rh_urls.option_orders_url(order["id"]))
        self._placed[order_ref] = fresh
        self.order_status.emit(self._event(order_ref, fresh))

    async def modify(self, order_ref: str, *, qty: int | None = None, limit_price: float | None = None) -> None:
        """Robinhood's API has no order modification (its app replaces an order by a cancel and a new
        order). Raises BrokerError always; nothing is sent."""
        raise BrokerError(f"Robinhood cannot modify an order ({order_ref!r}): cancel it and place a new one.")

    async def poll_orders(self) -> list[OrderEvent]:
        """Fetch the orders this session sent and emit an event for each one whose state changed."""
        events: list[OrderEvent] = []
        for ref, old in list(self._placed.items()):
            if _STATE_MAP.get(str(old.get("state")), "submitted") in ("filled", "cancelled", "rejected"):
                continue
            fresh = await self._json("GET", rh_urls.option_orders_url(old["id"]))
            self._placed[ref] = fresh
            if fresh.get("state") != old.get("state") or fresh.get("processed_quantity") != old.get("processed_quantity"):
                events.append(self._event(ref, fresh))
                self.order_status.emit(events[-1])
        return events

    async def _poll_orders_forever(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval_s)
            try:
                await self.poll_orders()
            except BrokerError as exc:
                self.error.emit(exc)

    @staticmethod
    def _event(order_ref: str, order: dict[str, Any]) -> OrderEvent:
        filled = _num(order.get("processed_quantity"))
        quantity = _num(order.get("quantity"))
        return OrderEvent(
            order_ref=order_ref,
            state=_STATE_MAP.get(str(order.get("state")), "submitted"),
            filled_qty=filled if math.isfinite(filled) else 0.0,
            remaining_qty=_num(order.get("pending_quantity")) if order.get("pending_quantity") is not None
            else max(quantity - (filled if math.isfinite(filled) else 0.0), 0.0),
            avg_fill_price=_average_fill_price(order),
            broker_order_id=str(order.get("id", "")),
            message=str(order.get("cancel_reason") or order.get("state") or ""),
            source="robinhood",
            at=_parse_time(order.get("updated_at")),
        )

    # ------------------------------------------------------------- market data
    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Latest quote of a stock/ETF (USD per share). ``at`` must be None (Robinhood has no past quotes).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        if at is not None:
            raise NoData("Robinhood gives current quotes only")
        try:
            page = await self._json("GET", rh_urls.quotes_url(), params={"symbols": symbol.upper()})
        except NotConnected as exc:
            raise SourceOffline(str(exc)) from None
        except BrokerError as exc:
            if exc.code in (400, 404):
                raise UnknownSymbol(f"Robinhood knows no symbol {symbol!r}") from None
            raise SourceOffline(str(exc)) from None
        rows = [r for r in page.get("results") or [] if r]
        if not rows:
            raise UnknownSymbol(f"Robinhood knows no symbol {symbol!r}")
        q = rows[0]
        return PriceQuote(
            symbol=str(q.get("symbol", symbol.upper())),
            last=_num(q.get("last_trade_price")), bid=_num(q.get("bid_price")), ask=_num(q.get("ask_price")),
            prev_close=_num(q.get("previous_close")), volume=NAN, source="robinhood",
            as_of=_parse_time(q.get("updated_at")),
        )

    def _market_data(self, instrument_url: str) -> dict[str, Any]:
        rows = self._request("GET", rh_urls.marketdata_options_url(), {"params": {"instruments": instrument_url}}).get(
            "results") or []
        if not rows or rows[0] is None:
            raise NoData("Robinhood sent no market data for this option")
        return dict(rows[0])

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """Quote and Robinhood's Greeks of one option (theta per day per share, vega per vol point, iv decimal).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        if at is not None:
            raise NoData("Robinhood gives current quotes only")
        return await self._market_call(self._option_quote, contract)

    def _option_quote(self, contract: OptionContract) -> OptionQuote:
        instrument = self._option_instrument(contract)
        return self._quote_from(contract, self._market_data(str(instrument["url"])), NAN)

    @staticmethod
    def _quote_from(contract: OptionContract, md: dict[str, Any], und_price: float) -> OptionQuote:
        return OptionQuote(
            contract=contract, bid=_num(md.get("bid_price")), ask=_num(md.get("ask_price")),
            last=_num(md.get("last_trade_price")), volume=_num(md.get("volume")),
            open_interest=_num(md.get("open_interest")), und_price=und_price, source="robinhood",
            as_of=_parse_time(md.get("updated_at")), iv=_num(md.get("implied_volatility")),
            delta=_num(md.get("delta")), gamma=_num(md.get("gamma")), theta=_num(md.get("theta")),
            vega=_num(md.get("vega")),
        )

    async def chain(self, symbol: str, at: date | datetime | None = None, *, expiry: date | None = None) -> pd.DataFrame:
        """One expiry of ``symbol``'s chain in ``CHAIN_COLUMNS`` (+ iv, delta, con_id=None).

        ``expiry`` None = the nearest listed expiry. Robinhood serves market data one option per
        request (as robin_stocks does), so a chain costs one request per contract: cache it (60–300 s).

        Raises: UnknownSymbol, NoData, SourceOffline.
        """
        if at is not None:
            raise NoData("Robinhood gives current chains only")
        return await self._market_call(self._chain, symbol, expiry)

    async def _market_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await self._run(fn, *args)
        except NotConnected as exc:
            raise SourceOffline(str(exc)) from None
        except (UnknownSymbol, NoData):
            raise
        except BrokerError as exc:
            raise SourceOffline(str(exc)) from None

    def _chain(self, symbol: str, expiry: date | None) -> pd.DataFrame:
        chain_id = self._chain_id(symbol)
        chain = self._request("GET", f"{API}options/chains/{chain_id}/", {})
        expiries = sorted(date.fromisoformat(d) for d in chain.get("expiration_dates", []))
        if expiry is None:
            today = datetime.now(UTC).date()
            expiry = next((d for d in expiries if d >= today), None)
        if expiry is None or expiry not in expiries:
            raise NoData(f"Robinhood lists no {symbol} options expiring {expiry or 'from today on'}")
        quote = self._request("GET", rh_urls.quotes_url(), {"params": {"symbols": symbol.upper()}}).get("results") or []
        und = _num(quote[0].get("last_trade_price")) if quote and quote[0] else NAN
        rows = []
        for inst in self._results(rh_urls.option_instruments_url(),
                                  {"chain_id": chain_id, "expiration_dates": expiry.isoformat(), "state": "active"}):
            contract = self._contract_from_instrument(inst)
            q = self._quote_from(contract, self._market_data(str(inst["url"])), und)
            rows.append({"underlying": contract.underlying, "quote_date": pd.Timestamp(q.as_of.date()),
                         "und_price": und, "expiry": pd.Timestamp(contract.expiry), "strike": contract.strike,
                         "right": contract.right, "bid": q.bid, "ask": q.ask, "last": q.last, "volume": q.volume,
                         "open_interest": q.open_interest, "iv": q.iv, "delta": q.delta, "con_id": None})
        if not rows:
            raise NoData(f"Robinhood sent no {symbol} options for {expiry}")
        frame = pd.DataFrame(rows)
        return frame[[*CHAIN_COLUMNS, "iv", "delta", "con_id"]].sort_values(["right", "strike"], ignore_index=True)


def _average_fill_price(order: dict[str, Any]) -> float:
    """Quantity-weighted price of the order's executions, USD per share; ``nan`` before any fill."""
    fills = [(_num(f.get("quantity")), _num(f.get("price")))
             for leg in order.get("legs", []) for f in (leg.get("executions") or [])]
    total = sum(q for q, _ in fills if math.isfinite(q))
    if not fills or total <= 0:
        return NAN
    return sum(q * p for q, p in fills if math.isfinite(q) and math.isfinite(p)) / total


def _parse_time(value: Any) -> datetime:
    """Robinhood's ISO timestamps (``2024-01-05T20:59:59.123456Z``) → aware UTC; missing → now."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
