"""GUI fan-out of live quote ticks: the fake TWS server -> ``IBSession`` -> three real tables, on qasync.

The fake TWS server (``tests/fakes/fake_tws.py``, its own thread and loop) streams 2,000 quote ticks/s
over 200 SPXW options into an ``IBSession`` running on a qasync loop in a fresh process. A small
adapter turns each ``OptionQuote`` into rows of three shown ``RecordTableModel`` + ``RecordTableView``
tables with the positions (first 50 contracts), watchlist (first 100) and scanner (all 200) column
sets; the models' own flush coalesces the updates.

Rows:
- ``ui_ticks.fanout`` loop lag p50/p99/max (10 ms asyncio sleep-drift probe; p99 <= 16 ms, max <= 50 ms)
  and on-screen tick age: server send time of a bid -> the model flush that shows it (max <= 250 ms).
- ``ui_ticks.storm``: the server drops every socket every 2 s for 30 s (``--quick`` 6 s) while the
  tables run: loop lag max (<= 50 ms) and the time from the last restart until the server sees all
  200 subscriptions again (<= 5 s).

``run(quick)`` runs the driver (``python -m benchmarks.bench_ui_ticks --driver``) in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
N_CONTRACTS, N_POSITIONS, N_WATCH = 200, 50, 100
RATE = 2000.0


# ---- driver (own process: QApplication + qasync) -----------------------------------------------
def _driver(quick: bool) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MAGNUS_DESKTOP_HOME", tempfile.mkdtemp(prefix="magnus-bench-"))
    import qasync

    from magnus_desktop.app import create_application

    app = create_application("dark")  # the app's own set-up (GIL switch interval, gc on the GUI thread)
    result: dict[str, Any] = qasync.run(_main(quick))
    del app
    return result


async def _main(quick: bool) -> dict[str, Any]:
    import asyncio
    import math

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QSplitter

    from benchmarks.ib_ticks import ServerThread, contracts_for
    from magnus_desktop.models.market import OptionQuote
    from magnus_desktop.services.brokers.ib import IBConfig, IBSession
    from magnus_desktop.ui.positions.panel import COLUMNS as POSITION_COLUMNS
    from magnus_desktop.ui.scanner.panel import SCAN_TABLE_COLUMNS, SCANNER_FLUSH_HZ
    from magnus_desktop.ui.watchlists.symbols import COLUMNS as WATCH_COLUMNS
    from magnus_desktop.widgets.table_model import RecordTableModel
    from magnus_desktop.widgets.table_view import RecordTableView

    seconds, storm_s = (5.0, 6.0) if quick else (20.0, 30.0)
    st = ServerThread()
    server = st.server
    sent: dict[tuple[int, float], float] = {}  # (con_id, bid) -> server send time (perf_counter)
    server.tick_hook = lambda con_id, bid, t: sent.__setitem__((con_id, bid), t)
    contracts = contracts_for(server, N_CONTRACTS)
    by_id = {c.con_id: i for i, c in enumerate(contracts)}

    # three tables as the docks build them (positions/watchlist flush at 8 Hz, scanner at SCANNER_FLUSH_HZ)
    tables: list[tuple[str, RecordTableModel, int]] = [
        ("positions", RecordTableModel(POSITION_COLUMNS, key=lambda r: r["symbol"]), N_POSITIONS),
        ("watchlist", RecordTableModel(WATCH_COLUMNS, key=lambda r: (r["exchange"], r["symbol"])), N_WATCH),
        ("scanner", RecordTableModel(SCAN_TABLE_COLUMNS, key=lambda r: (r["expiry"], r["strike"], r["right"]),
                                     flush_hz=SCANNER_FLUSH_HZ), N_CONTRACTS),
    ]
    window = QSplitter(Qt.Orientation.Vertical)
    views = [RecordTableView(model, window, name=f"bench_{name}", settings_file=None) for name, model, _n in tables]
    for view, (_name, model, _n) in zip(views, tables, strict=True):
        model.setParent(view)
    window.resize(1400, 950)
    window.show()

    rows: list[list[dict[str, Any]]] = [[{} for _ in range(n)] for _name, _m, n in tables]
    unshown: list[dict[int, float]] = [{} for _ in tables]
    last_bid: dict[int, float] = {}
    last_sent: dict[int, float] = {}  # con_id -> send time of its oldest unshown bid
    ages: list[float] = []
    table_ages: list[list[float]] = [[] for _ in tables]
    measuring = [False]

    def record_rows(i: int, q: OptionQuote) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        c = q.contract
        mid = (q.bid + q.ask) / 2.0
        qty = -1 - (i % 3)
        pos = {"symbol": c.describe(), "qty": qty, "avg_cost": 5.0, "mark": mid, "market_value": qty * mid * 100,
               "unrealized_pnl": (mid - 5.0) * qty * 100, "pct_max_profit": (5.0 - mid) / 5.0,
               "delta": q.delta * qty * 100, "gamma": q.gamma * qty * 100, "theta": q.theta * qty * 100,
               "vega": q.vega * qty * 100, "iv": q.iv, "dte": (c.expiry - q.as_of.date()).days,
               "und_price": q.und_price, "collateral": c.strike * 100 * -qty, "source": q.source}
        watch = {"pos": i + 1, "symbol": c.describe(), "exchange": "OPRA", "section": "", "last": mid,
                 "change": mid - 5.0, "change_pct": (mid - 5.0) / 5.0 * 100, "volume": q.volume,
                 "as_of": q.as_of.strftime("%H:%M:%S")}
        spread = (q.ask - q.bid) / mid if mid > 0 else math.nan
        scan = {"underlying": c.underlying, "expiry": c.expiry, "dte": (c.expiry - q.as_of.date()).days,
                "strike": c.strike, "right": c.right, "bid": q.bid, "ask": q.ask, "mid": mid, "spread_pct": spread,
                "open_interest": q.open_interest, "iv": q.iv, "delta": q.delta, "prob_otm": 1.0 - abs(q.delta),
                "return_on_collateral": q.bid / c.strike, "annualized_return": q.bid / c.strike * 12,
                "score": q.bid / c.strike * 12 * (1.0 - abs(q.delta))}
        return pos, watch, scan

    def listener(batch: list[Any]) -> None:
        """The adapter: each quote replaces its rows (new dicts), then every model gets its records."""
        for q in batch:
            if not isinstance(q, OptionQuote):
                continue
            i = by_id.get(q.contract.con_id)
            if i is None:
                continue
            cid = q.contract.con_id
            # the server stamps its bid ticks: a new bid is what the age is measured on; a send time
            # not newer than the last one measured for the contract is an older send of the same
            # price (bids repeat as the recording cycles), not this tick
            t_sent = sent.get((cid, q.bid)) if q.bid != last_bid.get(cid) and not math.isnan(q.bid) else None
            if t_sent is not None and t_sent <= last_sent.get(cid, 0.0):
                t_sent = None
            if t_sent is not None:
                last_sent[cid] = t_sent
            last_bid[cid] = q.bid
            for t, rec in enumerate(record_rows(i, q)):
                if i < len(rows[t]):
                    if measuring[0] and t_sent is not None:
                        unshown[t].setdefault(cid, t_sent)
                    rows[t][i] = rec
        for t, (_name, model, n) in enumerate(tables):
            model.set_records([r for r in rows[t][:n] if r])

    for t, (_name, model, _n) in enumerate(tables):  # age of every change a flush puts on screen
        original = model.flush

        def flush(t: int = t, original: Any = original) -> None:
            now = time.perf_counter()
            if measuring[0]:
                shown = [(now - s) * 1000.0 for s in unshown[t].values()]
                ages.extend(shown)
                table_ages[t].extend(shown)
            unshown[t].clear()
            original()
        model.flush = flush  # type: ignore[method-assign]

    lags: list[float] = []

    async def probe(stop: asyncio.Event, period: float = 0.010) -> None:
        while not stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(period)
            lags.append((time.perf_counter() - start - period) * 1000.0)

    import gc

    gc.freeze()  # as the app does once its services started (magnus_desktop.app.build_window)
    out: dict[str, Any] = {"seconds": seconds, "storm_seconds": storm_s}
    ib = IBSession(IBConfig(port=server.port, client_id=21, backoff_initial=0.1, backoff_max=1.0))
    try:
        await ib.connect()
        ib.subscribe(contracts, listener)
        t_sub = time.perf_counter()
        while server.active_subscriptions < N_CONTRACTS:
            await asyncio.sleep(0.02)
        out["initial_subscribe_s"] = time.perf_counter() - t_sub
        server.stream_rate = RATE
        await asyncio.sleep(1.0)  # warm-up: first fits of the columns, first paints
        ticks0 = server.ticks_sent
        measuring[0] = True
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(probe(stop))
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - t0
        measuring[0] = False
        stop.set()
        await task
        lag = np.asarray(lags)
        out.update(ticks_per_s=(server.ticks_sent - ticks0) / elapsed, shown_changes=len(ages),
                   lag_p50_ms=float(np.percentile(lag, 50)), lag_p99_ms=float(np.percentile(lag, 99)),
                   lag_max_ms=float(lag.max()), age_p50_ms=float(np.percentile(ages, 50)) if ages else math.nan,
                   age_p99_ms=float(np.percentile(ages, 99)) if ages else math.nan,
                   age_max_ms=max(ages, default=math.nan),
                   age_max_by_table={name: max(table_ages[t], default=math.nan)
                                     for t, (name, _m, _n) in enumerate(tables)},
                   over_250_by_table={name: sum(a > 250.0 for a in table_ages[t])
                                      for t, (name, _m, _n) in enumerate(tables)})
        # reconnect storm with the tables running (ticks keep flowing between drops)
        lags.clear()
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(probe(stop))
        drops = 0
        t_end = time.perf_counter() + storm_s
        while time.perf_counter() < t_end:
            await asyncio.sleep(2.0)
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(server.restart(), st.loop))
            drops += 1
        t_restart = time.perf_counter()
        deadline = t_restart + 30.0
        while server.active_subscriptions < N_CONTRACTS and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        resub = time.perf_counter() - t_restart if server.active_subscriptions >= N_CONTRACTS else math.nan
        stop.set()
        await task
        out.update(drops=drops, resubscribed_s=resub, storm_lag_p99_ms=float(np.percentile(lags, 99)),
                   storm_lag_max_ms=float(max(lags)))
    finally:
        server.stream_rate = 0
        server.tick_hook = None
        await ib.aclose()
        window.close()
        st.close()
    return out


# ---- the benchmarks/README.md contract ---------------------------------------------------------
def run(quick: bool) -> list[Result]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["MAGNUS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="magnus-bench-")
    cmd = [sys.executable, "-m", "benchmarks.bench_ui_ticks", "--driver"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        note = f"exit {proc.returncode}: {proc.stderr[-400:]}"
        return [Result("ui_ticks.fanout", "loop lag", float("nan"), "ms", note=note)]
    r = json.loads(lines[-1])
    from magnus_desktop.ui.scanner.panel import SCANNER_FLUSH_HZ

    fan = (f"{r['ticks_per_s']:,.0f} ticks/s over {N_CONTRACTS} options, 3 shown tables "
           f"({N_POSITIONS}/{N_WATCH}/{N_CONTRACTS} rows), {r['seconds']:.0f} s, 10 ms probe")
    by_table = ", ".join(f"{name} max {v:.0f} ms ({r['over_250_by_table'][name]} > 250)"
                         for name, v in r["age_max_by_table"].items())
    age = (f"server send of a bid -> the model flush that shows it, {r['shown_changes']:,} changes shown, "
           f"p50 {r['age_p50_ms']:.0f} ms; {by_table} (positions/watchlist flush at 8 Hz, scanner at {SCANNER_FLUSH_HZ:g} Hz)")
    storm = f"{r['drops']} drops every 2 s over {r['storm_seconds']:.0f} s, tables running"
    return [
        Result("ui_ticks.fanout", "loop lag p50", r["lag_p50_ms"], "ms", note=fan),
        Result("ui_ticks.fanout", "loop lag p99", r["lag_p99_ms"], "ms", target=16.0, direction="max_value", note=fan),
        Result("ui_ticks.fanout", "loop lag max", r["lag_max_ms"], "ms", target=50.0, direction="max_value", note=fan),
        Result("ui_ticks.fanout", "tick age on screen p99", r["age_p99_ms"], "ms", note=age),
        Result("ui_ticks.fanout", "tick age on screen max", r["age_max_ms"], "ms", target=250.0,
               direction="max_value", note=age),
        Result("ui_ticks.storm", "loop lag max", r["storm_lag_max_ms"], "ms", target=50.0, direction="max_value",
               note=storm),
        Result("ui_ticks.storm", "re-subscribed after last restart", r["resubscribed_s"], "s", target=5.0,
               direction="max_value", note=f"{N_CONTRACTS} subscriptions; first subscribe took "
                                           f"{r['initial_subscribe_s']:.1f} s"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", action="store_true", help="run the measurement here, print one JSON line")
    parser.add_argument("--quick", action="store_true", help="5 s tick run, 6 s storm")
    args = parser.parse_args()
    if args.driver:
        print(json.dumps(_driver(args.quick)), flush=True)
    else:
        from benchmarks.common import format_table

        print(format_table(run(args.quick)))
