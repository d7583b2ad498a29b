"""NFL results files (services/kalshi/nfl.py): layouts, franchise mapping, bad rows, evaluation on real data."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.analytics.elo import FIVETHIRTYEIGHT, TUNED, brier_score
from magnus_desktop.services.kalshi.nfl import (
    ResultsFileError,
    evaluate,
    parse_results,
    predict,
    read_results,
)
from magnus_desktop.services.kalshi.nfl_teams import UnknownTeam, franchise_code

SPREADSPOKE = "nfl/spreadspoke_scores_1966-2025.csv"
NFLVERSE = "nfl/nflverse_games_excerpt_2022wk16-2023wk3.csv"
PLAIN_HEADER = "date,season,home,away,home_score,away_score,neutral,playoff\n"


def test_plain_layout_with_bad_rows_reports_lines_and_keeps_the_rest() -> None:
    text = (PLAIN_HEADER
            + "2019-09-08,2019,Oakland Raiders,Denver Broncos,24,16,0,0\n"      # line 2
            + "2019-09-15,2019,Gotham Knights,Denver Broncos,10,3,0,0\n"        # line 3: unknown team
            + "2019-09-15,2019,New York,Buffalo Bills,10,3,0,0\n"               # line 4: ambiguous
            + "2019-13-01,2019,KC,LV,1,2,0,0\n"                                 # line 5: bad date
            + "2020-09-13,2020,Las Vegas Raiders,Carolina Panthers,34,30,0,0\n"  # line 6
            + "2020-09-20,2020,DEN,LV,,,0,0\n")                                 # line 7: future game
    results = parse_results(text)
    assert results.layout == "plain"
    assert [g.line for g in results.games] == [2, 6, 7]
    skipped = {p.line: p.message for p in results.problems if p.skipped}
    assert set(skipped) == {3, 4, 5}
    assert "Gotham Knights" in skipped[3] and "ambiguous" in skipped[4] and "2019-13-01" in skipped[5]
    kept = [p for p in results.problems if not p.skipped]
    assert [p.line for p in kept] == [7] and "predicted but not scored" in kept[0].message
    summary = "\n".join(results.problem_summary())
    assert "lines 3" in summary and "unknown team" in summary
    pred = predict(results, FIVETHIRTYEIGHT)
    # Oakland and Las Vegas are one franchise: its 2020 rating is its regressed 2019 one (not a new team's)
    assert pred.teams.count("LV") == 1 and "OAK" not in pred.teams
    denver_2019_end = (pred.elo.home_elo[2] - 1505 / 3) * 1.5  # Denver's regressed rating on line 7
    raiders_2019_end = 3000.0 - denver_2019_end  # one game between two 1500 teams: the shifts cancel
    assert pred.elo.home_elo[1] == pytest.approx(1505 / 3 + raiders_2019_end * 2 / 3)
    assert raiders_2019_end > 1500.0
    rows = pred.rows()
    assert rows[2]["home_score"] is None and 0.0 < float(rows[2]["home_prob"]) < 1.0  # type: ignore[arg-type]


def test_franchise_moves_map_to_one_code() -> None:
    for names, code in ((("Baltimore Colts", "Indianapolis Colts", "IND"), "IND"),
                        (("Houston Oilers", "Tennessee Oilers", "Tennessee Titans", "TEN", "OTI"), "TEN"),
                        (("St. Louis Rams", "Los Angeles Rams", "LA", "STL"), "LAR"),
                        (("San Diego Chargers", "SD", "Los Angeles Chargers"), "LAC"),
                        (("Washington Redskins", "Washington Football Team", "Washington Commanders"), "WAS")):
        for name in names[:-1] if code == "TEN" else names:
            assert franchise_code(name) == code, name
    assert franchise_code("Houston Texans") == "HOU"  # not the Oilers
    assert franchise_code("Baltimore Ravens") == "BAL" != franchise_code("Cleveland Browns")
    with pytest.raises(UnknownTeam, match="ambiguous"):
        franchise_code("Los Angeles")
    with pytest.raises(UnknownTeam, match="empty"):
        franchise_code("  ")


def test_unusable_files_get_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match="cannot read"):
        read_results(tmp_path / "missing.csv")
    with pytest.raises(ResultsFileError, match="unknown layout"):
        parse_results("a,b,c\n1,2,3\n")
    with pytest.raises(ResultsFileError, match="missing column"):
        parse_results("date,season,home\n2020-01-01,2019,KC\n", "plain")
    with pytest.raises(ResultsFileError, match="no usable game.*line 2"):
        parse_results(PLAIN_HEADER + "2020-09-20,2020,Nowhere,LV,1,2,0,0\n")
    with pytest.raises(ResultsFileError, match="empty"):
        parse_results("")


def test_spreadspoke_spread_sign_and_pick() -> None:
    header = ("schedule_date,schedule_season,schedule_week,schedule_playoff,team_home,score_home,score_away,"
              "team_away,team_favorite_id,spread_favorite,over_under_line,stadium,stadium_neutral\n")
    text = header + ("9/8/2019,2019,1,FALSE,Kansas City Chiefs,40,26,Jacksonville Jaguars,KC,-3.5,51,X,FALSE\n"
                     "9/8/2019,2019,1,FALSE,Cleveland Browns,13,43,Tennessee Titans,TEN,-5.5,44,X,FALSE\n"
                     "9/8/2019,2019,1,FALSE,Miami Dolphins,10,59,Baltimore Ravens,PICK,0,44,X,TRUE\n")
    results = parse_results(text)
    assert results.layout == "spreadspoke"
    assert [g.spread_home for g in results.games] == [3.5, -5.5, 0.0]
    assert results.games[2].neutral
    pred = predict(results)
    phi = [0.5 * (1 + math.erf(m / 13.86 / math.sqrt(2))) for m in (3.5, -5.5, 0.0)]
    np.testing.assert_allclose(pred.spread_prob, phi)


def test_nflverse_excerpt_matches_spreadspoke_scores(shared_data: Path) -> None:
    nflverse = read_results(shared_data / NFLVERSE)
    assert nflverse.layout == "nflverse" and len(nflverse.games) == 101
    with (shared_data / NFLVERSE).open(newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert sum(g.playoff for g in nflverse.games) == sum(r["game_type"] != "REG" for r in raw)
    for g, r in zip(nflverse.games, raw, strict=True):  # spread_line = expected home margin; rest from the file
        assert g.spread_home == float(r["spread_line"]) and g.home_rest == float(r["home_rest"])
    spreadspoke = read_results(shared_data / SPREADSPOKE)
    by_key = {(g.date, g.home, g.away): (g.home_score, g.away_score) for g in spreadspoke.games}
    matched = [by_key.get((g.date, g.home, g.away)) == (g.home_score, g.away_score) for g in nflverse.games]
    assert all(matched), f"{matched.count(False)} nflverse games differ from spreadspoke"


def test_real_data_evaluation_2000_on(shared_data: Path) -> None:
    results = read_results(shared_data / SPREADSPOKE)
    lines_with_unknown = {p.line for p in results.problems if p.skipped}
    assert lines_with_unknown == {14154, 14155}  # 'New York' and 'New York Jets (1p, ' rows of 2025
    ev = evaluate(results, TUNED, from_season=2000)
    overall = ev.overall
    print(f"\nElo 2000+: Brier {overall.brier:.4f}, log loss {overall.log_loss:.4f} over {overall.games} games; "
          f"spread-implied: Brier {overall.brier_spread:.4f}, log loss {overall.log_loss_spread:.4f} "
          f"over {overall.spread_games} games")
    assert overall.games > 6500 and ev.seasons[0].season == 2000
    assert overall.brier < 0.25  # beats a coin flip
    # and beats the best constant forecast learnt from before 2000 (the pre-2000 home win rate)
    pred = ev.predictions
    y = pred.games.home_result()
    before = np.isfinite(y) & (pred.games.season < 2000)
    after = np.isfinite(y) & (pred.games.season >= 2000)
    base_rate = float(y[before].mean())
    assert overall.brier < brier_score(np.full(after.sum(), base_rate), y[after])
    assert overall.spread_games > 6500 and 0.19 < overall.brier_spread < 0.23
    assert sum(b.count for b in ev.calibration) == overall.games
    # per-season rows add up to the whole
    assert sum(s.games for s in ev.seasons) == overall.games


def test_tuning_sees_only_the_seasons_before_from_season() -> None:
    rng = np.random.default_rng(5)
    teams = ["KC", "LV", "DEN", "LAC", "NE", "BUF", "MIA", "NYJ"]
    games = []
    for season in range(1995, 2002):
        for week in range(10):
            order = rng.permutation(len(teams))
            for g in range(4):
                games.append((f"{season}-09-{1 + week * 2:02d}", season, teams[order[2 * g]], teams[order[2 * g + 1]],
                              int(rng.integers(0, 40)), int(rng.integers(0, 40))))

    def text(rows: list[tuple[str, int, str, str, int, int]]) -> str:
        return PLAIN_HEADER + "".join(f"{d},{s},{h},{a},{hs},{as_},0,0\n" for d, s, h, a, hs, as_ in rows)

    first = evaluate(parse_results(text(games)), from_season=2000, tune_params=True)
    # every score from 2000 on changed: the tuned parameters must not move, the scores must
    changed = [(d, s, h, a, 0, 45) if s >= 2000 else (d, s, h, a, hs, as_) for d, s, h, a, hs, as_ in games]
    second = evaluate(parse_results(text(changed)), from_season=2000, tune_params=True)
    assert first.tuned is not None and second.tuned is not None
    assert first.tuned.params == second.tuned.params
    assert first.overall.brier != second.overall.brier
    with pytest.raises(ResultsFileError, match="no played game before 1990"):
        evaluate(parse_results(text(games)), from_season=1990, tune_params=True)


def test_yearly_refit_scores_each_season_with_parameters_from_earlier_seasons_only() -> None:
    rng = np.random.default_rng(9)
    teams = ["KC", "LV", "DEN", "LAC", "NE", "BUF"]
    rows = []
    for season in range(1994, 2002):
        for week in range(8):
            order = rng.permutation(len(teams))
            for g in range(3):
                rows.append((f"{season}-10-{1 + week * 3:02d}", season, teams[order[2 * g]], teams[order[2 * g + 1]],
                             int(rng.integers(0, 40)), int(rng.integers(0, 40))))

    def text(rs: list[tuple[str, int, str, str, int, int]]) -> str:
        return PLAIN_HEADER + "".join(f"{d},{s},{h},{a},{hs},{as_},0,0\n" for d, s, h, a, hs, as_ in rs)

    first = evaluate(parse_results(text(rows)), FIVETHIRTYEIGHT, from_season=2000, refit_yearly=True,
                     refit_evaluations=25)
    changed = [(d, s, h, a, 45, 0) if s == 2001 else (d, s, h, a, hs, as_) for d, s, h, a, hs, as_ in rows]
    second = evaluate(parse_results(text(changed)), FIVETHIRTYEIGHT, from_season=2000, refit_yearly=True,
                      refit_evaluations=25)
    assert [s for s, _ in first.refits] == [2000, 2001]
    assert first.refits[0] == second.refits[0] and first.refits[1] == second.refits[1]  # 2001 not seen by its fit
    assert first.seasons[0] == second.seasons[0]  # 2000 scored identically
    assert first.seasons[1].brier != second.seasons[1].brier
    assert first.refits[0][1] != FIVETHIRTYEIGHT  # the fit did move
    plain = evaluate(parse_results(text(rows)), first.refits[0][1], from_season=2000)
    assert plain.seasons[0].brier == pytest.approx(first.seasons[0].brier)  # season 2000 = the fit's own run
