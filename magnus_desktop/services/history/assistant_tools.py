"""Assistant tool: closed trades and realized P&L from the imported broker statements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magnus_desktop.services.assistant.numbers import fmt_usd
from magnus_desktop.services.assistant.tools import Tool, ToolRegistry, ToolResult, closed_schema

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    async def trade_history(limit: int = 10) -> ToolResult:
        snap = await ctx.history.refresh()
        rows = tuple((m.closed_at.date(), m.symbol, m.qty, m.open_price, m.close_price, m.realized, m.currency)
                     for m in snap.matches[:limit])
        if not snap.matches:
            facts = "No closed trades: import a broker statement (File → Import broker statement…) to see them."
        else:
            facts = (f"{len(snap.matches)} closed trade(s), {len(snap.cycles)} wheel cycle(s); realized P&L "
                     f"{fmt_usd(snap.realized_base)} in base currency.")
        return ToolResult("Trade history", "table", facts,
                          columns=("closed", "symbol", "qty", "open_price", "close_price", "realized", "currency"),
                          rows=rows, source="imported broker statements (FIFO lots)")

    reg.register(Tool("trade_history", "Closed trades (FIFO) and realized P&L from imported statements.",
                      closed_schema({"limit": {"type": "integer", "minimum": 1, "maximum": 100}}), trade_history,
                      ("history", "closed", "trades", "wheel cycle", "cycles"), "trade history", "history"))
