"""Every shown quote and mark says where it came from and when: watchlist rows, position marks, the
positions header; a stale quote says its age and is never shown as current."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from magnus_desktop.ui.app_view_model import AppViewModel
from tests.ui.conftest import LoopRunner
from tests.ui.test_default_layout import assert_columns_fit, build


def _cells(panel, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    model = panel.model
    col = next(i for i, c in enumerate(model.columns) if c.key == key)
    return [model.data(model.index(r, col), Qt.ItemDataRole.DisplayRole) for r in range(model.rowCount())]


def test_positions_and_watchlist_say_source_and_as_of(tmp_path, qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    win = build(qtbot, app_vm, run, 1920, 1080)
    day = app_vm.ctx.day
    label = f"replay · as of {day.isoformat()} close"
    positions = win.panel("dock_positions")
    assert positions.header.text() == f"Demo account (paper) — marks: {label}"
    marks = _cells(positions, "source")
    assert marks and set(marks) == {label}
    mark_col = next(i for i, c in enumerate(positions.model.columns) if c.key == "mark")
    tip = positions.model.data(positions.model.index(0, mark_col), Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith(f"Quote: {label}")  # each mark names its quote, the column itself stays compact
    watch = win.panel("dock_watchlists")
    fresh = [r for r in watch.model.records() if r["state"] == "ok"]
    assert fresh and {r["as_of"] for r in fresh} == {day.isoformat()}
    assert all(label in r["tip"] for r in fresh)
    assert f"replay · as of {day.isoformat()} close" in watch.title.text()
    assert_columns_fit(win)  # the new texts still fit their columns at 1920 x 1080
    assert win.grab().save(str(tmp_path / "source_labels_1920.png"))


def test_stale_watchlist_quote_says_its_age(tmp_path, qtbot, app_vm: AppViewModel, run: LoopRunner) -> None:  # type: ignore[no-untyped-def]
    clock = app_vm.ctx.clock
    assert clock is not None
    run(_jump(app_vm, date(2018, 2, 6)))
    win = build(qtbot, app_vm, run, 1920, 1080)
    watch = win.panel("dock_watchlists")
    aapl = next(r for r in watch.model.records() if r["symbol"] == "AAPL")
    assert aapl["state"] == "stale"
    assert aapl["as_of"] == "2018-01-19 (18 d old)"
    assert "replay · as of 2018-01-19 close · 18 days old" in aapl["tip"]
    positions = win.panel("dock_positions")
    assert set(_cells(positions, "source")) == {"replay · as of 2018-02-06 close"}
    assert_columns_fit(win)
    assert win.grab().save(str(tmp_path / "source_labels_stale_1920.png"))


async def _jump(vm: AppViewModel, day: date) -> None:
    assert vm.ctx.clock is not None
    vm.ctx.clock.jump(day)
    await vm.ctx.refresh_now()
