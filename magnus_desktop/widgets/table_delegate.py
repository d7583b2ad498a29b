"""A fast cell painter for :class:`RecordTableView`: pre-laid-out text instead of the style's item path.

Qt's ``QStyledItemDelegate`` asks the model for seven roles per cell (seven calls into Python) and
lays each text out again on every paint; a 33 × 16 scanner page took 10 ms to repaint here.
:class:`RecordDelegate` takes the cell's text, colour and alignment from the model in one call
(:meth:`RecordTableModel.cell`, formatted once per row change) and draws a cached
``QStaticText`` (the glyph layout is kept between paints): 3.7 ms for the same page
(``benchmarks/bench_ui_ticks.py`` and the replay lag row measure the effect in the app).

What it draws is what the style drew for these read-only one-line tables: the text (right-aligned for
numeric columns, elided in the middle when the column is too narrow), the row's selection highlight,
the model's foreground colour, and the focus frame of the current cell. Backgrounds (alternating
rows) and grid lines are the view's, as before.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from magnus_desktop.widgets.table_model import RecordTableModel

#: Cached layouts kept before the cache starts again (texts of a few thousand visible cells).
_CACHE_LIMIT = 20_000

# state bits as plain ints (Python enum flag arithmetic cost more than the text drawing here)
_SELECTED = QStyle.StateFlag.State_Selected.value
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_DISABLED, _ACTIVE_GROUP, _INACTIVE = (QPalette.ColorGroup.Disabled, QPalette.ColorGroup.Active,
                                       QPalette.ColorGroup.Inactive)
_HIGHLIGHT, _HIGHLIGHTED_TEXT, _TEXT = (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText,
                                        QPalette.ColorRole.Text)


class RecordDelegate(QStyledItemDelegate):
    """Paints the cells of one :class:`RecordTableModel` for ``view`` (whose model may be an identity
    proxy of it: rows and columns are the same). Call :meth:`reset` when the view's font or palette
    changes (:class:`RecordTableView` does)."""

    def __init__(self, model: RecordTableModel, view: QWidget) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self._static: dict[tuple[str, int], QStaticText] = {}
        self._colors: dict[tuple[QPalette.ColorGroup, QPalette.ColorRole], QColor] = {}
        self.reset()

    def reset(self) -> None:
        """Forget cached layouts and colours (the view's font or palette changed)."""
        self._font = QFont(self._view.font())
        self._metrics = QFontMetrics(self._font)
        self._height = self._metrics.height()
        # the style's text margin, as QStyledItemDelegate and RecordTableView.cells_width use it
        self._padding = self._view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self._view) + 1
        self._static.clear()
        self._colors.clear()

    def _color(self, group: QPalette.ColorGroup, role: QPalette.ColorRole) -> QColor:
        color = self._colors.get((group, role))
        if color is None:
            color = self._colors[(group, role)] = self._view.palette().color(group, role)
        return color

    def _layout(self, text: str, width: int) -> QStaticText:
        """The laid-out ``text`` fitting ``width`` px (elided in the middle when wider)."""
        static = self._static.get((text, -1))
        if static is None:
            if len(self._static) > _CACHE_LIMIT:
                self._static.clear()
            static = self._static[(text, -1)] = self._prepared(text)
        if static.size().width() <= width:
            return static
        elided = self._static.get((text, width))
        if elided is None:
            elided = self._static[(text, width)] = self._prepared(
                self._metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, max(width, 0)))
        return elided

    def _prepared(self, text: str) -> QStaticText:
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.prepare(font=self._font)
        return static

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row, column = index.row(), index.column()
        try:
            text, color, numeric = self._model.cell(row, column)
        except IndexError:  # a paint queued before rows were removed
            return
        rect = option.rect  # type: ignore[attr-defined]
        state = option.state.value  # type: ignore[attr-defined]
        group = (_DISABLED if not state & _ENABLED else _ACTIVE_GROUP if state & _ACTIVE else _INACTIVE)
        if state & _SELECTED:
            painter.fillRect(rect, self._color(group, _HIGHLIGHT))
            painter.setPen(self._color(group, _HIGHLIGHTED_TEXT))
        else:
            painter.setPen(color if color is not None else self._color(group, _TEXT))
        if text:
            padding = self._padding
            static = self._layout(text, rect.width() - 2 * padding)
            x = rect.right() - padding - static.size().width() + 1 if numeric else rect.left() + padding
            painter.drawStaticText(int(x), rect.top() + (rect.height() - self._height) // 2, static)
        if state & _FOCUS:
            style = self._view.style()
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter, self._view)
