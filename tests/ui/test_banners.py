"""Lasting banners: start-up problems and a database that is temporary or read-only stay visible
with their actions until resolved (a status-bar message vanishes and is cut off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.main_window import MainWindow
from tests.ui.conftest import LoopRunner


def make_window(qtbot, run: LoopRunner, tmp_path: Path, market: ReplayMarketData, db_url: str) -> MainWindow:  # type: ignore[no-untyped-def]
    ctx = AppContext(SettingsStore(tmp_path / "settings.json"), Settings(), db_url=db_url, market=market)
    run(ctx.start())
    win = MainWindow(AppViewModel(ctx), restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    win.show_storage_banners()
    return win


@pytest.fixture
def garbage_db(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database " * 200)
    return path


def test_temporary_database_banner_stays_and_retry_recovers(qtbot, run, tmp_path, replay_market, garbage_db) -> None:
    win = make_window(qtbot, run, tmp_path, replay_market, f"sqlite:///{garbage_db}")
    ws = win.vm.ctx
    try:
        banner = win.banners.banners["db"]
        assert win.banners.isVisible()
        assert "nothing you do now will be saved" in banner.text()
        assert set(banner.buttons) == {"Retry", "Open another file…", "Continue without saving"}
        assert "temporary" in win.db_status.text()
        run.idle(0.3)
        assert "db" in win.banners.banners  # lasting, unlike the 15-s status message
        garbage_db.unlink()  # the trader moved the bad file aside: Retry now creates a fresh database
        banner.buttons["Retry"].click()
        run.until(lambda: "db" not in win.banners.banners)
        assert ws.db_problem is None and ws.db is not None and ws.db.sqlite_path == garbage_db
        assert "temporary" not in win.db_status.text()
        run.until(lambda: ws.portfolio.last_summary is not None and len(ws.portfolio.last_summary.positions) > 0)
    finally:
        run(ws.aclose())


def test_retry_that_fails_keeps_the_banner_and_the_file(qtbot, run, tmp_path, replay_market, garbage_db) -> None:
    win = make_window(qtbot, run, tmp_path, replay_market, f"sqlite:///{garbage_db}")
    ws = win.vm.ctx
    before = garbage_db.read_bytes()
    try:
        win.banners.banners["db"].buttons["Retry"].click()
        run.idle(0.5)
        assert ws.db_problem is not None and "db" in win.banners.banners
        assert garbage_db.read_bytes() == before
    finally:
        run(ws.aclose())


def test_continue_without_saving_dismisses_but_status_keeps_it(qtbot, run, tmp_path, replay_market, garbage_db) -> None:
    win = make_window(qtbot, run, tmp_path, replay_market, f"sqlite:///{garbage_db}")
    try:
        win.banners.banners["db"].buttons["Continue without saving"].click()
        run.idle(0.1)
        assert "db" not in win.banners.banners and not win.banners.isVisible()
        assert "temporary" in win.db_status.text()
    finally:
        run(win.vm.ctx.aclose())


def test_startup_problems_show_a_dialog_and_a_banner_with_secrets_masked(qtbot, run, tmp_path, replay_market) -> None:
    win = make_window(qtbot, run, tmp_path, replay_market, f"sqlite:///{tmp_path / 'ok.sqlite3'}")
    try:
        win.show_startup_problems(["The config folder /x cannot be created (Permission denied).",
                                   "Cannot connect to postgresql://u:hunter2@h/db"])
        box = win.findChild(QMessageBox, "startup_problems_box")
        assert box is not None and box.isVisible() and "/x" in box.text() and "hunter2" not in box.text()
        text = win.banners.banners["startup"].text()
        assert "config folder /x" in text and "hunter2" not in text
    finally:
        run(win.vm.ctx.aclose())
