"""Research desk benchmarks (issue 12).

Rows:
- ``research.indicators 500×5y``: SMA/EMA 20/50/200, Bollinger, RSI(14), MACD(12,26,9), ATR(14) for
  500 symbols × 1,260 daily bars (target ≤ 1 s); reference: the same indicators with pandas
  rolling/ewm in the same run (ratio = pandas / ours).
- ``research.universe_scan 500 cached``: a universe scan (metrics, zones, filters) over 500 symbols
  whose bars are already in the research cache, on a started AppContext under qasync (target ≤ 2 s),
  and the largest event-loop stall meanwhile (10 ms probe; target ≤ 50 ms).
- ``research.chart pan 5000 candles``: frames of the chart dock's widget (5,000 real SPY candles, four
  sub-panes, SMA overlays) while panning by 2 % of the view per frame, each frame one paint (the pan's update request, processed);
  pyqtgraph's own ``FrameCounter`` (from its speed-test examples) reports fps, and every frame is
  also timed (perf_counter) for p50/p95/max; offscreen raster painting (target ≥ 30 fps at p95).

The scan and the chart run in a fresh subprocess (Qt offscreen). Bars: the bundled pandas-ta SPY
daily series (1999-2020), cut into 500 overlapping 1,260-bar windows, each scaled by its own factor, so
every symbol has real price dynamics but different numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from benchmarks.common import Result  # noqa: E402

N_SYMBOLS = 500
N_BARS = 1260


def _spy() -> pd.DataFrame:
    from magnus_desktop.services.market.recorded import ReplayMarketData

    return ReplayMarketData.from_resources().bars("SPY")


def universe(n: int = N_SYMBOLS, bars: int = N_BARS) -> list[pd.DataFrame]:
    """``n`` windows of ``bars`` real SPY bars, each scaled by its own factor (0.5x .. 2x)."""
    spy = _spy()
    step = max(1, (len(spy) - bars) // n)
    out = []
    for i in range(n):
        w = spy.iloc[(i * step) % (len(spy) - bars):][:bars].copy()
        scale = 0.5 + 1.5 * i / n
        for col in ("open", "high", "low", "close"):
            w[col] = w[col] * scale
        out.append(w)
    return out


def _ours(frames: list[pd.DataFrame]) -> None:
    from magnus_desktop.analytics.indicators import compute_all

    for f in frames:
        compute_all(f["open"].to_numpy(), f["high"].to_numpy(), f["low"].to_numpy(), f["close"].to_numpy())


def _pandas(frames: list[pd.DataFrame]) -> None:
    for f in frames:
        c = f["close"]
        for p in (20, 50, 200):
            c.rolling(p).mean()
            c.ewm(span=p, adjust=False).mean()
        c.rolling(20).std(ddof=0)
        d = c.diff()
        d.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean() / (-d.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
        m = c.ewm(span=12, adjust=False).mean() - c.ewm(span=26, adjust=False).mean()
        m.ewm(span=9, adjust=False).mean()
        tr = pd.concat([f["high"] - f["low"], (f["high"] - c.shift()).abs(), (f["low"] - c.shift()).abs()], axis=1).max(axis=1)
        tr.ewm(alpha=1 / 14, adjust=False).mean()


def indicators_rows(quick: bool) -> list[Result]:
    from benchmarks.common import timeit_best

    n = 100 if quick else N_SYMBOLS
    frames = universe(n)
    ours = timeit_best(lambda: _ours(frames), repeat=3)
    ref = timeit_best(lambda: _pandas(frames), repeat=3)
    return [Result(f"research.indicators {n}×5y", "time", ours, "s", "pandas rolling/ewm", ref / ours,
                   1.0 if n == N_SYMBOLS else float("nan"), "max_value" if n == N_SYMBOLS else "info",
                   note=f"TA-Lib 0.8 via analytics.indicators.compute_all; {N_BARS} bars each; pandas {ref:.3f} s")]


# ------------------------------------------------------------------ subprocess parts (Qt offscreen)
async def _scan(n: int) -> dict[str, float]:
    from datetime import date

    from magnus_desktop.analytics.screen import PRESETS
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.research.gather import zone_params
    from magnus_desktop.services.research.sectors import sp500_symbols
    from magnus_desktop.services.research.universe import SCAN_HISTORY_DAYS, UniverseScan
    from magnus_desktop.services.settings import Settings, SettingsStore

    tmp = Path(tempfile.mkdtemp())
    ctx = AppContext(SettingsStore(tmp / "s.json"), Settings(), db_url="sqlite://")
    await ctx.start(date(2018, 1, 26))
    day = ctx.day
    symbols = sp500_symbols()[:n]
    for sym, frame in zip(symbols, universe(n), strict=True):
        frame = frame.copy()
        frame.index = pd.bdate_range(end=pd.Timestamp(day), periods=len(frame), name="date")
        # the cache a previous scan filled: (calendar days fetched, bars)
        ctx.research._bars[(sym, day)] = (SCAN_HISTORY_DAYS, frame)  # noqa: SLF001
    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.010)
            lags.append(time.perf_counter() - t - 0.010)

    task = asyncio.get_running_loop().create_task(probe())
    await asyncio.sleep(2.0)  # the idle loop's own stalls on this machine: the reference
    idle = list(lags)
    lags.clear()
    scan = UniverseScan(ctx, symbols, "bench", PRESETS["near demand zone"], day, zone_params(ctx.settings))
    t0 = time.perf_counter()
    result = await scan.run()
    elapsed = time.perf_counter() - t0
    stop.set()
    await task
    await ctx.aclose()
    return {"seconds": elapsed, "max_lag_ms": max(lags) * 1000, "p99_lag_ms": float(np.percentile(lags, 99)) * 1000,
            "idle_max_lag_ms": max(idle) * 1000, "load": os.getloadavg()[0],
            "rows": len(result.rows), "missing": len(result.missing), "matches": len(result.matches)}


def _chart(n: int, frames: int, visible: int) -> dict[str, float]:
    import pyqtgraph as pg
    from pyqtgraph.examples.utils import FrameCounter
    from PySide6.QtWidgets import QApplication

    from magnus_desktop.analytics.indicators import compute_all
    from magnus_desktop.widgets.candles import CandleChart, Overlay

    app = QApplication.instance() or QApplication(sys.argv)
    bars = _spy().iloc[-n:]
    o, h, lo, c, v = (bars[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    ind = compute_all(o, h, lo, c)
    chart = CandleChart()
    chart.resize(1400, 900)
    chart.show()
    chart.set_data([d.date() for d in bars.index], o, h, lo, c, v, ind,
                   [Overlay("sma_20", "SMA20", "#ffca28"), Overlay("sma_50", "SMA50", "#29b6f6"),
                    Overlay("sma_200", "SMA200", "#ab47bc")])
    chart.show_last(visible)
    app.processEvents()
    bare = pg.PlotWidget()  # the reference: one pyqtgraph curve of the same closes, panned the same way
    bare.resize(1400, 900)
    bare.show()
    bare.plot(np.arange(n, dtype=np.float64), c)
    bare.setXRange(n - visible, n, padding=0)
    app.processEvents()
    ref = []
    for i in range(min(frames, 60)):
        t = time.perf_counter()
        x0 = n - visible - (i % 40) * visible * 0.02
        bare.setXRange(x0, x0 + visible, padding=0)
        app.processEvents()
        ref.append(time.perf_counter() - t)
    bare.hide()
    times = []
    direction = -1.0
    counter = FrameCounter(interval=250)  # pyqtgraph's own frame counter (its speed-test examples)
    fps_reports: list[float] = []
    counter.sigFpsUpdate.connect(fps_reports.append)
    for _i in range(frames):
        lo_x, _hi_x = chart.x_range()
        if lo_x < 10:
            direction = 1.0
        elif lo_x > n - visible - 5:
            direction = -1.0
        t = time.perf_counter()
        chart.pan(0.02 * direction)
        app.processEvents()  # the pan's repaint request: one paint of the whole chart
        counter.update()
        times.append(time.perf_counter() - t)
    ms = np.asarray(times) * 1000
    return {"framecounter_fps": float(np.median(fps_reports)) if fps_reports else float("nan"),
            "ref_p50_ms": float(np.median(ref)) * 1000, "load": os.getloadavg()[0],"p50_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max()),
            "fps_p50": 1000 / float(np.median(ms)), "fps_p95": 1000 / float(np.percentile(ms, 95))}


def _subprocess(mode: str, *args: str) -> dict[str, float] | str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MAGNUS_DESKTOP_HOME=tempfile.mkdtemp(prefix="magnus-bench-"))
    proc = subprocess.run([sys.executable, str(Path(__file__)), mode, *args], env=env, capture_output=True, text=True,
                          timeout=600, cwd=HERE.parent, check=False)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr[-400:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Result]:
    rows = indicators_rows(quick)
    n = 100 if quick else N_SYMBOLS
    scan = _subprocess("scan", str(n))
    if isinstance(scan, str):
        rows.append(Result(f"research.universe_scan {n} cached", "time", float("nan"), "s", note=scan))
    else:
        full = n == N_SYMBOLS
        note = (f"{scan['rows']:.0f} rows, {scan['matches']:.0f} matches, p99 loop lag {scan['p99_lag_ms']:.1f} ms; "
                f"machine load average {scan['load']:.1f} on {os.cpu_count()} cores")
        rows.append(Result(f"research.universe_scan {n} cached", "time", scan["seconds"], "s",
                           target=2.0 if full else float("nan"), direction="max_value" if full else "info", note=note))
        rows.append(Result(f"research.universe_scan {n} cached", "max GUI loop stall", scan["max_lag_ms"], "ms",
                           "idle loop, same run", scan["max_lag_ms"] / max(scan["idle_max_lag_ms"], 1e-3), 50.0,
                           "max_value", note=f"10 ms asyncio probe on the qasync loop; idle loop max stall "
                                             f"{scan['idle_max_lag_ms']:.1f} ms"))
    for visible in (500, 5000):
        chart = _subprocess("chart", "5000", "60" if quick else "200", str(visible))
        name = f"research.chart pan 5000 candles ({visible} in view)"
        if isinstance(chart, str):
            rows.append(Result(name, "fps", float("nan"), "fps", note=chart))
            continue
        rows.append(Result(name, "fps at p50 frame", chart["fps_p50"], "fps", "one-curve pyqtgraph pan (p50)",
                           chart["p50_ms"] / chart["ref_p50_ms"], note="ratio = our frame p50 / the bare curve's"))
        rows.append(Result(name, "pyqtgraph FrameCounter", chart["framecounter_fps"], "fps",
                           note="pyqtgraph's own frame counter (examples/utils.FrameCounter), median of 250 ms reports"))
        rows.append(Result(name, "fps at p95 frame", chart["fps_p95"], "fps", "one-curve pyqtgraph pan (p50)",
                           chart["p50_ms"] / chart["ref_p50_ms"], 30.0, "min_value",
                           note=f"load average {chart['load']:.1f}; bare one-curve frame p50 {chart['ref_p50_ms']:.1f} ms; "
                                f"pyqtgraph FrameCounter {chart['framecounter_fps']:.0f} fps; frame p50 "
                                f"{chart['p50_ms']:.1f} ms, p95 {chart['p95_ms']:.1f} ms, max {chart['max_ms']:.1f} ms "
                                "(pan + its paint, offscreen raster)"))
    return rows


def _main() -> None:
    mode = sys.argv[1]
    if mode == "scan":
        import qasync
        from PySide6.QtWidgets import QApplication

        QApplication.instance() or QApplication(sys.argv)
        out = qasync.run(_scan(int(sys.argv[2])))
    else:
        out = _chart(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
