"""``magnus-desktop scan``: run the wheel scanner on a recorded option-chain CSV.

Example::

    magnus-desktop scan --chain chain.csv --date 2018-01-02 --dte 7:45 --delta 0.10:0.30 --top 10

Defaults come from ``Settings().scanner`` and ``Settings().risk_free_rate``/``dividend_yield``.
Errors (missing file, unknown layout, bad option syntax, date not in the file) print one line on
stderr and return exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # heavy imports stay out of the GUI start-up path (cli.py builds this parser)
    import pandas as pd

    from magnus_desktop.analytics.scanner import ScanParams

EXIT_USAGE = 2


class ScanArgumentError(ValueError):
    """A scan option value that cannot be parsed."""


def add_scan_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``scan`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scan", help="rank short puts / covered calls of an option-chain CSV",
        description="Wheel scanner on a recorded option chain (optopsy, historicaloptiondata, "
        "CBOE DataShop EOD or yfinance CSV). Percent options take percent (25 = 25%%).",
    )
    p.add_argument("--chain", required=True, metavar="FILE", help="option-chain CSV file")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="quote date to scan (default: the latest in the file)")
    p.add_argument("--right", choices=("P", "C", "both"), help="P = cash-secured puts, C = covered calls")
    p.add_argument("--dte", metavar="MIN:MAX", help="days to expiry range, inclusive (either side may be empty)")
    p.add_argument("--delta", metavar="MIN:MAX", help="|delta| range, inclusive, e.g. 0.10:0.30")
    p.add_argument("--min-oi", metavar="N", help="minimum open interest (contracts)")
    p.add_argument("--max-spread", metavar="PCT", help="maximum (ask-bid)/mid in percent, e.g. 25")
    p.add_argument("--min-return", metavar="PCT", help="minimum annualised return in percent, e.g. 10")
    p.add_argument("--premium", choices=("bid", "mid"), help="premium collected: bid (default) or mid")
    p.add_argument("--rate", metavar="R", help="risk-free rate, decimal (0.015 = 1.5%%)")
    p.add_argument("--div-yield", metavar="Q", help="dividend yield, decimal")
    p.add_argument("--top", metavar="N", help="show only the best N rows")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    return p


def run_scan(args: argparse.Namespace) -> int:
    """Run the scan described by parsed ``args``; print the result on stdout.

    Returns:
        0 on success (also when no contract passes), 2 on any input error (one line on stderr).
    """
    from magnus_desktop.analytics.scanner import ScanError, scan
    from magnus_desktop.services.chains import ChainFormatError, chain_for_date, load_chain

    try:
        params = params_from_args(args)
        day = _parse_date(args.date)
        chain = chain_for_date(load_chain(args.chain), day)
        result = scan(chain, params)
    except (ChainFormatError, ScanError, ScanArgumentError) as exc:
        print(f"magnus-desktop scan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(format_result(result, args.format, chain))
        sys.stdout.flush()
    except BrokenPipeError:  # `magnus-desktop scan ... | head`: the reader left, not an error
        sys.stdout = open(os.devnull, "w")  # keeps the final flush quiet
    return 0


def params_from_args(args: argparse.Namespace) -> ScanParams:
    """Scanner parameters: settings defaults overridden by the given options.

    Raises:
        ScanArgumentError: an option value cannot be parsed.
        ScanError: the combination is invalid (e.g. dte min > max).
    """
    from magnus_desktop.analytics.scanner import ScanParams
    from magnus_desktop.services.settings import Settings

    settings = Settings()
    s = settings.scanner
    dte_min, dte_max = _parse_range(args.dte, "--dte", (s.dte_min, s.dte_max), int)
    delta_min, delta_max = _parse_range(args.delta, "--delta", (s.delta_min, s.delta_max), float)
    return ScanParams(
        right=args.right or s.right,
        dte_min=dte_min,
        dte_max=dte_max,
        delta_min=delta_min,
        delta_max=delta_max,
        min_open_interest=_number(args.min_oi, "--min-oi", s.min_open_interest),
        max_spread_pct=_percent(args.max_spread, "--max-spread", s.max_spread_pct),
        min_annualized_return=_percent(args.min_return, "--min-return", s.min_annualized_return),
        premium_source=args.premium or s.premium_source,
        rate=_number(args.rate, "--rate", settings.risk_free_rate),
        div_yield=_number(args.div_yield, "--div-yield", settings.dividend_yield),
        top=None if args.top is None else int(_number(args.top, "--top", 0, integer=True)),
    )


def format_result(result: pd.DataFrame, fmt: str, chain: pd.DataFrame | None = None) -> str:
    """Render a scan result as ``table``, ``csv`` or ``json`` (columns exactly SCAN_COLUMNS)."""
    import pandas as pd

    from magnus_desktop.models.domain import SCAN_COLUMNS

    out = result.loc[:, list(SCAN_COLUMNS)].copy()
    out["expiry"] = pd.to_datetime(out["expiry"]).dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        return str(out.to_csv(index=False, lineterminator="\n"))
    if fmt == "json":
        records = [{k: _json_value(v) for k, v in row.items()} for row in out.to_dict("records")]
        return json.dumps(records, indent=1) + "\n"
    return _table(out, chain)


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
        head = f"{names} quoted {quote}: {len(chain)} contracts, {len(out)} shown\n"
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


def _parse_range(text: str | None, option: str, default: tuple[Any, Any], kind: type) -> tuple[Any, Any]:
    if text is None:
        return default
    parts = text.split(":")
    if len(parts) != 2:
        raise ScanArgumentError(f"{option} expects MIN:MAX (e.g. 7:45), got {text!r}")
    low = _number(parts[0] or None, option, default[0], integer=kind is int)
    high = _number(parts[1] or None, option, default[1], integer=kind is int)
    return kind(low), kind(high)


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


def _percent(text: str | None, option: str, default: float) -> float:
    if text is None:
        return default
    return _number(text.strip().rstrip("%"), option, default) / 100.0
