"""Assistant tools over orders: the recent orders, the audit log, and a prefilled ticket.

``open_order_ticket`` only *describes* a ticket (:class:`TicketRequest`): the dock opens the order
ticket dialog prefilled with it, and the trader confirms or not. No tool here places, changes or
cancels an order, so nothing the assistant reads or is told can send one.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.services.assistant.numbers import fmt_price, fmt_qty
from magnus_desktop.services.assistant.tools import (
    NoDataError,
    TicketRequest,
    Tool,
    ToolRegistry,
    ToolResult,
    closed_schema,
)
from magnus_desktop.services.market.assistant_tools import (
    DATE_ARG,
    RIGHT_ARG,
    RIGHT_WORD,
    STRIKE_ARG,
    SYMBOL_ARG,
    _iv_delta,
    chain_of,
    expiries_of,
    parse_day,
)

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def pick_expiry(expiries: list[date], day: date, months_ahead: int) -> tuple[date, str]:
    """The recorded expiry in the calendar month ``months_ahead`` after ``day``'s, else the last later one.

    Returns ``(expiry, note)``. Raises NoDataError when no expiry is after ``day``.
    """
    later = [e for e in expiries if e > day]
    if not later:
        raise NoDataError(f"No data for an expiry after {day.isoformat()} in the recording")
    month = (day.year * 12 + day.month - 1) + months_ahead
    wanted = [e for e in later if e.year * 12 + e.month - 1 == month]
    if wanted:
        return wanted[0], f"expiry {wanted[0].isoformat()}"
    return later[-1], f"no expiry recorded in the month asked; the latest recorded, {later[-1].isoformat()}"


def _ticket(ctx: AppContext, right: str, action: str, qty: int, symbol: str, delta: float | None,
            strike: float | None, expiry: date | None, months_ahead: int) -> ToolResult:
    """Choose the contract of a ticket request (blocking: IVs of the chain on the compute executor)."""
    day = ctx.day
    chain = chain_of(ctx, day, symbol)
    if expiry is not None:
        exp, note = expiry, ""
    else:
        exp, note = pick_expiry(expiries_of(ctx, day), day, months_ahead)
    part = chain[(chain["right"] == right) & (chain["expiry"].dt.date == exp)]
    if part.empty:
        raise NoDataError(f"No data for SPX {RIGHT_WORD[right]}s expiring {exp.isoformat()} on {day.isoformat()}")
    if strike is not None:
        row = part[part["strike"] == float(strike)]
        if row.empty:
            raise NoDataError(f"No data for the SPX {fmt_qty(strike)} {RIGHT_WORD[right]} expiring {exp.isoformat()}")
        chosen, how = row.iloc[0], f"strike {fmt_qty(strike)}"
    else:
        target = 0.30 if delta is None else float(delta)
        deltas = [abs(_iv_delta(ctx, (r.bid + r.ask) / 2.0, right, r.und_price, float(r.strike),
                                (exp - day).days)[1]) for r in part.itertuples()]
        scored = [(abs(d - target), i) for i, d in enumerate(deltas) if math.isfinite(d)]
        if not scored:
            raise NoDataError(f"No data to price the deltas of SPX {RIGHT_WORD[right]}s expiring {exp.isoformat()}")
        i = min(scored)[1]
        chosen, how = part.iloc[i], f"|delta| {deltas[i]:.2f}, nearest to {target:.2f}"
    req = TicketRequest("SPXW", pd.Timestamp(chosen["expiry"]).date(), float(chosen["strike"]), right,  # type: ignore[arg-type]
                        action, qty, f"{how}; {note}".strip("; "))  # type: ignore[arg-type]
    facts = (f"Ticket prepared, not sent: {action} {qty} SPXW {fmt_qty(req.strike)} {RIGHT_WORD[right]} expiring "
             f"{req.expiry.isoformat()} ({req.note}); recorded bid {fmt_price(float(chosen['bid']))}, ask "
             f"{fmt_price(float(chosen['ask']))}. Review and confirm it in the order ticket.")
    fields = (("action", action, ""), ("qty", qty, "contracts"), ("contract", f"SPXW {req.expiry} {req.strike:g} {right}", ""),
              ("bid", float(chosen["bid"]), "USD"), ("ask", float(chosen["ask"]), "USD"))
    return ToolResult("Order ticket (not sent)", "action", facts, fields=fields, ticket=req,
                      source="recorded end-of-day quotes; the ticket is filled only if you confirm it")



def register(reg: ToolRegistry, ctx: AppContext) -> None:
    """Register the order tools on ``reg``."""

    async def orders() -> ToolResult:
        lines = ctx.audit.order_lines()
        rows = tuple((o.placed_at.strftime("%Y-%m-%d %H:%M"), o.description, o.action, o.qty, o.state,
                      o.filled_qty, o.avg_fill_price) for o in lines[-20:])
        working = sum(1 for o in lines if o.working)
        facts = (f"{len(lines)} recent order(s), {working} working." if lines
                 else "There are no orders this session.")
        return ToolResult("Orders", "table", facts,
                          columns=("placed (UTC)", "order", "action", "qty", "state", "filled", "avg_fill"),
                          rows=rows, source="the orders dock (this session)")

    async def audit(limit: int = 10) -> ToolResult:
        entries, total = await ctx.audit.query(AuditFilter(), limit, 0)
        rows = tuple((e.at.strftime("%Y-%m-%d %H:%M"), e.account, e.action, e.order_ref, e.result) for e in entries)
        facts = f"The audit log holds {total} row(s); the latest {len(rows)} are shown." if total \
            else "The audit log is empty."
        return ToolResult("Audit log", "table", facts, columns=("at (UTC)", "account", "action", "order_ref", "result"),
                          rows=rows, source="the append-only audit log")

    async def ticket(right: str, action: str = "SELL", qty: int = 1, symbol: str = "SPX", delta: float | None = None,
                     strike: float | None = None, expiry: str | None = None, months_ahead: int = 0) -> ToolResult:
        exp_day = parse_day(ctx, expiry) if expiry else None
        return await ctx.run_compute(_ticket, ctx, right, action, qty, symbol, delta, strike, exp_day, months_ahead)

    reg.register(Tool("list_orders", "Recent and working orders of this session.", closed_schema(), orders,
                      ("order", "orders", "working", "filled"), "orders", "orders"))
    reg.register(Tool("audit_log", "The latest rows of the order audit log.",
                      closed_schema({"limit": {"type": "integer", "minimum": 1, "maximum": 100}}), audit,
                      ("audit",), "audit", "orders"))
    reg.register(Tool("open_order_ticket", "Open a prefilled order ticket for the user to review (never sends it).",
                      closed_schema({"right": RIGHT_ARG, "action": {"enum": ["SELL", "BUY"]},
                                     "qty": {"type": "integer", "minimum": 1, "maximum": 1000},
                                     "symbol": SYMBOL_ARG, "delta": {"type": "number", "minimum": 0, "maximum": 1},
                                     "strike": STRIKE_ARG, "expiry": DATE_ARG,
                                     "months_ahead": {"type": "integer", "minimum": 0, "maximum": 12}}, ("right",)),
                      ticket, ("sell", "buy", "ticket", "write", "open"), "action", "orders"))
