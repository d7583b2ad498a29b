"""Settings → Accounts: the dialog drives the real BrokerSessionManager through AccountsController."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from magnus_desktop.services.credentials import CredentialStore, service_key
from magnus_desktop.services.session import BrokerSessionManager
from magnus_desktop.services.settings import DEMO_ACCOUNT, AccountConfig, Settings, SettingsStore
from magnus_desktop.ui.accounts.dialog import AccountsController, AccountsDialog
from tests.fakes.fake_tws import FakeTWS
from tests.memory_keyring import MemoryKeyring
from tests.ui.conftest import LoopRunner

TOTP = "JBSWY3DPEHPK3PXP"




@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def manager(run: LoopRunner, tmp_path: Path, keyring_backend: MemoryKeyring) -> Iterator[BrokerSessionManager]:
    settings = Settings(accounts=[AccountConfig(name="IB paper", kind="ib", port=1, client_id=7)])
    m = BrokerSessionManager(settings, SettingsStore(tmp_path / "settings.json"),
                             CredentialStore(keyring_backend, refuse_insecure=False),
                             ib_options={"connect_timeout": 1.0, "backoff_initial": 0.05, "backoff_max": 0.2})
    run(m.start())
    yield m
    run(m.aclose())


@pytest.fixture
def dialog(qtbot: QtBot, run: LoopRunner, manager: BrokerSessionManager) -> Iterator[AccountsDialog]:
    controller = AccountsController(manager)
    d = AccountsDialog(controller)
    qtbot.addWidget(d)
    d.show()
    run.until(lambda: "keyring" in d.backend_label.text())
    yield d
    controller.detach()


def _select(d: AccountsDialog, name: str) -> None:
    for i in range(d.account_list.count()):
        if d.account_list.item(i).text().startswith(name):
            d.account_list.setCurrentRow(i)
            return
    raise AssertionError(f"{name} not listed")


def _type(edit, text: str) -> None:
    edit.setText(text)
    edit.textEdited.emit(text)


def test_demo_is_active_and_locked(dialog: AccountsDialog) -> None:
    assert dialog.account_list.item(0).text().startswith(DEMO_ACCOUNT)
    assert "active" in dialog.account_list.item(0).text()
    assert dialog.title_label.text() == DEMO_ACCOUNT and "cannot be changed" in dialog.note_label.text()
    assert not dialog.name_edit.isEnabled() and not dialog.remove_button.isEnabled()
    assert not dialog.active_button.isEnabled()  # it is the active one
    assert "connected" in dialog.status_label.text()


def test_add_robinhood_account_validates_inline_and_keeps_secrets_in_the_keyring(
        dialog: AccountsDialog, run: LoopRunner, keyring_backend: MemoryKeyring, tmp_path: Path) -> None:
    dialog.add_button.click()
    assert dialog.title_label.text() == "New account"
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("robinhood"))
    assert dialog.password_edit.isVisible() and not dialog.host_edit.isVisible()
    assert "username" in dialog.field_error("username") or "Robinhood sign-in" in dialog.field_error("username")
    assert not dialog.save_button.isEnabled()
    _type(dialog.name_edit, "ib PAPER")
    assert dialog.field_error("name") == "another account has this name"
    _type(dialog.name_edit, "Robinhood")
    _type(dialog.username_edit, "me@example.com")
    _type(dialog.totp_edit, "not base32 !!")
    assert "not valid base32" in dialog.field_error("totp_secret") and not dialog.save_button.isEnabled()
    _type(dialog.totp_edit, TOTP.lower())
    _type(dialog.password_edit, "s3cret-pw")
    assert dialog.field_error("totp_secret") == "" and dialog.save_button.isEnabled()
    dialog.save_button.click()
    run.until(lambda: dialog.title_label.text() == "Robinhood" and "stored in" in dialog.password_edit.placeholderText())
    key = service_key("robinhood", "Robinhood")
    assert keyring_backend.saved[(key, "password")] == "s3cret-pw"
    assert keyring_backend.saved[(key, "totp_secret")] == TOTP
    assert dialog.password_edit.text() == "" and dialog.totp_edit.text() == ""  # never shown again
    assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password
    text = (tmp_path / "settings.json").read_text(encoding="utf-8")
    assert "me@example.com" in text and "s3cret-pw" not in text and TOTP not in text


def test_live_trading_checkbox_warns_and_is_saved(dialog: AccountsDialog, run: LoopRunner,
                                                  manager: BrokerSessionManager) -> None:
    _select(dialog, "IB paper")
    assert not dialog.live_check.isChecked() and not dialog.live_warning.isVisible()
    dialog.live_check.setChecked(True)
    assert dialog.live_warning.isVisible() and "real money" in dialog.live_warning.text()
    dialog.save_button.click()
    run.until(lambda: manager.settings.account("IB paper").live_trading_enabled)
    run.until(lambda: "LIVE" in dialog.account_list.item(1).text())


def test_switching_selection_with_unsaved_edits_is_refused(dialog: AccountsDialog) -> None:
    _select(dialog, "IB paper")
    _type(dialog.host_edit, "10.0.0.5")
    _select(dialog, DEMO_ACCOUNT)
    assert dialog.title_label.text() == "IB paper" and "Save or revert" in dialog.problem_label.text()
    dialog.revert_button.click()
    assert dialog.host_edit.text() == "127.0.0.1"


def test_make_active_tws_down_then_test_connection(dialog: AccountsDialog, run: LoopRunner,
                                                   manager: BrokerSessionManager) -> None:
    _select(dialog, "IB paper")
    dialog.active_button.click()
    run.until(lambda: manager.status().account == "IB paper" and manager.status().state == "reconnecting")
    run.until(lambda: "reconnecting" in dialog.status_label.text())
    assert "not reachable" in dialog.status_label.text()
    assert "active" in dialog.account_list.item(1).text()
    dialog.test_button.click()
    run.until(lambda: dialog.status_label.text().startswith("Test: reconnecting") and dialog.test_button.isEnabled())
    assert "not reachable" in dialog.status_label.text()


def test_client_id_in_use_offers_the_next_id(dialog: AccountsDialog, run: LoopRunner,
                                             manager: BrokerSessionManager) -> None:
    server = FakeTWS()
    run(server.start())
    try:
        server.reject_client_ids = {7}
        run(manager.save_account(AccountConfig(name="IB paper", kind="ib", port=server.port, client_id=7),
                                 previous_name="IB paper"))
        _select(dialog, "IB paper")
        dialog.active_button.click()
        run.until(lambda: dialog.client_id_button.isVisible())
        assert dialog.client_id_button.text() == "Use client id 8" and "326" in dialog.status_label.text()
        dialog.client_id_button.click()
        run.until(lambda: manager.status().state == "connected")
        run.until(lambda: dialog.client_id_spin.value() == 8 and not dialog.client_id_button.isVisible())
    finally:
        run(manager.switch(DEMO_ACCOUNT))
        run(server.stop())


def test_remove_account_asks_and_the_demo_takes_over(dialog: AccountsDialog, run: LoopRunner,
                                                     manager: BrokerSessionManager, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run(manager.switch("IB paper"))
    _select(dialog, "IB paper")
    monkeypatch.setattr(dialog, "confirm_remove", lambda name: False)
    dialog.remove_button.click()
    run.idle(0.1)
    assert "IB paper" in [a.name for a in manager.accounts]
    monkeypatch.setattr(dialog, "confirm_remove", lambda name: True)
    dialog.remove_button.click()
    run.until(lambda: dialog.account_list.count() == 1 and dialog.title_label.text() == DEMO_ACCOUNT)
    assert manager.status().account == DEMO_ACCOUNT
    saved = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert [a["name"] for a in saved["accounts"]] == [DEMO_ACCOUNT] and saved["active_account"] == DEMO_ACCOUNT


def test_a_failed_save_says_why_and_keeps_the_form(dialog: AccountsDialog, run: LoopRunner, tmp_path: Path,
                                                   manager: BrokerSessionManager) -> None:
    (tmp_path / "settings.json").mkdir()  # the settings file cannot be written
    _select(dialog, "IB paper")
    _type(dialog.host_edit, "10.0.0.5")
    dialog.save_button.click()
    run.until(lambda: "was not saved" in dialog.problem_label.text())
    assert dialog.host_edit.text() == "10.0.0.5" and dialog.save_button.isEnabled()
    assert manager.settings.account("IB paper").host == "127.0.0.1"
