"""One executor per blocking resource, looked up by name.

The app's asyncio loop never blocks: database calls go to ``"db"``, numerical work (marking, IV,
scans, file reads) to ``"compute"``, network libraries to ``"network"``; the keyring runs on the
``CredentialStore``'s own worker thread, registered here as ``"keyring"``. Later services add
theirs (``"llm"``, ``"embeddings"``) with :meth:`Executors.add`. Each executor has one worker, so
the calls of one resource run in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, TypeVar

from magnus_desktop.services.health.latency import LatencyStats, key_of

T = TypeVar("T")

#: Executors every AppContext creates (the keyring's is the CredentialStore's own thread).
DEFAULT_EXECUTORS = ("db", "compute", "network")


class Executors:
    """Named executors; ``await executors.run("db", fn, *args)`` runs ``fn`` off the loop."""

    def __init__(self, names: tuple[str, ...] = DEFAULT_EXECUTORS) -> None:
        self._pools: dict[str, Executor] = {}
        self._owned: set[str] = set()
        #: how long each call of :meth:`run` took, per executor and function (the Health dock)
        self.latency = LatencyStats()
        for name in names:
            self.add(name)

    def add(self, name: str, max_workers: int = 1) -> Executor:
        """Create the executor ``name`` (``max_workers`` threads, named ``magnus-<name>``)."""
        if name in self._pools:
            raise ValueError(f"an executor named {name!r} exists already")
        pool = ThreadPoolExecutor(max_workers, thread_name_prefix=f"magnus-{name}")
        self._pools[name] = pool
        self._owned.add(name)
        return pool

    def register(self, name: str, executor: Executor) -> None:
        """Expose an executor owned elsewhere (its owner shuts it down) under ``name``."""
        if name in self._pools:
            raise ValueError(f"an executor named {name!r} exists already")
        self._pools[name] = executor

    def __getitem__(self, name: str) -> Executor:
        return self._pools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._pools

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._pools)

    async def run(self, name: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the executor ``name`` and await its result (exceptions propagate).

        The call's duration (queueing included: what the caller waited) goes to :attr:`latency`."""
        start = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pools[name], fn, *args)
        finally:
            self.latency.record(key_of(name, fn), time.perf_counter() - start)

    def shutdown(self) -> None:
        """Stop the executors created here (idempotent); running calls finish in the background."""
        for name in sorted(self._owned):
            self._pools[name].shutdown(wait=False)
        self._owned.clear()
