"""The universe scan: filters over a list of symbols, with batched history fetches (no Qt).

Universes: a watchlist, the bundled S&P 500 list, or a file of tickers (one per line or separated by
commas/spaces; ``EXCHANGE:`` prefixes accepted). :meth:`UniverseScan.run` fetches daily bars in
batches (concurrently within a batch, through ``ResearchService.daily_bars``, which caches them),
computes each batch's metrics on the compute executor, reports progress after every batch and stops
between batches when cancelled. Offline only symbols with recorded bars can be scanned; the others
are listed in ``missing`` with the reason.

Each row: ``symbol``, ``sector``, ``as_of`` (last bar), ``stale`` (bar older than 5 days before the
scan day), ``analytics.screen.symbol_metrics`` columns, ``iv_rank`` (where a chain history exists)
and ``days_to_earnings`` (None when unknown).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from magnus_desktop.analytics.screen import ScreenFilter, passes, symbol_metrics
from magnus_desktop.analytics.zones import ZoneParams
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.research.symbol import InvalidSymbol, canonical_symbol

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

__all__ = ["BATCH", "ScanResult", "UniverseScan", "metrics_rows", "read_universe_file"]

#: symbols fetched concurrently per batch (progress is reported after each)
BATCH = 25
#: daily history the scan needs: SMA(200) + a margin, in calendar days
SCAN_HISTORY_DAYS = 420
Progress = Callable[[int, int], None]


class UniverseFileError(ValueError):
    """The universe file cannot be read or holds no ticker (the message names it)."""


def read_universe_file(path: str | Path) -> tuple[list[str], list[str]]:
    """Tickers of a file (one per line, or comma/space separated; ``NASDAQ:AAPL`` accepted; ``#``
    comments and ``###Section`` lines skipped), de-duplicated in order, and the skipped entries.

    Raises:
        UniverseFileError: unreadable, or no ticker in it.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise UniverseFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    symbols: list[str] = []
    skipped: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for token in re.split(r"[,;\s]+", line.strip()):
            if not token:
                continue
            try:
                sym = canonical_symbol(token)
            except InvalidSymbol:
                skipped.append(token)
                continue
            if sym not in symbols:
                symbols.append(sym)
    if not symbols:
        raise UniverseFileError(f"{path}: no ticker found")
    return symbols, skipped


def metrics_rows(batch: Sequence[tuple[str, pd.DataFrame]], day: date, params: ZoneParams,
                 sectors: dict[str, str | None]) -> list[dict[str, Any]]:
    """The metric rows of a batch of (symbol, daily bars) (compute thread)."""
    rows = []
    for symbol, bars in batch:
        arrays = [bars[k].to_numpy(dtype=np.float64) if k in bars else np.full(len(bars), np.nan)
                  for k in ("open", "high", "low", "close", "volume")]
        row: dict[str, Any] = {"symbol": symbol, "sector": sectors.get(symbol), **symbol_metrics(*arrays, params)}
        last = bars.index[-1].date()
        row["as_of"], row["stale"] = last, (day - last).days > 5
        rows.append(row)
    return rows


@dataclass
class ScanResult:
    """A finished (or cancelled) scan: every computed ``rows`` entry, the ``matches`` of the filter,
    ``missing`` symbol → reason, and whether it was ``cancelled`` before the end."""

    day: date
    universe: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False
    scanned: int = 0
    total: int = 0

    def summary(self) -> str:
        head = f"{len(self.matches)} of {len(self.rows)} scanned symbols match"
        if self.cancelled:
            head += f" (cancelled after {self.scanned} of {self.total})"
        stale = sum(1 for r in self.rows if r.get("stale"))
        if stale:
            head += f"; {stale} with a last bar older than {self.day.isoformat()} (see As of)"
        if self.missing:
            names = ", ".join(list(self.missing)[:12]) + (" …" if len(self.missing) > 12 else "")
            head += f"; not scanned ({len(self.missing)}, no bars or not a ticker): {names}"
        return head


class UniverseScan:
    """One scan over a universe. ``cancel()`` stops it after the batch in flight."""

    def __init__(self, ctx: AppContext, symbols: Sequence[str], universe: str, screen: ScreenFilter,
                 day: date, params: ZoneParams) -> None:
        self._ctx = ctx
        self.symbols = list(dict.fromkeys(symbols))
        self.universe = universe
        self.screen = screen
        self.day = day
        self.params = params
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    async def run(self, progress: Progress | None = None) -> ScanResult:
        ctx = self._ctx
        result = ScanResult(self.day, self.universe, total=len(self.symbols))
        from magnus_desktop.services.research.sectors import SectorDataError, sector_of

        try:
            sectors = {s: sector_of(s) for s in self.symbols}
        except SectorDataError:
            sectors = {}
        for start in range(0, len(self.symbols), BATCH):
            if self._cancelled:
                result.cancelled = True
                break
            chunk = self.symbols[start:start + BATCH]
            fetched = await asyncio.gather(*(self._bars(s) for s in chunk))
            ok = [(s, b) for s, b in zip(chunk, fetched, strict=True) if isinstance(b, pd.DataFrame)]
            for s, b in zip(chunk, fetched, strict=True):
                if isinstance(b, str):
                    result.missing[s] = b
            result.rows += await ctx.run_compute(metrics_rows, ok, self.day, self.params, sectors)
            result.scanned = min(start + BATCH, len(self.symbols))
            if progress is not None:
                progress(result.scanned, len(self.symbols))
        await self._decorate(result.rows)
        result.matches = [r for r in result.rows if passes(r, self.screen)]
        return result

    async def _bars(self, symbol: str) -> pd.DataFrame | str:
        try:
            bars = await self._ctx.research.daily_bars(symbol, self.day, SCAN_HISTORY_DAYS)
        except MarketDataError as exc:
            return str(exc) or "no bars"
        return bars if len(bars) else "no bars"

    async def _decorate(self, rows: list[dict[str, Any]]) -> None:
        """IV rank where a chain history exists (SPX offline) and days to earnings from the earnings
        file (Yahoo is not asked symbol by symbol during a scan)."""
        from magnus_desktop.services.research.gather import chain_history

        source = self._ctx.research.earnings_source()
        days = await self._ctx.run_compute(_earnings_days, source, [r["symbol"] for r in rows], self.day)
        for row in rows:
            row["iv_rank"] = None
            row["days_to_earnings"] = days.get(row["symbol"])
            if row["symbol"] == "SPX":
                chains, _note = await self._ctx.run_compute(chain_history, self._ctx.market, "SPX", self.day)
                row["iv_rank"] = await self._ctx.run_compute(_iv_rank, chains, self._ctx.settings.risk_free_rate)


def _earnings_days(source: Any, symbols: list[str], day: date) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for sym in symbols:
        info = source.offline_answer(sym)
        out[sym] = info.days_to_next(day) if info.status == "ok" else None
    return out


def _iv_rank(chains: dict[date, pd.DataFrame], rate: float) -> float | None:
    from magnus_desktop.services.research.report import atm_iv

    series = []
    for d in sorted(chains):
        ivs = [v for v in atm_iv(chains[d], d, rate, 0.0).values() if math.isfinite(v)]
        if ivs:
            series.append(ivs[0])
    if len(series) < 2 or max(series) <= min(series):
        return None
    return (series[-1] - min(series)) / (max(series) - min(series)) * 100.0
