"""The Settings dialog: values shown, edits returned once converted, invalid input blocks OK."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from magnus_desktop.services.desktop.autostart import autostart_supported
from magnus_desktop.services.settings import (
    ACCOUNT_FIELDS,
    DOCK_FIELDS,
    AccountConfig,
    AlertSettings,
    AssistantSettings,
    DesktopSettings,
    KalshiSettings,
    MarketDataSettings,
    ResearchFlowSettings,
    ResearchSettings,
    RiskLimitSettings,
    ScannerSettings,
    Settings,
)
from magnus_desktop.ui.settings.dialog import SettingsDialog, error_color

OK = QDialogButtonBox.StandardButton.Ok


def _original() -> Settings:
    return Settings(theme="dark", risk_free_rate=0.0123456, dividend_yield=0.018, replay_date=date(2018, 1, 29),
                    scanner=ScannerSettings(dte_max=45, max_spread_pct=0.2, min_annualized_return=0.12))


@pytest.fixture
def dialog(qtbot: QtBot, tmp_path: Path) -> SettingsDialog:
    d = SettingsDialog(_original(), keyring_backend="test keyring", default_log_dir=tmp_path / "logs")
    qtbot.addWidget(d)
    d.show()
    return d


def _ok(dialog: SettingsDialog) -> None:
    dialog.buttons.button(OK).click()


def test_percent_fields_show_percent(dialog: SettingsDialog) -> None:
    assert dialog.editor("risk_free_rate").value() == pytest.approx(1.235)  # 0.0123456 shown to 0.001 %
    assert dialog.editor("dividend_yield").value() == pytest.approx(1.8)
    assert dialog.editor("scanner.max_spread_pct").value() == pytest.approx(20.0)
    assert dialog.editor("scanner.min_annualized_return").value() == pytest.approx(12.0)


def test_accept_returns_edits_converted_once_and_keeps_the_rest(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.editor("theme").setCurrentIndex(dialog.editor("theme").findData("light"))
    dialog.editor("dividend_yield").setValue(2.25)
    dialog.editor("scanner.max_spread_pct").setValue(10.0)
    dialog.editor("scanner.dte_max").setValue(30)
    dialog.editor("log_level").setCurrentIndex(dialog.editor("log_level").findData("DEBUG"))
    with qtbot.waitSignal(dialog.settings_applied) as applied:
        _ok(dialog)
    result = dialog.result_settings()
    assert applied.args[0] == result
    assert (result.theme, result.log_level, result.scanner.dte_max) == ("light", "DEBUG", 30)
    assert result.dividend_yield == 0.0225 and result.scanner.max_spread_pct == 0.1  # exact decimals
    # untouched fields: the original values, not a value rounded by the spin box
    assert result.risk_free_rate == 0.0123456 and result.scanner.min_annualized_return == 0.12
    assert result.replay_date == date(2018, 1, 29) and result.schema_version == _original().schema_version


def test_unchanged_form_returns_equal_settings(dialog: SettingsDialog) -> None:
    _ok(dialog)
    assert dialog.result_settings() == _original()


def test_inverted_dte_range_disables_ok_and_shows_why(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.editor("scanner.dte_min").setValue(50)
    assert not dialog.buttons.button(OK).isEnabled()
    assert dialog.field_error("scanner.dte_max") == "must be at least the minimum DTE (50)"
    scanner_tab = dialog.tabs.indexOf(dialog.editor("scanner.dte_max").parentWidget())
    assert dialog.tabs.tabBar().tabTextColor(scanner_tab).name() == error_color()
    _ok(dialog)  # a click on the disabled button does nothing
    assert dialog.isVisible() and dialog.result_settings() == _original()
    dialog.editor("scanner.dte_max").setValue(60)
    assert dialog.buttons.button(OK).isEnabled() and dialog.field_error("scanner.dte_max") == ""
    assert dialog.tabs.tabBar().tabTextColor(scanner_tab).name() != error_color()


def test_inverted_delta_range_is_rejected(dialog: SettingsDialog) -> None:
    dialog.editor("scanner.delta_min").setValue(0.5)
    assert not dialog.buttons.button(OK).isEnabled()
    assert "minimum |delta|" in dialog.field_error("scanner.delta_max")
    assert dialog.form_settings() is None


def test_cancel_changes_nothing(qtbot: QtBot) -> None:
    original = _original()
    dialog = SettingsDialog(original)
    qtbot.addWidget(dialog)
    dialog.show()
    emitted: list[object] = []
    dialog.settings_applied.connect(emitted.append)
    dialog.editor("theme").setCurrentIndex(dialog.editor("theme").findData("light"))
    dialog.editor("scanner.dte_max").setValue(10)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not dialog.isVisible() and emitted == []
    assert dialog.result_settings() == _original()
    assert original == _original()  # the caller's object was never touched


def test_apply_emits_and_keeps_the_dialog_open(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.editor("replay_speed").setValue(5.0)
    with qtbot.waitSignal(dialog.settings_applied) as applied:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()
    assert applied.args[0].replay_speed == 5.0 and dialog.isVisible()
    assert dialog.result_settings().replay_speed == 5.0


def test_postgres_password_never_reaches_the_settings(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.db_postgres.setChecked(True)
    url_edit: QLineEdit = dialog.editor("db_url")
    url_edit.setFocus()
    url_edit.setText("postgresql://bob:p%40ss%3Aw0rd@db.example.com:5432/magnus")
    qtbot.keyClick(url_edit, Qt.Key.Key_Return)  # editingFinished moves the password out
    assert url_edit.text() == "postgresql://bob@db.example.com:5432/magnus"
    assert dialog.db_password_edit.text() == "p@ss:w0rd"
    _ok(dialog)
    result = dialog.result_settings()
    assert result.db_url == "postgresql://bob@db.example.com:5432/magnus"
    assert dialog.db_password() == "p@ss:w0rd"
    assert "p@ss" not in result.model_dump_json() and "w0rd" not in result.model_dump_json()


def test_password_typed_in_url_is_moved_even_when_ok_is_pressed_at_once(dialog: SettingsDialog) -> None:
    dialog.db_postgres.setChecked(True)
    dialog.editor("db_url").setText("postgresql://bob:hunter2@db/x")
    _ok(dialog)
    assert dialog.result_settings().db_url == "postgresql://bob@db/x" and dialog.db_password() == "hunter2"


@pytest.mark.parametrize(
    ("mode", "text", "message"),
    [
        ("sqlite", "", "choose a database file"),
        ("sqlite", "relative.sqlite3", "must be a full file path"),
        ("postgres", "not a url", "valid database URL"),
        ("postgres", "sqlite:////tmp/x.sqlite3", "a PostgreSQL URL starts with postgresql://"),
        ("postgres", "", "enter the server URL"),
    ],
)
def test_bad_database_choices_are_explained(dialog: SettingsDialog, mode: str, text: str, message: str) -> None:
    (dialog.db_sqlite if mode == "sqlite" else dialog.db_postgres).setChecked(True)
    dialog.editor("db_url").setText(text)
    assert message in dialog.field_error("db_url")
    assert not dialog.buttons.button(OK).isEnabled()


def test_sqlite_file_becomes_a_sqlite_url(dialog: SettingsDialog, tmp_path: Path) -> None:
    dialog.db_sqlite.setChecked(True)
    dialog.editor("db_url").setText(str(tmp_path / "my trades.sqlite3"))
    _ok(dialog)
    assert dialog.result_settings().db_url == f"sqlite:///{tmp_path / 'my trades.sqlite3'}"
    assert dialog.db_password() is None


def test_existing_database_settings_are_shown(qtbot: QtBot, tmp_path: Path) -> None:
    for url, button in ((f"sqlite:///{tmp_path / 'a.sqlite3'}", "db_sqlite"), ("postgresql://bob@db/x", "db_postgres"),
                        (None, "db_default")):
        dialog = SettingsDialog(Settings(db_url=url))
        qtbot.addWidget(dialog)
        assert getattr(dialog, button).isChecked()
        dialog.accept()
        assert dialog.result_settings().db_url == url


def test_log_folder_must_be_absolute_and_blank_means_default(dialog: SettingsDialog, tmp_path: Path) -> None:
    edit: QLineEdit = dialog.editor("log_dir")
    assert edit.placeholderText() == str(tmp_path / "logs")
    edit.setText("relative/logs")
    assert "full folder path" in dialog.field_error("log_dir") and not dialog.buttons.button(OK).isEnabled()
    edit.setText(str(tmp_path / "mylogs"))
    _ok(dialog)
    assert dialog.result_settings().log_dir == tmp_path / "mylogs"


def test_restore_defaults_resets_the_form_but_keeps_the_replay_day(dialog: SettingsDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    _ok(dialog)
    assert dialog.result_settings() == Settings(replay_date=date(2018, 1, 29))


def test_every_setting_has_an_editor_with_its_description(dialog: SettingsDialog) -> None:
    skipped = {"schema_version", "replay_date", "scanner", "market_data", "alerts", "kalshi", "research",
               "research_flow", "assistant", "desktop", "risk_limits", *ACCOUNT_FIELDS,  # bookkeeping; nested; accounts: own dialog
               *DOCK_FIELDS,  # the Risk dock's scenario editor (tests/ui/test_risk_scenarios.py)
               "shortcuts"}  # its own tab with the window's actions (tests/ui/test_shortcuts.py)
    names = [n for n in Settings.model_fields if n not in skipped]
    names += [f"scanner.{n}" for n in ScannerSettings.model_fields]
    names += [f"market_data.{n}" for n in MarketDataSettings.model_fields]
    names += [f"alerts.{n}" for n in AlertSettings.model_fields]
    names += [f"kalshi.{n}" for n in KalshiSettings.model_fields]
    names += [f"research.{n}" for n in ResearchSettings.model_fields]
    names += [f"research_flow.{n}" for n in ResearchFlowSettings.model_fields]
    names += [f"assistant.{n}" for n in AssistantSettings.model_fields]
    names += [f"risk_limits.{n}" for n in RiskLimitSettings.model_fields]
    # start_with_windows is shown on Windows only (tests/ui/test_desktop_integration.py)
    names += [f"desktop.{n}" for n in DesktopSettings.model_fields if n != "start_with_windows" or autostart_supported()]
    for name in names:
        model = {"scanner": ScannerSettings, "market_data": MarketDataSettings,
                 "alerts": AlertSettings, "kalshi": KalshiSettings,
                 "research": ResearchSettings, "research_flow": ResearchFlowSettings,
                 "assistant": AssistantSettings, "desktop": DesktopSettings,
                 "risk_limits": RiskLimitSettings}.get(name.split(".")[0], Settings)
        description = model.model_fields[name.split(".")[-1]].description
        assert description and dialog.editor(name).toolTip() == description, name


def test_keyring_backend_is_named(dialog: SettingsDialog) -> None:
    texts = [label.text() for label in dialog.findChildren(type(dialog.problem_label))]
    assert any("system keyring (test keyring)" in t for t in texts)


def test_restore_defaults_keeps_the_broker_accounts(qtbot: QtBot, tmp_path: Path) -> None:
    ib = AccountConfig(name="IB", kind="ib", client_id=9)
    original = Settings(accounts=[ib], active_account="IB", theme="light")
    d = SettingsDialog(original, keyring_backend="test keyring", default_log_dir=tmp_path / "logs")
    qtbot.addWidget(d)
    d.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    _ok(d)
    result = d.result_settings()
    assert result.theme == "dark"  # the form went back to defaults ...
    assert result.accounts == original.accounts and result.active_account == "IB"  # ... the accounts did not


def test_yfinance_quotes_are_off_by_default_and_the_checkbox_turns_them_on(dialog: SettingsDialog) -> None:
    box = dialog.editor("market_data.use_yfinance")
    assert not box.isChecked()
    box.setChecked(True)
    result = dialog.form_settings()
    assert result is not None and result.market_data.use_yfinance is True


def test_alert_thresholds_are_edited_in_the_alerts_tab(dialog: SettingsDialog) -> None:
    box = dialog.editor("alerts.profit_target_pct")
    box.setValue(65.0)  # type: ignore[attr-defined]
    dialog.editor("alerts.delta_enabled").setChecked(False)  # type: ignore[attr-defined]
    combo = dialog.editor("alerts.iv_cadence")
    combo.setCurrentIndex(combo.findData("4h"))  # type: ignore[attr-defined]
    _ok(dialog)
    result = dialog.result_settings().alerts
    assert (result.profit_target_pct, result.delta_enabled, result.iv_cadence) == (0.65, False, "4h")


def test_risk_tab_limits_are_off_until_set_and_offer_the_users_scenarios(qtbot: QtBot, tmp_path: Path) -> None:
    from magnus_desktop.services.settings import UserScenario

    original = Settings(risk_scenarios=[UserScenario(name="crash", index_move=-0.1)],
                        risk_limits=RiskLimitSettings(max_short_put_notional_usd=250_000.0))
    d = SettingsDialog(original, keyring_backend="test keyring", default_log_dir=tmp_path / "logs")
    qtbot.addWidget(d)
    loss = d.editor("risk_limits.max_loss_usd")
    assert loss.text() == "off" and d.editor("risk_limits.max_short_put_notional_usd").value() == 250_000.0
    combo = d.editor("risk_limits.max_loss_scenario")
    assert combo.currentData() == "2018-02-05"  # the default: the 5 Feb 2018 shock
    assert [combo.itemData(i) for i in range(combo.count())] == ["2018-02-05", "2015-08-24", "2020-03-16",
                                                                 "1987-10-19", "crash"]
    loss.setValue(50_000.0)
    combo.setCurrentIndex(combo.findData("crash"))
    d.editor("risk_limits.max_short_put_notional_usd").setValue(0.0)  # back to off
    _ok(d)
    limits = d.result_settings().risk_limits
    assert (limits.max_loss_usd, limits.max_loss_scenario, limits.max_short_put_notional_usd) == (50_000.0, "crash", None)
    assert d.result_settings().risk_scenarios == original.risk_scenarios
