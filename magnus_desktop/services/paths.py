"""Platform directories (config, data, logs) and the bundled resources folder.

``MAGNUS_DESKTOP_HOME`` (environment) puts config/data/logs under one folder instead of the
platform locations; the test suite and ``--screenshot`` runs use it to stay isolated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "MagnusDesktop"
APP_AUTHOR = "Magnus"
RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
DATA_RESOURCES_DIR = RESOURCES_DIR / "data"


@dataclass(frozen=True, slots=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def default_db_file(self) -> Path:
        return self.data_dir / "magnus.sqlite3"

    def ensure(self) -> AppPaths:
        for d in (self.config_dir, self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def app_paths() -> AppPaths:
    """Where this user's settings, database and logs live (created on demand by ``ensure``)."""
    home = os.environ.get("MAGNUS_DESKTOP_HOME")
    if home:
        root = Path(home)
        return AppPaths(root / "config", root / "data", root / "logs")
    return AppPaths(
        Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
        Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
        Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
    )
