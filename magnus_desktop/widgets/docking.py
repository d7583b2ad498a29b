"""Docks: bringing one to the front (:func:`show_dock`), and a panel following whether its dock
can be seen (:func:`follow_dock_visibility`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDockWidget, QWidget


def show_dock(dock: QDockWidget, *, focus: bool = False) -> None:
    """Show ``dock`` in front of its tab group; ``focus``: also put the keyboard in it."""
    dock.show()
    dock.raise_()
    widget = dock.widget()
    if focus and widget is not None:
        widget.setFocus()


def enclosing_dock(widget: QWidget) -> QDockWidget | None:
    """The nearest :class:`QDockWidget` above ``widget`` (None outside a dock)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return parent


def dock_is_seen(dock: QDockWidget) -> bool:
    """Whether the trader can see ``dock`` now: some of it is on screen, or it floats. A dock whose
    tab is behind another one's is ``isVisible()`` to Qt but has an empty visible region."""
    return not dock.visibleRegion().isEmpty() or dock.isFloating()


class _DockFollower(QObject):
    """The event filter of :func:`follow_dock_visibility` (a child of the panel it watches)."""

    def __init__(self, panel: QWidget, on_visible_changed: Callable[[bool], None]) -> None:
        super().__init__(panel)
        self._panel = panel
        self._callback = on_visible_changed
        self._dock: QDockWidget | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind == QEvent.Type.Show:
            dock = enclosing_dock(self._panel)
            if dock is None:
                self._callback(True)
            elif dock is not self._dock:
                self._dock = dock
                dock.visibilityChanged.connect(self._callback)
                self._callback(dock_is_seen(dock))
        elif kind == QEvent.Type.Hide:
            self._callback(False)
        return False


def follow_dock_visibility(panel: QWidget, on_visible_changed: Callable[[bool], None]) -> None:
    """Call ``on_visible_changed(seen)`` whenever whether ``panel`` can be seen changes.

    In a dock the panel follows the dock: on the first show it reports :func:`dock_is_seen` (so a
    tab behind another counts as not seen), then every ``QDockWidget.visibilityChanged`` (raising
    the tab reports True, another tab raised over it False). Outside a dock, being shown is being
    seen. Hiding the panel always reports False. The dock is looked up when the panel is shown, so
    the panel may be put into its dock after this call.
    """
    follower = _DockFollower(panel, on_visible_changed)
    panel.installEventFilter(follower)
