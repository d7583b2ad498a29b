"""The research-desk docks (options flow, calendar spreads, earnings, sectors) on the offline replay:
they follow the research symbol and the day, compute only while shown, and say what is missing."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QWidget

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.research import desk_docks
from magnus_desktop.ui.research.desk_panel_base import DeskPanel
from tests.ui.conftest import LoopRunner

DAY = date(2018, 2, 6)


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


def _grab(panel: QWidget, name: str) -> None:
    panel.grab().save(f"/tmp/research-flow-{name}.png")


def test_flow_dock_ranks_the_replay_days_activity(qtbot, run: LoopRunner, ctx: AppContext,  # type: ignore[no-untyped-def]
                                                  app_vm: AppViewModel) -> None:
    panel = _shown(qtbot, run, ctx, app_vm, desk_docks.flow_dock)
    report = panel.vm.last_report
    run.until(lambda: panel.model.rowCount() == len(report.rows) > 0)
    assert report.day == DAY and report.symbol == "SPX"
    assert "SPXW 2,695.16 (1.74%)" in panel.header.text() and "from 2018-02-05's trades" in panel.header.text()
    assert "replay · as of 2018-02-06 close" in panel.header.text()
    _grab(panel, "flow")
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
