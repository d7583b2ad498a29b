"""TradingView watchlist files: import (``.txt`` lists) and export.

A TradingView watchlist file is a list of ``EXCHANGE:SYMBOL`` (or bare ``SYMBOL``) tokens separated
by commas and/or newlines. A token ``###Name`` starts a section; TradingView's own export writes it
inline (``###Tech,NASDAQ:AAPL,...``), third-party generators put it on its own line — both are
accepted. Symbols before any header belong to section ``""``.

Ticker shape (what a token must look like to be imported; anything else is listed in ``skipped``
with the reason):

- ``[EXCHANGE:]SYMBOL`` with at most one ``:``; at most ``MAX_TOKEN_LEN`` characters in all.
- ``EXCHANGE``: an ASCII letter, then ASCII letters, digits or ``_`` (``NASDAQ``, ``OANDA``,
  ``CME_MINI``, ``FX_IDC``); at most ``MAX_EXCHANGE_LEN`` characters.
- ``SYMBOL``: ASCII letters and digits plus the punctuation TradingView tickers use,
  ``TICKER_PUNCTUATION`` = ``. - / ! ^ =`` (``BRK.B``, ``BF-B``, ``ES1!``, ``ARNC^``,
  ``BTC/USD``, ``EURUSD=X``, ``^VIX``); it starts with a letter, a digit or ``^`` and holds at
  least one letter or digit; at most ``MAX_SYMBOL_LEN`` characters. Case is kept as written.

So ``$$$``, ``<SCRIPT>``, ``CAFÉ`` (non-ASCII) or a 30-letter word are refused. Invisible format
characters (zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates, BOM,
soft hyphen: ``INVISIBLE_CHARS``) are removed from the text before it is parsed, so a ticker
pasted from a web page or chat with a hidden U+200B or U+202E is read as the visible ticker.

Files may be UTF-8 (with or without BOM), UTF-16 LE/BE (with a BOM, or without one when the
NUL-byte pattern of ASCII text in UTF-16 shows it), UTF-32 with a BOM, or printable latin-1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from magnus_desktop.models.domain import WatchlistItem

__all__ = [
    "INVISIBLE_CHARS",
    "MAX_EXCHANGE_LEN",
    "MAX_SYMBOL_LEN",
    "MAX_TOKEN_LEN",
    "TICKER_PUNCTUATION",
    "TICKER_SHAPE",
    "ImportSummary",
    "ParsedWatchlist",
    "SkippedEntry",
    "WatchlistFormatError",
    "decode_watchlist_bytes",
    "describe_skipped",
    "export_tradingview",
    "load_tradingview",
    "parse_tradingview",
    "strip_invisible",
]

#: Longest token accepted as a symbol (characters, exchange prefix included).
MAX_TOKEN_LEN = 40
#: Longest exchange prefix (characters before the ``:``).
MAX_EXCHANGE_LEN = 20
#: Longest symbol (characters after the ``:``, or the whole bare token).
MAX_SYMBOL_LEN = 24
#: Punctuation a symbol may contain besides ASCII letters and digits.
TICKER_PUNCTUATION = ".-/!^="
#: Invisible format characters removed before parsing: zero-width space/non-joiner/joiner,
#: LRM/RLM (U+200B..U+200F), bidi embeddings and overrides (U+202A..U+202E), bidi isolates
#: (U+2066..U+2069), BOM / zero-width no-break space (U+FEFF), soft hyphen (U+00AD).
INVISIBLE_CHARS = (
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\ufeff\u00ad"  # BOM / zero-width no-break space, soft hyphen
)
SECTION_PREFIX = "###"
#: Refuse to read files larger than this (bytes); real watchlists are a few KB.
MAX_FILE_BYTES = 5_000_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s")
#: Control characters that do not occur in a text file (tab, LF and CR do).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
_EXCHANGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SYMBOL_CHAR = re.compile(r"[A-Za-z0-9.\-/!^=]")
_ALNUM = re.compile(r"[A-Za-z0-9]")
#: One line on the ticker shape, for messages that list skipped entries.
TICKER_SHAPE = (f"A ticker is ASCII letters, digits and {' '.join(TICKER_PUNCTUATION)} "
                "with an optional EXCHANGE: prefix (NYSE:BRK.B, BTCUSD, CME_MINI:ES1!).")
#: How many skipped entries a one-line summary names before "and K more".
SUMMARY_SKIPPED = 5


class WatchlistFormatError(ValueError):
    """The input is not a readable TradingView watchlist (binary, undecodable, empty, no symbols)."""


class SkippedEntry(NamedTuple):
    """A token of the input that was not imported, and why."""

    line: int  #: line of the input, from 1
    token: str  #: the token as written (after invisible characters were removed)
    reason: str  #: why it was skipped ("contains '$' …", "duplicate of line 2", …)

    def describe(self) -> str:
        return f"line {self.line}: {self.token!r} — {self.reason}"


def describe_skipped(skipped: Sequence[SkippedEntry], limit: int = SUMMARY_SKIPPED) -> str:
    """The first ``limit`` skipped entries with their reasons, then "and K more"; "" when none."""
    if not skipped:
        return ""
    named = "; ".join(e.describe() for e in skipped[:limit])
    more = len(skipped) - limit
    return named + (f"; and {more} more" if more > 0 else "")


class ImportSummary(str):
    """The one-line result message of an import (it *is* that ``str``) that also carries the whole
    ``skipped`` list and the list name, so a view can show every skipped entry, not only the first
    ones the message names."""

    skipped: tuple[SkippedEntry, ...]
    watchlist: str

    def __new__(cls, message: str, *, watchlist: str, skipped: Sequence[SkippedEntry] = ()) -> ImportSummary:
        obj = super().__new__(cls, message)
        obj.skipped = tuple(skipped)
        obj.watchlist = watchlist
        return obj


@dataclass(frozen=True, slots=True)
class ParsedWatchlist:
    """Result of parsing one watchlist file.

    Attributes:
        name_hint: suggested watchlist name (the file's stem; ``""`` for pasted text).
        items: unique symbols in file order (first occurrence of each (exchange, symbol) wins).
        sections: section names in order of first appearance (``""`` is not listed).
        skipped: every token that was not imported with its line (from 1) and reason, in input
            order (not ticker-shaped, bad section header, duplicate).
    """

    name_hint: str
    items: tuple[WatchlistItem, ...]
    sections: tuple[str, ...]
    skipped: tuple[SkippedEntry, ...]


def strip_invisible(text: str) -> str:
    """``text`` without the invisible format characters of ``INVISIBLE_CHARS``."""
    return _INVISIBLE.sub("", text)


def _chars(text: str) -> str:
    return repr("".join(dict.fromkeys(text)))


def _symbol_problem(symbol: str) -> str | None:
    bad = "".join(c for c in symbol if not _SYMBOL_CHAR.fullmatch(c))
    if bad:
        return f"{_chars(bad)} not allowed in a ticker"
    if not _ALNUM.search(symbol):
        return "no letter or digit"
    if not (_ALNUM.match(symbol) or symbol.startswith("^")):
        return f"starts with {symbol[0]!r}"
    if len(symbol) > MAX_SYMBOL_LEN:
        return f"symbol longer than {MAX_SYMBOL_LEN} characters"
    return None


def _token_problem(token: str) -> str | None:
    """Why ``token`` is not ticker-shaped (see the module docstring), or None when it is."""
    if _CONTROL.search(token):
        return "contains control characters"
    if len(token) > MAX_TOKEN_LEN:
        return f"longer than {MAX_TOKEN_LEN} characters"
    if _WHITESPACE.search(token):
        return "contains whitespace"
    if token.count(":") > 1:
        return "more than one ':'"
    exchange, colon, symbol = token.rpartition(":")
    if colon and not exchange:
        return "empty exchange before ':'"
    if not symbol:
        return "empty symbol after ':'" if colon else "empty"
    if exchange and not _EXCHANGE.fullmatch(exchange):
        return f"exchange {exchange!r} is not a letter followed by letters, digits or '_'"
    if len(exchange) > MAX_EXCHANGE_LEN:
        return f"exchange longer than {MAX_EXCHANGE_LEN} characters"
    return _symbol_problem(symbol)


def _section_problem(name: str) -> str | None:
    """Why ``name`` (text after ``###``) is not a usable section name, or None."""
    if not name:
        return "empty section name"
    if _CONTROL.search(name):
        return "contains control characters"
    if len(name) > 2 * MAX_TOKEN_LEN:
        return f"section name longer than {2 * MAX_TOKEN_LEN} characters"
    return None


def _name_hint(source: str) -> str:
    if not source or source.startswith("<"):
        return ""
    return Path(source).stem


class _Builder:
    """Accumulates items, sections and skipped tokens while walking the text."""

    def __init__(self) -> None:
        self.section = ""
        self.items: list[WatchlistItem] = []
        self.first_line: dict[tuple[str, str], int] = {}
        self.sections: list[str] = []
        self.skipped: list[SkippedEntry] = []

    def header(self, line_no: int, token: str) -> None:
        name = token[len(SECTION_PREFIX) :].strip()
        problem = _section_problem(name)
        if problem:
            self.skipped.append(SkippedEntry(line_no, token, problem))
            return
        self.section = name
        if name not in self.sections:
            self.sections.append(name)

    def symbol(self, line_no: int, token: str) -> None:
        problem = _token_problem(token)
        if problem:
            self.skipped.append(SkippedEntry(line_no, token, problem))
            return
        exchange, _, symbol = token.rpartition(":")
        key = (exchange.upper(), symbol.upper())  # as the watchlist store compares them
        if key in self.first_line:
            self.skipped.append(SkippedEntry(line_no, token, f"duplicate of line {self.first_line[key]}"))
            return
        self.first_line[key] = line_no
        self.items.append(WatchlistItem(symbol=symbol, exchange=exchange, section=self.section))


def parse_tradingview(text: str, *, source: str = "<text>", require_symbols: bool = True) -> ParsedWatchlist:
    """Parse the text of a TradingView watchlist file.

    Invisible format characters (``INVISIBLE_CHARS``) are removed first; every token must then be
    ticker-shaped (module docstring).

    Args:
        text: decoded file content (commas and/or newlines between tokens).
        source: file name or ``"<text>"``; used for ``name_hint`` and error messages.
        require_symbols: raise when no token is a symbol (a file); False returns the skipped
            tokens instead (typed input, where each gets its own message).

    Returns:
        The parsed watchlist; tokens that are not ticker-shaped and duplicates are listed in
        ``skipped`` with their reasons.

    Raises:
        WatchlistFormatError: the text is empty, contains NUL bytes (binary data) or holds no
            ticker-shaped symbol (the latter only with ``require_symbols``).
    """
    if "\x00" in text:
        raise WatchlistFormatError(f"{source}: contains NUL bytes — binary data, not a watchlist")
    text = strip_invisible(text)
    if not text.strip():
        raise WatchlistFormatError(f"{source}: the file is empty")
    builder = _Builder()
    for line_no, line in enumerate(text.splitlines(), start=1):
        for raw in line.split(","):
            token = raw.strip()
            if not token:
                continue
            if token.startswith(SECTION_PREFIX):
                builder.header(line_no, token)
            else:
                builder.symbol(line_no, token)
    if not builder.items and require_symbols:
        detail = describe_skipped(builder.skipped, 3)
        raise WatchlistFormatError(f"{source}: no symbols found" + (f" — {detail}" if detail else ""))
    return ParsedWatchlist(
        name_hint=_name_hint(source),
        items=tuple(builder.items),
        sections=tuple(builder.sections),
        skipped=tuple(builder.skipped),
    )


_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE"),
)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """(codec, name) when ``data`` has the NUL pattern of mostly-ASCII UTF-16 text, else None.

    In UTF-16 LE every ASCII character is ``c 00`` (NULs at odd offsets), in BE ``00 c`` (even
    offsets). Required: even length, no NUL in the other lane and NULs in at least 30 % of the
    pairs (watchlists are ASCII tickers, so real files have NULs in nearly every pair)."""
    if len(data) < 2 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    pairs = len(data) // 2
    if even == 0 and odd >= 0.3 * pairs:
        return "utf-16-le", "UTF-16 LE"
    if odd == 0 and even >= 0.3 * pairs:
        return "utf-16-be", "UTF-16 BE"
    return None


def _decode_unicode(data: bytes, codec: str, name: str, source: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise WatchlistFormatError(
            f"{source}: looks like {name} but does not decode ({exc.reason} at byte {exc.start})") from exc
    if _BINARY.search(text):
        raise WatchlistFormatError(f"{source}: {name} text with control characters — not a text watchlist")
    return text


def decode_watchlist_bytes(data: bytes, *, source: str = "<bytes>") -> str:
    """Decode watchlist file bytes.

    Order: a BOM (UTF-32 LE/BE, UTF-8, UTF-16 LE/BE) decides; else the NUL-byte pattern of UTF-16
    text without a BOM (LE or BE); else UTF-8; else latin-1 if that gives printable text.

    Args:
        data: raw file content.
        source: file name for error messages.

    Returns:
        The decoded text (BOM removed).

    Raises:
        WatchlistFormatError: NUL bytes that are not UTF-16/32 (binary file), a BOM whose
            encoding does not decode, or neither UTF-8 nor latin-1 yields printable text.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _decode_unicode(data[len(bom) :], codec, name, source)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _decode_unicode(data, *utf16, source)
    if b"\x00" in data:
        raise WatchlistFormatError(f"{source}: contains NUL bytes — binary data, not a watchlist")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    text = data.decode("latin-1")
    if _BINARY.search(text):
        raise WatchlistFormatError(
            f"{source}: not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) "
            "and not printable as latin-1 — not a text watchlist"
        )
    return text


def load_tradingview(path: str | Path) -> ParsedWatchlist:
    """Read and parse a TradingView watchlist file.

    Args:
        path: the ``.txt`` file.

    Returns:
        The parsed watchlist, ``name_hint`` = file stem.

    Raises:
        WatchlistFormatError: unreadable, too large, binary, undecodable, empty or without symbols.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WatchlistFormatError(f"{p.name}: {size:,} bytes — too large for a watchlist")
        data = p.read_bytes()
    except OSError as exc:
        raise WatchlistFormatError(f"{p.name}: cannot read ({exc.strerror or exc})") from exc
    return parse_tradingview(decode_watchlist_bytes(data, source=p.name), source=str(p))


def _export_token(item: WatchlistItem) -> str:
    token = f"{item.exchange}:{item.symbol}" if item.exchange else item.symbol
    problem = _token_problem(token) or ("starts with '###'" if token.startswith(SECTION_PREFIX) else None)
    if problem or "," in token:
        raise ValueError(f"cannot export symbol {token!r}: {problem or 'contains a comma'}")
    return token


def _export_header(section: str) -> str:
    problem = _section_problem(section)
    if problem is None and ("," in section or len(section.splitlines()) != 1):
        problem = "contains a comma or line break"
    if problem is None and section != section.strip():
        problem = "leading or trailing spaces"
    if problem:
        raise ValueError(f"cannot export section {section!r}: {problem}")
    return SECTION_PREFIX + section


def export_tradingview(items: Iterable[WatchlistItem]) -> str:
    """Write items as a TradingView import file.

    Items of section ``""`` come first (TradingView has no way to leave a section); then each run
    of consecutive items of one section is written as a ``###name`` line followed by one line of
    comma-separated ``EXCHANGE:SYMBOL`` tokens. So ``parse_tradingview(export_tradingview(x)).items
    == x`` for any parsed ``x``.

    Args:
        items: the symbols in display order.

    Returns:
        The file text (newline-terminated).

    Raises:
        ValueError: a symbol or section name cannot be represented (comma, whitespace, control
            characters, too long).
    """
    items = list(items)
    ordered = [i for i in items if not i.section] + [i for i in items if i.section]
    lines: list[str] = []
    current: str | None = None
    run: list[str] = []
    for item in ordered:
        if item.section != current:
            if run:
                lines.append(",".join(run))
            run = []
            current = item.section
            if current:
                lines.append(_export_header(current))
        run.append(_export_token(item))
    if run:
        lines.append(",".join(run))
    return "\n".join(lines) + "\n"
