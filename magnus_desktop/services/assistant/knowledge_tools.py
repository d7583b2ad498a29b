"""Assistant tool "explain": cited passages from the knowledge base and the trader's notes.

The index (``retrieval.KnowledgeIndex``: chromadb + BM25, fused) belongs to ``AppContext.knowledge``,
which opens and builds it on its own executor the first time it is needed; every search runs there too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from magnus_desktop.services.assistant.tools import Citation, Tool, ToolRegistry, ToolResult, closed_schema

if TYPE_CHECKING:
    from magnus_desktop.services.assistant.retrieval import KnowledgeIndex

#: characters of the best passage quoted in the answer
QUOTE_CHARS = 600


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUOTE_CHARS:
        return text
    cut = text[:QUOTE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("; "))
    return cut[:end + 1] if end > QUOTE_CHARS // 2 else cut.rstrip() + "…"


def register(reg: ToolRegistry, index: Callable[[], Awaitable[KnowledgeIndex]],
             run: Callable[..., Awaitable[object]]) -> None:
    """Register ``explain``; ``index()`` returns the built index, ``run(fn, *args)`` runs a blocking call
    on the knowledge executor."""

    async def explain(topic: str) -> ToolResult:
        kb = await index()
        passages = await run(kb.search, topic, 3)
        assert isinstance(passages, list)
        if not passages:
            return ToolResult(f"Explain: {topic}", "message",
                              f"No data for {topic!r} in the knowledge base or your notes.")
        cites = tuple(Citation(p.source, p.title, p.text) for p in passages)
        facts = f"{_excerpt(passages[0].text)} [1]"
        return ToolResult(f"Explain: {topic}", "passages", facts, citations=cites,
                          source="the bundled knowledge base and your notes")

    reg.register(Tool("explain", "Explain a trading concept or an app feature from the cited knowledge base.",
                      closed_schema({"topic": {"type": "string", "minLength": 1, "maxLength": 200}}, ("topic",)),
                      explain, ("what", "explain", "define", "how", "mean", "why", "describe"), "explain", "knowledge"))


