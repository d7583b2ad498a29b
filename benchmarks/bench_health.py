"""Cost of the Health panel's instrumentation and reads (``magnus_desktop.services.health``).

Rows:
- ``Executors.run`` with the latency recording vs a bare ``run_in_executor`` of the same no-op, same
  run (per call, µs; target: the recorded call ≤ 1.15 × the bare one — the instrumentation is
  ~1 µs on a ~50–100 µs thread round trip);
- ``summarise`` of 200 keys × 256 durations (the snapshot's percentile step, off the GUI thread) (info);
- reading and parsing the last 2 MB of a log file (the log viewer's refresh, off the GUI thread),
  target ≤ 250 ms;
- backing up a SQLite database of ~20 MB (SQLite online backup + SHA-256 + zip) (info).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Result, timeit_best


def _executor_rows(quick: bool) -> list[Result]:
    from magnus_desktop.services.executors import Executors

    n = 500 if quick else 3000

    async def measure() -> tuple[float, float]:
        ex = Executors(("db",))
        pool = ex["db"]
        loop = asyncio.get_running_loop()

        def noop() -> None:
            return None

        best_bare = best_rec = float("inf")
        try:
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(n):
                    await loop.run_in_executor(pool, noop)
                best_bare = min(best_bare, (time.perf_counter() - start) / n)
                start = time.perf_counter()
                for _ in range(n):
                    await ex.run("db", noop)
                best_rec = min(best_rec, (time.perf_counter() - start) / n)
        finally:
            ex.shutdown()
        return best_bare, best_rec

    bare, recorded = asyncio.run(measure())
    return [Result("health.executor_run", "time per call", recorded * 1e6, "µs", "bare run_in_executor",
                   recorded / bare, 1.15, "max_ratio", f"{n} calls, best of 5; bare {bare * 1e6:.1f} µs")]


def _summarise_row() -> Result:
    from magnus_desktop.services.health.latency import summarise

    rng = np.random.default_rng(13)
    data = {f"db: f{i}": (1000, list(rng.exponential(0.01, 256))) for i in range(200)}
    t = timeit_best(lambda: summarise(data), repeat=5)
    return Result("health.latency_summarise", "time", t * 1e3, "ms", note="200 keys x 256 durations")


def _log_row(folder: Path) -> Result:
    from magnus_desktop.services.health.logtail import read_tail

    path = folder / "magnus-desktop.log"
    line = "2026-12-02 14:00:00,000 INFO    MainThread magnus_desktop.services.portfolio: refreshed {i} positions\n"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(60_000):
            fh.write(line.format(i=i))
    t = timeit_best(lambda: read_tail(path), repeat=5)
    return Result("health.log_tail_2mb", "time", t * 1e3, "ms", target=250.0, direction="max_value",
                  note=f"file {path.stat().st_size / 1e6:.1f} MB, last 2 MB parsed")


def _backup_row(folder: Path, quick: bool) -> Result:
    from magnus_desktop.services.health.backup import create_backup

    db = folder / "big.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t(a INTEGER, b TEXT)")
    rows = 50_000 if quick else 200_000
    conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"row {i} " * 8) for i in range(rows)))
    conn.commit()
    conn.close()
    size = db.stat().st_size
    (folder / "config").mkdir()
    out = folder / "out"
    count = [0]

    def once() -> None:
        count[0] += 1
        create_backup(out, db_file=db, config_dir=folder / "config", name=f"b{count[0]}.zip")

    t = timeit_best(once, repeat=2, warmup=0)
    return Result("health.backup", "time", t, "s", note=f"database {size / 1e6:.1f} MB")


def run(quick: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        folder = Path(tmp)
        return [*_executor_rows(quick), _summarise_row(), _log_row(folder), _backup_row(folder, quick)]
