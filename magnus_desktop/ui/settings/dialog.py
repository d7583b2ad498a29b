"""The Settings dialog: one tab per area, every field of :class:`Settings` with its help text.

The form is validated by the same pydantic model that loads the settings file: after every edit
a :class:`Settings` is built from the form; each error is shown in red beside its field (and the
tab's title turns red), and OK/Apply stay disabled until the form is valid.

Percent boxes show ``value * 100`` and are divided by 100 exactly once when read; a box the user
did not touch returns the original value unchanged (no rounding drift).

The database password is never part of the settings: :meth:`SettingsDialog.db_password` hands
it to the caller, which keeps it in the keyring. A password typed into the PostgreSQL URL is
moved into the password box.

Use::

    dialog = SettingsDialog(ctx.settings, window, keyring_backend="SecretService")
    dialog.settings_applied.connect(on_applied)      # Apply and OK; payload: Settings
    if dialog.exec() == QDialog.DialogCode.Accepted:
        new = dialog.result_settings(); password = dialog.db_password()
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from magnus_desktop.services.desktop.autostart import autostart_supported
from magnus_desktop.services.paths import app_paths
from magnus_desktop.services.settings import (
    BUILTIN_SCENARIOS,
    LOG_LEVELS,
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
    field_errors,
    split_db_url,
)
from magnus_desktop.ui.actions import ActionRegistry
from magnus_desktop.ui.settings.shortcuts import ShortcutEditor
from magnus_desktop.widgets.table_model import text_color


def error_color() -> str:
    """The error text colour of the current theme (WCAG AA: ``widgets.table_model.TEXT_COLORS``)."""
    return text_color("loss").name()
EDITOR_MIN_WIDTH, EDITOR_WIDTH = 170, 260  # px, spin boxes and combos (the error text goes beside them)
FieldPath = tuple[str, ...]
_DB_PATH: FieldPath = ("db_url",)
_SHORTCUTS: FieldPath = ("shortcuts",)


@dataclass
class _Binding:
    """One form widget bound to one settings field."""

    path: FieldPath
    editor: QWidget
    error: QLabel
    tab: int
    read: Callable[[], Any]
    write: Callable[[Any], None]


def _field(path: FieldPath) -> Any:
    nested: dict[str, type[BaseModel]] = {"scanner": ScannerSettings, "market_data": MarketDataSettings,
                                          "alerts": AlertSettings, "kalshi": KalshiSettings,
                                          "research": ResearchSettings, "research_flow": ResearchFlowSettings,
                                          "assistant": AssistantSettings, "desktop": DesktopSettings,
                                          "risk_limits": RiskLimitSettings}
    model: type[BaseModel] = nested.get(path[0], Settings) if len(path) > 1 else Settings
    return model.model_fields[path[-1]]


def _bounds(path: FieldPath) -> tuple[float | None, float | None, bool]:
    """(lower, upper, lower_is_exclusive) from the field's ge/gt/le constraints."""
    lo = hi = None
    exclusive = False
    for m in _field(path).metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, exclusive = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
    return lo, hi, exclusive


class SettingsDialog(QDialog):
    """Edit a copy of ``settings``; the caller applies :meth:`result_settings` (the input is never changed).

    Signals:
        settings_applied(Settings): Apply or OK was pressed with a valid form.
    """

    settings_applied = Signal(object)
    #: "Index now" on the Assistant tab (the applied notes folder is indexed in the background)
    notes_index_requested = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, keyring_backend: str | None = None,
                 default_log_dir: Path | None = None, actions: ActionRegistry | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — Magnus Desktop")
        self.setObjectName("settings_dialog")
        self._original = settings.model_copy(deep=True)
        self._result: Settings | None = None
        self._bindings: dict[FieldPath, _Binding] = {}
        self._keyring_backend = keyring_backend
        self._default_log_dir = default_log_dir or app_paths().log_dir
        self._actions = actions
        #: Settings → Shortcuts (only with the window's action registry)
        self.shortcut_editor: ShortcutEditor | None = None
        self._shortcuts_tab = -1
        self.tabs = QTabWidget()
        self.problem_label = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.clicked.connect(self._on_button_clicked)
        self._build_tabs()
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self._load(self._original)
        self._validate()

    # ---- public API ---------------------------------------------------------------------------
    def result_settings(self) -> Settings:
        """The settings last accepted or applied; an unchanged copy of the input if neither happened."""
        return (self._result or self._original).model_copy(deep=True)

    def db_password(self) -> str | None:
        """The PostgreSQL password typed in the dialog (for the keyring), or None when none was typed."""
        if not self.db_postgres.isChecked():
            return None
        return self.db_password_edit.text() or None

    def form_settings(self) -> Settings | None:
        """A :class:`Settings` from the current form, or None while any field is invalid."""
        return self._validate()

    def editor(self, path: str) -> QWidget:
        """The widget that edits ``path`` (``"theme"``, ``"scanner.dte_max"``, ``"db_url"``)."""
        if tuple(path.split(".")) == _DB_PATH:
            return self.db_url_edit if self.db_postgres.isChecked() else self.db_file_edit
        if tuple(path.split(".")) == _SHORTCUTS and self.shortcut_editor is not None:
            return self.shortcut_editor
        return self._bindings[tuple(path.split("."))].editor

    def field_error(self, path: str) -> str:
        """The error shown beside ``path`` ("" when the field is valid)."""
        label = self._db_error if tuple(path.split(".")) == _DB_PATH else self._bindings[tuple(path.split("."))].error
        return label.text() if not label.isHidden() else ""

    # ---- buttons ------------------------------------------------------------------------------
    def accept(self) -> None:
        if self._apply():
            super().accept()

    def _on_button_clicked(self, button: QAbstractButton) -> None:
        role = self.buttons.buttonRole(button)
        if role == QDialogButtonBox.ButtonRole.AcceptRole:
            self.accept()
        elif role == QDialogButtonBox.ButtonRole.RejectRole:
            self.reject()
        elif role == QDialogButtonBox.ButtonRole.ApplyRole:
            self._apply()
        elif role == QDialogButtonBox.ButtonRole.ResetRole:
            self._load(Settings(replay_date=self._original.replay_date))
            if self.shortcut_editor is not None:
                self.shortcut_editor.load({})
            self._validate()

    def _apply(self) -> bool:
        self._move_url_password()
        settings = self._validate()
        if settings is None:
            return False
        self._result = settings
        self.settings_applied.emit(settings.model_copy(deep=True))
        return True

    # ---- tabs ---------------------------------------------------------------------------------
    def _build_tabs(self) -> None:
        form = self._new_tab("Appearance")
        self._combo(form, ("theme",), "&Theme", [("Dark", "dark"), ("Light", "light")])

        form = self._new_tab("Pricing")
        self._number(form, ("risk_free_rate",), "&Risk-free rate", scale=100.0, decimals=3, step=0.25, suffix=" %")
        self._number(form, ("dividend_yield",), "&Dividend yield", scale=100.0, decimals=3, step=0.25, suffix=" %")
        self._number(form, ("commission_per_contract",), "&Commission", decimals=2, step=0.05,
                     suffix=" USD/contract")

        form = self._new_tab("Scanner")
        self._combo(form, ("scanner", "right"), "&Right",
                    [("Puts (cash-secured)", "P"), ("Calls (covered)", "C"), ("Both", "both")])
        self._number(form, ("scanner", "dte_min"), "DTE mi&n", integer=True, suffix=" days")
        self._number(form, ("scanner", "dte_max"), "DTE ma&x", integer=True, suffix=" days")
        self._number(form, ("scanner", "delta_min"), "|Δ| minimum", decimals=2, step=0.05)
        self._number(form, ("scanner", "delta_max"), "|Δ| maximum", decimals=2, step=0.05)
        self._number(form, ("scanner", "min_open_interest"), "Min &open interest", integer=True,
                     suffix=" contracts")
        self._number(form, ("scanner", "max_spread_pct"), "Max &spread", scale=100.0, decimals=1, step=1.0,
                     suffix=" %")
        self._number(form, ("scanner", "min_annualized_return"), "Min &annualized return", scale=100.0,
                     decimals=1, step=1.0, suffix=" %")
        self._combo(form, ("scanner", "premium_source"), "&Premium basis",
                    [("Bid (what a sell order gets)", "bid"), ("Mid", "mid")])

        form = self._new_tab("Data")
        self._build_database(form)
        self._number(form, ("demo_starting_cash",), "Demo starting &cash", decimals=2, step=10_000.0, suffix=" USD")
        self._number(form, ("performance_starting_capital",), "Performance starting capital", decimals=2,
                     step=10_000.0, suffix=" USD")
        self._check(form, ("market_data", "use_yfinance"), "Quotes from &Yahoo Finance")

        form = self._new_tab("Replay")
        self._number(form, ("replay_speed",), "Replay &speed", decimals=1, step=0.5, suffix=" days/s")

        form = self._new_tab("Logging")
        self._combo(form, ("log_level",), "Log &level", [(level.title(), level) for level in LOG_LEVELS])
        self._build_log_dir(form)

        self._build_alerts(self._new_tab("Alerts", scroll=True))
        self._build_risk(self._new_tab("Risk"))
        self._build_research(self._new_tab("Research"))
        self._build_research_flow(self._new_tab("Flow & sectors", scroll=True))

        form = self._new_tab("Kalshi")
        self._check(form, ("kalshi", "enabled"), "&Connect to Kalshi")
        self._combo(form, ("kalshi", "environment"), "&Environment",
                    [("Production (real money)", "production"), ("Demo (practice funds)", "demo")])
        self._text(form, ("kalshi", "base_url"), "API &address", "empty = the environment's address")
        self._check(form, ("kalshi", "live_trading_enabled"), "Live &trading enabled")
        self._number(form, ("kalshi", "kelly_fraction"), "&Kelly fraction", scale=100.0, decimals=0, step=5.0,
                     suffix=" %")
        self._number(form, ("kalshi", "kelly_cap"), "Stake &cap", scale=100.0, decimals=1, step=1.0,
                     suffix=" % of balance")
        form = self._new_tab("Assistant")
        self._build_model_path(form)
        self._number(form, ("assistant", "n_ctx"), "&Context length", integer=True, suffix=" tokens")
        self._number(form, ("assistant", "threads"), "&Threads", integer=True)
        self._number(form, ("assistant", "temperature"), "T&emperature", decimals=2, step=0.05)
        self._number(form, ("assistant", "gpu_layers"), "&GPU layers", integer=True)
        self._build_assistant(form)
        if self._actions is not None:
            self.shortcut_editor = ShortcutEditor(self._actions, self._original.shortcuts)
            self.shortcut_editor.changed.connect(self._validate)
            self.shortcut_editor.setToolTip(_field(_SHORTCUTS).description or "")
            self._shortcuts_tab = self.tabs.addTab(self.shortcut_editor, "Shortcuts")

        form = self._new_tab("Desktop")
        if autostart_supported():  # a Windows feature: not shown elsewhere
            self._check(form, ("desktop", "start_with_windows"), "Start with &Windows")
        self._check(form, ("desktop", "start_minimized_to_tray"), "Start minimised to &tray")

    def _build_alerts(self, form: QFormLayout) -> None:
        """One editor per ``AlertSettings`` field: switches, thresholds (fractions shown in %), cadences."""
        cadences = [("Every 30 minutes", "30min"), ("Hourly", "hourly"), ("Every 4 hours", "4h"),
                    ("Daily at 07:00", "daily_0700")]
        for name, info in AlertSettings.model_fields.items():
            path, text = ("alerts", name), name.replace("_", " ").capitalize()
            if info.annotation is bool:
                self._check(form, path, text)
            elif name.endswith("_cadence"):
                self._combo(form, path, text, cadences)
            elif info.annotation is int:
                self._number(form, path, text, integer=True, suffix=" h" if "hour" in name else " days")
            elif name.endswith("_pct"):
                self._number(form, path, text, scale=100.0, decimals=1, step=1.0, suffix=" %")
            else:
                self._number(form, path, text, decimals=2, step=1.0)

    def _build_risk(self, form: QFormLayout) -> None:
        """The risk limits (Settings → Risk): each off until set; the max-loss scenario is a built-in
        shock or one of the trader's scenarios (edited in the Risk dock)."""
        self._optional_money(form, ("risk_limits", "max_loss_usd"), "Max &loss in scenario")
        user = [s.name for s in self._original.risk_scenarios]
        items = [(f"{name} (built-in)", name) for name in BUILTIN_SCENARIOS] + [(f"{name} (yours)", name) for name in user]
        self._combo(form, ("risk_limits", "max_loss_scenario"), "&Scenario of the max loss", items)
        self._optional_money(form, ("risk_limits", "max_short_put_notional_usd"), "Max short-&put notional")
        self._optional_money(form, ("risk_limits", "max_underlying_notional_usd"), "Max notional per &underlying")
        form.addRow("", _help_label("The risk-limits monitor (Settings → Alerts) raises a HIGH alert when a limit "
                                    "is exceeded, CRITICAL at 1.5 times the limit or more."))

    def _optional_money(self, form: QFormLayout, path: FieldPath, text: str) -> None:
        """A USD amount that may be off (None): the box's lowest value, 0, reads "off"."""
        box = QDoubleSpinBox()
        box.setDecimals(0)
        box.setRange(0.0, _bounds(path)[1] or 1e12)
        box.setSingleStep(10_000.0)
        box.setSuffix(" USD")
        box.setSpecialValueText("off")
        box.setGroupSeparatorShown(True)
        box.valueChanged.connect(self._validate)
        shown: dict[str, Any] = {}

        def write(value: Any) -> None:
            box.setValue(0.0 if value is None else float(value))
            shown.update(box=box.value(), value=value)

        def read() -> Any:
            if box.value() == shown.get("box"):
                return shown["value"]
            return None if box.value() <= 0.0 else box.value()

        self._bind(form, path, text, box, read, write)

    def _new_tab(self, title: str, *, scroll: bool = False) -> QFormLayout:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setVerticalSpacing(10)
        if scroll:  # a long form: scrolls inside its tab
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setWidget(page)
            self.tabs.addTab(area, title)
        else:
            self.tabs.addTab(page, title)
        return form

    def _add_row(self, form: QFormLayout, text: str, editor: QWidget, error: QLabel, help_text: str,
                 extra: list[QWidget] | None = None) -> None:
        """``label | [editor extra… error]`` with the help text underneath."""
        editor.setToolTip(help_text)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        if not isinstance(editor, QLineEdit):
            editor.setMinimumWidth(EDITOR_MIN_WIDTH)
            editor.setMaximumWidth(EDITOR_WIDTH)
        line.addWidget(editor, 1 if isinstance(editor, QLineEdit) else 0)
        for widget in extra or []:
            line.addWidget(widget)
        line.addWidget(error, 1)
        line.addStretch(0)  # lets the row grow past the editor's maximum width while the error is hidden
        cell = QVBoxLayout()
        cell.setSpacing(2)
        cell.addLayout(line)
        cell.addWidget(_help_label(help_text))
        label = QLabel(text)
        label.setBuddy(editor)
        label.setToolTip(help_text)
        form.addRow(label, cell)

    def _bind(self, form: QFormLayout, path: FieldPath, text: str, editor: QWidget,
              read: Callable[[], Any], write: Callable[[Any], None], extra: list[QWidget] | None = None) -> None:
        error = error_label()
        self._add_row(form, text, editor, error, _field(path).description or "", extra)
        self._bindings[path] = _Binding(path, editor, error, self.tabs.count() - 1, read, write)

    def _combo(self, form: QFormLayout, path: FieldPath, text: str, items: list[tuple[str, str]]) -> None:
        box = QComboBox()
        for label, value in items:
            box.addItem(label, value)
        box.currentIndexChanged.connect(self._validate)
        self._bind(form, path, text, box, box.currentData, lambda v: box.setCurrentIndex(max(0, box.findData(v))))

    def _text(self, form: QFormLayout, path: FieldPath, text: str, placeholder: str = "") -> None:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self._validate)
        self._bind(form, path, text, edit, edit.text, lambda v: edit.setText(str(v or "")))

    def _check(self, form: QFormLayout, path: FieldPath, text: str) -> None:
        box = QCheckBox("on")
        box.toggled.connect(self._validate)
        self._bind(form, path, text, box, box.isChecked, lambda v: box.setChecked(bool(v)))

    def _number(self, form: QFormLayout, path: FieldPath, text: str, *, scale: float = 1.0, decimals: int = 0,
                step: float = 1.0, suffix: str = "", integer: bool = False) -> None:
        """A spin box over the field's own bounds; shows ``value * scale`` (percent: scale 100)."""
        lo, hi, exclusive = _bounds(path)
        box: QSpinBox | QDoubleSpinBox
        if integer:
            box = QSpinBox()
            box.setRange(int(lo or 0), int(min(hi if hi is not None else 2**31 - 1, 2**31 - 1)))
        else:
            box = QDoubleSpinBox()
            box.setDecimals(decimals)
            tick = 10.0 ** -decimals
            box.setRange((lo or 0.0) * scale + (tick if exclusive else 0.0),
                         (hi if hi is not None else 1e12) * scale)
            box.setSingleStep(step)
        box.setSuffix(suffix)
        box.setGroupSeparatorShown(True)
        box.setKeyboardTracking(True)
        box.valueChanged.connect(self._validate)
        shown: dict[str, Any] = {}  # what write() put in the box, and the exact value behind it
        digits = decimals + round(math.log10(scale))  # decimals of the model value

        def write(value: Any) -> None:
            box.setValue(value * scale)
            shown.update(box=box.value(), value=value)

        def read() -> Any:
            if box.value() == shown.get("box"):
                return shown["value"]  # untouched: the original value, unrounded
            return box.value() if integer else round(box.value() / scale, digits)

        self._bind(form, path, text, box, read, write)

    # ---- database -----------------------------------------------------------------------------
    def _build_database(self, form: QFormLayout) -> None:
        self.db_default = QRadioButton("SQLite file in the data folder (default)")
        self.db_sqlite = QRadioButton("SQLite file:")
        self.db_postgres = QRadioButton("PostgreSQL server:")
        self._db_group = QButtonGroup(self)
        for button in (self.db_default, self.db_sqlite, self.db_postgres):
            self._db_group.addButton(button)
            button.toggled.connect(self._on_db_mode_toggled)
        self.db_file_edit = QLineEdit()
        self.db_file_edit.setPlaceholderText("/path/to/magnus.sqlite3")
        self.db_browse = QPushButton("Browse…")
        self.db_browse.clicked.connect(self._browse_db_file)
        self.db_url_edit = QLineEdit()
        self.db_url_edit.setPlaceholderText("postgresql://user@host:5432/dbname")
        self.db_url_edit.editingFinished.connect(self._move_url_password)
        self.db_password_edit = QLineEdit()
        self.db_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.db_password_edit.setPlaceholderText("empty: keep the password already stored")
        for edit in (self.db_file_edit, self.db_url_edit):
            edit.textChanged.connect(self._validate)
        self._db_error = error_label()
        self._db_tab = self.tabs.count() - 1
        self.db_note = _help_label("")

        help_text = _field(_DB_PATH).description or ""
        password_label = QLabel("Password:")
        password_label.setBuddy(self.db_password_edit)
        password_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.db_default, 0, 0, 1, 3)
        grid.addWidget(self.db_sqlite, 1, 0)
        grid.addWidget(self.db_file_edit, 1, 1)
        grid.addWidget(self.db_browse, 1, 2)
        grid.addWidget(self.db_postgres, 2, 0)
        grid.addWidget(self.db_url_edit, 2, 1, 1, 2)
        grid.addWidget(password_label, 3, 0)
        grid.addWidget(self.db_password_edit, 3, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        box = QVBoxLayout()
        box.setSpacing(4)
        box.addLayout(grid)
        box.addWidget(self._db_error)
        box.addWidget(_help_label(help_text))
        backend = self._keyring_backend
        box.addWidget(_help_label(
            f"Passwords are kept in the system keyring ({backend}), never in the settings file." if backend else
            "No system keyring is available: the password cannot be stored (it is never written to the settings "
            "file)."))
        box.addWidget(_help_label("A new database is used from the next start of Magnus Desktop."))
        box.addWidget(self.db_note)
        label = QLabel("Data&base")
        label.setBuddy(self.db_default)
        label.setToolTip(help_text)
        for widget in (self.db_default, self.db_sqlite, self.db_postgres, self.db_file_edit, self.db_url_edit):
            widget.setToolTip(help_text)
        self.db_password_edit.setToolTip("PostgreSQL password: handed to the system keyring, never saved in settings.")
        form.addRow(label, box)

    def _write_db(self, url: str | None) -> None:
        self.db_file_edit.clear()
        self.db_url_edit.clear()
        self.db_password_edit.clear()
        backend = make_url(url).get_backend_name() if url else None
        if backend == "sqlite":
            self.db_sqlite.setChecked(True)
            self.db_file_edit.setText(make_url(url).database or "")
        elif backend == "postgresql":
            self.db_postgres.setChecked(True)
            self.db_url_edit.setText(url or "")
        else:
            self.db_default.setChecked(True)
        self._on_db_mode_toggled()

    def _read_db(self) -> tuple[str | None, str | None]:
        """(db_url for the model, an error of the dialog's own) from the Data tab."""
        if self.db_sqlite.isChecked():
            path = self.db_file_edit.text().strip()
            if not path:
                return None, "choose a database file"
            if not Path(path).expanduser().is_absolute():
                return None, "must be a full file path"
            return URL.create("sqlite", database=str(Path(path).expanduser())).render_as_string(), None
        if self.db_postgres.isChecked():
            text = self.db_url_edit.text().strip()
            if not text:
                return None, "enter the server URL, e.g. postgresql://user@host:5432/dbname"
            try:
                backend = make_url(split_db_url(text)[0]).get_backend_name()
            except ValueError:
                return text, None  # the model reports the bad URL
            if backend != "postgresql":
                return None, "a PostgreSQL URL starts with postgresql://"
            return text, None
        return None, None

    def _on_db_mode_toggled(self) -> None:
        sqlite, postgres = self.db_sqlite.isChecked(), self.db_postgres.isChecked()
        self.db_file_edit.setEnabled(sqlite)
        self.db_browse.setEnabled(sqlite)
        self.db_url_edit.setEnabled(postgres)
        self.db_password_edit.setEnabled(postgres)
        self._validate()

    def _browse_db_file(self) -> None:
        start = self.db_file_edit.text() or str(app_paths().default_db_file)
        path, _ = QFileDialog.getSaveFileName(self, "SQLite database file", start,
                                              "SQLite database (*.sqlite3 *.sqlite *.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.db_file_edit.setText(path)

    def _move_url_password(self) -> None:
        """A password typed into the URL goes to the password box (it must not reach the settings)."""
        try:
            bare, password = split_db_url(self.db_url_edit.text())
        except ValueError:
            return
        if password is None:
            return
        self.db_url_edit.setText(bare)
        self.db_password_edit.setText(password)
        self.db_note.setText("The password was moved from the URL to the password box; "
                             "it is never written to the settings file.")

    # ---- log folder ---------------------------------------------------------------------------
    def _build_log_dir(self, form: QFormLayout) -> None:
        self.log_dir_edit = edit = QLineEdit()
        edit.setPlaceholderText(str(self._default_log_dir))
        edit.textChanged.connect(self._validate)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_log_dir)
        self._bind(form, ("log_dir",), "Log &folder", edit, edit.text,
                   lambda v: edit.setText("" if v is None else str(v)), extra=[browse])

    def _build_research(self, form: QFormLayout) -> None:
        """Supply/demand zone parameters and the earnings file."""
        self._number(form, ("research", "zone_max_base_candles"), "Zone base: max &candles", integer=True,
                     suffix=" bars")
        self._number(form, ("research", "zone_narrow_atr"), "Zone base: &narrow ≤", decimals=2, step=0.1,
                     suffix=" × ATR")
        self._number(form, ("research", "zone_departure_atr"), "Zone &departure ≥ k", decimals=2, step=0.25,
                     suffix=" × ATR")
        self._number(form, ("research", "zone_lookback_days"), "Zone &look-back", integer=True, suffix=" bars")
        self.earnings_file_edit = edit = QLineEdit()
        edit.setPlaceholderText("none (Yahoo Finance when Quotes from Yahoo Finance is on)")
        edit.textChanged.connect(self._validate)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_earnings_file)
        self._bind(form, ("research", "earnings_file"), "&Earnings file", edit, edit.text, edit.setText,
                   extra=[browse])

    def _build_research_flow(self, form: QFormLayout) -> None:
        """Options-flow thresholds, the sector concentration warning and the calendar-spread filters."""
        n = self._number
        n(form, ("research_flow", "flow_vol_oi_min"), "Flow: &volume / OI ≥", decimals=2, step=0.1, suffix=" ×")
        n(form, ("research_flow", "flow_jump_min"), "Flow: volume &jump ≥", decimals=1, step=0.5, suffix=" × average")
        n(form, ("research_flow", "flow_premium_min"), "Flow: &premium ≥", decimals=0, step=100_000, suffix=" USD")
        n(form, ("research_flow", "flow_oi_change_min"), "Flow: &OI change ≥", decimals=0, step=100,
          suffix=" contracts")
        n(form, ("research_flow", "flow_min_volume"), "Flow: &minimum volume", decimals=0, step=10, suffix=" contracts")
        n(form, ("research_flow", "flow_lookback_days"), "Flow: average over", integer=True, suffix=" quote days")
        n(form, ("research_flow", "sector_concentration_pct"), "Sector &concentration ≥", scale=100.0, decimals=1,
          step=1.0, suffix=" %")
        n(form, ("research_flow", "calendar_max_moneyness"), "Calendars: strikes within", scale=100.0, decimals=1,
          step=1.0, suffix=" % of the price")
        n(form, ("research_flow", "calendar_min_near_dte"), "Calendars: near leg ≥", integer=True, suffix=" days")
        n(form, ("research_flow", "calendar_max_far_dte"), "Calendars: far leg ≤", integer=True, suffix=" days")

    def _browse_earnings_file(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(self, "Earnings dates CSV", self.earnings_file_edit.text(),
                                                      "CSV files (*.csv);;All files (*)")
        if chosen:
            self.earnings_file_edit.setText(chosen)

    def _browse_log_dir(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the log files",
                                                  self.log_dir_edit.text() or str(self._default_log_dir))
        if chosen:
            self.log_dir_edit.setText(chosen)

    # ---- assistant model file -----------------------------------------------------------------------
    def _build_model_path(self, form: QFormLayout) -> None:
        self.model_path_edit = edit = QLineEdit()
        edit.setPlaceholderText("bundled: SmolLM2-135M-Instruct (Q4_1)")
        edit.textChanged.connect(self._validate)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model_file)
        self._bind(form, ("assistant", "model_path"), "&Model file", edit, edit.text,
                   lambda v: edit.setText("" if v is None else str(v)), extra=[browse])

    def _browse_model_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "GGUF model file", self.model_path_edit.text(),
                                                "GGUF models (*.gguf);;All files (*)")
        if chosen:
            self.model_path_edit.setText(chosen)

    # ---- assistant ----------------------------------------------------------------------------
    def _build_assistant(self, form: QFormLayout) -> None:
        self.notes_folder_edit = edit = QLineEdit()
        edit.setPlaceholderText("No notes folder")
        edit.textChanged.connect(self._validate)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_notes_folder)
        self._bind(form, ("assistant", "notes_folder"), "&Notes folder", edit, edit.text,
                   lambda v: edit.setText("" if v is None else str(v)), extra=[browse])
        self.notes_index_button = QPushButton("Index now")
        self.notes_index_button.setToolTip("Index new and changed files of the applied notes folder now; a changed folder is "
                                           "indexed when you press Apply or OK, and again at every start")
        self.notes_index_button.clicked.connect(self.notes_index_requested.emit)
        self.notes_status_label = QLabel("")
        self.notes_status_label.setObjectName("notes_index_status")
        self.notes_status_label.setWordWrap(True)
        self.notes_progress = QProgressBar()
        self.notes_progress.setMaximumWidth(EDITOR_WIDTH)
        self.notes_progress.setTextVisible(True)
        self.notes_progress.hide()
        line = QHBoxLayout()
        line.addWidget(self.notes_index_button)
        line.addWidget(self.notes_progress)
        line.addWidget(self.notes_status_label, 1)
        form.addRow("Index", line)

    def _browse_notes_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder of your notes", self.notes_folder_edit.text())
        if chosen:
            self.notes_folder_edit.setText(chosen)

    def set_knowledge_status(self, status: Any) -> None:
        """Show the indexer's state (a ``KnowledgeStatus``): a progress bar while it runs, the
        message, and the notes files it skipped (in the tool tip)."""
        running = status.stage in ("building", "indexing") and status.total > 0
        self.notes_progress.setVisible(running)
        if running:
            self.notes_progress.setRange(0, status.total)
            self.notes_progress.setValue(status.done)
        shown = [f"{path}: {reason}" for path, reason in status.skipped]
        more = f"\n… and {len(shown) - 3} more (see the tool tip)" if len(shown) > 3 else ""
        self.notes_status_label.setText(status.message + "".join(f"\nSkipped {s}" for s in shown[:3]) + more)
        self.notes_status_label.setToolTip("Skipped files:\n" + "\n".join(shown) if shown else "")
        self.notes_index_button.setEnabled(status.stage not in ("building", "indexing"))

    # ---- form <-> model -----------------------------------------------------------------------
    def _load(self, settings: Settings) -> None:
        data = settings.model_dump()
        for path, binding in self._bindings.items():
            value: Any = data
            for part in path:
                value = value[part]
            binding.write(value)
        self._write_db(settings.db_url)

    def _validate(self) -> Settings | None:
        """Build a Settings from the form; show every error beside its field; enable OK/Apply."""
        if not hasattr(self, "_db_error"):
            return None  # still building the tabs
        data = self._original.model_dump()
        for path, binding in self._bindings.items():
            target = data
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = binding.read()
        data["db_url"], db_problem = self._read_db()
        errors: dict[FieldPath, str] = {_DB_PATH: db_problem} if db_problem else {}
        if self.shortcut_editor is not None:
            data["shortcuts"] = self.shortcut_editor.overrides()
            if self.shortcut_editor.conflicts():
                errors[_SHORTCUTS] = "conflicting shortcuts (see the Shortcuts tab)"
        settings: Settings | None = None
        try:
            settings = Settings.model_validate(data)
        except ValidationError as exc:
            for loc, reason in field_errors(exc):
                errors.setdefault(tuple(str(p) for p in loc), reason)
        self._show_errors(errors)
        valid = settings is not None and not errors
        for button in (QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Apply):
            self.buttons.button(button).setEnabled(valid)
        return settings if valid else None

    def _show_errors(self, errors: dict[FieldPath, str]) -> None:
        bad_tabs: set[int] = set()
        shown: set[FieldPath] = set()
        labels = [(path, b.error, b.tab) for path, b in self._bindings.items()]
        labels.append((_DB_PATH, self._db_error, self._db_tab))
        for path, label, tab in labels:
            message = errors.get(path, "")
            label.setText(message)
            label.setVisible(bool(message))
            if message:
                bad_tabs.add(tab)
                shown.add(path)
        if _SHORTCUTS in errors and self._shortcuts_tab >= 0:
            bad_tabs.add(self._shortcuts_tab)
        rest = [f"{'.'.join(p)}: {m}" for p, m in errors.items() if p not in shown]
        self.problem_label.setText("; ".join(rest))
        self.problem_label.setVisible(bool(rest))
        for i in range(self.tabs.count()):
            self.tabs.tabBar().setTabTextColor(i, QColor(error_color()) if i in bad_tabs else QColor())


def error_label() -> QLabel:
    """A hidden, wrapping label in the theme's error colour (inline field errors)."""
    label = QLabel()
    label.setStyleSheet(f"color: {error_color()};")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def _help_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # muted text in both themes
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.92)
    label.setFont(font)
    return label

