"""Assistant tools over the replay market data: underlying prices, option quotes, chain lookups, scans.

Every figure comes from the recorded data (``ReplayMarketData``) or from our pricing of it
(``analytics.pricing``: IV of the mid, BSM delta); a date or symbol the recording does not hold
raises :class:`NoDataError` ("No data for …"), never a guess.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from magnus_desktop.analytics.pricing import iv_and_delta
from magnus_desktop.analytics.scanner import ScanParams
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.assistant.numbers import fmt_pct, fmt_price, fmt_qty
from magnus_desktop.services.assistant.tools import NoDataError, Tool, ToolRegistry, ToolResult, closed_schema
from magnus_desktop.services.market.recorded import normalize_symbol

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

SOURCE = "recorded end-of-day quotes (optopsy SPXW 2018, bundled)"
DATE_ARG = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD; default the replay day"}
SYMBOL_ARG = {"type": "string", "pattern": r"^[A-Z^][A-Z0-9.^]{0,9}$"}
RIGHT_ARG = {"enum": ["P", "C"]}
STRIKE_ARG = {"type": "number", "exclusiveMinimum": 0}
#: option roots the replay chain answers for (its rows are SPXW)
CHAIN_ROOTS = ("SPX", "SPXW")
RIGHT_WORD = {"P": "put", "C": "call"}


def parse_day(ctx: AppContext, text: str | None) -> date:
    """``text`` (YYYY-MM-DD) or the replay day."""
    if not text:
        return ctx.day
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise NoDataError(f"No data for {text!r}: not a date (YYYY-MM-DD)") from exc


def _recorded_range(ctx: AppContext) -> str:
    days = ctx.days or ctx.market.trading_days()
    return f"the recorded option data covers {days[0].isoformat()} to {days[-1].isoformat()}"


def chain_of(ctx: AppContext, day: date, symbol: str) -> pd.DataFrame:
    """The recorded chain of ``day`` for ``symbol`` (SPX/SPXW only).

    Raises:
        NoDataError: another symbol, or a day without recorded quotes.
    """
    sym = normalize_symbol(symbol)
    if sym not in CHAIN_ROOTS:
        raise NoDataError(f"No data for {symbol} options: the recording holds SPX (SPXW) options only")
    if day not in set(ctx.days or ctx.market.trading_days()):
        raise NoDataError(f"No data for SPX options on {day.isoformat()}: {_recorded_range(ctx)} (trading days only)")
    return ctx.market.chain(day)


def _iv_delta(ctx: AppContext, mid: float, right: str, und: float, strike: float, dte: int) -> tuple[float, float]:
    """BSM implied volatility of ``mid`` and the delta at it, at the Settings' rate and dividend
    yield (NaN when not solvable)."""
    return iv_and_delta(mid, right, und, strike, dte, ctx.settings.risk_free_rate, ctx.settings.dividend_yield)


def _register(reg: ToolRegistry, name: str, description: str, props: dict[str, Any], required: tuple[str, ...],
              fn: Any, cues: tuple[str, ...], intent: str) -> None:
    reg.register(Tool(name, description, closed_schema(props, required), fn, cues, intent, "market"))


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    """Register the market tools on ``reg``."""

    async def underlying_price(symbol: str, date: str | None = None) -> ToolResult:
        day = parse_day(ctx, date)
        sym = normalize_symbol(symbol)
        if sym not in ctx.market.known_symbols():
            known = ", ".join(sorted(ctx.market.known_symbols()))
            raise NoDataError(f"No data for {symbol}: recorded symbols are {known}")
        price = await ctx.run_compute(ctx.market.underlying_price, sym, day)
        if not math.isfinite(price):
            raise NoDataError(f"No data for {sym} on {day.isoformat()}: no recorded close that day")
        return ToolResult(f"{sym} on {day.isoformat()}", "card",
                          f"{sym} closed at {fmt_price(price)} on {day.isoformat()}.",
                          fields=(("symbol", sym, ""), ("date", day, ""), ("close", price, "USD" if sym != "SPX" else "index points")),
                          source="recorded daily closes (bundled)")

    async def option_quote(symbol: str, expiry: str, strike: float, right: str, date: str | None = None) -> ToolResult:
        day, exp = parse_day(ctx, date), parse_day(ctx, expiry)
        chain_of(ctx, day, symbol)
        contract = OptionContract("SPXW", exp, float(strike), right)  # type: ignore[arg-type]
        q = await ctx.run_compute(ctx.market.option_quote, contract, day)
        if not (math.isfinite(q.bid) or math.isfinite(q.ask)):
            raise NoDataError(f"No data for the SPX {fmt_qty(strike)} {RIGHT_WORD[right]} expiring "
                              f"{exp.isoformat()} on {day.isoformat()}: not in the recorded chain")
        mid = (q.bid + q.ask) / 2.0
        dte = (exp - day).days
        iv, delta = _iv_delta(ctx, mid, right, q.und_price, float(strike), dte)
        label = f"SPX {fmt_qty(strike)} {RIGHT_WORD[right]} expiring {exp.isoformat()}"
        facts = (f"On {day.isoformat()} the {label}: bid {fmt_price(q.bid)}, ask {fmt_price(q.ask)}, "
                 f"mid {fmt_price(mid)}; IV {fmt_pct(iv)} (BSM of the mid), delta {delta:.2f}; "
                 f"open interest {fmt_qty(q.open_interest)}; SPX {fmt_price(q.und_price)}.")
        fields = (("contract", label, ""), ("date", day, ""), ("bid", q.bid, "USD"), ("ask", q.ask, "USD"),
                  ("mid", mid, "USD"), ("last", q.last, "USD"), ("iv", iv, "decimal"), ("delta", delta, ""),
                  ("dte", dte, "days"), ("volume", q.volume, "contracts"),
                  ("open_interest", q.open_interest, "contracts"), ("underlying", q.und_price, "index points"))
        return ToolResult(label, "card", facts, fields=fields, source=SOURCE)

    async def largest_open_interest(right: str, symbol: str = "SPX", expiry: str | None = None,
                                    date: str | None = None) -> ToolResult:
        day = parse_day(ctx, date)
        exp = parse_day(ctx, expiry) if expiry else None
        return await ctx.run_compute(_largest_oi, ctx, day, symbol, right, exp)

    async def scan_options(right: str, dte_min: int | None = None, dte_max: int | None = None,
                           delta_min: float | None = None, delta_max: float | None = None,
                           top: int = 5, date: str | None = None) -> ToolResult:
        day = parse_day(ctx, date)
        chain_of(ctx, day, "SPX")
        base: ScanParams = ctx.scanner.scan_params
        changes: dict[str, Any] = {"right": right, "top": top}
        for key, value in (("dte_min", dte_min), ("dte_max", dte_max), ("delta_min", delta_min),
                           ("delta_max", delta_max)):
            if value is not None:
                changes[key] = value
        try:
            params = replace(base, **changes)
        except ValueError as exc:
            raise NoDataError(f"No data for that scan: {exc}") from exc
        outcome = await ctx.run_compute(ctx.scanner.scan_day, day, params)
        word = RIGHT_WORD[right]
        if not outcome.records:
            why = outcome.no_later_expiry or "; ".join(outcome.hints) or "no contract passes the filters"
            return ToolResult(f"Scan of SPX {word}s on {day.isoformat()}", "message",
                              f"No SPX {word} passes the filters on {day.isoformat()}: {why}.", source=SOURCE)
        recs = outcome.records[:top]
        rows = tuple((r["expiry"], float(r["strike"]), int(r["dte"]), float(r["bid"]), float(r["iv"]),
                      float(r["delta"]), float(r["annualized_return"])) for r in recs)
        best = recs[0]
        facts = (f"Best {word} on {day.isoformat()} (|delta| {params.delta_min:.2f}-{params.delta_max:.2f}, "
                 f"DTE {params.dte_min}-{params.dte_max}): the {fmt_qty(best['strike'])} expiring "
                 f"{best['expiry'].isoformat()}, bid {fmt_price(best['bid'])}, delta {best['delta']:.2f}, "
                 f"annualized return {fmt_pct(best['annualized_return'])}; {len(outcome.records)} contracts pass.")
        return ToolResult(f"Scan of SPX {word}s on {day.isoformat()}", "table", facts,
                          columns=("expiry", "strike", "dte", "bid", "iv", "delta", "annualized_return"),
                          rows=rows, source=SOURCE)

    _register(reg, "get_underlying_price", "Closing price of a symbol (SPX, SPY, VIX, AAPL, GOOG) on a date.",
              {"symbol": SYMBOL_ARG, "date": DATE_ARG}, ("symbol",), underlying_price,
              ("price", "close", "closed", "level", "trade", "was", "quote"), "underlying price")
    _register(reg, "get_option_quote", "Bid, ask, mid, IV, delta and open interest of one option contract on a date.",
              {"symbol": SYMBOL_ARG, "expiry": DATE_ARG, "strike": STRIKE_ARG, "right": RIGHT_ARG, "date": DATE_ARG},
              ("symbol", "expiry", "strike", "right"), option_quote,
              ("bid", "ask", "iv", "implied", "quote", "price", "mid", "delta", "worth"), "option quote")
    _register(reg, "largest_open_interest", "The option with the largest open interest on a date (by right, expiry).",
              {"right": RIGHT_ARG, "symbol": SYMBOL_ARG, "expiry": DATE_ARG, "date": DATE_ARG}, ("right",),
              largest_open_interest, ("open interest", "oi"), "largest open interest")
    _register(reg, "scan_options", "Scan the chain for cash-secured puts or covered calls with DTE and delta filters.",
              {"right": RIGHT_ARG, "dte_min": {"type": "integer", "minimum": 0, "maximum": 3650},
               "dte_max": {"type": "integer", "minimum": 0, "maximum": 3650},
               "delta_min": {"type": "number", "minimum": 0, "maximum": 1},
               "delta_max": {"type": "number", "minimum": 0, "maximum": 1},
               "top": {"type": "integer", "minimum": 1, "maximum": 20}, "date": DATE_ARG}, ("right",),
              scan_options, ("scan", "find", "screen", "best", "candidates", "sell"), "scan")


def _largest_oi(ctx: AppContext, day: date, symbol: str, right: str, exp: date | None) -> ToolResult:
    """The largest-open-interest table (blocking: pandas on the compute executor)."""
    chain = chain_of(ctx, day, symbol)
    part = chain[chain["right"] == right]
    if exp is not None:
        part = part[part["expiry"].dt.date == exp]
        if part.empty:
            raise NoDataError(f"No data for SPX {RIGHT_WORD[right]}s expiring {exp.isoformat()} on "
                              f"{day.isoformat()}: recorded expiries {_expiries(chain)}")
    part = part[np.isfinite(part["open_interest"].to_numpy(float))]
    if part.empty:
        raise NoDataError(f"No data for open interest on {day.isoformat()}")
    top = part.sort_values(["open_interest", "strike"], ascending=[False, True]).head(5)
    best = top.iloc[0]
    exp_best = pd.Timestamp(best["expiry"]).date()
    facts = (f"On {day.isoformat()} the SPX {RIGHT_WORD[right]} with the largest open interest"
             f"{' expiring ' + exp_best.isoformat() if exp is not None else ''} was the {fmt_qty(best['strike'])} strike "
             f"(expiry {exp_best.isoformat()}): {fmt_qty(best['open_interest'])} contracts.")
    rows = tuple((pd.Timestamp(r.expiry).date(), float(r.strike), r.right, float(r.open_interest),
                  float(r.bid), float(r.ask)) for r in top.itertuples())
    return ToolResult(f"Largest open interest, SPX {RIGHT_WORD[right]}s, {day.isoformat()}", "table", facts,
                      columns=("expiry", "strike", "right", "open_interest", "bid", "ask"), rows=rows, source=SOURCE)


def _expiries(chain: pd.DataFrame) -> str:
    return ", ".join(sorted({pd.Timestamp(e).date().isoformat() for e in chain["expiry"]}))


def expiries_of(ctx: AppContext, day: date) -> list[date]:
    """Recorded expiries quoted on ``day`` (sorted; empty on a day without quotes)."""
    if day not in set(ctx.days or ctx.market.trading_days()):
        return []
    return sorted({pd.Timestamp(e).date() for e in ctx.market.chain(day)["expiry"]})
