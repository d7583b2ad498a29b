"""NFL Elo ratings and walk-forward pre-game win probabilities (pure Python + NumPy, no I/O).

The model is FiveThirtyEight's NFL Elo:

- ``Pr(home) = 1 / (10 ** (-elo_diff / 400) + 1)`` with ``elo_diff = home_elo - away_elo + home_field``
  (no home field at a neutral site), ``+ bye_bonus`` for a team coming off a bye (rest ≥
  ``bye_min_rest_days``), and the difference multiplied by ``playoff_multiplier`` in the playoffs;
- after a game both ratings move by ``K × MOV × (result - Pr(home))`` (home up, away down), where the
  margin-of-victory multiplier with its autocorrelation correction is
  ``MOV = ln(max(|point_diff|, 1) + 1) × 2.2 / (winner_elo_diff × 0.001 + 2.2)`` (``2.2 / 1.0`` for a tie):
  a favourite that wins big gains less than an underdog that wins big, so ratings do not inflate;
- between seasons each rating regresses ``revert`` of the way to ``mean_elo``; an expansion team (first
  seen after the first season of the data) or a returning franchise (absent one season or more, e.g. the
  Cleveland Browns 1999) starts at ``expansion_elo``.

Source: FiveThirtyEight, "How Our NFL Predictions Work"
(https://fivethirtyeight.com/methodology/how-our-nfl-predictions-work/: K = 20, home field 65 (55 + travel
from 2019), one-third regression to a mean slightly above 1500, bye week +25 Elo, playoff Elo difference ×1.2)
and its published implementation ``forecast.py`` in https://github.com/fivethirtyeight/nfl-elo-game
(probability, MOV multiplier with the ``2.2 / (diff × 0.001 + 2.2)`` correction, ``max(pd, 1)``, expansion 1300).
Travel distance and quarterback adjustments are not derivable from a results file and are left out.

A game's probability uses only games played strictly before it (earlier dates); games on the same date
never see each other's results (a team plays at most once a day). Rest days come from the dates of a
team's previous game in the same season unless the file gives them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EloParams:
    """Parameters of the NFL Elo model (Elo points unless stated).

    Attributes:
        k: K-factor, Elo points per unit of surprise (before the MOV multiplier).
        home_field: home-field advantage added to the home team's rating (0 at a neutral site).
        revert: fraction (0..1) of the way each rating regresses to ``mean_elo`` between seasons.
        mean_elo: the rating regressed to.
        initial_elo: rating of every team present in the first season of the data.
        expansion_elo: rating of an expansion team or a franchise returning after ≥ 1 missing season.
        playoff_multiplier: the Elo difference is multiplied by this in playoff games.
        bye_bonus: Elo points for a team coming off a bye (rest ≥ ``bye_min_rest_days`` days).
        bye_min_rest_days: calendar days since the team's previous game that count as a bye (11: a
            Sunday game then a Thursday game after the bye week; a Thursday→Sunday gap of 10 is not).
        use_mov: apply the margin-of-victory multiplier (False: plain win/loss Elo).
    """

    k: float = 20.0
    home_field: float = 65.0
    revert: float = 1.0 / 3.0
    mean_elo: float = 1505.0
    initial_elo: float = 1500.0
    expansion_elo: float = 1300.0
    playoff_multiplier: float = 1.2
    bye_bonus: float = 25.0
    bye_min_rest_days: int = 11
    use_mov: bool = True

    def as_dict(self) -> dict[str, float | int | bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: FiveThirtyEight's published values (see the module docstring for the source).
FIVETHIRTYEIGHT = EloParams()

#: Tuned on the spreadspoke results file (tobycrabtree/spreadspoke, seasons 1970–1999 scored, 1966–1969
#: burn-in; 6,626 games) by :func:`tune` (Nelder–Mead on the Brier score, started from
#: :data:`FIVETHIRTYEIGHT`: Brier 0.21340 → 0.21322), rounded; no game from 2000 on was seen.
#: Re-run: ``magnus-desktop elo --games spreadspoke_scores.csv --evaluate --tune``.
TUNED = EloParams(k=17.2, home_field=63.7, revert=0.327, bye_bonus=26.1, playoff_multiplier=1.41)

#: The parameters :func:`tune` moves (the others stay as given).
TUNABLE = ("k", "home_field", "revert", "bye_bonus", "playoff_multiplier")
_BOUNDS = {"k": (1.0, 60.0), "home_field": (0.0, 150.0), "revert": (0.0, 1.0), "bye_bonus": (0.0, 100.0),
           "playoff_multiplier": (0.5, 2.0)}


@dataclass(frozen=True, slots=True)
class EloGames:
    """Games as arrays, one entry per game, shape ``(n,)`` each.

    Attributes:
        home, away: team index (0 .. n_teams-1), int64.
        season: season year (the NFL season that starts in that year), int64.
        day: date as a day number (e.g. ``date.toordinal()``), int64.
        home_score, away_score: points, float64; NaN for a game not played yet (predicted, never scored).
        neutral: True at a neutral site (no home field).
        playoff: True for a playoff game.
        home_rest, away_rest: days since the team's previous game, float64; NaN = derive from the dates.
        n_teams: number of teams (≥ 1 + the largest index).
    """

    home: IntArray
    away: IntArray
    season: IntArray
    day: IntArray
    home_score: FloatArray
    away_score: FloatArray
    neutral: BoolArray
    playoff: BoolArray
    home_rest: FloatArray = field(default_factory=lambda: np.empty(0))
    away_rest: FloatArray = field(default_factory=lambda: np.empty(0))
    n_teams: int = 0

    @classmethod
    def of(cls, home: Sequence[int], away: Sequence[int], season: Sequence[int], day: Sequence[int],
           home_score: Sequence[float], away_score: Sequence[float], neutral: Sequence[bool] | None = None,
           playoff: Sequence[bool] | None = None, home_rest: Sequence[float] | None = None,
           away_rest: Sequence[float] | None = None, n_teams: int | None = None) -> EloGames:
        """Build from sequences (``None`` scores become NaN; missing flags are False, rest NaN).

        Raises:
            ValueError: arrays of different lengths, a negative team index, or a team playing itself.
        """
        n = len(home)
        h, a = np.asarray(home, dtype=np.int64), np.asarray(away, dtype=np.int64)

        def floats(values: Sequence[float | None] | None) -> FloatArray:
            if values is None:
                return np.full(n, np.nan)
            return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)

        def flags(values: Sequence[bool] | None) -> BoolArray:
            return np.zeros(n, dtype=bool) if values is None else np.asarray(values, dtype=bool)

        games = cls(h, a, np.asarray(season, dtype=np.int64), np.asarray(day, dtype=np.int64),
                    floats(home_score), floats(away_score), flags(neutral), flags(playoff),
                    floats(home_rest), floats(away_rest),
                    int(n_teams if n_teams is not None else (max(h.max(initial=-1), a.max(initial=-1)) + 1)))
        games.validate()
        return games

    def __len__(self) -> int:
        return int(self.home.shape[0])

    def validate(self) -> None:
        """Raises ValueError when the arrays disagree in length or a team index is invalid."""
        n = len(self)
        for f in ("away", "season", "day", "home_score", "away_score", "neutral", "playoff"):
            if getattr(self, f).shape != (n,):
                raise ValueError(f"EloGames.{f} has shape {getattr(self, f).shape}, expected ({n},)")
        for f in ("home_rest", "away_rest"):
            if getattr(self, f).shape not in ((n,), (0,)):
                raise ValueError(f"EloGames.{f} has shape {getattr(self, f).shape}, expected ({n},) or (0,)")
        if n and (min(self.home.min(), self.away.min()) < 0
                  or max(self.home.max(), self.away.max()) >= self.n_teams):
            raise ValueError(f"team indices must be in 0..{self.n_teams - 1}")
        same = np.flatnonzero(self.home == self.away)
        if same.size:
            raise ValueError(f"game {int(same[0])} has the same team at home and away")

    def played(self) -> BoolArray:
        """True where both scores are known."""
        return np.isfinite(self.home_score) & np.isfinite(self.away_score)

    def home_result(self) -> FloatArray:
        """1 home win, 0 home loss, 0.5 tie, NaN not played; shape ``(n,)``."""
        out = np.full(len(self), np.nan)
        played = self.played()
        diff = self.home_score[played] - self.away_score[played]
        out[played] = np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
        return out

    def subset(self, mask: BoolArray) -> EloGames:
        """The games where ``mask`` is True (same team indices)."""
        rest = (self.home_rest[mask] if self.home_rest.size else self.home_rest,
                self.away_rest[mask] if self.away_rest.size else self.away_rest)
        return EloGames(self.home[mask], self.away[mask], self.season[mask], self.day[mask],
                        self.home_score[mask], self.away_score[mask], self.neutral[mask], self.playoff[mask],
                        rest[0], rest[1], self.n_teams)


@dataclass(frozen=True, slots=True)
class EloResult:
    """Walk-forward output, in the order of the input games.

    Attributes:
        home_prob: pre-game probability that the home team wins, float64 ``(n,)``.
        elo_diff: the Elo difference used for it (home − away + adjustments), ``(n,)``.
        home_elo, away_elo: pre-game ratings (after any between-season regression), ``(n,)``.
        home_rest, away_rest: rest days used (NaN: first game of the season / unknown), ``(n,)``.
        ratings: each team's rating after the last played game, ``(n_teams,)`` (NaN: never seen).
        last_season: the last season each team played in (-1: never), ``(n_teams,)``.
    """

    home_prob: FloatArray
    elo_diff: FloatArray
    home_elo: FloatArray
    away_elo: FloatArray
    home_rest: FloatArray
    away_rest: FloatArray
    ratings: FloatArray
    last_season: IntArray


def win_probability(elo_diff: float | FloatArray) -> float | FloatArray:
    """``1 / (10 ** (-elo_diff / 400) + 1)``: probability that the side with ``elo_diff`` wins.

    Source: FiveThirtyEight NFL Elo (module docstring).
    """
    if isinstance(elo_diff, np.ndarray):
        return 1.0 / (np.power(10.0, -elo_diff.astype(np.float64) / 400.0) + 1.0)
    return 1.0 / (10.0 ** (-float(elo_diff) / 400.0) + 1.0)


def mov_multiplier(point_diff: float, home_elo_diff: float) -> float:
    """Margin-of-victory multiplier with the autocorrelation correction (dimensionless).

    Args:
        point_diff: home score − away score (points).
        home_elo_diff: the pre-game Elo difference from the home side (the one used for the probability).

    Returns:
        ``ln(max(|point_diff|, 1) + 1) × 2.2 / (winner_elo_diff × 0.001 + 2.2)``, where ``winner_elo_diff``
        is ``home_elo_diff`` for a home win and ``-home_elo_diff`` for an away win; a tie uses ``2.2 / 1.0``.

    Source: fivethirtyeight/nfl-elo-game ``forecast.py`` (module docstring).
    """
    if point_diff == 0:
        correction = 2.2
    else:
        winner_diff = home_elo_diff if point_diff > 0 else -home_elo_diff
        correction = 2.2 / (winner_diff * 0.001 + 2.2)
    return math.log(max(abs(point_diff), 1.0) + 1.0) * correction


def run_elo(games: EloGames, params: EloParams = TUNED) -> EloResult:
    """Walk the games in date order and return each game's pre-game home win probability.

    Args:
        games: the games (any order; processed by ``day``, ties in input order).
        params: model parameters.

    Returns:
        :class:`EloResult` in the input order. Games without both scores are predicted but never
        update a rating.

    Source: FiveThirtyEight NFL Elo (module docstring). Runs every NFL game since 1966 (~14k) in
    a few tens of ms (``benchmarks/bench_elo.py``).
    """
    n, n_teams = len(games), games.n_teams
    order = np.argsort(games.day, kind="stable")
    first_season = int(games.season.min()) if n else 0
    have_rest = games.home_rest.size == n and n > 0
    p = params
    # Python lists: scalar access is several times faster than NumPy element access in this loop.
    home_l, away_l, season_l, day_l = (games.home.tolist(), games.away.tolist(), games.season.tolist(),
                                       games.day.tolist())
    hs_l, as_l = games.home_score.tolist(), games.away_score.tolist()
    neutral_l, playoff_l = games.neutral.tolist(), games.playoff.tolist()
    hr_l = games.home_rest.tolist() if have_rest else None
    ar_l = games.away_rest.tolist() if have_rest else None
    rating_l: list[float] = [math.nan] * n_teams
    last_season_l, last_day_l = [-1] * n_teams, [0] * n_teams
    prob_o, diff_o, helo_o, aelo_o = [math.nan] * n, [math.nan] * n, [math.nan] * n, [math.nan] * n
    hrest_o, arest_o = [math.nan] * n, [math.nan] * n
    for i in order.tolist():
        season, day = season_l[i], day_l[i]
        rests = []
        for team, given in ((home_l[i], hr_l[i] if hr_l else math.nan), (away_l[i], ar_l[i] if ar_l else math.nan)):
            prev = last_season_l[team]
            if prev == -1:
                rating_l[team] = p.initial_elo if season == first_season else p.expansion_elo
            elif season != prev:
                if season - prev > 1:  # franchise absent a whole season or more: starts over
                    rating_l[team] = p.expansion_elo
                else:
                    rating_l[team] = p.mean_elo * p.revert + rating_l[team] * (1.0 - p.revert)
            if given == given:  # not NaN: the file's own rest days
                rests.append(given)
            else:
                rests.append(float(day - last_day_l[team]) if prev == season else math.nan)
        h, a = home_l[i], away_l[i]
        diff = rating_l[h] - rating_l[a] + (0.0 if neutral_l[i] else p.home_field)
        if rests[0] >= p.bye_min_rest_days:
            diff += p.bye_bonus
        if rests[1] >= p.bye_min_rest_days:
            diff -= p.bye_bonus
        if playoff_l[i]:
            diff *= p.playoff_multiplier
        prob = 1.0 / (10.0 ** (-diff / 400.0) + 1.0)
        prob_o[i], diff_o[i], helo_o[i], aelo_o[i] = prob, diff, rating_l[h], rating_l[a]
        hrest_o[i], arest_o[i] = rests[0], rests[1]
        last_season_l[h] = last_season_l[a] = season
        hs, as_ = hs_l[i], as_l[i]
        if hs == hs and as_ == as_:  # played
            pd = hs - as_
            result = 1.0 if pd > 0 else (0.0 if pd < 0 else 0.5)
            mult = mov_multiplier(pd, diff) if p.use_mov else 1.0
            shift = p.k * mult * (result - prob)
            rating_l[h] += shift
            rating_l[a] -= shift
        last_day_l[h] = last_day_l[a] = day  # an unplayed game still sets the rest of the next one
    return EloResult(np.array(prob_o), np.array(diff_o), np.array(helo_o), np.array(aelo_o),
                     np.array(hrest_o), np.array(arest_o), np.array(rating_l),
                     np.array(last_season_l, dtype=np.int64))


# --- scoring -------------------------------------------------------------------------------------

def brier_score(prob: FloatArray, outcome: FloatArray) -> float:
    """Mean of ``(prob - outcome) ** 2`` (outcome 1 win, 0 loss, 0.5 tie); NaN for no games.

    Source: G. W. Brier, "Verification of forecasts expressed in terms of probability", Monthly
    Weather Review 78(1), 1950.
    """
    prob, outcome = np.asarray(prob, dtype=np.float64), np.asarray(outcome, dtype=np.float64)
    return float(np.mean((prob - outcome) ** 2)) if prob.size else math.nan


def log_loss(prob: FloatArray, outcome: FloatArray, eps: float = 1e-15) -> float:
    """Mean of ``-(y ln p + (1 - y) ln(1 - p))`` in nats, p clipped to ``[eps, 1 - eps]``; NaN for no games.

    A tie (y = 0.5) counts half a win and half a loss.
    """
    prob = np.clip(np.asarray(prob, dtype=np.float64), eps, 1.0 - eps)
    outcome = np.asarray(outcome, dtype=np.float64)
    if not prob.size:
        return math.nan
    return float(-np.mean(outcome * np.log(prob) + (1.0 - outcome) * np.log(1.0 - prob)))


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Games whose predicted probability fell in ``[lower, upper)`` (the last bin includes 1)."""

    lower: float
    upper: float
    count: int
    mean_prob: float
    observed: float  # mean outcome (home win = 1, tie = 0.5)


def calibration_bins(prob: FloatArray, outcome: FloatArray, n_bins: int = 10) -> list[CalibrationBin]:
    """Reliability table: equal-width probability bins with the mean forecast and the observed rate.

    Empty bins are returned with ``count = 0`` and NaN means.
    """
    prob, outcome = np.asarray(prob, dtype=np.float64), np.asarray(outcome, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        m = idx == b
        c = int(m.sum())
        bins.append(CalibrationBin(float(edges[b]), float(edges[b + 1]), c,
                                   float(prob[m].mean()) if c else math.nan,
                                   float(outcome[m].mean()) if c else math.nan))
    return bins


#: Standard deviation (points) of the NFL game margin around the closing point spread.
#: Source: H. Stern, "On the Probability of Winning a Football Game", The American Statistician 45(3),
#: 179–183 (1991): margin − spread ≈ Normal(0, 13.86) over the 1981, 1983 and 1984 seasons.
STERN_SIGMA_POINTS = 13.86


def spread_win_probability(expected_home_margin: float | FloatArray,
                           sigma: float = STERN_SIGMA_POINTS) -> float | FloatArray:
    """Home win probability implied by the closing spread: ``Φ(expected_home_margin / sigma)``.

    Args:
        expected_home_margin: points the market expects the home team to win by (a home favourite of
            3.5 points is +3.5; the home team getting 3.5 is −3.5; pick'em 0). NaN stays NaN.
        sigma: standard deviation of the margin around the spread, points.

    Source: Stern (1991), see :data:`STERN_SIGMA_POINTS`.
    """
    from scipy.special import ndtr

    result = ndtr(np.asarray(expected_home_margin, dtype=np.float64) / sigma)
    return float(result) if np.ndim(result) == 0 else result


# --- tuning --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TuneResult:
    """Outcome of :func:`tune`: the parameters, the Brier score they reach and the games scored."""

    params: EloParams
    brier: float
    brier_start: float
    games_scored: int
    evaluations: int


def _objective(games: EloGames, base: EloParams, names: Sequence[str], scored: BoolArray,
               outcome: FloatArray) -> tuple[Callable[[FloatArray], float], Callable[[FloatArray], EloParams]]:
    def to_params(x: FloatArray) -> EloParams:
        values = {name: float(np.clip(v, *_BOUNDS[name])) for name, v in zip(names, x, strict=True)}
        return replace(base, **values)

    def brier(x: FloatArray) -> float:
        result = run_elo(games, to_params(x))
        return brier_score(result.home_prob[scored], outcome[scored])

    return brier, to_params


def tune(games: EloGames, base: EloParams = FIVETHIRTYEIGHT, *, burn_in_seasons: int = 4,
         names: Sequence[str] = TUNABLE, max_evaluations: int = 300) -> TuneResult:
    """Fit ``names`` of the parameters by minimising the Brier score over ``games`` (Nelder–Mead).

    Only the games passed in are used: pass the seasons you may tune on (e.g. those before 2000)
    and nothing later leaks in. The first ``burn_in_seasons`` seasons only warm the ratings up
    (the 1966–1969 AFL and NFL played each other only in the Super Bowl).

    Raises:
        ValueError: no played game after the burn-in, or an unknown parameter name.
    """
    from scipy.optimize import minimize

    unknown = [n for n in names if n not in _BOUNDS]
    if unknown:
        raise ValueError(f"cannot tune {unknown}; tunable: {list(_BOUNDS)}")
    outcome = games.home_result()
    first = int(games.season.min()) if len(games) else 0
    scored = np.isfinite(outcome) & (games.season >= first + burn_in_seasons)
    if not scored.any():
        raise ValueError("no played game to tune on after the burn-in seasons")
    brier, to_params = _objective(games, base, names, scored, outcome)
    x0 = np.array([getattr(base, n) for n in names], dtype=np.float64)
    start = brier(x0)
    res = minimize(brier, x0, method="Nelder-Mead",
                   options={"maxfev": max_evaluations, "xatol": 0.05, "fatol": 1e-6})
    best_x = res.x if res.fun <= start else x0
    best = to_params(best_x)
    return TuneResult(best, float(min(res.fun, start)), float(start), int(scored.sum()), int(res.nfev) + 1)
