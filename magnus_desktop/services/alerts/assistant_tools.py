"""Assistant tool: the alerts currently shown in the Alerts dock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from magnus_desktop.services.assistant.tools import Tool, ToolRegistry, ToolResult, closed_schema

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext


def register(reg: ToolRegistry, ctx: AppContext) -> None:
    async def alerts() -> ToolResult:
        shown = ctx.alerts.visible()
        rows = tuple((a.day, a.priority.name, a.monitor, a.subject.strip(), a.title) for a in shown[:30])
        facts = (f"{len(shown)} alert(s) open; highest priority {max(shown, key=lambda a: a.priority).priority.name}."
                 if shown else "No open alerts.")
        return ToolResult("Alerts", "table", facts, columns=("day", "priority", "monitor", "subject", "title"),
                          rows=rows, source="the alerts centre")

    reg.register(Tool("list_alerts", "The open alerts (expiration, assignment risk, delta, …).", closed_schema(),
                      alerts, ("alert", "alerts", "warning", "warnings"), "alerts", "alerts"))
