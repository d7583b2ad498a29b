"""Performance and Journal docks on a started app context: real figures from the demo account's
fills and from the real broker exports, the clear empty states, journaling from the ticket, an
alert and an assistant answer, outcome linking on the app's fills, preferences applied only on
confirmation and reset."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from magnus_desktop.analytics.performance import WHEEL_CSP
from magnus_desktop.models.alerts import Alert, Fact, Priority
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.journal import JournalEntry, option_key
from magnus_desktop.services.assistant.service import Answer, ToolCall
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.imports import import_file
from magnus_desktop.services.journal import JournalRepo
from magnus_desktop.services.performance import PerformanceReport
from magnus_desktop.services.performance.inputs import statement_capital
from magnus_desktop.services.portfolio.demo import DEMO_ACCOUNT
from magnus_desktop.services.settings import ScannerSettings
from magnus_desktop.ui.alerts.view_model import AlertsViewModel
from magnus_desktop.ui.assistant.view_model import AssistantViewModel
from magnus_desktop.ui.journal.panel import JournalPanel
from magnus_desktop.ui.journal.view_model import JournalViewModel
from magnus_desktop.ui.orders.ticket import OrderTicketDialog
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.performance.panel import PerformancePanel
from magnus_desktop.ui.performance.view_model import PerformanceViewModel
from tests.ui.conftest import LoopRunner

ROOT = Path(__file__).resolve().parents[2]
FLEX = ROOT / "tests" / "data" / "ibkr_flex_TestForCoding_20181109.xml"
RH_NAME = "broker_exports/robinhood_activity_Dec2023.csv"
JAN31 = date(2018, 1, 31)


def _perf_panel(qtbot, ctx: AppContext) -> PerformancePanel:  # type: ignore[no-untyped-def]
    vm = PerformanceViewModel(ctx)
    panel = PerformancePanel(vm)
    vm.setParent(panel)
    qtbot.addWidget(panel)
    panel.resize(900, 420)
    panel.show()
    return panel


def _report(run: LoopRunner, ctx: AppContext, account: str | None = None) -> PerformanceReport:
    ctx.performance.account = account
    return run(ctx.performance.refresh())


def _jump(run: LoopRunner, ctx: AppContext, day: date) -> None:
    assert ctx.clock is not None
    ctx.clock.jump(day)
    run.until(lambda: ctx.day == day)
    run(ctx.refreshed.wait())


def test_demo_account_shows_real_figures_from_its_settled_puts(qtbot, ctx: AppContext, run: LoopRunner,
                                                               tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    start = _report(run, ctx)
    assert start.account == DEMO_ACCOUNT and start.curve is None  # nothing closed on the seed day
    assert start.empty is not None and "import a statement" in " ".join([start.empty, *start.notes])
    _jump(run, ctx, date(2018, 2, 6))
    panel = _perf_panel(qtbot, ctx)
    run.until(lambda: ctx.performance.last_report is not None and ctx.performance.last_report.overall is not None)
    report = ctx.performance.last_report
    assert report is not None and report.overall is not None and report.stats is not None
    # the three January puts expired out of the money on 31 Jan and were settled on 1 Feb: premium kept
    january = [f for f in ctx.portfolio.fills if f.contract.expiry == JAN31]
    assert len(january) == 3
    kept = sum(-f.qty * f.price * f.contract.multiplier - f.commission for f in january)
    collected = sum(-f.qty * f.price * f.contract.multiplier for f in january)
    assert report.overall.trades == 3 and report.overall.wins == 3
    assert report.overall.total_pnl == pytest.approx(kept)
    assert report.overall.premium_collected == pytest.approx(collected)
    assert [s.key for s in report.by_strategy] == [WHEEL_CSP]
    assert report.stats.total_pnl == pytest.approx(kept)
    starting = ctx.portfolio.starting_cash
    assert report.capital.amount == starting
    assert report.stats.total_return == pytest.approx(kept / starting)
    assert report.curve is not None and report.curve.frame.index[0].date() == date(2018, 1, 2)  # the opening day
    assert report.curve.frame.index[-1].date() == date(2018, 2, 6)  # carried to the replay day
    assert panel.body.isVisible() and panel.figures.rowCount() > 10
    texts = {panel.figures.item(r, 0).text(): panel.figures.item(r, 1).text() for r in range(panel.figures.rowCount())}
    assert texts["Closed trades"] == "3" and texts["Win rate"] == "100.0%"
    assert panel.by_strategy.rowCount() == 2  # All + the wheel puts
    panel.grab().save(str(tmp_path / "performance.png"))


def test_imported_statements_performance_and_capital(ctx: AppContext, run: LoopRunner,
                                                     shared_data: Path) -> None:
    assert ctx.db is not None
    import_file(ctx.db, shared_data / RH_NAME)
    run(ctx.history.refresh())
    rh = _report(run, ctx, "robinhood")
    assert rh.account == "robinhood" and rh.overall is not None
    closed = [m for m in ctx.history.snapshot.matches if m.account == "robinhood"]
    assert rh.overall.total_pnl == pytest.approx(sum(m.realized for m in closed))
    assert rh.stats is not None and math.isnan(rh.stats.sharpe)  # Robinhood states no cash: no capital, no ratio
    assert any("starting capital" in n for n in rh.notes)
    ctx.settings.performance_starting_capital = 25_000.0
    with_capital = _report(run, ctx, "robinhood")
    assert with_capital.stats is not None and not math.isnan(with_capital.stats.sharpe)
    assert "Settings" in with_capital.capital.source
    # the IBKR statement states its starting cash: recorded at import through the history service
    run(ctx.history.import_file(FLEX))
    run.until(lambda: "U1234567" in statement_capital(ctx.db))  # type: ignore[arg-type]
    ib = _report(run, ctx, "U1234567")
    ib_lots = [m for m in ctx.history.snapshot.matches if m.account == "U1234567"]
    assert ib.overall is not None and ib.overall.total_pnl == pytest.approx(
        sum(m.realized * m.fx_rate_to_base for m in ib_lots))
    # the statement covers one day: the USD figures are there, the ratios say why they are missing
    assert ib.stats is not None and ib.stats.days == 1 and math.isnan(ib.stats.sharpe)
    assert any("1 day of equity" in n for n in ib.notes)
    assert "statement" in ib.capital.source and ib.capital.amount is not None
    assert "USD 80,464.69" in ib.capital.source  # the file's CashReport startingCash


def test_an_unknown_account_falls_back_to_the_first(ctx: AppContext, run: LoopRunner) -> None:
    ctx.performance.account = "nobody"
    report = run(ctx.performance.refresh())
    assert report.account == DEMO_ACCOUNT  # an unknown account falls back to the first one


def test_ticket_thesis_is_journaled_when_cancelled_with_the_numbers(qtbot, qapp, run: LoopRunner, ctx: AppContext,
                                                                   orders_vm: OrdersViewModel) -> None:  # type: ignore[no-untyped-def]
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        contract = OptionContract("SPXW", JAN31, 2600.0, "P")
        dialog = OrderTicketDialog(orders_vm, contract, "SELL", 1)
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.quote_day is not None)
        dialog.thesis.setText("IV rich after the holiday; 2600 is below support")
        dialog.journal_tags.setText("wheel, Support")
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
        run.until(lambda: len(ctx.journal.entries) == 1)
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    (e,) = ctx.journal.entries
    assert (e.source, e.action, e.symbol, e.tags) == ("ticket", "cancelled", "SPXW", ("wheel", "support"))
    assert e.contract_keys == (option_key("SPXW", JAN31, 2600.0, "P"),) and e.account == DEMO_ACCOUNT
    bid, ask = dialog.quote[0], dialog.quote[1]
    assert e.numbers["bid"] == bid and e.numbers["ask"] == ask
    assert e.delta is not None and -1 < e.delta < 0 and e.dte == (JAN31 - date(2018, 1, 2)).days
    assert e.numbers["iv"] > 0


def test_combo_ticket_thesis_is_journaled_with_every_leg(qtbot, qapp, run: LoopRunner, ctx: AppContext,
                                                         orders_vm: OrdersViewModel) -> None:  # type: ignore[no-untyped-def]
    """A vertical's ticket journals like a single option's: its legs, its strategy, the first leg's quote."""
    from magnus_desktop.ui.orders.combo import ComboTicketDialog

    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        dialog = ComboTicketDialog(orders_vm, "vertical", "SPXW", right="P", expiry=JAN31, strikes=(2600.0, 2550.0))
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.preview is not None)
        dialog.thesis.setText("defined-risk put spread under support")
        dialog.journal_tags.setText("spread")
        dialog.reject()
        run.until(lambda: len(ctx.journal.entries) == 1)
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    (e,) = ctx.journal.entries
    assert dialog.ticket is not None
    legs = dialog.ticket.legs
    assert (e.source, e.action, e.strategy, e.tags) == ("ticket", "cancelled", "vertical", ("spread",))
    assert e.contract_keys == tuple(option_key("SPXW", JAN31, leg.contract.strike, "P") for leg in legs)
    q = dialog.quotes(legs[:1])[legs[0].contract]
    assert q is not None and e.numbers["bid"] == q.bid and e.numbers["ask"] == q.ask and e.numbers["iv"] > 0


def test_ticket_without_thesis_journals_nothing(qtbot, qapp, run: LoopRunner, ctx: AppContext,
                                                orders_vm: OrdersViewModel) -> None:  # type: ignore[no-untyped-def]
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        dialog = OrderTicketDialog(orders_vm, OptionContract("SPXW", JAN31, 2600.0, "P"), "SELL", 1)
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.quote_day is not None)
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
        run.idle(0.3)
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    assert ctx.journal.entries == []


def test_outcome_linked_from_the_apps_fills_when_the_put_settles(ctx: AppContext, run: LoopRunner) -> None:
    fill = next(f for f in ctx.portfolio.fills if f.contract.expiry == JAN31)
    c = fill.contract
    entry = JournalEntry(source="ticket", action="sent", trade_date=date(2018, 1, 2), account=DEMO_ACCOUNT,
                         symbol=c.underlying, contract_keys=(option_key(c.underlying, c.expiry, c.strike, c.right),),
                         delta=-0.1, dte=29)
    run(ctx.journal.add(entry))
    assert run(ctx.journal.link_now()) == 0  # still open on 2 Jan
    _jump(run, ctx, date(2018, 2, 6))
    run(ctx.journal.link_now())
    (linked,) = ctx.journal.entries
    assert linked.outcome_pnl == pytest.approx(-fill.qty * fill.price * c.multiplier - fill.commission)
    assert linked.outcome_source == "fills" and linked.outcome_closed_at is not None
    assert linked.outcome_closed_at.date() == date(2018, 2, 1)  # the first trading day after expiry


def test_alert_and_answer_are_journaled(ctx: AppContext, run: LoopRunner, orders_vm: OrdersViewModel) -> None:
    alerts_vm = AlertsViewModel(ctx, orders_vm)
    alert = Alert(0, DEMO_ACCOUNT, "short_put_dte", "SPXW  180228P02670000", Priority.HIGH,
                  "SPXW 2670 P: 3 days to expiry", date(2018, 2, 23), datetime(2018, 2, 23, 21, tzinfo=UTC),
                  (Fact("dte", 3.0, "days"), Fact("delta", -0.42), Fact("captured", float("nan"), "%")), ("roll",))
    alerts_vm.journal_alert(alert, "Rolling: delta doubled", "defend")
    run.until(lambda: len(ctx.journal.entries) == 1)
    e = ctx.journal.entries[0]
    assert (e.source, e.action, e.strategy, e.symbol) == ("alert", "noted", "short_put_dte", "SPXW")
    assert e.contract_keys == ("OPT:SPXW:2018-02-28:2670:P",) and e.delta == -0.42 and e.dte == 3
    assert "captured" not in e.numbers  # NaN facts are left out
    assistant_vm = AssistantViewModel(ctx)
    answer = Answer("what is my delta?", "Your net delta is -31 shares.", (ToolCall("get_greeks", {}, None),),
                    "router", 12.0)
    assistant_vm.journal_answer(answer, "", "greeks")
    run.until(lambda: len(ctx.journal.entries) == 2)
    a = ctx.journal.entries[0]
    assert (a.source, a.tags, a.numbers["tools"]) == ("assistant", ("greeks",), ["get_greeks"])
    assert a.numbers["question"] == "what is my delta?"


def test_journal_dock_preferences_apply_only_on_confirm_then_reset(qtbot, ctx: AppContext, run: LoopRunner,
                                                                   tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = JournalViewModel(ctx)
    panel = JournalPanel(vm)
    vm.setParent(panel)
    qtbot.addWidget(panel)
    panel.resize(900, 360)
    panel.show()
    assert "No journal entries yet" in panel.status.text()
    assert ctx.db is not None
    repo = JournalRepo(ctx.db)
    deltas, dtes = [0.12, 0.15, 0.18, 0.2, 0.25, 0.3], [10, 20, 25, 30, 35, 45]
    for i, (d, t) in enumerate(zip(deltas, dtes, strict=True)):
        entry_id = repo.add(JournalEntry(source="ticket", action="sent", trade_date=date(2018, 1, 2), symbol="SPXW",
                                         contract_keys=(f"OPT:SPXW:2018-03-16:{2500 + i}:P",), delta=-d, dte=t,
                                         p_win=0.8, tags=("wheel",), strategy="single short"))
        repo.set_outcomes([(entry_id, 100.0 + i, datetime(2018, 3, 16), "fills")])
    run(ctx.journal.reload())
    run.until(lambda: panel.entries.rowCount() == 6)
    assert panel.by_tag.item(0, 0).text() == "wheel" and panel.by_tag.item(0, 3).text() == "6"
    assert "From 6 winning journaled trades" in panel.prefs_label.text()
    before = ctx.settings.scanner.model_copy()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert "Confirm to apply" in panel.prefs_message.text()
    assert ctx.settings.scanner == before  # nothing changes before the confirmation
    qtbot.mouseClick(panel.confirm_button, Qt.MouseButton.LeftButton)
    prefs = ctx.journal.preferences()
    assert prefs.delta_range is not None and prefs.dte_range is not None
    run.until(lambda: ctx.settings.scanner.delta_min == prefs.delta_range[0])
    assert ctx.settings.scanner.delta_max == prefs.delta_range[1]
    assert (ctx.settings.scanner.dte_min, ctx.settings.scanner.dte_max) == prefs.dte_range
    run.until(lambda: (tmp_path / "settings.json").is_file())  # saved: the trader accepted them
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["scanner"]["delta_min"] == prefs.delta_range[0]
    panel.grab().save(str(tmp_path / "journal.png"))
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    defaults = ScannerSettings()
    run.until(lambda: ctx.settings.scanner.delta_min == defaults.delta_min)
    assert (ctx.settings.scanner.dte_min, ctx.settings.scanner.dte_max) == (defaults.dte_min, defaults.dte_max)


def test_kalshi_trades_show_in_the_performance_dock(qtbot, ctx: AppContext, run: LoopRunner,
                                                    tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Stored Kalshi fills and settlements (recorded markets) become "Kalshi" rows of their own account."""
    from magnus_desktop.analytics.performance import KALSHI
    from magnus_desktop.models.kalshi import KalshiFill, KalshiSettlement
    from magnus_desktop.services.kalshi.history import store_history

    def fill(fid: str, ticker: str, side: str, action: str, count: int, yes: int, fee: float,
             when: datetime) -> KalshiFill:
        return KalshiFill(fid, "o" + fid, ticker, side, action, count, yes, 100 - yes, True, fee, when)  # type: ignore[arg-type]

    fills = [fill("1", "OSCARPIC-24-O", "yes", "buy", 10, 40, 0.17, datetime(2024, 3, 1, 15, tzinfo=UTC)),
             fill("2", "OSCARPIC-24-KOTFM", "yes", "buy", 5, 20, 0.08, datetime(2024, 3, 2, 15, tzinfo=UTC))]
    settled = [KalshiSettlement("OSCARPIC-24-O", "OSCARPIC-24", "yes", 10, 0, 400, 0, 1000, 100, 0.0,
                                datetime(2024, 3, 11, 14, 12, tzinfo=UTC)),
               KalshiSettlement("OSCARPIC-24-KOTFM", "OSCARPIC-24", "no", 5, 0, 100, 0, 0, 0, 0.0,
                                datetime(2024, 3, 11, 14, 12, tzinfo=UTC))]
    account = ctx.kalshi.account_name
    assert ctx.db is not None and store_history(ctx.db, account, fills, settled) == (2, 2)
    panel = _perf_panel(qtbot, ctx)
    run.until(lambda: ctx.performance.last_report is not None and account in ctx.performance.last_report.accounts)
    panel.account.setCurrentText(account)
    panel.account.activated.emit(panel.account.currentIndex())
    run.until(lambda: ctx.performance.last_report is not None and ctx.performance.last_report.account == account)
    report = ctx.performance.last_report
    assert report is not None and report.overall is not None
    expected = 10 * (1.00 - 0.40) - 0.17 + 5 * (0.00 - 0.20) - 0.08
    assert report.overall.total_pnl == pytest.approx(expected)
    assert [s.key for s in report.by_strategy] == [KALSHI]
    assert panel.by_strategy.item(1, 0).text() == KALSHI
    assert panel.by_underlying.rowCount() == 2
    panel.tabs.setCurrentWidget(panel.by_strategy)
    panel.grab().save(str(tmp_path / "performance_kalshi.png"))
