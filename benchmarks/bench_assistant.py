"""Assistant speed and quality: first token after Enter, GUI loop lag while generating, the evaluation score.

Rows:
- ``assistant.first_token`` p50/max over tool-routed questions asked in the Assistant dock (time from
  the question sent to the first token the bundled model streams; target ≤ 1.0 s);
- ``assistant.gui_loop`` the longest stall of a 10 ms asyncio probe while the model generates and the
  dock repaints (target ≤ 50 ms);
- ``assistant.model`` load time, tokens/s, RSS after load (informational);
- ``assistant.eval`` the question set's score per intent with the bundled model (full run) and with
  the tools alone (both runs), target ≥ 90 %; the table is printed.

The dock part runs in a child process (``python benchmarks/bench_assistant.py --driver``) on the
offscreen Qt platform.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Result  # noqa: E402

QUESTIONS = (
    "What was SPX on 2018-02-05?",
    "On 2018-01-10, what were the bid and ask of the SPX 2700 put expiring 2018-01-31?",
    "Which SPX put expiring 2018-02-28 had the largest open interest on 2018-02-06?",
    "What is the IV of the SPX 2650 put expiring 2018-02-28 on 2018-02-05?",
    "What is my net delta?",
    "How much buying power do I have?",
)


async def _driver() -> dict[str, object]:
    import tempfile

    import psutil
    from PySide6.QtWidgets import QApplication

    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.settings import Settings, SettingsStore
    from magnus_desktop.ui.assistant.panel import AssistantPanel
    from magnus_desktop.ui.assistant.view_model import AssistantViewModel
    from magnus_desktop.ui.orders.view_model import OrdersViewModel

    app = QApplication.instance()
    assert app is not None
    with tempfile.TemporaryDirectory(prefix="magnus-bench-") as tmp:
        ctx = AppContext(SettingsStore(Path(tmp) / "s.json"), Settings(), db_url="sqlite://",
                         settings_read_only="benchmark")
        ctx.alerts.scheduled = False
        await ctx.start()
        await ctx.refreshed.wait()
        rss0 = psutil.Process().memory_info().rss / 1e6
        t = time.perf_counter()
        state = await ctx.assistant.ensure_model()
        load_s = time.perf_counter() - t
        rss1 = psutil.Process().memory_info().rss / 1e6
        vm = AssistantViewModel(ctx)
        panel = AssistantPanel(vm, OrdersViewModel(ctx))
        panel.resize(640, 700)
        panel.show()
        lags: list[float] = []
        stop = asyncio.Event()

        async def probe() -> None:
            period = 0.010
            while not stop.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(period)
                lags.append((time.perf_counter() - t0 - period) * 1000.0)

        firsts: list[float] = []
        tps: list[float] = []
        for q in QUESTIONS:
            done: list[object] = []
            vm.finished.connect(done.append)
            probe_task = asyncio.get_running_loop().create_task(probe())
            vm.send(q)
            while not done:
                await asyncio.sleep(0.01)
            stop.set()
            await probe_task
            stop.clear()
            vm.finished.disconnect(done.append)
            answer = done[0]
            if answer.first_token_ms is not None:  # type: ignore[attr-defined]
                firsts.append(answer.first_token_ms / 1000.0)  # type: ignore[attr-defined]
            if answer.stats is not None and answer.stats.tokens_per_second == answer.stats.tokens_per_second:  # type: ignore[attr-defined]
                tps.append(answer.stats.tokens_per_second)  # type: ignore[attr-defined]
        panel.close()
        await ctx.aclose()
    firsts.sort()
    lags.sort()
    return {"model": state.status, "load_s": load_s, "rss_model_mb": rss1 - rss0, "rss_mb": rss1,
            "first_p50": firsts[len(firsts) // 2] if firsts else float("nan"),
            "first_max": firsts[-1] if firsts else float("nan"), "n": len(firsts),
            "tps_p50": sorted(tps)[len(tps) // 2] if tps else float("nan"),
            "lag_max_ms": lags[-1] if lags else float("nan"),
            "lag_p99_ms": lags[int(len(lags) * 0.99)] if lags else float("nan")}


def _run_driver() -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)  # closing the dock must not stop the loop before the result
    result = qasync.run(_driver())
    print(json.dumps(result))


def _eval(use_model: bool) -> tuple[dict[str, tuple[int, int]], str]:
    from tests.assistant_questions import format_score, run_eval, score

    results, _answers, _orders = asyncio.run(run_eval(use_model=use_model))
    table = score(results)
    return table, format_score(table)


def run(quick: bool) -> list[Result]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--driver"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    rows: list[Result] = []
    if proc.returncode != 0:
        rows.append(Result("assistant.dock", "driver", float("nan"), "", note=proc.stderr[-300:]))
    else:
        d = json.loads(proc.stdout.strip().splitlines()[-1])
        note = f"{d['n']} tool-routed questions in the dock, bundled SmolLM2-135M Q4_1"
        rows += [
            Result("assistant.first_token", "p50 after Enter", d["first_p50"], "s", note=note),
            Result("assistant.first_token", "max after Enter", d["first_max"], "s", target=1.0,
                   direction="max_value", note=note),
            Result("assistant.gui_loop", "max stall while generating", d["lag_max_ms"], "ms", target=50.0,
                   direction="max_value", note="10 ms asyncio probe, dock repainting the stream"),
            Result("assistant.gui_loop", "p99 stall while generating", d["lag_p99_ms"], "ms"),
            Result("assistant.model", "load", d["load_s"], "s", note="incl. warm-up token and dateparser"),
            Result("assistant.model", "tokens/s p50", d["tps_p50"], "tok/s"),
            Result("assistant.model", "RSS added by the model", d["rss_model_mb"], "MB", note=f"process {d['rss_mb']:.0f} MB"),
        ]
    for use_model in (False,) if quick else (False, True):
        table, text = _eval(use_model)
        label = "with the bundled model" if use_model else "tools only (no model)"
        print(f"\nassistant evaluation, {label}:\n{text}")
        ok, n = table["all"]
        rows.append(Result("assistant.eval", f"score, {label}", ok / n * 100.0, "%", target=90.0,
                           direction="min_value", note=f"{ok}/{n} questions; per intent printed above"))
    return rows


if __name__ == "__main__":
    if "--driver" in sys.argv:
        _run_driver()
    else:
        from benchmarks.common import format_table

        print(format_table(run(quick="--quick" in sys.argv)))
