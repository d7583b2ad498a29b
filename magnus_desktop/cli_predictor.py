"""``magnus-desktop predictor train|evaluate|predict``: the win-probability model of short options.

Examples::

    magnus-desktop predictor train
    magnus-desktop predictor evaluate --format json
    magnus-desktop predictor predict --symbol SPY --date 2018-01-05 --right P --dte 30 --delta 0.2

The training set is built from real recorded daily bars (bundled, or ``--data DIR`` laid out like
``resources/data``: ``ohlcv/...``, ``options_chains/...``); strikes and premiums are
Black-Scholes model-priced, except the rows from the recorded SPXW chain (real bid/ask). The label
is the real price path (``--label expiry``: expired OTM; ``--label target``: profit target before
the stop). The model file is ``<data dir>/predictor/model.json`` unless ``--model PATH``.

``import FILE... [--no-train] [--format table|json]`` reads Magic8 signal-history exports
(``services.predictor.magic8``), stores their signals de-duplicated, and trains one model per strategy
on everything stored (time-ordered test; "too little data" says how much is needed).
``evaluate --format json`` prints ``{"per_year": {YEAR: scores}, "overall": scores,
"calibration_curve", "pnl_by_decile", "settings"}``; ``scores`` has ``n, auc, brier, log_loss,
brier_bs_prob_otm, brier_majority, avg_pnl_all, avg_pnl_filtered`` (P&L USD per share of one short
option) plus the logistic-regression baseline, drawdowns and the filter's trade count.

Exit codes: 0 = done; 2 = bad input or too little data (one line on stderr); 3 = ``predict`` had no
usable model file and printed Black-Scholes ``prob_otm`` only (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FALLBACK = 3
PROG = "magnus-desktop predictor"


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _common(p: argparse.ArgumentParser, *, build: bool) -> None:
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="recorded-data folder laid out like resources/data (default: the bundled data)")
    p.add_argument("--model", type=Path, metavar="PATH", help="model file (default: <data dir>/predictor/model.json)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument("--earnings", type=Path, metavar="CSV",
                   help="earnings dates (columns ticker/symbol and dates/date/earnings_date) for days_to_earnings; "
                        "without it the feature is unknown (NaN)")
    if build:
        p.add_argument("--symbols", default="SPY,AAPL,GOOG", help="underlyings, comma-separated (default SPY,AAPL,GOOG)")
        p.add_argument("--label", choices=("expiry", "target"), default="expiry",
                       help="expiry: win = expired OTM (default); target: profit target before the stop")
        p.add_argument("--profit-target", type=float, default=0.5, help="fraction of the premium kept (default 0.5)")
        p.add_argument("--stop-loss", type=float, default=2.0, help="loss as a multiple of the premium (default 2.0)")
        p.add_argument("--start", type=_iso_date, metavar="YYYY-MM-DD", help="first entry day")
        p.add_argument("--end", type=_iso_date, metavar="YYYY-MM-DD", help="last entry day")


def add_predictor_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``predictor`` and its three actions on an ``argparse`` subparsers object."""
    from magnus_desktop.cli_scan import OneLineErrorParser

    p: argparse.ArgumentParser = subparsers.add_parser(
        "predictor", help="train, evaluate or use the win-probability model of short options",
        description="Win probability of short puts and calls, learned from real recorded price paths "
        "(XGBoost; time-ordered walk-forward evaluation against Black-Scholes prob_otm).",
        epilog="Exit codes: 0 = done; 2 = bad input or too little data; 3 = predict fell back to prob_otm.")
    actions = p.add_subparsers(dest="predictor_action", required=True, parser_class=OneLineErrorParser)
    train = actions.add_parser("train", help="build the training set, train and save the model")
    _common(train, build=True)
    train.add_argument("--day-step", type=int, default=1, help="use every N-th trading day (default 1: each one)")
    ev = actions.add_parser("evaluate", help="walk-forward evaluation by year with baselines")
    _common(ev, build=True)
    ev.add_argument("--day-step", type=int, default=5,
                    help="use every N-th trading day (default 5: neighbouring days' candidates overlap)")
    ev.add_argument("--threshold", type=float, default=0.8, help="take trades with p >= this (default 0.8)")
    ev.add_argument("--min-train-years", type=int, default=2, help="years of history before the first test year")
    pr = actions.add_parser("predict", help="score one candidate short option on a recorded day")
    _common(pr, build=False)
    pr.add_argument("--symbol", required=True, help="SPY, AAPL or GOOG")
    pr.add_argument("--date", required=True, type=_iso_date, metavar="YYYY-MM-DD", help="entry day (a trading day)")
    pr.add_argument("--right", required=True, choices=("P", "C", "p", "c"), help="P = short put, C = short call")
    pr.add_argument("--dte", required=True, type=int, help="calendar days to expiry")
    which = pr.add_mutually_exclusive_group(required=True)
    which.add_argument("--strike", type=float, help="strike, USD per share")
    which.add_argument("--delta", type=float, help="target |delta| (0-0.5): the strike is solved from it")
    pr.add_argument("--iv", type=float, help="volatility, annualised decimal (default: VIX/100 for SPY, 20-day realized vol)")
    im = actions.add_parser("import", help="import Magic8 signal-history exports and learn a win probability per strategy")
    im.add_argument("files", nargs="+", metavar="FILE", help="Magic8 profit/trades/delta CSV exports")
    im.add_argument("--no-train", action="store_true", help="only import (store) the signals")
    im.add_argument("--format", choices=("table", "json"), default="table")
    return p


class _UsageError(ValueError):
    pass


def _label(args: argparse.Namespace) -> Any:
    from magnus_desktop.services.predictor.dataset import LabelRule

    return LabelRule(args.label, args.profit_target, args.stop_loss)


def _training_set(args: argparse.Namespace) -> Any:
    from magnus_desktop.services.predictor.dataset import build_training_set

    if args.day_step < 1:
        raise _UsageError(f"--day-step must be >= 1, got {args.day_step}")
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip())
    if not symbols:
        raise _UsageError("--symbols: give at least one symbol")
    return build_training_set(args.data, symbols, label=_label(args), start=args.start, end=args.end,
                              day_step=args.day_step, earnings=_earnings(args))


def _earnings(args: argparse.Namespace) -> dict[str, list[date]] | None:
    from magnus_desktop.services.predictor.dataset import read_earnings_csv

    return None if args.earnings is None else read_earnings_csv(args.earnings)


def _model_path(args: argparse.Namespace) -> Path:
    from magnus_desktop.services.predictor.service import default_model_path

    return args.model if args.model is not None else default_model_path()


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _train(args: argparse.Namespace) -> int:
    from magnus_desktop.services.predictor.model import train_model

    ts = _training_set(args)
    model = train_model(ts)
    path = model.save(_model_path(args))
    card = {k: v for k, v in model.to_json().items() if k not in ("booster", "calibration")}
    card["file"] = str(path)
    card["dropped"] = dict(ts.dropped)
    if args.format == "json":
        print(json.dumps(card, indent=2))
        return EXIT_OK
    fold = card["metrics"]["calibration_fold"]
    print(f"model saved: {path}")
    print(f"feature set {card['feature_set']} ({len(card['features'])} features); label: {card['label']}")
    w = card["window"]
    print(f"window {w['first_entry']} .. {w['last_entry']}; booster rows until {w['booster_rows_until']}, "
          f"calibration from {w['calibration_from']}")
    print(f"rows: {card['rows']['booster']} booster, {card['rows']['calibration']} calibration "
          f"— {card['rows']['recorded_price_rows']} rows in all priced from the recorded SPXW bid/ask, the rest model-priced")
    print(f"last-year fold (out of sample for the booster): n={fold['n']} AUC {_fmt(fold['auc'])} "
          f"Brier {_fmt(fold['brier'])} vs Black-Scholes prob_otm Brier {_fmt(fold['brier_bs_prob_otm'])}")
    return EXIT_OK


_EVAL_COLUMNS = ("n", "auc", "brier", "log_loss", "brier_bs_prob_otm", "brier_logreg", "brier_majority",
                 "avg_pnl_all", "avg_pnl_filtered", "n_filtered")


def _evaluate(args: argparse.Namespace) -> int:
    from magnus_desktop.services.predictor.evaluate import evaluate

    if not 0.0 <= args.threshold <= 1.0:
        raise _UsageError(f"--threshold must be in [0, 1], got {args.threshold}")
    report = evaluate(_training_set(args), threshold=args.threshold, min_train_years=args.min_train_years)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return EXIT_OK
    rows = [(year, s) for year, s in report["per_year"].items()] + [("overall", report["overall"])]
    cells = [["year", *_EVAL_COLUMNS]] + [[y, *(_fmt(s.get(c)) for c in _EVAL_COLUMNS)] for y, s in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    st = report["settings"]
    print(f"walk-forward by year, purge {st['purge_days']} days; {st['label']}; filter p >= {st['threshold']}; "
          f"P&L in {st['pnl_unit']}")
    return EXIT_OK


def _predict(args: argparse.Namespace) -> int:
    from scipy.special import ndtri

    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.paths import DATA_RESOURCES_DIR
    from magnus_desktop.services.predictor.scoring import CandidateScorer
    from magnus_desktop.services.predictor.service import load_model_or_fallback

    right = args.right.upper()
    if args.dte < 1:
        raise _UsageError(f"--dte must be >= 1 calendar day, got {args.dte}")
    if args.delta is not None and not 0 < args.delta < 0.5:
        raise _UsageError(f"--delta must be in (0, 0.5), got {args.delta}")
    if args.strike is not None and not args.strike > 0:
        raise _UsageError(f"--strike must be > 0, got {args.strike}")
    model, reason = load_model_or_fallback(_model_path(args))
    scorer = CandidateScorer(ReplayMarketData.from_resources(args.data or DATA_RESOURCES_DIR), model, reason,
                             _earnings(args))
    strike = args.strike
    if strike is None:  # solve K from |delta| at the day's close and IV, r = 0
        _, und, sigma = scorer.features(args.symbol, args.date, right, 1.0, args.dte, args.iv)
        t = args.dte / 365.0
        d1 = ndtri(args.delta) if right == "C" else ndtri(1.0 - args.delta)
        strike = round(float(und * math.exp(-d1 * sigma * math.sqrt(t) + 0.5 * sigma * sigma * t)), 2)
    c = scorer.score(args.symbol, args.date, right, strike, args.dte, args.iv)
    out = {"symbol": c.symbol, "date": c.day.isoformat(), "right": c.right, "strike": c.strike, "dte": c.dte,
           "und_price": c.und_price, "iv": c.iv, "abs_delta": c.abs_delta, "prob_otm": c.prob_otm,
           "p_win": c.p_win, "model": c.model_version or None, "price_source": c.price_source,
           "fallback": c.fallback or None}
    if args.format == "json":
        print(json.dumps(out, indent=2))
    else:
        print(f"{c.symbol} {c.day} short {c.right} {c.strike:g} dte {c.dte}: underlying {c.und_price:.2f}, "
              f"iv {c.iv:.4f}, |delta| {c.abs_delta:.3f} (model-priced)")
        print(f"prob_otm (Black-Scholes N(d2)) {c.prob_otm:.4f}; p_win {_fmt(c.p_win)}"
              + (f" (model {c.model_version})" if c.model_version else ""))
    if c.p_win is None:
        print(f"{PROG} predict: {reason}", file=sys.stderr)
        return EXIT_FALLBACK
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    """Import Magic8 exports into ``<data dir>/predictor/magic8_signals.jsonl`` (de-duplicated across
    imports), then train per strategy on everything stored. JSON: ``{"files": [{"file", "layout",
    "signals", "skipped": {reason: count}, "skipped_lines": [{"line", "reason"}]}], "stored": {"added",
    "already_stored", "total"}, "strategies": {name: {...train_by_strategy...}}}``."""
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.predictor.magic8 import (
        Magic8FormatError,
        load_signals,
        read_export,
        store_signals,
        train_by_strategy,
    )
    from magnus_desktop.services.predictor.service import default_model_path

    store = default_model_path().with_name("magic8_signals.jsonl")
    files, signals = [], []
    try:
        results = [read_export(f) for f in args.files]
    except Magic8FormatError as exc:
        raise _UsageError(str(exc)) from None
    for r in results:
        signals += r.signals
        files.append({"file": str(r.path), "layout": r.layout, "signals": len(r.signals),
                      "skipped": r.skipped_by_reason(),
                      "skipped_lines": [{"line": line, "reason": why} for line, why in r.skipped[:50]]})
    added, known = store_signals(store, signals)
    stored = load_signals(store)
    strategies = {} if args.no_train else train_by_strategy(stored, ReplayMarketData.from_resources(), store.parent)
    out = {"files": files, "stored": {"added": added, "already_stored": known, "total": len(stored)},
           "strategies": strategies}
    if args.format == "json":
        print(json.dumps(out, indent=2, default=str))
        return EXIT_OK
    for f in files:
        skipped = ", ".join(f"{n} {why}" for why, n in f["skipped"].items()) or "none"
        note = "" if f["layout"] == "profit" else " (no trade outcomes in this layout)"
        print(f"{f['file']}: {f['layout']}{note}; {f['signals']} signals; skipped: {skipped}")
    print(f"stored {added} new signals ({known} already stored); {len(stored)} in {store}")
    for name, r in strategies.items():
        if r["trained"]:
            print(f"{name}: trained on {r['n_train']}, tested on {r['n_test']} (from {r['first_test_day']}): "
                  f"AUC {r['auc']:.3f}, Brier {r['brier']:.4f} vs majority {r['brier_majority']:.4f}")
        else:
            print(f"{name}: not trained: {r['message']}")
    return EXIT_OK


def run_predictor(args: argparse.Namespace) -> int:
    from magnus_desktop.services.market.recorded import MarketDataError
    from magnus_desktop.services.predictor.dataset import DatasetError
    from magnus_desktop.services.predictor.model import PredictorError

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    action = {"train": _train, "evaluate": _evaluate, "predict": _predict, "import": _import}[args.predictor_action]
    try:
        return action(args)
    except (_UsageError, DatasetError, PredictorError, MarketDataError) as exc:
        print(f"{PROG} {args.predictor_action}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"{PROG} {args.predictor_action}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
