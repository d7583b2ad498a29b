"""Assistant tool: the watchlists' quotes on the replay day (the same quotes the Watchlists dock shows)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from magnus_desktop.services.assistant.numbers import fmt_pct, fmt_price
from magnus_desktop.services.assistant.tools import NoDataError, Tool, ToolRegistry, ToolResult, closed_schema
from magnus_desktop.services.market.assistant_tools import DATE_ARG, parse_day

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    async def watchlist_quotes(name: str | None = None, date: str | None = None) -> ToolResult:
        day = parse_day(ctx, date)
        lists = [w for w in ctx.watchlists.watchlists if name is None or w.name.casefold() == name.casefold()]
        if not lists:
            raise NoDataError(f"No data for a watchlist named {name!r}")
        symbols = sorted({i.symbol for w in lists for i in w.items})
        quotes = await ctx.run_compute(lambda: {s: ctx.market.quote(s, day) for s in symbols})
        rows = []
        for s in symbols:
            q = quotes[s]
            if q is None:
                rows.append((s, math.nan, math.nan, "no recorded data"))
            else:
                rows.append((s, q.last, q.change_pct, f"as of {q.as_of.isoformat()}" if q.stale else ""))
        shown = "; ".join(f"{r[0]} {fmt_price(r[1])} ({fmt_pct(r[2], 2)})" for r in rows if math.isfinite(r[1]))
        facts = f"Watchlist quotes on {day.isoformat()}: {shown or 'none recorded'}."
        return ToolResult(f"Watchlist quotes on {day.isoformat()}", "table", facts,
                          columns=("symbol", "last", "change_pct", "note"), rows=tuple(rows),
                          source="recorded daily closes (bundled)")

    reg.register(Tool("watchlist_quotes", "Last price and change of the symbols on the watchlists.",
                      closed_schema({"name": {"type": "string", "maxLength": 80}, "date": DATE_ARG}),
                      watchlist_quotes, ("watchlist", "watchlists", "watch list"), "watchlist", "watchlists"))
