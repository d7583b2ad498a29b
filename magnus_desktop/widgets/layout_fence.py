"""Keep a dock's re-layouts inside the dock.

Qt's ``QLayout.activate`` ends with ``updateGeometry()`` on its widget, whether or not a size hint
changed, so a label whose text changes (a date, a count, a card value) re-lays out its panel, then
the ``QDockWidget``, then the whole ``QMainWindow`` (and the main window repaints its dock
separators). During a replay that happened several times per replay day, from every dock.

A :class:`LayoutFence` holds one widget without a layout of its own: a layout request from inside
stops at the fence (a widget without a layout ignores it), and the fence sizes its widget to its
own rect. The main window still asks the fence for its size hints, which are the widget's.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class LayoutFence(QWidget):
    """A layout-less holder of ``inner`` (always filling it); layout requests from ``inner`` end here."""

    def __init__(self, inner: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inner = inner
        inner.setParent(self)
        self.setSizePolicy(QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred))
        self.setFocusProxy(inner)
        inner.move(0, 0)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.inner.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.inner.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        self.inner.setGeometry(self.rect())
        super().resizeEvent(event)
