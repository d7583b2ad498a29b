"""``magnus-desktop research`` on the bundled data: every indicator recomputed here from the CSV."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from magnus_desktop.cli import main
from magnus_desktop.services.paths import DATA_RESOURCES_DIR, app_paths
from magnus_desktop.services.settings import Settings, SettingsStore
from tests.unit.research.test_indicators import ema_seeded, wilder_rsi

ROOT = Path(__file__).resolve().parents[2]
SPY_CSV = DATA_RESOURCES_DIR / "ohlcv" / "pandas-ta_SPY_D_1999-2020.csv"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["research", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_spy_on_2018_01_26_offline(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "SPY", "--replay-date", "2018-01-26")
    raw = pd.read_csv(SPY_CSV)
    raw = raw[raw["date"] <= "2018-01-26"]
    close = raw["close"].tolist()
    ind = doc["indicators"]
    assert ind["as_of"] == "2018-01-26" == raw["date"].iloc[-1]
    assert ind["rsi_14"] == pytest.approx(wilder_rsi(close)[-1], abs=1e-3)
    for n in (20, 50, 200):
        assert ind[f"sma_{n}"] == pytest.approx(sum(close[-n:]) / n, abs=1e-4)
    fast, slow = ema_seeded(close, 12, 14), ema_seeded(close, 26, 0)
    line = [f - s for f, s in zip(fast, slow, strict=True)]
    assert ind["macd"] == pytest.approx(line[-1], abs=1e-4)
    assert ind["macd_signal"] == pytest.approx(ema_seeded(line, 9, 25)[-1], abs=1e-4)
    assert ind["atr_14"] > 0 and ind["rsi_14"] > 70  # January 2018: overbought
    assert doc["sector"] is None and doc["iv_rank"] is None  # an ETF; no SPY chain bundled
    assert doc["earnings"]["status"] == "no_source"
    assert set(doc["analysts"]) == {"trend", "volatility", "risk", "income"}
    assert doc["analysts"]["trend"]["verdict"] == "uptrend"  # close > SMA50 > SMA200 and MACD > signal
    assert doc["analysts"]["risk"]["verdict"] == "elevated" and doc["analysts"]["risk"]["numbers"]["rsi_14"] > 70
    for z in doc["zones"]:
        assert z["status"] in ("fresh", "tested") and z["low"] <= z["high"]
        assert (z["kind"] == "demand") == (z["high"] < close[-1]) or z["distance_pct"] == 0


def test_spx_has_iv_rank_wheel_candidates_and_the_demo_position(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "SPXW", "--replay-date", "2018-02-06")
    iv = doc["iv"]
    assert doc["symbol"] == "SPX" and iv["days"] >= 20
    assert doc["iv_rank"] == pytest.approx((iv["atm_iv"] - iv["min"]) / (iv["max"] - iv["min"]) * 100, abs=0.1)
    assert doc["wheel_candidates"] and all(r["right"] == "P" for r in doc["wheel_candidates"])
    assert doc["position"] is not None and all(q < 0 for q in doc["position"]["qty"])  # the demo's short puts
    assert doc["analysts"]["income"]["numbers"]["candidates"] == len(doc["wheel_candidates"])
    # p_win beside prob_otm: the bundled model's, scored like the scanner's rows (one model, one path)
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.predictor.model import PredictorModel
    from magnus_desktop.services.predictor.scoring import CandidateScorer
    from magnus_desktop.services.predictor.service import BUNDLED_MODEL

    scorer = CandidateScorer(ReplayMarketData.from_resources(), PredictorModel.load(BUNDLED_MODEL))
    for r in doc["wheel_candidates"]:
        und = ReplayMarketData.from_resources().und_price(date(2018, 2, 6))
        expected = scorer.p_win_many("SPXW", date(2018, 2, 6), ["P"], [r["strike"]], [und], [r["iv"]],
                                     [abs(r["delta"])], [r["dte"]])[0]
        assert r["p_win"] == pytest.approx(expected, abs=1e-3) and 0 < r["p_win"] < 1


def test_stale_and_missing_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    aapl = _json(capsys, "AAPL", "--replay-date", "2018-01-26")
    assert aapl["bars"]["stale"] and aapl["indicators"]["as_of"] == "2018-01-19"
    assert any("2018-01-19" in m and "not current" in m for m in aapl["missing"])
    assert aapl["sector"] == "Information Technology"
    nvda = _json(capsys, "NVDA", "--replay-date", "2018-01-26")
    assert nvda["indicators"] is None and any("No recorded bars for NVDA" in m for m in nvda["missing"])


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["research", "SPY", "--replay-date", "1990-01-02"]) == 2
    assert "before SPY's first recorded bar" in capsys.readouterr().err
    assert main(["research", "not a ticker"]) == 2


def test_earnings_file_from_settings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "earnings.csv"
    f.write_text("ticker,date\nAAPL,2017-11-02\nAAPL,2018-02-01\n")
    settings = Settings()
    settings.research.earnings_file = str(f)
    app_paths().prepare()
    SettingsStore(app_paths().settings_file).save(settings)
    doc = _json(capsys, "AAPL", "--replay-date", "2018-01-19")
    assert doc["earnings"]["next"] == "2018-02-01" and doc["earnings"]["days_to_next"] == 13
    assert doc["earnings"]["last"] == "2017-11-02"


def test_markdown_as_a_subprocess() -> None:
    out = subprocess.run([sys.executable, "-m", "magnus_desktop", "research", "SPY", "--replay-date", "2018-01-26"],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# SPY — research report as of 2018-01-26")
    assert "## Analysts" in out.stdout and "rsi_14" in out.stdout
    assert not math.isnan(float(next(line for line in out.stdout.splitlines() if line.startswith("| rsi_14"))
                                 .split("|")[2].replace(",", "")))


def test_a_cp1252_console_gets_utf8_json_not_a_crash() -> None:
    """A Windows pipe is cp1252: the report's "→" and "—" raised UnicodeEncodeError mid-output (found
    under Wine). The headless commands write UTF-8 whatever the stream's encoding."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    out = subprocess.run([sys.executable, "-m", "magnus_desktop", "research", "SPY", "--replay-date", "2018-01-26",
                          "--format", "json"], capture_output=True, cwd=ROOT, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    doc = json.loads(out.stdout.decode("utf-8"))
    assert doc["symbol"] == "SPY" and doc["indicators"]["as_of"] == "2018-01-26"
    assert any(ord(ch) > 255 for ch in out.stdout.decode("utf-8"))  # it holds text cp1252 cannot encode
