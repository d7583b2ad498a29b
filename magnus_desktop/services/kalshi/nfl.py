"""NFL results files → Elo pre-game probabilities and their time-ordered evaluation.

Layouts (``--layout``; detected from the header when not given):

- ``spreadspoke``: the Kaggle "spreadspoke" scores file (``schedule_date`` M/D/YYYY, ``schedule_season``,
  ``schedule_playoff`` TRUE/FALSE, ``team_home``, ``score_home``, ``score_away``, ``team_away``,
  ``team_favorite_id``, ``spread_favorite`` (the favourite's line, ≤ 0), ``stadium_neutral``).
- ``nflverse``: nflverse ``games.csv`` (https://github.com/nflverse/nfldata, ``data/games.csv``;
  columns documented in its DATASETS.md): ``season``, ``game_type`` (REG, WC, DIV, CON, SB), ``gameday``
  (YYYY-MM-DD), ``home_team``, ``away_team``, ``home_score``, ``away_score``, ``location`` (Home /
  Neutral), ``spread_line`` (expected home margin: positive = home favoured), ``home_rest``, ``away_rest``.
- ``plain``: ``date,season,home,away,home_score,away_score,neutral,playoff`` (date YYYY-MM-DD, neutral and
  playoff 0/1, blank scores for games not played yet).

Team names and codes go through :mod:`.nfl_teams` (franchise moves mapped to one team). A row with an
unknown or ambiguous team, a bad date or season is skipped and reported with its file line (header =
line 1); a row without scores is predicted but never scored and never moves a rating.

The closing-spread-implied home win probability is ``Φ(expected_home_margin / 13.86)``
(:func:`magnus_desktop.analytics.elo.spread_win_probability`, Stern 1991).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from magnus_desktop.analytics.elo import (
    TUNED,
    CalibrationBin,
    EloGames,
    EloParams,
    EloResult,
    TuneResult,
    brier_score,
    calibration_bins,
    log_loss,
    run_elo,
    spread_win_probability,
    tune,
    win_probability,
)
from magnus_desktop.services.kalshi.nfl_teams import UnknownTeam, franchise_code

Layout = Literal["spreadspoke", "nflverse", "plain"]
LAYOUTS: tuple[Layout, ...] = ("spreadspoke", "nflverse", "plain")
PLAIN_COLUMNS = ("date", "season", "home", "away", "home_score", "away_score", "neutral", "playoff")
_REQUIRED: dict[Layout, tuple[str, ...]] = {
    "spreadspoke": ("schedule_date", "schedule_season", "schedule_playoff", "team_home", "score_home",
                    "score_away", "team_away"),
    "nflverse": ("season", "game_type", "gameday", "home_team", "away_team", "home_score", "away_score"),
    "plain": PLAIN_COLUMNS,
}


class ResultsFileError(ValueError):
    """The file cannot be used at all (unreadable, unknown layout, missing columns, no usable game)."""


@dataclass(frozen=True, slots=True)
class NflGame:
    """One game of a results file. Scores are None for a game not played yet; rest in days (NaN unknown);
    ``spread_home`` is the closing line as the expected home margin in points (NaN when the file has none)."""

    line: int
    date: date
    season: int
    home: str
    away: str
    home_score: int | None
    away_score: int | None
    neutral: bool = False
    playoff: bool = False
    spread_home: float = math.nan
    home_rest: float = math.nan
    away_rest: float = math.nan

    @property
    def played(self) -> bool:
        return self.home_score is not None and self.away_score is not None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Something wrong with one line. ``skipped``: the row is not used at all; otherwise it is kept
    (e.g. no score: predicted, not scored)."""

    line: int
    reason: str
    message: str
    skipped: bool


@dataclass(frozen=True, slots=True)
class ResultsFile:
    """A parsed results file: its games (file order) and the problems found, by line."""

    path: str
    layout: Layout
    games: tuple[NflGame, ...]
    problems: tuple[RowProblem, ...] = ()

    def problem_summary(self) -> list[str]:
        """One sentence per reason: count, first lines and what was done."""
        out = []
        by_reason: dict[str, list[RowProblem]] = {}
        for p in self.problems:
            by_reason.setdefault(p.reason, []).append(p)
        for reason, items in by_reason.items():
            lines = ", ".join(str(p.line) for p in items[:8]) + (", …" if len(items) > 8 else "")
            action = "skipped" if items[0].skipped else "kept"
            example = items[0].message
            out.append(f"{len(items)} row(s) {reason} ({action}; lines {lines}): e.g. line {items[0].line}: {example}")
        return out


# --- reading ---------------------------------------------------------------------------------------

def read_results(path: str | Path, layout: Layout | None = None) -> ResultsFile:
    """Read a results file (layout detected from the header when None).

    Raises:
        ResultsFileError: unreadable file, unknown layout, missing columns, or no usable game.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ResultsFileError(f"cannot read {p}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return parse_results(text, layout, str(p))


def parse_results(text: str, layout: Layout | None = None, name: str = "<text>") -> ResultsFile:
    """Parse the text of a results file; see :func:`read_results`."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ResultsFileError(f"{name}: the file is empty (no header line)")
    reader.fieldnames = header
    chosen = layout or detect_layout(header)
    if chosen is None:
        raise ResultsFileError(f"{name}: unknown layout (header {','.join(header[:8])}…); expected "
                               f"spreadspoke, nflverse or plain ({','.join(PLAIN_COLUMNS)})")
    if chosen not in LAYOUTS:
        raise ResultsFileError(f"{name}: unknown layout {chosen!r}; one of {', '.join(LAYOUTS)}")
    missing = [c for c in _REQUIRED[chosen] if c not in header]
    if missing:
        raise ResultsFileError(f"{name}: not a {chosen} file: missing column(s) {', '.join(missing)}")
    games: list[NflGame] = []
    problems: list[RowProblem] = []
    parse_row = _PARSERS[chosen]
    for row in _rows(reader):
        line = reader.line_num
        try:
            game, notes = parse_row(row, line)
        except _RowError as exc:
            problems.append(RowProblem(line, exc.reason, str(exc), True))
            continue
        games.append(game)
        problems.extend(notes)
    if not games:
        first = f"; first problem: line {problems[0].line}: {problems[0].message}" if problems else ""
        raise ResultsFileError(f"{name}: no usable game in the file{first}")
    return ResultsFile(name, chosen, tuple(games), tuple(problems))


def detect_layout(header: Iterable[str]) -> Layout | None:
    """The layout whose required columns are all in ``header``, or None."""
    cols = set(header)
    for layout in ("spreadspoke", "nflverse", "plain"):
        if set(_REQUIRED[layout]) <= cols:  # type: ignore[index]
            return layout  # type: ignore[return-value]
    return None


def _rows(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    for row in reader:
        if any((v or "").strip() for k, v in row.items() if k is not None):
            yield {k: (v or "").strip() for k, v in row.items() if k is not None and isinstance(v, str)}


class _RowError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _team(value: str, side: str) -> str:
    try:
        return franchise_code(value)
    except UnknownTeam as exc:
        reason = "with an ambiguous team" if "ambiguous" in str(exc) else "with an unknown team"
        raise _RowError(reason, f"{side}: {exc}") from None


def _season(value: str) -> int:
    try:
        season = int(value)
    except ValueError:
        raise _RowError("with a bad season", f"season {value!r} is not a year") from None
    if not 1920 <= season <= 2100:
        raise _RowError("with a bad season", f"season {season} is out of range 1920..2100")
    return season


def _date(value: str, fmt: str) -> date:
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        shown = "M/D/YYYY" if fmt == "%m/%d/%Y" else "YYYY-MM-DD"
        raise _RowError("with a bad date", f"date {value!r} is not {shown}") from None


def _flag(value: str, column: str) -> bool:
    v = value.casefold()
    if v in ("1", "true", "t", "yes", "y"):
        return True
    if v in ("0", "false", "f", "no", "n", ""):
        return False
    raise _RowError(f"with a bad {column} flag", f"{column} {value!r} is not 0/1 or TRUE/FALSE")


def _scores(home: str, away: str, line: int) -> tuple[int | None, int | None, list[RowProblem]]:
    """Both scores, or (None, None) with a note: the game is predicted but not scored."""
    if not home and not away:
        return None, None, [RowProblem(line, "without scores", "no score: a future or unrecorded game, "
                                       "predicted but not scored and not used to update ratings", False)]
    try:
        h, a = float(home), float(away)
        if not (h >= 0 and a >= 0 and h.is_integer() and a.is_integer()):
            raise ValueError
    except ValueError:
        return None, None, [RowProblem(line, "with an unusable score", f"score {home!r}-{away!r} is not two "
                                       "whole numbers ≥ 0: predicted but not scored and not used to update ratings",
                                       False)]
    return int(h), int(a), []


def _float(value: str) -> float:
    try:
        return float(value) if value else math.nan
    except ValueError:
        return math.nan


def _game_core(row: Mapping[str, str], line: int, day_fmt: str, *keys: str
               ) -> tuple[date, int, str, str, int | None, int | None, list[RowProblem]]:
    """The columns every layout has, by this layout's names ``keys`` = (date, season, home team, away
    team, home score, away score): ``(day, season, home, away, home_score, away_score, notes)``.

    Raises:
        _RowError: a bad date, season or team, or the same team twice."""
    day_key, season_key, home_key, away_key, hs_key, as_key = keys
    day = _date(row[day_key], day_fmt)
    season = _season(row[season_key])
    home, away = _team(row[home_key], "home"), _team(row[away_key], "away")
    if home == away:
        raise _RowError("with the same team twice", f"{home} at home and away")
    hs, as_, notes = _scores(row[hs_key], row[as_key], line)
    return day, season, home, away, hs, as_, notes


def _spreadspoke_row(row: Mapping[str, str], line: int) -> tuple[NflGame, list[RowProblem]]:
    day, season, home, away, hs, as_, notes = _game_core(
        row, line, "%m/%d/%Y", "schedule_date", "schedule_season", "team_home", "team_away", "score_home", "score_away")
    spread = math.nan
    fav, line_value = row.get("team_favorite_id", ""), _float(row.get("spread_favorite", ""))
    if fav.upper() == "PICK":
        spread = 0.0
    elif fav and line_value == line_value:
        try:
            fav_code = franchise_code(fav)
        except UnknownTeam:
            fav_code = ""
        if fav_code == home:
            spread = -line_value
        elif fav_code == away:
            spread = line_value
        else:
            notes.append(RowProblem(line, "with a favourite that is neither team", f"favourite {fav!r} is neither "
                                    f"{home} nor {away}: no spread-implied probability for this game", False))
    game = NflGame(line, day, season, home, away, hs, as_, _flag(row.get("stadium_neutral", ""), "stadium_neutral"),
                   _flag(row["schedule_playoff"], "schedule_playoff"), spread)
    return game, notes


def _nflverse_row(row: Mapping[str, str], line: int) -> tuple[NflGame, list[RowProblem]]:
    day, season, home, away, hs, as_, notes = _game_core(
        row, line, "%Y-%m-%d", "gameday", "season", "home_team", "away_team", "home_score", "away_score")
    game_type = row["game_type"].upper()
    neutral = row.get("location", "").casefold() == "neutral"
    game = NflGame(line, day, season, home, away, hs, as_, neutral, game_type not in ("REG", "PRE", ""),
                   _float(row.get("spread_line", "")), _float(row.get("home_rest", "")),
                   _float(row.get("away_rest", "")))
    return game, notes


def _plain_row(row: Mapping[str, str], line: int) -> tuple[NflGame, list[RowProblem]]:
    day, season, home, away, hs, as_, notes = _game_core(
        row, line, "%Y-%m-%d", "date", "season", "home", "away", "home_score", "away_score")
    return NflGame(line, day, season, home, away, hs, as_, _flag(row["neutral"], "neutral"),
                   _flag(row["playoff"], "playoff")), notes


_PARSERS: dict[Layout, Callable[[Mapping[str, str], int], tuple[NflGame, list[RowProblem]]]] = {
    "spreadspoke": _spreadspoke_row, "nflverse": _nflverse_row, "plain": _plain_row}


# --- the model over a file -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NflPredictions:
    """Walk-forward Elo probabilities for every game of a results file (file order)."""

    results: ResultsFile
    params: EloParams
    teams: tuple[str, ...]
    games: EloGames
    elo: EloResult
    spread_prob: np.ndarray  # float64 (n,), NaN where the file has no spread

    def rows(self) -> list[dict[str, object]]:
        """``date, season, home, away, home_prob, home_score, away_score`` per game (the CLI's rows)."""
        return [{"date": g.date.isoformat(), "season": g.season, "home": g.home, "away": g.away,
                 "home_prob": float(p), "home_score": g.home_score, "away_score": g.away_score}
                for g, p in zip(self.results.games, self.elo.home_prob, strict=True)]


def to_elo_games(results: ResultsFile) -> tuple[EloGames, tuple[str, ...]]:
    """The games as :class:`EloGames` and the team code of each index."""
    teams = tuple(sorted({g.home for g in results.games} | {g.away for g in results.games}))
    index = {t: i for i, t in enumerate(teams)}
    gs = results.games
    games = EloGames.of([index[g.home] for g in gs], [index[g.away] for g in gs], [g.season for g in gs],
                        [g.date.toordinal() for g in gs], [g.home_score for g in gs], [g.away_score for g in gs],
                        [g.neutral for g in gs], [g.playoff for g in gs], [g.home_rest for g in gs],
                        [g.away_rest for g in gs], n_teams=len(teams))
    return games, teams


def predict(results: ResultsFile, params: EloParams = TUNED) -> NflPredictions:
    """Run the Elo model over the file (walk-forward) and the spread-implied probabilities."""
    games, teams = to_elo_games(results)
    spread = np.array([g.spread_home for g in results.games], dtype=np.float64)
    return NflPredictions(results, params, teams, games, run_elo(games, params),
                          np.asarray(spread_win_probability(spread), dtype=np.float64))


# --- evaluation ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SeasonScore:
    """Scores of one season (or of all scored seasons when ``season`` is None).

    ``brier``/``log_loss``: Elo over every played game; ``*_spread``: the spread-implied probability
    over the played games that have a closing line, with the Elo scores on those same games beside them.
    """

    season: int | None
    games: int
    brier: float
    log_loss: float
    spread_games: int
    brier_spread: float
    log_loss_spread: float
    brier_elo_same_games: float
    log_loss_elo_same_games: float

    def as_dict(self) -> dict[str, object]:
        return {k: (None if isinstance(v, float) and v != v else v)
                for k, v in ((f, getattr(self, f)) for f in self.__slots__)}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Time-ordered evaluation: parameters fixed from seasons before ``from_season`` (tuned there or the
    shipped :data:`TUNED`), ratings walked forward, each season from ``from_season`` scored with ratings
    fit only on the games before it."""

    predictions: NflPredictions
    from_season: int
    seasons: tuple[SeasonScore, ...]
    overall: SeasonScore
    calibration: tuple[CalibrationBin, ...]
    calibration_spread: tuple[CalibrationBin, ...]
    tuned: TuneResult | None = None
    notes: tuple[str, ...] = field(default=())
    #: with ``refit_yearly``: the parameters each scored season was predicted with (fit on the seasons before it)
    refits: tuple[tuple[int, EloParams], ...] = ()


def _score(season: int | None, prob: np.ndarray, spread: np.ndarray, outcome: np.ndarray) -> SeasonScore:
    has = np.isfinite(spread)
    return SeasonScore(season, int(prob.size), brier_score(prob, outcome), log_loss(prob, outcome), int(has.sum()),
                       brier_score(spread[has], outcome[has]), log_loss(spread[has], outcome[has]),
                       brier_score(prob[has], outcome[has]), log_loss(prob[has], outcome[has]))


def evaluate(results: ResultsFile, params: EloParams = TUNED, *, from_season: int = 2000,
             tune_params: bool = False, refit_yearly: bool = False, refit_evaluations: int = 40,
             n_bins: int = 10) -> Evaluation:
    """Score the walk-forward probabilities season by season from ``from_season`` on.

    Args:
        results: a parsed results file.
        params: the parameters (the start of the fit when ``tune_params`` or ``refit_yearly``).
        from_season: first scored season; tuning sees only the seasons before it.
        tune_params: re-fit the parameters once on the file's seasons before ``from_season`` (:func:`tune`).
        refit_yearly: re-fit before every scored season on all the seasons before it (expanding window,
            at most ``refit_evaluations`` Brier evaluations each, warm-started from the previous fit) and
            score that season with those parameters. Slow: about a second per season.
        n_bins: calibration bins.

    Raises:
        ResultsFileError: no played game from ``from_season`` on, or tuning asked with no earlier season.
    """
    notes: list[str] = []
    tuned = None
    if tune_params:
        games, _ = to_elo_games(results)
        before = games.season < from_season
        if not (before & games.played()).any():
            raise ResultsFileError(f"cannot tune: the file has no played game before {from_season}")
        tuned = tune(games.subset(before), params)
        params = tuned.params
        notes.append(f"parameters tuned on {tuned.games_scored} games before {from_season}: Brier "
                     f"{tuned.brier_start:.4f} → {tuned.brier:.4f}")
    pred = predict(results, params)
    if not (pred.games.season < from_season).any():
        notes.append(f"the file has no season before {from_season}: its first season is scored with ratings "
                     "that start from scratch")
    outcome = pred.games.home_result()
    scored = np.isfinite(outcome) & (pred.games.season >= from_season)
    if not scored.any():
        raise ResultsFileError(f"{results.path}: no played game from season {from_season} on to score")
    season_list = sorted(set(pred.games.season[scored].tolist()))
    home_prob, refits = pred.elo.home_prob, ()
    if refit_yearly:
        home_prob, refits = _refit_yearly(pred.games, season_list, params, refit_evaluations)
        notes.append(f"parameters re-fit before each of {len(refits)} seasons on the seasons before it")
    seasons = []
    for season in season_list:
        m = scored & (pred.games.season == season)
        seasons.append(_score(season, home_prob[m], pred.spread_prob[m], outcome[m]))
    prob, spread, y = home_prob[scored], pred.spread_prob[scored], outcome[scored]
    has = np.isfinite(spread)
    ties = int((y == 0.5).sum())
    if ties:
        notes.append(f"{ties} tie(s) scored as half a win (outcome 0.5)")
    return Evaluation(pred, from_season, tuple(seasons), _score(None, prob, spread, y),
                      tuple(calibration_bins(prob, y, n_bins)), tuple(calibration_bins(spread[has], y[has], n_bins)),
                      tuned, tuple(notes), refits)


def _refit_yearly(games: EloGames, seasons: list[int], start: EloParams,
                  evaluations: int) -> tuple[np.ndarray, tuple[tuple[int, EloParams], ...]]:
    """Probabilities of each season's games from parameters fit only on the seasons before it."""
    prob = np.full(len(games), np.nan)
    params, refits = start, []
    played = games.played()
    for season in seasons:
        before = games.season < season
        if (before & played).any():
            try:
                params = tune(games.subset(before), params, max_evaluations=evaluations).params
            except ValueError:  # nothing after the burn-in yet: keep the previous parameters
                pass
        upto = games.season <= season
        run = run_elo(games.subset(upto), params)
        idx = np.flatnonzero(upto)
        this = games.season[idx] == season
        prob[idx[this]] = run.home_prob[this]
        refits.append((season, params))
    return prob, tuple(refits)


def season_of(day: date) -> int:
    """The NFL season a date belongs to (September–February: January and February count to the year before)."""
    return day.year if day.month >= 3 else day.year - 1


GameIndex = dict[frozenset[str], list[tuple[date, int]]]


def game_index(predictions: NflPredictions) -> GameIndex:
    """The file's games by their pair of teams: ``{frozenset({home, away}): [(date, game index), ...]}``."""
    index: GameIndex = {}
    for i, g in enumerate(predictions.results.games):
        index.setdefault(frozenset((g.home, g.away)), []).append((g.date, i))
    return index


def probability_for(predictions: NflPredictions, home: str, away: str, day: date,
                    tolerance_days: int = 1, index: GameIndex | None = None) -> float | None:
    """Probability that ``home`` beats ``away`` in their game on ``day``, from a file's Elo model.

    A game of the file with these teams within ``tolerance_days`` of ``day`` gives its walk-forward
    probability (1 − p when the file has the two sides the other way round: the file's venue wins).
    A date after the file's last game is predicted from the latest ratings (regressed when it falls in a
    later season), ``home`` at home, no bye or playoff information. Otherwise None (no honest number).

    Args:
        home, away: team names or codes (any alias :func:`franchise_code` knows).
        day: the game's date.
        index: :func:`game_index` of ``predictions`` (built here when None; pass it for repeated calls).

    Returns:
        A probability in (0, 1), or None: unknown team, a team the file never saw, or a date inside the
        file's range with no such game.
    """
    try:
        h, a = franchise_code(home), franchise_code(away)
    except UnknownTeam:
        return None
    games = predictions.results.games
    for game_day, i in (index if index is not None else game_index(predictions)).get(frozenset((h, a)), []):
        if abs((game_day - day).days) <= tolerance_days:
            p = float(predictions.elo.home_prob[i])
            return p if games[i].home == h else 1.0 - p
    last_day = max(g.date for g in games)
    if day <= last_day or h not in predictions.teams or a not in predictions.teams:
        return None
    idx = {t: i for i, t in enumerate(predictions.teams)}
    season, params = season_of(day), predictions.params
    ratings = []
    for team in (h, a):
        rating, last = float(predictions.elo.ratings[idx[team]]), int(predictions.elo.last_season[idx[team]])
        if season - last > 1:
            rating = params.expansion_elo
        elif season != last:
            rating = params.mean_elo * params.revert + rating * (1.0 - params.revert)
        ratings.append(rating)
    return float(win_probability(ratings[0] - ratings[1] + params.home_field))


def problem_counts(results: ResultsFile) -> Counter[str]:
    """Problems per reason."""
    return Counter(p.reason for p in results.problems)
