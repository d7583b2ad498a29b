"""``magnus-desktop predictor train|evaluate|predict`` as subprocesses on small slices of the bundled data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLICE = ("--symbols", "SPY", "--start", "2001-01-01", "--end", "2006-12-31")


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAGNUS_DESKTOP_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "magnus_desktop", "predictor", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("predictor-home")
    out = _run("train", *SLICE, "--day-step", "5", home=home)
    assert out.returncode == 0, out.stderr
    assert "model saved" in out.stdout and "Black-Scholes prob_otm Brier" in out.stdout
    return home


def test_train_writes_the_model_card_in_the_data_dir(trained: Path) -> None:
    card = json.loads((trained / "data" / "predictor" / "model.json").read_text(encoding="utf-8"))
    assert card["window"]["first_entry"].startswith("2001") and card["window"]["last_entry"].startswith("2006")
    assert card["symbols"] == ["SPY"] and len(card["features"]) == 20
    assert card["label"] == "win = expired out of the money"


def test_predict_prints_p_win_beside_prob_otm(trained: Path) -> None:
    out = _run("predict", "--symbol", "SPY", "--date", "2006-03-01", "--right", "P", "--dte", "30", "--delta", "0.2",
               "--format", "json", home=trained)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert 0 <= doc["p_win"] <= 1 and doc["fallback"] is None and doc["price_source"] == "model"
    assert doc["abs_delta"] == pytest.approx(0.2, abs=0.01) and doc["strike"] < doc["und_price"]
    table = _run("predict", "--symbol", "SPY", "--date", "2006-03-01", "--right", "C", "--dte", "30",
                 "--strike", "135", home=trained)
    assert table.returncode == 0 and "prob_otm (Black-Scholes N(d2))" in table.stdout and "p_win 0." in table.stdout


def test_predict_refuses_a_model_of_another_feature_set(trained: Path, tmp_path: Path) -> None:
    card = json.loads((trained / "data" / "predictor" / "model.json").read_text(encoding="utf-8"))
    card["features"] = card["features"][:-1]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(card), encoding="utf-8")
    out = _run("predict", "--symbol", "SPY", "--date", "2006-03-01", "--right", "P", "--dte", "30", "--strike", "120",
               "--model", str(old), "--format", "json", home=trained)
    assert out.returncode == 3
    assert json.loads(out.stdout)["p_win"] is None and json.loads(out.stdout)["prob_otm"] > 0.5
    assert "missing features: days_to_earnings" in out.stderr and "prob_otm" in out.stderr


def test_evaluate_json_has_every_test_year_and_overall(tmp_path: Path) -> None:
    out = _run("evaluate", *SLICE, "--day-step", "10", "--format", "json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    keys = {"n", "auc", "brier", "log_loss", "brier_bs_prob_otm", "brier_majority", "avg_pnl_all", "avg_pnl_filtered"}
    assert sorted(report["per_year"]) == ["2003", "2004", "2005", "2006"]
    assert all(keys <= set(s) for s in [*report["per_year"].values(), report["overall"]])
    assert report["overall"]["n"] == sum(s["n"] for s in report["per_year"].values())


@pytest.mark.parametrize(("args", "message"), [
    (("train", "--symbols", "SPY", "--start", "2010-01-04", "--end", "2010-02-26"), "need at least 500 rows"),
    (("evaluate", "--symbols", "SPY", "--threshold", "1.5"), "--threshold must be in [0, 1]"),
    (("predict", "--symbol", "SPY", "--date", "2006-03-04", "--right", "P", "--dte", "30", "--strike", "120"),
     "not a trading day"),
    (("train", "--symbols", "TSLA"), "no usable bars for TSLA"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = _run(*args, home=tmp_path)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "predictor" / "model.json").exists()
