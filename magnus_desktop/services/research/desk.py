"""``DeskService``: the earnings, sectors, options-flow and calendar-spread figures of the research
desk (no Qt). Each method reads through the app's market-data chain (broker session → yfinance when
on → the replay) and computes on its own executor (``"research_desk"``), so the GUI loop never
runs the maths; each returns a report that says what is missing instead of showing an old number.

Every report carries ``day`` (the day asked for) and, where market data went in, its source and
``as_of`` (``models.market.describe_source``): a chain from another day than the day shown is never
used as the day's.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from magnus_desktop.analytics.calendars import CalendarError, rank_calendars
from magnus_desktop.analytics.earnings import (
    StraddleMove,
    earnings_reactions,
    earnings_risk,
    reaction_summary,
    straddle_move,
)
from magnus_desktop.analytics.options_flow import FlowError, FlowThresholds, flow_context, options_flow
from magnus_desktop.analytics.sectors import (
    SECTOR_ETFS,
    UNCLASSIFIED,
    SectorExposure,
    concentration_warnings,
    relative_strength,
    sector_allocation,
)
from magnus_desktop.models.domain import AccountSummary, OptionContract
from magnus_desktop.models.market import close_of, describe_source
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.research.earnings import EarningsInfo
from magnus_desktop.services.research.sectors import SectorDataError, sector_of
from magnus_desktop.services.research.symbol import canonical_symbol

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

__all__ = ["EXECUTOR", "CalendarReport", "DeskService", "EarningsReport", "FlowReport", "SectorReport",
           "chain_symbol"]

log = logging.getLogger(__name__)

#: the executor the desk's figures are computed on (one thread of its own)
EXECUTOR = "research_desk"
#: index symbols whose options the chains list under another root
_CHAIN_ROOT = {"SPX": "SPXW"}
#: underlying roots that settle on an index: no GICS sector, no earnings
_INDEX_ROOTS = {"SPX", "SPXW", "XSP", "VIX", "NDX", "RUT"}


def chain_symbol(symbol: str) -> str:
    """The symbol the chain sources know ``symbol``'s options by (``SPX`` → ``SPXW``)."""
    return _CHAIN_ROOT.get(symbol, symbol)


def _underlying_of(contract: Any) -> str:
    """The research symbol of a position's contract (an option's underlying, a stock's symbol)."""
    raw = contract.underlying if isinstance(contract, OptionContract) else contract.symbol
    try:
        return canonical_symbol(raw)
    except ValueError:
        return raw


@dataclass(frozen=True, slots=True)
class FlowReport:
    """Unusual activity of ``symbol``'s chain on ``day``.

    ``rows``: ``analytics.options_flow.FLOW_COLUMNS`` ranked (empty when nothing passes);
    ``context``: one row of ``flow_context`` (empty without a chain); ``history``: the earlier quote
    days compared against; ``source``: where the chain came from and when; ``missing``: sentences
    saying what could not be computed (no chain, no earlier day...).
    """

    symbol: str
    day: date
    rows: pd.DataFrame
    context: pd.DataFrame
    history: tuple[date, ...] = ()
    source: str = ""
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CalendarReport:
    """Ranked calendars of ``symbol`` on ``day`` (``analytics.calendars.CALENDAR_COLUMNS``)."""

    symbol: str
    day: date
    rows: pd.DataFrame
    source: str = ""
    expiries: tuple[date, ...] = ()
    missing: tuple[str, ...] = ()
    rate: float = 0.0
    div_yield: float = 0.0


@dataclass(frozen=True, slots=True)
class EarningsReport:
    """Earnings calendar of the watchlist and position symbols, the risk per option position, and
    the historical reaction of ``symbol``.

    ``calendar`` columns: ``symbol``, ``in`` (watchlist/position), ``next_report``, ``days_to_report``,
    ``source``, ``status`` (the source's sentence when no date), ``expected_move`` (USD),
    ``expected_move_pct`` (decimal), ``straddle_expiry``, ``straddle_strike``, ``und_price``;
    ``risk``: ``analytics.earnings.earnings_risk`` plus ``note`` (why a position's risk is unknown;
    index options are ``known`` with no report); ``reactions``: ``earnings_reactions`` of
    ``symbol``; ``summary``: ``reaction_summary`` (empty without reactions).
    """

    symbol: str
    day: date
    calendar: pd.DataFrame
    risk: pd.DataFrame
    reactions: pd.DataFrame
    summary: dict[str, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SectorReport:
    """Allocation of the account by sector, warnings, and relative strength vs SPY on ``day``.

    ``strength`` rows: the sector ETFs (``sector`` set), the research ``symbol`` and SPY itself, with
    ``analytics.sectors.relative_strength`` columns; ``missing``: the series with no bars and why.
    """

    symbol: str
    symbol_sector: str | None
    day: date
    allocation: pd.DataFrame
    warnings: tuple[str, ...]
    strength: pd.DataFrame
    threshold: float
    missing: tuple[str, ...] = ()
    account_as_of: date | None = None


class DeskService:
    """The research desk's figures on demand. ``await start()`` / ``aclose()``."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        if EXECUTOR not in ctx.executors:
            ctx.executors.add(EXECUTOR)

    async def start(self) -> None:
        """Nothing to open: chains and bars are read on demand."""

    async def aclose(self) -> None:
        """Nothing runs in the background."""

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await self._ctx.executors.run(EXECUTOR, fn, *args)

    async def _chain(self, symbol: str, day: date) -> tuple[pd.DataFrame | None, str]:
        """(chain of ``day`` or None, the source line or the reason there is none)."""
        root = chain_symbol(symbol)
        try:
            chain = await self._ctx.quotes.chain().chain(root, day)
        except MarketDataError as exc:
            return None, f"No option chain of {symbol} on {day.isoformat()}: {exc}"
        if chain.empty:
            return None, f"The option chain of {symbol} on {day.isoformat()} is empty."
        quoted = pd.Timestamp(chain["quote_date"].iloc[0]).date()
        src = describe_source(str(chain.attrs.get("source", "")), close_of(quoted), today=day)
        if quoted != day:
            return None, f"The only option chain of {symbol} is from {quoted.isoformat()} ({src}), not {day.isoformat()}."
        return chain, src

    # ---- options flow ---------------------------------------------------------------------------
    async def flow(self, symbol: str, day: date) -> FlowReport:
        """Unusual activity of ``symbol`` on ``day`` against its chains of the previous quote days."""
        s = self._ctx.settings.research_flow
        th = FlowThresholds(s.flow_vol_oi_min, s.flow_jump_min, s.flow_premium_min, s.flow_oi_change_min,
                            s.flow_min_volume, s.flow_lookback_days)
        chain, src = await self._chain(symbol, day)
        empty = pd.DataFrame()
        if chain is None:
            return FlowReport(symbol, day, empty, empty, missing=(src,))
        previous = await self._previous_chains(symbol, day, str(chain.attrs.get("source", "")), th.lookback)
        missing = []
        if not previous:
            missing.append(f"No earlier {symbol} chain from the same source: open-interest change and the volume "
                           "average need at least one earlier quote day.")
        try:
            rows, ctx_rows = await self._run(_flow_sync, chain, previous, th)
        except FlowError as exc:
            return FlowReport(symbol, day, empty, empty, missing=(f"Options flow of {symbol}: {exc}",))
        days = tuple(sorted(pd.Timestamp(p["quote_date"].iloc[0]).date() for p in previous))
        return FlowReport(symbol, day, rows, ctx_rows, days, src, tuple(missing))

    async def _previous_chains(self, symbol: str, day: date, source: str, n: int) -> list[pd.DataFrame]:
        days = [d for d in self._ctx.days if d < day][-n:]
        root = chain_symbol(symbol)
        market = self._ctx.quotes.chain()
        results = await asyncio.gather(*(market.chain(root, d) for d in days), return_exceptions=True)
        return [r for r in results if isinstance(r, pd.DataFrame) and not r.empty
                and str(r.attrs.get("source", "")) == source]

    # ---- calendar spreads -----------------------------------------------------------------------
    async def calendars(self, symbol: str, day: date, right: str = "both", sort_by: str = "iv_diff") -> CalendarReport:
        """Same-strike calendars of ``symbol`` on ``day``, ranked (see ``analytics.calendars``)."""
        st = self._ctx.settings
        s = st.research_flow
        rate, div = st.risk_free_rate, st.dividend_yield
        chain, src = await self._chain(symbol, day)
        empty = pd.DataFrame()
        if chain is None:
            return CalendarReport(symbol, day, empty, missing=(src,), rate=rate, div_yield=div)
        expiries = tuple(sorted(pd.to_datetime(chain["expiry"]).dt.date.unique()))
        if len(expiries) < 2:
            only = expiries[0].isoformat() if expiries else "none"
            return CalendarReport(symbol, day, empty, src, expiries, (
                f"The {symbol} chain of {day.isoformat()} lists one expiry ({only}): a calendar needs two.",),
                rate, div)
        try:
            rows = await self._run(lambda: rank_calendars(
                chain, rate, div, right=right, min_near_dte=s.calendar_min_near_dte, max_far_dte=s.calendar_max_far_dte,
                max_moneyness=s.calendar_max_moneyness, sort_by=sort_by))
        except CalendarError as exc:
            return CalendarReport(symbol, day, empty, src, expiries, (f"Calendars of {symbol}: {exc}",), rate, div)
        missing = () if len(rows) else (f"No {symbol} calendar passes the filters (two-sided quotes in both legs, "
                                         "a debit at the mids, strikes near the money).",)
        return CalendarReport(symbol, day, rows, src, expiries, missing, rate, div)

    # ---- earnings -------------------------------------------------------------------------------
    def _tracked_symbols(self, summary: AccountSummary | None) -> list[tuple[str, str]]:
        """(symbol, where) of the watchlists and the option positions, each once, index roots left out."""
        seen: dict[str, set[str]] = {}
        for wl in self._ctx.watchlists.watchlists:
            for item in wl.items:
                try:
                    seen.setdefault(canonical_symbol(item.symbol), set()).add("watchlist")
                except ValueError:
                    continue
        for p in summary.positions if summary is not None else ():
            seen.setdefault(_underlying_of(p.contract), set()).add("position")
        return [(s, "/".join(sorted(w))) for s, w in sorted(seen.items()) if s not in _INDEX_ROOTS]

    async def earnings(self, symbol: str, day: date, summary: AccountSummary | None) -> EarningsReport:
        """The earnings calendar, risk per option position and ``symbol``'s past reactions on ``day``."""
        tracked = self._tracked_symbols(summary)
        names = sorted({s for s, _ in tracked} | ({symbol} if symbol not in _INDEX_ROOTS else set()))
        infos: dict[str, EarningsInfo] = {}
        for name in names:  # one at a time: Yahoo is rate-limited, the file is read once
            infos[name] = await self._ctx.research.earnings(name)
        rows = []
        for name, where in tracked:
            rows.append(await self._calendar_row(name, where, infos[name], day))
        calendar = pd.DataFrame(rows, columns=["symbol", "in", "next_report", "days_to_report", "source", "status",
                                               "expected_move", "expected_move_pct", "straddle_expiry",
                                               "straddle_strike", "und_price"])
        positions = [(_underlying_of(p.contract), p.contract.expiry, p.contract.describe())
                     for p in (summary.positions if summary is not None else ()) if isinstance(p.contract, OptionContract)]
        reports = {k: [d for d in v.dates] for k, v in infos.items() if v.status == "ok"}
        risk = await self._run(earnings_risk, positions, reports, day)
        risk["note"] = [
            "index: no earnings" if sym in _INDEX_ROOTS else
            ("" if known else (infos[sym].message if sym in infos else "no earnings dates"))
            for sym, known in zip(risk["symbol"], risk["known"], strict=True)]
        risk.loc[risk["symbol"].isin(_INDEX_ROOTS), "known"] = True
        missing: list[str] = sorted({i.message for i in infos.values() if i.status in ("no_source", "error", "offline")})
        reactions, summary_figs = pd.DataFrame(), {}
        if symbol in _INDEX_ROOTS:
            missing.append(f"{symbol} is an index: it has no earnings reports.")
        elif infos[symbol].status != "ok":
            missing.append(f"Past reactions of {symbol}: {_status_text(infos[symbol])}.")
        else:
            past = [d for d in infos[symbol].dates if d <= day]
            try:
                bars = await self._ctx.research.daily_bars(symbol, day)
            except MarketDataError as exc:
                missing.append(f"Past reactions of {symbol}: no daily bars ({exc}).")
            else:
                reactions = await self._run(earnings_reactions, bars, past)
                summary_figs = await self._run(reaction_summary, reactions, bars)
                if reactions.empty:
                    missing.append(f"None of {symbol}'s {len(past)} past report dates falls inside its bars "
                                   f"({bars.index[0].date()} .. {bars.index[-1].date()}).")
        return EarningsReport(symbol, day, calendar, risk, reactions, summary_figs, tuple(missing))

    async def _calendar_row(self, name: str, where: str, info: EarningsInfo, day: date) -> dict[str, object]:
        nxt = info.next_on_or_after(day) if info.status == "ok" else None
        if nxt == day:  # reported today: it is past for anything opened now; the next one counts
            later = [d for d in info.dates if d > day]
            nxt = later[0] if later else None
        row: dict[str, object] = {"symbol": name, "in": where, "next_report": nxt,
                                  "days_to_report": (nxt - day).days if nxt else math.nan,
                                  "source": info.source, "status": _status_text(info),
                                  "expected_move": math.nan, "expected_move_pct": math.nan, "straddle_expiry": None,
                                  "straddle_strike": math.nan, "und_price": math.nan}
        if info.status == "ok" and nxt is None:
            row["status"] = f"no report listed after {day.isoformat()}"
        chain, why = await self._chain(name, day)
        if chain is None:
            row["status"] = "; ".join(t for t in (row["status"], "no option chain") if t)
            return row
        move: StraddleMove | None = await self._run(straddle_move, chain, nxt)
        if move is None:
            row["status"] = "; ".join(t for t in (row["status"], "no two-sided ATM straddle after the report") if t)
            return row
        row.update(expected_move=move.straddle, expected_move_pct=move.move_pct, straddle_expiry=move.expiry,
                   straddle_strike=move.strike, und_price=move.und_price)
        return row

    # ---- sectors --------------------------------------------------------------------------------
    async def sectors(self, symbol: str, day: date, summary: AccountSummary | None) -> SectorReport:
        """Sector allocation of ``summary``, concentration warnings, relative strength vs SPY."""
        threshold = self._ctx.settings.research_flow.sector_concentration_pct
        missing: list[str] = []
        try:
            exposures = await self._run(_exposures, summary)
            symbol_sector = await self._run(sector_of, symbol)
        except SectorDataError as exc:
            exposures, symbol_sector = [], None
            missing.append(str(exc))
        allocation = await self._run(sector_allocation, exposures)
        warnings = tuple(concentration_warnings(allocation, threshold)) if len(allocation) else ()
        if summary is None or not summary.positions:
            missing.append("The account holds no position: no allocation to show.")
        series = {"SPY": "SPY", symbol: symbol, **{etf: etf for etf in SECTOR_ETFS.values()}}
        closes: dict[str, pd.Series] = {}
        no_etf: list[str] = []
        for name in series:
            try:
                bars = await self._ctx.research.daily_bars(name, day)
            except MarketDataError as exc:
                if name in SECTOR_ETFS.values() and name != symbol:
                    no_etf.append(name)
                else:
                    missing.append(f"{name}: no daily bars ({_short(exc)}).")
                continue
            closes[name] = bars["close"]
        if no_etf:
            missing.append(f"No daily bars for the sector ETFs {', '.join(no_etf)}: no market-data source has them "
                           "(offline only the recorded series exist; connect a broker or turn on Yahoo Finance).")
        if "SPY" not in closes:
            return SectorReport(symbol, symbol_sector, day, allocation, warnings, pd.DataFrame(), threshold,
                                tuple(missing), summary.as_of if summary else None)
        strength = await self._run(relative_strength, closes, closes["SPY"], day)
        by_etf = {etf: sector for sector, etf in SECTOR_ETFS.items()}
        strength.insert(1, "sector", strength["symbol"].map(lambda s: by_etf.get(s, symbol_sector if s == symbol else "")))
        return SectorReport(symbol, symbol_sector, day, allocation, warnings, strength, threshold, tuple(missing),
                            summary.as_of if summary else None)


def _status_text(info: EarningsInfo) -> str:
    """A short cell text for a symbol without dates (the full sentence goes to the dock's notes once)."""
    return {"ok": "", "no_source": "no earnings source", "offline": "earnings source offline",
            "error": "earnings file unusable"}.get(info.status, info.message)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 90 else text[:87] + "…"


def _flow_sync(chain: pd.DataFrame, previous: Sequence[pd.DataFrame],
               th: FlowThresholds) -> tuple[pd.DataFrame, pd.DataFrame]:
    full = options_flow(chain, previous, th, flagged_only=False)
    return full[full["reasons"] != ""].reset_index(drop=True), flow_context(chain, previous, th, full=full)


def _exposures(summary: AccountSummary | None) -> list[SectorExposure]:
    """One exposure per position: its GICS sector (index options and ETFs are ``Unclassified``),
    market value and delta-dollars (delta shares × underlying price, USD)."""
    out = []
    for p in summary.positions if summary is not None else ():
        sym = _underlying_of(p.contract)
        sector = None if sym in _INDEX_ROOTS else sector_of(sym)
        und = p.und_price if math.isfinite(p.und_price) else (p.mark if not isinstance(p.contract, OptionContract)
                                                              else math.nan)
        out.append(SectorExposure(sym, sector or UNCLASSIFIED, p.market_value, p.delta * und))
    return out
