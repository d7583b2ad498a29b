"""Assistant tool: Kalshi markets as the Kalshi dock has them (loaded online, else the cache of the
last online session), searched by words of the ticker or title, with our model's probability where a
model is plugged in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magnus_desktop.services.assistant.tools import NoDataError, Tool, ToolRegistry, ToolResult, closed_schema

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    async def kalshi_markets(query: str = "") -> ToolResult:
        svc = ctx.kalshi
        words = [w for w in query.lower().split() if w not in ("kalshi", "market", "markets", "prediction")]
        found = [m for m in svc.markets()
                 if all(w in f"{m.ticker} {svc.title(m)} {m.yes_sub_title}".lower() for w in words)]
        if not found:
            where = "loaded" if svc.online else "cached from the last online session (Kalshi needs the network)"
            raise NoDataError(f"No data for Kalshi markets matching {query!r}: none {where}")
        found.sort(key=lambda m: m.volume, reverse=True)
        rows = tuple((m.ticker, svc.title(m)[:60], m.yes_bid_cents, m.yes_ask_cents, m.volume,
                      svc.model_probability(m)) for m in found[:15])
        best = found[0]
        facts = (f"{len(found)} Kalshi market(s) match; the most traded is {best.ticker} "
                 f"(yes bid {best.yes_bid_cents} cents, yes ask {best.yes_ask_cents} cents, volume {best.volume:g}).")
        source = "Kalshi (live)" if svc.online else "Kalshi markets cached from the last online session"
        return ToolResult("Kalshi markets", "table", facts,
                          columns=("ticker", "title", "yes_bid_cents", "yes_ask_cents", "volume", "model_prob"),
                          rows=rows, source=source)

    reg.register(Tool("kalshi_markets", "Kalshi prediction markets (yes bid/ask in cents, volume, our model's "
                      "probability where one exists), searched by words of the ticker or title.",
                      closed_schema({"query": {"type": "string", "maxLength": 80}}),
                      kalshi_markets, ("kalshi", "prediction market", "prediction markets"), "kalshi", "kalshi"))
