"""Latency of service calls: a bounded ring of durations per key, p50/p95 on demand.

``Executors.run`` records every call it runs (key ``"<executor>: <function>"``), so each
service's blocking work is measured at one cheap point: two ``perf_counter`` reads and a
``deque.append`` per call, nothing logged. Percentiles are computed only when asked for (the
Health dock, at most once a second, off the GUI thread).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

#: durations kept per key (the newest)
RING_SIZE = 256
#: distinct keys kept; calls of further functions are counted under ``"<executor>: other"``
MAX_KEYS = 200


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """One key's figures. ``p50_ms``/``p95_ms``/``max_ms`` over the ring's ``samples`` (the latest
    calls, at most :data:`RING_SIZE`); ``calls`` counts every call since start."""

    key: str
    calls: int
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def key_of(executor: str, fn: object) -> str:
    """``"db: PortfolioService._load"``: the executor and the function's qualified name (a local
    function or lambda is named after the function it is in: ``HealthService.backup``)."""
    name = getattr(fn, "__qualname__", None) or getattr(getattr(fn, "func", None), "__qualname__", None)
    name = (name or type(fn).__name__).replace(".<locals>", "").removesuffix(".<lambda>")
    return f"{executor}: {name}"


class LatencyStats:
    """Durations per key, thread-safe; :meth:`record` costs about a microsecond."""

    def __init__(self, ring_size: int = RING_SIZE, max_keys: int = MAX_KEYS) -> None:
        self._ring_size = ring_size
        self._max_keys = max_keys
        self._rings: dict[str, deque[float]] = {}
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, key: str, seconds: float) -> None:
        """Add one call of ``key`` that took ``seconds``."""
        with self._lock:
            ring = self._rings.get(key)
            if ring is None:
                if len(self._rings) >= self._max_keys:
                    key = key.split(":", 1)[0] + ": other"
                    ring = self._rings.get(key)
                if ring is None:
                    ring = self._rings[key] = deque(maxlen=self._ring_size)
            ring.append(seconds)
            self._calls[key] = self._calls.get(key, 0) + 1

    def copy(self) -> dict[str, tuple[int, list[float]]]:
        """``{key: (calls, durations in s)}``: a cheap copy to compute :func:`summarise` elsewhere."""
        with self._lock:
            return {k: (self._calls[k], list(ring)) for k, ring in self._rings.items()}

    def rows(self) -> list[LatencyRow]:
        """The figures now (see :func:`summarise`)."""
        return summarise(self.copy())


def summarise(data: dict[str, tuple[int, list[float]]]) -> list[LatencyRow]:
    """Rows sorted by p95, slowest first. Percentiles are numpy's linear interpolation."""
    rows = []
    for key, (calls, durations) in data.items():
        if not durations:
            continue
        ms = np.asarray(durations, dtype=float) * 1000.0
        p50, p95 = np.percentile(ms, [50.0, 95.0])
        rows.append(LatencyRow(key, calls, len(ms), float(p50), float(p95), float(ms.max())))
    rows.sort(key=lambda r: (-r.p95_ms, r.key))
    return rows
