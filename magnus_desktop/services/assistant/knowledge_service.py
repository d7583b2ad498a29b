"""Background indexing of the knowledge base and the trader's notes folder, with progress.

``KnowledgeService`` owns the one :class:`KnowledgeIndex` of a session. All index work runs on its
own single-thread executor (``"knowledge"``); progress comes back to the loop thread-safely, at
most ~10 updates per second. Nothing is opened until it is needed: with no notes folder set, the
service does no work until :meth:`index` is first awaited (the assistant does that), so app start
and the test suite never pay for chromadb.

Events:
    status_changed(KnowledgeStatus)  every state change and (rate-limited) progress step
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated

if TYPE_CHECKING:
    from magnus_desktop.services.assistant.retrieval import KnowledgeIndex
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.settings import Settings

log = logging.getLogger(__name__)

EXECUTOR = "knowledge"
_MIN_PROGRESS_INTERVAL_S = 0.1
Stage = Literal["idle", "building", "indexing", "ready", "error"]


class IndexingStopped(Exception):
    """Raised from the progress callback to stop an indexing run when the service closes."""


@dataclass(frozen=True, slots=True)
class KnowledgeStatus:
    """Where indexing stands.

    Attributes:
        stage: ``idle`` (nothing asked yet), ``building`` (the bundled knowledge base),
            ``indexing`` (the notes folder), ``ready`` or ``error``.
        done / total: progress of the current stage (chunks when building, files when indexing).
        message: one line for the user.
        skipped: ``(relative path, reason)`` of notes files that could not be indexed.
    """

    stage: Stage = "idle"
    done: int = 0
    total: int = 0
    message: str = "Notes are not indexed (no notes folder set)."
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)


class KnowledgeService:
    """Keeps the knowledge index built and the notes folder indexed, off the loop."""

    status_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._index: KnowledgeIndex | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._closing = False
        self._last_emit = 0.0
        self._indexed_folder: Path | None = None
        self._built = False
        self.status = KnowledgeStatus()

    @property
    def notes_folder(self) -> Path | None:
        return self._ctx.settings.assistant.notes_folder

    async def start(self) -> None:
        """Index the notes folder in the background when one is set (returns at once)."""
        if self.notes_folder is not None:
            self.reindex()

    async def aclose(self) -> None:
        """Stop after the file being indexed (the index stays consistent) and wait for it."""
        self._closing = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def apply_settings(self, new: Settings) -> None:
        """Re-index when the notes folder changed."""
        if new.assistant.notes_folder != self._indexed_folder:
            self.reindex()

    def reindex(self) -> None:
        """Schedule a run (build the knowledge base if needed, then the notes folder); a request
        during a run starts one more run after it."""
        if self._closing:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def index(self) -> KnowledgeIndex:
        """The index, opened and with the bundled knowledge base built (for the assistant).

        Raises:
            KnowledgeIndexError: the index cannot be opened or written.
        """
        index = await self._open()
        if not self._built:
            await self._build(index)
        return index

    # ---- internals ----------------------------------------------------------------------------
    async def _open(self) -> KnowledgeIndex:
        if self._index is None:
            if EXECUTOR not in self._ctx.executors:
                self._ctx.executors.add(EXECUTOR)
            from magnus_desktop.services.assistant.retrieval import KnowledgeIndex

            data_dir = self._ctx.paths.data_dir
            self._index = await self._ctx.executors.run(EXECUTOR, KnowledgeIndex.open, data_dir)
        return self._index

    async def _build(self, index: KnowledgeIndex) -> None:
        self._set(KnowledgeStatus("building", 0, 0, "Indexing the knowledge base…"))
        written = await self._ctx.executors.run(EXECUTOR, index.ensure_built, self._progress("building"))
        log.info("knowledge base: %d chunks written", written)
        self._built = True
        self._set(KnowledgeStatus("ready", 0, 0, "Knowledge base ready."))

    async def _run(self) -> None:
        while True:
            self._again = False
            folder = self.notes_folder
            self._indexed_folder = folder
            try:
                index = await self._open()
                if not self._built:
                    await self._build(index)
                if folder is not None:
                    await self._index_notes(index, folder)
                else:
                    await self._ctx.executors.run(EXECUTOR, index.clear_notes)
                    self._set(KnowledgeStatus(message="Notes are not indexed (no notes folder set)."))
            except IndexingStopped:
                return
            except Exception as exc:  # a bad folder or store must not crash the app: say why
                log.exception("knowledge indexing failed")
                self._set(KnowledgeStatus("error", 0, 0, f"Indexing failed: {exc}"))
            if not self._again or self._closing:
                return

    async def _index_notes(self, index: KnowledgeIndex, folder: Path) -> None:
        self._set(KnowledgeStatus("indexing", 0, 0, f"Indexing notes in {folder}…"))
        start = time.perf_counter()
        changed = await self._ctx.executors.run(EXECUTOR, index.index_notes, folder, self._progress("indexing"))
        skipped = tuple(sorted(index.notes_skipped.items()))
        total = self.status.total
        note = f"; {len(skipped)} skipped" if skipped else ""
        self._set(KnowledgeStatus(
            "ready", total, total,
            f"Notes indexed: {changed} of {total} files updated in {time.perf_counter() - start:.1f} s{note}.",
            skipped))

    def _progress(self, stage: Stage):  # noqa: ANN202 - a (done, total) callback for the worker thread
        loop = asyncio.get_running_loop()
        label = "Indexing the knowledge base" if stage == "building" else "Indexing notes"

        def report(done: int, total: int) -> None:  # runs on the knowledge executor
            if self._closing:
                raise IndexingStopped
            now = time.monotonic()
            if done < total and now - self._last_emit < _MIN_PROGRESS_INTERVAL_S:
                return
            self._last_emit = now
            status = KnowledgeStatus(stage, done, total, f"{label}… {done} / {total}")
            loop.call_soon_threadsafe(self._set, status)

        return report

    def _set(self, status: KnowledgeStatus) -> None:
        self.status = status
        emit_isolated(self.status_changed, status)
