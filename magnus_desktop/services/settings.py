"""Typed, versioned user settings stored as JSON in the platform config dir.

Secrets never live here: ``db_url`` is stored without its password (the Settings dialog hands the
password to the caller, which keeps it in the OS keyring), and broker accounts (:class:`AccountConfig`)
hold only where to connect; passwords and TOTP secrets are in the keyring under
``magnus-desktop/<kind>/<account name>``. Window geometry and dock state live in ``QSettings`` (UI layer).

Loading never raises: a settings file that cannot be read, parsed or validated (bad JSON, a JSON
value of the wrong shape, out-of-range values, a folder at the path, an unreadable file) is moved
aside to ``settings.json.corrupt-<timestamp>``, defaults are used, and ``SettingsStore.problem``
holds one readable paragraph for the user. Saving writes a 0600 temp file and renames it over the
old one, so a failed save (:class:`SettingsSaveError`) leaves the previous file intact.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url

from magnus_desktop.services.credentials.db_url import split_db_url  # the one implementation

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
#: a settings file is a few KB; anything bigger is not ours and is not read into memory
MAX_FILE_BYTES = 1_000_000
#: longest error list shown to the user (the rest is counted)
MAX_LISTED_ERRORS = 3
MAX_DTE = 3650
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
_DB_BACKENDS = ("sqlite", "postgresql")
#: the built-in paper account: always present, cannot be deleted or renamed, the default active account
DEMO_ACCOUNT = "Demo (paper, replay)"
#: Settings fields owned by the accounts dialog / broker session manager, not the Settings dialog
ACCOUNT_FIELDS = ("accounts", "active_account")
#: Settings fields owned by a dock's editor (the Risk dock's scenarios), not the Settings dialog
DOCK_FIELDS = ("risk_scenarios",)
AccountKind = Literal["paper", "ib", "robinhood"]
#: TWS / IB Gateway API ports as IB ships them
IB_PORTS = {"TWS paper": 7497, "TWS live": 7496, "Gateway paper": 4002, "Gateway live": 4001}
MAX_ACCOUNT_NAME = 60
#: shortcut overrides: how many, how long one key sequence's text may be, what an action id looks like
MAX_SHORTCUTS = 500
MAX_SHORTCUT_CHARS = 80
_ACTION_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")



class SettingsSaveError(Exception):
    """The settings file could not be written; the previous file (if any) is unchanged.

    Attributes:
        path: the settings file that was being written.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"Could not save the settings to {path} ({reason}). The previous settings file is unchanged; "
            "check that the folder is writable and the disk is not full."
        )


def strip_db_password(url: str) -> str:
    """``url`` without its password (the password belongs in the keyring, never in settings)."""
    return split_db_url(url)[0]


class MarketDataSettings(BaseModel):
    """Where quotes come from besides the broker session and the replay."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    use_yfinance: bool = Field(
        default=False,
        description="Ask Yahoo Finance (delayed, needs the internet) for watchlist quotes after the connected "
                    "broker session and before the replay. Off by default: the app works offline.")


class AssistantSettings(BaseModel):
    """The private assistant: the local model behind the dock (llama.cpp; any GGUF chat model, its chat
    template read from the file) and the notes folder it indexes. Its knowledge index lives in the data folder."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    model_path: Path | None = Field(
        default=None,
        description="GGUF model file (for example a 3-8B instruct model); empty = the bundled "
                    "SmolLM2-135M-Instruct (Q4_1, Apache-2.0).")
    n_ctx: int = Field(default=2048, ge=512, le=131072,
                       description="Context length in tokens: the question, the tool results and the answer must fit.")
    threads: int = Field(default=0, ge=0, le=256,
                         description="CPU threads for the model; 0 = automatic (half the CPUs, 1 to 4).")
    temperature: float = Field(default=0.2, ge=0.0, le=2.0,
                               description="Sampling temperature of the summaries (0 = always the likeliest word).")
    gpu_layers: int = Field(default=0, ge=0, le=1000,
                            description="Model layers offloaded to a GPU (0 = CPU only; needs a GPU build of llama.cpp).")

    @field_validator("model_path", mode="before")
    @classmethod
    def _blank_is_bundled(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("model_path")
    @classmethod
    def _model_path_absolute(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        if not path.is_absolute():
            raise ValueError("must be a full file path (for example /home/me/models/qwen2.5-3b-instruct-q4_k_m.gguf)")
        return path


    notes_folder: Path | None = Field(
        default=None,
        description="A folder of your own notes (.md, .markdown, .txt, searched recursively) that the "
                    "assistant indexes in the background and cites; only new or changed files are indexed "
                    "again. Empty = no notes. The notes never leave this computer.")

    @field_validator("notes_folder", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("notes_folder")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        # a folder that does not exist (yet, or any more) is allowed: the indexer says so, and a
        # settings file must never become unusable because a folder was removed
        if value is None:
            return None
        path = value.expanduser()
        if not path.is_absolute():
            raise ValueError("must be a full folder path (for example /home/me/trading-notes)")
        return path


#: how often a monitor runs besides every replay step / quote batch ("daily_0700" = 07:00 local time)
Cadence = Literal["30min", "hourly", "4h", "daily_0700"]
CADENCES: tuple[Cadence, ...] = ("30min", "hourly", "4h", "daily_0700")


class AlertSettings(BaseModel):
    """Monitors of the alerts centre: an on/off switch, thresholds and a cadence per monitor, the
    de-duplication cool-down, quiet hours and the tray behaviour. Fractions are decimals (0.5 = 50 %)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, hide_input_in_errors=True)

    cooldown_hours: float = Field(
        default=72.0, ge=0.0, le=24.0 * 90,
        description="The same monitor does not raise about the same subject again within this many hours "
                    "(unless the priority goes up).")
    quiet_hours_enabled: bool = Field(default=False, description="No tray notifications during the quiet hours.")
    quiet_from_hour: int = Field(default=22, ge=0, le=23, description="Quiet hours start at this hour (local time, 0-23).")
    quiet_to_hour: int = Field(default=7, ge=0, le=23, description="Quiet hours end at this hour (local time, 0-23).")
    close_to_tray: bool = Field(
        default=False, description="Closing the window hides it in the system tray: the app and its monitors keep "
                                   "running (the tray menu's Quit ends it). Needs a system tray.")
    minimize_to_tray: bool = Field(
        default=False, description="Minimising the window hides it in the system tray (click the tray icon or its "
                                   "Show / hide window to bring it back). Needs a system tray.")
    expiration_enabled: bool = Field(default=True, description="Monitor: options close to expiry.")
    expiration_high_dte: int = Field(default=7, ge=0, le=MAX_DTE,
                                     description="Expiration: HIGH at this many calendar days to expiry or fewer.")
    expiration_critical_dte: int = Field(
        default=3, ge=0, le=MAX_DTE, description="Expiration: CRITICAL at this many calendar days or fewer (and on expiry day).")
    expiration_cadence: Cadence = Field(default="daily_0700", description="Expiration: how often it runs.")
    profit_target_enabled: bool = Field(default=True, description="Monitor: short options at their profit target.")
    profit_target_pct: float = Field(
        default=0.50, gt=0.0, le=1.0,
        description="Profit target: share of a short option's max profit (the opening credit) captured; a decimal (0.5 = 50 %).")
    profit_target_cadence: Cadence = Field(default="30min", description="Profit target: how often it runs.")
    assignment_enabled: bool = Field(default=True, description="Monitor: assignment risk of short options.")
    assignment_distance_pct: float = Field(
        default=0.02, ge=0.0, le=0.5,
        description="Assignment risk: a short option within this distance of its strike counts as at risk; "
                    "a decimal of the underlying price (0.02 = 2 %).")
    assignment_max_extrinsic: float = Field(
        default=0.50, ge=0.0, le=1e6,
        description="Assignment risk: extrinsic value below this (USD per share) leaves little reason not to exercise.")
    assignment_cadence: Cadence = Field(default="30min", description="Assignment risk: how often it runs.")
    delta_enabled: bool = Field(default=True, description="Monitor: the portfolio's net delta.")
    delta_band_shares: float = Field(
        default=500.0, gt=0.0, le=1e9,
        description="Portfolio delta: alert when the net delta, beta-weighted to SPY, is beyond ± this many SPY shares.")
    delta_cadence: Cadence = Field(default="hourly", description="Portfolio delta: how often it runs.")
    earnings_enabled: bool = Field(default=True, description="Monitor: earnings dates before a position's expiry.")
    earnings_cadence: Cadence = Field(default="daily_0700", description="Earnings risk: how often it runs.")
    watchlist_enabled: bool = Field(default=True, description="Monitor: scanner opportunities on watchlist symbols.")
    watchlist_min_score: float = Field(
        default=0.10, ge=0.0, le=100.0,
        description="Watchlist opportunities: alert when a watchlist symbol's best scanner score crosses this "
                    "(score = annualized return × P(OTM) × (1 − spread); a decimal, 0.10 = 10 %).")
    watchlist_cadence: Cadence = Field(default="4h", description="Watchlist opportunities: how often it runs.")
    iv_enabled: bool = Field(default=True, description="Monitor: unusual implied volatility.")
    iv_rank_min: float = Field(default=80.0, ge=0.0, le=100.0,
                               description="Unusual IV: alert at this IV rank or above (0-100, over the last year).")
    iv_jump_points: float = Field(
        default=5.0, gt=0.0, le=500.0, description="Unusual IV: alert on a day-over-day IV rise of this many vol points or more.")
    iv_cadence: Cadence = Field(default="hourly", description="Unusual IV: how often it runs.")
    kalshi_enabled: bool = Field(default=True, description="Monitor: Kalshi mispricing (once Kalshi markets are connected).")
    kalshi_min_edge: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="Kalshi: alert when model probability − price − fees is at least this, USD per 1-USD contract.")
    kalshi_cadence: Cadence = Field(default="30min", description="Kalshi mispricing: how often it runs.")
    risk_limits_enabled: bool = Field(
        default=True, description="Monitor: the risk limits of Settings → Risk (each limit is off until you set it); "
                                  "also runs on every new risk report.")
    risk_limits_cadence: Cadence = Field(default="hourly", description="Risk limits: how often it runs.")

    @model_validator(mode="after")
    def _critical_inside_high(self) -> AlertSettings:
        if self.expiration_critical_dte > self.expiration_high_dte:
            raise ValueError("expiration_critical_dte must be at most expiration_high_dte")
        return self


#: the built-in stress scenarios of the Risk dock (``services.risk.history``), by name
BUILTIN_SCENARIOS: tuple[str, ...] = ("2018-02-05", "2015-08-24", "2020-03-16", "1987-10-19")
MAX_USER_SCENARIOS = 50
MAX_SCENARIO_NAME = 40


def _above_minus_one(value: float, prefix: str = "") -> float:
    if not math.isfinite(value):
        raise ValueError(f"{prefix}must be a number (not NaN or infinite)")
    if value <= -1.0:
        raise ValueError(f"{prefix}must be above -100 % (a price or IV cannot fall to zero or below)")
    return value


class UserScenario(BaseModel):
    """A stress scenario the trader defined in the Risk dock (moves are decimals: -0.1 = -10 %).

    Attributes:
        name: unique key (not a built-in scenario's name), 1-40 characters.
        index_move: the broad index's move; any underlying without its own move moves by
            beta x this (decimal, above -1).
        moves: underlying symbol (upper case) -> its own price move (decimal, above -1).
        iv_change: relative change of every option's IV (decimal, above -1; +1.0 = IV doubles).
        days: calendar days that pass (0-3650).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    name: str = Field(min_length=1, max_length=MAX_SCENARIO_NAME, description="Scenario name (unique).")
    index_move: float = Field(default=0.0, description="Index move, a decimal (-0.1 = -10 %).")
    moves: dict[str, float] = Field(default_factory=dict, description="Underlying -> own move, decimals.")
    iv_change: float = Field(default=0.0, description="Relative IV change, a decimal (+1.0 = IV doubles).")
    days: int = Field(default=1, ge=0, le=MAX_DTE, description="Calendar days that pass.")

    @field_validator("name", mode="before")
    @classmethod
    def _strip_name(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _not_builtin(cls, value: str) -> str:
        if any(not ch.isprintable() for ch in value):
            raise ValueError("may not contain control characters")
        if value.casefold() in {b.casefold() for b in BUILTIN_SCENARIOS}:
            raise ValueError(f"{value!r} is the name of a built-in scenario; choose another name")
        return value

    @field_validator("index_move")
    @classmethod
    def _index_move(cls, value: float) -> float:
        return _above_minus_one(value)

    @field_validator("iv_change")
    @classmethod
    def _iv_change(cls, value: float) -> float:
        return _above_minus_one(value)

    @field_validator("moves", mode="before")
    @classmethod
    def _upper_symbols(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip().upper(): v for k, v in value.items()}
        return value

    @field_validator("moves")
    @classmethod
    def _moves(cls, value: dict[str, float]) -> dict[str, float]:
        for symbol, move in value.items():
            if not symbol or len(symbol) > 20 or not all(ch.isalnum() or ch in "^.-_/" for ch in symbol):
                raise ValueError(f"{symbol[:20]!r} is not an underlying symbol")
            _above_minus_one(move, f"the move of {symbol} ")
        return value


class RiskLimitSettings(BaseModel):
    """Risk limits that feed the alerts (the ``risk_limits`` monitor). Every limit is off (None) by
    default: a limit only means something for the trader's own account size. Amounts in USD."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, hide_input_in_errors=True)

    max_loss_usd: float | None = Field(
        default=None, gt=0.0, le=1e12,
        description="Most the book may lose in the chosen stress scenario (full revaluation), USD; "
                    "off = no limit.")
    max_loss_scenario: str = Field(
        default="2018-02-05", min_length=1, max_length=MAX_SCENARIO_NAME,
        description="The stress scenario of the max-loss limit: a built-in shock (default 2018-02-05, SPX -4.1 %, "
                    "VIX +116 %) or one of your scenarios from the Risk dock.")
    max_short_put_notional_usd: float | None = Field(
        default=None, gt=0.0, le=1e12,
        description="Most notional in short puts: strike × multiplier (100) × contracts summed over short puts, "
                    "USD; off = no limit.")
    max_underlying_notional_usd: float | None = Field(
        default=None, gt=0.0, le=1e12,
        description="Most gross notional per underlying: |qty| × multiplier × underlying price over its options "
                    "and shares, USD; off = no limit.")


class KalshiSettings(BaseModel):
    """Kalshi prediction markets (the API key id and private key live in the keyring, not here)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True, allow_inf_nan=False)

    enabled: bool = Field(default=False, description="Connect to Kalshi for live markets (needs the network). "
                          "Off: the Kalshi dock shows the markets cached from the last online session.")
    environment: Literal["production", "demo"] = Field(
        default="production", description="Kalshi's production exchange (real money) or its demo environment "
                                          "(practice funds, its own API key).")
    base_url: str = Field(default="", max_length=300,
                          description="API address override (empty = the environment's own, "
                                      "…/trade-api/v2); for a local test server.")
    live_trading_enabled: bool = Field(
        default=False, description="Allow the Kalshi order ticket to send orders (each one still asks for a typed "
                                   "confirmation). Off: tickets preview only.")
    kelly_fraction: float = Field(default=0.25, ge=0.0, le=1.0,
                                  description="Kelly multiplier of the suggested stake (0.25 = quarter Kelly).")
    kelly_cap: float = Field(default=0.05, ge=0.0, le=1.0,
                             description="Most of the Kalshi balance one suggested stake may take (0.05 = 5 %).")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be empty or start with http:// or https://")
        return value


class ResearchSettings(BaseModel):
    """The research desk: supply/demand zone detection and the earnings-dates file."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, hide_input_in_errors=True)

    zone_max_base_candles: int = Field(
        default=6, ge=1, le=6, description="Supply/demand zones: most narrow candles in a base (1-6).")
    zone_narrow_atr: float = Field(
        default=0.7, gt=0.0, le=3.0,
        description="Supply/demand zones: a base candle is narrow when its high-low range is at most this many ATR(14).")
    zone_departure_atr: float = Field(
        default=1.5, gt=0.0, le=10.0,
        description="Supply/demand zones: the move away from a base (close beyond the base, within 3 bars) "
                    "must be at least this many ATR(14) (k).")
    zone_lookback_days: int = Field(
        default=250, ge=30, le=2000, description="Supply/demand zones: trading days searched back from the day shown.")
    earnings_file: str = Field(
        default="", max_length=1000,
        description="Earnings dates CSV (columns ticker/symbol and date/dates/earnings_date, YYYY-MM-DD); "
                    "empty = none. Used before Yahoo Finance (which needs Quotes from Yahoo Finance on).")


class ResearchFlowSettings(BaseModel):
    """The research desk's options flow, sector concentration and calendar-spread screens."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, hide_input_in_errors=True)

    flow_vol_oi_min: float = Field(
        default=1.0, ge=0.0, le=100.0, description="Options flow: flag a contract whose volume / open interest is at least this.")
    flow_jump_min: float = Field(
        default=3.0, ge=1.0, le=100.0,
        description="Options flow: flag a contract whose volume is at least this many times its own average volume.")
    flow_premium_min: float = Field(
        default=1_000_000.0, ge=0.0, le=1e10,
        description="Options flow: flag a contract with at least this premium traded (volume × mid × 100), USD.")
    flow_oi_change_min: float = Field(
        default=2_000.0, ge=1.0, le=1e7,
        description="Options flow: flag an open-interest change (day over day) of at least this many contracts.")
    flow_min_volume: float = Field(
        default=100.0, ge=0.0, le=1e7,
        description="Options flow: the vol/OI and volume-jump screens ignore contracts below this volume (contracts).")
    flow_lookback_days: int = Field(
        default=10, ge=1, le=60, description="Options flow: earlier quote days averaged for a contract's own volume.")
    sector_concentration_pct: float = Field(
        default=0.35, ge=0.05, le=1.0,
        description="Sectors: warn when one sector holds at least this share of the book's gross delta-dollars "
                    "or market value.")
    calendar_max_moneyness: float = Field(
        default=0.15, ge=0.01, le=1.0,
        description="Calendar spreads: only strikes within this distance of the underlying price (|K/S − 1|).")
    calendar_min_near_dte: int = Field(
        default=1, ge=0, le=MAX_DTE, description="Calendar spreads: the near leg's least days to expiry.")
    calendar_max_far_dte: int = Field(
        default=400, ge=1, le=MAX_DTE, description="Calendar spreads: the far leg's most days to expiry.")


class ScannerSettings(BaseModel):
    """Default filters of the wheel scanner (bounds on |delta|; spread and returns as decimals)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, hide_input_in_errors=True)

    right: Literal["P", "C", "both"] = Field(
        default="P", description="Which options to sell: puts (cash-secured), calls (covered) or both.")
    dte_min: int = Field(default=0, ge=0, le=MAX_DTE,
                         description="Shortest time to expiry to scan, in calendar days.")
    dte_max: int = Field(default=60, ge=0, le=MAX_DTE,
                         description="Longest time to expiry to scan, in calendar days (at least the minimum).")
    delta_min: float = Field(default=0.05, ge=0.0, le=1.0,
                             description="Smallest |delta| (0 to 1) of an option to sell.")
    delta_max: float = Field(default=0.35, ge=0.0, le=1.0,
                             description="Largest |delta| (0 to 1) of an option to sell (at least the minimum).")
    min_open_interest: float = Field(
        default=0.0, ge=0.0, le=1e9,
        description="Fewest open contracts an option needs; 0 also keeps options whose open interest is unknown.")
    max_spread_pct: float = Field(
        default=0.25, ge=0.0, le=2.0,
        description="Widest bid/ask spread allowed, as (ask − bid) / mid; a decimal (0.25 = 25 %). "
                    "At most 2 (200 %): with a bid above 0 the spread can never be wider.")
    min_annualized_return: float = Field(
        default=0.0, ge=0.0, le=100.0,
        description="Lowest annualized premium return on the collateral; a decimal (0.12 = 12 % a year).")
    premium_source: Literal["bid", "mid"] = Field(
        default="bid", description="Premium used for the returns: the bid (what a sell order gets) or the mid.")

    @field_validator("dte_max")
    @classmethod
    def _dte_order(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("dte_min")
        if low is not None and value < low:
            raise ValueError(f"must be at least the minimum DTE ({low})")
        return value

    @field_validator("delta_max")
    @classmethod
    def _delta_order(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("delta_min")
        if low is not None and value < low:
            raise ValueError(f"must be at least the minimum |delta| ({low:g})")
        return value


class AccountConfig(BaseModel):
    """One broker account of Settings → Accounts. Never holds a secret.

    Only the fields of its ``kind`` are used: ``host``/``port``/``client_id``/``ib_account`` for
    Interactive Brokers, ``username`` for Robinhood (its password and TOTP secret live in the keyring
    under ``magnus-desktop/robinhood/<name>``). The paper kind needs nothing.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    name: str = Field(min_length=1, max_length=MAX_ACCOUNT_NAME,
                      description="Your name for the account, shown in the status bar (unique; no '/').")
    kind: AccountKind = Field(default="paper", description="Paper (replay, no broker), Interactive Brokers "
                              "(TWS or IB Gateway) or Robinhood.")
    host: str = Field(default="127.0.0.1", max_length=253,
                      description="Computer running TWS or IB Gateway (127.0.0.1 = this computer).")
    port: int = Field(default=IB_PORTS["TWS paper"], ge=1, le=65535,
                      description="API port set in TWS/Gateway (Configure → API → Settings): TWS paper 7497, "
                                  "TWS live 7496, Gateway paper 4002, Gateway live 4001.")
    client_id: int = Field(default=1, ge=0, le=2_147_483_647,
                           description="API client id; each program connected to the same TWS needs its own.")
    ib_account: str = Field(default="", max_length=32,
                            description="IB account code (e.g. DU1234567); empty = the first account TWS reports.")
    username: str = Field(default="", max_length=254,
                          description="Robinhood sign-in e-mail or user name (the password and TOTP secret are "
                                      "kept in the system keyring, never in this file).")
    live_trading_enabled: bool = Field(
        default=False, description="Allow orders to be sent to this broker for real. Off by default: orders "
                                   "are then refused before anything is sent.")

    @field_validator("name", "host", "ib_account", "username", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name_chars(cls, value: str) -> str:
        if "/" in value or any(not ch.isprintable() for ch in value):
            raise ValueError("may not contain '/' or control characters")
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> AccountConfig:
        if self.name == DEMO_ACCOUNT and self.kind != "paper":
            raise ValueError(f"'{DEMO_ACCOUNT}' is the built-in paper account; choose another name")
        if self.kind == "ib" and not self.host:
            raise ValueError("host: enter the computer running TWS or IB Gateway (127.0.0.1 = this one)")
        if self.kind == "robinhood" and not self.username:
            raise ValueError("username: enter the Robinhood sign-in e-mail or user name")
        return self


def demo_account() -> AccountConfig:
    """The built-in paper account (replay data, no broker)."""
    return AccountConfig(name=DEMO_ACCOUNT, kind="paper")


class DesktopSettings(BaseModel):
    """How the app starts on this computer. Both off by default."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    start_with_windows: bool = Field(
        default=False,
        description="Start Magnus Desktop when you log on to Windows (a per-user Run entry; no admin rights).")
    start_minimized_to_tray: bool = Field(
        default=False,
        description="Start with the window hidden and only the tray icon shown (click it to open the window). "
                    "Without a system tray the window starts minimised instead.")


class Settings(BaseModel):
    """Everything the user can change (except secrets and window layout).

    Every field's ``description`` is the help text the Settings dialog shows. Rates and yields
    are decimals (0.015 = 1.5 %); money is USD.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True, allow_inf_nan=False,
                              hide_input_in_errors=True)  # inputs may be secrets (db_url)

    schema_version: int = Field(default=SCHEMA_VERSION,
                                description="Layout version of the settings file; older files are migrated.")
    theme: Literal["light", "dark"] = Field(default="dark", description="Colours of the whole window and charts.")
    db_url: str | None = Field(
        default=None,
        description="Where trades and watchlists are stored: empty = the SQLite file in the data folder, "
                    "sqlite:///path/to/file.sqlite3, or postgresql://user@host:5432/dbname. Never holds a "
                    "password: the password is kept in the system keyring.")
    risk_free_rate: float = Field(
        default=0.015, ge=-0.05, le=0.25,
        description="Annualized, continuously compounded risk-free rate used for option prices, "
                    "implied volatility and Greeks; a decimal (0.015 = 1.5 %).")
    dividend_yield: float = Field(
        default=0.0, ge=0.0, le=0.25,
        description="Continuous dividend yield of the replay underlying (SPX); a decimal (0.018 = 1.8 %).")
    commission_per_contract: float = Field(
        default=0.65, ge=0.0, le=100.0, description="Commission charged per option contract on paper fills, USD.")
    demo_starting_cash: float = Field(
        default=2_000_000.0, gt=0.0, le=1e12,
        description="Cash of the demo paper account when it is first created, USD.")
    performance_starting_capital: float = Field(
        default=0.0, ge=0.0, le=1e12,
        description="Cash at the start of an imported account's history, USD, for the Performance dock's returns "
                    "and ratios when no statement states it (0 = unknown: only USD figures are shown).")
    replay_speed: float = Field(default=2.0, gt=0.0, le=50.0,
                                description="Trading days per second while the replay plays.")
    replay_date: date | None = Field(default=None, description="Replay day shown last; the replay resumes there.")
    log_level: LogLevel = Field(
        default="INFO", description="Least severe messages written to the log file (DEBUG is the most detailed).")
    log_dir: Path | None = Field(
        default=None, description="Folder of the log files; empty = the platform's log folder for this app.")
    scanner: ScannerSettings = Field(default_factory=ScannerSettings,
                                     description="Default filters of the wheel scanner.")
    market_data: MarketDataSettings = Field(
        default_factory=MarketDataSettings,
        description="Quote sources: connected broker session → yfinance (only when use_yfinance) → replay.")
    accounts: list[AccountConfig] = Field(
        default_factory=lambda: [demo_account()],
        description="Broker accounts (Settings → Accounts); the built-in demo paper account is always first.")
    active_account: str = Field(default=DEMO_ACCOUNT, description="Name of the account the broker session uses.")
    alerts: AlertSettings = Field(default_factory=AlertSettings,
                                  description="Monitors, thresholds, cool-down, quiet hours and tray behaviour of the alerts centre.")
    shortcuts: dict[str, str] = Field(
        default_factory=dict,
        description="Keyboard shortcuts changed in Settings → Shortcuts: action id → key sequence in portable "
                    "text (\"Ctrl+Shift+K\"; \"\" = no shortcut). Actions not listed keep their default.")
    kalshi: KalshiSettings = Field(default_factory=KalshiSettings,
                                   description="Kalshi connection, live-trading switch and stake sizing.")
    research: ResearchSettings = Field(default_factory=ResearchSettings,
                                       description="Research desk: supply/demand zone parameters and the earnings file.")
    research_flow: ResearchFlowSettings = Field(
        default_factory=ResearchFlowSettings,
        description="Research desk: options-flow thresholds, sector concentration and calendar-spread filters.")
    assistant: AssistantSettings = Field(default_factory=AssistantSettings,
                                         description="The private assistant: its local model (file, context, threads, temperature, GPU layers) and the notes folder it indexes.")
    desktop: DesktopSettings = Field(default_factory=DesktopSettings,
                                     description="Start with Windows and start minimised to the tray.")
    risk_limits: RiskLimitSettings = Field(
        default_factory=RiskLimitSettings,
        description="Risk limits (max loss in a stress scenario, short-put notional, notional per underlying) "
                    "checked by the risk-limits alert monitor.")
    risk_scenarios: list[UserScenario] = Field(
        default_factory=list, max_length=MAX_USER_SCENARIOS,
        description="Your stress scenarios, edited in the Risk dock's Stress tab (shown next to the built-in ones).")

    @field_validator("accounts")
    @classmethod
    def _accounts_with_demo_and_unique(cls, value: list[AccountConfig]) -> list[AccountConfig]:
        seen: set[str] = set()
        for account in value:
            key = account.name.casefold()
            if key in seen:
                raise ValueError(f"two accounts are named {account.name!r}; account names must be unique")
            seen.add(key)
        others = [a for a in value if a.name != DEMO_ACCOUNT]
        return [demo_account(), *others]

    @field_validator("active_account")
    @classmethod
    def _active_is_known(cls, value: str, info: ValidationInfo) -> str:
        accounts = info.data.get("accounts")
        if accounts is not None and value not in {a.name for a in accounts}:
            log.warning("active account %r is not among the accounts; the demo account is used", value)
            return DEMO_ACCOUNT
        return value

    @field_validator("risk_scenarios")
    @classmethod
    def _unique_scenario_names(cls, value: list[UserScenario]) -> list[UserScenario]:
        seen: set[str] = set()
        for scenario in value:
            key = scenario.name.casefold()
            if key in seen:
                raise ValueError(f"two scenarios are named {scenario.name!r}; scenario names must be unique")
            seen.add(key)
        return value

    @field_validator("shortcuts")
    @classmethod
    def _shortcut_entries(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_SHORTCUTS:
            raise ValueError(f"{len(value)} shortcuts; at most {MAX_SHORTCUTS}")
        for action_id, keys in value.items():
            if not _ACTION_ID.fullmatch(action_id):
                raise ValueError(f"{action_id[:40]!r} is not an action id (lower-case words joined by '.' or '_')")
            if len(keys) > MAX_SHORTCUT_CHARS or any(not ch.isprintable() for ch in keys):
                raise ValueError(f"the shortcut of {action_id} is not a key sequence")
        return value

    def account(self, name: str) -> AccountConfig:
        """The account called ``name``. Raises KeyError (with the name) when there is none."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    @field_validator("db_url")
    @classmethod
    def _db_url_without_password(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = strip_db_password(value)
        backend = make_url(url).get_backend_name()
        if backend not in _DB_BACKENDS:
            raise ValueError(f"unsupported database '{backend}'; use sqlite:/// or postgresql://")
        return url

    @field_validator("log_dir", mode="before")
    @classmethod
    def _blank_log_dir_is_default(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_dir")
    @classmethod
    def _log_dir_absolute(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        if not path.is_absolute():
            raise ValueError("must be a full folder path (for example /home/me/magnus-logs)")
        return path


def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added ``log_level`` and ``log_dir`` (defaults: INFO, platform folder)."""
    raw.setdefault("log_level", "INFO")
    raw.setdefault("log_dir", None)
    return raw


def _v2_to_v3(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 3 added broker accounts: only the built-in demo paper account, and it is active."""
    raw.setdefault("accounts", [demo_account().model_dump(mode="json")])
    raw.setdefault("active_account", DEMO_ACCOUNT)
    return raw


def _v3_to_v4(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 4 added the alerts centre's settings (every monitor on, the issue's thresholds)."""
    raw.setdefault("alerts", AlertSettings().model_dump(mode="json"))
    return raw


# Migrations from version N to N+1, applied to the raw dict before validation.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


class SettingsFileError(ValueError):
    """The settings file's content is not usable; the message is for the user (no raw dumps)."""


_FRIENDLY = {
    "model_type": "should be a group of settings (a JSON object)",
    "model_attributes_type": "should be a group of settings (a JSON object)",
    "dict_type": "should be a group of settings (a JSON object)",
    "finite_number": "should be a finite number",
}


def field_errors(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, short reason) per error, e.g. ``(("scanner", "dte_max"), "must be at least ...")``.

    Input values are left out: they could be secrets.
    """
    found = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        reason = _FRIENDLY.get(err["type"]) or str(err["msg"]).removeprefix("Value error, ")
        found.append((tuple(err["loc"]), f"{reason[:1].lower()}{reason[1:]}"))
    return found


def describe_validation_error(exc: ValidationError, limit: int = MAX_LISTED_ERRORS) -> str:
    """``"field X: reason"`` parts joined by ``"; "`` (at most ``limit``, then a count of the rest)."""
    parts = [f"field {'.'.join(str(p) for p in loc) or 'settings'}: {reason}" for loc, reason in field_errors(exc)]
    shown = parts[:limit]
    if len(parts) > limit:
        shown.append(f"and {len(parts) - limit} more")
    return "; ".join(shown)


class SettingsStore:
    """Loads and saves :class:`Settings` atomically (0600 temp file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: message for the user about the last ``load`` (defaults used, or a value dropped), else None
        self.problem: str | None = None

    def peek(self) -> tuple[Settings, str | None]:
        """The stored settings for a headless command: read only, the file is never moved aside or
        rewritten. Returns ``(settings, problem)``: defaults and why when the file cannot be used
        (``problem`` None when it was used, or there is none)."""
        if not os.path.lexists(self.path):
            return Settings(), None
        try:
            return Settings.model_validate(self._migrate(self._read())), None
        except ValidationError as exc:
            return Settings(), f"settings file {self.path} not used ({describe_validation_error(exc)}); defaults used"
        except (OSError, SettingsFileError, RecursionError) as exc:
            return Settings(), f"settings file {self.path} not used ({exc}); defaults used"

    def load(self) -> Settings:
        """The stored settings, or defaults (never raises; see ``problem``)."""
        self.problem = None
        try:
            if not os.path.lexists(self.path):
                return Settings()
            raw = self._read()
            had_password = _holds_password(raw.get("db_url"))
            settings = Settings.model_validate(self._migrate(raw))
        except Exception as exc:  # noqa: BLE001 — whatever the file holds, the app starts
            if not isinstance(exc, OSError | SettingsFileError | ValidationError | RecursionError):
                log.exception("unexpected error while reading %s", self.path)
            self._set_aside(_reason(exc))
            return Settings()
        if had_password:
            self.problem = (f"The database password was removed from {self.path}: passwords are not kept in "
                            "the settings file. Enter it in Settings → Data (it is kept in the system keyring).")
            log.warning(self.problem)
        return settings

    def save(self, settings: Settings) -> None:
        """Write ``settings`` (mode 0600) via a temp file renamed over the old one.

        Raises:
            SettingsSaveError: the folder or file is not writable, the disk is full, ...; the
                previous file is unchanged.
        """
        data = settings.model_dump_json(indent=2).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # never created, or already renamed
            raise SettingsSaveError(self.path, exc.strerror or str(exc)) from exc

    def _read(self) -> dict[str, Any]:
        if self.path.is_dir():
            raise SettingsFileError("it is a folder, not a file")
        size = self.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SettingsFileError(f"it is {size:,} bytes; a settings file is a few KB")
        try:
            raw = json.loads(self.path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise SettingsFileError("it is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise SettingsFileError(f"it is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
        except ValueError:  # an integer with more than 4300 digits
            raise SettingsFileError("it holds a number too long to read") from None
        if not isinstance(raw, dict):
            raise SettingsFileError(f"it holds a JSON {_json_kind(raw)}, not an object of settings")
        return raw

    @staticmethod
    def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
        version = raw.get("schema_version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise SettingsFileError(f"field schema_version: must be a whole number, not a JSON {_json_kind(version)}")
        if version > SCHEMA_VERSION:
            raise SettingsFileError(f"schema_version {version} is newer than this app ({SCHEMA_VERSION})")
        if version < 1:
            raise SettingsFileError(f"field schema_version: {version} is not a version this app ever wrote")
        while version < SCHEMA_VERSION:
            raw = MIGRATIONS[version](raw)
            version += 1
            raw["schema_version"] = version
        return raw

    def _set_aside(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 2
        while os.path.lexists(aside):
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, aside)
            where = f"the file was kept as {aside}"
        except OSError as move_exc:
            where = f"the file could not be moved aside ({move_exc.strerror or move_exc})"
        self.problem = f"Settings file {self.path} could not be used: {reason}. Defaults are used; {where}."
        log.warning(self.problem)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return describe_validation_error(exc)
    if isinstance(exc, SettingsFileError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"it cannot be read ({exc.strerror or exc})"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return f"unexpected {type(exc).__name__} (details in the log file)"


def _holds_password(db_url: object) -> bool:
    if not isinstance(db_url, str) or not db_url.strip():
        return False
    try:
        return split_db_url(db_url)[1] is not None
    except ValueError:
        return False


def _json_kind(value: object) -> str:
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "true/false"), ((int, float), "number"), (str, "string"), (list, "list"), (dict, "object"),
        (type(None), "null"))
    for kind, name in kinds:
        if isinstance(value, kind):
            return name
    return type(value).__name__
