"""``ResearchService``: the research desk's access to earnings dates and daily bar history (no Qt).

It reads through the app's market-data chain (broker session → yfinance when on → the replay), so
offline it serves the bundled recorded bars. Bars are cached per symbol for the session.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from magnus_desktop.services.market.protocols import BarInterval, MarketDataError, NoData
from magnus_desktop.services.research.earnings import EarningsInfo, EarningsSource
from magnus_desktop.services.research.gather import chain_history, zone_params
from magnus_desktop.services.research.report import ReportInputs, build_report
from magnus_desktop.services.research.sectors import SectorDataError, sector_of
from magnus_desktop.services.scanner.service import scan_params_from_settings, with_p_win

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

__all__ = ["ResearchService"]

log = logging.getLogger(__name__)
#: calendar days of daily history fetched for a chart/report (5 years + the SMA-200 warm-up)
HISTORY_DAYS = 365 * 6


class ResearchService:
    """Earnings lookups and cached daily bars for the research docks and the report."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._bars: dict[tuple[str, date], tuple[int, pd.DataFrame]] = {}  # (symbol, end) -> (days, bars)

    async def start(self) -> None:
        """Nothing to open: files and the network are read on demand."""

    async def aclose(self) -> None:
        self._bars.clear()

    def earnings_source(self) -> EarningsSource:
        """The earnings sources as the settings say now: the user's file, then Yahoo when it is on."""
        yahoo = next((s for s in self._ctx.quotes.live_sources() if hasattr(s, "earnings_dates")), None)
        return EarningsSource(self._ctx.settings.research.earnings_file or None,
                              getattr(yahoo, "earnings_dates", None))

    async def earnings(self, symbol: str) -> EarningsInfo:
        """Earnings dates of ``symbol`` (status ``no_source`` offline without a file)."""
        return await self.earnings_source().lookup(symbol, self._ctx.run_compute)

    async def daily_bars(self, symbol: str, end: date, days: int = HISTORY_DAYS) -> pd.DataFrame:
        """Daily bars of ``symbol`` up to ``end`` inclusive (``days`` calendar days back), from the
        first source that has them; cached per (symbol, end), the longest history fetched serving shorter ones. ``attrs["source"]`` names the source.

        Raises:
            MarketDataError (UnknownSymbol, NoData, SourceOffline): nobody has them; the message says why.
        """
        key = (symbol, end)
        cached = self._bars.get(key)
        if cached is None or cached[0] < days:  # a longer history than cached: fetch it
            frame = await self._first_bars(symbol, end - timedelta(days=days), end, "1d")
            if cached is None and len(self._bars) > 600:
                self._bars.pop(next(iter(self._bars)))
            self._bars[key] = (days, frame)
            return frame
        have, frame = cached
        if have == days:
            return frame
        start = end - timedelta(days=days)  # a shorter one: the end of the cached history
        out = frame[frame.index.date >= start]
        out.attrs = dict(frame.attrs)
        return out

    async def _first_bars(self, symbol: str, start: date, end: date, interval: BarInterval) -> pd.DataFrame:
        """Bars from the first source that has them: the broker session, yfinance (when on), the replay."""
        failures: list[str] = []
        for src in [*self._ctx.quotes.live_sources(), self._ctx.replay]:
            try:
                frame = await src.bars(symbol, start, end, interval)
            except MarketDataError as exc:
                failures.append(f"{src.source}: {exc}")
                continue
            frame = frame.copy()
            frame.attrs["source"] = self._label(src.source, symbol)
            return frame
        raise NoData("; ".join(failures) or f"no source has bars for {symbol}")

    def _label(self, source: str, symbol: str) -> str:
        if source != "replay":
            return source
        try:
            return "recorded: " + self._ctx.market.provenance(symbol).splitlines()[0]
        except Exception:  # noqa: BLE001 - a label only
            return "recorded (replay)"

    async def bars(self, symbol: str, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """Bars of ``symbol`` up to ``end``: daily (6 years), hourly (700 days) or 5-minute (55 days,
        Yahoo's limits). The replay has daily bars only (``NoData`` for intraday).

        Raises:
            MarketDataError: nobody has them; the message says why.
        """
        if interval == "1d":
            return await self.daily_bars(symbol, end)
        days = 700 if interval == "1h" else 55
        return await self._first_bars(symbol, end - timedelta(days=days), end, interval)

    async def report(self, symbol: str, day: date) -> dict[str, Any]:
        """The research report document of ``symbol`` as of ``day`` (see ``services.research.report``):
        bars and earnings through the market-data chain, the recorded chain history (IV rank), the
        live chain when a live source has one (term structure, wheel candidates), the account's
        positions; built on the compute executor."""
        ctx = self._ctx
        bars, error, source = None, "", ""
        try:
            bars = await self.daily_bars(symbol, day)
            source = str(bars.attrs.get("source", ""))
        except MarketDataError as exc:
            error = f"No daily bars for {symbol}: {exc}"
        chains, note = await ctx.run_compute(chain_history, ctx.market, symbol, day)
        if ctx.quotes.live_sources():
            try:
                live = await ctx.quotes.chain().chain(symbol, None)
                if live.attrs.get("source") != "replay" and len(live) and "quote_date" in live:
                    chains = {**chains, pd.Timestamp(live["quote_date"].iloc[0]).date(): live}
            except MarketDataError as exc:
                note = note or f"No option chain for {symbol}: {exc}"
        earnings = await self.earnings(symbol)
        summary = ctx.portfolio.last_summary
        positions = tuple(summary.positions) if summary is not None else ()
        inputs = await ctx.run_compute(self._inputs, symbol, day, bars, source, error, chains, note, earnings, positions)
        return await ctx.run_compute(build_report, inputs)

    def _inputs(self, symbol: str, day: date, bars: pd.DataFrame | None, source: str, error: str,
                chains: dict, note: str, earnings: EarningsInfo, positions: tuple) -> ReportInputs:
        try:
            sector, sector_note = sector_of(symbol), ""
        except SectorDataError as exc:
            sector, sector_note = None, str(exc)
        settings = self._ctx.settings
        return ReportInputs(symbol=symbol, day=day, bars=bars, bars_source=source, bars_error=error, chains=chains,
                            chain_note=note, earnings=earnings, sector=sector, sector_note=sector_note,
                            positions=positions, zone_params=zone_params(settings),
                            zone_lookback=settings.research.zone_lookback_days,
                            scan_params=scan_params_from_settings(settings),
                            p_win=self._p_win)

    def _p_win(self, rows: pd.DataFrame, chain: pd.DataFrame, day: date) -> tuple[pd.DataFrame, bool, str]:
        """The wheel candidates' ``p_win`` from the app's predictor (the scanner's scoring)."""
        predictor = self._ctx.predictor
        return with_p_win(predictor.scorer, predictor.bundled, rows, chain, day)

    def forget(self) -> None:
        """Drop cached bars (a new source connected)."""
        self._bars.clear()


def describe_missing(symbol: str, exc: MarketDataError) -> str:
    """One sentence for a dock when ``symbol``'s bars are missing."""
    return f"No daily bars for {symbol}: {exc}"
