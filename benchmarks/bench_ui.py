"""UI benchmarks on the real main window, offscreen, each in a fresh process.

Rows: first paint from process start (target <= 2.5 s); event-loop lag while the replay runs at
10 trading days/s with all docks open (p50/p99/max, targets p99 <= 16 ms and max <= 50 ms); soak: replay looping at
full speed (10 min, ``--quick`` 60 s) without a crash or RSS growth over 50 MB after warm-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["MAGNUS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="magnus-bench-")
    return env


def first_paint() -> Result:
    env = _env()
    env["MAGNUS_DESKTOP_PRINT_FIRST_PAINT"] = "1"
    shot = Path(env["MAGNUS_DESKTOP_HOME"]) / "shot.png"
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "magnus_desktop", "--screenshot", str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("FIRST_PAINT ")]
    if proc.returncode != 0 or not lines:
        return Result(
            "ui.first_paint",
            "time from process start",
            float("nan"),
            "s",
            note=f"exit {proc.returncode}: {proc.stderr[-300:]}",
        )
    value = float(lines[0].split()[1]) - start
    return Result(
        "ui.first_paint",
        "time from process start",
        value,
        "s",
        target=2.5,
        direction="max_value",
        note="python -m magnus_desktop --screenshot, offscreen",
    )


def driver(mode: str, seconds: float) -> dict[str, float] | str:
    proc = subprocess.run(
        [sys.executable, str(HERE / "ui_driver.py"), mode, str(seconds)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=seconds + 180,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr[-400:]}"
    last: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return last


def run(quick: bool) -> list[Result]:
    rows = [first_paint()]
    lag = driver("lag", 15.0 if quick else 60.0)
    if isinstance(lag, str):
        rows.append(Result("ui.replay_10dps", "loop lag", float("nan"), "ms", note=lag))
    else:
        note = f"{lag['steps_per_s']:.1f} refreshes/s, 10 ms probe, {lag['seconds']:.0f} s"
        rows += [
            Result("ui.replay_10dps", "loop lag p50", lag["lag_p50_ms"], "ms", note=note),
            Result("ui.replay_10dps", "loop lag p99", lag["lag_p99_ms"], "ms", target=16.0, direction="max_value",
                   note=note),
            Result(
                "ui.replay_10dps",
                "loop lag max",
                lag["lag_max_ms"],
                "ms",
                target=50.0,
                direction="max_value",
                note=note,
            ),
        ]
    soak = driver("soak", 60.0 if quick else 600.0)
    if isinstance(soak, str):
        rows.append(Result("ui.soak", "completed", float("nan"), "", note=soak))
    else:
        note = f"{soak['seconds']:.0f} s at 50 days/s, {soak['refreshes']} refreshes, RSS max {soak['rss_max_mb']:.0f} MB"
        rows += [
            Result(
                "ui.soak",
                "RSS growth after warm-up",
                soak["rss_growth_mb"],
                "MB",
                target=50.0,
                direction="max_value",
                note=note,
            ),
            Result("ui.soak", "loop lag max", soak["lag_max_ms"], "ms", note="full speed (informational)"),
        ]
    return rows
