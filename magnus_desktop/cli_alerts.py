"""``magnus-desktop alerts``: replay the demo headless and print every alert raised.

Example::

    magnus-desktop alerts --replay 2018-01-02:2018-02-28 --monitors expiration,delta --format json

The same code path as the app: an ``AppContext`` on a temporary in-memory database (the demo
account is seeded from the bundled 2018 SPXW chains), one refresh pass per replay day, the
``AlertService`` with the default thresholds of ``Settings().alerts``; ``--monitors`` switches the
others off. Nothing is saved; your settings and database are not touched.

Output: ``--format table`` (default) one line per alert: day, monitor, priority, subject, facts;
``--format json`` a list of ``{"day", "monitor", "priority", "subject", "title", "facts":
[{"label", "value", "unit"}]}`` (value NaN → null). Exit codes: 0 = printed (also when nothing was
raised); 2 = bad option value (one line on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magnus_desktop.models.alerts import Alert

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop alerts"
#: the monitor names (kept here so building the parser imports no service)
MONITOR_CHOICES = ("expiration", "profit_target", "assignment", "delta", "earnings", "watchlist", "iv", "kalshi")


class AlertsArgumentError(ValueError):
    """An option value of ``alerts`` that cannot be used; the message is for the user."""


def add_alerts_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``alerts`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "alerts", help="replay the demo headless and print every alert raised",
        description="Replay the demo account over recorded days and print every alert the monitors raise "
        "(day, monitor, priority, subject, facts), with the app's own services and default thresholds.",
        epilog=f"Monitors: {', '.join(MONITOR_CHOICES)}. Exit codes: 0 = printed; 2 = bad option value.",
    )
    p.add_argument("--replay", required=True, metavar="START:END",
                   help="first and last replay day, YYYY-MM-DD:YYYY-MM-DD (the bundled data: 2018-01-02:2018-02-28)")
    p.add_argument("--monitors", nargs="+", metavar="NAME",
                   help="only these monitors (names separated by spaces or commas; default: all)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    return p


def parse_range(text: str) -> tuple[date, date]:
    """``"2018-01-02:2018-02-28"`` → the two dates. Raises AlertsArgumentError."""
    parts = text.split(":")
    if len(parts) != 2:
        raise AlertsArgumentError(f"--replay: expected START:END as YYYY-MM-DD:YYYY-MM-DD, got {text!r}")
    try:
        start, end = (date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise AlertsArgumentError(f"--replay: expected START:END as YYYY-MM-DD:YYYY-MM-DD, got {text!r}") from None
    if end < start:
        raise AlertsArgumentError(f"--replay: the end {end} is before the start {start}")
    return start, end


def parse_monitors(values: list[str] | None) -> tuple[str, ...]:
    """Names from ``--monitors`` (spaces or commas). Raises AlertsArgumentError for an unknown name."""
    if not values:
        return MONITOR_CHOICES
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    unknown = [n for n in names if n not in MONITOR_CHOICES]
    if unknown or not names:
        raise AlertsArgumentError(f"--monitors: unknown monitor {', '.join(unknown) or '(none given)'}; "
                                  f"choose from {', '.join(MONITOR_CHOICES)}")
    return names


def run_alerts(args: argparse.Namespace) -> int:
    try:
        start, end = parse_range(args.replay)
        names = parse_monitors(args.monitors)
    except AlertsArgumentError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    result = asyncio.run(_replay(start, end, names))
    if isinstance(result, str):
        print(f"{PROG}: error: {result}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(format_alerts(result, args.format))
    return EXIT_OK


async def _replay(start: date, end: date, names: tuple[str, ...]) -> list[Alert] | str:
    from magnus_desktop.services.alerts.monitors import MONITORS
    from magnus_desktop.services.alerts.replay import replay_alerts
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.settings import Settings, SettingsStore

    settings = Settings()
    for spec in MONITORS:
        setattr(settings.alerts, f"{spec.settings_prefix}_enabled", spec.name in names)
    with tempfile.TemporaryDirectory(prefix="magnus-alerts-") as tmp:
        ctx = AppContext(SettingsStore(Path(tmp) / "settings.json"), settings, db_url="sqlite://",
                         settings_read_only="the alerts command saves nothing")
        ctx.alerts.scheduled = False
        try:
            days = await ctx.run_compute(ctx.market.trading_days)
            inside = [d for d in days if start <= d <= end]
            if not inside:
                return f"--replay: no replay day between {start} and {end}; the recorded data covers {days[0]} to {days[-1]}"
            first_pass: list[Alert] = []  # the start-up refresh already runs the monitors on the first day
            ctx.alerts.raised.connect(first_pass.extend)
            await ctx.start(replay_date=inside[0])
            await ctx.refreshed.wait()
            ctx.alerts.raised.disconnect(first_pass.extend)
            return first_pass + await replay_alerts(ctx, inside[0], inside[-1])
        finally:
            await ctx.aclose()


def _value(value: float | str) -> float | str | None:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def alert_record(a: Alert) -> dict[str, Any]:
    """One alert as the JSON output object."""
    return {"day": a.day.isoformat(), "monitor": a.monitor, "priority": a.priority.name, "subject": a.subject,
            "title": a.title, "facts": [{"label": f.label, "value": _value(f.value), "unit": f.unit} for f in a.facts]}


def format_alerts(alerts: list[Alert], fmt: str) -> str:
    """``table``: one line per alert (day, monitor, priority, subject, facts); ``json``: a list."""
    if fmt == "json":
        return json.dumps([alert_record(a) for a in alerts], indent=2) + "\n"
    if not alerts:
        return "No alerts raised.\n"
    rows = [(a.day.isoformat(), a.monitor, a.priority.name, a.subject.strip(), a.facts_text()) for a in alerts]
    head = ("day", "monitor", "priority", "subject", "facts")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in [head, *rows]]
    return "\n".join(lines) + f"\n{len(alerts)} alert(s).\n"
