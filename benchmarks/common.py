"""Small, generic benchmark harness: a result row, a best-of timer, one table and a JSON file.

Every ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> list[Result]``; ``run.py``
collects the rows of all modules, prints one table and writes ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import gc
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Direction = Literal["min_ratio", "max_ratio", "max_value", "min_value", "info"]


@dataclass(frozen=True)
class Result:
    """One measured row.

    Attributes:
        name: what was measured, e.g. ``"pricing.bs_greeks 1M"``.
        metric: what the value is, e.g. ``"time"``, ``"speedup vs pvv"``, ``"max abs vol error"``.
        value: the measurement (NaN when it could not be measured; say why in ``note``).
        unit: unit of ``value`` (``"s"``, ``"ms"``, ``"x"``, ``"vol"``...).
        reference: what the value is compared with (``""`` when nothing).
        ratio: reference / value style ratio the target applies to, or NaN when the target is on ``value``.
        target: the number the pass/fail check uses (NaN: informational row).
        direction: ``"min_ratio"`` ratio >= target, ``"max_ratio"`` ratio <= target,
            ``"max_value"`` value <= target, ``"min_value"`` value >= target, ``"info"`` no check.
        note: free text (why a reference is missing, data size, ...).
    """

    name: str
    metric: str
    value: float
    unit: str
    reference: str = ""
    ratio: float = float("nan")
    target: float = float("nan")
    direction: Direction = "info"
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False for a checked row, None for an informational or unmeasured one."""
        checks: dict[str, Callable[[], bool]] = {
            "min_ratio": lambda: self.ratio >= self.target,
            "max_ratio": lambda: self.ratio <= self.target,
            "max_value": lambda: self.value <= self.target,
            "min_value": lambda: self.value >= self.target,
        }
        probe = self.ratio if self.direction.endswith("ratio") else self.value
        if self.direction == "info" or probe != probe:  # NaN: could not be measured
            return None
        return checks[self.direction]()

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["passed"] = self.passed
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


def timeit_best(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Best wall time of ``repeat`` calls of ``fn`` in seconds, after ``warmup`` untimed calls (GC off)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def _fmt(x: float) -> str:
    if x != x:
        return "-"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.3e}"


def format_table(results: Sequence[Result]) -> str:
    """One plain-text table: name, metric, value, unit, reference, ratio, target, pass/fail."""
    status = {True: "PASS", False: "FAIL", None: "-"}
    head = ("name", "metric", "value", "unit", "reference", "ratio", "target", "result")
    rows = [head] + [
        (r.name, r.metric, _fmt(r.value), r.unit, r.reference, _fmt(r.ratio), _target(r), status[r.passed])
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {r.name} / {r.metric}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))


def _target(r: Result) -> str:
    sign = {"min_ratio": ">=", "max_ratio": "<=", "max_value": "<=", "min_value": ">="}.get(r.direction)
    return f"{sign} {_fmt(r.target)}" if sign else "-"


def write_json(results: Sequence[Result], path: Path, extra: dict[str, Any] | None = None) -> None:
    """Write the rows plus machine facts (python, platform, cpu count) to ``path``."""
    import os

    doc = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        **(extra or {}),
        "results": [r.to_json() for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


def best_interleaved(fns: dict[str, Callable[[], object]], repeat: int = 5,
                     warmup: int = 1) -> dict[str, tuple[float, float]]:
    """Best (wall s, CPU s of this process) of each function, the functions called in turn so a
    load on the machine weighs on all of them alike (GC off while timing, as :func:`timeit_best`)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    best = {name: (float("inf"), float("inf")) for name in fns}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in fns.items():
                wall, cpu = time.perf_counter(), time.process_time()
                fn()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    finally:
        if gc_was_enabled:
            gc.enable()
    return best
