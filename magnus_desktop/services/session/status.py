"""What the status bar (and later a health panel) shows about the one broker session."""

from __future__ import annotations

from dataclasses import dataclass

from magnus_desktop.models.market import SessionState
from magnus_desktop.services.settings import AccountKind

KIND_LABEL: dict[AccountKind, str] = {"paper": "paper", "ib": "IB", "robinhood": "Robinhood"}


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """A snapshot of the broker session.

    Attributes:
        account: the account's name in Settings → Accounts.
        kind: ``paper``, ``ib`` or ``robinhood``.
        state: disconnected / connecting / connected / reconnecting / failed.
        reason: one sentence for the user: why the state is what it is and what to do (never a secret).
        last_message_age_s: seconds since the broker last sent anything the session listens to (a state
            change, positions, account values, an order status, an execution); None before the first.
        reconnect_count: how often the connection was lost and re-established since the account was opened.
        next_client_id: IB only, after error 326: the client id to offer (None otherwise).
        live_trading_enabled: whether orders may be sent to this broker for real.
    """

    account: str
    kind: AccountKind
    state: SessionState
    reason: str
    last_message_age_s: float | None = None
    reconnect_count: int = 0
    next_client_id: int | None = None
    live_trading_enabled: bool = False

    def label(self) -> str:
        """Short status-bar text, e.g. ``"IB main (IB): reconnecting"``; the reason goes in the tool tip."""
        kind = KIND_LABEL[self.kind]
        named = kind.lower() in self.account.lower()  # "Demo (paper, replay)" already says paper
        text = f"{self.account}: {self.state}" if named else f"{self.account} ({kind}): {self.state}"
        if self.reconnect_count:
            text += f" · {self.reconnect_count} reconnect{'s' if self.reconnect_count != 1 else ''}"
        if self.kind != "paper" and self.live_trading_enabled:
            text += " · LIVE"
        return text
