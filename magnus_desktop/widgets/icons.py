"""Small media icons drawn with QPainter in a given colour (no font glyphs, no image files), and the
app icon (``app_icon``, from ``resources/icons/``).

Font glyphs such as ▶ or ⏸ show as an empty box when the font lacks them (Xvfb, minimal
installs), and the style's standard media pixmaps are black whatever the theme; these shapes are
drawn in the palette's button-text colour, so they read on light and dark toolbars alike.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

KINDS = ("play", "pause", "step_back", "step_forward")


def _triangle(p: QPainter, x0: float, x1: float, top: float, bottom: float) -> None:
    """A triangle pointing from x0 (base) to x1 (tip)."""
    p.drawPolygon(QPolygonF([QPointF(x0, top), QPointF(x1, (top + bottom) / 2), QPointF(x0, bottom)]))


def _draw(p: QPainter, kind: str, s: float) -> None:
    top, bottom = 0.2 * s, 0.8 * s
    if kind == "play":
        _triangle(p, 0.28 * s, 0.78 * s, top, bottom)
    elif kind == "pause":
        p.drawRect(QRectF(0.25 * s, top, 0.17 * s, bottom - top))
        p.drawRect(QRectF(0.58 * s, top, 0.17 * s, bottom - top))
    elif kind == "step_forward":
        _triangle(p, 0.2 * s, 0.66 * s, top, bottom)
        p.drawRect(QRectF(0.68 * s, top, 0.12 * s, bottom - top))
    elif kind == "step_back":
        p.drawRect(QRectF(0.2 * s, top, 0.12 * s, bottom - top))
        _triangle(p, 0.8 * s, 0.34 * s, top, bottom)
    else:
        raise ValueError(f"unknown icon kind {kind!r}; expected one of {KINDS}")


def media_icon(kind: str, color: QColor | str, size: int = 32) -> QIcon:
    """A ``kind`` icon (see ``KINDS``) filled with ``color``, ``size`` px square (scaled down by Qt).

    Raises:
        ValueError: an unknown ``kind``.
    """
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        _draw(painter, kind, float(size))
    finally:
        painter.end()
    return QIcon(pixmap)


def app_icon(icons_dir: Path) -> QIcon:
    """The Magnus Desktop icon (window, tray, task bar) from every ``magnus-<px>.png`` in
    ``icons_dir`` (``resource_path("icons")``; drawn by ``installer/make_icons.py``), so Qt picks the
    sharpest size. An empty ``QIcon`` when the files are missing (a broken install): Qt then shows
    its default."""
    icon = QIcon()
    for path in sorted(icons_dir.glob("magnus-*.png")):
        icon.addFile(str(path))
    return icon
