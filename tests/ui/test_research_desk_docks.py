"""The research-desk docks (options flow, calendar spreads, earnings, sectors) on the offline replay:
they follow the research symbol and the day, compute only while shown, and say what is missing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.research import desk_docks
from magnus_desktop.ui.research.desk_panel_base import DeskPanel
from tests.ui.conftest import LoopRunner

DAY = date(2018, 2, 6)


@pytest.fixture
def keep_app(qapp):  # type: ignore[no-untyped-def]
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # closing a dialog must not quit the app (and stop the loop)
    yield
    qapp.setQuitOnLastWindowClosed(quit_on_close)


def _shown(qtbot, run: LoopRunner, ctx: AppContext, app_vm: AppViewModel, factory, symbol: str = "SPX") -> DeskPanel:  # type: ignore[no-untyped-def]
    ctx.symbol.set(symbol, "test")
    ctx.clock.jump(DAY)
    run(ctx.refreshed.wait())
    panel = factory(app_vm)
    qtbot.addWidget(panel)
    panel.resize(1100, 520)
    panel.show()
    run.until(lambda: not panel.stale, timeout=30)
    return panel


def _grab(panel: QWidget, folder: Path, name: str) -> None:
    """Save what the panel shows (the PNGs are looked at while developing; the test's own folder)."""
    assert panel.grab().save(str(folder / f"research-{name}.png"))


def test_flow_dock_ranks_the_replay_days_activity(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                  app_vm: AppViewModel, tmp_path: Path) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.flow_dock)
    report = panel.vm.last_report
    run.until(lambda: panel.model.rowCount() == len(report.rows) > 0)
    assert report.day == DAY and report.symbol == "SPX"
    assert "SPXW 2,695.16 (1.74%)" in panel.header.text() and "from 2018-02-05's trades" in panel.header.text()
    assert "replay · as of 2018-02-06 close" in panel.header.text()
    _grab(panel, tmp_path, "flow")
    # another symbol: the old figures are greyed at once, then the dock says what is missing
    ctx.symbol.set("AAPL", "test")
    assert panel.stale and not panel.table.isEnabled()
    run.until(lambda: not panel.stale, timeout=30)
    run.until(lambda: panel.model.rowCount() == 0)
    assert "No option chain of AAPL" in panel.notes.text()


def test_hidden_flow_dock_computes_nothing(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                           app_vm: AppViewModel, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.flow_dock)
    calls: list[str] = []
    original = ctx.desk.flow

    async def counting(symbol: str, day: date):  # type: ignore[no-untyped-def]
        calls.append(symbol)
        return await original(symbol, day)

    monkeypatch.setattr(ctx.desk, "flow", counting)
    panel.hide()
    ctx.symbol.set("GOOG", "test")
    ctx.symbol.set("SPX", "test")
    run.idle(0.3)
    assert calls == [] and panel.stale
    panel.show()
    run.until(lambda: not panel.stale, timeout=30)
    assert calls == ["SPX"]  # once, with the latest symbol


def test_sectors_dock_offline(qtbot, run: LoopRunner, ctx: AppContext, app_vm: AppViewModel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.sectors_dock, "AAPL")
    report = panel.vm.last_report
    run.until(lambda: panel.allocation_model.rowCount() == 1 and panel.strength_model.rowCount() == 2)
    assert "Information Technology" in panel.header.text()
    assert panel.warnings.isVisible() and panel.warnings.text().startswith("Unclassified holds 100%")
    assert {r["symbol"] for r in panel.strength_model.records()} == {"SPY", "AAPL"}
    assert "sector ETFs XLC, XLY" in panel.notes.text() and "AAPL: bars end earlier" in panel.strength_note.text()
    assert report.threshold == ctx.settings.research_flow.sector_concentration_pct
    _grab(panel, tmp_path, "sectors")


def test_earnings_dock_offline_says_there_is_no_source(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                       app_vm: AppViewModel, tmp_path: Path) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.earnings_dock, "AAPL")
    run.until(lambda: panel.calendar_model.rowCount() > 0)
    statuses = {r["symbol"]: r["status"] for r in panel.calendar_model.records()}
    assert statuses["AAPL"].startswith("no earnings source")
    assert all(r["next_report"] is None for r in panel.calendar_model.records())
    assert "No earnings source: set an earnings file" in panel.notes.text() and "Past reactions of AAPL: no earnings source" in panel.notes.text()
    run.until(lambda: panel.risk_model.rowCount() > 0)
    assert {(r["risk"], r["note"]) for r in panel.risk_model.records()} == {("no", "index: no earnings")}
    _grab(panel, tmp_path, "earnings-offline")


def test_earnings_dock_with_a_file(qtbot, run: LoopRunner, ctx: AppContext, app_vm: AppViewModel,  # type: ignore[no-untyped-def]
                                   shared_data, tmp_path: Path) -> None:
    ctx.settings.research.earnings_file = str(shared_data / "earnings" / "daniel-bassett_earnings_1993-2024.csv")
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.earnings_dock, "AAPL")
    run.until(lambda: panel.reaction_model.rowCount() > 10)
    cal = {r["symbol"]: r for r in panel.calendar_model.records()}
    assert cal["AAPL"]["next_report"] == date(2018, 5, 1)  # after 2018-02-06: the 1 Feb report is past
    assert "Past reactions (AAPL)" == panel.tabs.tabText(2) and "reports in the bars" in panel.summary.text()
    panel.tabs.setCurrentIndex(2)
    _grab(panel, tmp_path, "earnings-file")


def test_calendars_dock_says_the_replay_has_one_expiry(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                       app_vm: AppViewModel) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.calendars_dock)
    assert panel.model.rowCount() == 0 and not panel.ticket_button.isEnabled()
    assert "lists one expiry (2018-02-28): a calendar needs two" in panel.notes.text()
    panel.sort.setCurrentIndex(2)  # rank by theta: recomputed with the option
    run.until(lambda: not panel.stale)
    assert panel.vm.options["sort_by"] == "theta"


def test_calendars_panel_on_a_real_multi_expiry_chain(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                      app_vm: AppViewModel, keep_app, tmp_path: Path) -> None:
    """The Agilent chain of 2016-01-05 (7 expiries): ranked rows, the payoff chart, the combo ticket."""
    from pathlib import Path

    from magnus_desktop.analytics.calendars import rank_calendars
    from magnus_desktop.services.market.chains import load_chain
    from magnus_desktop.services.research.desk import CalendarReport
    from magnus_desktop.ui.orders.combo import ComboTicketDialog

    chain = load_chain(Path(__file__).resolve().parents[1] / "data" / "optopsy_A_agilent_2016-01-05.csv")
    rows = rank_calendars(chain, 0.015, right="P")
    panel = desk_docks.calendars_dock(app_vm)
    qtbot.addWidget(panel)
    panel.resize(1100, 640)
    panel.show()
    run.until(lambda: not panel.stale, timeout=30)  # the replay's own answer first (no SPY chain)
    report = CalendarReport("A", date(2016, 1, 5), rows, "test file · as of 2016-01-05 close",
                            tuple(sorted(chain["expiry"].dt.date.unique())), rate=0.015)
    panel._on_vm_report_ready(report)  # noqa: SLF001 - the view model's signal, as it would deliver it
    run.until(lambda: panel.model.rowCount() == len(rows) > 0 and panel.selected() is not None)
    first = panel.selected()
    assert first["strike"] == rows.iloc[0]["strike"] and panel.ticket_button.isEnabled()
    assert len(panel.chart.breakeven_labels) == 2 and "sell 2016-01-15" in panel.chart_note.text()
    _grab(panel, tmp_path, "calendars")
    app_vm.orders.request_chain = lambda key, _und: app_vm.orders.chain_received.emit(key, chain, "")
    app_vm.orders.replay_day = lambda: date(2016, 1, 5)  # the chain's day: its expiries are open
    dialog = panel.open_ticket()
    assert isinstance(dialog, ComboTicketDialog)
    qtbot.addWidget(dialog)
    run.until(lambda: dialog.preview is not None and dialog.ticket is not None)
    legs = dialog.ticket.legs
    assert [leg.action for leg in legs] == ["SELL", "BUY"]
    assert legs[0].contract.expiry == first["near_expiry"] and legs[1].contract.expiry == first["far_expiry"]
    assert legs[0].contract.strike == legs[1].contract.strike == first["strike"]
    assert dialog.risk.labels["max_profit"].text() == "on the chart (near expiry)" and dialog.preview.max_loss > 0
    assert len(dialog.chart.breakeven_labels) == 2
    assert dialog.grab().save(str(tmp_path / "research-calendar-ticket.png"))
    dialog.close()


def test_a_failing_computation_is_said_and_the_dock_recovers(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                             app_vm: AppViewModel,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.flow_dock)
    original = ctx.desk.flow

    async def broken(symbol: str, day: date):  # type: ignore[no-untyped-def]
        raise KeyError("a bug")

    monkeypatch.setattr(ctx.desk, "flow", broken)
    ctx.symbol.set("GOOG", "test")
    run.until(lambda: "Could not compute the flow (KeyError" in panel.notes.text())
    assert panel.stale and not panel.table.isEnabled()
    monkeypatch.setattr(ctx.desk, "flow", original)
    ctx.symbol.set("SPX", "test")
    run.until(lambda: not panel.stale, timeout=30)
    assert panel.table.isEnabled() and panel.vm.last_report.symbol == "SPX"
