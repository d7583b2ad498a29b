"""Mask credentials in free text (log records, error dialogs, status messages, exception text).

``mask_secrets`` replaces the secret part with ``***`` and keeps the rest readable:

* URL userinfo: ``postgresql://bob:SECRET@db:5432/x`` → ``postgresql://bob:***@db:5432/x``; a
  password with raw ``@ : / %`` is masked up to the last ``@`` of the URL (over-masking rather
  than leaking).
* ``key=value`` pairs in query strings and libpq keyword strings:
  ``?sslmode=require&password=SECRET`` and ``host=x password='se cret' dbname=y``.
* JSON-ish and Python-repr pairs: ``"password": "SECRET"``, ``'pwd': 'SECRET'``.

Keys recognised (case-insensitive, with any prefix such as ``db_`` or ``PG``): password, passwd,
pwd, passphrase, secret, token, api_key/apikey. Masking is idempotent.
"""

from __future__ import annotations

import re

MASK = "***"

_KEY = r"[A-Za-z0-9_-]*?(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key)"

# scheme://user:password@host — the user may be empty or hold "@"; the password runs to the last
# "@" before whitespace or a quote.
_URL_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/'\"`]*:)(?P<secret>[^\s'\"`]+)(?P<tail>@[^\s@'\"`]*)"
)
# "password": "x" / 'password': 'x' / "password": 123
_QUOTED_PAIR = re.compile(
    rf"""(?P<head>(?P<q>["'])(?:{_KEY})(?P=q)\s*:\s*)"""
    r"""(?P<secret>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}\]]+)""",
    re.IGNORECASE,
)
# password=x, password = 'x y', &pwd=x — value ends at whitespace or "&" unless quoted
_KEY_VALUE = re.compile(
    rf"""(?P<head>(?<![A-Za-z0-9_-])(?:{_KEY})\s*=\s*)"""
    r"""(?P<secret>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?:\\.|[^\s&"'])+)""",
    re.IGNORECASE,
)


def _mask_value(match: re.Match[str]) -> str:
    secret = match.group("secret")
    quote = secret[0] if secret[:1] in ("'", '"') and len(secret) >= 2 and secret[-1] == secret[0] else ""
    return f"{match.group('head')}{quote}{MASK}{quote}"


def mask_secrets(text: str) -> str:
    """``text`` with every recognised credential replaced by ``***`` (see the module docstring)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group('head')}{MASK}{m.group('tail')}", text)
    text = _QUOTED_PAIR.sub(_mask_value, text)
    return _KEY_VALUE.sub(_mask_value, text)
