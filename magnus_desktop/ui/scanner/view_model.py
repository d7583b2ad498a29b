"""The scanner dock's view model: scans (run by the ``ScannerService`` off the GUI thread), the
filters to persist, the scanner defaults from Settings, and the orders view model for sell tickets."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.analytics.scanner import ScanParams
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.scanner import ScanOutcome
from magnus_desktop.services.settings import ScannerSettings, Settings
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.ui.orders.view_model import OrdersViewModel


class ScannerViewModel(QObject):
    scan_changed = Signal(object)  # ScanOutcome
    #: Settings → Scanner defaults were applied (payload: ScannerSettings)
    defaults_changed = Signal(object)

    def __init__(self, ctx: AppContext, app: AppViewModel, orders: OrdersViewModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._scanner = ctx.scanner
        #: opens the sell tickets (shared with the other docks)
        self.orders = orders
        bridge(self, [(ctx.scanner.scan_changed, self.scan_changed.emit)])
        app.settings_applied.connect(self._on_app_settings_applied)

    def pick_symbol(self, symbol: str) -> None:
        """Make ``symbol`` the research symbol (every research dock follows); non-tickers are ignored."""
        self._ctx.symbol.try_set(symbol, "scanner")

    @property
    def scan_params(self) -> ScanParams:
        return self._scanner.scan_params

    @property
    def last_scan(self) -> ScanOutcome | None:
        return self._scanner.last_scan

    def params_for(self, chosen: ScannerSettings) -> ScanParams:
        """Scan parameters from the filter bar's values and the rate/yield in Settings.

        Raises:
            ScanError: inconsistent filters (e.g. DTE min above max).
        """
        settings = self._ctx.settings
        return ScanParams(
            right=chosen.right, dte_min=chosen.dte_min, dte_max=chosen.dte_max, delta_min=chosen.delta_min,
            delta_max=chosen.delta_max, min_open_interest=chosen.min_open_interest,
            max_spread_pct=chosen.max_spread_pct, min_annualized_return=chosen.min_annualized_return,
            premium_source=chosen.premium_source, rate=settings.risk_free_rate,
            div_yield=settings.dividend_yield, top=None,
        )

    def remember_filters(self, chosen: ScannerSettings) -> None:
        """Keep the filters as the scanner defaults (saved with the settings)."""
        self._ctx.settings.scanner = chosen

    @asyncSlot(object)
    async def rescan(self, params: ScanParams) -> None:
        await self._scanner.rescan(params)

    def _on_app_settings_applied(self, settings: Settings) -> None:
        self.defaults_changed.emit(settings.scanner)
