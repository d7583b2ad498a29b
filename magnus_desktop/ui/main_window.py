"""The main window: one dock per panel (fixed object names), menus, replay toolbar, status bar.

The default layout is captured right after the docks are built, so *View → Reset layout* restores
it; geometry and dock state persist in ``layout.ini`` (QSettings) in the user config dir.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from magnus_desktop import __version__
from magnus_desktop.services.paths import DATA_RESOURCES_DIR, app_paths
from magnus_desktop.ui.dashboard_panel import DashboardPanel
from magnus_desktop.ui.positions_panel import PositionsPanel
from magnus_desktop.ui.replay_toolbar import ReplayToolbar
from magnus_desktop.ui.scanner_panel import ScannerPanel
from magnus_desktop.ui.theme import apply_theme
from magnus_desktop.ui.view_model import WorkstationViewModel
from magnus_desktop.ui.watchlists_panel import WatchlistsPanel

LAYOUT_VERSION = 1


class MainWindow(QMainWindow):
    def __init__(self, vm: WorkstationViewModel, *, restore_layout: bool = True) -> None:
        super().__init__()
        self.vm = vm
        self.setObjectName("magnus_main_window")
        self.setWindowTitle("Magnus Desktop — demo (replay of recorded 2018 SPXW data)")
        self.resize(1680, 1000)
        self.setDockNestingEnabled(True)
        self.docks: dict[str, QDockWidget] = {}
        self.dashboard = DashboardPanel(vm)
        self.positions = PositionsPanel(vm)
        self.scanner = ScannerPanel(vm)
        self.watchlists = WatchlistsPanel(vm)
        top, bottom = Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        dashboard = self._add_dock("dock_dashboard", "Dashboard", self.dashboard, top)
        scanner = self._add_dock("dock_scanner", "Scanner — wheel (cash-secured puts / covered calls)", self.scanner, top)
        positions = self._add_dock("dock_positions", "Positions", self.positions, bottom)
        watchlists = self._add_dock("dock_watchlists", "Watchlists", self.watchlists, bottom)
        self.splitDockWidget(dashboard, scanner, Qt.Orientation.Horizontal)
        self.splitDockWidget(positions, watchlists, Qt.Orientation.Horizontal)
        self.resizeDocks([dashboard, scanner], [620, 1060], Qt.Orientation.Horizontal)
        self.resizeDocks([positions, watchlists], [1040, 640], Qt.Orientation.Horizontal)
        self.resizeDocks([dashboard, positions], [560, 380], Qt.Orientation.Vertical)
        self.toolbar = ReplayToolbar(vm, self)
        self.addToolBar(self.toolbar)
        self._build_menus()
        self._build_status_bar()
        self._default_state: QByteArray = self.saveState(LAYOUT_VERSION)
        self._settings = QSettings(str(app_paths().config_dir / "layout.ini"), QSettings.Format.IniFormat)
        if restore_layout:
            self.restore_layout()
        vm.notice.connect(self.show_notice)
        vm.order_rejected.connect(self.show_notice)
        vm.date_changed.connect(self._on_vm_date_changed)

    # ---- docks and layout -------------------------------------------------------------------
    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """The one dock factory: fixed object name (layout persistence), movable/floatable/closable."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
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

    def save_layout(self) -> None:
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.setValue("state", self.saveState(LAYOUT_VERSION))
        self._settings.sync()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, LAYOUT_VERSION)

    # ---- menus ----------------------------------------------------------------------------------
    def _menu_action(self, menu: object, text: str, slot: Callable[[], object], shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._menu_action(file_menu, "Import TradingView watchlist…", self.watchlists.import_dialog, "Ctrl+I")
        file_menu.addSeparator()
        self._menu_action(file_menu, "Quit", self.close, "Ctrl+Q")
        view = bar.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._menu_action(view, "Reset layout", self.reset_layout, "Ctrl+Shift+R")
        self.dark_action = self._menu_action(view, "Dark theme", self.toggle_theme, "Ctrl+Shift+T")
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.vm.ws.settings.theme == "dark")
        account = bar.addMenu("&Account")
        self._menu_action(account, "Reset demo account…", self._confirm_reset_demo)
        help_menu = bar.addMenu("&Help")
        self._menu_action(help_menu, "Data sources…", self._show_data_sources)
        self._menu_action(help_menu, "About Magnus Desktop", self._show_about)

    def toggle_theme(self) -> None:
        theme = "light" if self.vm.ws.settings.theme == "dark" else "dark"
        self.vm.ws.settings.theme = theme
        self.dark_action.setChecked(theme == "dark")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.dashboard.apply_theme(theme)

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

    def _show_about(self) -> None:
        db = self.vm.ws.db
        QMessageBox.about(self, "About Magnus Desktop",
                          f"Magnus Desktop {__version__}\nDatabase: {db.url if db else '—'}\n"
                          "Broker: paper (replay) — no order is sent anywhere.")

    # ---- status bar -------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.day_status = QLabel("")
        self.db_status = QLabel("")
        self.statusBar().addPermanentWidget(self.day_status)
        self.statusBar().addPermanentWidget(self.db_status)

    def update_db_status(self) -> None:
        db = self.vm.ws.db
        if db is not None:
            self.db_status.setText(f"DB: {db.backend}" + (" (temporary)" if self.vm.ws.db_problem else ""))
            self.db_status.setToolTip(db.url)

    def show_notice(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)

    def _on_vm_date_changed(self, day: object) -> None:
        self.day_status.setText(f"Replay {day} · broker: paper")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
