"""UI fixtures: a qasync loop on the test QApplication, a started AppContext on a temp SQLite DB, and
the view models built on it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.dashboard.view_model import DashboardViewModel
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.positions.view_model import PositionsViewModel
from magnus_desktop.ui.scanner.view_model import ScannerViewModel
from magnus_desktop.ui.watchlists.view_model import WatchlistsViewModel
from magnus_desktop.widgets.gc_guard import MainThreadGarbageCollector

T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def main_thread_gc(qapp: QApplication) -> Iterator[MainThreadGarbageCollector]:
    """As in the app: cyclic garbage (Qt objects included) is collected on the GUI thread only."""
    collector = MainThreadGarbageCollector(qapp)
    yield collector
    gc.collect()
    collector.stop()


@pytest.fixture(scope="session")
def replay_market() -> ReplayMarketData:
    """The bundled replay data, loaded once for the UI tests (read-only)."""
    market = ReplayMarketData.from_resources()
    market.trading_days()
    return market


class _TestLoop(qasync.QEventLoop):
    """qasync's ``run_until_complete`` pumps Qt events once more *after* clearing the running loop,
    so a task resumed in that pass (an executor result arriving just then) fails with "no running
    event loop". Between runs the tests keep this loop marked as running (pytest-qt also pumps
    events between test phases); the fixture clears it at teardown."""

    def run_forever(self) -> Any:
        try:
            return super().run_forever()
        finally:
            asyncio.events._set_running_loop(self)


class LoopRunner:
    """Runs coroutines on the qasync loop from synchronous test code."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def __call__(self, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Spin the loop until ``condition()`` is true (fails the test on timeout)."""

        async def wait() -> None:
            while not condition():
                await asyncio.sleep(0.01)

        self(wait(), timeout)

    def idle(self, seconds: float = 0.2) -> None:
        self(asyncio.sleep(seconds))


@pytest.fixture
def run(qapp: QApplication) -> Iterator[LoopRunner]:
    loop = _TestLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    runner = LoopRunner(loop)
    yield runner
    for task in asyncio.all_tasks(loop):
        task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    loop.close()
    del loop, runner
    gc.collect()  # free this test's Qt objects here, on the GUI thread


@pytest.fixture
def ctx(run: LoopRunner, tmp_path: Path, replay_market: ReplayMarketData) -> Iterator[AppContext]:
    """A started AppContext (demo account seeded at 2018-01-02) on a temp SQLite file."""
    context = AppContext(SettingsStore(tmp_path / "settings.json"), Settings(),
                         db_url=f"sqlite:///{tmp_path / 'magnus.sqlite3'}", market=replay_market)
    run(context.start())
    run(context.refreshed.wait())
    run(context.predictor.loaded())  # its model's rescan lands before a test starts scanning
    run(context.scanner.idle())
    yield context
    run(context.aclose())


@pytest.fixture
def app_vm(ctx: AppContext) -> AppViewModel:
    return AppViewModel(ctx)


@pytest.fixture
def orders_vm(app_vm: AppViewModel) -> OrdersViewModel:
    return app_vm.orders


@pytest.fixture
def scanner_vm(ctx: AppContext, app_vm: AppViewModel) -> ScannerViewModel:
    return ScannerViewModel(ctx, app_vm, app_vm.orders)


@pytest.fixture
def dashboard_vm(ctx: AppContext, app_vm: AppViewModel) -> DashboardViewModel:
    return DashboardViewModel(ctx, app_vm)


@pytest.fixture
def positions_vm(ctx: AppContext, app_vm: AppViewModel) -> PositionsViewModel:
    return PositionsViewModel(ctx, app_vm.orders)


@pytest.fixture
def watchlists_vm(ctx: AppContext) -> WatchlistsViewModel:
    return WatchlistsViewModel(ctx)
