"""The window-level view model: replay clock, notices, storage state, settings, shutdown.

It subscribes to the :class:`AppContext`'s psygnal events and re-emits them as Qt signals; user
actions arrive as ``@asyncSlot`` coroutines that await the context. Each dock has its own view
model (``ui/<capability>/view_model.py``); the orders view model is shared by the docks that open
tickets (:attr:`AppViewModel.orders`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.credentials import CredentialsError
from magnus_desktop.services.logs import setup_logging
from magnus_desktop.services.settings import Settings, SettingsSaveError
from magnus_desktop.ui.accounts.dialog import AccountsController
from magnus_desktop.ui.bridge import bridge
from magnus_desktop.ui.orders.view_model import OrdersViewModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StorageState:
    """What the window shows about the database in use (banners, status bar, About)."""

    backend: str | None
    description: str
    url: str | None
    problem: str | None
    read_only: str | None


class AppViewModel(QObject):
    date_changed = Signal(object)
    playing_changed = Signal(bool)
    notice = Signal(str)
    #: the database in use changed (reopened, read-only, temporary): banners and status follow
    storage_changed = Signal()
    #: the Settings dialog's values were applied (payload: the live ``Settings``)
    settings_applied = Signal(object)
    theme_changed = Signal(str)
    #: the assistant's knowledge indexer moved on (payload: ``KnowledgeStatus``)
    knowledge_status_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.orders = OrdersViewModel(ctx, self)
        #: Settings → Accounts and the status bar's broker-session line go through this controller
        self.accounts = AccountsController(ctx.session, self)
        bridge(self, [(ctx.date_changed, self.date_changed.emit), (ctx.playing_changed, self.playing_changed.emit),
                      (ctx.notice, self.notice.emit),
                      (ctx.knowledge.status_changed, self.knowledge_status_changed.emit)])

    # ---- replay -----------------------------------------------------------------------------
    def play(self) -> None:
        if self.ctx.clock is not None:
            self.ctx.clock.play()

    def pause(self) -> None:
        if self.ctx.clock is not None:
            self.ctx.clock.pause()

    def step(self, n: int) -> None:
        if self.ctx.clock is not None:
            self.ctx.clock.step(n)

    def jump(self, day: date) -> None:
        if self.ctx.clock is not None:
            self.ctx.clock.jump(day)

    def set_speed(self, days_per_second: float) -> None:
        self.ctx.settings.replay_speed = days_per_second
        if self.ctx.clock is not None:
            self.ctx.clock.speed = days_per_second

    @property
    def replay_speed(self) -> float:
        return self.ctx.settings.replay_speed

    def is_playing(self) -> bool:
        return self.ctx.clock is not None and self.ctx.clock.is_playing

    def replay_days(self) -> list[date]:
        """The replay calendar (empty until the services started)."""
        return self.ctx.days

    # ---- settings and theme ---------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        """The live settings (the Settings dialog edits a copy)."""
        return self.ctx.settings

    @property
    def theme(self) -> str:
        return self.ctx.settings.theme

    def set_theme(self, theme: str) -> None:
        self.ctx.settings.theme = theme  # type: ignore[assignment]
        self.theme_changed.emit(self.ctx.settings.theme)

    def knowledge_status(self) -> object:
        """The knowledge indexer's current ``KnowledgeStatus``."""
        return self.ctx.knowledge.status

    def reindex_notes(self) -> None:
        """Index the notes folder now, in the background (Settings → Assistant → Index now)."""
        self.ctx.knowledge.reindex()

    async def keyring_backend(self) -> str:
        """The keyring backend's name and, when it is not a secure store, the warning."""
        info = await self.ctx.credentials.backend_info()
        return info.name if info.secure else f"{info.name} — {info.warning}"

    @asyncSlot(object, object)
    async def apply_settings(self, new: Settings, db_password: str | None) -> None:
        """Apply the Settings dialog's result: services first, then the panels (``settings_applied``),
        then save; the database password goes to the keyring, never to the settings file."""
        ctx = self.ctx
        level_before, dir_before = ctx.settings.log_level, ctx.settings.log_dir
        ctx.apply_settings(new)
        if new.log_level != level_before or new.log_dir != dir_before:
            default_dir = ctx.paths.log_dir
            try:
                setup_logging(new.log_dir or default_dir, new.log_level, fallback_dir=default_dir)
            except OSError as exc:
                self.notice.emit(f"The log folder cannot be used: {exc}")
        self.settings_applied.emit(ctx.settings)
        self.theme_changed.emit(ctx.settings.theme)
        if db_password and new.db_url:
            try:
                await ctx.save_db_password(new.db_url, db_password)
            except (CredentialsError, ValueError) as exc:
                self.notice.emit(f"The database password was not saved: {exc}")
        try:
            await ctx.save_settings()
        except (OSError, SettingsSaveError) as exc:
            self.notice.emit(str(exc))
            return
        self.notice.emit("Settings saved." + (" The database choice takes effect at the next start."
                                             if new.db_url != ctx.db_url else ""))

    # ---- storage ----------------------------------------------------------------------------------
    def storage(self) -> StorageState:
        db = self.ctx.db
        return StorageState(db.backend if db else None, db.describe() if db else "", db.url if db else None,
                            self.ctx.db_problem, self.ctx.db_read_only)

    @asyncSlot(object)
    async def reopen_database(self, db_url: str | None) -> None:
        if await self.ctx.reopen_database(db_url):
            self.notice.emit(f"Now using {self.ctx.db.describe() if self.ctx.db else 'the database'}.")
        self.storage_changed.emit()

    @asyncSlot()
    async def reset_demo(self) -> None:
        await self.ctx.portfolio.reset_demo()

    # ---- lifecycle ---------------------------------------------------------------------------
    def never_save_settings(self, reason: str) -> None:
        """This session must not write the settings (e.g. a ``--screenshot`` run)."""
        self.ctx.settings_read_only = reason

    async def shutdown(self) -> None:
        """Save the settings, then close the services (awaited while the loop still runs).

        When the services were already closed (a script closed the context first), nothing is
        submitted to the shut-down executors: the settings are not saved, and the log says so."""
        try:
            if self.ctx.closed:
                log.warning("shutdown: the services were already closed; the settings were not saved")
            else:
                await self.ctx.save_settings()
        except (OSError, SettingsSaveError) as exc:
            log.error("settings could not be saved: %s", exc)
        await self.ctx.aclose()
