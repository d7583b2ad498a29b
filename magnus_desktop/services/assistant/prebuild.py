"""Precompute the bundled knowledge base's vectors so a first start indexes it in seconds.

``python -m magnus_desktop.services.assistant.prebuild [--embedding NAME] [--all]`` embeds the
chunks of ``resources/knowledge`` that the file does not hold yet (``--all``: every chunk) and
writes ``resources/knowledge/vectors-<NAME>.npz`` (``hashes``: content hashes, str array, shape
(n,); ``vectors``: float32, shape (n, dim)). Run it after editing the
knowledge base; chunks edited later are embedded at first start instead (nothing breaks).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from magnus_desktop.services.assistant.embeddings import EMBEDDINGS
from magnus_desktop.services.assistant.retrieval import (
    DEFAULT_EMBEDDING,
    bundled_chunks,
    knowledge_dir,
    shipped_vectors,
    shipped_vectors_file,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default=DEFAULT_EMBEDDING, choices=sorted(EMBEDDINGS))
    parser.add_argument("--all", action="store_true", help="embed every chunk again (default: only new or edited ones)")
    args = parser.parse_args(argv)
    chunks = bundled_chunks()
    known = {} if args.all else shipped_vectors(knowledge_dir(), args.embedding)
    todo = [c for c in chunks if c.content_hash not in known]
    ef = EMBEDDINGS[args.embedding]()
    start = time.perf_counter()
    if todo:
        known.update(zip((c.content_hash for c in todo), ef([c.document for c in todo]), strict=True))
    elapsed = time.perf_counter() - start
    out = shipped_vectors_file(knowledge_dir(), args.embedding)
    hashes = [c.content_hash for c in chunks]
    vectors = np.asarray([known[h] for h in hashes], dtype=np.float32)
    np.savez_compressed(out, hashes=np.array(hashes), vectors=vectors)
    print(f"{len(todo)} of {len(chunks)} chunks embedded in {elapsed:.1f} s -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
