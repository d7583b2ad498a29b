"""Magic8 signal-history import and per-strategy learning.

No public trade-level Magic8 data exists: these files are BUILT HERE in the documented export layouts
(``../shared/data/magic8/DERIVED_magic8_raw_export_schemas.csv``) from REAL prices — the bundled SPY
daily closes × 10 stand in for SPX — and each trade's P&L is decided by that real close path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.cli import main
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.predictor.magic8 import (
    MIN_ROWS,
    Magic8FormatError,
    load_signals,
    read_export,
    store_signals,
    train_by_strategy,
)

LATEST = "Day,Hour,Symbol,Price,Name,Predicted,Low,High,Closed,Risk,Reward,Premium,Stop,Raw,Managed,Trade"


def _real_rows(start: str, end: str, strategies: tuple[str, ...]) -> list[str]:
    """One signal per strategy and trading day: a 10-point-wide credit trade around SPY×10; it wins when
    the next recorded close stays within the trade's range (the real path decides)."""
    bars = ReplayMarketData.from_resources().bars("SPY")
    bars = bars[(bars.index >= start) & (bars.index <= end)]
    close = bars["close"].to_numpy() * 10
    rows = []
    for i in range(len(bars) - 1):
        day = bars.index[i]
        price, nxt = close[i], close[i + 1]
        for k, name in enumerate(strategies):
            width = 10.0 + 5 * k
            premium = round(1.0 + (i % 7) * 0.35 + k * 0.2, 2)
            win = abs(nxt - price) < width * (1.2 + 0.1 * (i % 5))
            profit = premium if win else premium - width
            rows.append(f"{day:%m-%d-%Y},10:35,SPX,{price:.2f},{name},{price + (i % 3 - 1) * 4:.2f},"
                        f"{price - 30:.2f},{price + 30:.2f},{nxt:.2f},{width - premium:.2f},{premium:.2f},"
                        f"{premium:.2f},0,{profit:.2f},{profit:.2f},\"{name} {price:.0f}\"")
    return rows


def test_the_latest_profit_layout_with_the_exports_defects(tmp_path: Path) -> None:
    rows = _real_rows("2015-03-02", "2015-03-13", ("Butterfly", "Vertical"))
    bad = ["03-16-2015,10:35,SPX,2050.00,Vertical,2050,2020,2080,2060,8,2,-1.50,0,1.5,1.5,neg",   # line n+2
           "03-16-2015,10:35,SPX,2050.00,Vertical,2050,2020,2080,2060,8,2,0,0,1.5,1.5,zero",
           rows[0],                                                                              # duplicate
           "03-16-2015,10:35,SPX,2050.00,Strangle,2050,2020,2080,2060,8,2,1.0,0,1.5,1.5,strangle",
           "2015-03-16T25:99,,SPX,2050.00,Vertical,2050,2020,2080,2060,8,2,1.0,0,1.5,1.5,badtime",
           "03-16-2015,10:35,SPX,2050.00,Vertical,2050,2020,2080,2060,8,2,1.0,0,,,nopnl"]
    path = tmp_path / "profit 20150316-210624.csv"
    path.write_text("\n".join([LATEST, *rows, *bad]) + "\n")
    result = read_export(path)
    assert result.layout == "profit" and len(result.signals) == len(rows)
    assert result.skipped_by_reason() == {"negative premium": 1, "zero premium": 1, "duplicate": 1,
                                          "unknown strategy": 1, "unreadable time": 1, "no P&L": 1}
    assert result.skipped[0] == (len(rows) + 2, "negative premium")  # header = line 1
    first = result.signals[0]
    assert first.at == datetime(2015, 3, 2, 15, 35, tzinfo=UTC)  # 10:35 Eastern (EST) = 15:35 UTC
    assert first.strategy == "Butterfly" and first.profit == float(rows[0].split(",")[13])


def test_the_2022_layout_reads_iso_times_with_their_offset_and_other_files_hold_no_outcomes(tmp_path: Path) -> None:
    old = tmp_path / "profit 20221212-210417.csv"
    old.write_text("When,Symbol,Name,Premium,Predicted,Closed,Expired,Trade,Profit\n"
                   "2022-12-12T09:35:03.089596-05:00,SPX,Sonar,2.40,3990,4001,True,x,2.40\n")
    [s] = read_export(old).signals
    assert s.at == datetime(2022, 12, 12, 14, 35, 3, 89596, tzinfo=UTC) and s.strategy == "Sonar"
    delta = tmp_path / "delta.csv"
    delta.write_text("When,Symbol,Price,CallDelta,PutDelta,Predicted,ShortTerm,LongTerm,Closing\n"
                     "12-13-2022 14:35:01,SPX,4000,0.3,-0.3,4001,1,1,4002\n")
    assert (read_export(delta).layout, read_export(delta).signals) == ("delta", [])
    junk = tmp_path / "notes.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.raises(Magic8FormatError, match="notes.csv: unknown layout"):
        read_export(junk)


def test_store_deduplicates_across_imports(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("\n".join([LATEST, *_real_rows("2016-01-04", "2016-01-29", ("Vertical",))]) + "\n")
    signals = read_export(path).signals
    store = tmp_path / "store.jsonl"
    assert store_signals(store, signals) == (len(signals), 0)
    assert store_signals(store, signals) == (0, len(signals))
    assert [s.key for s in load_signals(store)] == [s.key for s in signals]


def test_per_strategy_learning_is_time_ordered_and_says_how_much_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("\n".join([LATEST, *_real_rows("2012-01-03", "2014-12-31", ("Iron Condor",)),
                               *_real_rows("2014-12-01", "2014-12-31", ("Sonar",))]) + "\n")
    signals = read_export(path).signals
    report = train_by_strategy(signals, ReplayMarketData.from_resources(), tmp_path / "models")
    ic, sonar = report["Iron Condor"], report["Sonar"]
    assert ic["trained"] and ic["n_train"] + ic["n_test"] <= ic["n_with_features"] == ic["n"]
    days = sorted(s.at.date() for s in signals if s.strategy == "Iron Condor")
    first_test = date.fromisoformat(ic["first_test_day"])
    assert sum(d >= first_test for d in days) == ic["n_test"]  # the test set is the latest days only
    assert 0.0 <= ic["brier"] <= 1.0 and np.isfinite(ic["auc"])
    assert (tmp_path / "models" / "magic8-iron_condor.json").exists()
    assert not sonar["trained"] and f"{MIN_ROWS} needed" in sonar["message"]


def test_predictor_import_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("\n".join([LATEST, *_real_rows("2017-01-03", "2017-02-28", ("Vertical",))]) + "\n")
    assert main(["predictor", "import", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"][0]["layout"] == "profit" and out["stored"]["added"] == out["files"][0]["signals"] > 0
    assert out["strategies"]["Vertical"]["trained"] is False  # two months: too little
    assert main(["predictor", "import", str(path), "--no-train", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["stored"]["added"] == 0 and again["stored"]["already_stored"] == out["stored"]["added"]
    assert main(["predictor", "import", str(tmp_path / "missing.csv")]) == 2
