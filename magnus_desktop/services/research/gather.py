"""Report inputs from the bundled recorded data (offline; blocking — run off the GUI thread).

Used by ``magnus-desktop research`` and by the research dock for what only the replay has (the chain
history behind the IV rank). Bars: the replay's daily bars (SPY, AAPL, GOOG, VIX, SPX); chains: the
bundled SPXW chain for SPX/SPXW; earnings: the user's earnings file (Settings) or a status saying
there is none; sector: the bundled S&P 500 list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pandas as pd

from magnus_desktop.analytics.zones import ZoneParams
from magnus_desktop.models.domain import PositionSnapshot
from magnus_desktop.services.market.recorded import (
    CHAIN_INDEX_SYMBOL,
    MarketDataError,
    ReplayMarketData,
    UnknownSymbolError,
)
from magnus_desktop.services.research.earnings import EarningsInfo, EarningsSource
from magnus_desktop.services.research.report import ReportInputs
from magnus_desktop.services.research.sectors import SectorDataError, sector_of
from magnus_desktop.services.scanner.service import scan_params_from_settings
from magnus_desktop.services.settings import Settings

__all__ = ["OutsideData", "chain_history", "offline_inputs", "zone_params"]


class OutsideData(ValueError):
    """The report day is before the symbol's first recorded bar (the message names the range)."""


def zone_params(settings: Settings) -> ZoneParams:
    r = settings.research
    return ZoneParams(max_base=r.zone_max_base_candles, narrow_atr=r.zone_narrow_atr, k=r.zone_departure_atr)


def chain_history(market: ReplayMarketData, symbol: str, day: date) -> tuple[dict, str]:
    """Recorded chains of ``symbol`` per replay day ≤ ``day`` (SPX only), and a note when there are none."""
    if symbol != CHAIN_INDEX_SYMBOL:
        return {}, f"No recorded option chain for {symbol} (the offline data has SPXW options only)."
    days = [d for d in market.trading_days() if d <= day][-252:]
    if not days:
        first = market.trading_days()[0]
        return {}, f"The recorded SPXW chain starts on {first.isoformat()}, after {day.isoformat()}."
    return {d: market.chain(d) for d in days}, ""


def offline_inputs(symbol: str, day: date, market: ReplayMarketData, settings: Settings,
                   positions: Sequence[PositionSnapshot] = (), earnings: EarningsInfo | None = None) -> ReportInputs:
    """Everything the report needs for ``symbol`` on ``day`` from the bundled data.

    Raises:
        OutsideData: ``day`` is before the symbol's first recorded bar.
    """
    bars, error = None, ""
    lookback = settings.research.zone_lookback_days
    try:
        bars = market.bars(symbol, None, day)
        full = market.bars(symbol)
    except UnknownSymbolError:
        error = (f"No recorded bars for {symbol}: the offline data has "
                 f"{', '.join(sorted(market.known_symbols()))}; turn on Yahoo Finance for others.")
    except MarketDataError as exc:
        error = f"The recorded bars of {symbol} cannot be read: {exc}"
    else:
        if not len(bars):
            raise OutsideData(f"{day.isoformat()} is before {symbol}'s first recorded bar "
                              f"({full.index[0].date().isoformat()} .. {full.index[-1].date().isoformat()})")
    chains, note = chain_history(market, symbol, day)
    try:
        sector = sector_of(symbol)
        sector_note = ""
    except SectorDataError as exc:
        sector, sector_note = None, str(exc)
    if earnings is None:
        earnings = EarningsSource(settings.research.earnings_file or None).offline_answer(symbol)
    source = "" if bars is None else f"replay: {market.provenance(symbol).splitlines()[0]}"
    return ReportInputs(symbol=symbol, day=day, bars=bars, bars_source=source, bars_error=error, chains=chains,
                        chain_note=note, earnings=earnings, sector=sector, sector_note=sector_note,
                        positions=positions, zone_params=zone_params(settings), zone_lookback=lookback,
                        scan_params=scan_params_from_settings(settings), p_win=_offline_p_win(market))


def _offline_p_win(market: ReplayMarketData) -> Callable[[pd.DataFrame, pd.DataFrame, date],
                                                         tuple[pd.DataFrame, bool, str]]:
    """The wheel candidates' ``p_win`` headless: the trader's model file, else the bundled one (as the app)."""
    from magnus_desktop.services.predictor.scoring import CandidateScorer
    from magnus_desktop.services.predictor.service import (
        BUNDLED_MODEL,
        default_model_path,
        load_model_or_fallback,
    )
    from magnus_desktop.services.scanner.service import with_p_win

    path = default_model_path()
    if not path.exists():
        path = BUNDLED_MODEL
    model, reason = load_model_or_fallback(path)
    scorer = CandidateScorer(market, model, reason)
    return lambda rows, chain, day: with_p_win(scorer, path == BUNDLED_MODEL, rows, chain, day)
