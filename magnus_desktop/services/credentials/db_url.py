"""Split a database URL into what may be persisted (no password) and the password (for the keyring)."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+._-]*)://")


def _parse(url: str) -> URL:
    if url.count("@") > 1:
        raise ValueError(
            "The database URL has more than one '@': percent-encode special characters in the user name "
            "or password ('@' as %40, '/' as %2F, ':' as %3A)"
        )
    parsed = _try_make_url(url)
    if parsed is None:
        # SQLAlchemy's own message quotes the whole string, password included: never pass it on.
        match = _SCHEME.match(url)
        scheme = match.group(1) if match else "?"
        raise ValueError(
            f"Not a valid database URL (scheme {scheme!r}); expected e.g. postgresql://user@host:5432/db"
        )
    return parsed


def _try_make_url(url: str) -> URL | None:
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def split_db_url(url: str) -> tuple[str, str | None]:
    """Return ``(url_without_password, password)``; ``password`` is None when the URL has none.

    The first element is safe to write to ``settings.json`` and logs; the password goes to the keyring.

    Raises:
        ValueError: ``url`` is not a database URL (the message does not contain ``url``).
    """
    parsed = _parse(url)
    password = parsed.password
    # URL.set() ignores None values, so the password is cleared with the NamedTuple's _replace.
    safe = parsed._replace(password=None).render_as_string(hide_password=False)
    return safe, (str(password) if password is not None else None)


def join_db_url(url: str, password: str | None) -> str:
    """Put ``password`` back into a URL stored without one (``None`` leaves the URL unchanged).

    Special characters in the password (``@ / : %``) are escaped as the URL syntax needs.

    Raises:
        ValueError: ``url`` is not a database URL.
    """
    parsed = _parse(url)
    if password is None:
        return parsed.render_as_string(hide_password=False)
    return parsed.set(password=password).render_as_string(hide_password=False)


def db_url_account(url: str) -> str:
    """Keyring account name for a DB URL's password: ``user@host:port/database`` (no password)."""
    parsed = _parse(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.username or ''}@{parsed.host or ''}{port}/{parsed.database or ''}"
