"""``magnus-desktop alerts`` as a subprocess on the bundled replay data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.services.market.recorded import ReplayMarketData

ROOT = Path(__file__).resolve().parents[2]
JAN31 = date(2018, 1, 31)


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg"), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run([sys.executable, "-m", "magnus_desktop", "alerts", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def days() -> list[date]:
    return ReplayMarketData.from_resources().trading_days()


def test_json_lists_the_january_expiration_and_delta_alerts(tmp_path: Path, days: list[date]) -> None:
    out = _run("--replay", "2018-01-02:2018-02-28", "--monitors", "expiration,delta", "--format", "json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    alerts = json.loads(out.stdout)
    assert alerts and all(set(a) == {"day", "monitor", "priority", "subject", "title", "facts"} for a in alerts)
    assert {a["monitor"] for a in alerts} == {"expiration", "delta"}
    high_day = next(d for d in days if 0 <= (JAN31 - d).days <= 7)
    critical_day = next(d for d in days if 0 <= (JAN31 - d).days <= 3)
    january = [a for a in alerts if a["monitor"] == "expiration" and "180131P" in a["subject"]]
    assert sorted({(a["day"], a["priority"]) for a in january}) == [(high_day.isoformat(), "HIGH"),
                                                                     (critical_day.isoformat(), "CRITICAL")]
    assert len(january) == 6  # three puts, HIGH then CRITICAL each
    dte = next(f for f in january[0]["facts"] if f["label"] == "dte")
    assert dte == {"label": "dte", "value": (JAN31 - high_day).days, "unit": "days"}
    delta = [a for a in alerts if a["monitor"] == "delta"]
    assert delta and min(a["day"] for a in delta) <= "2018-02-05"
    net = next(f for f in delta[0]["facts"] if f["label"] == "net delta")
    assert abs(net["value"]) > 500 and net["unit"].startswith("SPY shares")


def test_table_output_and_a_day_with_nothing(tmp_path: Path) -> None:
    out = _run("--replay", "2018-01-24:2018-01-24", "--monitors", "expiration", home=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["day", "monitor", "priority", "subject", "facts"]
    assert lines[-1] == "3 alert(s)." and all(line.startswith("2018-01-24  expiration  HIGH") for line in lines[1:-1])
    none = _run("--replay", "2018-01-02:2018-01-03", "--monitors", "expiration", home=tmp_path)
    assert none.returncode == 0 and none.stdout == "No alerts raised.\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--replay", "2018-02-01"), "expected START:END"),
    (("--replay", "2018-02-10:2018-02-01"), "is before the start"),
    (("--replay", "2019-01-01:2019-02-01"), "covers 2018-01-02 to 2018-02-28"),
    (("--replay", "2018-01-02:2018-01-05", "--monitors", "gamma"), "unknown monitor gamma"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = _run(*args, home=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and message in out.stderr and "Traceback" not in out.stderr
