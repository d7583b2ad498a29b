"""The Kalshi dock: a banner (online / offline — Kalshi needs the network — with the cache's date),
the market browser, the selected market and the account, and the order ticket."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.kalshi import KalshiMarket, OrderBook, Side
from magnus_desktop.services.kalshi.cache import MarketSnapshot
from magnus_desktop.services.kalshi.service import KalshiOrderEvent, KalshiPortfolio, KalshiState
from magnus_desktop.ui.kalshi.browser import MarketBrowser
from magnus_desktop.ui.kalshi.key_dialog import KalshiKeyDialog
from magnus_desktop.ui.kalshi.market_view import MarketView
from magnus_desktop.ui.kalshi.portfolio import PortfolioView
from magnus_desktop.ui.kalshi.ticket import KalshiTicket
from magnus_desktop.ui.kalshi.view_model import KalshiViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.table_model import text_color


class KalshiPanel(QWidget):
    def __init__(self, vm: KalshiViewModel, parent: QWidget | None = None, *, theme: str = "dark") -> None:
        super().__init__(parent)
        self.setObjectName("kalshi_panel")
        self._vm = vm
        follow_dock_visibility(self, self._vm.set_visible)
        self.banner = QLabel(objectName="kalshi_banner")
        self.banner.setWordWrap(True)
        self.connect_button = QPushButton("Connect", objectName="kalshi_connect")
        self.connect_button.setToolTip("Load Kalshi's open markets now (needs the network)")
        self.connect_button.clicked.connect(vm.connect_now)
        self.key_button = QPushButton("API key…", objectName="kalshi_key")
        self.key_button.clicked.connect(self.key_dialog)
        self.browser = MarketBrowser(vm.model_probability if vm.has_model else None, self)
        self.market_view = MarketView(self)
        self.market_view.apply_theme(theme)
        self.portfolio = PortfolioView(vm.service.market, vm.service.title, self)
        self.tabs = QTabWidget(objectName="kalshi_tabs")
        self.tabs.addTab(self.browser, "Markets")
        self.tabs.addTab(self.market_view, "Market")
        self.tabs.addTab(self.portfolio, "Portfolio")
        top = QHBoxLayout()
        top.addWidget(self.banner, 1)
        top.addWidget(self.connect_button)
        top.addWidget(self.key_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(self.tabs, 1)
        self.ticket: KalshiTicket | None = None

        self._connect_browser()
        self.market_view.buy_requested.connect(self.open_ticket)
        self.portfolio.cancel_requested.connect(vm.cancel_order)
        self.portfolio.refresh_requested.connect(vm.refresh_portfolio)
        vm.state_changed.connect(self._on_vm_state_changed)
        vm.markets_reset.connect(self._on_vm_markets_reset)
        vm.markets_page.connect(self._on_vm_markets_page)
        vm.portfolio_changed.connect(self._on_vm_portfolio_changed)
        vm.book_changed.connect(self._on_vm_book_changed)
        vm.candles_changed.connect(self.market_view.show_candles)
        vm.failed.connect(self._on_vm_failed)
        vm.order_status.connect(self._on_vm_order_status)
        vm.model_changed.connect(self._on_vm_model_changed)
        self.browser.reset(vm.service.snapshot)
        self.portfolio.show_portfolio(vm.service.portfolio)
        self._on_vm_state_changed(vm.state)

    def _connect_browser(self) -> None:
        self.browser.market_selected.connect(self._on_browser_market_selected)
        self.browser.table.doubleClicked.connect(lambda *_: self.tabs.setCurrentWidget(self.market_view))

    # ---- service events ---------------------------------------------------------------------------
    def _on_vm_model_changed(self, has_model: bool) -> None:
        """A model was plugged in or out: the browser again, with or without its Model column."""
        old = self.browser
        self.browser = MarketBrowser(self._vm.model_probability if has_model else None, self)
        self._connect_browser()
        index = self.tabs.indexOf(old)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, self.browser, "Markets")
        old.deleteLater()
        self.browser.reset(self._vm.service.snapshot)
        self.browser.add_markets(self._vm.service.markets())  # a load in progress too (keyed by ticker)

    def _on_vm_state_changed(self, state: KalshiState) -> None:
        self.banner.setText(state.message)
        online = state.state == "online"
        color = "" if online else f"color: {text_color('stale' if state.state != 'error' else 'loss').name()};"
        self.banner.setStyleSheet(color)
        self.connect_button.setText("Reload" if online else "Connect")
        self.connect_button.setEnabled(state.state != "connecting")

    def _on_vm_markets_reset(self, snap: MarketSnapshot) -> None:
        self.browser.reset(snap)

    def _on_vm_markets_page(self, page: tuple[KalshiMarket, ...]) -> None:
        self.browser.add_markets(page)

    def _on_vm_portfolio_changed(self, p: KalshiPortfolio) -> None:
        self.portfolio.show_portfolio(p)

    def _on_vm_book_changed(self, book: OrderBook) -> None:
        self.market_view.show_book(book)

    def _on_vm_failed(self, what: str, message: str) -> None:
        if what == "order book":
            self.market_view.book_note.setText(f"Order book: {message}")
        elif what == "price history":
            self.market_view.chart_note.setText(f"Price history: {message}")
        elif what in ("portfolio", "cancel"):
            self.portfolio.summary.setText(f"Kalshi {what}: {message}")

    def _on_vm_order_status(self, event: KalshiOrderEvent) -> None:
        if event.state in ("filled", "cancelled", "rejected", "partially_filled"):
            self.banner.setText(f"{self._vm.state.message}  Last order: {event.state}"
                                f"{' — ' + event.message if event.message else ''}.")

    def _on_browser_market_selected(self, market: KalshiMarket) -> None:
        self.market_view.show_market(market, self._vm.service.title(market), self._vm.model_probability(market),
                                     self._vm.service.online)
        self._vm.select_market(market)

    # ---- actions ----------------------------------------------------------------------------------
    def open_ticket(self, side: Side) -> KalshiTicket | None:
        market = self.market_view.market
        if market is None:
            return None
        if self._vm.service.market(market.ticker) is None:
            QMessageBox.information(self, "Kalshi", "This market is not in the loaded list any more.")
            return None
        self.ticket = KalshiTicket(self._vm, market, side, self)
        self.ticket.open()
        return self.ticket

    def key_dialog(self) -> KalshiKeyDialog:
        dialog = KalshiKeyDialog(self._vm, self._vm.service.environment, self)
        dialog.open()
        return dialog
