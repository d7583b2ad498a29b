"""Alert values shared by the monitors, the alert service, the CLI and the Alerts dock (no I/O).

A monitor returns :class:`AlertCandidate` values: what it saw (``facts``: the numbers that
triggered it, each with its unit) and what the trader could do (``actions``). The alert service
turns a candidate that survives de-duplication into a persisted :class:`Alert`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Literal

AlertState = Literal["new", "acknowledged", "dismissed"]
ALERT_STATES: tuple[AlertState, ...] = ("new", "acknowledged", "dismissed")
#: suggested actions an alert can offer (the dock shows one button each)
ActionName = Literal["open_position", "close", "roll", "open_ticket", "open_chart"]
ACTION_LABELS: dict[str, str] = {
    "open_position": "Open position", "close": "Close", "roll": "Roll", "open_ticket": "Open ticket",
    "open_chart": "Open chart",
}


class Priority(IntEnum):
    """Alert priority; a larger value is more urgent (sorts and compares naturally)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Priority:
        """``"HIGH"`` → ``Priority.HIGH``. Raises ValueError naming the unknown text."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown priority {text!r}; expected one of {', '.join(p.name for p in cls)}") from None


@dataclass(frozen=True, slots=True)
class Fact:
    """One number (or short text) behind an alert: ``label``, ``value`` and its ``unit``
    ("days", "USD/share", "shares", "%", "vol points", "" for plain text)."""

    label: str
    value: float | str
    unit: str = ""

    def text(self) -> str:
        """``"dte: 3 days"``, ``"captured: 62.5 %"``; NaN shows as "n/a"."""
        value = self.value
        if isinstance(value, float):
            if math.isnan(value):
                shown = "n/a"
            elif value.is_integer() and abs(value) < 1e15:
                shown = f"{value:,.0f}"
            else:
                shown = f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
        else:
            shown = str(value)
        return f"{self.label}: {shown}{' ' + self.unit if self.unit and shown != 'n/a' else ''}"


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """What a monitor found. ``subject`` names what it is about (an OCC symbol, "portfolio", a
    ticker); (``monitor``, ``subject``) is the de-duplication key."""

    monitor: str
    subject: str
    priority: Priority
    title: str
    facts: tuple[Fact, ...] = ()
    actions: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.monitor, self.subject)


@dataclass(frozen=True, slots=True)
class Alert:
    """A raised, persisted alert.

    Attributes:
        alert_id: database id (0 before it is stored).
        day: the (replay) trading day it was raised on; raised_at: when (UTC, the replay close in replay).
        snoozed_until: hidden until then (UTC), or None.
    """

    alert_id: int
    account: str
    monitor: str
    subject: str
    priority: Priority
    title: str
    day: date
    raised_at: datetime
    facts: tuple[Fact, ...] = ()
    actions: tuple[str, ...] = ()
    state: AlertState = "new"
    snoozed_until: datetime | None = None
    acknowledged_at: datetime | None = field(default=None, compare=False)
    dismissed_at: datetime | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.monitor, self.subject)

    def snoozed(self, now: datetime) -> bool:
        """Hidden by a snooze at ``now``."""
        return self.snoozed_until is not None and self.snoozed_until > now

    def facts_text(self) -> str:
        """The facts on one line, ``"; "``-separated."""
        return "; ".join(f.text() for f in self.facts)
