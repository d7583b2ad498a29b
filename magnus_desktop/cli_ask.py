"""``magnus-desktop ask``: one question to the assistant, headless.

Usage::

    magnus-desktop ask "QUESTION" [--replay-date YYYY-MM-DD] [--account demo] [--format text|json]

The same router, tools, model and retrieval as the Assistant dock, on the offline demo: an
``AppContext`` on a temporary in-memory database (the demo account seeded from the bundled 2018 SPXW
chains) at the replay day (default: the first recorded day, as a new install starts). The model is
the one of Settings → Assistant (the bundled SmolLM2-135M when none is chosen); the knowledge index
lives in the user data dir (built on first use). Nothing is saved to your database or settings.

``--format json`` prints ``{"answer": str, "tool_calls": [{"name", "arguments", "result"}],
"citations": [{"source", "text"}], "model": str, "latency_ms": float}``.

Exit codes: 0 = answered (also "No data for …" and apologies); 2 = bad input (unknown account,
replay date outside the recording, empty question), one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magnus_desktop.services.assistant.service import Answer

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop ask"
ACCOUNTS = ("demo",)


def add_ask_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``ask`` sub-command on an ``argparse`` subparsers object."""
    from magnus_desktop.cli import _iso_date

    p: argparse.ArgumentParser = subparsers.add_parser(
        "ask", help="ask the assistant one question (offline demo, local model)",
        description="Answer one question with the assistant's router, tools, local model and cited retrieval, "
                    "on the offline demo account and the recorded 2018 data.",
        epilog="Exit codes: 0 = answered; 2 = bad input (one line on stderr).")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--replay-date", dest="ask_replay_date", type=_iso_date, metavar="YYYY-MM-DD",
                   help="replay day the account and 'today' refer to (default: the first recorded day)")
    p.add_argument("--account", default="demo", help="account (only 'demo' headless)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    return p


def run_ask(args: argparse.Namespace) -> int:
    if args.account not in ACCOUNTS:
        print(f"{PROG}: error: unknown account {args.account!r}; headless the assistant answers for: "
              f"{', '.join(ACCOUNTS)}", file=sys.stderr)
        return EXIT_USAGE
    if not args.question.strip():
        print(f"{PROG}: error: the question is empty", file=sys.stderr)
        return EXIT_USAGE
    result = asyncio.run(ask_once(args.question, args.ask_replay_date))
    if isinstance(result, str):
        print(f"{PROG}: error: {result}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(format_answer(result, args.format))
    sys.stdout.flush()  # the answer is out even if something holds the interpreter's exit up
    return EXIT_OK


async def ask_once(question: str, replay_date: date | None, *, use_model: bool = True) -> Answer | str:
    """Start a demo context at ``replay_date``, answer ``question``, close. A str = a usage error."""
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.settings import Settings, SettingsStore

    settings = Settings()
    # the user's Settings → Assistant (model file, context, threads, temperature, notes folder); the
    # rest stays at the offline demo defaults. Read only (never moved aside): a bad file gives the defaults.
    stored, problem = SettingsStore(app_paths().settings_file).peek()
    if problem is not None:
        print(f"{PROG}: warning: {problem}", file=sys.stderr)
    settings.assistant = stored.assistant
    with tempfile.TemporaryDirectory(prefix="magnus-ask-") as tmp:
        ctx = AppContext(SettingsStore(Path(tmp) / "settings.json"), settings, db_url="sqlite://",
                         settings_read_only="the ask command saves nothing")
        ctx.alerts.scheduled = False
        ctx.assistant.use_model = use_model
        try:
            days = await ctx.run_compute(ctx.market.trading_days)
            if replay_date is not None and replay_date not in days:
                return (f"--replay-date {replay_date.isoformat()} is not a replay day; the recorded data covers "
                        f"{days[0].isoformat()} to {days[-1].isoformat()} (trading days only)")
            await ctx.start(replay_date=replay_date or days[0])
            await ctx.refreshed.wait()
            answer = await ctx.assistant.ask(question)
            state = ctx.assistant.model_state
            if use_model and state.status == "unavailable":  # e.g. a truncated or non-GGUF model file
                print(f"{PROG}: warning: no language model: {state.message}", file=sys.stderr)
            return answer
        finally:
            await ctx.aclose()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def format_answer(answer: Answer, fmt: str) -> str:
    """``json``: the documented object; ``text``: the answer, each tool result, sources, model line."""
    from magnus_desktop.services.assistant.service import DISCLAIMER

    if fmt == "json":
        return json.dumps(answer.to_json(), indent=2, default=str) + "\n"
    lines = [answer.text, ""]
    for call in answer.tool_calls:
        lines.append(f"[tool {call.name} {json.dumps(call.arguments)}]")
        r = call.result
        if r is None:
            lines.append(f"  {call.error}")
            continue
        for label, value, unit in r.fields:
            lines.append(f"  {label}: {_cell(value)}{' ' + unit if unit else ''}")
        if r.columns:
            lines.append("  " + " | ".join(r.columns))
            lines += ["  " + " | ".join(_cell(v) for v in row) for row in r.rows]
        if r.source:
            lines.append(f"  source: {r.source}")
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"[{i}] {c['source']}")
    lines += ["", f"model: {answer.model} · {answer.latency_ms:,.0f} ms", DISCLAIMER]
    return "\n".join(lines) + "\n"
