"""``magnus-desktop elo``: walk-forward NFL Elo pre-game home win probabilities of a results file.

Usage::

    magnus-desktop elo --games FILE [--layout spreadspoke|nflverse|plain] [--format csv|json]
    magnus-desktop elo --games FILE --evaluate [--from-season 2000] [--tune] [--refit-yearly] [--format csv|json]

Rows (csv header / json list of objects), one per usable game in file order::

    date, season, home, away, home_prob, home_score, away_score

``home``/``away`` are franchise codes (moved franchises mapped to one team, see
``services/kalshi/nfl_teams.py``); ``home_prob`` uses only games before that date; a game without a
score has empty (csv) / null (json) scores: predicted, not scored.

``--evaluate`` prints per-season Brier score and log loss of the Elo probabilities from
``--from-season`` on, beside the closing-spread-implied probability ``Φ(spread / 13.86)`` (Stern 1991)
on the games that have a line. csv: one row per season then ``all``; json::

    {"from_season", "params", "tuned": {"brier_start", "brier", "games_scored"} | null,
     "per_season": [{"season", "games", "brier", "log_loss", "spread_games", "brier_spread",
                     "log_loss_spread", "brier_elo_same_games", "log_loss_elo_same_games"}],
     "overall": {...same...}, "calibration": [{"lower", "upper", "count", "mean_prob", "observed"}],
     "calibration_spread": [...], "spread_mapping", "reference", "notes": [...],
     "refits": [{"season", "params"}]}   (with --refit-yearly: the parameters each season was scored with)

Rows the file cannot use (unknown or ambiguous team, bad date) and games without scores are reported
on stderr, one line per reason with the first file lines (header = line 1).
Exit codes: 0 = printed; 2 = bad option, unreadable file, unknown layout, nothing to score (one line on stderr).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magnus_desktop.services.kalshi.nfl import Evaluation, NflPredictions

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop elo"
ROW_FIELDS = ("date", "season", "home", "away", "home_prob", "home_score", "away_score")
SEASON_FIELDS = ("season", "games", "brier", "log_loss", "spread_games", "brier_spread", "log_loss_spread",
                 "brier_elo_same_games", "log_loss_elo_same_games")
#: FiveThirtyEight's NFL Elo, Brier score over every game since 1920 (as quoted in issue 10).
REFERENCE_BRIER = 0.208


def add_elo_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``elo`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "elo", help="NFL Elo pre-game win probabilities of a results file (walk-forward), and their evaluation",
        description="FiveThirtyEight-style NFL Elo (home field, regression between seasons, margin-of-victory "
        "multiplier with autocorrelation correction, playoff and bye-week adjustments) over a results file. "
        "Each game's probability uses only earlier games.",
        epilog="Layouts: spreadspoke, nflverse (games.csv), plain (date,season,home,away,home_score,away_score,"
        "neutral,playoff). Exit codes: 0 = printed; 2 = bad input (one line on stderr).")
    p.add_argument("--games", required=True, metavar="FILE", help="results CSV file")
    p.add_argument("--layout", choices=("spreadspoke", "nflverse", "plain"),
                   help="file layout (default: detected from the header)")
    p.add_argument("--format", dest="elo_format", choices=("csv", "json"), default="csv",
                   help="output format (default csv)")
    p.add_argument("--evaluate", action="store_true",
                   help="print per-season Brier score and log loss vs the closing-spread-implied probability")
    p.add_argument("--from-season", type=int, default=2000, metavar="YEAR",
                   help="with --evaluate: first scored season (default 2000); earlier seasons only warm up")
    p.add_argument("--tune", action="store_true",
                   help="with --evaluate: re-fit the parameters on the file's seasons before --from-season "
                   "(default: the shipped parameters, tuned on 1970-1999)")
    p.add_argument("--refit-yearly", action="store_true",
                   help="with --evaluate: re-fit the parameters before every scored season on all seasons before "
                   "it (expanding window; slow, about a second per season)")
    return p


def run_elo_command(args: argparse.Namespace) -> int:
    """Run ``elo`` for parsed ``args``; the result on stdout, problems on stderr. Returns the exit code."""
    from magnus_desktop.services.kalshi.nfl import ResultsFileError, evaluate, predict, read_results

    if (args.tune or args.refit_yearly or args.from_season != 2000) and not args.evaluate:
        print(f"{PROG}: error: --tune, --refit-yearly and --from-season go with --evaluate", file=sys.stderr)
        return EXIT_USAGE
    try:
        results = read_results(args.games, args.layout)
        for message in results.problem_summary():
            print(f"{PROG}: warning: {message}", file=sys.stderr)
        if args.evaluate:
            evaluation = evaluate(results, from_season=args.from_season, tune_params=args.tune,
                                  refit_yearly=args.refit_yearly)
            for note in evaluation.notes:
                print(f"{PROG}: note: {note}", file=sys.stderr)
            text = format_evaluation(evaluation, args.elo_format)
        else:
            text = format_rows(predict(results), args.elo_format)
    except ResultsFileError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left, not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the final flush quiet
    return EXIT_OK


def _clean(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _csv(fields: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if _clean(v) is None else (f"{v:.6f}" if isinstance(v, float) else v))
                         for k, v in row.items()})
    return out.getvalue()


def format_rows(predictions: NflPredictions, fmt: str) -> str:
    """The per-game rows as csv or json (a list of objects with :data:`ROW_FIELDS`)."""
    rows = predictions.rows()
    if fmt == "json":
        return json.dumps([{k: _clean(r[k]) for k in ROW_FIELDS} for r in rows], indent=1) + "\n"
    return _csv(ROW_FIELDS, rows)


def format_evaluation(evaluation: Evaluation, fmt: str) -> str:
    """Per-season scores as csv (then an ``all`` row) or the json object of the module docstring."""
    per_season = [s.as_dict() for s in evaluation.seasons]
    overall = evaluation.overall.as_dict()
    if fmt == "csv":
        return _csv(SEASON_FIELDS, [*per_season, {**overall, "season": "all"}])
    from magnus_desktop.analytics.elo import STERN_SIGMA_POINTS

    tuned = evaluation.tuned
    doc = {
        "from_season": evaluation.from_season,
        "params": evaluation.predictions.params.as_dict(),
        "tuned": None if tuned is None else {"brier_start": tuned.brier_start, "brier": tuned.brier,
                                             "games_scored": tuned.games_scored},
        "per_season": per_season,
        "overall": overall,
        "calibration": [{k: _clean(getattr(b, k)) for k in ("lower", "upper", "count", "mean_prob", "observed")}
                        for b in evaluation.calibration],
        "calibration_spread": [{k: _clean(getattr(b, k)) for k in ("lower", "upper", "count", "mean_prob",
                                                                     "observed")}
                               for b in evaluation.calibration_spread],
        "spread_mapping": f"home_prob = Phi(expected_home_margin / {STERN_SIGMA_POINTS}) (Stern 1991, "
                          "The American Statistician 45(3):179-183)",
        "reference": {"fivethirtyeight_elo_brier_since_1920": REFERENCE_BRIER},
        "notes": list(evaluation.notes),
        "refits": [{"season": season, "params": p.as_dict()} for season, p in evaluation.refits],
    }
    return json.dumps(doc, indent=1) + "\n"
