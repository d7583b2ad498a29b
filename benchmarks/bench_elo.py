"""Speed of the NFL Elo model (``magnus_desktop.analytics.elo``, ``services/kalshi/nfl.py``).

Rows:
- Elo over every season since 1966: ``run_elo`` on the spreadspoke results (14,162 games, test-only data
  read from ``../shared/data``; when absent, a SEEDED synthetic schedule of the same size), target ≤ 1 s;
  reference in the same run: a dict-per-game loop in the style of FiveThirtyEight's ``forecast.py``
  (same formula, no rest/playoff/expansion handling) — the ratio is reference / ours;
- reading and parsing the results file (info);
- the whole ``--evaluate`` path on 2000+ (read + Elo + scores + calibration) (info).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks.common import Result, timeit_best

SPREADSPOKE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nfl" / "spreadspoke_scores_1966-2025.csv"


def synthetic_games(n_games: int = 14162, seed: int = 1966):  # noqa: ANN201 - an EloGames
    """A seeded schedule: 28–32 teams, 60 seasons, ~16 weeks, random scores 0–45."""
    from magnus_desktop.analytics.elo import EloGames

    rng = np.random.default_rng(seed)
    per_season = math.ceil(n_games / 60)
    home, away, season, day = [], [], [], []
    for s in range(60):
        for g in range(per_season):
            h, a = rng.choice(32, 2, replace=False)
            home.append(int(h))
            away.append(int(a))
            season.append(1966 + s)
            day.append(s * 365 + (g // 16) * 7)
    n = len(home)
    scores = rng.integers(0, 46, (2, n)).astype(float)
    return EloGames.of(home[:n_games], away[:n_games], season[:n_games], day[:n_games], scores[0][:n_games],
                       scores[1][:n_games], n_teams=32)


def reference_loop(games, k: float = 20.0, hfa: float = 65.0) -> list[float]:  # noqa: ANN001
    """The plain per-game dict loop (FiveThirtyEight ``forecast.py`` style), the same-run reference."""
    rows = [{"t1": int(h), "t2": int(a), "season": int(s), "s1": float(x), "s2": float(y)}
            for h, a, s, x, y in zip(games.home, games.away, games.season, games.home_score, games.away_score,
                                     strict=True)]
    teams: dict[int, dict[str, float]] = {}
    probs = []
    for g in rows:
        t1 = teams.setdefault(g["t1"], {"elo": 1500.0, "season": 0.0})
        t2 = teams.setdefault(g["t2"], {"elo": 1500.0, "season": 0.0})
        for t in (t1, t2):
            if t["season"] and t["season"] != g["season"]:
                t["elo"] = 1505.0 / 3 + t["elo"] * 2 / 3
            t["season"] = g["season"]
        diff = t1["elo"] - t2["elo"] + hfa
        p = 1.0 / (math.pow(10.0, -diff / 400.0) + 1.0)
        probs.append(p)
        if g["s1"] == g["s1"]:
            pd = g["s1"] - g["s2"]
            res = 1.0 if pd > 0 else 0.0 if pd < 0 else 0.5
            mult = math.log(max(abs(pd), 1) + 1.0) * (2.2 / (1.0 if res == 0.5 else
                                                             ((diff if res == 1.0 else -diff) * 0.001 + 2.2)))
            shift = k * mult * (res - p)
            t1["elo"] += shift
            t2["elo"] -= shift
    return probs


def run(quick: bool) -> list[Result]:
    """Elo rows (see module docstring)."""
    from magnus_desktop.analytics.elo import run_elo
    from magnus_desktop.services.kalshi.nfl import evaluate, read_results, to_elo_games

    real = SPREADSPOKE.is_file()
    if real:
        results = read_results(SPREADSPOKE)
        games, _ = to_elo_games(results)
        source = f"spreadspoke 1966-2025, {len(games):,} real games"
    else:
        games = synthetic_games()
        source = f"SYNTHETIC seeded schedule, {len(games):,} games (../shared/data absent)"
    repeat = 3 if quick else 10
    ours = timeit_best(lambda: run_elo(games), repeat=repeat)
    ref = timeit_best(lambda: reference_loop(games), repeat=repeat)
    rows = [
        Result("elo every season since 1966", "time", ours * 1e3, "ms", reference="forecast.py-style dict loop",
               ratio=ref / ours, target=1000.0, direction="max_value",
               note=f"{source}; reference {ref * 1e3:.1f} ms"),
    ]
    if real:
        read_s = timeit_best(lambda: read_results(SPREADSPOKE), repeat=2 if quick else 5)
        eval_s = timeit_best(lambda: evaluate(read_results(SPREADSPOKE)), repeat=2 if quick else 5)
        rows += [Result("elo read spreadspoke csv", "time", read_s * 1e3, "ms", note="csv + team mapping + checks"),
                 Result("elo --evaluate 2000+ (read + Elo + scores)", "time", eval_s * 1e3, "ms",
                        note="per-season Brier/log loss, calibration, spread-implied")]
    return rows
