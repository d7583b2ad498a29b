"""The universe scan's per-symbol metrics and filters (pure; no I/O, no Qt).

:func:`symbol_metrics` turns one symbol's daily bars into one row; :class:`ScreenFilter` keeps the rows
that pass every bound that is set (``None`` = no bound). A row whose metric is missing (NaN/None)
fails any bound on that metric — a filter never lets an unknown value through. Presets
(:data:`PRESETS`) are ordinary filters:

- **oversold quality**: an S&P 500 member (has a GICS sector), RSI(14) ≤ 35, close at or above its
  SMA(200) (a pullback in an uptrend), average volume ≥ 1 M shares;
- **high IV rank for the wheel**: IV rank ≥ 50 (needs a chain history), price ≥ 10 USD, no earnings
  within 14 days;
- **near demand zone**: the close within 1 ATR of an active (fresh/tested) demand zone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from magnus_desktop.analytics.indicators import atr, rsi, sma
from magnus_desktop.analytics.zones import ZoneParams, active_zones, find_zones, zone_distance

__all__ = ["PRESETS", "ScreenFilter", "passes", "symbol_metrics"]

#: bars the zone search looks back in the scan (plus the ATR warm-up)
SCAN_ZONE_BARS = 250


def symbol_metrics(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray,
                   params: ZoneParams | None = None) -> dict[str, float]:
    """One row: ``price`` (last close, USD), ``volume`` (last, shares), ``avg_volume_20``,
    ``rsi_14``, ``sma_50``, ``sma_200``, ``dist_sma_50``/``dist_sma_200`` (close / SMA − 1, decimal),
    ``atr_14`` (USD), ``near_demand_atr`` (ATRs from the close down to the nearest active demand zone;
    0 inside one; NaN when none) and ``near_supply_atr``. NaN where the history is too short."""
    n = len(c)
    price = float(c[-1]) if n else math.nan
    s50, s200 = sma(c, 50), sma(c, 200)
    row = {"price": price, "volume": float(v[-1]) if n else math.nan,
           "avg_volume_20": float(np.nanmean(v[-20:])) if n >= 20 and np.isfinite(v[-20:]).any() else math.nan,
           "rsi_14": float(rsi(c)[-1]) if n else math.nan, "sma_50": float(s50[-1]) if n else math.nan,
           "sma_200": float(s200[-1]) if n else math.nan}
    row["dist_sma_50"] = price / row["sma_50"] - 1 if row["sma_50"] > 0 else math.nan
    row["dist_sma_200"] = price / row["sma_200"] - 1 if row["sma_200"] > 0 else math.nan
    k = max(0, n - SCAN_ZONE_BARS - 20)
    a = atr(h[k:], lo[k:], c[k:]) if n else np.array([math.nan])
    row["atr_14"] = float(a[-1])
    row["near_demand_atr"] = row["near_supply_atr"] = math.nan
    if math.isfinite(row["atr_14"]):
        for z in active_zones(find_zones(o[k:], h[k:], lo[k:], c[k:], params)):
            key = "near_demand_atr" if z.kind == "demand" else "near_supply_atr"
            dist = zone_distance(z, price, row["atr_14"])[1]
            if math.isfinite(dist) and dist >= 0 and not dist >= row[key]:
                row[key] = dist
    return row


@dataclass(frozen=True, slots=True)
class ScreenFilter:
    """Bounds on the scan's columns (None = not filtered). Prices USD, volume shares, RSI 0–100,
    distances decimals (−0.05 = 5 % below the SMA), IV rank 0–100, days calendar days."""

    price_min: float | None = None
    price_max: float | None = None
    volume_min: float | None = None
    rsi_min: float | None = None
    rsi_max: float | None = None
    sma: int = 200
    dist_sma_min: float | None = None
    dist_sma_max: float | None = None
    iv_rank_min: float | None = None
    sectors: frozenset[str] = frozenset()
    sp500_only: bool = False
    earnings_clear_days: int | None = None
    near_demand_atr_max: float | None = None

    def describe(self) -> str:
        """The bounds that are set, in words."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, frozenset(), False) and f.name != "sma":
                parts.append(f"{f.name}={sorted(value) if isinstance(value, frozenset) else value}")
        return ", ".join(parts) or "no filter"


PRESETS: Mapping[str, ScreenFilter] = {
    "oversold quality": ScreenFilter(rsi_max=35.0, sma=200, dist_sma_min=0.0, volume_min=1e6, sp500_only=True),
    "high IV rank for the wheel": ScreenFilter(iv_rank_min=50.0, price_min=10.0, earnings_clear_days=14),
    "near demand zone": ScreenFilter(near_demand_atr_max=1.0),
}


def _ge(x: Any, bound: float | None) -> bool:
    return bound is None or (x is not None and isinstance(x, int | float) and math.isfinite(x) and x >= bound)


def _le(x: Any, bound: float | None) -> bool:
    return bound is None or (x is not None and isinstance(x, int | float) and math.isfinite(x) and x <= bound)


def passes(row: Mapping[str, Any], f: ScreenFilter) -> bool:
    """Whether ``row`` (``symbol_metrics`` plus ``iv_rank``, ``sector``, ``days_to_earnings``) passes."""
    dist = row.get("dist_sma_50" if f.sma == 50 else "dist_sma_200")
    vol = row.get("avg_volume_20") if _ge(row.get("avg_volume_20"), 0) else row.get("volume")
    dte = row.get("days_to_earnings")
    return (_ge(row.get("price"), f.price_min) and _le(row.get("price"), f.price_max) and _ge(vol, f.volume_min)
            and _ge(row.get("rsi_14"), f.rsi_min) and _le(row.get("rsi_14"), f.rsi_max)
            and _ge(dist, f.dist_sma_min) and _le(dist, f.dist_sma_max) and _ge(row.get("iv_rank"), f.iv_rank_min)
            and (not f.sectors or row.get("sector") in f.sectors) and (not f.sp500_only or bool(row.get("sector")))
            and (f.earnings_clear_days is None or (dte is not None and not 0 <= dte <= f.earnings_clear_days))
            and _le(row.get("near_demand_atr"), f.near_demand_atr_max))


def filtered(rows: Iterable[Mapping[str, Any]], f: ScreenFilter) -> list[Mapping[str, Any]]:
    """The rows that pass ``f``, in order."""
    return [r for r in rows if passes(r, f)]


def with_bounds(f: ScreenFilter, **bounds: Any) -> ScreenFilter:
    """``f`` with some bounds replaced."""
    return replace(f, **bounds)
