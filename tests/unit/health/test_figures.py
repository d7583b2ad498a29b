"""Latency per executor call, the loop-lag window, the log tail and its filter."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.services.executors import Executors
from magnus_desktop.services.health.lag import LagWindow
from magnus_desktop.services.health.latency import LatencyStats, summarise
from magnus_desktop.services.health.logtail import filter_records, parse_records, read_tail
from magnus_desktop.services.logs import LOG_FORMAT


def test_latency_percentiles_per_key_from_the_recorded_durations() -> None:
    stats = LatencyStats(ring_size=50)
    fast = [0.001 * (i % 7 + 1) for i in range(80)]
    for s in fast:
        stats.record("db: a", s)
    stats.record("compute: b", 0.5)
    rows = {r.key: r for r in stats.rows()}
    kept = np.asarray(fast[-50:]) * 1000  # only the ring's newest 50
    assert rows["db: a"].calls == 80 and rows["db: a"].samples == 50
    assert rows["db: a"].p50_ms == pytest.approx(np.percentile(kept, 50))
    assert rows["db: a"].p95_ms == pytest.approx(np.percentile(kept, 95))
    assert rows["compute: b"].max_ms == pytest.approx(500.0)
    assert stats.rows()[0].key == "compute: b"  # slowest p95 first


def test_latency_keys_are_bounded() -> None:
    stats = LatencyStats(max_keys=3)
    for i in range(10):
        stats.record(f"db: f{i}", 0.001)
    keys = {r.key for r in stats.rows()}
    assert len(keys) <= 4 and "db: other" in keys
    assert sum(r.calls for r in stats.rows()) == 10


@pytest.mark.asyncio
async def test_executor_run_records_each_call_by_executor_and_function() -> None:
    ex = Executors(("db",))

    def slow_query() -> int:
        time.sleep(0.02)
        return 7

    try:
        for _ in range(3):
            assert await ex.run("db", slow_query) == 7
        with pytest.raises(ZeroDivisionError):
            await ex.run("db", lambda: 1 / 0)
    finally:
        ex.shutdown()
    rows = {r.key: r for r in summarise(ex.latency.copy())}
    key = next(k for k in rows if k.startswith("db: ") and "slow_query" in k)
    assert rows[key].calls == 3 and rows[key].p50_ms >= 20.0
    # a call that raised is measured too; a lambda is named after the function it is in
    assert "db: test_executor_run_records_each_call_by_executor_and_function" in rows


def test_lag_window_p99_over_the_last_minute_only() -> None:
    now = [0.0]
    lag = LagWindow(0.25, clock=lambda: now[0])
    assert lag.figures() is None
    lag.tick()
    lags = [0.0] * 98 + [0.3, 0.9]  # seconds late
    for late in lags:
        now[0] += 0.25 + late
        lag.tick()
    fig = lag.figures()
    assert fig is not None and fig.samples == len(lags)
    assert fig.p99_ms == pytest.approx(np.percentile(np.asarray(lags) * 1000, 99))
    assert fig.max_ms == pytest.approx(900.0)
    now[0] += 61.0  # a minute later with no ticks: everything aged out
    assert lag.figures() is None


def test_lag_window_pause_does_not_count_the_hidden_time() -> None:
    now = [0.0]
    lag = LagWindow(0.25, clock=lambda: now[0])
    lag.tick()
    now[0] += 0.25
    lag.tick()
    lag.pause()
    now[0] += 30.0  # dock hidden for 30 s
    lag.tick()
    now[0] += 0.25
    lag.tick()
    fig = lag.figures()
    assert fig is not None and fig.samples == 2 and fig.max_ms == pytest.approx(0.0)


def _write_log(path: Path) -> None:
    logger = logging.getLogger("magnus_test_logtail")
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("debug detail")
        logger.info("portfolio refreshed")
        logger.warning("quote for SPY is stale")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("scanner failed")
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_log_records_keep_their_traceback_and_filter_by_level_and_text(tmp_path: Path) -> None:
    path = tmp_path / "magnus-desktop.log"
    _write_log(path)
    tail = read_tail(path)
    assert [r.level for r in tail.records] == ["DEBUG", "INFO", "WARNING", "ERROR"]
    assert "ValueError: boom" in tail.records[-1].text and "Traceback" in tail.records[-1].text
    assert [r.level for r in filter_records(tail.records, "WARNING")] == ["WARNING", "ERROR"]
    assert [r.level for r in filter_records(tail.records, "DEBUG", "spy")] == ["WARNING"]
    assert [r.level for r in filter_records(tail.records, "ERROR", "boom")] == ["ERROR"]
    assert filter_records(tail.records, "INFO", "nothing like this") == []
    with pytest.raises(ValueError):
        filter_records(tail.records, "LOUD")


def test_log_tail_is_bounded_and_drops_the_partial_first_line(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    lines = [f"2026-12-02 10:00:{i % 60:02d},000 INFO    MainThread x: line {i:05d}" for i in range(2000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tail = read_tail(path, max_bytes=10_000)
    assert tail.truncated and tail.size == path.stat().st_size
    assert tail.records[-1].text == lines[-1]
    assert all(r.text in lines for r in tail.records)  # no half line
    assert len(tail.records) == sum(1 for ln in lines[-len(tail.records):] if ln)


def test_orphan_lines_before_the_first_record_are_kept() -> None:
    records = parse_records("  File \"x.py\", line 1\n2026-12-02 10:00:00,000 ERROR   T x: oops\n")
    assert [r.level for r in records] == ["INFO", "ERROR"]


def test_latency_stats_are_thread_safe() -> None:
    stats = LatencyStats()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, lambda: [stats.record("k: f", 0.001) for _ in range(1000)])
                               for _ in range(4)))

    asyncio.run(main())
    assert stats.rows()[0].calls == 4000
