"""Conversations persist (sessions list, rename, delete, export), and bad model files get a clear message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from magnus_desktop.services.assistant.engine import (
    EngineConfig,
    LlamaEngine,
    ModelFileError,
    check_model_file,
)
from magnus_desktop.services.assistant.store import ChatMessage, ConversationStore
from magnus_desktop.services.storage import Database


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(Database.open(f"sqlite:///{tmp_path / 'a.db'}"))


def test_sessions_are_listed_renamed_exported_and_deleted(store: ConversationStore) -> None:
    first = store.create("What was SPX on 2018-02-05?")
    second = store.create("net delta")
    store.add(first, ChatMessage("user", "What was SPX on 2018-02-05?"))
    store.add(first, ChatMessage("assistant", "SPX closed at 2,648.98 on 2018-02-05.",
                                 [{"name": "get_underlying_price", "arguments": {"symbol": "SPX"}, "result": {}}],
                                 [{"source": "concepts/greeks.md#vega", "text": "Vega is…"}], "SmolLM2"))
    assert [s.session_id for s in store.sessions()] == [first, second]  # the one with the newest message first
    store.rename(second, "  Net   delta  ")
    assert {s.title for s in store.sessions()} == {"What was SPX on 2018-02-05?", "Net delta"}
    msgs = store.messages(first)
    assert [m.role for m in msgs] == ["user", "assistant"] and msgs[1].tool_calls[0]["name"] == "get_underlying_price"
    md = store.export_markdown(first)
    assert md.startswith("# What was SPX on 2018-02-05?") and "2,648.98" in md and "`get_underlying_price`" in md
    assert "[1] concepts/greeks.md#vega" in md and "not investment advice" in md
    store.delete(first)
    assert [s.session_id for s in store.sessions()] == [second] and store.messages(first) == []
    with pytest.raises(ValueError):
        store.rename(second, "   ")
    with pytest.raises(KeyError):
        store.add(first, ChatMessage("user", "gone"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        check_model_file(tmp_path / "nope.gguf")


def test_a_folder_or_a_non_gguf_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="folder"):
        check_model_file(tmp_path)
    other = tmp_path / "model.bin"
    other.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_model_file(other)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_model_file(empty)


def test_loading_a_bad_file_raises_the_clear_message_and_leaves_the_engine_unloaded(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello", encoding="utf-8")
    engine = LlamaEngine(EngineConfig(bad))

    async def go() -> None:
        try:
            with pytest.raises(ModelFileError, match="not a GGUF"):
                await engine.load()
            assert not engine.loaded
        finally:
            await engine.aclose()

    asyncio.run(go())
