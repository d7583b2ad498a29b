"""The Risk dock's editor of the trader's stress scenarios: name, index move %, per-underlying
moves %, IV change % and days forward. The form is checked by the settings model
(:class:`~magnus_desktop.services.settings.UserScenario`); a bad entry gets one clear message and
nothing is saved."""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from magnus_desktop.services.settings import MAX_DTE, UserScenario, field_errors
from magnus_desktop.widgets.table_model import text_color

_LABELS = {"name": "Name", "index_move": "Index move", "moves": "Underlying moves", "iv_change": "IV change",
           "days": "Days forward"}


class ScenarioInputError(ValueError):
    """The form does not describe a scenario (the message says which field and why)."""


def parse_percent(text: str, what: str) -> float:
    """``"-10"``, ``"-10 %"``, ``"−4,5"`` → a decimal (-0.1); "" → 0.

    Raises:
        ScenarioInputError: not a number.
    """
    cleaned = text.strip().replace("%", "").replace("−", "-").replace(",", ".").strip()
    if not cleaned:
        return 0.0
    try:
        return float(cleaned) / 100.0
    except ValueError:
        raise ScenarioInputError(f"{what}: {text.strip()!r} is not a number (a percent, e.g. -10)") from None


def parse_moves(text: str) -> dict[str, float]:
    """``"SPY -4.1, QQQ -5"`` (or ``SPY=-4.1; QQQ: -5``) → ``{"SPY": -0.041, "QQQ": -0.05}``.

    Raises:
        ScenarioInputError: an entry is not "SYMBOL MOVE%", or a symbol appears twice.
    """
    out: dict[str, float] = {}
    for part in text.replace(";", ",").split(","):
        entry = part.strip().replace("=", " ").replace(":", " ")
        if not entry:
            continue
        bits = entry.split()
        if len(bits) != 2:
            raise ScenarioInputError(f"Underlying moves: {part.strip()!r} is not 'SYMBOL MOVE%' (e.g. SPY -4.1)")
        symbol = bits[0].upper()
        if symbol in out:
            raise ScenarioInputError(f"Underlying moves: {symbol} is listed twice")
        out[symbol] = parse_percent(bits[1], f"Underlying moves: {symbol}")
    return out


def format_moves(moves: dict[str, float]) -> str:
    return ", ".join(f"{sym} {mv * 100:g}" for sym, mv in moves.items())


def build_scenario(name: str, index_move: str, moves: str, iv_change: str, days: int) -> UserScenario:
    """The scenario of the form's texts (percents), validated.

    Raises:
        ScenarioInputError: with one message per bad field ("Index move: ...; IV change: ...").
    """
    if not name.strip():
        raise ScenarioInputError("Name: enter a name for the scenario")
    fields = {"name": name, "index_move": parse_percent(index_move, "Index move"), "moves": parse_moves(moves),
              "iv_change": parse_percent(iv_change, "IV change"), "days": days}
    try:
        return UserScenario.model_validate(fields)
    except ValidationError as exc:
        parts = [f"{_LABELS.get(str(loc[0]), str(loc[0]))}: {reason}" for loc, reason in field_errors(exc)]
        raise ScenarioInputError("; ".join(parts)) from None


class ScenarioEditor(QGroupBox):
    """Add, edit and delete the trader's scenarios. ``load(scenario)`` edits one (Save replaces it);
    ``load(None)`` starts a new one.

    Signals:
        save_requested(UserScenario, str | None): a valid form; the name of the scenario it replaces or None.
        delete_requested(str): the scenario being edited.
    """

    save_requested = Signal(object, object)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Your scenarios", parent)
        self.setObjectName("risk_scenario_editor")
        self._editing: str | None = None
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. crash -10 %, IV doubles")
        self.index_move = QLineEdit()
        self.index_move.setPlaceholderText("e.g. -10 (every underlying x its beta)")
        self.moves = QLineEdit()
        self.moves.setPlaceholderText("optional: SPY -12, QQQ -15")
        self.iv_change = QLineEdit()
        self.iv_change.setPlaceholderText("e.g. +100 (IV doubles)")
        self.days = QSpinBox()
        self.days.setRange(0, MAX_DTE)
        self.days.setValue(1)
        self.days.setSuffix(" d (calendar)")
        for edit, tip in ((self.index_move, "Move of the index in %: an underlying without its own move moves by its "
                                            "beta to SPY times this."),
                          (self.moves, "Own moves in % per underlying, overriding the index move: SYMBOL MOVE, "
                                       "comma-separated."),
                          (self.iv_change, "Relative change of every option's implied volatility in % "
                                           "(+100 = IV doubles, -50 = IV halves; above -100)."),
                          (self.days, "Calendar days that pass in the scenario (time decay).")):
            edit.setToolTip(tip)
        self.save_button = QPushButton("Save")
        self.new_button = QPushButton("New")
        self.delete_button = QPushButton("Delete")
        self.message = QLabel()
        self.message.setObjectName("risk_scenario_message")
        self.message.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("&Name", self.name)
        form.addRow("&Index move %", self.index_move)
        form.addRow("&Underlying moves %", self.moves)
        form.addRow("I&V change %", self.iv_change)
        form.addRow("&Days forward", self.days)
        buttons = QHBoxLayout()
        for b in (self.save_button, self.new_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.message)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.new_button.clicked.connect(lambda: self.load(None))
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.name.returnPressed.connect(self._on_save_clicked)
        self.load(None)

    @property
    def editing(self) -> str | None:
        """The name of the saved scenario in the form (None: a new one)."""
        return self._editing

    def load(self, scenario: UserScenario | None) -> None:
        self._editing = scenario.name if scenario is not None else None
        self.name.setText(scenario.name if scenario else "")
        self.index_move.setText(f"{scenario.index_move * 100:g}" if scenario else "")
        self.moves.setText(format_moves(scenario.moves) if scenario else "")
        self.iv_change.setText(f"{scenario.iv_change * 100:g}" if scenario else "")
        self.days.setValue(scenario.days if scenario else 1)
        self.delete_button.setEnabled(scenario is not None)
        self.save_button.setText("Save changes" if scenario else "Add")
        self.show_message("")

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {text_color('loss').name()};" if error else "")

    def form_scenario(self) -> UserScenario:
        """The form as a scenario.

        Raises:
            ScenarioInputError: the message for the user.
        """
        return build_scenario(self.name.text(), self.index_move.text(), self.moves.text(), self.iv_change.text(),
                              self.days.value())

    def _on_save_clicked(self) -> None:
        try:
            scenario = self.form_scenario()
        except ScenarioInputError as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message("Saving…")
        self.save_requested.emit(scenario, self._editing)

    def _on_delete_clicked(self) -> None:
        if self._editing is not None:
            self.delete_requested.emit(self._editing)


__all__ = ["ScenarioEditor", "ScenarioInputError", "build_scenario", "parse_moves", "parse_percent"]
