"""Shared fixtures: every test runs with its own config/data/log folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: fixtures of the local Kalshi server (kalshi_key, kalshi_recorded, kalshi_server)
pytest_plugins = ["tests.fakes.kalshi_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point MAGNUS_DESKTOP_HOME at a fresh temp folder (settings, SQLite file, logs)."""
    home = tmp_path / "magnus-home"
    monkeypatch.setenv("MAGNUS_DESKTOP_HOME", str(home))
    return home


@pytest.fixture
def shared_data() -> Path:
    """The test-only third-party data folder ``../shared/data`` (never bundled)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: test-only third-party data is not part of the checkout")
    return SHARED_DATA
