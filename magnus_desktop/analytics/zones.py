"""Supply and demand zones of daily bars: "base and departure" (no I/O, no Qt).

Algorithm (the base-and-departure reading of supply/demand taught by Sam Seiden / Online Trading
Academy — "rally-base-rally", "drop-base-drop" … — made mechanical with ATR-scaled thresholds):

1. **ATR** = Wilder ATR(14) (``analytics.indicators.atr``), taken on the bar *before* each candle so a
   large candle does not widen its own yardstick.
2. **Narrow candle**: ``high − low ≤ narrow_atr × ATR``.
3. **Base**: 1 to ``max_base`` (≤ 6) consecutive narrow candles ending at bar ``j`` (the run of
   narrow candles ending there, its last ``max_base`` bars).
4. **Departure**: the first bar after the base closes outside it — above the base high (a rally:
   a **demand** zone, buyers left from there) or below the base low (a drop: a **supply** zone) —
   and within ``departure_bars`` (3) bars from there a close gets at least ``k × ATR(j)`` beyond the
   base on that side, every close staying on that side. The first bar that reaches it ends the
   departure; a close back inside (or through) the base cancels it.
5. **Zone** price range: demand = [lowest low of the base, highest body top (max(open, close)) of
   the base]; supply = [lowest body bottom (min(open, close)), highest high]. Distal edge = the
   low of a demand zone / the high of a supply zone; proximal = the other edge.
6. **Status** after the departure, bar by bar up to the last bar given:
   *invalidated* at the first **close** beyond the distal edge (below a demand zone, above a
   supply zone); otherwise *tested* once a bar trades into the zone (low ≤ proximal for demand,
   high ≥ proximal for supply), with the number of separate visits; otherwise *fresh*.

The scan resumes after each departure, so bases do not overlap. Demand zones normally sit below
the last close and supply zones above it; ``distance_pct`` / ``distance_atr`` measure from the last
close to the proximal edge (0 inside the zone). Units: prices USD per share; ``strength`` is the
departure in ATRs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from magnus_desktop.analytics.indicators import atr as wilder_atr

__all__ = ["Zone", "ZoneParams", "ZoneKind", "ZoneStatus", "active_zones", "find_zones", "zone_distance"]

ZoneKind = Literal["demand", "supply"]
ZoneStatus = Literal["fresh", "tested", "invalidated"]
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ZoneParams:
    """Detection parameters (Settings → Research): ``max_base`` candles (1–6), ``narrow_atr`` (range ≤
    this × ATR), departure ``k`` (× ATR), ``departure_bars`` to reach it, ATR ``atr_period``."""

    max_base: int = 6
    narrow_atr: float = 0.7
    k: float = 1.5
    departure_bars: int = 3
    atr_period: int = 14

    def __post_init__(self) -> None:
        if not 1 <= self.max_base <= 6:
            raise ValueError("max_base must be 1-6 candles")
        if self.narrow_atr <= 0 or self.k <= 0 or self.departure_bars < 1:
            raise ValueError("narrow_atr and k must be > 0, departure_bars >= 1")


@dataclass(frozen=True, slots=True)
class Zone:
    """One zone. Indices refer to the bar arrays given to :func:`find_zones`.

    ``low``/``high`` in USD; ``base_start``..``base_end`` the base bars; ``departure`` the bar that
    completed the move; ``strength`` the move in ATR(base_end); ``tests`` separate visits into the
    zone; ``invalidated_at`` the bar that closed through it (None if not).
    """

    kind: ZoneKind
    low: float
    high: float
    base_start: int
    base_end: int
    departure: int
    strength: float
    status: ZoneStatus
    tests: int
    invalidated_at: int | None

    @property
    def proximal(self) -> float:
        """The edge price meets first coming back: the high of demand, the low of supply."""
        return self.high if self.kind == "demand" else self.low

    @property
    def distal(self) -> float:
        return self.low if self.kind == "demand" else self.high


def find_zones(open_: object, high: object, low: object, close: object,
               params: ZoneParams | None = None) -> list[Zone]:
    """All base-and-departure zones of the bars, oldest first, with their status as of the last bar.

    Args:
        open_, high, low, close: float64 arrays, shape (n,), one symbol's daily bars in time order
            (USD per share). Bars with a NaN price are never part of a base.
        params: detection parameters (defaults: 6 candles, 0.7 ATR narrow, k = 1.5, 3 bars).

    Returns:
        The zones (empty when fewer than ATR-period + 2 bars or no base qualifies).
    """
    p = params or ZoneParams()
    o, h, lo, c = (np.asarray(x, dtype=np.float64) for x in (open_, high, low, close))
    n = c.size
    a = wilder_atr(h, lo, c, p.atr_period)
    prev_atr = np.r_[np.nan, a[:-1]]
    rng = h - lo
    with np.errstate(invalid="ignore"):
        narrow = np.isfinite(prev_atr) & np.isfinite(o) & (rng <= p.narrow_atr * prev_atr)
    zones: list[Zone] = []
    # scalar loops below run on Python lists: ~10x faster than indexing NumPy arrays element-wise
    nl, ol, hl, ll, cl, al = narrow.tolist(), o.tolist(), h.tolist(), lo.tolist(), c.tolist(), a.tolist()
    j = 0
    while j < n - 1:
        if not nl[j] or nl[j + 1]:
            j += 1  # a base ends at the last narrow candle of a run
            continue
        start = j
        while start - 1 >= 0 and nl[start - 1] and j - (start - 1) < p.max_base:
            start -= 1
        zone = _departure(ol, hl, ll, cl, start, j, al[j], p)
        if zone is None:
            j += 1
            continue
        zones.append(_with_status(zone, hl, ll, cl))
        j = zone.departure + 1
    return zones


def _departure(o: list[float], h: list[float], lo: list[float], c: list[float], start: int, end: int, atr_j: float,
               p: ZoneParams) -> Zone | None:
    if not math.isfinite(atr_j) or atr_j <= 0:
        return None
    base_high, base_low = max(h[start:end + 1]), min(lo[start:end + 1])
    body_top = max(max(a, b) for a, b in zip(o[start:end + 1], c[start:end + 1], strict=True))
    body_bottom = min(min(a, b) for a, b in zip(o[start:end + 1], c[start:end + 1], strict=True))
    first = end + 1
    if first >= len(c) or not math.isfinite(c[first]) or base_low <= c[first] <= base_high:
        return None  # the bar after the base closed inside it: no departure
    rally = c[first] > base_high
    for i in range(first, min(first + p.departure_bars, len(c))):
        move = ((c[i] - base_high) if rally else (base_low - c[i])) / atr_j
        if not math.isfinite(move) or move <= 0:
            return None  # closed back into (or through) the base: no departure
        if move >= p.k:
            if rally:
                return Zone("demand", base_low, body_top, start, end, i, move, "fresh", 0, None)
            return Zone("supply", body_bottom, base_high, start, end, i, move, "fresh", 0, None)
    return None


def _with_status(z: Zone, h: list[float], lo: list[float], c: list[float]) -> Zone:
    tests, inside, invalid = 0, False, None
    demand = z.kind == "demand"
    for i in range(z.departure + 1, len(c)):
        if demand:
            touched, broken = lo[i] <= z.high, c[i] < z.low
        else:
            touched, broken = h[i] >= z.low, c[i] > z.high
        if broken:
            invalid = i
            break
        if touched and not inside:
            tests += 1
        inside = touched
    status: ZoneStatus = "invalidated" if invalid is not None else ("tested" if tests else "fresh")
    return Zone(z.kind, z.low, z.high, z.base_start, z.base_end, z.departure, z.strength, status, tests, invalid)


def active_zones(zones: list[Zone]) -> list[Zone]:
    """The zones not invalidated (fresh or tested), newest first."""
    return [z for z in reversed(zones) if z.status != "invalidated"]


def zone_distance(zone: Zone, last_close: float, atr_now: float) -> tuple[float, float]:
    """Distance from ``last_close`` to the zone's proximal edge: (decimal of the close, in ATRs).

    Positive when the zone lies in its normal place (demand below, supply above), 0 inside it,
    negative when price is on the far side. NaN ATR gives NaN ATRs.
    """
    if zone.low <= last_close <= zone.high:
        return 0.0, 0.0
    gap = last_close - zone.high if zone.kind == "demand" else zone.low - last_close
    in_atr = gap / atr_now if np.isfinite(atr_now) and atr_now > 0 else float("nan")
    return gap / last_close, in_atr
