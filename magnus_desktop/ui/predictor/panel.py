"""Predictor dock: the model card (which model scores ``p_win``: the bundled one or the trader's own,
its training window, rows and out-of-sample metrics), its walk-forward evaluation by year against the
baselines (majority class, Black-Scholes ``prob_otm``), the reliability diagram, ROC and the average
P&L per decile of ``p_win``, and Retrain (over a chosen window) / Evaluate with progress."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.ui.predictor.view_model import PredictorViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import text_color

#: per-year columns: (key of the evaluation's scores, header, format)
YEAR_COLUMNS = (("n", "Trades", "{:,.0f}"), ("auc", "AUC", "{:.3f}"), ("brier", "Brier", "{:.4f}"),
                ("brier_bs_prob_otm", "Brier BS P(OTM)", "{:.4f}"), ("brier_majority", "Brier majority", "{:.4f}"),
                ("log_loss", "Log loss", "{:.4f}"), ("avg_pnl_all", "Avg P&L all", "{:+.3f}"),
                ("avg_pnl_filtered", "Avg P&L p≥thr", "{:+.3f}"))


def _fmt(value: Any, pattern: str) -> str:
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return pattern.format(value)


def _chart(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    chart = pg.PlotWidget()
    chart.setTitle(title)
    chart.setLabel("bottom", x_label)
    chart.setLabel("left", y_label)
    chart.showGrid(x=True, y=True, alpha=0.2)
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.setMinimumSize(220, 200)
    chart.getAxis("left").enableAutoSIPrefix(False)
    return chart


class PredictorPanel(QWidget):
    def __init__(self, vm: PredictorViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.card = QLabel()
        self.card.setObjectName("predictor_card")
        self.card.setWordWrap(True)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.whole_history = QCheckBox("All bundled history")
        self.whole_history.setChecked(True)
        self.start = QDateEdit(QDate(2008, 1, 1))
        self.end = QDateEdit(QDate(2018, 12, 31))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.whole_history.toggled.connect(lambda on: (self.start.setEnabled(not on), self.end.setEnabled(not on)))
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setObjectName("predictor_retrain")
        self.retrain_button.setToolTip("Build the training set from the bundled real price history over the window "
                                       "and train your own model (about a minute; the app stays usable)")
        self.evaluate_button = QPushButton("Evaluate (walk-forward)")
        self.evaluate_button.setObjectName("predictor_evaluate")
        self.evaluate_button.setToolTip("Train on earlier years, test on the next, year by year (purged by the max "
                                        "DTE), against the majority class and Black-Scholes P(OTM): several minutes")
        self.magic8_button = QPushButton("Import Magic8 history…")
        self.magic8_button.setObjectName("predictor_magic8")
        self.magic8_button.setToolTip("Magic8 / DiscordTrading profit exports (CSV): the signals are stored and a "
                                      "model is trained per strategy once it has enough of them")
        self.years = QTableWidget(0, len(YEAR_COLUMNS) + 1)
        self.years.setObjectName("predictor_years")
        self.years.setHorizontalHeaderLabels(["Test year", *(h for _, h, _ in YEAR_COLUMNS)])
        self.years.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.years.verticalHeader().setVisible(False)
        self.years.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.evaluation_note = QLabel()
        self.evaluation_note.setWordWrap(True)
        self.reliability = _chart("Reliability", "p_win (bin mean)", "win rate")
        self.roc = _chart("ROC", "false-positive rate", "true-positive rate")
        self.deciles = _chart("Avg P&L by p_win decile", "decile (1 = lowest p_win)", "USD / share")
        self._evaluation: dict[str, Any] | None = None
        self._evaluation_drawn = False
        self._seen = False
        follow_dock_visibility(self, self._on_seen_changed)  # (a tab behind another is not seen)
        self._lay_out()
        vm.card_changed.connect(self.show_card)
        vm.evaluation_changed.connect(self.show_evaluation)
        vm.progress.connect(self._on_vm_progress)
        vm.busy_changed.connect(self._on_vm_busy_changed)
        vm.message.connect(lambda text, error: set_label(self.status, text, text_color("loss") if error else None))
        self.retrain_button.clicked.connect(self.retrain)
        self.evaluate_button.clicked.connect(vm.evaluate)
        self.magic8_button.clicked.connect(self.choose_magic8_files)
        self.show_card(vm.card())
        vm.load_evaluation()

    def _lay_out(self) -> None:
        model_box = QGroupBox("Model in use")
        mb = QVBoxLayout(model_box)
        mb.addWidget(self.card)
        window = QHBoxLayout()
        window.addWidget(QLabel("Training window"))
        window.addWidget(self.whole_history)
        window.addWidget(self.start)
        window.addWidget(QLabel("to"))
        window.addWidget(self.end)
        window.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.magic8_button)
        buttons.addWidget(self.retrain_button)
        buttons.addWidget(self.evaluate_button)
        mb.addLayout(window)
        mb.addLayout(buttons)
        mb.addWidget(self.progress)
        mb.addWidget(self.status)
        charts = QGridLayout()
        for i, chart in enumerate((self.reliability, self.roc, self.deciles)):
            chart.setMinimumSize(140, 160)
            charts.addWidget(chart, 0, i)
        eval_box = QGroupBox("Walk-forward evaluation (time-ordered: no test trade is older than its training data)")
        eb = QVBoxLayout(eval_box)
        eb.addWidget(self.evaluation_note)
        eb.addLayout(charts, 3)
        eb.addWidget(self.years, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(model_box)
        layout.addWidget(eval_box, 1)

    # ---- model card -----------------------------------------------------------------------------
    def show_card(self, card: dict[str, Any]) -> None:
        if card.get("source") == "none":
            self.card.setText(f"<b>No model:</b> {card.get('fallback', '')}. The scanner and tickets show the "
                              "Black-Scholes P(OTM) only; Retrain builds one from the bundled history.")
            return
        who = ("the <b>bundled</b> model (trained by <code>magnus-desktop predictor train</code> on the bundled "
               "data; retrain to make it yours)" if card["source"] == "bundled" else "<b>your</b> model")
        window, rows, m = card.get("window", {}), card.get("rows", {}), card.get("metrics", {})
        self.card.setText(
            f"p_win comes from {who}: <code>{card['version']}</code><br>"
            f"Label: {card.get('label', '')} · underlyings {', '.join(card.get('symbols', []))}<br>"
            f"Entries {window.get('first_entry', '?')} … {window.get('last_entry', '?')}; booster rows until "
            f"{window.get('booster_rows_until', '?')}, calibrated from {window.get('calibration_from', '?')} "
            f"({_fmt(rows.get('booster'), '{:,.0f}')} + {_fmt(rows.get('calibration'), '{:,.0f}')} rows; "
            f"{_fmt(rows.get('recorded_price_rows'), '{:,.0f}')} priced at recorded SPXW bids, the rest "
            "model-priced)<br>"
            f"Out-of-sample (calibration fold): AUC {_fmt(m.get('auc'), '{:.3f}')}, Brier "
            f"{_fmt(m.get('brier'), '{:.4f}')} vs Black-Scholes P(OTM) {_fmt(m.get('brier_bs_prob_otm'), '{:.4f}')}, "
            f"log loss {_fmt(m.get('log_loss'), '{:.4f}')} on {_fmt(m.get('n'), '{:,.0f}')} trades")

    # ---- evaluation -----------------------------------------------------------------------------
    def show_evaluation(self, ev: dict[str, Any] | None) -> None:
        """Show an evaluation report (``PredictorService.stored_evaluation`` shape). Drawn at once when
        the panel is visible; otherwise kept and drawn when it is shown — the charts cost ~50–80 ms
        of GUI time, which a hidden tab must not spend (it arrives at start-up, beside other work)."""
        self._evaluation = ev
        self._evaluation_drawn = False
        if self._seen:
            self._draw_evaluation()

    def _on_seen_changed(self, seen: bool) -> None:
        self._seen = seen
        if seen and not self._evaluation_drawn:
            self._draw_evaluation()

    def _draw_evaluation(self) -> None:
        ev = self._evaluation
        self._evaluation_drawn = True
        for chart in (self.reliability, self.roc, self.deciles):
            chart.clear()
        shown = bool(ev)
        for widget in (self.reliability, self.roc, self.deciles, self.years):
            widget.setVisible(shown)
        if not ev:
            self.evaluation_note.setText("No evaluation yet: press Evaluate (several minutes, in the background).")
            self.years.setRowCount(0)
            return
        settings = ev.get("settings", {})
        overall = ev.get("overall", {})
        where = ("shipped with the bundled model (same recipe and data)" if ev.get("shipped")
                 else f"your last run ({ev.get('file', '')})")
        self.evaluation_note.setText(
            f"Evaluation {where}: every {ev.get('day_step', '?')}th trading day, purge {settings.get('purge_days', '?')} "
            f"days, filter p ≥ {settings.get('threshold', '?')}. Overall: AUC {_fmt(overall.get('auc'), '{:.3f}')}, "
            f"Brier {_fmt(overall.get('brier'), '{:.4f}')} (P(OTM) {_fmt(overall.get('brier_bs_prob_otm'), '{:.4f}')}, "
            f"majority {_fmt(overall.get('brier_majority'), '{:.4f}')}); avg P&L "
            f"{_fmt(overall.get('avg_pnl_all'), '{:+.3f}')} all vs {_fmt(overall.get('avg_pnl_filtered'), '{:+.3f}')} "
            f"filtered ({settings.get('pnl_unit', 'USD per share')}).")
        pen_ref = pg.mkPen("#808080", width=1, style=Qt.PenStyle.DashLine)
        curve = ev.get("calibration_curve", [])
        self.reliability.plot([0, 1], [0, 1], pen=pen_ref)
        if curve:
            self.reliability.plot([b["mean_p"] for b in curve], [b["win_rate"] for b in curve], pen=pg.mkPen("#4fa3ff", width=2),
                                  symbol="o", symbolSize=6, symbolBrush="#4fa3ff")
        roc = ev.get("roc", [])
        self.roc.plot([0, 1], [0, 1], pen=pen_ref)
        if roc:
            self.roc.plot([r["fpr"] for r in roc], [r["tpr"] for r in roc], pen=pg.mkPen("#f0ad4e", width=2))
        deciles = ev.get("pnl_by_decile", [])
        if deciles:
            values = [d["avg_pnl"] for d in deciles]
            brushes = ["#5cb85c" if v >= 0 else "#d9534f" for v in values]
            self.deciles.addItem(pg.BarGraphItem(x=[d["decile"] for d in deciles], height=values, width=0.7,
                                                 brushes=brushes))
        per_year = ev.get("per_year", {})
        self.years.setRowCount(len(per_year) + 1)
        for r, (year, scores) in enumerate([*sorted(per_year.items()), ("overall", overall)]):
            self.years.setItem(r, 0, QTableWidgetItem(str(year)))
            for c, (key, _h, pattern) in enumerate(YEAR_COLUMNS, start=1):
                item = QTableWidgetItem(_fmt(scores.get(key), pattern))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.years.setItem(r, c, item)

    # ---- actions --------------------------------------------------------------------------------
    def retrain(self) -> None:
        if self.whole_history.isChecked():
            start = end = None
        else:
            start, end = self.start.date().toPython(), self.end.date().toPython()
            if start >= end:
                set_label(self.status, "The training window must start before it ends.", text_color("loss"))
                return
        set_label(self.status, "Building the training set…")
        self.vm.retrain(start, end)

    def choose_magic8_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import Magic8 signal history", "", "CSV exports (*.csv)")
        if paths:
            set_label(self.status, f"Importing {len(paths)} file(s)…")
            self.vm.import_magic8(paths)

    def _on_vm_progress(self, stage: str, fraction: float) -> None:
        self.progress.setValue(int(max(0.0, min(fraction, 1.0)) * 1000))
        self.progress.setFormat(f"{stage} — %p%")

    def _on_vm_busy_changed(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.retrain_button.setEnabled(not busy)
        self.evaluate_button.setEnabled(not busy)
        self.magic8_button.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)
