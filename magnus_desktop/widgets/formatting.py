"""Display formatting of numbers. A missing value (None/NaN) shows as an em dash, never as 0."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

MISSING = "—"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_num(value: Any, decimals: int = 2) -> str:
    return MISSING if is_missing(value) else f"{value:,.{decimals}f}"


def fmt_money(value: Any, decimals: int = 2) -> str:
    if is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def fmt_pct(value: Any, decimals: int = 1, *, scale: float = 100.0) -> str:
    """``value`` is a decimal fraction (0.125 -> "12.5%") unless ``scale`` says otherwise."""
    return MISSING if is_missing(value) else f"{value * scale:,.{decimals}f}%"


def fmt_int(value: Any) -> str:
    return MISSING if is_missing(value) else f"{int(value):,d}"


def fmt_signed_int(value: Any) -> str:
    return MISSING if is_missing(value) else f"{int(value):+d}"


def fmt_date(value: Any) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]
