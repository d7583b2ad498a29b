"""What to tell the trader when a scan found nothing (pure functions; a few ~1 ms scans each)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from magnus_desktop.analytics.scanner import ScanParams, scan

#: The widest DTE filter the scanner bar offers, calendar days.
MAX_DTE = 3650


def _relaxations(p: ScanParams) -> list[tuple[str, dict[str, Any]]]:
    """Each filter tighter than its loosest setting: (what to change, the loosest values)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if p.right != "both":
        out.append(("include both puts and calls", {"right": "both"}))
    if p.dte_min > 0 or p.dte_max < MAX_DTE:
        out.append((f"widen DTE (now {p.dte_min}–{p.dte_max})", {"dte_min": 0, "dte_max": MAX_DTE}))
    if p.delta_min > 0 or p.delta_max < 1:
        out.append((f"widen |delta| (now {p.delta_min:.2f}–{p.delta_max:.2f})", {"delta_min": 0.0, "delta_max": 1.0}))
    if p.min_open_interest > 0:
        out.append((f"lower min OI (now {p.min_open_interest:,.0f})", {"min_open_interest": 0.0}))
    if p.max_spread_pct < 1:
        out.append((f"raise max spread (now {p.max_spread_pct:.0%})", {"max_spread_pct": math.inf}))
    if p.min_annualized_return > 0:
        out.append((f"lower min annualized return (now {p.min_annualized_return:.0%})", {"min_annualized_return": 0.0}))
    return out


def loosen_hints(params: ScanParams, chain: pd.DataFrame | None = None, day: date | None = None) -> list[str]:
    """What to loosen when a scan found nothing.

    With the day's ``chain``, each filter is relaxed alone (one ~1 ms scan each) and only those
    that would let rows through are named, with the count; without it (or when no single filter
    is to blame) every filter tighter than its loosest setting is named.
    """
    relaxations = _relaxations(params)
    if chain is not None and len(chain):
        helpful = []
        for text, change in relaxations:
            n = len(scan(chain, replace(params, **change), as_of=day))
            if n:
                helpful.append(f"{text}: {n} would pass")
        if helpful:
            return helpful
    return [text for text, _change in relaxations]


def no_later_expiry(chain: pd.DataFrame | None, day: date, last_day: date | None = None) -> str | None:
    """The explanation when the day's recorded chain has no expiry after ``day`` (expiry day of the
    last recorded series): no filter can help, as the scanner skips contracts on their expiry day."""
    if chain is None or not len(chain):
        return None
    latest = pd.Timestamp(chain["expiry"].max()).date()
    if latest > day:
        return None
    if last_day is None:
        return f"No expiries after {day.isoformat()} in the chain recorded that day."
    if day >= last_day:
        return f"No expiries after {day.isoformat()} in the recorded data (last recorded day {last_day.isoformat()})."
    return (f"No expiries after {day.isoformat()} in the chain recorded that day (last recorded day "
            f"{last_day.isoformat()}): step the replay forward.")
