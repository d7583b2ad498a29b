"""Dashboard dock: account value and P&L over the replay, with SPX and VIX for context."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from magnus_desktop.models.domain import AccountSummary
from magnus_desktop.services.market.overview import MarketOverview
from magnus_desktop.services.portfolio.service import BrokerEquity
from magnus_desktop.ui.dashboard.view_model import DashboardViewModel
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.charts import TimeSeriesChart
from magnus_desktop.widgets.formatting import fmt_money, fmt_num, fmt_pct
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.pair_grid import PairGrid
from magnus_desktop.widgets.table_model import pnl_color, text_color
from magnus_desktop.widgets.throttle import Throttle

CARDS = (
    ("net_liquidation", "Account value"),
    ("total_pnl", "Total P&L"),
    ("day_pnl", "Day P&L"),
    ("buying_power", "Buying power"),
    ("spx", "SPX"),
    ("vix", "VIX"),
)


class DashboardPanel(QWidget):
    def __init__(self, vm: DashboardViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.cards: dict[str, QLabel] = {}
        pairs = []
        for key, title in CARDS:
            caption, value = QLabel(title), QLabel("—")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.5)
            font.setBold(True)
            value.setFont(font)
            value.setObjectName(f"card_{key}")
            pairs.append((caption, value))
            self.cards[key] = value
        cards = PairGrid(pairs, stacked=True, max_columns=len(CARDS), min_columns=3, parent=self)
        cards.grid.setContentsMargins(4, 4, 4, 4)
        #: where the SPX and VIX cards come from (the replay's close, or a live source and its time)
        self.market_source = QLabel()
        self.market_source.setObjectName("market_source")
        self.market_source.setWordWrap(True)
        small = self.market_source.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.market_source.setFont(small)
        self.bp_warning = QLabel()  # says it in words, not only in red
        self.bp_warning.setObjectName("bp_warning")
        self.bp_warning.setWordWrap(True)
        set_label(self.bp_warning, "", text_color("loss"), extra_style=" font-weight: bold;")
        self.bp_warning.hide()
        self.equity_chart = TimeSeriesChart("Demo account P&L since start (USD)", "USD", self, zero_line=True)
        self.market_chart = TimeSeriesChart("SPX close (recorded)", "index", self)
        #: a real account's equity: only the net liquidation its broker reported, since connecting
        self.broker_equity_chart: TimeSeriesChart | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(cards)
        layout.addWidget(self.market_source)
        layout.addWidget(self.bp_warning)
        layout.addWidget(self.equity_chart, 3)
        self._equity_index = layout.indexOf(self.equity_chart)
        layout.addWidget(self.market_chart, 2)
        self.apply_theme(vm.theme)
        # charts repaint at most twice a second, however fast the replay runs (a chart repaint costs
        # ~6 ms: the axes' tick labels are redrawn with the curve); the cards follow 4x a second
        self._equity = Throttle(self._show_equity, hz=2.0, parent=self)
        # the SPX chart follows its cards ~120 ms later, in its own frame (not with the equity chart)
        self._market = Throttle(self._show_market, hz=8.0, parent=self)
        self._account = Throttle(self._show_account, hz=4.0, parent=self)
        self._overview = Throttle(self._show_overview, hz=2.0, parent=self)
        vm.equity_changed.connect(self._equity.push)
        vm.account_changed.connect(self._account.push)
        vm.overview_changed.connect(self._overview.push)
        vm.theme_changed.connect(self.apply_theme)
        vm.broker_equity_changed.connect(self._on_vm_broker_equity_changed)
        vm.feed_changed.connect(self._on_vm_feed_changed)

    def _on_vm_broker_equity_changed(self, equity: BrokerEquity) -> None:
        """A real account: its broker's net liquidation samples replace the demo's P&L curve (no
        invented history); the P&L cards say the broker reports no P&L history."""
        chart = self.broker_equity_chart
        if chart is None or chart.property("account") != equity.account:
            if chart is not None:
                chart.deleteLater()
            chart = self.broker_equity_chart = TimeSeriesChart(equity.title(), "USD", self)
            chart.setObjectName("broker_equity_chart")
            chart.setProperty("account", equity.account)
            chart.apply_colors(chart_colors(self.vm.theme))
            self.layout().insertWidget(self._equity_index, chart, 3)  # type: ignore[attr-defined]
        self.equity_chart.hide()
        chart.show()
        if equity.samples:
            chart.set_series("Net liquidation", [at for at, _v in equity.samples], [v for _at, v in equity.samples])
        for key in ("total_pnl", "day_pnl"):
            self._set_card(key, "—")
            self.cards[key].setToolTip(f"{equity.source} reports no P&L history for {equity.account}")

    def _on_vm_feed_changed(self, status: object) -> None:
        if status is None and self.broker_equity_chart is not None:  # the demo account is back
            self.broker_equity_chart.deleteLater()
            self.broker_equity_chart = None
            self.equity_chart.show()
            for key in ("total_pnl", "day_pnl"):
                self.cards[key].setToolTip("")

    def apply_theme(self, theme: str) -> None:
        colors = chart_colors(theme)
        self.equity_chart.apply_colors(colors)
        self.market_chart.apply_colors(colors)
        if getattr(self, "broker_equity_chart", None) is not None:
            self.broker_equity_chart.apply_colors(colors)  # type: ignore[union-attr]

    def _set_card(self, key: str, text: str, signed_value: float | None = None) -> None:
        color = pnl_color(signed_value) if signed_value is not None else None
        set_label(self.cards[key], text, color)  # touches the card only when text or colour changed

    def _show_equity(self, curve: list[tuple[date, float, float]]) -> None:
        if not curve:
            return
        days = [row[0] for row in curve]
        self._fix_day_domain(self.equity_chart)
        self.equity_chart.set_series("Total P&L", days, [row[2] for row in curve])
        total = curve[-1][2]
        day_pnl = curve[-1][1] - curve[-2][1] if len(curve) > 1 else float("nan")
        self._set_card("total_pnl", fmt_money(total), total)
        self._set_card("day_pnl", fmt_money(day_pnl), day_pnl)

    def _fix_day_domain(self, chart: TimeSeriesChart) -> None:
        """The replay charts span the whole replay calendar: their day axis is laid out once."""
        days = self.vm.replay_days()
        if days and chart.day_domain != days:
            chart.set_day_domain(days)

    def _show_market(self, closes: tuple[tuple[date, float], ...]) -> None:
        self._fix_day_domain(self.market_chart)
        self.market_chart.set_series("SPX", [d for d, _spx in closes], [spx for _d, spx in closes])

    def _show_overview(self, overview: MarketOverview) -> None:
        """SPX and VIX cards; the SPX chart repaints in a later loop turn (not with the equity chart)."""
        self._set_card("spx", fmt_num(overview.spx))
        vix = overview.vix
        if vix is None:
            self._set_card("vix", "—")
        else:
            self._set_card("vix", f"{vix.last:.2f} ({fmt_pct(vix.change_pct, 1)})", vix.change)
        set_label(self.market_source, overview.source_text)
        self._market.push(overview.spx_closes)

    def _show_account(self, summary: AccountSummary) -> None:
        self._set_card("net_liquidation", fmt_money(summary.net_liquidation))
        self._show_buying_power(summary)

    def _show_buying_power(self, summary: AccountSummary) -> None:
        """Buying power card; a negative value is red and explained in a warning line."""
        bp = summary.buying_power
        negative = bp < 0  # NaN compares False: unknown is not a warning
        self._set_card("buying_power", fmt_money(bp, 0), bp if negative else None)
        if self.bp_warning.isVisibleTo(self) != negative:
            self.bp_warning.setVisible(negative)
        if negative:
            set_label(self.bp_warning,
                f"⚠ Buying power is negative on {summary.as_of.isoformat()}: {fmt_money(bp, 0)}. The short puts "
                f"secure {fmt_money(summary.collateral_used, 0)} of collateral against {fmt_money(summary.cash, 0)} "
                "of cash. Close or reduce positions; new opening orders are refused until it is back above $0.",
                text_color("loss"), extra_style=" font-weight: bold;")
