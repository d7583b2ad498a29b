"""Platform directories (config, data, logs) and the bundled resources folder.

``MAGNUS_DESKTOP_HOME`` (environment) puts config/data/logs under one folder instead of the
platform locations; the test suite and ``--screenshot`` runs use it to stay isolated.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs

APP_NAME = "MagnusDesktop"
APP_AUTHOR = "Magnus"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _find_resources_dir() -> Path:
    """The bundled assets folder: ``magnus_desktop/resources`` inside a wheel or a PyInstaller
    bundle (the build copies the top-level ``resources/`` there), else the checkout's top-level
    ``resources/`` (editable installs and source runs)."""
    packaged = _PACKAGE_DIR / "resources"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "resources"


RESOURCES_DIR = _find_resources_dir()
DATA_RESOURCES_DIR = RESOURCES_DIR / "data"


def resource_path(*parts: str) -> Path:
    """Path of a bundled asset, e.g. ``resource_path("data", "ohlcv", "x.csv")`` or
    ``resource_path("icons", "magnus.ico")``. Every asset is looked up through this function
    (or ``RESOURCES_DIR``), so the wheel, the bundle and a checkout agree. The path may not exist;
    callers that need it check."""
    return RESOURCES_DIR.joinpath(*parts)


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
        """Create the three folders; raises ``OSError`` if one cannot be created (tools and
        benchmarks). The app uses :meth:`prepare`, which never raises."""
        for d in (self.config_dir, self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def prepare(self) -> dict[FolderRole, str]:
        """Create the folders and check that each is writable (by writing a probe file).

        Returns:
            ``{role: message}`` for each folder that cannot be created or written, the message
            naming the folder and the OS reason; empty when all three work. Never raises.
        """
        problems: dict[FolderRole, str] = {}
        for role, folder in (("config", self.config_dir), ("data", self.data_dir), ("log", self.log_dir)):
            reason = folder_problem(folder)
            if reason:
                problems[role] = f"The {role} folder {folder} {reason}"
        return problems


FolderRole = Literal["config", "data", "log"]


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be used for writing (None when it can): created if missing, then a
    probe file is written and removed (``os.access`` lies for root and on network shares)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot be created ({exc.strerror or exc})."
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"is not writable ({exc.strerror or exc})."
    return None


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
