"""De-duplication of alert candidates (pure).

A candidate is dropped when an alert with the same (monitor, subject) was raised less than the
cool-down before ``now`` with the same or a higher priority (an escalation, HIGH → CRITICAL, is
raised), or while such an alert is snoozed. Within one batch the most urgent candidate per key wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from magnus_desktop.models.alerts import Alert, AlertCandidate


def dedupe(candidates: Iterable[AlertCandidate], recent: Sequence[Alert], now: datetime,
           cooldown: timedelta) -> list[AlertCandidate]:
    """The candidates to raise at ``now`` (see the module docstring), in their given order."""
    best: dict[tuple[str, str], AlertCandidate] = {}
    for cand in candidates:
        held = best.get(cand.key)
        if held is None or cand.priority > held.priority:
            best[cand.key] = cand
    blocking: dict[tuple[str, str], int] = {}
    for alert in recent:
        live = now - alert.raised_at < cooldown and alert.raised_at <= now
        if live or alert.snoozed(now):
            blocking[alert.key] = max(blocking.get(alert.key, 0), int(alert.priority))
    return [c for c in best.values() if int(c.priority) > blocking.get(c.key, 0)]
