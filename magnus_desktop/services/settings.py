"""Typed, versioned user settings stored as JSON in the platform config dir.

Secrets never live here (they go to the OS keyring). Window geometry and dock state live in
``QSettings`` (UI layer). A settings file that cannot be read or validated is moved aside to
``settings.json.corrupt-<timestamp>`` and defaults are used; the caller gets a message to show.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class ScannerSettings(BaseModel):
    """Default filters of the wheel scanner (bounds on |delta|; spread and returns as decimals)."""

    model_config = ConfigDict(extra="ignore")

    right: Literal["P", "C", "both"] = "P"
    dte_min: int = Field(default=0, ge=0)
    dte_max: int = Field(default=60, ge=0)
    delta_min: float = Field(default=0.05, ge=0.0, le=1.0)
    delta_max: float = Field(default=0.35, ge=0.0, le=1.0)
    min_open_interest: float = Field(default=0.0, ge=0.0)
    max_spread_pct: float = Field(default=0.25, ge=0.0)
    min_annualized_return: float = Field(default=0.0, ge=0.0)
    premium_source: Literal["bid", "mid"] = "bid"


class Settings(BaseModel):
    """Everything the user can change (except secrets and window layout).

    Attributes:
        risk_free_rate: annualised, continuously compounded decimal used by pricing and IV.
        dividend_yield: continuous decimal yield of the replay underlying (SPX).
        commission_per_contract: USD per option contract for paper fills.
        demo_starting_cash: USD of the demo account when it is (re)created.
        replay_speed: trading days per second while the replay plays.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SCHEMA_VERSION
    theme: Literal["light", "dark"] = "dark"
    db_url: str | None = None
    risk_free_rate: float = Field(default=0.015, ge=-0.05, le=0.25)
    dividend_yield: float = Field(default=0.0, ge=0.0, le=0.25)
    commission_per_contract: float = Field(default=0.65, ge=0.0)
    demo_starting_cash: float = Field(default=2_000_000.0, gt=0.0)
    replay_speed: float = Field(default=2.0, gt=0.0, le=50.0)
    replay_date: date | None = None
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)


# Migrations from version N to N+1, applied to the raw dict before validation.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class SettingsStore:
    """Loads and saves :class:`Settings` atomically (write temp file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: message for the user when the last ``load`` had to fall back to defaults
        self.problem: str | None = None

    def load(self) -> Settings:
        self.problem = None
        if not self.path.exists():
            return Settings()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("top level is not a JSON object")
            return Settings.model_validate(self._migrate(raw))
        except (OSError, ValueError, ValidationError) as exc:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                os.replace(self.path, aside)
                where = f"it was kept as {aside}"
            except OSError as move_exc:
                where = f"it could not be moved aside ({move_exc})"
            self.problem = f"Settings file {self.path} could not be read ({exc}); defaults are used and {where}."
            log.warning(self.problem)
            return Settings()

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, self.path)

    @staticmethod
    def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
        version = int(raw.get("schema_version", 1))
        if version > SCHEMA_VERSION:
            raise ValueError(f"schema_version {version} is newer than this app ({SCHEMA_VERSION})")
        while version < SCHEMA_VERSION:
            raw = MIGRATIONS[version](raw)
            version += 1
            raw["schema_version"] = version
        return raw
