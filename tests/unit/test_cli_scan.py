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
from magnus_desktop.cli_scan import join_negative_values
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


def test_json_is_an_object_with_rows_and_an_empty_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--chain", str(SPXW), "--date", "2018-02-05", "--right", "both",
                         "--top", "6", "--format", "json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert list(data) == ["quote_date", "rows", "skipped", "duplicates"]
    assert data["quote_date"] == "2018-02-05"
    assert data["skipped"] == [] and data["duplicates"] == {"count": 0, "differing": 0, "lines": []}
    rows = data["rows"]
    assert len(rows) == 6 and all(list(obj) == list(SCAN_COLUMNS) for obj in rows)
    for obj in rows:
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


def test_decimal_options_and_mid_premium(capsys: pytest.CaptureFixture[str]) -> None:
    # decimals like Settings and the spread_pct column: 0.05 = 5 % (was read as 0.05 %, which
    # let no row through)
    code, out, _ = run(capsys, "--chain", str(SPXW), "--date", "2018-01-16", "--max-spread", "0.05",
                       "--min-return", "0.05", "--premium", "mid", "--dte", "1:", "--delta", "0.1:0.3",
                       "--format", "csv")
    rows = csv_rows(out)
    assert code == 0 and rows
    assert max(float(r["spread_pct"]) for r in rows) > 0.01
    for r in rows:
        assert float(r["spread_pct"]) <= 0.05 and float(r["annualized_return"]) >= 0.05
        assert 0.1 <= abs(float(r["delta"])) <= 0.3
        assert float(r["return_on_collateral"]) == pytest.approx(float(r["mid"]) / float(r["strike"]))


def test_max_spread_is_compared_with_the_spread_pct_column(capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--chain", str(SPXW), "--date", "2018-01-16", "--right", "both", "--delta", "0:1", "--format", "csv")
    _, out, _ = run(capsys, *base, "--max-spread", "2")
    spreads = sorted(float(r["spread_pct"]) for r in csv_rows(out))
    cut = spreads[len(spreads) // 2]
    _, out, _ = run(capsys, *base, "--max-spread", str(cut))
    kept = [float(r["spread_pct"]) for r in csv_rows(out)]
    assert len(kept) == sum(s <= cut for s in spreads) and max(kept) == pytest.approx(cut)


def test_multi_ticker_file_scans_all_underlyings_of_a_date(capsys: pytest.CaptureFixture[str], shared_data: Path) -> None:
    path = shared_data / "options_chains" / "options_screener_yf_chain_history_2026-08.csv"
    code, out, _ = run(capsys, "--chain", str(path), "--date", "2026-08-20", "--right", "both",
                       "--max-spread", "2", "--format", "csv")
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
    data = json.loads(out)["rows"]
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
        (["--chain", str(SPXW), "--dte", "30:10"], "--dte MIN must be <= MAX, got 30:10"),
        (["--chain", str(SPXW), "--delta", "0.3:0.1"], "--delta MIN must be <= MAX"),
        (["--chain", str(SPXW), "--dte", "90:"], "got 90:60 (an empty side takes its default)"),
        (["--chain", str(SPXW), "--dte", "-5:30"], "--dte bounds must be >= 0"),
        (["--chain", str(SPXW), "--dte=-5:30"], "--dte bounds must be >= 0"),
        (["--chain", str(SPXW), "--dte", "5:-30"], "--dte bounds must be >= 0"),
        (["--chain", str(SPXW), "--delta", "-0.1:0.3"], "--delta bounds must be >= 0 and <= 1"),
        (["--chain", str(SPXW), "--delta", "0.1:1.5"], "--delta bounds must be >= 0 and <= 1"),
        (["--chain", str(SPXW), "--max-spread", "25"], "--max-spread must be >= 0 and <= 2"),
        (["--chain", str(SPXW), "--max-spread", "25%"], "--max-spread takes a decimal (0.25 = 25%)"),
        (["--chain", str(SPXW), "--max-spread", "-0.1"], "--max-spread must be >= 0"),
        (["--chain", str(SPXW), "--min-return", "-0.1"], "--min-return must be >= 0"),
        (["--chain", str(SPXW), "--min-oi", "-3"], "--min-oi must be >= 0"),
        (["--chain", str(SPXW), "--div-yield", "0.3"], "--div-yield must be >= 0 and <= 0.25"),
        (["--chain", str(SPXW), "--rate", "nan"], "--rate expects a finite number"),
    ],
)
def test_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                    extra: list[str], fragment: str) -> None:
    argv = [str(write_bad_layout(tmp_path)) if a == "BAD_LAYOUT" else a for a in extra]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err and "Traceback" not in err


def rate_limits() -> tuple[float, float]:
    """The bounds of Settings.risk_free_rate, read from the pydantic field (not copied)."""
    meta = Settings.model_fields["risk_free_rate"].metadata
    low = next(m.ge for m in meta if getattr(m, "ge", None) is not None)
    high = next(m.le for m in meta if getattr(m, "le", None) is not None)
    return float(low), float(high)


@pytest.mark.parametrize("pick", ["below", "above", "1.5"])
def test_rate_outside_the_settings_bounds_is_refused(capsys: pytest.CaptureFixture[str], pick: str) -> None:
    low, high = rate_limits()
    value = {"below": low - 0.001, "above": high + 0.001, "1.5": 1.5}[pick]
    code, out, err = run(capsys, "--chain", str(SPXW), "--date", "2018-01-16", "--rate", f"{value:g}")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"--rate must be >= {low:g} and <= {high:g}" in err and f"got {value:g}" in err


@pytest.mark.parametrize("pick", ["low", "high"])
def test_rate_at_the_settings_bounds_is_used(capsys: pytest.CaptureFixture[str], pick: str) -> None:
    low, high = rate_limits()
    rate = low if pick == "low" else high
    code, out, err = run(capsys, "--chain", str(SPXW), "--date", "2018-01-16", "--top", "1",
                         f"--rate={rate:g}", "--format", "csv")
    (row,) = csv_rows(out)
    assert code == 0 and err == ""
    raw = raw_spxw_row("01/16/2018", float(row["strike"]), "put")
    price = bs_price("P", float(raw["underlying_last"]), float(raw["strike"]), int(row["dte"]) / 365,
                     rate, float(row["iv"]))
    assert float(price) == pytest.approx(float(row["mid"]), abs=1e-4)  # the iv was fitted at this rate


def test_argparse_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["scan", "--chain", str(SPXW), "--format", "xml"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.splitlines()) == 1
    assert "invalid choice: 'xml'" in err and "magnus-desktop scan --help" in err


@pytest.mark.parametrize("argv", [["scan", "--help"], ["--help"]])
def test_help_prints_single_percent_signs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                          argv: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    assert info.value.code == 0 and "%%" not in out
    if argv[0] == "scan":
        assert "0.25 = 25%" in out and "decimal: 0.015 = 1.5%" in out
        low, high = rate_limits()
        assert f">= {low:g} and <= {high:g}" in out
        assert "Exit codes: 0" in out and '"skipped": [{"reason", "message", "count", "lines"}]' in out


SPXW_HEADER = "underlying,underlying_last, exchange,optionroot,optionext,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest"


def spxw_line(strike: float, bid: str = "3.0", ask: str = "3.2", expiry: str = "01/31/2018") -> str:
    return f"SPXW,2695.79,W,X,,put,{expiry},01/02/2018,{strike},3.1,{bid},{ask},10,100"


def write_dirty_chain(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A small chain with known problems; returns the file and each row's line (found by text)."""
    rows = {
        "good_a": spxw_line(2600, "12.0", "12.4"),
        "neg_bid": spxw_line(2605, bid="-1"),
        "good_b": spxw_line(2610, "14.0", "14.5"),
        "crossed": spxw_line(2615, bid="4.0", ask="3.0"),
        "copy_a": spxw_line(2600, "12.0", "12.4"),
        "old_expiry": spxw_line(2620, expiry="12/15/2017"),
        "inf_ask": spxw_line(2625, ask="inf"),
        "nan_strike": spxw_line(float("nan")),
        "other_b": spxw_line(2610, "13.0", "14.5"),
    }
    text = "\n".join([SPXW_HEADER, rows["good_a"], rows["neg_bid"], "", rows["good_b"], rows["crossed"],
                      rows["copy_a"], rows["old_expiry"], rows["inf_ask"], rows["nan_strike"], rows["other_b"]])
    path = tmp_path / "dirty.csv"
    path.write_text(text + "\n")
    file_lines = path.read_text().splitlines()
    where = {name: file_lines.index(row) + 1 for name, row in rows.items() if name != "copy_a"}
    where["copy_a"] = [i + 1 for i, line in enumerate(file_lines) if line == rows["good_a"]][1]
    return path, where


def test_skipped_and_duplicate_rows_reported_on_stderr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path, line = write_dirty_chain(tmp_path)
    code, out, err = run(capsys, "--chain", str(path), "--delta", "0:1", "--max-spread", "2", "--format", "csv")
    assert code == 0
    rows = csv_rows(out)
    assert sorted(float(r["strike"]) for r in rows) == [2600.0, 2610.0]  # one row per contract
    assert float(next(r for r in rows if float(r["strike"]) == 2610)["bid"]) == 14.0  # first copy kept
    messages = err.splitlines()
    assert all(m.startswith("magnus-desktop scan: warning: ") for m in messages) and len(messages) == 6
    expected = {
        "negative": f"skipped 1 row, bid, ask or last negative: line {line['neg_bid']}",
        "crossed": f"skipped 1 row, bid > ask: line {line['crossed']}",
        "expiry": f"skipped 1 row, expiry before quote_date: line {line['old_expiry']}",
        "infinite": f"skipped 1 row, bid, ask or last infinite: line {line['inf_ask']}",
        "strike": f"skipped 1 row, strike missing, not a number, infinite or <= 0: line {line['nan_strike']}",
        "dups": f"lines {line['copy_a']}, {line['other_b']}",
    }
    for fragment in expected.values():
        assert sum(fragment in m for m in messages) == 1, fragment
    assert "dropped 2 rows" in err and "1 of them with other values" in err


def test_json_carries_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path, line = write_dirty_chain(tmp_path)
    code, out, _ = run(capsys, "--chain", str(path), "--delta", "0:1", "--max-spread", "2", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["quote_date"] == "2018-01-02" and len(data["rows"]) == 2
    skipped = {s["reason"]: (s["count"], s["lines"]) for s in data["skipped"]}
    assert skipped == {
        "bad_strike": (1, [line["nan_strike"]]),
        "expiry_before_quote_date": (1, [line["old_expiry"]]),
        "infinite_price": (1, [line["inf_ask"]]),
        "negative_price": (1, [line["neg_bid"]]),
        "bid_above_ask": (1, [line["crossed"]]),
    }
    assert all(set(s) == {"reason", "message", "count", "lines"} for s in data["skipped"])
    assert data["duplicates"] == {"count": 2, "differing": 1, "lines": [line["copy_a"], line["other_b"]]}


def test_chain_without_valid_rows_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "all_bad.csv"
    path.write_text("\n".join([SPXW_HEADER, spxw_line(2600, bid="5", ask="1"), spxw_line(2605, expiry="12/15/2017")]) + "\n")
    code, out, err = run(capsys, "--chain", str(path))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "no valid rows" in err and "1 bid > ask" in err and "no contract passes" not in err


def test_negative_values_are_joined_to_their_option() -> None:
    assert join_negative_values(["scan", "--dte", "-5:30", "--rate", "-1e-3", "--top", "3"]) == [
        "scan", "--dte=-5:30", "--rate=-1e-3", "--top", "3"]
    assert join_negative_values(["scan", "--chain", "-x.csv", "--format", "-h"]) == [
        "scan", "--chain", "-x.csv", "--format", "-h"]
