"""Bringing a dock to the front: shown (if the trader closed it) and raised above its tab group."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget


def show_dock(dock: QDockWidget, *, focus: bool = False) -> None:
    """Show ``dock`` in front of its tab group; ``focus``: also put the keyboard in it."""
    dock.show()
    dock.raise_()
    widget = dock.widget()
    if focus and widget is not None:
        widget.setFocus()
