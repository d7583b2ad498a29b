"""Precompute the bundled knowledge base's vectors so a first start indexes it in seconds.

``python -m magnus_desktop.services.assistant.prebuild [--embedding NAME]`` embeds every chunk of
``resources/knowledge`` and writes ``resources/knowledge/vectors-<NAME>.npz`` (``hashes``: content
hashes, str array, shape (n,); ``vectors``: float32, shape (n, dim)). Run it after editing the
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
    shipped_vectors_file,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default=DEFAULT_EMBEDDING, choices=sorted(EMBEDDINGS))
    args = parser.parse_args(argv)
    chunks = bundled_chunks()
    ef = EMBEDDINGS[args.embedding]()
    start = time.perf_counter()
    vectors = np.asarray(ef([c.document for c in chunks]), dtype=np.float32)
    elapsed = time.perf_counter() - start
    out = shipped_vectors_file(knowledge_dir(), args.embedding)
    np.savez_compressed(out, hashes=np.array([c.content_hash for c in chunks]), vectors=vectors)
    print(f"{len(chunks)} chunks embedded in {elapsed:.1f} s -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
