"""THE one broker session: the active account's ``Broker`` (paper, IB or Robinhood), switched as a whole.

``BrokerSessionManager`` owns the accounts of Settings → Accounts (persisting them, secrets to the
keyring only) and the session of the active one. It creates broker objects only inside coroutines,
i.e. after the (qasync) loop runs; ``switch`` closes the old session before it opens the new one.

Events (psygnal, every emit isolated per subscriber, see ``services.events``):

    state_changed      [str, str, str]  account name, SessionState, reason for the user
    order_status       [OrderEvent]     forwarded from the active broker
    positions_changed  [list]           list[BrokerPosition], forwarded
    account_changed    [AccountValues]  forwarded
    execution          [Execution]      forwarded
    error              [BrokerError]    forwarded (errors not tied to a call: 1100, pacing …)
    accounts_changed   []               the account list or the active account changed
    challenge_requested [str, str]      account name, kind ("sms", "email", "app", "mfa"): Robinhood asks
                                        for a code; answer with :meth:`answer_challenge`

Bad input ends in a state with a reason, never in an exception from ``switch`` and never in half state:

    TWS not running            → reconnecting (reason says where it tried), retried with backoff forever
    client id in use (326)     → failed, ``status().next_client_id``; :meth:`retry_with_client_id`
    wrong password / TOTP      → failed (the stored secrets are left as they are)
    challenge unanswered       → failed after ``challenge_timeout_s``
    keyring locked / missing   → failed with the keyring's message
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from psygnal import Signal, SignalInstance

from magnus_desktop.models.market import SessionState
from magnus_desktop.services.brokers.ib import IBConfig, IBSession
from magnus_desktop.services.brokers.protocols import Broker, BrokerError, ClientIdInUse, NotConnected
from magnus_desktop.services.brokers.robinhood import ChallengeKind, RobinhoodSession
from magnus_desktop.services.credentials import BackendInfo, CredentialsError, CredentialStore
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.session.secrets import AccountSecrets
from magnus_desktop.services.session.status import SessionStatus
from magnus_desktop.services.settings import DEMO_ACCOUNT, AccountConfig, Settings, SettingsStore

log = logging.getLogger(__name__)

#: builds the paper account's broker (the app's async paper broker); None = no broker object is needed
PaperFactory = Callable[[AccountConfig], Broker | None]
_FORWARDED = ("order_status", "positions_changed", "account_changed", "execution", "error")
#: changes of these fields need a new connection; live_trading_enabled does not
_CONNECTION_FIELDS = ("name", "kind", "host", "port", "client_id", "ib_account", "username")


class UnknownAccount(KeyError):
    """No account of that name in Settings → Accounts."""

    def __str__(self) -> str:
        return f"There is no account named {self.args[0]!r} in Settings → Accounts"


class BrokerSessionManager:
    """Accounts of Settings → Accounts and the one session of the active account.

    Args:
        settings: the app's live settings object (its ``accounts``/``active_account`` are changed in place).
        store: where the settings are saved; None = not saved (tests, CLI).
        credentials: the keyring store for passwords and TOTP secrets.
        paper_factory: builds the paper account's broker; None = the paper account has no broker object.
        ib_options: extra :class:`IBConfig` fields (timeouts in s, backoff in s, pacing) for every IB account.
        challenge_timeout_s: how long a Robinhood verification may stay unanswered.
        robinhood_poll_s: Robinhood's order-poll interval, s.
        executor: runs the settings file write (None = the loop's default executor).
    """

    state_changed = Signal(str, str, str)
    order_status = Signal(object)
    positions_changed = Signal(object)
    account_changed = Signal(object)
    execution = Signal(object)
    error = Signal(object)
    accounts_changed = Signal()
    challenge_requested = Signal(str, str)

    def __init__(self, settings: Settings, store: SettingsStore | None, credentials: CredentialStore, *,
                 paper_factory: PaperFactory | None = None, ib_options: Mapping[str, Any] | None = None,
                 challenge_timeout_s: float = 120.0, robinhood_poll_s: float = 5.0,
                 executor: Executor | None = None) -> None:
        self.settings = settings
        self._store = store
        self.secrets = AccountSecrets(credentials)
        self._paper_factory = paper_factory
        self._ib_options = dict(ib_options or {})
        self._challenge_timeout_s = challenge_timeout_s
        self._robinhood_poll_s = robinhood_poll_s
        self._executor = executor
        self._lock = asyncio.Lock()
        self._account = settings.account(settings.active_account)
        self._broker: Broker | None = None
        self._links: list[tuple[SignalInstance, Callable[..., None]]] = []
        self._state: SessionState = "disconnected"
        self._reason = "not started"
        self._opening = False
        self._ever_connected = False
        self._reconnects = 0
        self._next_client_id: int | None = None
        self._last_message: float | None = None
        self._challenge: asyncio.Future[str | None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------ reading
    @property
    def accounts(self) -> list[AccountConfig]:
        return list(self.settings.accounts)

    @property
    def active(self) -> AccountConfig:
        return self._account

    @property
    def broker(self) -> Broker | None:
        """The active account's broker object (None for paper without a paper factory, or when failed)."""
        return self._broker

    def status(self) -> SessionStatus:
        """A snapshot for the status bar and a health panel."""
        age = None if self._last_message is None else max(0.0, time.monotonic() - self._last_message)
        a = self._account
        return SessionStatus(a.name, a.kind, self._state, self._reason, age, self._reconnects,
                             self._next_client_id, a.live_trading_enabled)

    async def backend_info(self) -> BackendInfo:
        """The keyring backend (name, secure, warning) that keeps the accounts' secrets."""
        return await self.secrets.credentials.backend_info()

    async def secret_status(self, name: str) -> dict[str, bool]:
        """Which secrets of account ``name`` are stored (never their values). Raises CredentialsError."""
        return await self.secrets.exists(self._lookup(name))

    # ---------------------------------------------------------------------------- switching
    async def start(self) -> None:
        """Open the active account's session (call once the loop runs; IB keeps retrying in the background)."""
        async with self._lock:
            if self._broker is None and self._state == "disconnected":
                await self._open(self._account)

    async def switch(self, name: str) -> SessionStatus:
        """Make ``name`` the active account: persist it, close the old session, open the new one.

        Connection problems end in a state with a reason (see the module docstring), not an exception.

        Raises:
            UnknownAccount: no such account.
            SettingsSaveError: the choice could not be saved; the old session is untouched.
        """
        async with self._lock:
            account = self._lookup(name)
            if name != self.settings.active_account:
                await self._persist(self.accounts, name)
                emit_isolated(self.accounts_changed)
            await self._close()
            await self._open(account)
            return self.status()

    async def retry_with_client_id(self, client_id: int | None = None) -> SessionStatus:
        """Save ``client_id`` (default: the id offered after error 326) for the active IB account and reconnect.

        Raises: ValueError (not an IB account, no id to try), SettingsSaveError.
        """
        account = self._account
        if account.kind != "ib":
            raise ValueError(f"{account.name!r} is not an Interactive Brokers account")
        new_id = client_id if client_id is not None else self._next_client_id
        if new_id is None:
            raise ValueError("TWS has not refused a client id; there is no other id to try")
        await self.save_account(AccountConfig.model_validate({**account.model_dump(), "client_id": new_id}),
                                previous_name=account.name)
        return self.status()

    async def test_connection(self, name: str) -> SessionStatus:
        """Try account ``name`` once and report the state and reason.

        The active account: its status (reconnecting it first when it failed). Another account: a
        temporary session that is closed again (IB: one connect attempt, no retries).
        """
        async with self._lock:
            account = self._lookup(name)
            if name == self._account.name:
                if self._state == "failed":
                    await self._close()
                    await self._open(account)
                return self.status()
            state, reason, next_id = await self._probe(account)
            return SessionStatus(account.name, account.kind, state, reason, None, 0, next_id,
                                 account.live_trading_enabled)

    async def aclose(self) -> None:
        """Close the session (idempotent); pending challenges are cancelled."""
        async with self._lock:
            await self._close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------ accounts
    async def save_account(self, account: AccountConfig, *, previous_name: str | None = None) -> None:
        """Add ``account`` (``previous_name`` None) or replace the account called ``previous_name``.

        A rename moves the secrets; a change of kind deletes the old kind's secrets. When the active
        account's connection fields change, its session is reopened with them.

        Raises:
            ValueError: the demo account cannot be changed; the name is taken (pydantic ValidationError).
            UnknownAccount: ``previous_name`` does not exist.
            CredentialsError: moving the secrets failed; nothing changed.
            SettingsSaveError: nothing changed (secrets copied for a rename are removed again).
        """
        async with self._lock:
            accounts = self.accounts
            old = self._lookup(previous_name) if previous_name is not None else None
            if DEMO_ACCOUNT in (previous_name, account.name):
                raise ValueError(f"The built-in account {DEMO_ACCOUNT!r} cannot be changed, renamed or replaced")
            if old is None:
                accounts.append(account)
            else:
                accounts[accounts.index(old)] = account
            active = self.settings.active_account
            if old is not None and active == old.name:
                active = account.name
            copied = await self.secrets.copy(old, account) if old is not None else []
            try:
                await self._persist(accounts, active)
            except BaseException:
                if copied:
                    await self.secrets.delete(account)
                raise
            if old is not None and (old.kind, old.name) != (account.kind, account.name):
                await self._delete_old_secrets(old)
            emit_isolated(self.accounts_changed)
            if old is not None and old.name == self._account.name:
                if any(getattr(old, f) != getattr(account, f) for f in _CONNECTION_FIELDS):
                    await self._close()
                    await self._open(account)
                else:
                    self._account = account
                    self._emit_state(self._state, self._reason)  # live-trading flag: the label changes

    async def delete_account(self, name: str) -> None:
        """Remove account ``name`` and its secrets; the demo account becomes active if it was active.

        Raises:
            ValueError: the demo account cannot be removed.
            UnknownAccount: no such account.
            CredentialsError: the keyring is locked or failed: the account and its secrets stay.
            SettingsSaveError: the settings file could not be written (the secrets are already gone).
        """
        if name == DEMO_ACCOUNT:
            raise ValueError(f"The built-in account {DEMO_ACCOUNT!r} cannot be removed")
        async with self._lock:
            account = self._lookup(name)
            await self.secrets.delete(account)
            was_active = self._account.name == name
            active = DEMO_ACCOUNT if was_active else self.settings.active_account
            await self._persist([a for a in self.accounts if a.name != name], active)
            emit_isolated(self.accounts_changed)
            if was_active:
                await self._close()
                await self._open(self._lookup(DEMO_ACCOUNT))

    async def save_secrets(self, name: str, secrets: Mapping[str, str]) -> None:
        """Store secrets (``{"password": ..., "totp_secret": ...}``) of account ``name`` in the keyring.

        All or nothing; the values are never logged or written anywhere else.

        Raises: UnknownAccount, ValueError (a name the kind does not keep, empty, bad TOTP), CredentialsError.
        """
        await self.secrets.save(self._lookup(name), secrets)

    # ----------------------------------------------------------------------- challenges
    def answer_challenge(self, code: str | None) -> bool:
        """Answer the pending Robinhood verification (None or "" cancels). False when none is pending."""
        if self._challenge is None or self._challenge.done():
            return False
        self._challenge.set_result(code)
        return True

    async def _ask_challenge(self, kind: ChallengeKind) -> str | None:
        if not len(self.challenge_requested):
            return None  # nobody can answer: fail now instead of after the timeout
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._challenge = future
        emit_isolated(self.challenge_requested, self._account.name, kind)
        try:
            return await future
        finally:
            self._challenge = None

    # -------------------------------------------------------------------------- internals
    def _lookup(self, name: str) -> AccountConfig:
        try:
            return self.settings.account(name)
        except KeyError:
            raise UnknownAccount(name) from None

    async def _persist(self, accounts: list[AccountConfig], active: str) -> None:
        """Validate and save the new account list first; only then change the live settings."""
        data = self.settings.model_dump()
        data.update(accounts=[a.model_dump() for a in accounts], active_account=active)
        candidate = Settings.model_validate(data)
        if self._store is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store.save, candidate)
        self.settings.accounts = candidate.accounts
        self.settings.active_account = candidate.active_account

    async def _delete_old_secrets(self, old: AccountConfig) -> None:
        try:
            await self.secrets.delete(old)
        except CredentialsError as exc:  # the account is saved; a stale keyring entry is only untidy
            log.warning("secrets of the former account %r were not removed: %s", old.name, exc)

    def _set_state(self, state: SessionState, reason: str) -> None:
        if state == "reconnecting" and self._state == "connected":
            self._reconnects += 1
        if state == "connected":
            self._ever_connected = True
            self._next_client_id = None
        self._emit_state(state, reason)

    def _emit_state(self, state: SessionState, reason: str) -> None:
        self._state, self._reason = state, reason
        log.info("broker session %r: %s (%s)", self._account.name, state, reason)
        emit_isolated(self.state_changed, self._account.name, state, reason)

    def _touch(self) -> None:
        self._last_message = time.monotonic()

    async def _open(self, account: AccountConfig) -> None:
        self._account = account
        self._reconnects, self._next_client_id, self._last_message = 0, None, None
        self._ever_connected = False
        if account.kind == "paper":
            await self._open_paper(account)
        elif account.kind == "ib":
            await self._open_ib(account)
        else:
            await self._open_robinhood(account)

    async def _open_paper(self, account: AccountConfig) -> None:
        broker = self._paper_factory(account) if self._paper_factory is not None else None
        if broker is not None:
            self._attach(broker)
            try:
                await broker.connect()
            except BrokerError as exc:
                await self._discard(broker)
                self._set_state("failed", f"The paper broker could not start: {exc}")
                return
        self._set_state("connected", "Paper trading: orders fill against the active market data (the replay "
                                     "offline); nothing is sent to a broker")

    def _ib_config(self, account: AccountConfig) -> IBConfig:
        return IBConfig(host=account.host, port=account.port, client_id=account.client_id,
                        account=account.ib_account, **self._ib_options)

    async def _open_ib(self, account: AccountConfig) -> None:
        session = IBSession(self._ib_config(account))
        self._attach(session)
        self._set_state("connecting", f"Connecting to TWS/IB Gateway at {account.host}:{account.port} "
                                      f"(client id {account.client_id})")
        self._opening = True
        try:
            await session.connect()
        except ClientIdInUse as exc:
            await self._discard(session)
            self._next_client_id = exc.next_id
            self._set_state("failed", str(exc))
            return
        except NotConnected as exc:
            self._set_state("reconnecting", f"{exc} Retrying in the background.")
            self._opening = False
            await session.start()  # its "connecting" keeps our "reconnecting" and this reason
            return
        except BrokerError as exc:
            await self._discard(session)
            self._set_state("failed", str(exc))
            return
        finally:
            self._opening = False
        self._set_state("connected", self._ib_connected_reason(session, "connected"))

    def _ib_connected_reason(self, session: IBSession, how: str) -> str:
        cfg = session.config
        return (f"{how.capitalize()} to TWS/IB Gateway at {cfg.host}:{cfg.port} (client id {cfg.client_id}, "
                f"account {session.account or 'default'})")

    async def _open_robinhood(self, account: AccountConfig) -> None:
        session = RobinhoodSession(self.secrets.credentials, account.name, self._ask_challenge,
                                   challenge_timeout_s=self._challenge_timeout_s,
                                   poll_interval_s=self._robinhood_poll_s, username=account.username)
        self._attach(session)
        self._set_state("connecting", f"Signing in to Robinhood as {account.username}")
        self._opening = True
        try:
            await session.connect()
        except BrokerError as exc:  # wrong password/TOTP, unanswered challenge, keyring locked, offline
            await self._discard(session)
            self._set_state("failed", str(exc))
            return
        finally:
            self._opening = False
        self._set_state("connected", f"Signed in to Robinhood as {account.username}")

    async def _probe(self, account: AccountConfig) -> tuple[SessionState, str, int | None]:
        """One connection attempt with a throw-away session (nothing is forwarded)."""
        if account.kind == "paper":
            return "connected", "Paper trading needs no connection", None
        broker: IBSession | RobinhoodSession
        if account.kind == "ib":
            broker = IBSession(self._ib_config(account))
        else:
            broker = RobinhoodSession(self.secrets.credentials, account.name, self._ask_challenge,
                                      challenge_timeout_s=self._challenge_timeout_s,
                                      poll_interval_s=self._robinhood_poll_s, username=account.username)
        try:
            await broker.connect()
        except ClientIdInUse as exc:
            return "failed", str(exc), exc.next_id
        except BrokerError as exc:
            return "failed", str(exc), None
        finally:
            await broker.aclose()
        return "connected", f"{account.name}: the connection works (closed again after the test)", None

    def _attach(self, broker: Broker) -> None:
        self._broker = broker
        for name in _FORWARDED:
            source = getattr(broker, name, None)
            if isinstance(source, SignalInstance):
                self._link(source, self._forwarder(broker, name))
        state_signal = getattr(broker, "state_changed", None)
        if isinstance(state_signal, SignalInstance):
            self._link(state_signal, self._state_forwarder(broker))

    def _link(self, source: SignalInstance, callback: Callable[..., None]) -> None:
        source.connect(callback)
        self._links.append((source, callback))

    def _forwarder(self, broker: Broker, name: str) -> Callable[..., None]:
        target: SignalInstance = getattr(self, name)

        def forward(*args: Any) -> None:
            if broker is self._broker:
                self._touch()
                if name == "error" and isinstance(args[0], ClientIdInUse) and not self._ever_connected:
                    self._spawn(self._give_up_client_id(broker, args[0]))
                emit_isolated(target, *args)
        return forward

    def _state_forwarder(self, broker: Broker) -> Callable[[str, str], None]:
        def on_state(state: str, reason: str) -> None:
            if broker is not self._broker:
                return
            self._touch()
            if state == "connecting" and self._state in ("connecting", "reconnecting"):
                if self._opening and isinstance(broker, RobinhoodSession) and reason != self._reason:
                    self._emit_state(self._state, reason)  # "Robinhood asks for a sms verification"
                return
            if self._opening or state in ("disconnected", "connecting"):
                return  # the opener reports the outcome; "disconnected" only follows aclose()
            if state == "connected" and isinstance(broker, IBSession) and reason in ("connected", "reconnected"):
                reason = self._ib_connected_reason(broker, "reconnected" if self._ever_connected else "connected")
            if state in ("connected", "reconnecting", "failed"):
                self._set_state(state, reason)  # type: ignore[arg-type]
        return on_state

    async def _give_up_client_id(self, broker: Broker, exc: ClientIdInUse) -> None:
        """A background connect met error 326 before ever connecting: stop retrying, offer the next id."""
        async with self._lock:
            if broker is not self._broker:
                return
            await self._discard(broker)
            self._next_client_id = exc.next_id
            self._set_state("failed", str(exc))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _discard(self, broker: Broker) -> None:
        """Detach and close ``broker``; its late events are ignored."""
        if broker is self._broker:
            self._broker = None
            for source, callback in self._links:
                source.disconnect(callback)
            self._links.clear()
        try:
            await broker.aclose()
        except Exception:
            log.exception("closing the %s session failed", type(broker).__name__)

    async def _close(self) -> None:
        if self._challenge is not None and not self._challenge.done():
            self._challenge.set_result(None)
        broker = self._broker
        if broker is not None:
            await self._discard(broker)
        if self._state != "disconnected":
            self._set_state("disconnected", f"{self._account.name} closed")
