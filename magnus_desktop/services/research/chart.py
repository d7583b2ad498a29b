"""What the chart dock draws for one symbol: bars, indicators and zones (no Qt; compute thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from magnus_desktop.analytics.indicators import compute_all, vwap
from magnus_desktop.analytics.zones import Zone, ZoneParams, find_zones

__all__ = ["ChartData", "chart_data"]


@dataclass(frozen=True)
class ChartData:
    """One symbol's chart: ``days`` (bar start, ``pd.Timestamp``), OHLCV arrays shape (n,) (USD,
    shares), ``indicators`` (``analytics.indicators.compute_all`` keys, plus ``vwap`` for intraday),
    ``zones`` (indices into the arrays), the data ``source`` and a ``note`` (stale, missing parts)."""

    symbol: str
    interval: str
    days: list[pd.Timestamp]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    indicators: dict[str, np.ndarray] = field(default_factory=dict)
    zones: list[Zone] = field(default_factory=list)
    source: str = ""
    note: str = ""

    @property
    def as_of(self) -> date | None:
        return self.days[-1].date() if self.days else None


def chart_data(symbol: str, bars: pd.DataFrame, interval: str, day: date, params: ZoneParams,
               source: str = "", zone_lookback: int = 250) -> ChartData:
    """Indicators and zones of ``bars`` (index = bar start) for the chart; ``note`` says what is stale
    or missing (bars ending before ``day``, no high/low → no ATR and no zones)."""
    o, h, lo, c, v = (bars[k].to_numpy(dtype=np.float64) if k in bars else np.full(len(bars), np.nan)
                      for k in ("open", "high", "low", "close", "volume"))
    ind = compute_all(o, h, lo, c)
    notes = []
    if interval != "1d":
        session = np.array([ts.date() for ts in bars.index])
        ind["vwap"] = vwap(h, lo, c, v, session)
    zones: list[Zone] = []
    if np.isfinite(ind["atr_14"]).any() and interval == "1d":
        cut = max(0, len(c) - zone_lookback - 20)
        zones = [Zone(z.kind, z.low, z.high, z.base_start + cut, z.base_end + cut, z.departure + cut, z.strength,
                      z.status, z.tests, None if z.invalidated_at is None else z.invalidated_at + cut)
                 for z in find_zones(o[cut:], h[cut:], lo[cut:], c[cut:], params)]
    elif not np.isfinite(h).any():
        notes.append("closes only: no candles, ATR or zones")
    days = list(bars.index)
    if days and interval == "1d" and (day - days[-1].date()).days > 5:
        notes.append(f"last bar {days[-1].date().isoformat()}: {(day - days[-1].date()).days} days before "
                     f"{day.isoformat()} — not current")
    return ChartData(symbol, interval, days, o, h, lo, c, v, ind, zones, source, "; ".join(notes))
