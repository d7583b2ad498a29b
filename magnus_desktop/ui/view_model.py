"""The one view model between the Qt widgets and the asyncio services.

It subscribes to the :class:`Workstation`'s psygnal events and re-emits them as Qt signals (the
loop runs on the GUI thread under qasync, so delivery is direct); user actions arrive as
``@asyncSlot`` coroutines that await the services. Widgets never call services themselves.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.analytics.scanner import ScanParams
from magnus_desktop.models.domain import OrderTicket, WatchlistItem
from magnus_desktop.services.credentials import CredentialsError
from magnus_desktop.services.logs import setup_logging
from magnus_desktop.services.paper_broker import OrderRejected
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.settings import Settings, SettingsSaveError
from magnus_desktop.services.storage import StorageError
from magnus_desktop.services.tradingview import WatchlistFormatError
from magnus_desktop.services.workstation import Workstation

log = logging.getLogger(__name__)


FORWARDED_EVENTS = ("date_changed", "account_changed", "equity_changed", "scan_changed", "quotes_changed",
                    "watchlists_changed", "order_filled", "notice")


class WorkstationViewModel(QObject):
    date_changed = Signal(object)
    playing_changed = Signal(bool)
    account_changed = Signal(object)
    equity_changed = Signal(object)
    scan_changed = Signal(object)
    quotes_changed = Signal(object)
    watchlists_changed = Signal(object)
    order_filled = Signal(object)
    order_rejected = Signal(str)
    ticket_checked = Signal(object, object)  # (OrderTicket, LaterDaysCheck | None)
    notice = Signal(str)
    #: a TradingView import stored its list: the ``ImportSummary`` (message + every skipped entry)
    watchlist_imported = Signal(object)
    started = Signal()
    #: the database in use changed (reopened, read-only, temporary): banners and status follow
    storage_changed = Signal()

    def __init__(self, workstation: Workstation, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ws = workstation
        for name in FORWARDED_EVENTS:  # each Workstation event re-emitted as the Qt signal of that name
            getattr(workstation, name).connect(getattr(self, name).emit)

    def attach_clock(self) -> None:
        """Forward the replay clock's play state (the clock exists once ``start`` ran)."""
        if self.ws.clock is not None:
            self.ws.clock.playing_changed.connect(self.playing_changed.emit)

    # ---- replay -----------------------------------------------------------------------------
    def play(self) -> None:
        if self.ws.clock is not None:
            self.ws.clock.play()

    def pause(self) -> None:
        if self.ws.clock is not None:
            self.ws.clock.pause()

    def step(self, n: int) -> None:
        if self.ws.clock is not None:
            self.ws.clock.step(n)

    def jump(self, day: object) -> None:
        if self.ws.clock is not None:
            self.ws.clock.jump(day)  # type: ignore[arg-type]

    def set_speed(self, days_per_second: float) -> None:
        self.ws.settings.replay_speed = days_per_second
        if self.ws.clock is not None:
            self.ws.clock.speed = days_per_second

    # ---- settings -----------------------------------------------------------------------------
    settings_applied = Signal(object)

    async def keyring_backend(self) -> str:
        """The keyring backend's name and, when it is not a secure store, the warning."""
        info = await self.ws.credentials.backend_info()
        return info.name if info.secure else f"{info.name} — {info.warning}"

    @asyncSlot(object, object)
    async def apply_settings(self, new: Settings, db_password: str | None) -> None:
        """Apply the Settings dialog's result: services first, then the panels (``settings_applied``),
        then save; the database password goes to the keyring, never to the settings file."""
        level_before, dir_before = self.ws.settings.log_level, self.ws.settings.log_dir
        self.ws.apply_settings(new)
        if new.log_level != level_before or new.log_dir != dir_before:
            default_dir = app_paths().log_dir
            try:
                setup_logging(new.log_dir or default_dir, new.log_level, fallback_dir=default_dir)
            except OSError as exc:
                self.notice.emit(f"The log folder cannot be used: {exc}")
        self.settings_applied.emit(self.ws.settings)
        if db_password and new.db_url:
            try:
                await self.ws.save_db_password(new.db_url, db_password)
            except (CredentialsError, ValueError) as exc:
                self.notice.emit(f"The database password was not saved: {exc}")
        try:
            await self.ws.save_settings()
        except (OSError, SettingsSaveError) as exc:
            self.notice.emit(str(exc))
            return
        self.notice.emit("Settings saved." + (" The database choice takes effect at the next start."
                                             if new.db_url != self.ws.db_url else ""))

    # ---- lifecycle ---------------------------------------------------------------------------
    async def shutdown(self) -> None:
        """Save the settings, then close the services (awaited while the loop still runs)."""
        try:
            await self.ws.save_settings()
        except (OSError, SettingsSaveError) as exc:
            log.error("settings could not be saved: %s", exc)
        await self.ws.aclose()

    @asyncSlot(object)
    async def reopen_database(self, db_url: str | None) -> None:
        if await self.ws.reopen_database(db_url):
            self.notice.emit(f"Now using {self.ws.db.describe() if self.ws.db else 'the database'}.")
        self.storage_changed.emit()

    # ---- actions ------------------------------------------------------------------------------
    @asyncSlot(object)
    async def rescan(self, params: ScanParams) -> None:
        await self.ws.rescan(params)

    @asyncSlot(object)
    async def place_order(self, ticket: OrderTicket) -> None:
        try:
            fill = await self.ws.place_order(ticket)
        except OrderRejected as exc:
            self.order_rejected.emit(str(exc))
            return
        except StorageError as exc:
            self.order_rejected.emit(f"The fill could not be saved, so no order was placed: {exc}")
            return
        side = "Sold" if fill.qty < 0 else "Bought"
        self.notice.emit(f"{side} {abs(fill.qty)} {fill.contract.describe()} at {fill.price:.2f} (paper fill).")

    @asyncSlot(object)
    async def check_ticket(self, ticket: OrderTicket) -> None:
        """Buying power with ``ticket`` on every later replay day it affects (compute thread)."""
        try:
            check = await self.ws.check_ticket(ticket)
        except Exception as exc:  # a failed check must not pass silently: the ticket shows why
            log.exception("later-days check failed")
            self.notice.emit(f"Could not check the order against later replay days: {exc}")
            return
        self.ticket_checked.emit(ticket, check)

    @asyncSlot()
    async def reset_demo(self) -> None:
        await self.ws.reset_demo()

    @asyncSlot(str)
    async def create_watchlist(self, name: str) -> None:
        await self.ws.create_watchlist(name)

    @asyncSlot(int, str)
    async def rename_watchlist(self, watchlist_id: int, name: str) -> None:
        await self.ws.rename_watchlist(watchlist_id, name)

    @asyncSlot(int)
    async def delete_watchlist(self, watchlist_id: int) -> None:
        await self.ws.delete_watchlist(watchlist_id)

    @asyncSlot(int, int)
    async def move_watchlist(self, watchlist_id: int, position: int) -> None:
        await self.ws.move_watchlist(watchlist_id, position)

    @asyncSlot(int, object)
    async def add_symbols(self, watchlist_id: int, items: list[WatchlistItem]) -> None:
        await self.ws.add_symbols(watchlist_id, items)

    @asyncSlot(int, object)
    async def remove_symbol(self, watchlist_id: int, item: WatchlistItem) -> None:
        await self.ws.remove_symbol(watchlist_id, item)

    @asyncSlot(int, str, int)
    async def move_symbol(self, watchlist_id: int, symbol: str, position: int) -> None:
        await self.ws.move_symbol(watchlist_id, symbol, position)

    @asyncSlot(str)
    async def import_tradingview(self, path: str) -> None:
        try:
            message = await self.ws.import_tradingview(Path(path))
        except (WatchlistFormatError, OSError) as exc:
            self.notice.emit(f"Import failed: {exc}")
            return
        self.notice.emit(message)
        self.watchlist_imported.emit(message)
