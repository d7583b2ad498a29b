"""CoalescingWorker: latest input wins, pausing keeps the input, the minimum interval holds,
a job's exception is logged and kept, aclose awaits the running job."""

from __future__ import annotations

import asyncio
import logging

import pytest

from magnus_desktop.services.coalescing import CoalescingWorker


class Recorder:
    """A job that records its inputs and the loop time it started; waits for ``gate`` when set."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.started: list[float] = []
        self.gate: asyncio.Event | None = None
        self.fail_on: set[int] = set()
        self.finished = 0

    async def __call__(self, value: int) -> None:
        self.seen.append(value)
        self.started.append(asyncio.get_running_loop().time())
        if self.gate is not None:
            await self.gate.wait()
        if value in self.fail_on:
            raise RuntimeError(f"job failed on {value}")
        self.finished += 1


@pytest.mark.asyncio
async def test_inputs_arriving_while_a_job_runs_coalesce_into_one_run_with_the_latest() -> None:
    job = Recorder()
    job.gate = asyncio.Event()
    worker = CoalescingWorker(job, name="test")
    worker.submit(1)
    await asyncio.sleep(0)
    for value in (2, 3, 4):  # while 1 runs
        worker.submit(value)
    assert worker.running and worker.pending
    job.gate.set()
    await worker.idle()
    assert job.seen == [1, 4] and worker.runs == 2 and not worker.pending


@pytest.mark.asyncio
async def test_paused_keeps_the_latest_input_and_resuming_runs_it_at_once() -> None:
    job = Recorder()
    worker = CoalescingWorker(job, name="test", paused=True)
    worker.submit(1)
    worker.submit(2)
    await asyncio.sleep(0.01)
    assert job.seen == [] and worker.pending and not worker.running
    worker.set_paused(False)
    await worker.idle()
    assert job.seen == [2]
    worker.set_paused(True)
    worker.submit(3)
    await asyncio.sleep(0.01)
    assert job.seen == [2]


@pytest.mark.asyncio
async def test_two_starts_are_at_least_the_minimum_interval_apart() -> None:
    job = Recorder()
    worker = CoalescingWorker(job, name="test", min_interval_s=0.2)
    worker.submit(1)
    await worker.idle()
    worker.submit(2)
    worker.submit(3)  # within the interval: 2 is replaced before it starts
    await worker.idle()
    assert job.seen == [1, 3]
    assert job.started[1] - job.started[0] >= 0.2 - 1e-3


@pytest.mark.asyncio
async def test_a_failing_job_is_logged_kept_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    job = Recorder()
    job.fail_on = {1}
    errors: list[Exception] = []
    worker = CoalescingWorker(job, name="the test job", on_error=errors.append)
    with caplog.at_level(logging.ERROR, logger="magnus_desktop.services.coalescing"):
        worker.submit(1)
        await worker.idle()
    assert isinstance(worker.last_error, RuntimeError) and errors == [worker.last_error]
    assert "the test job failed" in caplog.text and "job failed on 1" in caplog.text  # with the traceback
    worker.submit(2)
    await worker.idle()
    assert job.seen == [1, 2] and job.finished == 1


@pytest.mark.asyncio
async def test_aclose_awaits_the_running_job_and_nothing_starts_after() -> None:
    job = Recorder()
    job.gate = asyncio.Event()
    worker = CoalescingWorker(job, name="test")
    worker.submit(1)
    await asyncio.sleep(0)
    worker.submit(2)  # pending behind the running job: dropped by aclose
    closing = asyncio.ensure_future(worker.aclose())
    await asyncio.sleep(0.01)
    assert not closing.done()  # waits for the job
    job.gate.set()
    await closing
    assert job.seen == [1] and job.finished == 1 and not worker.running
    worker.submit(3)
    await asyncio.sleep(0.01)
    assert job.seen == [1]


@pytest.mark.asyncio
async def test_the_owner_closing_stops_new_starts() -> None:
    job = Recorder()
    closed = False
    worker = CoalescingWorker(job, name="test", closed=lambda: closed)
    closed = True
    worker.submit(1)
    await asyncio.sleep(0.01)
    assert job.seen == [] and not worker.running
