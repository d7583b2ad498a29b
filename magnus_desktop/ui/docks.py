"""The docks of the main window, declared in one list.

A new dock is one :class:`DockSpec` here plus its ``ui/<capability>/`` module: the factory builds the
dock's view model from the :class:`AppContext` services and returns the panel, which talks only to
that view model. The ``id`` is the dock's ``objectName``: saved layouts refer to it, so it never
changes. Actions a dock offers in the menus (File → Import…) are :class:`DockAction` entries that
name a method of its panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from magnus_desktop.ui.alerts.panel import AlertsPanel
from magnus_desktop.ui.alerts.tray import NO_TRAY_NOTE, AlertTray, bring_back
from magnus_desktop.ui.alerts.view_model import AlertsViewModel
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.assistant.panel import AssistantPanel
from magnus_desktop.ui.assistant.view_model import AssistantViewModel
from magnus_desktop.ui.audit.panel import AuditPanel
from magnus_desktop.ui.audit.view_model import AuditViewModel
from magnus_desktop.ui.dashboard.panel import DashboardPanel
from magnus_desktop.ui.dashboard.view_model import DashboardViewModel
from magnus_desktop.ui.health.panel import HealthPanel
from magnus_desktop.ui.health.view_model import HealthViewModel
from magnus_desktop.ui.history.panel import HistoryPanel
from magnus_desktop.ui.history.view_model import HistoryViewModel, ImportViewModel
from magnus_desktop.ui.journal.panel import JournalPanel
from magnus_desktop.ui.journal.view_model import JournalViewModel
from magnus_desktop.ui.kalshi.panel import KalshiPanel
from magnus_desktop.ui.kalshi.view_model import KalshiViewModel
from magnus_desktop.ui.nfl.panel import NflPanel
from magnus_desktop.ui.nfl.view_model import NflViewModel
from magnus_desktop.ui.orders_blotter.panel import OrdersBlotterPanel
from magnus_desktop.ui.orders_blotter.view_model import OrdersBlotterViewModel
from magnus_desktop.ui.performance.panel import PerformancePanel
from magnus_desktop.ui.performance.view_model import PerformanceViewModel
from magnus_desktop.ui.positions.panel import PositionsPanel
from magnus_desktop.ui.positions.view_model import PositionsViewModel
from magnus_desktop.ui.predictor.panel import PredictorPanel
from magnus_desktop.ui.predictor.view_model import PredictorViewModel
from magnus_desktop.ui.research import desk_docks
from magnus_desktop.ui.research.chart_panel import ChartPanel
from magnus_desktop.ui.research.chart_view_model import ChartViewModel
from magnus_desktop.ui.research.report_panel import ReportPanel
from magnus_desktop.ui.research.report_view_model import ReportViewModel
from magnus_desktop.ui.research.scan_panel import ScanPanel
from magnus_desktop.ui.research.scan_view_model import ScanViewModel
from magnus_desktop.ui.risk.panel import RiskPanel
from magnus_desktop.ui.risk.view_model import RiskViewModel
from magnus_desktop.ui.scanner.panel import ScannerPanel
from magnus_desktop.ui.scanner.view_model import ScannerViewModel
from magnus_desktop.ui.watchlists.panel import WatchlistsPanel
from magnus_desktop.ui.watchlists.view_model import WatchlistsViewModel

Area = Qt.DockWidgetArea


@dataclass(frozen=True, slots=True)
class DockAction:
    """A menu entry of a dock: ``menu`` title ("File"), text, the panel method it calls, shortcut."""

    menu: str
    text: str
    method: str
    shortcut: str | None = None


@dataclass(frozen=True, slots=True)
class DockSpec:
    """One dock: fixed ``id`` (objectName), title, default area, and the factory of its panel.

    ``split_from`` names a dock of the same area this one sits beside (horizontal split);
    ``tab_with`` names a dock this one shares a place with as a tab (that one stays in front);
    ``size`` is the default (width, height) hint in px used for the initial split.
    """

    id: str
    title: str
    area: Qt.DockWidgetArea
    factory: Callable[[AppViewModel], QWidget]
    split_from: str | None = None
    size: tuple[int, int] = (0, 0)
    tab_with: str | None = None
    actions: tuple[DockAction, ...] = ()


def _owned(panel: QWidget, vm: object) -> QWidget:
    """The panel owns its view model (deleted with it, which drops its service subscriptions)."""
    vm.setParent(panel)  # type: ignore[attr-defined]
    return panel


def panel_dock(panel: Callable[[Any], QWidget], view_model: Callable[[AppViewModel], QObject]
               ) -> Callable[[AppViewModel], QWidget]:
    """The factory of a dock whose panel takes only its view model: ``view_model(app)`` builds the
    view model, the panel gets it and owns it."""
    def factory(app: AppViewModel) -> QWidget:
        vm = view_model(app)
        return _owned(panel(vm), vm)

    return factory


dashboard_dock = panel_dock(DashboardPanel, lambda app: DashboardViewModel(app.ctx, app))
scanner_dock = panel_dock(ScannerPanel, lambda app: ScannerViewModel(app.ctx, app, app.orders))
positions_dock = panel_dock(PositionsPanel, lambda app: PositionsViewModel(app.ctx, app.orders))
watchlists_dock = panel_dock(WatchlistsPanel, lambda app: WatchlistsViewModel(app.ctx))
orders_dock = panel_dock(OrdersBlotterPanel, lambda app: OrdersBlotterViewModel(app.ctx))
audit_dock = panel_dock(AuditPanel, lambda app: AuditViewModel(app.ctx))
risk_dock = panel_dock(RiskPanel, lambda app: RiskViewModel(app.ctx))
predictor_dock = panel_dock(PredictorPanel, lambda app: PredictorViewModel(app.ctx))


def alerts_dock(app: AppViewModel) -> QWidget:
    """The Alerts dock and the tray icon it notifies through (both live as long as the panel)."""
    vm = AlertsViewModel(app.ctx, app.orders)
    panel = AlertsPanel(vm)

    def open_alert(alert_id: int | None) -> None:
        bring_back(panel.window())  # the window may be hidden in the tray
        panel._raise_dock("dock_alerts")  # noqa: SLF001 - the panel's own helper
        if alert_id is not None:
            panel.select_alert(alert_id)

    def quit_app() -> None:
        window = panel.window()
        getattr(window, "request_quit", window.close)()

    tray = AlertTray(panel.window, lambda: app.ctx.settings.alerts, open_alert, quit_app, parent=panel)
    vm.raised.connect(lambda alerts: tray.notify(list(alerts)))
    vm.unread_changed.connect(tray.set_unread)
    panel.tray = tray
    if not tray.available:
        panel.set_tray_note(NO_TRAY_NOTE)
    return _owned(panel, vm)


def history_dock(app: AppViewModel) -> QWidget:
    vm = HistoryViewModel(app.ctx)
    import_vm = ImportViewModel(app.ctx, vm)
    panel = HistoryPanel(vm, import_vm, app.theme)
    app.theme_changed.connect(panel.apply_theme)
    return _owned(panel, vm)


def performance_dock(app: AppViewModel) -> QWidget:
    vm = PerformanceViewModel(app.ctx)
    panel = PerformancePanel(vm, app.theme)
    app.theme_changed.connect(panel.apply_theme)
    return _owned(panel, vm)


journal_dock = panel_dock(JournalPanel, lambda app: JournalViewModel(app.ctx))


def nfl_dock(app: AppViewModel) -> QWidget:
    vm = NflViewModel(app.ctx)
    panel = NflPanel(vm)
    panel.apply_theme(app.theme)
    app.theme_changed.connect(panel.apply_theme)
    return _owned(panel, vm)


def research_chart_dock(app: AppViewModel) -> QWidget:
    vm = ChartViewModel(app.ctx)
    panel = ChartPanel(vm)
    app.theme_changed.connect(panel.apply_theme)
    return _owned(panel, vm)


def kalshi_dock(app: AppViewModel) -> QWidget:
    vm = KalshiViewModel(app.ctx)
    panel = KalshiPanel(vm, theme=app.theme)
    app.theme_changed.connect(panel.market_view.apply_theme)
    return _owned(panel, vm)


research_report_dock = panel_dock(ReportPanel, lambda app: ReportViewModel(app.ctx))
research_scan_dock = panel_dock(ScanPanel, lambda app: ScanViewModel(app.ctx))


def assistant_dock(app: AppViewModel) -> QWidget:
    vm = AssistantViewModel(app.ctx)
    app.settings_applied.connect(vm.on_settings_applied)
    return _owned(AssistantPanel(vm, app.orders), vm)


def health_dock(app: AppViewModel) -> QWidget:
    """The Health dock; after a restore the panels follow the restored settings, database and layout."""
    vm = HealthViewModel(app.ctx)
    panel = HealthPanel(vm)

    def on_restored(_message: str) -> None:
        app.settings_applied.emit(app.ctx.settings)
        app.theme_changed.emit(app.ctx.settings.theme)
        app.storage_changed.emit()
        getattr(panel.window(), "reload_layout", lambda: None)()

    vm.restored.connect(on_restored)
    return _owned(panel, vm)


DOCKS: tuple[DockSpec, ...] = (
    DockSpec("dock_dashboard", "Dashboard", Area.TopDockWidgetArea, dashboard_dock, size=(680, 560)),
    DockSpec("dock_scanner", "Scanner — wheel (cash-secured puts / covered calls)", Area.TopDockWidgetArea,
             scanner_dock, split_from="dock_dashboard", size=(1000, 560)),
    DockSpec("dock_positions", "Positions", Area.BottomDockWidgetArea, positions_dock, size=(900, 380)),
    DockSpec("dock_watchlists", "Watchlists", Area.BottomDockWidgetArea, watchlists_dock,
             split_from="dock_positions", size=(780, 380),
             actions=(DockAction("File", "Import TradingView watchlist…", "import_dialog", "Ctrl+I"),)),
    DockSpec("dock_orders", "Orders", Area.BottomDockWidgetArea, orders_dock, tab_with="dock_positions"),
    DockSpec("dock_audit", "Audit log", Area.BottomDockWidgetArea, audit_dock, tab_with="dock_watchlists"),
    DockSpec("dock_risk", "Risk", Area.TopDockWidgetArea, risk_dock, tab_with="dock_scanner"),
    DockSpec("dock_predictor", "Predictor", Area.TopDockWidgetArea, predictor_dock, tab_with="dock_scanner"),
    DockSpec("dock_alerts", "Alerts", Area.BottomDockWidgetArea, alerts_dock, tab_with="dock_watchlists",
             size=(780, 380), actions=(DockAction("Alerts", "Show alerts", "focus_alerts", "Ctrl+Shift+L"),)),
    DockSpec("dock_history", "Trade history", Area.BottomDockWidgetArea, history_dock, tab_with="dock_positions",
             actions=(DockAction("File", "Import broker statement…", "import_dialog", "Ctrl+Shift+I"),)),
    DockSpec("dock_performance", "Performance", Area.BottomDockWidgetArea, performance_dock,
             tab_with="dock_positions"),
    DockSpec("dock_journal", "Journal", Area.BottomDockWidgetArea, journal_dock, tab_with="dock_watchlists"),
    DockSpec("dock_nfl", "NFL model", Area.TopDockWidgetArea, nfl_dock, tab_with="dock_watchlists",
             actions=(DockAction("File", "Open NFL results file…", "open_dialog", "Ctrl+Alt+N"),)),
    DockSpec("dock_kalshi", "Kalshi", Area.TopDockWidgetArea, kalshi_dock, tab_with="dock_watchlists"),
    DockSpec("dock_research_chart", "Chart", Area.TopDockWidgetArea, research_chart_dock, tab_with="dock_dashboard"),
    DockSpec("dock_research_report", "Research report", Area.TopDockWidgetArea, research_report_dock,
             tab_with="dock_dashboard"),
    DockSpec("dock_research_scan", "Universe scan", Area.TopDockWidgetArea, research_scan_dock,
             tab_with="dock_scanner"),
    DockSpec("dock_research_flow", "Options flow", Area.TopDockWidgetArea, desk_docks.flow_dock,
             tab_with="dock_scanner"),
    DockSpec("dock_research_calendars", "Calendar spreads", Area.TopDockWidgetArea, desk_docks.calendars_dock,
             tab_with="dock_scanner"),
    DockSpec("dock_research_earnings", "Earnings", Area.TopDockWidgetArea, desk_docks.earnings_dock,
             tab_with="dock_dashboard"),
    DockSpec("dock_research_sectors", "Sectors", Area.TopDockWidgetArea, desk_docks.sectors_dock,
             tab_with="dock_dashboard"),
    DockSpec("dock_assistant", "Assistant", Area.TopDockWidgetArea, assistant_dock, tab_with="dock_positions",
             actions=(DockAction("Assistant", "Ask the assistant", "focus_question", "Ctrl+Shift+Space"),)),
    DockSpec("dock_health", "Health", Area.BottomDockWidgetArea, health_dock, tab_with="dock_watchlists"),
)
