"""Application start: settings → logging → Qt → qasync loop → window → services in the background.

The window is shown (first paint) before the database and the replay data are opened; the panels
fill in as soon as the services publish their first state.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

import qasync
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from magnus_desktop.services.logs import setup_logging
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.workstation import Workstation
from magnus_desktop.ui.errors import install_excepthooks
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.theme import apply_theme
from magnus_desktop.ui.view_model import WorkstationViewModel
from magnus_desktop.widgets.gc_guard import MainThreadGarbageCollector

log = logging.getLogger(__name__)
PROCESS_START = time.perf_counter()


def create_application(theme: str) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Magnus Desktop")
    app.setOrganizationName("Magnus")
    apply_theme(app, theme)
    if app.findChild(MainThreadGarbageCollector) is None:
        MainThreadGarbageCollector(app)  # Qt objects are only ever freed on the GUI thread
    return app


class FirstPaintProbe(QObject):
    """Logs (and, with ``MAGNUS_DESKTOP_PRINT_FIRST_PAINT=1``, prints) when the window first paints.

    The printed value is ``FIRST_PAINT <unix time>`` so a benchmark can measure from process start.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            log.info("first paint %.2f s after import", time.perf_counter() - PROCESS_START)
            if os.environ.get("MAGNUS_DESKTOP_PRINT_FIRST_PAINT") == "1":
                print(f"FIRST_PAINT {time.time():.6f}", flush=True)
        return False


async def build_window(args: argparse.Namespace, store: SettingsStore, settings: Settings) -> MainWindow:
    """Create services, view model and window; show it, then start the services."""
    ws = Workstation(store, settings, db_url=args.db_url)
    vm = WorkstationViewModel(ws)
    window = MainWindow(vm, restore_layout=not args.screenshot)
    probe = FirstPaintProbe(window)
    window.installEventFilter(probe)
    window.show()
    log.info("first show after %.2f s", time.perf_counter() - PROCESS_START)
    if store.problem:
        window.show_notice(store.problem)
    await ws.start(replay_date=args.replay_date)
    vm.attach_clock()
    assert ws.clock is not None
    window.toolbar.set_range(ws.clock.days[0], ws.clock.days[-1])
    window.update_db_status()
    if ws.db_problem:
        window.show_notice(ws.db_problem)
    return window


async def screenshot(window: MainWindow, path: Path) -> None:
    """Wait for the services' first full refresh, let the models flush, grab the window to PNG."""
    await window.vm.ws.refreshed.wait()
    await asyncio.sleep(0.6)  # table models flush at 8 Hz; charts repaint
    QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")


async def _main(app: QApplication, args: argparse.Namespace, store: SettingsStore, settings: Settings) -> int:
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    window = await build_window(args, store, settings)
    try:
        if args.screenshot:
            await screenshot(window, Path(args.screenshot))
            print(f"screenshot written to {args.screenshot}")
            return 0
        app.lastWindowClosed.connect(app.quit)
        await closing.wait()
        return 0
    finally:
        await window.vm.ws.save_settings()
        await window.vm.ws.aclose()
        window.close()


def run_app(args: argparse.Namespace) -> int:
    paths = app_paths().ensure()
    log_file = setup_logging(paths.log_dir)
    store = SettingsStore(paths.settings_file)
    settings = store.load()
    if args.theme:
        settings.theme = args.theme
    if args.db_url:
        settings.db_url = args.db_url
    app = create_application(settings.theme)
    install_excepthooks()
    log.info("Magnus Desktop starting; log file %s", log_file)
    return int(qasync.run(_main(app, args, store, settings)) or 0)
