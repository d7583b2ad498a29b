"""A label changing inside a docked panel re-lays out the panel, not the whole main window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QTextEdit, QVBoxLayout, QWidget

from magnus_desktop.widgets.layout_fence import LayoutFence


class LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def window_with_label(qtbot: Any, fenced: bool) -> tuple[QMainWindow, QLabel, QWidget]:
    win = QMainWindow()
    win.setCentralWidget(QTextEdit())
    panel = QWidget()
    label = QLabel("2018-01-02")
    column = QVBoxLayout(panel)
    column.addWidget(label)
    column.addWidget(QTextEdit())
    dock = QDockWidget("Dock", win)
    dock.setWidget(LayoutFence(panel) if fenced else panel)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qtbot.addWidget(win)
    win.resize(800, 500)
    win.show()
    qtbot.waitExposed(win)
    QApplication.processEvents()
    return win, label, panel


def relayouts_of_window_after_label_change(qtbot: Any, fenced: bool) -> tuple[int, QLabel, QWidget, QMainWindow]:
    win, label, panel = window_with_label(qtbot, fenced)
    spy = LayoutRequests()
    win.installEventFilter(spy)
    for text in ("3 opportunities on 2018-01-03", "12 opportunities on 2018-01-04 (SPXW chain)"):
        label.setText(text)
        QApplication.processEvents()
        QApplication.processEvents()
    return spy.count, label, panel, win


def test_a_fenced_panel_keeps_its_relayouts_and_still_lays_itself_out(qtbot: Any) -> None:
    count, label, panel, _win = relayouts_of_window_after_label_change(qtbot, fenced=True)
    assert count == 0
    m = panel.layout().contentsMargins()
    assert label.width() == panel.width() - m.left() - m.right()  # laid out by the panel's own layout
    assert label.height() >= label.sizeHint().height()
    assert panel.geometry() == panel.parentWidget().rect()  # the fence keeps its panel filling it


def test_without_the_fence_the_main_window_relays_out(qtbot: Any) -> None:
    count, _label, _panel, _win = relayouts_of_window_after_label_change(qtbot, fenced=False)
    assert count > 0  # what the fence prevents (Qt: QLayout.activate always calls updateGeometry)
