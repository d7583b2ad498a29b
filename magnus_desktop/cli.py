"""Command line: ``magnus-desktop`` (GUI), ``magnus-desktop scan ...`` (scanner), ``import``, ``alerts``, ``risk``,
``predictor``, ``elo``, ``research``, ``ask``, ``--screenshot``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magnus-desktop",
        description="Options workstation. With no command it opens the window on the offline demo "
        "(replay of real recorded 2018 SPXW option chains).",
    )
    parser.add_argument("--db-url", help="database for this session only, never saved: sqlite:///file or postgresql://user@host/db "
                        "(the password is read from the keyring; one typed in the URL is masked in every message); "
                        "default: the Settings choice, else SQLite in the user data dir")
    parser.add_argument("--screenshot", metavar="PATH", help="render the main window to a PNG and exit")
    parser.add_argument("--replay-date", type=_iso_date, metavar="YYYY-MM-DD", help="advance the replay to this date first")
    parser.add_argument("--theme", choices=("light", "dark"), help="override the saved theme")
    from magnus_desktop.cli_scan import OneLineErrorParser, add_scan_parser

    sub = parser.add_subparsers(dest="command", parser_class=OneLineErrorParser)
    add_scan_parser(sub)
    from magnus_desktop.cli_import import add_import_parser

    add_import_parser(sub)
    from magnus_desktop.cli_risk import add_risk_parser

    add_risk_parser(sub)
    from magnus_desktop.cli_alerts import add_alerts_parser

    add_alerts_parser(sub)
    from magnus_desktop.cli_predictor import add_predictor_parser

    add_predictor_parser(sub)
    from magnus_desktop.cli_elo import add_elo_parser

    add_elo_parser(sub)

    from magnus_desktop.cli_research import add_research_parser

    add_research_parser(sub)

    from magnus_desktop.cli_ask import add_ask_parser

    add_ask_parser(sub)
    return parser


def utf8_output() -> None:
    """The headless commands write UTF-8 to stdout and stderr whatever the console's code page.

    On Windows a piped stdout is cp1252, which cannot encode the reports' "→", "≤" or a non-Latin
    ticker: ``print`` raised UnicodeEncodeError mid-report (found under Wine). Streams that are not
    text files of their own (a test's capture) are left alone."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    from magnus_desktop.cli_scan import join_negative_values

    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else argv))
    if args.command is not None:
        utf8_output()
    from magnus_desktop.services.desktop.hangdump import arm_from_env

    arm_from_env()  # MAGNUS_DUMP_STACKS_AFTER: where a hanging run waits (off unless set)
    if args.command == "scan":
        from magnus_desktop.cli_scan import run_scan

        return run_scan(args)
    if args.command == "import":
        from magnus_desktop.cli_import import run_import

        return run_import(args)
    if args.command == "risk":
        from magnus_desktop.cli_risk import run_risk

        return run_risk(args)
    if args.command == "alerts":
        from magnus_desktop.cli_alerts import run_alerts

        return run_alerts(args)
    if args.command == "predictor":
        from magnus_desktop.cli_predictor import run_predictor

        return run_predictor(args)
    if args.command == "elo":
        from magnus_desktop.cli_elo import run_elo_command

        return run_elo_command(args)
    if args.command == "research":
        from magnus_desktop.cli_research import run_research

        return run_research(args)
    if args.command == "ask":
        from magnus_desktop.cli_ask import run_ask

        return run_ask(args)
    from magnus_desktop.app import run_app

    return run_app(args, list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
