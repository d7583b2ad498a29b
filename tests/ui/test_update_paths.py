"""The per-day update paths: tables diff by key, one dock update per frame, charts keep their
ranges while the data fits, labels are touched only when their text or colour changes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from magnus_desktop.widgets.charts import TimeSeriesChart
from magnus_desktop.widgets.frame_budget import FrameScheduler
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import Column, RecordTableModel

COLUMNS = (Column("symbol", "Symbol", str, numeric=False), Column("mark", "Mark"))


def rows(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"symbol": s, "mark": m} for s, m in pairs]


class Spy:
    def __init__(self, model: RecordTableModel) -> None:
        self.events: list[Any] = []
        model.modelReset.connect(lambda: self.events.append("reset"))
        model.layoutChanged.connect(lambda *_: self.events.append("layout"))
        model.dataChanged.connect(lambda a, b, *_: self.events.append(("data", a.row(), b.row())))


def loaded(records: list[dict[str, Any]]) -> tuple[RecordTableModel, Spy]:
    model = RecordTableModel(COLUMNS, key=lambda r: r["symbol"])
    model.set_records(records)
    model.flush()
    return model, Spy(model)


def test_same_keys_emit_data_changed_for_changed_runs_only_and_texts_follow(qtmodeltester: Any) -> None:
    model, spy = loaded(rows(("A", 1.0), ("B", 2.0), ("C", 3.0), ("D", 4.0)))
    assert model.data(model.index(1, 1)) == "2.00"  # formatted once, then cached
    model.set_records(rows(("A", 1.0), ("B", 2.5), ("C", 3.5), ("D", 4.0)))
    model.flush()
    assert spy.events == [("data", 1, 2)]
    assert model.data(model.index(1, 1)) == "2.50" and model.data(model.index(2, 1)) == "3.50"
    model.set_records(rows(("A", 1.0), ("B", 2.5), ("C", 3.5), ("D", 4.0)))
    model.flush()
    assert spy.events == [("data", 1, 2)]  # nothing changed: nothing emitted
    qtmodeltester.check(model)


def test_same_rows_in_another_order_move_without_a_reset_and_persistent_indexes_follow(qtmodeltester: Any) -> None:
    model, spy = loaded(rows(("A", 1.0), ("B", 2.0), ("C", 3.0)))
    from PySide6.QtCore import QPersistentModelIndex
    held = QPersistentModelIndex(model.index(0, 1))  # "A"
    model.set_records(rows(("C", 3.0), ("A", 1.5), ("B", 2.0)))
    model.flush()
    assert spy.events == ["layout"]
    assert held.row() == 1 and model.data(model.index(1, 1)) == "1.50"
    assert [r["symbol"] for r in model.records()] == ["C", "A", "B"]
    qtmodeltester.check(model)


def test_other_keys_update_in_place_without_a_reset(qtmodeltester: Any) -> None:
    """A reset makes the view lay out again after its repaint (two full paints per flush)."""
    model, spy = loaded(rows(("A", 1.0), ("B", 2.0)))
    model.set_records(rows(("A", 1.0), ("E", 2.0), ("F", 0.5)))
    model.flush()
    assert spy.events == [("data", 1, 1)] and model.rowCount() == 3
    assert model.data(model.index(2, 0)) == "F" and model.data(model.index(1, 0)) == "E"
    qtmodeltester.check(model)


def test_other_keys_keep_persistent_indexes_on_their_key_and_drop_gone_ones(qtmodeltester: Any) -> None:
    from PySide6.QtCore import QPersistentModelIndex
    model, spy = loaded(rows(("A", 1.0), ("B", 2.0), ("C", 3.0), ("D", 4.0)))
    held_c, held_a = QPersistentModelIndex(model.index(2, 1)), QPersistentModelIndex(model.index(0, 0))
    model.set_records(rows(("C", 3.0), ("X", 9.0)))  # fewer rows: C moves up, A is gone
    model.flush()
    assert model.rowCount() == 2 and held_c.row() == 0 and held_c.column() == 1
    assert not held_a.isValid()
    model.set_records(rows(("Y", 1.0), ("Z", 2.0), ("X", 9.0), ("C", 3.5)))  # more rows: C moves down
    model.flush()
    assert model.rowCount() == 4 and held_c.row() == 3 and model.data(held_c) == "3.50"
    assert "reset" not in spy.events
    qtmodeltester.check(model)


def test_the_scheduler_runs_one_update_per_tick_once_each_and_skips_deleted_owners(qtbot: Any) -> None:
    # a tick interval far longer than the test: the ticks below are the test's own (on a loaded machine
    # a 5 ms timer fired during the wait and ran "b" before the first run_next)
    sched = FrameScheduler(interval_ms=60_000)
    ran: list[str] = []
    owner, gone = QObject(), QObject()
    sched.request(owner, lambda: ran.append("a"))
    b = lambda: ran.append("b")  # noqa: E731
    sched.request(owner, b)
    sched.request(owner, b)  # queued once
    sched.request(gone, lambda: ran.append("gone"))
    gone.deleteLater()
    qtbot.wait(1)  # the deferred delete happens
    sched.run_next()
    assert ran == ["a"]  # one update per tick
    sched.run_next()
    sched.run_next()
    assert ran == ["a", "b"] and sched.pending() == 0  # "b" once; the deleted owner's update skipped


def test_a_new_day_inside_the_range_leaves_the_axes_alone(qtbot: Any) -> None:
    chart = TimeSeriesChart("P&L", "USD")
    qtbot.addWidget(chart)
    days = [date(2018, 1, 2) + timedelta(days=i) for i in range(40)]
    values = np.sin(np.arange(40) / 5.0) * 100.0
    chart.set_series("P&L", days[:30], values[:30])
    before = chart.getPlotItem().vb.viewRange()
    chart.set_series("P&L", days[:31], values[:31])  # one more day, within the room kept on the right
    assert chart.getPlotItem().vb.viewRange() == before
    assert len(chart._curves["P&L"].xData) == 31
    chart.set_series("P&L", days[:31], np.append(values[:30], 1_000.0))  # leaves the y range: refit
    (_x0, _x1), (_y0, y1) = chart.getPlotItem().vb.viewRange()
    assert y1 > 1_000.0


class CountingLabel(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.sheets = 0
        self.texts = 0

    def setStyleSheet(self, sheet: str) -> None:  # noqa: N802 (counts the calls set_label makes)
        self.sheets += 1
        super().setStyleSheet(sheet)

    def setText(self, text: str) -> None:  # noqa: N802
        self.texts += 1
        super().setText(text)


def test_set_label_touches_the_label_only_when_text_or_colour_changes(qtbot: Any) -> None:
    label = CountingLabel()
    qtbot.addWidget(label)
    red = QColor("#ff0000")
    set_label(label, "-1.00", red)
    set_label(label, "-1.00", red)
    assert (label.texts, label.sheets) == (1, 1) and "#ff0000" in label.styleSheet()
    set_label(label, "-2.00", red)
    assert (label.texts, label.sheets) == (2, 1)
    set_label(label, "3.00")
    assert (label.texts, label.sheets) == (3, 2) and label.styleSheet() == ""


def test_settled_waits_for_a_pushed_throttle_value(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QWidget

    from magnus_desktop.widgets import frame_budget
    from magnus_desktop.widgets.throttle import Throttle

    owner = QWidget()
    qtbot.addWidget(owner)
    shown: list[int] = []
    throttle = Throttle(shown.append, hz=20.0, parent=owner)
    qtbot.waitUntil(frame_budget.settled)
    throttle.push(1)
    assert not frame_budget.settled()
    qtbot.waitUntil(frame_budget.settled, timeout=2000)
    assert shown == [1]


def test_a_source_whose_widget_is_gone_never_holds_settled_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A closed window's throttle (its Qt object deleted, a Python reference left somewhere) can never
    show its pending value: ``settled`` must not wait for it (it waited forever before)."""
    import shiboken6
    from PySide6.QtWidgets import QWidget

    from magnus_desktop.widgets import frame_budget
    from magnus_desktop.widgets.throttle import Throttle

    owner = QWidget()
    throttle = Throttle(lambda _v: None, hz=0.5, parent=owner)
    qtbot.waitUntil(frame_budget.settled)
    throttle.push(1)
    assert throttle.has_pending() and not frame_budget.settled()
    shiboken6.delete(owner)  # deletes the throttle's Qt object too; `throttle` is still referenced here
    assert throttle.has_pending() and frame_budget.settled()
