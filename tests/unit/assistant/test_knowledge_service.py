"""KnowledgeService: background indexing of the notes folder with progress, off the loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from magnus_desktop.services.assistant.knowledge_service import KnowledgeService, KnowledgeStatus
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.settings import Settings


def _ctx(notes: Path | None) -> SimpleNamespace:
    settings = Settings()
    settings.assistant.notes_folder = notes
    return SimpleNamespace(settings=settings, executors=Executors(), paths=app_paths())


async def _until(service: KnowledgeService, stage: str, timeout: float = 120.0) -> None:
    async def wait() -> None:
        while service.status.stage != stage or (service._task is not None and not service._task.done()):
            await asyncio.sleep(0.02)
    await asyncio.wait_for(wait(), timeout)


@pytest.mark.asyncio
async def test_no_notes_folder_means_no_work() -> None:
    ctx = _ctx(None)
    service = KnowledgeService(ctx)  # type: ignore[arg-type]
    await service.start()
    assert service._task is None and "knowledge" not in ctx.executors
    assert service.status.stage == "idle"
    await service.aclose()
    ctx.executors.shutdown()


@pytest.mark.asyncio
async def test_notes_indexed_in_background_with_progress(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(3):
        (notes / f"n{i}.md").write_text(f"## Trade {i}\nSold the {2600 + 10 * i} put.\n", "utf-8")
    (notes / "bad.md").write_bytes(b"\x00\x01")
    ctx = _ctx(notes)
    service = KnowledgeService(ctx)  # type: ignore[arg-type]
    seen: list[KnowledgeStatus] = []
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    service.status_changed.connect(lambda s: (seen.append(s), threads.add(threading.get_ident())))
    await service.start()
    await _until(service, "ready")
    assert threads == {loop_thread}  # progress comes back to the loop thread
    stages = [s.stage for s in seen]
    assert "building" in stages and "indexing" in stages
    final = service.status
    assert (final.done, final.total) == (4, 4)
    assert final.skipped and final.skipped[0][0] == "bad.md"
    assert "3 of 4 files updated" in final.message
    index = await service.index()
    assert index.passage("notes/n1.md#trade-1") is not None
    # a changed folder setting re-indexes; clearing it drops the notes
    new = Settings()
    new.assistant.notes_folder = None
    ctx.settings.assistant.notes_folder = None
    service.apply_settings(new)
    await _until(service, "idle")
    assert index.passage("notes/n1.md#trade-1") is None
    await service.aclose()
    ctx.executors.shutdown()


@pytest.mark.asyncio
async def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path / "gone")
    service = KnowledgeService(ctx)  # type: ignore[arg-type]
    await service.start()
    await _until(service, "error")
    assert "does not exist" in service.status.message
    await service.aclose()
    ctx.executors.shutdown()
