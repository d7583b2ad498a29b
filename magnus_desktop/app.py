"""Application start: settings → logging → Qt → qasync loop → ``AppContext`` + window → services.

This module builds the :class:`AppContext` (every service) and the window, nothing else. The
window is shown (first paint) before the database and the replay data are opened; the panels
fill in as soon as the services publish their first state.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import qasync
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.desktop.appid import set_app_user_model_id
from magnus_desktop.services.logs import setup_console_logging, setup_logging
from magnus_desktop.services.overrides import SessionOverrides
from magnus_desktop.services.paths import app_paths, resource_path
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.desktop.activation import activate_from_command_line
from magnus_desktop.ui.desktop.single_instance import SingleInstance, server_name
from magnus_desktop.ui.errors import install_excepthooks
from magnus_desktop.ui.main_window import MainWindow
from magnus_desktop.ui.theme import apply_theme
from magnus_desktop.widgets import frame_budget
from magnus_desktop.widgets.gc_guard import MainThreadGarbageCollector
from magnus_desktop.widgets.icons import app_icon

log = logging.getLogger(__name__)
PROCESS_START = time.perf_counter()


#: How long another thread may hold the GIL before the GUI thread gets it back (CPython's default is
#: 5 ms). Worker threads (marking, scans, parsing) hold it in bursts; each time a paint calls back into
#: Python it waited up to 5 ms for it. Measured at 10 replay days/s on a loaded 2-core machine: loop
#: lag p99 28.4 -> 21.2 ms and max 112 -> 62 ms with 1 ms (``benchmarks/bench_ui.py``).
GIL_SWITCH_INTERVAL_S = 0.001


def create_application(theme: str) -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Magnus Desktop")
    app.setOrganizationName("Magnus")
    app.setDesktopFileName("magnus-desktop")  # Wayland/X11 match the window to installer/linux/magnus-desktop.desktop
    app.setWindowIcon(app_icon(resource_path("icons")))  # window, task bar and tray icon
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


def show_at_start(window: MainWindow, settings: Settings, *, screenshot: bool = False) -> str:
    """Show the window, or with *Start minimised to tray* keep it hidden behind the tray icon (minimised
    on the task bar where there is no tray). Returns "shown", "tray" or "minimized"."""
    if settings.desktop.start_minimized_to_tray and not screenshot:
        if QSystemTrayIcon.isSystemTrayAvailable():
            log.info("started minimised to the tray")
            return "tray"
        window.showMinimized()
        return "minimized"
    window.show()
    return "shown"


async def build_window(args: argparse.Namespace, store: SettingsStore, settings: Settings,
                       startup: StartupState | None = None) -> MainWindow:
    """Create the context and the window; show it, then start the services."""
    startup = startup or StartupState()
    ctx = AppContext(store, settings, db_url=args.db_url, overrides=startup.overrides,
                     settings_read_only=startup.settings_read_only)
    window = MainWindow(AppViewModel(ctx), restore_layout=not args.screenshot)
    _quit_on_signals(window)  # before anything can take long: a SIGTERM during start-up still quits cleanly
    probe = FirstPaintProbe(window)
    window.installEventFilter(probe)
    show_at_start(window, settings, screenshot=bool(args.screenshot))
    log.info("first show after %.2f s", time.perf_counter() - PROCESS_START)
    problems = list(startup.problems)
    if store.problem:
        problems.append(store.problem)
    window.show_startup_problems(problems)
    await ctx.start(replay_date=args.replay_date)
    window.services_started()
    # everything allocated so far lives as long as the app: out of the collector's way, so a full
    # collection during a replay or a quote stream walks only what came later (measured: 15-78 ms
    # gen-2 pauses of the GUI loop without this, during an IB reconnect with three live tables)
    gc.freeze()
    log.info("services started")
    if os.environ.get("MAGNUS_DESKTOP_PRINT_FIRST_PAINT") == "1":
        print("READY", flush=True)
    return window


async def screenshot(window: MainWindow, path: Path) -> None:
    """Wait for the services' first full refresh (and the predictor model's rescan) and for every panel to show it (throttles and
    table models flushed, nothing queued on the frame scheduler; at most 10 s), grab the window to PNG."""
    ctx = window.vm.ctx
    await ctx.refreshed.wait()
    await ctx.predictor.loaded()  # the scanner's p_win column comes with the model
    await ctx.scanner.idle()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    await asyncio.sleep(0.05)  # the refresh's events reach the panels
    while not frame_budget.settled() and loop.time() < deadline:
        await asyncio.sleep(0.05)
    QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")


async def _main(app: QApplication, args: argparse.Namespace, store: SettingsStore, settings: Settings,
                startup: StartupState, instance: SingleInstance | None = None) -> int:
    app.setQuitOnLastWindowClosed(False)  # the window quits the app after its graceful shutdown
    window = await build_window(args, store, settings, startup)
    if instance is not None:  # a second launch: this window comes to the front with its options
        instance.activated.connect(lambda argv: activate_from_command_line(window, argv))
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if args.screenshot:
        try:
            await screenshot(window, Path(args.screenshot))
            print(f"screenshot written to {args.screenshot}")
        finally:
            window.vm.never_save_settings("a --screenshot run never saves settings")
            window.request_quit()
            await closed.wait()
        return 0
    await closed.wait()
    return 0


def _quit_on_signals(window: MainWindow) -> None:
    """SIGTERM (log-out, ``kill``) and SIGINT (Ctrl+C in the terminal) quit gracefully, like Ctrl+Q.

    Python runs the handler the next time the GUI thread runs Python code (timers tick every
    second at least), so it is delivered within about a second."""
    def handler(_signum: int, _frame: object) -> None:
        window.request_quit()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


@dataclass
class StartupState:
    """What start-up found before the window exists: problems to show, and how to treat settings."""

    problems: list[str] = field(default_factory=list)
    settings_read_only: str | None = None
    overrides: SessionOverrides = field(default_factory=SessionOverrides)


def prepare_startup(args: argparse.Namespace) -> tuple[SettingsStore, Settings, StartupState, Path | None]:
    """Folders, logging and settings, never raising: every problem becomes a message.

    An unwritable config folder → settings are used but not saved; data folder → the database
    falls back (read-only or in memory, decided when it opens); log folder → log to stderr only.
    """
    state = StartupState()
    paths = app_paths()
    folder_problems = paths.prepare()
    store = SettingsStore(paths.settings_file)
    settings = store.load()
    log_file: Path | None = None
    fallback = None if "log" in folder_problems else paths.log_dir
    try:
        log_file = setup_logging(settings.log_dir or paths.log_dir, settings.log_level, fallback_dir=fallback)
        if settings.log_dir and settings.log_dir != paths.log_dir:
            folder_problems.pop("log", None)  # the chosen log folder works; the default one is not used
    except OSError:
        setup_console_logging(settings.log_level)
    for role, message in folder_problems.items():
        consequence = {
            "config": "Settings and the window layout will not be saved this session.",
            "data": "The database there cannot be written: it opens read-only if it exists, otherwise a "
                    "temporary in-memory database is used and nothing is saved.",
            "log": "The log goes to the terminal (stderr) only." if log_file is None else f"Logging to {log_file}.",
        }[role]
        state.problems.append(f"{message} {consequence}")
        log.warning("%s %s", message, consequence)
    if "config" in folder_problems:
        state.settings_read_only = folder_problems["config"]
    state.overrides = SessionOverrides.apply(settings, theme=args.theme, replay_date=args.replay_date)
    return store, settings, state, log_file


def run_app(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    store, settings, startup, log_file = prepare_startup(args)
    set_app_user_model_id()  # before the first window: task bar and notifications say "Magnus Desktop"
    app = create_application(settings.theme)
    install_excepthooks(log_file.parent if log_file else None)
    instance = None
    if not args.screenshot:  # a --screenshot run is a tool run beside the app, never forwarded
        instance = SingleInstance(server_name(app_paths().config_dir), app)
        if instance.forward(sys.argv[1:] if argv is None else list(argv)):
            print("Magnus Desktop is already running: its window was brought to the front.")
            return 0
        instance.listen()
    log.info("Magnus Desktop starting; log file %s", log_file)
    try:
        return int(qasync.run(_main(app, args, store, settings, startup, instance)) or 0)
    finally:
        if instance is not None:
            instance.close()
