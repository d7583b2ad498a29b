"""NFL model dock: open a results file, see its walk-forward Elo scored season by season beside the
closing-spread-implied probability, a calibration plot, and the upcoming and last games with home_prob.

Nothing is bundled: until a file is opened (File → Open NFL results file…) the dock says so.
Scores are Brier (mean squared error of the home win probability, lower is better; 0.25 = a coin flip)
and log loss (nats). Spread-implied: Φ(expected home margin / 13.86) (Stern 1991).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.elo import CalibrationBin
from magnus_desktop.services.kalshi.nfl import Evaluation, SeasonScore
from magnus_desktop.ui.nfl.view_model import NflViewModel
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.docking import show_dock

FILE_FILTER = "Results CSV (*.csv *.txt);;All files (*)"
SEASON_HEADERS = ("Season", "Games", "Elo Brier", "Elo log loss", "Spread games", "Spread Brier", "Spread log loss",
                  "Elo Brier (same games)")
GAME_HEADERS = ("Date", "Home", "Away", "Elo home_prob", "Spread home_prob", "Score (home–away)")
#: how many of the latest played games the games table shows under the unplayed ones
LAST_GAMES = 16
EMPTY_TEXT = ("No results file loaded. File → Open NFL results file… reads a spreadspoke scores file, an "
              "nflverse games.csv or a plain CSV (date,season,home,away,home_score,away_score,neutral,playoff); "
              "nothing is bundled.")
REFERENCE_TEXT = ("Brier: lower is better, 0.25 = coin flip; a well-known public NFL Elo (FiveThirtyEight) scored "
                  "≈ 0.208 on every game since 1920. Spread-implied = Φ(line / 13.86) (Stern 1991). Each game's Elo "
                  "probability uses only earlier games.")


def _fmt(value: float | int | None, decimals: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{decimals}f}" if isinstance(value, float) else f"{value:,}"


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    return t


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]], bold_rows: Sequence[int] = (),
          numeric_cols: Sequence[int] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if (c > 0) if numeric_cols is None else (c in numeric_cols):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if r in bold_rows:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            table.setItem(r, c, item)


class CalibrationChart(pg.PlotWidget):
    """Observed home win rate against the mean forecast per probability bin (Elo and spread-implied)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setObjectName("nfl_calibration")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.02)
        self.setLabel("bottom", "forecast home win probability (bin mean)")
        self.setLabel("left", "observed home win rate")
        self.setTitle("Calibration")
        self.legend = self.addLegend(offset=(10, 10))
        self.plot([0, 1], [0, 1], pen=pg.mkPen("#808080", width=1, style=Qt.PenStyle.DashLine), name="perfect")
        self.series: dict[str, pg.PlotDataItem] = {}

    def set_bins(self, name: str, bins: Sequence[CalibrationBin], color: str) -> None:
        """Show one forecaster's bins (empty bins left out)."""
        xs = [b.mean_prob for b in bins if b.count]
        ys = [b.observed for b in bins if b.count]
        if name in self.series:
            self.removeItem(self.series.pop(name))
            self.legend.removeItem(name)
        if xs:
            self.series[name] = self.plot(xs, ys, pen=pg.mkPen(color, width=1), symbol="o", symbolSize=7,
                                          symbolBrush=color, symbolPen=None, name=name)


class NflPanel(QWidget):
    """The dock's widget; talks only to its :class:`NflViewModel`."""

    def __init__(self, vm: NflViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.path = ""
        self.open_button = QPushButton("Open results file…")
        self.open_button.clicked.connect(self.open_dialog)
        self.layout_box = QComboBox()
        self.layout_box.addItem("layout: detect", None)
        for name in ("spreadspoke", "nflverse", "plain"):
            self.layout_box.addItem(name, name)
        self.from_season = QSpinBox()
        self.from_season.setRange(1921, 2100)
        self.from_season.setValue(2000)
        self.from_season.setPrefix("score from ")
        self.from_season.setToolTip("First scored season; earlier seasons only warm the ratings up")
        self.reload_button = QPushButton("Re-score")
        self.reload_button.setEnabled(False)
        self.reload_button.clicked.connect(lambda: self.load_file(self.path))
        controls = QHBoxLayout()
        for w in (self.open_button, self.layout_box, self.from_season, self.reload_button):
            controls.addWidget(w)
        controls.addStretch(1)
        self.status = QLabel(EMPTY_TEXT)
        self.status.setObjectName("nfl_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel()
        self.problems.setObjectName("nfl_problems")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        self.seasons = _table("nfl_seasons", SEASON_HEADERS)
        self.chart = CalibrationChart()
        self.games = _table("nfl_games", GAME_HEADERS)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.seasons)
        top.addWidget(self.chart)
        top.setSizes([560, 380])
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.addWidget(top)
        self.body.addWidget(self.games)
        self.body.setSizes([320, 200])
        self.body.hide()  # nothing to show until a file is scored
        self.reference = QLabel(REFERENCE_TEXT)
        self.reference.setWordWrap(True)
        self.reference.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.reference)
        vm.evaluated.connect(self.show_evaluation)
        vm.failed.connect(self.show_failure)
        vm.busy_changed.connect(self._set_busy)
        previous = vm.last_evaluation()
        if previous is not None:
            self.show_evaluation(previous)

    # ---- actions ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        """File → Open NFL results file…: pick a CSV, then read and score it in the background."""
        name, _ = QFileDialog.getOpenFileName(self, "Open NFL results file", self.path, FILE_FILTER)
        if name:
            dock = self.parent()
            if isinstance(dock, QDockWidget):
                show_dock(dock)
            self.load_file(name)

    def load_file(self, path: str) -> None:
        """Read and score ``path`` with the chosen layout and first scored season (off the GUI thread)."""
        if not path:
            return
        self.path = path
        self.vm.load(path, self.layout_box.currentData(), self.from_season.value())

    def _set_busy(self, busy: bool) -> None:
        for w in (self.open_button, self.layout_box, self.from_season):
            w.setEnabled(not busy)
        self.reload_button.setEnabled(not busy and bool(self.path))
        if busy:
            self.status.setText(f"Reading and scoring {self.path} …")

    # ---- results ------------------------------------------------------------------------------
    def show_failure(self, message: str) -> None:
        kept = " The model shown below is still the previous file's." if self.body.isVisibleTo(self) else ""
        self.status.setText(f"Could not use the file: {message}.{kept}")

    def show_evaluation(self, evaluation: Evaluation) -> None:
        pred = evaluation.predictions
        results = pred.results
        o = evaluation.overall
        first, last = evaluation.seasons[0].season, evaluation.seasons[-1].season
        self.path = self.path or results.path
        spread = (f"vs spread-implied {_fmt(o.brier_spread)} on the {o.spread_games:,} games with a closing line"
                  if o.spread_games else "(the file has no closing lines: no spread-implied comparison)")
        self.status.setText(
            f"{results.path} ({results.layout}): {len(results.games):,} games, seasons "
            f"{int(pred.games.season.min())}–{int(pred.games.season.max())}. Scored {first}–{last}: Elo Brier "
            f"{_fmt(o.brier)} {spread}.")
        notes = [*self._problem_lines(evaluation), *evaluation.notes]
        self.problems.setText(" · ".join(notes))
        self.problems.setToolTip("\n".join(results.problem_summary()))
        self.problems.setVisible(bool(notes))
        rows = [self._season_row(o, f"All {first}–{last}")] + [self._season_row(s) for s in evaluation.seasons]
        _fill(self.seasons, rows, bold_rows=(0,))
        colors = {"Elo": "#1f77b4", "spread-implied": "#d62728"}
        self.chart.set_bins("Elo", evaluation.calibration, colors["Elo"])
        self.chart.set_bins("spread-implied", evaluation.calibration_spread, colors["spread-implied"])
        _fill(self.games, self._game_rows(evaluation), numeric_cols=(3, 4))
        self.body.show()
        self.reference.show()
        self.reload_button.setEnabled(True)

    @staticmethod
    def _problem_lines(evaluation: Evaluation) -> list[str]:
        """One short phrase per problem reason: count, skipped or kept, first lines (details in the tool tip)."""
        by_reason: dict[str, list[int]] = {}
        skipped: dict[str, bool] = {}
        for p in evaluation.predictions.results.problems:
            by_reason.setdefault(p.reason, []).append(p.line)
            skipped[p.reason] = p.skipped
        out = []
        for reason, lines in by_reason.items():
            shown = ", ".join(map(str, lines[:4])) + (", …" if len(lines) > 4 else "")
            what = "skipped" if skipped[reason] else ("predicted, not scored" if "score" in reason else "kept")
            out.append(f"{len(lines)} row(s) {reason}: {what} (line {shown})")
        return out

    def apply_theme(self, theme: str) -> None:
        """Chart colours of the theme (``ui.theme.chart_colors``)."""
        colors = chart_colors(theme)
        self.chart.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.chart.getAxis(axis).setPen(colors["fg"])
            self.chart.getAxis(axis).setTextPen(colors["fg"])
        self.chart.setTitle("Calibration", color=colors["fg"])
        self.chart.legend.setLabelTextColor(colors["fg"])
        for _sample, label in self.chart.legend.items:  # existing labels keep their colour otherwise
            label.setText(label.text, color=colors["fg"])

    @staticmethod
    def _season_row(s: SeasonScore, label: str | None = None) -> list[str]:
        return [label or str(s.season), _fmt(s.games), _fmt(s.brier), _fmt(s.log_loss), _fmt(s.spread_games),
                _fmt(s.brier_spread), _fmt(s.log_loss_spread), _fmt(s.brier_elo_same_games)]

    @staticmethod
    def _game_rows(evaluation: Evaluation) -> list[list[str]]:
        """Games without a score (upcoming), then the last :data:`LAST_GAMES` played, newest first."""
        pred = evaluation.predictions
        indexed = list(enumerate(pred.results.games))
        upcoming = [(i, g) for i, g in indexed if not g.played]
        played = [(i, g) for i, g in indexed if g.played][-LAST_GAMES:][::-1]
        rows = []
        for i, g in upcoming + played:
            score = f"{g.home_score}–{g.away_score}" if g.played else "not played"
            rows.append([g.date.isoformat(), g.home, g.away, _fmt(float(pred.elo.home_prob[i]), 3),
                         _fmt(float(pred.spread_prob[i]), 3), score])
        return rows
