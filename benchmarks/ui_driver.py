"""Drives the real main window offscreen for the UI benchmarks; prints one JSON object on stdout.

    python benchmarks/ui_driver.py lag  SECONDS   replay at 10 trading days/s, loop-lag probe every 10 ms
    python benchmarks/ui_driver.py soak SECONDS   replay looping at full speed (50 days/s), RSS samples

Run in its own process (a fresh QApplication, a temp MAGNUS_DESKTOP_HOME) by bench_ui.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAGNUS_DESKTOP_HOME", tempfile.mkdtemp(prefix="magnus-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import qasync  # noqa: E402

from magnus_desktop.app import build_window, create_application  # noqa: E402
from magnus_desktop.services.paths import app_paths  # noqa: E402
from magnus_desktop.services.settings import SettingsStore  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def probe_lag(stop: asyncio.Event, lags: list[float], period: float = 0.010) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(period)
        lags.append(time.perf_counter() - start - period)


async def main(mode: str, seconds: float) -> dict[str, object]:
    store = SettingsStore(app_paths().ensure().settings_file)
    settings = store.load()
    args = argparse.Namespace(db_url=None, screenshot=None, replay_date=None)
    window = await build_window(args, store, settings)
    ctx = window.vm.ctx
    assert ctx.clock is not None
    await ctx.refreshed.wait()
    ctx.clock.loop_at_end = True
    ctx.clock.speed = 10.0 if mode == "lag" else 50.0
    days_seen = [0]
    ctx.portfolio.account_changed.connect(lambda _s: days_seen.__setitem__(0, days_seen[0] + 1))
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.get_running_loop().create_task(probe_lag(stop, lags))
    samples: list[tuple[float, float]] = []
    ctx.clock.play()
    t0 = time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        await asyncio.sleep(1.0)
        samples.append((elapsed, rss_mb()))
    ctx.clock.pause()
    stop.set()
    await probe
    # the app's own quit path (settings saved, then the services closed while the loop runs)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.request_quit()
    await closed.wait()
    lag_ms = np.asarray(lags) * 1000.0
    warm = [m for t, m in samples if t >= min(60.0, seconds / 3)] or [samples[-1][1]]
    return {
        "mode": mode,
        "seconds": seconds,
        "refreshes": days_seen[0],
        "steps_per_s": days_seen[0] / seconds,
        "lag_p50_ms": float(np.percentile(lag_ms, 50)),
        "lag_p99_ms": float(np.percentile(lag_ms, 99)),
        "lag_max_ms": float(lag_ms.max()),
        "rss_start_mb": warm[0],
        "rss_end_mb": samples[-1][1],
        "rss_growth_mb": samples[-1][1] - warm[0],
        "rss_max_mb": max(m for _t, m in samples),
    }


if __name__ == "__main__":
    mode, seconds = sys.argv[1], float(sys.argv[2])
    app = create_application("dark")
    result = qasync.run(main(mode, seconds))
    print(json.dumps(result), flush=True)
