"""``magnus-desktop research``: the per-symbol research report, headless.

Usage::

    magnus-desktop research SYMBOL [--replay-date YYYY-MM-DD] [--format md|json]

Offline, on the bundled recorded data: daily bars (SPY, AAPL, GOOG, VIX, SPX), the SPXW chain history
(IV rank, term structure, wheel candidates for SPX/SPXW), the S&P 500 sector list, the earnings file
of *Settings → Research* (else the report says there is no earnings source) and the demo account's
positions. ``--replay-date`` defaults to the last day of the recorded chain (2018-02-28).

JSON fields (prices USD per share; ``iv`` decimals; ``rsi_14`` 0–100; ``iv_rank`` 0–100)::

    {"symbol", "as_of", "sector",
     "bars": {"source", "count", "first", "last", "stale"},
     "indicators": {"as_of", "close", "rsi_14", "macd", "macd_signal", "macd_hist", "atr_14",
                    "sma_20", "sma_50", "sma_200", "ema_20", "ema_50", "ema_200", "bb_upper", "bb_lower"} | null,
     "zones": [{"kind", "low", "high", "status", "tests", "base_start", "base_end", "departure",
                "strength_atr", "distance_pct", "distance_atr"}], "zones_invalidated",
     "iv_rank": number | null,
     "iv": {"atm_iv", "as_of", "days", "first_day", "min", "max", "term_structure": [{"expiry", "dte", "atm_iv"}], "message"},
     "earnings": {"status", "source", "message", "next", "days_to_next", "last"},
     "wheel_candidates": [{"underlying", "expiry", "dte", "strike", "right", "bid", "iv", "delta", "prob_otm",
                           "annualized_return", "score"}],
     "position": {"positions", "qty", "delta", "gamma", "theta", "vega", "market_value", "unrealized_pnl", "units"} | null,
     "analysts": {"trend"|"volatility"|"risk"|"income": {"verdict", "numbers": {...}, "reasons": [...]}},
     "missing": ["what is missing or stale, in words"]}

Exit codes: 0 = printed (also when parts are missing: see ``missing``); 2 = bad input (not a ticker,
a date before the symbol's data), one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop research"


def add_research_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``research`` sub-command on an ``argparse`` subparsers object."""
    from magnus_desktop.cli import _iso_date

    p: argparse.ArgumentParser = subparsers.add_parser(
        "research", help="the research report of a symbol (indicators, zones, IV rank, earnings, analysts)",
        description="The research report of SYMBOL as of a day, from the bundled recorded data: indicators "
        "(RSI(14) Wilder, MACD(12,26,9), ATR(14), SMA/EMA 20/50/200, Bollinger), supply/demand zones, IV rank "
        "and term structure where a chain exists, earnings, GICS sector, the best wheel candidates, the demo "
        "position's Greeks and four deterministic analysts.",
        epilog="Exit codes: 0 = printed; 2 = bad input (one line on stderr).")
    p.add_argument("symbol", metavar="SYMBOL", help="ticker, e.g. SPY, AAPL, SPX (NASDAQ:AAPL accepted)")
    p.add_argument("--replay-date", dest="research_replay_date", type=_iso_date, metavar="YYYY-MM-DD",
                   help="report day (default: the last day of the recorded chain)")
    p.add_argument("--format", dest="research_format", choices=("md", "json"), default="md",
                   help="output format (default md)")
    return p


def _positions(market: Any, day: date, settings: Any, db_url: str | None) -> list[Any]:
    """The demo account's positions on ``day`` (empty outside the replay calendar)."""
    from magnus_desktop.cli_risk import demo_fills
    from magnus_desktop.services.portfolio.marking import account_summary

    days = market.trading_days()
    if not days[0] <= day <= days[-1]:
        return []
    mark_day = max(d for d in days if d <= day)
    summary = account_summary(demo_fills(market, db_url), mark_day, market, days,
                              starting_cash=settings.demo_starting_cash, rate=settings.risk_free_rate,
                              div_yield=settings.dividend_yield)
    return list(summary.positions)


def build_document(symbol: str, day: date | None, db_url: str | None = None) -> dict[str, Any]:
    """The report of ``symbol`` on ``day`` (None = last recorded chain day).

    Raises:
        ValueError: not a ticker, or a day before the symbol's data (message for the user).
    """
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.research.gather import offline_inputs
    from magnus_desktop.services.research.report import build_report
    from magnus_desktop.services.research.symbol import canonical_symbol
    from magnus_desktop.services.settings import SettingsStore

    sym = canonical_symbol(symbol)
    market = ReplayMarketData.from_resources()
    day = day or market.trading_days()[-1]
    settings, problem = SettingsStore(app_paths().settings_file).peek()  # read only; defaults when none/bad
    if problem is not None:
        print(f"magnus-desktop research: warning: {problem}", file=sys.stderr)
    return build_report(offline_inputs(sym, day, market, settings, _positions(market, day, settings, db_url)))


def run_research(args: argparse.Namespace) -> int:
    """Print the report described by ``args``; returns the exit code."""
    from magnus_desktop.services.research.report import to_markdown

    day = args.research_replay_date or getattr(args, "replay_date", None)
    try:
        doc = build_document(args.symbol, day, getattr(args, "db_url", None))
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.research_format == "json":
        print(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        sys.stdout.write(to_markdown(doc))
    return EXIT_OK
