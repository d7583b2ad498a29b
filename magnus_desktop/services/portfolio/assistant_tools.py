"""Assistant tools over the active account: positions, P&L, portfolio Greeks, buying power.

The account is marked at the asked replay day with the same code as the Positions dock
(``PortfolioService.account_at``); a real broker account answers with the broker's last summary.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from magnus_desktop.models.domain import AccountSummary, OptionContract
from magnus_desktop.services.assistant.numbers import fmt_price, fmt_qty, fmt_usd
from magnus_desktop.services.assistant.tools import NoDataError, Tool, ToolRegistry, ToolResult, closed_schema
from magnus_desktop.services.market.assistant_tools import DATE_ARG, parse_day

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    """Register the account tools on ``reg``."""

    async def summary(date: str | None) -> AccountSummary:
        if ctx.portfolio.showing_broker and ctx.portfolio.last_summary is not None:
            return ctx.portfolio.last_summary
        day = parse_day(ctx, date)
        if day not in set(ctx.days):
            days = ctx.days
            raise NoDataError(f"No data for the account on {day.isoformat()}: the replay covers "
                              f"{days[0].isoformat()} to {days[-1].isoformat()} (trading days only)")
        return await ctx.portfolio.account_at(day)

    def source(s: AccountSummary) -> str:
        return f"account marked at the {s.as_of.isoformat()} close ({s.source})"

    async def positions(date: str | None = None) -> ToolResult:
        s = await summary(date)
        rows = tuple((p.contract.describe() if isinstance(p.contract, OptionContract) else p.contract.symbol,
                      p.qty, p.avg_cost, p.mark, p.unrealized_pnl, p.delta, p.dte) for p in s.positions)
        if not rows:
            facts = f"On {s.as_of.isoformat()} the account holds no positions; cash {fmt_usd(s.cash)}."
        else:
            listed = "; ".join(f"{r[0]} qty {fmt_qty(r[1])} mark {fmt_price(r[3])}" for r in rows)
            facts = f"On {s.as_of.isoformat()} the account holds {len(rows)} position(s): {listed}."
        return ToolResult(f"Positions on {s.as_of.isoformat()}", "table", facts,
                          columns=("position", "qty", "avg_cost", "mark", "unrealized_pnl", "delta", "dte"),
                          rows=rows, source=source(s))

    async def pnl(date: str | None = None) -> ToolResult:
        s = await summary(date)
        total = s.realized_pnl + s.unrealized_pnl if math.isfinite(s.realized_pnl) else s.unrealized_pnl
        facts = (f"On {s.as_of.isoformat()}: unrealized P&L {fmt_usd(s.unrealized_pnl)}, realized P&L "
                 f"{fmt_usd(s.realized_pnl)}, total {fmt_usd(total)}; net liquidation {fmt_usd(s.net_liquidation)}.")
        fields = (("date", s.as_of, ""), ("unrealized_pnl", s.unrealized_pnl, "USD"),
                  ("realized_pnl", s.realized_pnl, "USD"), ("total_pnl", total, "USD"),
                  ("net_liquidation", s.net_liquidation, "USD"))
        return ToolResult(f"P&L on {s.as_of.isoformat()}", "card", facts, fields=fields, source=source(s))

    async def greeks(date: str | None = None) -> ToolResult:
        s = await summary(date)
        gamma = sum(p.gamma for p in s.positions)
        vega = sum(p.vega for p in s.positions)
        facts = (f"On {s.as_of.isoformat()} the portfolio's net delta is {s.net_delta:,.2f} shares, theta "
                 f"{fmt_usd(s.theta_per_day)} per day, gamma {gamma:,.4f} per USD, vega {fmt_usd(vega)} per vol point.")
        fields = (("date", s.as_of, ""), ("net_delta", s.net_delta, "shares"), ("theta", s.theta_per_day, "USD/day"),
                  ("gamma", gamma, "shares per USD"), ("vega", vega, "USD per vol point"))
        return ToolResult(f"Portfolio Greeks on {s.as_of.isoformat()}", "card", facts, fields=fields, source=source(s))

    async def buying_power(date: str | None = None) -> ToolResult:
        s = await summary(date)
        facts = (f"On {s.as_of.isoformat()} buying power is {fmt_usd(s.buying_power)} (cash {fmt_usd(s.cash)} "
                 f"less collateral {fmt_usd(s.collateral_used)}).")
        fields = (("date", s.as_of, ""), ("buying_power", s.buying_power, "USD"), ("cash", s.cash, "USD"),
                  ("collateral_used", s.collateral_used, "USD"))
        return ToolResult(f"Buying power on {s.as_of.isoformat()}", "card", facts, fields=fields, source=source(s))

    schema = closed_schema({"date": DATE_ARG})
    reg.register(Tool("get_positions", "The account's open positions with marks and unrealized P&L.", schema,
                      positions, ("position", "positions", "hold", "holding", "holdings", "own", "book"),
                      "positions", "portfolio"))
    reg.register(Tool("get_pnl", "The account's realized, unrealized and total P&L.", schema, pnl,
                      ("p&l", "pnl", "profit", "loss", "made", "lost", "realized", "unrealized"), "pnl", "portfolio"))
    reg.register(Tool("get_greeks", "The portfolio's net delta, gamma, theta and vega.", schema, greeks,
                      ("delta", "gamma", "theta", "vega", "greeks"), "greeks", "portfolio"))
    reg.register(Tool("get_buying_power", "The account's buying power, cash and collateral used.", schema,
                      buying_power, ("buying power", "cash", "collateral", "afford"), "buying power", "portfolio"))
