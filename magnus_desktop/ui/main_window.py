"""The main window: docks from the ``DockSpec`` list (fixed object names), menus, replay toolbar,
banners, status bar. It talks to the :class:`AppViewModel` only; each dock has its own view model.

The default layout is captured right after the docks are built, so *View → Reset layout* restores
it; geometry and dock state persist in ``layout.ini`` (QSettings) in the user config dir.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from magnus_desktop import __version__
from magnus_desktop.services.paths import DATA_RESOURCES_DIR, app_paths
from magnus_desktop.services.redact import mask_secrets
from magnus_desktop.ui.accounts.dialog import AccountsDialog
from magnus_desktop.ui.actions import WINDOW, ActionRegistry
from magnus_desktop.ui.actions import plain as _plain
from magnus_desktop.ui.alerts.tray import AlertTray
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.banner import BannerBar
from magnus_desktop.ui.desktop.report import report_problem
from magnus_desktop.ui.docks import DOCKS, DockSpec
from magnus_desktop.ui.palette import CheatSheet, CommandPalette, open_dialog
from magnus_desktop.ui.replay_toolbar import ReplayToolbar
from magnus_desktop.ui.settings.dialog import SettingsDialog
from magnus_desktop.ui.theme import apply_theme
from magnus_desktop.widgets.layout_fence import LayoutFence
from magnus_desktop.widgets.table_model import text_color

LAYOUT_VERSION = 1


log = logging.getLogger(__name__)


#: the window's size before a saved layout is restored (px)
DEFAULT_SIZE = (1680, 1000)


def dock_shortcut(n: int) -> str:
    """Default shortcut of the ``n``-th dock (1-based) in the View menu: Alt+1…9, then Alt+Shift+1…9,
    then Ctrl+Alt+Shift+1…9; none past the 27th."""
    row, digit = divmod(n - 1, 9)
    prefix = ("Alt+", "Alt+Shift+", "Ctrl+Alt+Shift+")
    return f"{prefix[row]}{digit + 1}" if row < len(prefix) else ""


class MainWindow(QMainWindow):
    """The window. Closing it (window button, File → Quit, Ctrl+Q, SIGTERM) first saves the layout
    and the settings and closes the services while the event loop still runs, then emits
    ``closed``; the application exits after that (never from a ``finally`` after the loop)."""

    #: emitted once, after the graceful shutdown finished
    closed = Signal()

    def __init__(self, vm: AppViewModel, *, docks: Sequence[DockSpec] = DOCKS, restore_layout: bool = True) -> None:
        super().__init__()
        self.vm = vm
        self._quitting = False
        self._shut_down = False
        self._services_up = False
        self._quit_pending = False
        self._no_tray_told = False
        app = QApplication.instance()
        if isinstance(app, QApplication):  # this window quits the app itself, after its shutdown
            app.setQuitOnLastWindowClosed(False)
        self.setObjectName("magnus_main_window")
        self.setWindowTitle("Magnus Desktop — demo (replay of recorded 2018 SPXW data)")
        self.resize(*DEFAULT_SIZE)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QDockWidget] = {}
        #: each dock's panel by dock id (``dock_dashboard`` …)
        self.panels: dict[str, QWidget] = {}
        self._dock_specs = tuple(docks)
        self._build_docks()
        self.toolbar = ReplayToolbar(vm, self)
        self.addToolBar(self.toolbar)
        self.addToolBarBreak()
        self.banners = BannerBar(self)
        self.addToolBar(self.banners)
        self._build_menus()
        self._build_status_bar()
        self._default_state: QByteArray = self.saveState(LAYOUT_VERSION)
        self._settings = QSettings(str(app_paths().config_dir / "layout.ini"), QSettings.Format.IniFormat)
        if restore_layout:
            self.restore_layout()
        self._orders_this_session = 0
        vm.orders.order_filled.connect(self._count_order)
        vm.orders.order_rejected.connect(self._on_vm_order_rejected)
        vm.storage_changed.connect(self.show_storage_banners)
        vm.theme_changed.connect(self._show_theme)
        vm.notice.connect(self.show_notice)
        vm.date_changed.connect(self._on_vm_date_changed)

    # ---- docks and layout -------------------------------------------------------------------
    def _build_docks(self) -> None:
        """One dock per spec; docks with ``split_from`` sit beside that one; the default sizes follow
        the specs (widths within a row, heights across rows)."""
        for spec in self._dock_specs:
            panel = spec.factory(self.vm)
            self.panels[spec.id] = panel
            self._add_dock(spec.id, spec.title, panel, spec.area)
        for spec in self._dock_specs:
            if spec.split_from is not None:
                self.splitDockWidget(self.docks[spec.split_from], self.docks[spec.id], Qt.Orientation.Horizontal)
        tabbed = [spec for spec in self._dock_specs if spec.tab_with is not None]
        for spec in tabbed:  # tabs after the splits: a tab takes its partner's place
            self.tabifyDockWidget(self.docks[spec.tab_with], self.docks[spec.id])
        for partner in dict.fromkeys(spec.tab_with for spec in tabbed):  # the partner stays in front
            self.docks[partner].raise_()
        # the docks were side by side until tabified: drop the layout's cached minimum (a stale one
        # grew the window past 1280 px on the first resize)
        self.layout().invalidate()
        self.layout().activate()
        # ... and the window itself: side by side, the docks' minimum widths added up past the default
        # size (5,373 px with the research desk's docks), and a shown window keeps the size it grew to
        self.resize(*DEFAULT_SIZE)
        roots = [spec for spec in self._dock_specs if spec.split_from is None and spec.tab_with is None]
        for root in roots:
            row = [root, *(s for s in self._dock_specs if s.split_from == root.id and s.tab_with is None)]
            if len(row) > 1:
                self.resizeDocks([self.docks[s.id] for s in row], [s.size[0] for s in row], Qt.Orientation.Horizontal)
        if len(roots) > 1:
            self.resizeDocks([self.docks[s.id] for s in roots], [s.size[1] for s in roots], Qt.Orientation.Vertical)

    def panel(self, dock_id: str) -> QWidget:
        """The panel inside the dock ``dock_id``."""
        return self.panels[dock_id]

    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """The one dock factory: fixed object name (layout persistence), movable/floatable/closable."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(LayoutFence(widget))  # a label changing in the panel re-lays out the dock, not the window
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def restore_layout(self) -> None:
        geometry = self._settings.value("geometry")
        state = self._settings.value("state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not self.restoreState(state, LAYOUT_VERSION):
            self.restoreState(self._default_state, LAYOUT_VERSION)
        self.banners.setVisible(bool(self.banners.banners))  # a saved state must not hide a live banner

    def reload_layout(self) -> None:
        """Apply ``layout.ini`` as it is on disk now (a restore replaced it)."""
        self._settings.sync()
        self.restore_layout()

    def save_layout(self) -> None:
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("state", self.saveState(LAYOUT_VERSION))
        self._settings.sync()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, LAYOUT_VERSION)
        self.banners.setVisible(bool(self.banners.banners))

    # ---- menus ----------------------------------------------------------------------------------
    def _menu_action(self, menu: QMenu, action_id: str, text: str, slot: Callable[[], object],
                     shortcut: str = "") -> QAction:
        """A menu entry registered under ``action_id`` with its default ``shortcut``."""
        action = QAction(text, self)
        action.triggered.connect(slot)
        menu.addAction(action)
        return self.actions_registry.add(action_id, f"{_plain(menu.title())} › {_plain(text)}", action, shortcut)

    def _build_menus(self) -> None:
        """Every action of the window, each with a stable id and a default shortcut (see ``ui/actions``)."""
        self.actions_registry = registry = ActionRegistry(self)
        bar = self.menuBar()
        file_menu, edit, view, replay = (bar.addMenu(f"&{title}") for title in ("File", "Edit", "View", "Replay"))
        menus: dict[str, QMenu] = {"File": file_menu, "Edit": edit, "View": view, "Replay": replay}

        def menu_of(title: str) -> QMenu:
            return menus.get(title) or menus.setdefault(title, bar.addMenu(f"&{title}"))

        for spec in self._dock_specs:
            prefix = spec.id.removeprefix("dock_")
            for dock_action in spec.actions:
                self._menu_action(menu_of(dock_action.menu), f"{prefix}.{dock_action.method}", dock_action.text,
                                  getattr(self.panels[spec.id], dock_action.method), dock_action.shortcut or "")
            offered = getattr(self.panels[spec.id], "panel_actions", None)
            for item in offered() if callable(offered) else ():
                menu = menu_of(item.menu)
                menu.addAction(item.action)
                registry.add(item.id, f"{_plain(menu.title())} › {_plain(item.action.text())}", item.action,
                             item.default, spec.id if item.local else WINDOW)
        file_menu.addSeparator()
        self.quit_action = self._menu_action(file_menu, "file.quit", "Quit", self.request_quit, "Ctrl+Q")
        self.settings_action = self._menu_action(edit, "edit.settings", "Settings…", self.open_settings, "Ctrl+,")
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.accounts_action = self._menu_action(edit, "edit.accounts", "Accounts…", self.open_accounts, "Ctrl+Shift+A")
        self.accounts_action.setToolTip("Broker accounts (paper, Interactive Brokers, Robinhood); one active")
        for n, (dock_id, dock) in enumerate(self.docks.items(), start=1):
            toggle = dock.toggleViewAction()
            view.addAction(toggle)
            registry.add(f"view.{dock_id}", f"View › {dock.windowTitle()}", toggle, dock_shortcut(n))
        view.addSeparator()
        self._menu_action(view, "view.reset_layout", "Reset layout", self.reset_layout, "Ctrl+Shift+R")
        self.dark_action = self._menu_action(view, "view.dark_theme", "Dark theme", self.toggle_theme, "Ctrl+Shift+T")
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.vm.theme == "dark")
        for action_id, text, action, default in self.toolbar.menu_actions():
            replay.addAction(action)
            registry.add(action_id, f"Replay › {text}", action, default)
        account = bar.addMenu("&Account")
        self._menu_action(account, "account.reset_demo", "Reset demo account…", self._confirm_reset_demo, "Ctrl+Alt+R")
        help_menu = bar.addMenu("&Help")
        self.palette_action = self._menu_action(help_menu, "help.palette", "Command palette…", self.open_palette,
                                                "Ctrl+K")
        self.cheat_sheet_action = self._menu_action(help_menu, "help.shortcuts", "Keyboard shortcuts…",
                                                    self.open_cheat_sheet, "F1")
        self._menu_action(help_menu, "help.data_sources", "Data sources…", self._show_data_sources, "Ctrl+Shift+F1")
        self.report_problem_action = self._menu_action(help_menu, "help.report_problem", "Report a problem…",
                                                       self.report_problem, "Ctrl+Shift+F2")
        self.report_problem_action.setToolTip("Save a zip of the logs, crash reports and settings, secrets removed")
        self._menu_action(help_menu, "help.about", "About Magnus Desktop", self._show_about, "Ctrl+Alt+F1")
        self.apply_shortcuts(self.vm.settings.shortcuts)
        self.vm.settings_applied.connect(lambda settings: self.apply_shortcuts(settings.shortcuts))

    def apply_shortcuts(self, overrides: dict[str, str]) -> None:
        """The trader's shortcuts over the defaults (live: Settings → Shortcuts → Apply)."""
        unknown = self.actions_registry.apply(overrides)
        if unknown:
            log.info("shortcut settings for actions that no longer exist are ignored: %s", ", ".join(unknown))

    def open_palette(self) -> CommandPalette:
        """Help → Command palette (Ctrl+K): every action, dock, position, watchlist and symbol."""
        self.command_palette = open_dialog(self, CommandPalette(self))
        return self.command_palette  # type: ignore[return-value]

    def open_cheat_sheet(self) -> CheatSheet:
        """Help → Keyboard shortcuts (F1), generated from the menus."""
        self.shortcuts_sheet = open_dialog(self, CheatSheet(self))
        return self.shortcuts_sheet  # type: ignore[return-value]

    def toggle_theme(self) -> None:
        self.vm.set_theme("light" if self.vm.theme == "dark" else "dark")

    def _show_theme(self, theme: str) -> None:
        """The palette follows the theme (the docks follow it through their view models)."""
        self.dark_action.setChecked(theme == "dark")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)

    # ---- settings ---------------------------------------------------------------------------------
    def open_settings(self) -> None:
        """Edit → Settings (Ctrl+,): the keyring backend is looked up off the GUI thread first."""
        asyncio.ensure_future(self._open_settings())

    async def _open_settings(self) -> None:
        try:
            backend = await self.vm.keyring_backend()
        except Exception as exc:  # a broken keyring must not keep the dialog closed
            backend = f"unavailable ({exc})"
        if not shiboken6.isValid(self):
            return
        dialog = SettingsDialog(self.vm.settings, self, keyring_backend=backend,
                                default_log_dir=app_paths().log_dir, actions=self.actions_registry)
        dialog.settings_applied.connect(lambda new: self.vm.apply_settings(new, dialog.db_password()))
        dialog.set_knowledge_status(self.vm.knowledge_status())
        self.vm.knowledge_status_changed.connect(dialog.set_knowledge_status)
        dialog.notes_index_requested.connect(self.vm.reindex_notes)
        dialog.finished.connect(dialog.deleteLater)
        self.settings_dialog = dialog
        dialog.open()

    def _confirm_reset_demo(self) -> None:
        answer = QMessageBox.question(self, "Reset demo account",
                                      "Delete every paper trade of the demo account and reopen its starting positions?")
        if answer == QMessageBox.StandardButton.Yes:
            self.vm.reset_demo()

    def _show_data_sources(self) -> None:
        text = (DATA_RESOURCES_DIR / "LICENSES.md").read_text(encoding="utf-8")
        box = QMessageBox(self)
        box.setWindowTitle("Bundled data sources")
        box.setText("The demo replays real recorded market data. Sources and licences:")
        box.setDetailedText(text)
        box.exec()

    def report_problem(self) -> None:
        """Help → Report a problem: a zip of logs, crash reports and settings with secrets removed."""
        asyncio.ensure_future(report_problem(self, self.vm.settings.log_dir, self.vm.ctx.executors))

    def _show_about(self) -> None:
        url = self.vm.storage().url
        QMessageBox.about(self, "About Magnus Desktop",
                          f"Magnus Desktop {__version__}\nDatabase: {url or '—'}\n"
                          f"Broker: {self.vm.accounts.status().label()}")

    # ---- status bar -------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.day_status = QLabel("")
        self.session_status = QLabel("")
        self.session_status.setObjectName("session_status")
        self.db_status = QLabel("")
        self.statusBar().addPermanentWidget(self.day_status)
        self.statusBar().addPermanentWidget(self.session_status)
        self.statusBar().addPermanentWidget(self.db_status)
        self.vm.accounts.status_changed.connect(self._show_session_status)
        self.vm.accounts.challenge_requested.connect(self._ask_challenge_code)
        self._show_session_status(self.vm.accounts.status())

    def _show_session_status(self, status: object) -> None:
        """The one broker session: account, state, reconnects (the reason in the tool tip)."""
        label = getattr(status, "label", None)
        if not callable(label):
            return
        state = getattr(status, "state", "")
        self.session_status.setText(f"Broker: {label()}")
        self.session_status.setToolTip(mask_secrets(getattr(status, "reason", "") or ""))
        bad = state in ("failed", "reconnecting", "disconnected") and getattr(status, "kind", "paper") != "paper"
        self.session_status.setStyleSheet(f"color: {text_color('loss').name()};" if bad else "")

    def _ask_challenge_code(self, account: str, kind: str) -> None:
        """A broker asks for a verification code (SMS, e-mail, app): a non-modal prompt."""
        prompt = QInputDialog(self)
        prompt.setObjectName("challenge_prompt")
        prompt.setWindowTitle(f"Verification for {account}")
        prompt.setLabelText(f"{account} asks for the {kind} verification code:")
        prompt.textValueSelected.connect(lambda code: self.vm.accounts.answer_challenge(code.strip() or None))
        prompt.rejected.connect(lambda: self.vm.accounts.answer_challenge(None))
        prompt.finished.connect(prompt.deleteLater)
        prompt.open()

    def open_accounts(self) -> None:
        """Edit → Accounts…: one non-modal dialog, reused."""
        dialog = getattr(self, "accounts_dialog", None)
        if dialog is None or not shiboken6.isValid(dialog):
            dialog = AccountsDialog(self.vm.accounts, self)
            self.accounts_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def update_db_status(self) -> None:
        storage = self.vm.storage()
        if storage.backend is not None:
            state = " (temporary — not saved)" if storage.problem else " (read-only)" if storage.read_only else ""
            self.db_status.setText(f"DB: {storage.backend}{state}")
            self.db_status.setStyleSheet(f"color: {text_color('loss').name()}; font-weight: bold;" if state else "")
            self.db_status.setToolTip(storage.description)

    def show_notice(self, message: str) -> None:
        self.statusBar().showMessage(mask_secrets(message), 15000)

    # ---- lasting problems ------------------------------------------------------------------------
    def show_storage_banners(self) -> None:
        """Banners for a temporary (in-memory) or read-only database; removed once resolved."""
        storage = self.vm.storage()
        self.update_db_status()
        if storage.problem:
            self.banners.show_banner("db", storage.problem, "error", (
                ("Retry", self.retry_database),
                ("Open another file…", self.open_database_file),
                ("Continue without saving", lambda: self.banners.remove_banner("db")),
            ))
        elif storage.read_only:
            self.banners.show_banner("db", storage.read_only, "warning", (
                ("Retry", self.retry_database),
                ("Open another file…", self.open_database_file),
                ("Dismiss", lambda: self.banners.remove_banner("db")),
            ))
        else:
            self.banners.remove_banner("db")

    def show_startup_problems(self, problems: list[str]) -> None:
        """Start-up problems (unwritable folders, a settings file set aside): a dialog naming them
        once, then a banner that stays for the session."""
        if not problems:
            return
        text = mask_secrets("\n\n".join(problems))
        self.banners.show_banner("startup", text, "warning",
                                 (("Dismiss", lambda: self.banners.remove_banner("startup")),))
        box = QMessageBox(QMessageBox.Icon.Warning, "Magnus Desktop — start-up problems", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setModal(False)
        box.setObjectName("startup_problems_box")
        box.show()
        self._startup_box = box

    def retry_database(self) -> None:
        self._reopen_database(None)

    def open_database_file(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Open or create a database file", str(app_paths().data_dir),
            "SQLite database (*.sqlite3 *.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self._reopen_database(f"sqlite:///{Path(path)}")

    def _reopen_database(self, db_url: str | None) -> None:
        if self.vm.storage().problem and self._orders_this_session:
            answer = QMessageBox.question(
                self, "Switch database",
                "Trades made on the temporary database are not carried over to the other database. Switch?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.vm.reopen_database(db_url)

    def _count_order(self, _fill: object) -> None:
        self._orders_this_session += 1

    def _on_vm_order_rejected(self, _order_ref: str, reason: str) -> None:
        self.show_notice(reason)

    def services_started(self) -> None:
        """The services are up: the replay date range and the storage state can be shown."""
        days = self.vm.replay_days()
        if days:
            self.toolbar.set_range(days[0], days[-1])
        self.show_storage_banners()
        self._services_up = True
        if self._quit_pending:  # a quit asked for while the services were starting
            self.request_quit()

    # ---- quitting ---------------------------------------------------------------------------------
    def request_quit(self) -> None:
        """Start the graceful shutdown (idempotent): layout, settings, services, then ``closed``."""
        if self._quitting:
            return
        if not self._services_up:  # closing half-started services could race their start: quit after it
            self._quit_pending = True
            return
        self._quitting = True
        self.save_layout()
        asyncio.ensure_future(self._shutdown())

    async def _shutdown(self) -> None:
        try:
            await self.vm.shutdown()
        except Exception:  # never keep the trader from quitting; the log has it
            log.exception("shutdown failed")
        finally:
            if shiboken6.isValid(self):  # (a test may delete the window while this runs)
                self._shut_down = True
                self.close()
                self.closed.emit()

    def _on_vm_date_changed(self, day: object) -> None:
        self.day_status.setText(f"Replay {day}")

    # ---- system tray ------------------------------------------------------------------------------
    def tray(self) -> AlertTray | None:
        """The alerts centre's tray icon when a system tray is available (None otherwise)."""
        tray = self.findChild(AlertTray)
        return tray if tray is not None and tray.available else None

    def _hide_to_tray(self, setting: str) -> bool:
        """Hide the window in the tray when ``setting`` (close_to_tray / minimize_to_tray) is on and a
        tray exists; without a tray the window stays (it could not be brought back) and the trader is told."""
        if not getattr(self.vm.settings.alerts, setting) or self._quitting:
            return False
        if self.tray() is None:
            if not self._no_tray_told:
                self._no_tray_told = True
                self.show_notice("No system tray on this desktop: the window cannot hide in the tray "
                                 f"({setting.replace('_', ' ')} is on); alerts stay in the Alerts dock.")
            return False
        self.save_layout()
        self.hide()
        log.info("window hidden in the system tray (%s); the monitors keep running", setting)
        return True

    def changeEvent(self, event: QEvent) -> None:
        """Minimise-to-tray: a minimised window hides in the tray (after Qt finished minimising)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange and self.isMinimized() and not self._quitting:
            QTimer.singleShot(0, lambda: self.isMinimized() and self._hide_to_tray("minimize_to_tray"))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            super().closeEvent(event)
            return
        if self._hide_to_tray("close_to_tray"):  # the app and its monitors keep running
            event.ignore()
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a test tearing down): nothing async can run any more
            self.save_layout()
            self._shut_down = True
            super().closeEvent(event)
            return
        event.ignore()  # close once the settings are saved and the services are closed
        self.request_quit()
