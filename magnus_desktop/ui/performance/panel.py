"""Performance dock: the account's realized daily equity and drawdown, monthly returns, return and
risk ratios, and win/loss figures by strategy, underlying and month (USD, base currency).

How the equity is built and where the starting capital comes from are stated above the figures;
without data the dock says what to import instead of showing numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.performance import TradeStats, drawdown_series
from magnus_desktop.services.performance import PerformanceReport
from magnus_desktop.ui.performance.view_model import PerformanceViewModel
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.charts import ThousandsAxis, TimeSeriesChart
from magnus_desktop.widgets.docking import follow_dock_visibility
from magnus_desktop.widgets.formatting import MISSING, fmt_num, fmt_pct
from magnus_desktop.widgets.table_model import TEXT_COLORS, pnl_color

STAT_HEADERS = ("Group", "Trades", "Win rate", "Profit factor", "Avg win", "Avg loss", "Expectancy", "Total P&L",
                "Premium collected", "Premium kept", "Kept %")


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


def _factor(x: float) -> str:
    if math.isinf(x):
        return "∞ (no loss)"
    return fmt_num(x)


def stat_rows(stats: Sequence[TradeStats]) -> list[list[object]]:
    """Table rows (texts and P&L floats) of ``stats``."""
    return [[s.key, str(s.trades), fmt_pct(s.win_rate), _factor(s.profit_factor), s.avg_win, s.avg_loss,
             s.expectancy, s.total_pnl, fmt_num(s.premium_collected) if s.premium_collected else MISSING,
             fmt_num(s.premium_kept) if s.premium_collected else MISSING, fmt_pct(s.kept_pct)] for s in stats]


def _fill(table: QTableWidget, rows: Sequence[Sequence[object]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = value if isinstance(value, str) else fmt_num(value)
            item = QTableWidgetItem(text)
            if isinstance(value, float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                color = pnl_color(value)
                if color is not None:
                    item.setForeground(color)
            table.setItem(r, c, item)


class MonthlyReturnsChart(pg.PlotWidget):
    """Bars of each calendar month's compounded return (%), green up, red down."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, axisItems={"left": ThousandsAxis()})
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=False, y=True, alpha=0.2)
        self.getAxis("left").setWidth(56)
        self.setLabel("left", "Return (%)")
        self.addLine(y=0, pen=pg.mkPen("#808080", width=1))
        self._bars: pg.BarGraphItem | None = None
        self.months: list[str] = []
        self.values: list[float] = []
        self._theme = "dark"

    def apply_colors(self, colors: dict[str, str], theme: str) -> None:
        self._theme = theme
        self.setBackground(colors["bg"])
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(colors["fg"])
            self.getAxis(axis).setTextPen(colors["fg"])
        self.setTitle("Monthly returns (compounded daily returns)", color=colors["fg"], size="10pt")
        self.set_months(self.months, self.values)

    def set_months(self, months: Sequence[str], values: Sequence[float]) -> None:
        """``values`` are decimals (0.012 = 1.2 %); NaN months are left out."""
        self.months, self.values = list(months), list(values)
        if self._bars is not None:
            self.removeItem(self._bars)
            self._bars = None
        shown = [(m, v * 100) for m, v in zip(self.months, self.values, strict=True) if not math.isnan(v)]
        axis = self.getAxis("bottom")
        step = max(1, len(shown) // 12 + 1)
        axis.setTicks([[(i, m) for i, (m, _v) in enumerate(shown) if i % step == 0]])
        if not shown:
            return
        colors = TEXT_COLORS[self._theme]
        heights = [v for _m, v in shown]
        self._bars = pg.BarGraphItem(x=list(range(len(shown))), height=heights, width=0.7,
                                     brushes=[pg.mkBrush(colors["gain"] if v >= 0 else colors["loss"]) for v in heights],
                                     pens=[pg.mkPen(None)] * len(shown))
        self.addItem(self._bars)
        low, high = min(0.0, *heights), max(0.0, *heights)
        pad = (high - low) * 0.1 or 1.0
        self.setXRange(-0.6, len(shown) - 0.4, padding=0)
        self.setYRange(low - pad, high + pad, padding=0)


class PerformancePanel(QWidget):
    """The Performance dock's content (talks to its view model only)."""

    def __init__(self, vm: PerformanceViewModel, theme: str = "dark", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        follow_dock_visibility(self, self._vm.set_visible)
        self._theme = theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("Account:"))
        self.account = QComboBox(objectName="performance_account")
        self.account.setMinimumContentsLength(14)
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.activated.connect(lambda _i: vm.select_account(self.account.currentText()))
        top.addWidget(self.account)
        self.capital = QLabel(objectName="performance_capital")
        self.capital.setWordWrap(True)
        top.addWidget(self.capital, 1)
        layout.addLayout(top)
        self.status = QLabel("Computing performance…", objectName="performance_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.body = QSplitter(Qt.Orientation.Horizontal, objectName="performance_body")
        self.figures = _table("performance_figures", ("Figure", "Value"))
        self.figures.horizontalHeader().setVisible(False)
        self.figures.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.figures.verticalHeader().setDefaultSectionSize(self.figures.fontMetrics().height() + 6)
        self.figures.setMinimumWidth(200)
        self.body.addWidget(self.figures)
        self.tabs = QTabWidget(objectName="performance_tabs")
        charts = QSplitter(Qt.Orientation.Vertical)
        self.equity_chart = TimeSeriesChart("Equity (realized)", "base currency")
        self.drawdown_chart = TimeSeriesChart("Drawdown", "% below peak", zero_line=True)
        charts.addWidget(self.equity_chart)
        charts.addWidget(self.drawdown_chart)
        self.tabs.addTab(charts, "Equity && drawdown")
        self.monthly_chart = MonthlyReturnsChart()
        self.tabs.addTab(self.monthly_chart, "Monthly returns")
        self.by_strategy = _table("performance_by_strategy", STAT_HEADERS)
        self.by_underlying = _table("performance_by_underlying", STAT_HEADERS)
        self.by_month = _table("performance_by_month", STAT_HEADERS)
        self.tabs.addTab(self.by_strategy, "By strategy")
        self.tabs.addTab(self.by_underlying, "By underlying")
        self.tabs.addTab(self.by_month, "By month")
        self.body.addWidget(self.tabs)
        self.body.setStretchFactor(1, 1)
        self.body.setSizes([300, 500])
        layout.addWidget(self.body, 1)
        vm.report_changed.connect(self.show_report)
        vm.failed.connect(self.status.setText)
        self.apply_theme(theme)
        if vm.last_report() is not None:
            self.show_report(vm.last_report())

    def apply_theme(self, theme: str) -> None:
        self._theme = theme
        colors = chart_colors(theme)
        self.equity_chart.apply_colors(colors)
        self.drawdown_chart.apply_colors({**colors, "line": TEXT_COLORS[theme]["loss"]})
        self.monthly_chart.apply_colors(colors, theme)

    # ---- the report ------------------------------------------------------------------------------
    def show_report(self, report: PerformanceReport) -> None:
        self._set_accounts(report.accounts, report.account)
        self.capital.setToolTip(report.method)
        has_figures = report.curve is not None
        self.body.setVisible(has_figures)
        if not has_figures:
            self.capital.setText("")
            self.status.setText(report.empty or "")
            self.status.setVisible(True)
            return
        self.capital.setText(f"Realized equity in the account's base currency (open positions not marked; hover "
                             f"for the method). Starting capital: {report.capital.source}.")
        self.status.setText(" ".join(report.notes))
        self.status.setVisible(bool(report.notes))
        self._show_figures(report)
        curve = report.curve
        assert curve is not None
        days = [ts.date() for ts in curve.frame.index]
        self.equity_chart.set_series("equity", days, curve.frame["equity"].to_numpy())
        self.drawdown_chart.setLabel("left", "% below peak" if curve.starting_capital is not None else "below peak")
        if curve.starting_capital is not None:
            wealth = curve.frame["equity"]
            dd = drawdown_series(wealth, curve.starting_capital) * 100.0
            self.drawdown_chart.set_series("drawdown", days, dd.fillna(0.0).to_numpy())
        else:  # no capital: the fall in USD
            equity = curve.frame["equity"]
            self.drawdown_chart.set_series("drawdown", days, (equity - equity.cummax().clip(lower=0.0)).to_numpy())
        monthly = report.monthly
        if monthly is not None:
            self.monthly_chart.set_months(monthly["month"].tolist(), monthly["return"].tolist())
        _fill(self.by_strategy, stat_rows(([report.overall] if report.overall else []) + report.by_strategy))
        _fill(self.by_underlying, stat_rows(report.by_underlying))
        _fill(self.by_month, stat_rows(report.by_month))

    def _set_accounts(self, accounts: Sequence[str], current: str | None) -> None:
        if [self.account.itemText(i) for i in range(self.account.count())] != list(accounts):
            self.account.clear()
            self.account.addItems(list(accounts))
        if current is not None:
            self.account.setCurrentText(current)

    def _show_figures(self, report: PerformanceReport) -> None:
        s = report.stats
        o = report.overall
        assert s is not None
        dd_when = (f" ({s.drawdown_start:%Y-%m-%d} → {s.drawdown_end:%Y-%m-%d})"
                   if s.drawdown_start and s.drawdown_end else "")
        cells: list[tuple[str, str]] = [
            ("Total P&L", fmt_num(s.total_pnl)), ("Total return", fmt_pct(s.total_return, 2)),
            ("Annualised return", fmt_pct(s.annual_return, 2)), ("Volatility (ann.)", fmt_pct(s.annual_volatility, 2)),
            ("Sharpe", fmt_num(s.sharpe)), ("Sortino", fmt_num(s.sortino)),
            ("Max drawdown", fmt_pct(s.max_drawdown, 2)),
            ("Drawdown peak → trough", dd_when.strip(" ()") or MISSING),
            ("Max drawdown (USD)", fmt_num(s.max_drawdown_usd)),
            ("Longest drawdown", f"{s.drawdown_days} trading days"), ("Calmar", fmt_num(s.calmar)),
            ("Days", str(s.days)), ("Risk-free rate", fmt_pct(s.risk_free_rate, 2)),
        ]
        if o is not None:
            cells += [("Closed trades", str(o.trades)), ("Win rate", fmt_pct(o.win_rate)),
                      ("Profit factor", _factor(o.profit_factor)), ("Expectancy / trade", fmt_num(o.expectancy)),
                      ("Avg win", fmt_num(o.avg_win)), ("Avg loss", fmt_num(o.avg_loss)),
                      ("Premium collected", fmt_num(o.premium_collected)),
                      ("Premium kept", f"{fmt_num(o.premium_kept)} ({fmt_pct(o.kept_pct)})")]
        self.figures.setRowCount(len(cells))
        for r, (name, value) in enumerate(cells):
            self.figures.setItem(r, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.figures.setItem(r, 1, item)
