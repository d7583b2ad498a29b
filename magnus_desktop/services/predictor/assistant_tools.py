"""Assistant tool: the predictor's win probability (``p_win``) of selling one option contract on a
recorded day, beside Black-Scholes ``prob_otm`` — the number the scanner and the ticket show."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from magnus_desktop.analytics.pricing import iv_and_delta, prob_otm
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.assistant.numbers import fmt_pct, fmt_qty
from magnus_desktop.services.assistant.tools import NoDataError, Tool, ToolRegistry, ToolResult, closed_schema
from magnus_desktop.services.market.assistant_tools import (
    DATE_ARG,
    RIGHT_ARG,
    RIGHT_WORD,
    STRIKE_ARG,
    SYMBOL_ARG,
    chain_of,
    parse_day,
)

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    async def win_probability(symbol: str, expiry: str, strike: float, right: str, date: str | None = None) -> ToolResult:
        day, exp = parse_day(ctx, date), parse_day(ctx, expiry)
        chain_of(ctx, day, symbol)
        contract = OptionContract("SPXW", exp, float(strike), right)  # type: ignore[arg-type]
        q = await ctx.run_compute(ctx.market.option_quote, contract, day)
        label = f"SPX {fmt_qty(strike)} {RIGHT_WORD[right]} expiring {exp.isoformat()}"
        if not (q.bid > 0 and q.ask > 0):
            raise NoDataError(f"No data for the {label} on {day.isoformat()}: no two-sided recorded quote")
        dte = (exp - day).days
        p, note = await ctx.predictor.p_win_of("SPXW", day, right, float(strike), q.und_price, q.bid, q.ask, dte)
        iv, _delta = iv_and_delta(0.5 * (q.bid + q.ask), right, q.und_price, float(strike), dte, 0.0)  # as p_win_of
        bs = float(prob_otm(right, q.und_price, float(strike), dte / 365.0, 0.0, iv)) if iv > 0 else math.nan
        if p is None:
            raise NoDataError(f"No data for p_win of the {label} on {day.isoformat()}: {note}")
        facts = (f"Sold on {day.isoformat()}, the {label} has p_win {fmt_pct(p)} (the predictor's calibrated chance "
                 f"it expires out of the money) against Black-Scholes P(OTM) {fmt_pct(bs)}.")
        fields = (("contract", label, ""), ("date", day, ""), ("p_win", p, "decimal"), ("prob_otm", bs, "decimal"),
                  ("iv", iv, "decimal"), ("dte", dte, "days"), ("model", note, ""))
        return ToolResult(f"p_win of {label}", "card", facts, fields=fields,
                          source="the win-probability predictor (XGBoost on real price paths)")

    reg.register(Tool("win_probability", "The predictor's win probability (p_win) of selling one SPX option on a "
                      "date, beside Black-Scholes P(OTM).",
                      closed_schema({"symbol": SYMBOL_ARG, "expiry": DATE_ARG, "strike": STRIKE_ARG,
                                     "right": RIGHT_ARG, "date": DATE_ARG}, ("symbol", "expiry", "strike", "right")),
                      win_probability, ("p_win", "win probability", "chance", "probability of winning", "likely"),
                      "win probability", "predictor"))
