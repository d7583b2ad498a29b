"""Shared pieces of the statement parsers: errors, the parse result, number and currency checks."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from magnus_desktop.models.history import HistoryEvent, StatementBalance

FileKind = Literal["ibkr-flex", "robinhood-csv"]
FILE_KINDS: tuple[FileKind, ...] = ("ibkr-flex", "robinhood-csv")

#: ISO 4217 codes a brokerage statement may carry (IBKR's cash currencies and the majors).
#: Anything else (``"US$"``, ``"usd"``, ``"XXX"``) is a wrong currency: the whole file is refused.
ISO_CURRENCIES = frozenset(
    "AED AUD BRL CAD CHF CNH CNY CZK DKK EUR GBP HKD HUF IDR ILS INR JPY KRW MXN NOK NZD PLN RUB "
    "SAR SEK SGD THB TRY TWD USD ZAR".split()
)


class ImportFormatError(ValueError):
    """The file cannot be imported; nothing of it is stored.

    Attributes:
        path: the file.
        line: 1-based line of the problem (0 when it concerns the whole file).
        reason: what is wrong, one sentence.
    """

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}, line {line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}; nothing was imported")


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line of the file that holds no importable event, and why."""

    line: int
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason}


@dataclass(slots=True)
class StatementPosition:
    """One open position the statement lists (IBKR ``OpenPosition``); units as ``HistoryEvent``.

    ``cost_basis`` is the whole position's cost in ``currency``; ``mark_price`` per share/unit.
    """

    account: str
    report_date: date
    position_key: str
    asset_category: str
    symbol: str
    underlying: str
    expiry: date | None
    strike: float | None
    right: str | None
    multiplier: float
    qty: float
    mark_price: float | None
    cost_basis: float | None
    currency: str
    fx_rate_to_base: float
    source_line: int


@dataclass(slots=True)
class ParsedFile:
    """Everything a parser read from one file (nothing stored yet)."""

    path: Path
    kind: FileKind
    account: str
    events: list[HistoryEvent] = field(default_factory=list)
    positions: list[StatementPosition] = field(default_factory=list)
    balances: list[StatementBalance] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)


def check_currency(path: Path, line: int, code: str) -> str:
    """``code`` if it is a known ISO 4217 currency, else ``ImportFormatError``."""
    if code in ISO_CURRENCIES:
        return code
    raise ImportFormatError(path, line, f"wrong currency {code!r} (expected an ISO 4217 code such as USD)")


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def parse_number(path: Path, line: int, name: str, text: str) -> float:
    """A finite decimal number (``"-13283"``, ``"0.88221"``); ``ImportFormatError`` otherwise.

    ``float()`` first (fast); what it accepts beyond a plain decimal (``nan``, ``inf``, ``1_000``,
    padding blanks, non-ASCII digits) is refused by the pattern check.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value - value == 0.0 and text.isascii() and "_" not in text and text.strip() == text:
        return value
    if not _NUMBER.fullmatch(text):
        raise ImportFormatError(path, line, f"{name} {text!r} is not a number")
    return float(text)


def parse_optional_number(path: Path, line: int, name: str, text: str | None) -> float | None:
    """Like :func:`parse_number`; an empty or missing value is None."""
    if text is None or text == "":
        return None
    return parse_number(path, line, name, text)
