"""GUI loop lag: how late a periodic timer fires, kept for the last minute.

A timer that should fire every ``interval`` seconds and fires ``late`` seconds after that was
held up by whatever ran on the loop meanwhile (a long slot, a blocking call): that lateness is
the lag the trader feels as a frozen window. The Qt timer that feeds it lives in the UI
(``ui/health``); this class only keeps and summarises the samples.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: seconds of samples kept
WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class LagFigures:
    """Loop lag over the last ``span_s`` seconds (≤ 60): ``samples`` timer ticks, lag in ms."""

    samples: int
    span_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class LagWindow:
    """Timer ticks of the last :data:`WINDOW_S` seconds.

    Args:
        interval_s: the timer's period, seconds (a tick's lag is its gap minus this).
        clock: monotonic seconds (tests inject a fake one).
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic,
                 window_s: float = WINDOW_S) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()
        self._last: float | None = None

    def tick(self) -> None:
        """The timer fired now."""
        now = self._clock()
        if self._last is not None:
            self._samples.append((now, max(0.0, now - self._last - self.interval_s)))
        self._last = now
        self._trim(now)

    def pause(self) -> None:
        """The timer stops (dock hidden): the gap until the next start is not lag."""
        self._last = None

    def _trim(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self._window_s:
            self._samples.popleft()

    def figures(self) -> LagFigures | None:
        """p50/p99/max of the kept ticks; None before two ticks."""
        if self._samples:
            self._trim(self._clock())
        if not self._samples:
            return None
        lag = np.fromiter((s for _, s in self._samples), dtype=float) * 1000.0
        p50, p99 = np.percentile(lag, [50.0, 99.0])
        span = self._samples[-1][0] - self._samples[0][0] + self.interval_s
        return LagFigures(len(lag), min(span, self._window_s), float(p50), float(p99), float(lag.max()))
