"""Settings schema v3: broker accounts (no secrets), the built-in demo account, the v2 → v3 migration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from magnus_desktop.services.settings import (
    DEMO_ACCOUNT,
    SCHEMA_VERSION,
    AccountConfig,
    Settings,
    SettingsStore,
    field_errors,
)


def _v2_file(path: Path) -> None:
    path.write_text(json.dumps({"schema_version": 2, "theme": "light", "risk_free_rate": 0.02,
                                "log_level": "DEBUG", "log_dir": None}), encoding="utf-8")


def test_v2_file_migrates_with_only_the_demo_account_active(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    _v2_file(path)
    store = SettingsStore(path)
    loaded = store.load()
    assert store.problem is None
    assert loaded.schema_version == SCHEMA_VERSION
    assert (loaded.theme, loaded.risk_free_rate, loaded.log_level) == ("light", 0.02, "DEBUG")
    assert [(a.name, a.kind) for a in loaded.accounts] == [(DEMO_ACCOUNT, "paper")]
    assert loaded.active_account == DEMO_ACCOUNT
    store.save(loaded)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["schema_version"] == SCHEMA_VERSION and saved["active_account"] == DEMO_ACCOUNT
    assert [a["name"] for a in saved["accounts"]] == [DEMO_ACCOUNT]


def test_accounts_round_trip_and_the_demo_stays_first(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    ib = AccountConfig(name="IB paper", kind="ib", port=4002, client_id=12, ib_account="DU1", live_trading_enabled=True)
    rh = AccountConfig(name="Robinhood", kind="robinhood", username="me@example.com")
    store.save(Settings(accounts=[ib, rh], active_account="IB paper"))
    loaded = store.load()
    assert store.problem is None
    assert [a.name for a in loaded.accounts] == [DEMO_ACCOUNT, "IB paper", "Robinhood"]
    assert loaded.account("IB paper") == ib and loaded.active_account == "IB paper"
    assert loaded.account("Robinhood").live_trading_enabled is False  # live orders are off by default
    with pytest.raises(KeyError):
        loaded.account("nope")


def test_a_hand_edited_demo_cannot_become_a_broker_account() -> None:
    with pytest.raises(ValidationError, match="built-in paper account"):
        AccountConfig(name=DEMO_ACCOUNT, kind="ib")
    # a file whose demo entry was edited (live trading on) gets the built-in demo back
    s = Settings.model_validate({"accounts": [{"name": DEMO_ACCOUNT, "kind": "paper", "live_trading_enabled": True}]})
    assert s.accounts == [AccountConfig(name=DEMO_ACCOUNT)]


def test_unknown_active_account_falls_back_to_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 3, "active_account": "deleted by hand"}), encoding="utf-8")
    loaded = SettingsStore(path).load()
    assert loaded.active_account == DEMO_ACCOUNT


@pytest.mark.parametrize(("fields", "where", "reason"), [
    ({"name": "  "}, ("name",), "at least 1 character"),
    ({"name": "a/b"}, ("name",), "'/'"),
    ({"name": "x", "kind": "ib", "port": 70000}, ("port",), "less than or equal to 65535"),
    ({"name": "x", "kind": "ib", "client_id": -1}, ("client_id",), "greater than or equal to 0"),
    ({"name": "x", "kind": "ib", "host": " "}, (), "host: enter the computer"),
    ({"name": "x", "kind": "robinhood"}, (), "username: enter the Robinhood sign-in"),
    ({"name": "x", "kind": "kalshi"}, ("kind",), "'paper', 'ib' or 'robinhood'"),
])
def test_bad_account_input_names_the_field(fields: dict, where: tuple, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AccountConfig.model_validate(fields)
    errors = field_errors(caught.value)
    assert any(loc == where and reason in text for loc, text in errors), errors


def test_duplicate_names_are_refused_case_insensitively() -> None:
    with pytest.raises(ValidationError, match="account names must be unique"):
        Settings(accounts=[AccountConfig(name="Main"), AccountConfig(name="main ")])


def test_the_schema_has_no_field_for_a_secret() -> None:
    names = set(AccountConfig.model_fields)
    assert not {n for n in names if any(w in n for w in ("password", "secret", "token", "totp"))}


def test_status_label_names_the_kind_once() -> None:
    from magnus_desktop.services.session.status import SessionStatus

    demo = SessionStatus(account="Demo (paper, replay)", kind="paper", state="connected", reason="")
    assert demo.label() == "Demo (paper, replay): connected"
    ib = SessionStatus(account="main", kind="ib", state="reconnecting", reason="socket closed", reconnect_count=2)
    assert ib.label() == "main (IB): reconnecting · 2 reconnects"
