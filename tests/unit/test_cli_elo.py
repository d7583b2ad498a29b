"""``magnus-desktop elo``: rows as csv/json, --evaluate, bad input (exit 2, one line), problems on stderr."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from magnus_desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["date", "season", "home", "away", "home_prob", "home_score", "away_score"]
PLAIN = ("date,season,home,away,home_score,away_score,neutral,playoff\n"
         "1999-09-12,1999,Kansas City Chiefs,Chicago Bears,17,20,0,0\n"
         "1999-09-19,1999,Chicago Bears,Seattle Seahawks,14,13,0,0\n"
         "1999-09-26,1999,Atlantis Sharks,Chicago Bears,3,0,0,0\n"
         "2000-09-03,2000,Seattle Seahawks,Kansas City Chiefs,28,7,0,0\n"
         "2000-09-10,2000,Kansas City Chiefs,Chicago Bears,,,1,1\n")


@pytest.fixture
def plain_file(tmp_path: Path) -> Path:
    path = tmp_path / "games.csv"
    path.write_text(PLAIN)
    return path


def test_csv_rows(plain_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["elo", "--games", str(plain_file), "--layout", "plain", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == FIELDS
    assert [(r["date"], r["home"], r["away"]) for r in rows] == [
        ("1999-09-12", "KC", "CHI"), ("1999-09-19", "CHI", "SEA"), ("2000-09-03", "SEA", "KC"),
        ("2000-09-10", "KC", "CHI")]
    assert rows[3]["home_score"] == "" and 0 < float(rows[3]["home_prob"]) < 1
    assert rows[0]["home_prob"] == f"{1 / (10 ** (-63.7 / 400) + 1):.6f}"  # first game: home field only
    assert "line 4" in err and "Atlantis Sharks" in err  # the unknown team, named with its line
    assert "line 6" in err and "predicted but not scored" in err


def test_json_rows_match_csv(plain_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["elo", "--games", str(plain_file), "--format", "json"]) == 0  # layout detected
    rows = json.loads(capsys.readouterr().out)
    assert all(list(r) == FIELDS for r in rows)
    assert rows[0]["home_score"] == 17 and rows[3]["home_score"] is None and rows[3]["away_score"] is None
    assert main(["elo", "--games", str(plain_file)]) == 0
    csv_rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for j, c in zip(rows, csv_rows, strict=True):
        assert math.isclose(j["home_prob"], float(c["home_prob"]), abs_tol=5e-7)


def test_evaluate_json_and_csv(plain_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["elo", "--games", str(plain_file), "--evaluate", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["from_season"] == 2000 and [s["season"] for s in doc["per_season"]] == [2000]
    season = doc["per_season"][0]
    assert season["games"] == 1 and season["spread_games"] == 0 and season["brier_spread"] is None
    p = None
    assert main(["elo", "--games", str(plain_file)]) == 0
    for row in csv.DictReader(io.StringIO(capsys.readouterr().out)):
        if row["date"] == "2000-09-03":
            p = float(row["home_prob"])
    assert p is not None and season["brier"] == pytest.approx((1 - p) ** 2, abs=1e-6)  # SEA won at home
    assert "Phi" in doc["spread_mapping"] and doc["reference"]["fivethirtyeight_elo_brier_since_1920"] == 0.208
    assert main(["elo", "--games", str(plain_file), "--evaluate"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["season"] for r in rows] == ["2000", "all"]


@pytest.mark.parametrize(("args", "message"), [
    (["--games", "/nonexistent/games.csv"], "cannot read"),
    (["--games", "{bad}"], "unknown layout"),
    (["--games", "{plain}", "--tune"], "go with --evaluate"),
    (["--games", "{plain}", "--evaluate", "--from-season", "2030"], "no played game from season 2030"),
    (["--games", "{plain}", "--layout", "nflverse"], "missing column"),
])
def test_bad_input_exit_2_one_line(args: list[str], message: str, plain_file: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    argv = ["elo", *[a.format(bad=bad, plain=plain_file) for a in args]]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("error:") == 1


def test_subprocess_on_real_spreadspoke(shared_data: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "magnus_desktop", "elo", "--games",
                          str(shared_data / "nfl/spreadspoke_scores_1966-2025.csv"), "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 14162 and rows[0]["date"] == "1966-09-02"
    assert sum(r["home_score"] is None for r in rows) == 12
    assert "line 14154" in out.stderr and "ambiguous" in out.stderr
