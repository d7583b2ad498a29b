"""Numbers as people write them: find them in text, match them against data, format them.

``0.2372``, ``23.7 %``, ``23.72%``, ``$1,234.50``, ``-1,234.5``, ``2,700`` are all read; a written
number matches a data value when it equals the value (or the value × 100 when written with a % sign)
rounded or truncated to the decimals it is written with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−+])?\s?(?P<dollar>\$)?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<pct>\s?%| percent)?(?![\w])")


@dataclass(frozen=True, slots=True)
class WrittenNumber:
    """One number found in text: its value as written, decimals shown, % sign, and where it is."""

    value: float
    decimals: int
    percent: bool
    start: int
    end: int
    text: str


def find_numbers(text: str) -> list[WrittenNumber]:
    """Every number in ``text`` (dates like 2018-02-05 give 2018, 02 and 05)."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group("num").replace(",", "")
        value = float(raw)
        if m.group("sign") in ("-", "−"):
            value = -value
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        out.append(WrittenNumber(value, decimals, bool(m.group("pct")), m.start(), m.end(), m.group(0)))
    return out


def matches(written: WrittenNumber, value: float) -> bool:
    """``written`` is ``value`` rounded or truncated to the decimals it is written with (``value`` × 100
    too when it has a % sign, or when a decimal below 1.5 is written as a percentage without one).

    Signs: a written magnitude matches a negative value too ("a loss of $1,234.50").
    """
    if not math.isfinite(value):
        return False
    unit = 10.0 ** -written.decimals
    candidates = (value * 100.0, value) if written.percent else (value, value * 100.0 if abs(value) < 1.5 else value)
    for cand in candidates:
        c = abs(cand)
        w = abs(written.value)
        rounded = abs(w - c) <= unit / 2 + 1e-9
        truncated = 0.0 <= c - w < unit - 1e-12
        if (rounded or truncated) and (w != 0.0 or c < unit / 2):
            return True
    return False


def numbers_of(values: Iterable[object]) -> list[float]:
    """The numbers inside data values: floats/ints as they are, dates as year, month and day,
    strings through :func:`find_numbers`."""
    out: list[float] = []
    for v in values:
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            if math.isfinite(float(v)):
                out.append(float(v))
        elif isinstance(v, datetime | date):
            out.extend((float(v.year), float(v.month), float(v.day)))
        elif isinstance(v, str):
            out.extend(n.value for n in find_numbers(v))
    return out


def contains_value(text: str, value: float) -> bool:
    """Whether ``text`` states ``value`` in any of the accepted ways."""
    return any(matches(w, value) for w in find_numbers(text))


def fmt_price(value: float) -> str:
    """``2,648.94`` (two decimals, thousands separated); ``n/a`` when missing."""
    return "n/a" if not math.isfinite(value) else f"{value:,.2f}"


def fmt_usd(value: float) -> str:
    """``$1,234.50`` / ``-$1,234.50``; ``n/a`` when missing."""
    if not math.isfinite(value):
        return "n/a"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def fmt_pct(value: float, decimals: int = 1) -> str:
    """A decimal as a percentage: ``0.2372`` → ``23.7 %``; ``n/a`` when missing."""
    return "n/a" if not math.isfinite(value) else f"{value * 100:.{decimals}f} %"


def fmt_qty(value: float) -> str:
    """A count or signed quantity: ``-3``, ``1,250``; decimals kept when not whole."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
