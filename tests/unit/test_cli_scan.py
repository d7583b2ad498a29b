"""``magnus-desktop scan`` run in-process: outputs checked against the raw CSV rows by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.analytics.pricing import bs_price
from magnus_desktop.cli import main
from magnus_desktop.models.domain import SCAN_COLUMNS
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.settings import Settings

SPXW = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["scan", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def raw_spxw_row(quote: str, strike: float, kind: str) -> dict[str, str]:
    with SPXW.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["quotedate"] == quote and float(row["strike"]) == strike and row["type"] == kind:
                return row
    raise AssertionError(f"no raw row {quote} {strike} {kind}")


def test_csv_rows_recomputed_from_raw_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--chain", str(SPXW), "--date", "2018-01-02", "--top", "5", "--format", "csv")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == ",".join(SCAN_COLUMNS)
    rows = csv_rows(out)
    assert len(rows) == 5
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    defaults = Settings().scanner
    for got in rows:
        raw = raw_spxw_row("01/02/2018", float(got["strike"]), "put")
        bid, ask = float(raw["bid"]), float(raw["ask"])
        mid = (bid + ask) / 2
        dte = (date(2018, 1, 31) - date(2018, 1, 2)).days
        assert got["expiry"] == "2018-01-31" and int(got["dte"]) == dte and got["right"] == "P"
        assert float(got["mid"]) == pytest.approx(mid)
        assert float(got["spread_pct"]) == pytest.approx((ask - bid) / mid)
        assert float(got["return_on_collateral"]) == pytest.approx(bid / float(raw["strike"]))
        assert float(got["annualized_return"]) == pytest.approx(bid / float(raw["strike"]) * 365 / dte)
        price = bs_price("P", float(raw["underlying_last"]), float(raw["strike"]), dte / 365,
                         Settings().risk_free_rate, float(got["iv"]))
        assert float(price) == pytest.approx(mid, abs=1e-4)
        assert defaults.delta_min <= -float(got["delta"]) <= defaults.delta_max
        assert float(got["spread_pct"]) <= defaults.max_spread_pct


def test_json_is_list_of_objects_with_scan_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--chain", str(SPXW), "--date", "2018-02-05", "--right", "both",
                       "--top", "6", "--format", "json")
    data = json.loads(out)
    assert code == 0 and isinstance(data, list) and len(data) == 6
    assert all(list(obj) == list(SCAN_COLUMNS) for obj in data)
    for obj in data:
        date.fromisoformat(obj["expiry"])
        assert obj["right"] in ("C", "P")
        assert (obj["delta"] < 0) == (obj["right"] == "P")


def test_table_is_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--chain", str(SPXW), "--date", "2018-01-10", "--top", "4")
    lines = out.splitlines()
    assert code == 0 and "2018-01-10" in lines[0] and "SPXW" in lines[0]
    table = lines[1:]
    assert len(table) == 5 and table[0].split()[:3] == ["underlying", "expiry", "dte"]
    assert len({len(line) for line in table}) == 1


def test_latest_date_of_spxw_is_expiry_day(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--chain", str(SPXW))
    assert code == 0 and "2018-02-28" in out and "dte 0" in out


def test_percent_options_and_mid_premium(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--chain", str(SPXW), "--date", "2018-01-16", "--max-spread", "5",
                       "--min-return", "5", "--premium", "mid", "--dte", "1:", "--delta", "0.1:0.3",
                       "--format", "csv")
    rows = csv_rows(out)
    assert code == 0 and rows
    for r in rows:
        assert float(r["spread_pct"]) <= 0.05 and float(r["annualized_return"]) >= 0.05
        assert 0.1 <= abs(float(r["delta"])) <= 0.3
        assert float(r["return_on_collateral"]) == pytest.approx(float(r["mid"]) / float(r["strike"]))


def test_multi_ticker_file_scans_all_underlyings_of_a_date(capsys: pytest.CaptureFixture[str], shared_data: Path) -> None:
    path = shared_data / "options_chains" / "options_screener_yf_chain_history_2026-08.csv"
    code, out, _ = run(capsys, "--chain", str(path), "--date", "2026-08-20", "--right", "both",
                       "--max-spread", "100", "--format", "csv")
    rows = csv_rows(out)
    with path.open(newline="") as fh:
        raw = {(r["ticker"], r["expiry"], float(r["strike"]), r["type"]): r
               for r in csv.DictReader(fh) if r["date"] == "2026-08-20"}
    assert code == 0 and len({r["underlying"] for r in rows}) > 5
    for r in rows:
        src = raw[(r["underlying"], r["expiry"], float(r["strike"]), r["right"])]
        assert int(r["dte"]) == int(src["dte"])  # the vendor's own dte column
        assert float(r["spread_pct"]) == pytest.approx(float(src["spread_pct"]), abs=1e-4)
        assert float(r["mid"]) == pytest.approx(float(src["mid"]))


def test_cboe_file_skips_expiry_day(capsys: pytest.CaptureFixture[str], shared_data: Path) -> None:
    path = shared_data / "options_chains" / "optopsy_VIX_options_cboe_2016-06-01.csv"
    code, out, _ = run(capsys, "--chain", str(path), "--right", "C", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data
    assert all(obj["dte"] > 0 and obj["expiry"] != "2016-06-01" for obj in data)
    assert {obj["underlying"] for obj in data} <= {"VIX", "BVZ"}
    iv = np.array([obj["iv"] for obj in data])
    assert np.isfinite(iv).all() and (iv > 0).all()


def test_historicaloptiondata_file(capsys: pytest.CaptureFixture[str], shared_data: Path) -> None:
    path = shared_data / "options_chains" / "optopsy_A_agilent_2016-01-05.csv"
    code, out, _ = run(capsys, "--chain", str(path), "--dte", "1:400", "--format", "csv")
    rows = csv_rows(out)
    assert code == 0 and rows and {r["underlying"] for r in rows} == {"A"}


def write_bad_layout(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("ticker,date,expiry,type,strike,bid,ask\nX,2020-01-02,2020-02-21,P,10,1,1.1\n")
    return path


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--chain", "/does/not/exist.csv"], "file not found"),
        (["--chain", "BAD_LAYOUT"], "missing columns: spot"),
        (["--chain", str(SPXW), "--dte", "7-45"], "--dte expects MIN:MAX"),
        (["--chain", str(SPXW), "--delta", "a:0.3"], "--delta expects a number"),
        (["--chain", str(SPXW), "--date", "2019-05-01"], "2018-01-02 .. 2018-02-28"),
        (["--chain", str(SPXW), "--date", "05/01/2018"], "YYYY-MM-DD"),
        (["--chain", str(SPXW), "--top", "0"], "top must be >= 1"),
        (["--chain", str(SPXW), "--dte", "30:10"], "dte_min <= dte_max"),
    ],
)
def test_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                    extra: list[str], fragment: str) -> None:
    argv = [str(write_bad_layout(tmp_path)) if a == "BAD_LAYOUT" else a for a in extra]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err and "Traceback" not in err
