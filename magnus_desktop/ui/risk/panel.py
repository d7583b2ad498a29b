"""Risk dock: Greeks by underlying and DTE bucket (with each beta to SPY and its window), the
full-revaluation P&L heat map (underlying move x IV change), VaR/ES of three methods side by side
with their windows and the backtest, stress scenarios (built-in and the trader's own, edited here)
with positions ranked by loss, and "replay this book through 2018-02-05".

Amounts in USD; delta in shares and USD, gamma shares per point, theta USD per day, vega USD per
vol point. Flagged positions (valued at a last known mark) and excluded ones are listed on top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.services.risk import RiskReport
from magnus_desktop.services.settings import UserScenario
from magnus_desktop.ui.risk.scenario_editor import ScenarioEditor
from magnus_desktop.ui.risk.view_model import RiskViewModel
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.formatting import MISSING, fmt_money, fmt_num
from magnus_desktop.widgets.table_model import pnl_color

VAR_KEYS = ("var_95_1d", "es_95_1d", "var_99_1d", "es_99_1d", "var_95_10d", "es_95_10d", "var_99_10d", "es_99_10d")


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


def _fill(table: QTableWidget, rows: Sequence[Sequence[object]], color_cols: Sequence[int] = ()) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value if isinstance(value, str) else fmt_num(value))
            if c in color_cols and isinstance(value, float):
                color = pnl_color(value)
                if color is not None:
                    item.setForeground(color)
            table.setItem(r, c, item)


def heat_color(value: float, scale: float) -> QColor:
    """Red for a loss, green for a gain, intensity by |value| / scale (white-ish at 0)."""
    if not math.isfinite(value) or scale <= 0:
        return QColor("#808080")
    x = min(abs(value) / scale, 1.0)
    base = (200, 40, 40) if value < 0 else (40, 160, 70)
    return QColor(*(int(255 + (b - 255) * x) for b in base))


class RiskPanel(QWidget):
    def __init__(self, vm: RiskViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        follow_dock_visibility(self, self._vm.set_visible)
        self.status = QLabel("Risk appears after the account's first update.")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.greeks = _table("risk_greeks", ("Group", "Positions", "Delta (sh)", "Delta (USD)", "Beta-wtd (SPY sh)",
                                             "Gamma (sh/pt)", "Theta (USD/day)", "Vega (USD/vol pt)"))
        self.betas = QLabel()
        self.betas.setObjectName("risk_betas")
        self.betas.setWordWrap(True)
        self.grid = _table("risk_grid", ())
        self.var = _table("risk_var", ("Method", *(k.replace("_", " ").upper() for k in VAR_KEYS), "Window"))
        self.backtest = QLabel()
        self.backtest.setWordWrap(True)
        self.stress = _table("risk_stress", ("Kind", "Scenario", "P&L (USD)", "Margin change (USD)", "Source"))
        self.ranked = _table("risk_ranked", ("Position", "P&L (USD)", "Underlying move"))
        self.ranked_title = QLabel("Positions ranked by loss")
        self.ranked_title.setWordWrap(True)
        self.editor = ScenarioEditor()
        self.replay = _table("risk_replay", ("Day", "SPX", "VIX", "SPX move", "IV x", "Model P&L (USD)",
                                             "Recorded P&L (USD)"))
        self.replay_note = QLabel()
        self.replay_note.setWordWrap(True)
        self._build_tabs()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs)
        self.stress.itemSelectionChanged.connect(self._show_ranked)
        self.stress.cellClicked.connect(self._on_stress_cell_clicked)
        self.editor.save_requested.connect(vm.save_scenario)
        self.editor.delete_requested.connect(vm.delete_scenario)
        vm.scenarios_changed.connect(self._on_scenarios_changed)
        vm.scenario_refused.connect(lambda why: self.editor.show_message(why, error=True))
        vm.report_changed.connect(self.show_report)
        vm.failed.connect(lambda why: self.status.setText(f"Risk could not be computed: {why}"))
        self._report: RiskReport | None = None
        if vm.last_report() is not None:
            self.show_report(vm.last_report())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Modest: the heat map's 31 columns would otherwise ask the dock area for ~2,000 px and
        widen the window (it scrolls instead)."""
        return QSize(480, 360)

    def _build_tabs(self) -> None:
        greeks_page = QWidget()
        gp = QVBoxLayout(greeks_page)
        gp.addWidget(self.greeks, 1)
        gp.addWidget(self.betas)
        self.tabs.addTab(greeks_page, "Greeks")
        grid_page = QWidget()
        g = QVBoxLayout(grid_page)
        self.grid_note = QLabel("P&L (USD) by full BSM revaluation, now (no time passing). Rows ↓ underlying move "
                                "(every underlying alike, %); columns → IV change (relative, %: +100 % = IV doubles).")
        self.grid_note.setWordWrap(True)
        g.addWidget(self.grid_note)
        g.addWidget(self.grid)
        self.tabs.addTab(grid_page, "Scenario grid")
        var_page = QWidget()
        v = QVBoxLayout(var_page)
        v.addWidget(self.var)
        v.addWidget(self.backtest)
        self.tabs.addTab(var_page, "VaR / ES")
        # scenarios above the selected one's positions ranked by loss; the trader's editor beside them
        ranked = QWidget()
        rl = QVBoxLayout(ranked)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.ranked_title)
        rl.addWidget(self.ranked, 1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.stress)
        left.addWidget(ranked)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        self.tabs.addTab(split, "Stress")
        rp = QWidget()
        r = QVBoxLayout(rp)
        r.addWidget(self.replay_note)
        r.addWidget(self.replay)
        self.tabs.addTab(rp, "Replay 2018-02-05")

    def show_report(self, report: RiskReport) -> None:
        self._report = report
        lines = [f"Account {report.account} on {report.as_of.isoformat()} — amounts in USD."]
        lines += [f"⚑ {label}: {note}" for label, note in report.flagged]
        lines += [f"Not valued: {label} — {why}" for label, why in report.excluded]
        lines += [f"{part}: {why}" for part, why in report.errors.items() if part != "backtest"]
        self.status.setText("\n".join(lines))
        gr = report.greeks
        _fill(self.greeks, [(g.name, str(g.positions), g.delta_shares, g.delta_dollars, g.beta_delta_spy,
                             f"{g.gamma:,.4f}", g.theta, g.vega) for g in (gr.total, *gr.by_bucket, *gr.by_underlying)])
        betas = "; ".join(f"{u} {fmt_num(b.value)} ({b.window})" for u, b in report.betas.items())
        self.betas.setText(f"Beta to SPY (OLS of daily log returns; weights the beta-weighted delta): {betas or MISSING}")
        self.greeks.setToolTip("Beta to SPY: " + betas)
        self._show_grid(report)
        _fill(self.var, [(v.method, *(v.figures.get(k, math.nan) for k in VAR_KEYS), v.window) for v in report.var])
        for r, v in enumerate(report.var):
            self.var.item(r, len(VAR_KEYS) + 1).setToolTip(v.window)
        self._show_backtest(report)
        chosen = self._selected_scenario()
        _fill(self.stress, [("user" if s.scenario.user else "built-in",
                             s.scenario.name if s.scenario.user else f"{s.scenario.name} — {s.scenario.label}",
                             s.pnl, s.margin_change, s.scenario.source)
                            for s in report.stress], color_cols=(2,))
        for r, s in enumerate(report.stress):
            self.stress.item(r, 4).setToolTip(s.scenario.source)
        names = [s.scenario.name for s in report.stress]
        if names:
            self.stress.selectRow(names.index(chosen) if chosen in names else 0)
        self._show_replay(report)

    def _show_grid(self, report: RiskReport) -> None:
        grid, moves, ivs = report.grid, report.und_moves, report.iv_changes
        self.grid.setColumnCount(len(ivs))
        self.grid.setRowCount(len(moves))
        self.grid.setHorizontalHeaderLabels([f"IV {x:+.0%}" for x in ivs])
        self.grid.setVerticalHeaderLabels([f"{m:+.0%}" for m in moves])
        self.grid.verticalHeader().setVisible(True)
        self.grid.verticalHeader().setDefaultSectionSize(18)
        header = self.grid.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        finite = grid[np.isfinite(grid)] if grid.size else grid
        widest = max((f"{x:,.0f}" for x in (finite.min(), finite.max())), key=len) if finite.size else "0"
        # every cell's number in full (a fixed 62 px cut "-143,194" to "-143,...")
        width = max(62, self.grid.fontMetrics().horizontalAdvance(widest) + 14)
        header.setDefaultSectionSize(width)
        for j in range(len(ivs)):
            header.resizeSection(j, width)
        scale = float(np.nanmax(np.abs(grid))) if grid.size else 0.0
        for i in range(len(moves)):
            for j in range(len(ivs)):
                item = QTableWidgetItem(f"{grid[i, j]:,.0f}")
                item.setBackground(heat_color(float(grid[i, j]), scale))
                item.setForeground(QColor("#111111"))
                item.setToolTip(f"underlying {moves[i]:+.0%}, IV {ivs[j]:+.0%}: P&L {fmt_money(float(grid[i, j]))}")
                self.grid.setItem(i, j, item)

    def _show_backtest(self, report: RiskReport) -> None:
        bt = report.backtest
        if bt is None:
            self.backtest.setText(f"Backtest: {report.errors.get('backtest', MISSING)}")
            return
        k95, k99 = bt.kupiec_95, bt.kupiec_99
        self.backtest.setText(
            f"Backtest of the historical 1-day VaR against the replay's real P&L over {len(bt.days)} days "
            f"({bt.days[0].isoformat()} .. {bt.days[-1].isoformat()}): 95 %: {k95.exceedances} exceedances "
            f"(expected {0.05 * k95.days:.1f}; Kupiec LR {k95.lr:.2f}, p = {k95.p_value:.3f}"
            f"{', rejected' if k95.rejected else ''}); 99 %: {k99.exceedances} (expected {0.01 * k99.days:.1f}; "
            f"LR {k99.lr:.2f}, p = {k99.p_value:.3f}{', rejected' if k99.rejected else ''}).")

    def _selected_scenario(self) -> str | None:
        rows = self.stress.selectionModel().selectedRows() if self._report is not None else []
        if not rows or self._report is None or rows[0].row() >= len(self._report.stress):
            return None
        return self._report.stress[rows[0].row()].scenario.name

    def _show_ranked(self) -> None:
        rows = self.stress.selectionModel().selectedRows() if self._report is not None else []
        if not rows or self._report is None or rows[0].row() >= len(self._report.stress):
            return
        res = self._report.stress[rows[0].row()]
        self.ranked_title.setText(f"Positions ranked by loss in {res.scenario.name} (worst first; P&L {fmt_money(res.pnl)}, "
                                  f"margin {fmt_money(res.margin_before)} → {fmt_money(res.margin_after)})")
        _fill(self.ranked, [(label, pnl, how) for label, pnl, how in res.ranked], color_cols=(1,))

    def _on_stress_cell_clicked(self, row: int, _column: int) -> None:
        """A click on one of the trader's scenarios puts it in the editor (a built-in one cannot be edited)."""
        if self._report is None or row >= len(self._report.stress) or not self._report.stress[row].scenario.user:
            return
        name = self._report.stress[row].scenario.name
        scenario = next((s for s in self._vm.user_scenarios() if s.name == name), None)
        if scenario is not None:
            self.editor.load(scenario)

    def _on_scenarios_changed(self, scenarios: list[UserScenario], note: str) -> None:
        """Saved or deleted: the editor shows the saved scenario (or a new form after a delete)."""
        editing = self.editor.editing
        form_name = self.editor.name.text().strip()
        saved = next((s for s in scenarios if s.name == form_name), None)
        self.editor.load(saved)
        what = (f"Saved {saved.name!r}: its P&L appears in the table with the next risk report." if saved is not None
                else f"Deleted {editing!r}." if editing else "Saved.")
        self.editor.show_message(f"{what} {note}".strip(), error=bool(note))

    def _show_replay(self, report: RiskReport) -> None:
        if not report.replay:
            self.replay_note.setText(report.errors.get("replay", "No replay."))
            _fill(self.replay, [])
            return
        first = report.replay[0].path
        base = first.day - timedelta(days=first.days_elapsed)
        self.replay_note.setText(
            f"Today's positions re-marked along the real path of the week of 5 Feb 2018 (from the close of "
            f"{base.isoformat()}): SPX from the "
            "recorded chain, IV scaled by the VIX, days passing. Recorded P&L: the recorded marks of the same "
            "contracts (only when today is that base day and the chain quotes them).")
        _fill(self.replay, [(r.path.day.isoformat(), r.path.spx, r.path.vix, f"{r.path.spx_ratio - 1:+.2%}",
                             f"{r.path.vix_ratio:.2f}", r.model_pnl, r.recorded_pnl) for r in report.replay],
              color_cols=(5, 6))
