"""TradingView watchlist files: import (``.txt`` lists) and export.

A TradingView watchlist file is a list of ``EXCHANGE:SYMBOL`` (or bare ``SYMBOL``) tokens separated
by commas and/or newlines. A token ``###Name`` starts a section; TradingView's own export writes it
inline (``###Tech,NASDAQ:AAPL,...``), third-party generators put it on its own line — both are
accepted. Symbols before any header belong to section ``""``. Odd but real symbols (``AMEX:ARNC^``,
``NYSE:BRK.B``, ``OANDA:EURUSD``) are kept verbatim; implausible tokens are reported in ``skipped``
instead of being imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from magnus_desktop.models.domain import WatchlistItem

__all__ = [
    "MAX_TOKEN_LEN",
    "ParsedWatchlist",
    "WatchlistFormatError",
    "decode_watchlist_bytes",
    "export_tradingview",
    "load_tradingview",
    "parse_tradingview",
]

#: Longest token accepted as a symbol (characters, exchange prefix included).
MAX_TOKEN_LEN = 40
SECTION_PREFIX = "###"
#: Refuse to read files larger than this (bytes); real watchlists are a few KB.
MAX_FILE_BYTES = 5_000_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s")


class WatchlistFormatError(ValueError):
    """The input is not a readable TradingView watchlist (binary, undecodable, empty, no symbols)."""


@dataclass(frozen=True, slots=True)
class ParsedWatchlist:
    """Result of parsing one watchlist file.

    Attributes:
        name_hint: suggested watchlist name (the file's stem; ``""`` for pasted text).
        items: unique symbols in file order (first occurrence of each (exchange, symbol) wins).
        sections: section names in order of first appearance (``""`` is not listed).
        skipped: ``(line_no, token, reason)`` for each token that was not imported; line numbers
            start at 1.
    """

    name_hint: str
    items: tuple[WatchlistItem, ...]
    sections: tuple[str, ...]
    skipped: tuple[tuple[int, str, str], ...]


def _token_problem(token: str) -> str | None:
    """Why ``token`` is not a plausible symbol, or None when it is."""
    if _CONTROL.search(token):
        return "contains control characters"
    if len(token) > MAX_TOKEN_LEN:
        return f"longer than {MAX_TOKEN_LEN} characters"
    if _WHITESPACE.search(token):
        return "contains whitespace"
    if token.count(":") > 1:
        return "more than one ':'"
    if ":" in token:
        exchange, symbol = token.split(":")
        if not exchange:
            return "empty exchange before ':'"
        if not symbol:
            return "empty symbol after ':'"
    return None


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
        self.seen: set[tuple[str, str]] = set()
        self.sections: list[str] = []
        self.skipped: list[tuple[int, str, str]] = []

    def header(self, line_no: int, token: str) -> None:
        name = token[len(SECTION_PREFIX) :].strip()
        problem = _section_problem(name)
        if problem:
            self.skipped.append((line_no, token, problem))
            return
        self.section = name
        if name not in self.sections:
            self.sections.append(name)

    def symbol(self, line_no: int, token: str) -> None:
        problem = _token_problem(token)
        if problem:
            self.skipped.append((line_no, token, problem))
            return
        exchange, _, symbol = token.rpartition(":")
        if (exchange, symbol) in self.seen:
            self.skipped.append((line_no, token, "duplicate"))
            return
        self.seen.add((exchange, symbol))
        self.items.append(WatchlistItem(symbol=symbol, exchange=exchange, section=self.section))


def parse_tradingview(text: str, *, source: str = "<text>") -> ParsedWatchlist:
    """Parse the text of a TradingView watchlist file.

    Args:
        text: decoded file content (commas and/or newlines between tokens).
        source: file name or ``"<text>"``; used for ``name_hint`` and error messages.

    Returns:
        The parsed watchlist; implausible tokens and duplicates are listed in ``skipped``.

    Raises:
        WatchlistFormatError: the text is empty, contains NUL bytes (binary data) or holds no
            plausible symbol.
    """
    if "\x00" in text:
        raise WatchlistFormatError(f"{source}: contains NUL bytes — binary data, not a watchlist")
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
    if not builder.items:
        detail = "; ".join(f"line {n}: {t!r} ({r})" for n, t, r in builder.skipped[:3])
        raise WatchlistFormatError(f"{source}: no symbols found" + (f" — {detail}" if detail else ""))
    return ParsedWatchlist(
        name_hint=_name_hint(source),
        items=tuple(builder.items),
        sections=tuple(builder.sections),
        skipped=tuple(builder.skipped),
    )


def decode_watchlist_bytes(data: bytes, *, source: str = "<bytes>") -> str:
    """Decode watchlist file bytes: UTF-8 (BOM allowed), else latin-1 if that gives printable text.

    Args:
        data: raw file content.
        source: file name for error messages.

    Returns:
        The decoded text (BOM removed).

    Raises:
        WatchlistFormatError: NUL bytes (binary file) or neither encoding yields printable text.
    """
    if b"\x00" in data:
        raise WatchlistFormatError(f"{source}: contains NUL bytes — binary data, not a watchlist")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    text = data.decode("latin-1")
    if _CONTROL.search(text):
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
