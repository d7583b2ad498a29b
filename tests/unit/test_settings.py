from __future__ import annotations

import json
from pathlib import Path

from magnus_desktop.services.settings import SCHEMA_VERSION, Settings, SettingsStore


def test_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    s = Settings(theme="light", risk_free_rate=0.02)
    s.scanner.dte_max = 45
    store.save(s)
    loaded = store.load()
    assert loaded.theme == "light" and loaded.risk_free_rate == 0.02 and loaded.scanner.dte_max == 45
    assert store.problem is None


def test_corrupt_file_is_kept_aside_and_defaults_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{ not json", encoding="utf-8")
    store = SettingsStore(path)
    s = store.load()
    assert s == Settings()
    assert store.problem and "defaults" in store.problem
    aside = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == "{ not json"
    assert not path.exists()


def test_invalid_values_are_rejected_not_silently_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "risk_free_rate": 7}), encoding="utf-8")
    store = SettingsStore(path)
    assert store.load().risk_free_rate == Settings().risk_free_rate
    assert store.problem is not None


def test_newer_schema_is_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}), encoding="utf-8")
    store = SettingsStore(path)
    store.load()
    assert store.problem and "newer" in store.problem
