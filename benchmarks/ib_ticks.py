"""IBSession under load from the fake TWS server (no Qt yet).

Run: python -m benchmarks.ib_ticks [--quick] [--seconds N] [--rate 2000] [--contracts 200]
(Not a run.py module: the GUI version with result rows is bench_ui_ticks.py, which reuses its server thread.)

1. Tick run: the fake server (own thread and loop) streams ``--rate`` quote ticks/s over
   ``--contracts`` SPXW options from the bundled 2018 recording; measures tick-to-listener latency
   (server write -> our listener, perf_counter, same process) and the session loop's lag
   (an asyncio sleep-drift probe every 5 ms).
2. Reconnect storm: the server drops every socket every 2 s for ``--storm`` s; reports the time from
   the last restart to all subscriptions re-established (server side) and the loop lag meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time

import numpy as np

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.brokers.ib import IBConfig, IBSession
from tests.fakes.fake_tws import FakeTWS


class ServerThread:
    """FakeTWS on its own event loop in a thread; ``call(coro_fn)`` runs a coroutine there."""

    def __init__(self) -> None:
        self.loop = asyncio.SelectorEventLoop()  # a plain loop even when qasync set its policy (GUI benchmark)
        self.server = FakeTWS()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self.server.start)

    def call(self, fn, *args):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(fn(*args), self.loop).result(10)

    def close(self) -> None:
        self.call(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def lag_probe(stop: asyncio.Event, out: list[float], period: float = 0.005) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(period)
        out.append((loop.time() - t - period) * 1000.0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def contracts_for(server: FakeTWS, n: int) -> list[OptionContract]:
    opts = sorted((o for o in server.book.options.values() if o.day(server.book.quote_date)),
                  key=lambda o: abs(o.strike - server.book.spx_price))[:n]
    return [OptionContract("SPXW", server.book.quote_date.replace(month=1, day=31), o.strike, o.right, 100, o.con_id)
            for o in opts]


async def tick_run(st: ServerThread, seconds: float, rate: float, n: int) -> dict[str, float]:
    server = st.server
    sent: dict[tuple[int, float], float] = {}
    server.tick_hook = lambda con_id, bid, t: sent.__setitem__((con_id, bid), t)
    lat: list[float] = []
    seen: dict[int, float] = {}

    def listener(batch) -> None:  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        for q in batch:
            cid = q.contract.con_id
            if q.bid != seen.get(cid):
                seen[cid] = q.bid
                t = sent.get((cid, q.bid))
                if t is not None:
                    lat.append((now - t) * 1000.0)

    ib = IBSession(IBConfig(port=server.port, client_id=11, max_msg_per_s=45))
    await ib.connect()
    ib.subscribe(contracts_for(server, n), listener)
    while server.active_subscriptions < n:
        await asyncio.sleep(0.05)
    lat.clear()
    ticks0 = server.ticks_sent
    server.stream_rate = rate
    stop, lags = asyncio.Event(), []
    probe = asyncio.create_task(lag_probe(stop, lags))
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    server.stream_rate = 0
    elapsed = time.perf_counter() - t0
    stop.set()
    await probe
    ticks = server.ticks_sent - ticks0
    await ib.aclose()
    server.tick_hook = None
    return {"ticks/s sent": ticks / elapsed, "bid updates seen": len(lat), "latency p50 ms": pct(lat, 50),
            "latency p99 ms": pct(lat, 99), "latency max ms": max(lat, default=float("nan")),
            "loop lag p99 ms": pct(lags, 99), "loop lag max ms": max(lags, default=float("nan"))}


async def storm_run(st: ServerThread, seconds: float, n: int) -> dict[str, float]:
    server = st.server
    ib = IBSession(IBConfig(port=server.port, client_id=12, backoff_initial=0.1, backoff_max=1.0))
    await ib.connect()
    ib.subscribe(contracts_for(server, n), lambda batch: None)
    while server.active_subscriptions < n:
        await asyncio.sleep(0.05)
    server.stream_rate = 500
    stop, lags = asyncio.Event(), []
    probe = asyncio.create_task(lag_probe(stop, lags))
    drops = 0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        await asyncio.sleep(2.0)
        st.call(server.restart)  # drops every socket, listens again on the same port
        drops += 1
    t_restart = time.perf_counter()
    while server.active_subscriptions < n:
        await asyncio.sleep(0.005)
    resub = time.perf_counter() - t_restart
    stop.set()
    await probe
    server.stream_rate = 0
    await ib.aclose()
    return {"drops": drops, "re-subscribed after last restart s": resub, "loop lag p99 ms": pct(lags, 99),
            "loop lag max ms": max(lags, default=float("nan"))}


def table(title: str, rows: dict[str, float]) -> None:
    print(f"\n{title}")
    for k, v in rows.items():
        print(f"  {k:<38} {v:>10.2f}" if isinstance(v, float) else f"  {k:<38} {v:>10}")


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 s tick run, 6 s storm")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--storm", type=float, default=30.0)
    p.add_argument("--rate", type=float, default=2000.0)
    p.add_argument("--contracts", type=int, default=200)
    a = p.parse_args()
    if a.quick:
        a.seconds, a.storm = 3.0, 6.0
    st = ServerThread()
    try:
        table(f"tick run: {a.rate:g} ticks/s over {a.contracts} SPXW options for {a.seconds:g} s",
              await tick_run(st, a.seconds, a.rate, a.contracts))
        table(f"reconnect storm: drop every 2 s for {a.storm:g} s, {a.contracts} subscriptions",
              await storm_run(st, a.storm, a.contracts))
    finally:
        st.close()


if __name__ == "__main__":
    asyncio.run(main())
