"""The Kalshi dock's view model: the Kalshi service's events as Qt signals, and its async actions.

While the dock is shown and a market is selected, its order book is read again every
``book_interval_ms`` (one read each, well inside the 20 reads/s limit); nothing is polled while the
dock is hidden.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from qasync import asyncSlot

from magnus_desktop.models.kalshi import KalshiMarket, KalshiOrder, OrderRequest
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.credentials import CredentialsError
from magnus_desktop.services.kalshi.errors import KalshiError
from magnus_desktop.services.kalshi.service import KalshiPreview, KalshiState
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class KalshiViewModel(QObject):
    state_changed = Signal(object)  # KalshiState
    markets_reset = Signal(object)  # MarketSnapshot
    markets_page = Signal(object)  # tuple[KalshiMarket, ...]
    portfolio_changed = Signal(object)  # KalshiPortfolio
    order_status = Signal(object)  # KalshiOrderEvent
    book_changed = Signal(object)  # OrderBook
    candles_changed = Signal(str, object)  # ticker, list[Candle]
    market_changed = Signal(object)  # KalshiMarket (selected, as last read)
    #: (what failed, the sentence for the trader)
    failed = Signal(str, str)
    key_saved = Signal()
    model_changed = Signal(bool)  # a model-probability provider plugged in / out
    order_done = Signal(str, str)  # client_order_id, "" on success or the reason

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, book_interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.service = ctx.kalshi
        self.selected: KalshiMarket | None = None
        self._book_busy = False
        s = ctx.kalshi
        bridge(self, [(s.state_changed, self.state_changed.emit), (s.markets_reset, self.markets_reset.emit),
                      (s.markets_page, self.markets_page.emit), (s.portfolio_changed, self.portfolio_changed.emit),
                      (s.order_status, self.order_status.emit), (s.model_changed, self.model_changed.emit)])
        self._book_timer = QTimer(self)
        self._book_timer.setInterval(book_interval_ms)
        self._book_timer.timeout.connect(self._poll_book)

    # ---- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> KalshiState:
        return self.service.state

    @property
    def has_model(self) -> bool:
        """A model-probability provider is plugged in (the browser then shows its column)."""
        return self.service.probability_provider is not None

    def model_probability(self, m: KalshiMarket) -> float | None:
        return self.service.model_probability(m)

    def set_visible(self, visible: bool) -> None:
        """The dock is shown or hidden: the order book is polled only while it is seen."""
        if self._ctx.closed:
            return
        self.service.set_active(visible)
        if visible and self.selected is not None and self.service.online:
            self._book_timer.start()
        else:
            self._book_timer.stop()

    # ---- actions ----------------------------------------------------------------------------------
    @asyncSlot()
    async def connect_now(self) -> None:
        """Connect (or reload) now; the state says how it went."""
        await self.service.connect()

    @asyncSlot(object)
    async def select_market(self, market: KalshiMarket) -> None:
        """Show ``market``: its book (polled while visible) and its price history, when online."""
        self.selected = market
        self.market_changed.emit(market)
        if not self.service.online:
            return
        if self.service.active:
            self._book_timer.start()
        await self._read_book()
        try:
            candles = await self.service.candles(market)
        except KalshiError as exc:
            self._fail("price history", str(exc))
            return
        if shiboken6.isValid(self) and self.selected is market:
            self.candles_changed.emit(market.ticker, candles)

    def _poll_book(self) -> None:
        if self.selected is not None and not self._book_busy and self.service.online:
            self._read_book_slot()

    @asyncSlot()
    async def _read_book_slot(self) -> None:
        await self._read_book()

    async def _read_book(self) -> None:
        market = self.selected
        if market is None or self._book_busy:
            return
        self._book_busy = True
        try:
            book = await self.service.orderbook(market.ticker)
        except KalshiError as exc:
            self._book_timer.stop()
            self._fail("order book", str(exc))
            return
        finally:
            self._book_busy = False
        if shiboken6.isValid(self) and self.selected is market:
            self.book_changed.emit(book)

    @asyncSlot()
    async def refresh_portfolio(self) -> None:
        try:
            await self.service.refresh_portfolio()
        except KalshiError as exc:
            self._fail("portfolio", str(exc))

    def preview(self, req: OrderRequest) -> KalshiPreview:
        return self.service.preview(req)

    def refusal(self) -> str | None:
        return self.service.refusal()

    @asyncSlot(object)
    async def place_order(self, req: OrderRequest) -> None:
        """Send the confirmed ticket; ``order_done`` says how it went (the audit log has the rows)."""
        try:
            order = await self.service.place_order(req)
        except KalshiError as exc:
            if shiboken6.isValid(self):
                self.order_done.emit(req.client_order_id, str(exc))
            return
        if shiboken6.isValid(self):
            self.order_done.emit(req.client_order_id, "")
            log.info("Kalshi order %s: %s", req.client_order_id, order.status)

    @asyncSlot(object)
    async def cancel_order(self, order: KalshiOrder) -> None:
        try:
            await self.service.cancel_order(order)
        except KalshiError as exc:
            self._fail("cancel", str(exc))

    @asyncSlot(str, str, str)
    async def save_key(self, key_id: str, pem: str, pem_path: str) -> None:
        """Check and store the API key (keyring worker thread); ``key_saved`` or ``failed``."""
        try:
            await self.service.save_key(key_id, pem=pem, pem_path=pem_path)
        except (KalshiError, CredentialsError) as exc:
            self._fail("API key", str(exc))
            return
        if shiboken6.isValid(self):
            self.key_saved.emit()

    def _fail(self, what: str, message: str) -> None:
        log.warning("Kalshi %s: %s", what, message)
        if shiboken6.isValid(self):
            self.failed.emit(what, message)
