"""Settings of the alerts centre: the v3 → v4 migration and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from magnus_desktop.services.settings import SCHEMA_VERSION, AlertSettings, Settings, SettingsStore


def test_v3_file_gets_the_alert_defaults_and_keeps_its_values(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 3, "theme": "light"}), encoding="utf-8")
    store = SettingsStore(path)
    loaded = store.load()
    assert store.problem is None and loaded.schema_version == SCHEMA_VERSION == 4
    assert loaded.theme == "light"
    a = loaded.alerts
    assert (a.expiration_high_dte, a.expiration_critical_dte, a.profit_target_pct, a.iv_rank_min) == (7, 3, 0.5, 80.0)


def test_alert_thresholds_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.save(Settings(alerts=AlertSettings(profit_target_pct=0.65, delta_enabled=False, iv_cadence="4h")))
    loaded = store.load().alerts
    assert (loaded.profit_target_pct, loaded.delta_enabled, loaded.iv_cadence) == (0.65, False, "4h")


def test_critical_days_above_high_days_is_refused() -> None:
    with pytest.raises(ValidationError, match="expiration_critical_dte"):
        AlertSettings(expiration_high_dte=2, expiration_critical_dte=5)
