"""``magnus-desktop scan``: run the wheel scanner on a recorded option-chain CSV.

Example::

    magnus-desktop scan --chain chain.csv --date 2018-01-02 --dte 7:45 --delta 0.10:0.30 --top 10

Units: every rate, yield, return and spread option, and the ``spread_pct``, ``iv``, ``prob_otm``,
``return_on_collateral`` and ``annualized_return`` columns of csv/json output, are decimals
(0.25 = 25 %), as in ``Settings`` and the scanner; the table prints those columns with a % sign.

Defaults come from ``Settings().scanner`` and ``Settings().risk_free_rate``/``dividend_yield``;
option values must lie within the bounds of those Settings fields (read from the pydantic field
metadata). A negative value may follow its option (``--dte -5:30``): :func:`join_negative_values`
turns it into ``--dte=-5:30`` before argparse sees it, so the bound check can name the problem.

Rows of the chain file that the loader skips or de-duplicates (``services.market.chains.read_chain``)
are reported one line per reason on stderr (every format) and, with ``--format json``, in the
output object (:func:`format_result`).

Exit codes: 0 = result printed (also when no contract passes the filters); 2 = any input error
(bad option value, unreadable file, unknown layout, date not in the file, no valid row), one line
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # heavy imports stay out of the GUI start-up path (cli.py builds this parser)
    import pandas as pd
    from pydantic import BaseModel

    from magnus_desktop.analytics.scanner import ScanParams
    from magnus_desktop.services.market.chains import ChainReport

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop scan"


#: Options that take a value which may be negative (a number or a MIN:MAX range).
VALUE_OPTIONS = ("--dte", "--delta", "--min-oi", "--max-spread", "--min-return", "--rate", "--div-yield", "--top")
_NEGATIVE_VALUE = re.compile(r"-[\d.:][\w.:+-]*")

DESCRIPTION = (
    "Wheel scanner on a recorded option chain (optopsy, historicaloptiondata, CBOE DataShop EOD or "
    "yfinance CSV). Units: rates, yields, returns and spreads are decimals, 0.25 = 25%, in options "
    "and in the spread_pct, iv, prob_otm, return_on_collateral and annualized_return columns of csv "
    "and json output (the table prints them with a % sign). A negative value may follow its option "
    "(--dte -5:30 is read as --dte=-5:30) and is then checked against the option's bounds."
)
EPILOG = (
    "Chain rows with impossible values (strike or underlying price missing or <= 0, expiry before "
    "the quote date, an infinite or negative bid/ask/last, bid > ask) are skipped and repeated "
    "contracts dropped (first kept); each reason is reported on stderr with its first file line "
    "numbers (header = line 1), and with --format json also in the output object "
    '{"quote_date", "rows", "skipped": [{"reason", "message", "count", "lines"}], '
    '"duplicates": {"count", "differing", "lines"}}. Exit codes: 0 = result printed (also when no '
    "contract passes the filters); 2 = bad option value, unreadable file, unknown layout, date not "
    "in the file or no valid row (one line on stderr)."
)


class ScanArgumentError(ValueError):
    """A scan option value that cannot be parsed or is out of bounds."""


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit code 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        if "expected one argument" in message:
            message += " (a value starting with '-' can be written --option=VALUE)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def join_negative_values(argv: Sequence[str]) -> list[str]:
    """``["--dte", "-5:30"]`` → ``["--dte=-5:30"]`` for :data:`VALUE_OPTIONS`.

    argparse reads a token such as ``-5:30`` or ``-0.1:0.3`` as an unknown option; joined to its
    option it parses as a value, and the bound check then says what is wrong with it.
    """
    out: list[str] = []
    for token in argv:
        if out and out[-1] in VALUE_OPTIONS and _NEGATIVE_VALUE.fullmatch(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def add_scan_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``scan`` sub-command on an ``argparse`` subparsers object.

    Help strings are %-formatted by argparse (a literal percent sign is written ``%%``); the
    description and epilog are not (no ``%(prog)`` in them), so they use a plain ``%``.
    """
    from magnus_desktop.services.settings import ScannerSettings, Settings

    settings = Settings()
    s = settings.scanner
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scan", help="rank short puts / covered calls of an option-chain CSV",
        description=DESCRIPTION, epilog=EPILOG,
    )
    p.add_argument("--chain", required=True, metavar="FILE", help="option-chain CSV file")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="quote date to scan (default: the latest in the file)")
    p.add_argument("--right", choices=("P", "C", "both"),
                   help=f"P = cash-secured puts, C = covered calls (default {s.right})")
    p.add_argument("--dte", metavar="MIN:MAX",
                   help=f"calendar days to expiry, inclusive, >= 0; either side may be empty "
                   f"(default {s.dte_min}:{s.dte_max})")
    p.add_argument("--delta", metavar="MIN:MAX",
                   help=f"|delta| range, inclusive, 0..1, e.g. 0.10:0.30 (default {s.delta_min:g}:{s.delta_max:g})")
    p.add_argument("--min-oi", metavar="N", help=f"minimum open interest, contracts (default {s.min_open_interest:g})")
    p.add_argument("--max-spread", metavar="DEC",
                   help=f"maximum spread_pct = (ask-bid)/mid, decimal: 0.25 = 25%% "
                   f"(default {_decimal_text(s.max_spread_pct)}; "
                   f"{_bounds_text(ScannerSettings, 'max_spread_pct')}: (ask-bid)/mid never exceeds 2)")
    p.add_argument("--min-return", metavar="DEC",
                   help=f"minimum annualized_return, decimal: 0.10 = 10%% a year "
                   f"(default {_decimal_text(s.min_annualized_return)})")
    p.add_argument("--premium", choices=("bid", "mid"), help=f"premium collected (default {s.premium_source})")
    p.add_argument("--rate", metavar="DEC",
                   help=f"risk-free rate, continuous, decimal: 0.015 = 1.5%% "
                   f"(default {_decimal_text(settings.risk_free_rate)}; {_bounds_text(Settings, 'risk_free_rate')})")
    p.add_argument("--div-yield", metavar="DEC",
                   help=f"dividend yield, continuous, decimal: 0.02 = 2%% "
                   f"(default {_decimal_text(settings.dividend_yield)}; {_bounds_text(Settings, 'dividend_yield')})")
    p.add_argument("--top", metavar="N", help="show only the best N rows (N >= 1; default: all)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="output format (default table; json: see below)")
    return p


def run_scan(args: argparse.Namespace) -> int:
    """Run the scan described by parsed ``args``; print the result on stdout.

    The loader's report (skipped and duplicate rows) goes to stderr, one line per reason.

    Returns:
        0 on success (also when no contract passes), 2 on any input error (one line on stderr).
    """
    from magnus_desktop.analytics.scanner import ScanError, scan
    from magnus_desktop.services.market.chains import ChainFormatError, chain_for_date, read_chain

    try:
        params = params_from_args(args)
        day = _parse_date(args.date)
        loaded = read_chain(args.chain)
        for message in loaded.report.messages():
            print(f"{PROG}: warning: {message}", file=sys.stderr)
        chain = chain_for_date(loaded.frame, day)
        result = scan(chain, params)
    except (ChainFormatError, ScanError, ScanArgumentError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(format_result(result, args.format, chain, loaded.report))
        sys.stdout.flush()
    except BrokenPipeError:  # `magnus-desktop scan ... | head`: the reader left, not an error
        sys.stdout = open(os.devnull, "w")  # keeps the final flush quiet
    return EXIT_OK


def params_from_args(args: argparse.Namespace) -> ScanParams:
    """Scanner parameters: settings defaults overridden by the given options.

    Every value is checked against the bounds of its ``Settings`` field (pydantic metadata).

    Raises:
        ScanArgumentError: an option value cannot be parsed or is out of bounds.
    """
    from magnus_desktop.analytics.scanner import ScanParams
    from magnus_desktop.services.settings import ScannerSettings, Settings

    settings = Settings()
    s = settings.scanner
    dte = _range(args.dte, "--dte", ("dte_min", "dte_max"), (s.dte_min, s.dte_max), int, "days")
    delta = _range(args.delta, "--delta", ("delta_min", "delta_max"), (s.delta_min, s.delta_max), float, "|delta|")
    max_spread = _bounded(_decimal(args.max_spread, "--max-spread", s.max_spread_pct, "0.25 = 25%"),
                          "--max-spread", ScannerSettings, "max_spread_pct", "decimal: 0.25 = 25%")
    return ScanParams(
        right=args.right or s.right,
        dte_min=int(dte[0]),
        dte_max=int(dte[1]),
        delta_min=delta[0],
        delta_max=delta[1],
        min_open_interest=_bounded(_number(args.min_oi, "--min-oi", s.min_open_interest),
                                   "--min-oi", ScannerSettings, "min_open_interest", "contracts"),
        max_spread_pct=max_spread,
        min_annualized_return=_bounded(
            _decimal(args.min_return, "--min-return", s.min_annualized_return, "0.10 = 10%"),
            "--min-return", ScannerSettings, "min_annualized_return", "decimal: 0.10 = 10% a year"),
        premium_source=args.premium or s.premium_source,
        rate=_bounded(_decimal(args.rate, "--rate", settings.risk_free_rate, "0.015 = 1.5%"),
                      "--rate", Settings, "risk_free_rate", "decimal: 0.015 = 1.5%"),
        div_yield=_bounded(_decimal(args.div_yield, "--div-yield", settings.dividend_yield, "0.02 = 2%"),
                           "--div-yield", Settings, "dividend_yield", "decimal: 0.02 = 2%"),
        top=_top(args.top),
    )


def format_result(result: pd.DataFrame, fmt: str, chain: pd.DataFrame | None = None,
                  report: ChainReport | None = None) -> str:
    """Render a scan result as ``table``, ``csv`` or ``json`` (rows with exactly SCAN_COLUMNS).

    ``json`` is one object: ``quote_date`` (YYYY-MM-DD of the scanned chain, null without one),
    ``rows`` (a list of objects keyed by SCAN_COLUMNS, non-finite numbers as null), ``skipped``
    (``[{"reason", "message", "count", "lines"}]``, see ``services.market.chains.SKIP_REASONS``) and
    ``duplicates`` (``{"count", "differing", "lines"}``); ``skipped`` and ``duplicates`` describe
    the whole file, ``lines`` hold the first file line numbers (header = line 1).
    """
    import pandas as pd

    from magnus_desktop.models.domain import SCAN_COLUMNS

    out = result.loc[:, list(SCAN_COLUMNS)].copy()
    out["expiry"] = pd.to_datetime(out["expiry"]).dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        return str(out.to_csv(index=False, lineterminator="\n"))
    if fmt == "json":
        return json.dumps(_json_document(out, chain, report), indent=1) + "\n"
    return _table(out, chain)


def _json_document(out: pd.DataFrame, chain: pd.DataFrame | None, report: ChainReport | None) -> dict[str, Any]:
    import pandas as pd

    from magnus_desktop.services.market.chains import DuplicateRows

    quote = None
    if chain is not None and len(chain):
        quote = pd.Timestamp(chain["quote_date"].max()).date().isoformat()
    return {
        "quote_date": quote,
        "rows": [{k: _json_value(v) for k, v in row.items()} for row in out.to_dict("records")],
        "skipped": [s.as_dict() for s in report.skipped] if report else [],
        "duplicates": (report.duplicates if report else DuplicateRows()).as_dict(),
    }


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_PCT = ("spread_pct", "iv", "prob_otm", "return_on_collateral", "annualized_return")
_TABLE_FORMATS = {
    "strike": "{:g}".format, "bid": "{:.2f}".format, "ask": "{:.2f}".format, "mid": "{:.2f}".format,
    "open_interest": "{:.0f}".format, "delta": "{:+.3f}".format, "score": "{:.4f}".format,
    **{c: "{:.1%}".format for c in _PCT},
}


def _table(out: pd.DataFrame, chain: pd.DataFrame | None) -> str:
    import pandas as pd

    head = ""
    if chain is not None and len(chain):
        quote = pd.Timestamp(chain["quote_date"].max()).date().isoformat()
        names = ", ".join(sorted(chain["underlying"].astype(str).unique()))
        contracts = "1 contract" if len(chain) == 1 else f"{len(chain)} contracts"
        head = f"{names} quoted {quote}: {contracts}, {len(out)} shown\n"
    if out.empty:
        return head + "no contract passes the filters" + _empty_hint(chain) + "\n"
    text = str(out.to_string(index=False, formatters=_TABLE_FORMATS, na_rep="-"))
    return head + text + "\n"


def _empty_hint(chain: pd.DataFrame | None) -> str:
    if chain is None or chain.empty:
        return ""
    if (chain["expiry"] <= chain["quote_date"]).all():
        return " (every contract expires on its quote date, dte 0: pick an earlier --date)"
    return ""


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ScanArgumentError(f"--date expects YYYY-MM-DD, got {text!r}") from None


def _range(text: str | None, option: str, fields: tuple[str, str], default: tuple[float, float],
           kind: type, unit: str) -> tuple[float, float]:
    """``MIN:MAX`` (either side may be empty = its default), each side within its field's bounds."""
    from magnus_desktop.services.settings import ScannerSettings

    if text is None:
        return default
    parts = text.split(":")
    if len(parts) != 2:
        raise ScanArgumentError(f"{option} expects MIN:MAX (e.g. 7:45), got {text!r}")
    low = _number(parts[0] or None, option, default[0], integer=kind is int)
    high = _number(parts[1] or None, option, default[1], integer=kind is int)
    for value, name in zip((low, high), fields, strict=True):
        if _violations(value, ScannerSettings, name):
            raise ScanArgumentError(
                f"{option} bounds must be {_bounds_text(ScannerSettings, name)} ({unit}), got {text}")
    if low > high:
        raise ScanArgumentError(
            f"{option} MIN must be <= MAX, got {low:g}:{high:g} (an empty side takes its default)")
    return low, high


def _number(text: str | None, option: str, default: float, integer: bool = False) -> float:
    if text is None:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ScanArgumentError(f"{option} expects {kind}, got {text!r}") from None
    if not math.isfinite(value):
        raise ScanArgumentError(f"{option} expects a finite number, got {text!r}")
    return value


def _decimal(text: str | None, option: str, default: float, example: str) -> float:
    """A decimal fraction; a trailing ``%`` is refused (one unit convention, no guessing)."""
    if text is not None and text.strip().endswith("%"):
        raise ScanArgumentError(f"{option} takes a decimal ({example}), got {text!r}")
    return _number(text, option, default)


def _top(text: str | None) -> int | None:
    if text is None:
        return None
    top = int(_number(text, "--top", 0, integer=True))
    if top < 1:
        raise ScanArgumentError(f"--top must be >= 1, got {text}")
    return top


def _limits(model: type[BaseModel], name: str) -> list[tuple[str, float]]:
    """``[(">=", -0.05), ("<=", 0.25)]`` from a pydantic field's ``ge``/``gt``/``le``/``lt`` metadata."""
    found = []
    for meta in model.model_fields[name].metadata:
        for attr, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            limit = getattr(meta, attr, None)
            if limit is not None:
                found.append((symbol, float(limit)))
    return found


_COMPARE = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}


def _violations(value: float, model: type[BaseModel], name: str) -> bool:
    return any(not _COMPARE[symbol](float(value), limit) for symbol, limit in _limits(model, name))


def _bounds_text(model: type[BaseModel], name: str) -> str:
    return " and ".join(f"{symbol} {limit:g}" for symbol, limit in _limits(model, name)) or "any value"


def _bounded(value: float, option: str, model: type[BaseModel], name: str, unit: str) -> float:
    if _violations(value, model, name):
        raise ScanArgumentError(f"{option} must be {_bounds_text(model, name)} ({unit}), got {value:g}")
    return value


def _decimal_text(value: float) -> str:
    """``0.25`` → ``0.25 = 25%%`` (for argparse help strings, which are %-formatted)."""
    return f"{value:g} = {value * 100:g}%%"

