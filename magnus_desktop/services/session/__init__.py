"""The one broker session (no Qt): accounts of Settings → Accounts and the active account's broker."""

from magnus_desktop.services.session.manager import BrokerSessionManager, PaperFactory, UnknownAccount
from magnus_desktop.services.session.secrets import SECRET_NAMES, AccountSecrets, normalize_totp_secret
from magnus_desktop.services.session.status import SessionStatus

__all__ = [
    "SECRET_NAMES",
    "AccountSecrets",
    "BrokerSessionManager",
    "PaperFactory",
    "SessionStatus",
    "UnknownAccount",
    "normalize_totp_secret",
]
