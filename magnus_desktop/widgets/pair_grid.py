"""Caption/value label pairs that reflow into fewer columns when the dock is narrow.

A fixed grid of six account cards (or eight totals) is as wide as all of them side by side, and
that width becomes the minimum of the dock and so of the main window. ``PairGrid`` asks only for
``min_columns`` pairs side by side and lays out as many as the width allows (up to
``max_columns``), adding rows below.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLayout, QWidget


class PairGrid(QFrame):
    """``pairs`` of (caption, value) labels; ``stacked`` puts the caption above its value,
    otherwise beside it."""

    def __init__(self, pairs: Sequence[tuple[QLabel, QLabel]], *, stacked: bool, max_columns: int,
                 min_columns: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pairs = list(pairs)
        self.stacked = stacked
        self.max_columns = max(1, min(max_columns, len(self.pairs)))
        self.min_columns = max(1, min(min_columns, self.max_columns))
        self.grid = QGridLayout(self)
        self.grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # minimumSizeHint decides
        self.grid.setHorizontalSpacing(10)
        self.columns = 0
        self._place(self.max_columns)

    def _width_for(self, columns: int) -> int:
        """Width (px) of the grid with ``columns`` pairs per row (each grid column as wide as its widest pair)."""
        spacing = self.grid.horizontalSpacing()
        total = 0
        for col in range(columns):
            pairs = self.pairs[col::columns]
            captions = max(c.sizeHint().width() for c, _v in pairs)
            values = max(v.sizeHint().width() for _c, v in pairs)
            total += max(captions, values) if self.stacked else captions + spacing + values
        margins = self.grid.contentsMargins()
        return total + (columns - 1) * spacing + margins.left() + margins.right() + 2 * self.frameWidth()

    def columns_for(self, width: int) -> int:
        """How many pairs fit side by side in ``width`` px (between min and max columns)."""
        fitting = max(c for c in range(1, self.max_columns + 1) if c == 1 or self._width_for(c) <= width)
        return max(self.min_columns, fitting)

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        for caption, value in self.pairs:
            self.grid.removeWidget(caption)
            self.grid.removeWidget(value)
        for i, (caption, value) in enumerate(self.pairs):
            row, col = divmod(i, columns)
            if self.stacked:
                self.grid.addWidget(caption, 2 * row, col)
                self.grid.addWidget(value, 2 * row + 1, col)
            else:
                self.grid.addWidget(caption, row, 2 * col)
                self.grid.addWidget(value, row, 2 * col + 1)
        self.columns = columns
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width_for(self.min_columns), self.grid.minimumSize().height())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width_for(self.max_columns), self.grid.sizeHint().height())

    def event(self, event: QEvent) -> bool:
        """A label's new text may need fewer columns: re-check when the labels ask for a re-layout."""
        if event.type() == QEvent.Type.LayoutRequest and self.isVisible():
            self._place(self.columns_for(self.width()))
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        self._place(self.columns_for(event.size().width()))
        super().resizeEvent(event)
