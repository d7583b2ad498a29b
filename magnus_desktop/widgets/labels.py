"""Label updates that cost nothing when nothing changed.

``QLabel.setText`` with a new text asks for a re-layout of the dock, and ``setStyleSheet`` re-polishes
the widget (style sheet parsing and a repaint) even when the sheet is the same string. Periodic
updates (every replay day) go through :func:`set_label`, which touches the label only when its text
or colour really changes.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

_STYLE_PROPERTY = "_magnus_style"


def set_label(label: QLabel, text: str, color: QColor | None = None, *, extra_style: str = "") -> None:
    """Show ``text`` in ``color`` (None: the theme's text colour) on ``label``, only if different."""
    if label.text() != text:
        label.setText(text)
    style = (f"color: {color.name()};" if color is not None else "") + extra_style
    if label.property(_STYLE_PROPERTY) != style:
        label.setProperty(_STYLE_PROPERTY, style)
        label.setStyleSheet(style)
