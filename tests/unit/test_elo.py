"""NFL Elo (analytics/elo.py): formulas by hand on a toy season, walk-forward leakage, scoring helpers."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from magnus_desktop.analytics.elo import (
    FIVETHIRTYEIGHT,
    EloGames,
    EloParams,
    brier_score,
    calibration_bins,
    log_loss,
    run_elo,
    spread_win_probability,
    tune,
)

P = EloParams(k=20.0, home_field=65.0, revert=1 / 3, mean_elo=1505.0, initial_elo=1500.0, expansion_elo=1300.0,
              playoff_multiplier=1.2, bye_bonus=25.0, bye_min_rest_days=11)
A, B, C = 0, 1, 2


def by_hand_prob(diff: float) -> float:
    return 1.0 / (10 ** (-diff / 400) + 1)


def test_three_game_toy_season_by_hand() -> None:
    # day 0: A 24-17 B at A; day 7: B 10-13 C at B; day 14: C 20-20 A at C (A rested 14 days: a bye)
    games = EloGames.of([A, B, C], [B, C, A], [1990] * 3, [0, 7, 14], [24, 10, 20], [17, 13, 20])
    out = run_elo(games, P)

    elo = {A: 1500.0, B: 1500.0, C: 1500.0}
    # game 1: home A wins by 7, favourite by the home field only
    d1 = 65.0
    p1 = by_hand_prob(d1)
    shift1 = 20 * math.log(7 + 1) * 2.2 / (d1 * 0.001 + 2.2) * (1 - p1)
    elo[A] += shift1
    elo[B] -= shift1
    # game 2: home B (rested 7 days: no bye) loses by 3; the winner is the away side, its diff is -d2
    d2 = elo[B] - elo[C] + 65.0
    p2 = by_hand_prob(d2)
    shift2 = 20 * math.log(3 + 1) * 2.2 / (-d2 * 0.001 + 2.2) * (0 - p2)
    elo[B] += shift2
    elo[C] -= shift2
    # game 3: tie at C; A (away) comes off 14 days of rest → −25 for the home side; tie multiplier ln(2) × 2.2
    d3 = elo[C] - elo[A] + 65.0 - 25.0
    p3 = by_hand_prob(d3)
    shift3 = 20 * math.log(1 + 1) * 2.2 * (0.5 - p3)
    elo[C] += shift3
    elo[A] -= shift3

    np.testing.assert_allclose(out.home_prob, [p1, p2, p3], rtol=1e-12)
    np.testing.assert_allclose(out.elo_diff, [d1, d2, d3], rtol=1e-12)
    np.testing.assert_allclose(out.ratings, [elo[A], elo[B], elo[C]], rtol=1e-12)
    np.testing.assert_allclose(out.home_rest, [math.nan, 7.0, 7.0], equal_nan=True)
    np.testing.assert_allclose(out.away_rest, [math.nan, math.nan, 14.0], equal_nan=True)
    assert p1 > 0.5 and shift1 > 0 and shift2 < 0  # sanity of the signs: upsets move ratings the right way


def test_between_seasons_regression_playoff_neutral_and_expansion() -> None:
    # season 1: A beats B at home; season 2: A v B at a neutral playoff site, C an expansion team at B
    games = EloGames.of([A, A, B], [B, B, C], [1990, 1991, 1991], [0, 400, 407], [30, 21, None], [0, 14, None],
                        neutral=[False, True, False], playoff=[False, True, False], n_teams=3)
    out = run_elo(games, P)
    d1 = 65.0
    shift = 20 * math.log(31) * 2.2 / (d1 * 0.001 + 2.2) * (1 - by_hand_prob(d1))
    a1 = 1505.0 / 3 + (1500 + shift) * 2 / 3
    b1 = 1505.0 / 3 + (1500 - shift) * 2 / 3
    np.testing.assert_allclose([out.home_elo[1], out.away_elo[1]], [a1, b1], rtol=1e-12)
    d2 = (a1 - b1) * 1.2  # neutral: no home field; playoff: difference × 1.2
    assert out.home_prob[1] == pytest.approx(by_hand_prob(d2), rel=1e-12)
    assert out.away_elo[2] == pytest.approx(1300.0)  # first seen after the first season: expansion rating


def test_unplayed_game_is_predicted_but_moves_no_rating() -> None:
    played = EloGames.of([A], [B], [1990], [0], [20], [10])
    with_future = EloGames.of([A, B], [B, A], [1990, 1990], [0, 7], [20, None], [10, None])
    a, b = run_elo(played, P), run_elo(with_future, P)
    assert math.isfinite(b.home_prob[1])
    np.testing.assert_allclose(a.ratings, b.ratings)


def test_a_returning_franchise_starts_over() -> None:
    games = EloGames.of([A, A, A], [B, C, B], [1990, 1990, 1993], [0, 7, 1100], [40, 3, 10], [0, 0, 10])
    out = run_elo(games, P)
    assert out.away_elo[2] == pytest.approx(P.expansion_elo)  # B missed 1991 and 1992


def random_league(seed: int, seasons: int = 6, teams: int = 8) -> EloGames:
    rng = np.random.default_rng(seed)
    home, away, season, day, hs, as_ = [], [], [], [], [], []
    for s in range(seasons):
        for week in range(14):
            order = rng.permutation(teams)
            for g in range(teams // 2):
                home.append(int(order[2 * g]))
                away.append(int(order[2 * g + 1]))
                season.append(1990 + s)
                day.append(s * 365 + week * 7 + int(rng.integers(0, 2)))
                hs.append(float(rng.integers(0, 40)))
                as_.append(float(rng.integers(0, 40)))
    return EloGames.of(home, away, season, day, hs, as_, n_teams=teams)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_walk_forward_changing_a_later_score_never_changes_an_earlier_probability(seed: int) -> None:
    games = random_league(seed)
    base = run_elo(games, FIVETHIRTYEIGHT)
    rng = np.random.default_rng(seed + 100)
    for j in rng.choice(len(games), 5, replace=False):
        changed_home = games.home_score.copy()
        changed_home[j] += 35.0  # flips or widens the result
        changed = replace(games, home_score=changed_home)
        out = run_elo(changed, FIVETHIRTYEIGHT)
        not_later = games.day <= games.day[j]  # earlier days and the same day (incl. game j itself)
        np.testing.assert_array_equal(out.home_prob[not_later], base.home_prob[not_later])
        later_same_team = (games.day > games.day[j]) & np.isin(games.home, [games.home[j], games.away[j]])
        if later_same_team.any():  # the change does reach later games: the test can fail
            assert not np.array_equal(out.home_prob[later_same_team], base.home_prob[later_same_team])


def test_input_order_does_not_matter() -> None:
    games = random_league(7)
    perm = np.random.default_rng(0).permutation(len(games))
    shuffled = EloGames(games.home[perm], games.away[perm], games.season[perm], games.day[perm],
                        games.home_score[perm], games.away_score[perm], games.neutral[perm], games.playoff[perm],
                        n_teams=games.n_teams)
    a, b = run_elo(games, FIVETHIRTYEIGHT), run_elo(shuffled, FIVETHIRTYEIGHT)
    np.testing.assert_allclose(b.home_prob, a.home_prob[perm])


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="same team"):
        EloGames.of([A], [A], [1990], [0], [1], [0])
    with pytest.raises(ValueError, match="shape"):
        EloGames(np.array([0]), np.array([1, 2]), np.array([1990]), np.array([0]), np.array([1.0]),
                 np.array([0.0]), np.array([False]), np.array([False]), n_teams=3).validate()


def test_scores_and_calibration() -> None:
    p = np.array([0.9, 0.2, 0.6, 0.5])
    y = np.array([1.0, 0.0, 0.0, 0.5])
    assert brier_score(p, y) == pytest.approx(((0.1) ** 2 + 0.2**2 + 0.6**2 + 0) / 4)
    expected_ll = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + 0.5 * math.log(0.5) * 2) / 4
    assert log_loss(p, y) == pytest.approx(expected_ll)
    bins = calibration_bins(p, y, n_bins=2)
    assert [b.count for b in bins] == [1, 3]
    assert bins[1].mean_prob == pytest.approx((0.9 + 0.6 + 0.5) / 3)
    assert bins[1].observed == pytest.approx(1.5 / 3)


def test_spread_probability_is_stern_normal() -> None:
    for margin in (-7.0, 0.0, 3.0, 14.0):
        expected = 0.5 * (1 + math.erf(margin / 13.86 / math.sqrt(2)))
        assert spread_win_probability(margin) == pytest.approx(expected, abs=1e-12)
    assert math.isnan(spread_win_probability(math.nan))


def test_tune_lowers_the_brier_of_its_own_games_only() -> None:
    games = random_league(11, seasons=5)
    start = replace(FIVETHIRTYEIGHT, k=55.0)  # a poor start: tuning must improve on it
    res = tune(games, start, burn_in_seasons=1, names=("k", "home_field"), max_evaluations=60)
    assert res.brier < res.brier_start
    assert res.params.k != 55.0
    with pytest.raises(ValueError, match="cannot tune"):
        tune(games, start, names=("mean_elo",))
