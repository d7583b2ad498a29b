"""The shared table view: column chooser (persisted per table), fit to contents, copy, CSV export."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from magnus_desktop.widgets.formatting import fmt_date, fmt_money, fmt_num
from magnus_desktop.widgets.table_model import Column, RecordTableModel
from magnus_desktop.widgets.table_view import RecordTableView

COLUMNS = (
    Column("symbol", "Symbol", str, numeric=False),
    Column("expiry", "Expiry", fmt_date, numeric=False),
    Column("mark", "Mark", fmt_num),
    Column("value", "Market value", fmt_money),
    Column("note", "Note", str, numeric=False, hidden=True, max_width=80),
)
RECORDS = [
    {"symbol": "SPXW 2018-01-31 2550 P", "expiry": date(2018, 1, 31), "mark": 1.05, "value": -105.0, "note": "x" * 60},
    {"symbol": "SPXW 2018-01-31 2600 P", "expiry": date(2018, 1, 31), "mark": math.nan, "value": 1234567.891, "note": ""},
]


def make_view(qtbot, settings: Path | None, name: str = "test_table", records=RECORDS) -> RecordTableView:  # type: ignore[no-untyped-def]
    model = RecordTableModel(COLUMNS, key=lambda r: r["symbol"])
    view = RecordTableView(model, name=name, settings_file=settings)
    model.setParent(view)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    model.set_records(records)
    model.flush()
    qtbot.waitUntil(lambda: view.columnWidth(0) >= view.sizeHintForColumn(0))
    return view


def menu_texts(view: RecordTableView) -> list[str]:
    return [a.text() for a in view.header_menu().actions() if not a.isSeparator()]


def test_header_menu_lists_every_column_and_the_table_actions(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, tmp_path / "tables.ini")
    assert menu_texts(view) == ["Symbol", "Expiry", "Mark", "Market value", "Note",
                                "Reset columns", "Resize to contents", "Copy table", "Export CSV…"]
    checks = {a.text(): a.isChecked() for a in view.header_menu().actions() if a.isCheckable()}
    assert checks == {"Symbol": True, "Expiry": True, "Mark": True, "Market value": True, "Note": False}
    assert view.objectName() == "test_table"
    assert not view.horizontalHeader().stretchLastSection()


def test_hiding_a_column_from_the_menu_persists_per_table(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ini = tmp_path / "tables.ini"
    view = make_view(qtbot, ini)
    mark = next(a for a in view.header_menu().actions() if a.text() == "Mark")
    mark.toggle()  # uncheck -> hide
    assert view.isColumnHidden(2)
    note = next(a for a in view.header_menu().actions() if a.text() == "Note")
    note.toggle()  # a hidden-by-default column shown
    assert not view.isColumnHidden(4)
    again = make_view(qtbot, ini)
    assert again.hidden_keys() == {"mark"}
    other = make_view(qtbot, ini, name="other_table")  # keyed by objectName: another table keeps its defaults
    assert other.hidden_keys() == {"note"}
    reset = next(a for a in again.header_menu().actions() if a.text() == "Reset columns")
    reset.trigger()
    assert again.hidden_keys() == {"note"}
    assert make_view(qtbot, ini).hidden_keys() == {"note"}


def test_the_last_visible_column_cannot_be_hidden(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    for key in ("symbol", "expiry", "mark", "value"):
        view.set_column_visible(key, False)
    assert view.visible_columns() == [3]
    last = next(a for a in view.header_menu().actions() if a.text() == "Market value")
    assert not last.isEnabled()


def test_columns_fit_their_contents_and_grow_with_wider_values(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    header = view.horizontalHeader()
    for i in view.visible_columns():
        assert header.sectionSize(i) >= view.sizeHintForColumn(i)
        assert header.sectionSize(i) >= header.fontMetrics().horizontalAdvance(COLUMNS[i].title)
    assert header.sectionSize(2) < 100  # "Mark" column shrank from Qt's default 100 px
    narrow = header.sectionSize(3)
    wider = [dict(RECORDS[0], value=-123456789012.0), RECORDS[1]]
    view.source_model.set_records(wider)
    view.source_model.flush()
    qtbot.waitUntil(lambda: header.sectionSize(3) > narrow)
    assert header.sectionSize(3) >= view.sizeHintForColumn(3)


def test_a_column_sized_by_hand_is_left_alone_until_resize_to_contents(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    header = view.horizontalHeader()
    header.resizeSection(0, 40)  # as a drag does
    view.source_model.set_records([dict(r, symbol=r["symbol"] + " (long text)") for r in RECORDS])
    view.source_model.flush()
    view.fit_columns(grow_only=True)  # what the refit timer runs after data changes
    assert header.sectionSize(0) == 40
    assert header.sectionSize(2) >= view.sizeHintForColumn(2)
    next(a for a in view.header_menu().actions() if a.text() == "Resize to contents").trigger()
    assert header.sectionSize(0) >= view.sizeHintForColumn(0)


def test_max_width_caps_a_long_column(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    view.set_column_visible("note", True)
    assert view.columnWidth(4) == 80 < view.sizeHintForColumn(4)


def test_a_text_of_100k_narrow_characters_is_capped_and_measured_on_its_first_max_width(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Fitting measures at most ``max_width`` characters of a text (a wheel cycle's steps run to
    thousands): the column still gets its cap, also for the narrowest character."""
    records = [{**RECORDS[0], "note": "i" * 100_000}, {**RECORDS[1], "note": "i" * 80}]
    view = make_view(qtbot, None, records=records)
    view.set_column_visible("note", True)
    assert view.column_width_needed(4) == 80 == view.columnWidth(4)
    long_only = make_view(qtbot, None, name="long", records=records[:1])
    cap_only = make_view(qtbot, None, name="cap", records=records[1:])
    assert long_only.cells_width(4) == cap_only.cells_width(4)


def test_copy_table_puts_visible_display_text_on_the_clipboard(qtbot, qapp: QApplication) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    view.set_column_visible("expiry", False)
    next(a for a in view.header_menu().actions() if a.text() == "Copy table").trigger()
    lines = qapp.clipboard().text().splitlines()
    assert lines[0] == "Symbol\tMark\tMarket value"
    assert lines[1] == "SPXW 2018-01-31 2550 P\t1.05\t-$105.00"
    assert lines[2] == "SPXW 2018-01-31 2600 P\t—\t$1,234,567.89"


def test_export_csv_writes_raw_values_of_visible_columns(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    path = tmp_path / "out.csv"
    assert view.export_csv(path) == 2
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["Symbol", "Expiry", "Mark", "Market value"]
    assert rows[1] == ["SPXW 2018-01-31 2550 P", "2018-01-31", "1.05", "-105.0"]
    assert rows[2][2] == "" and float(rows[2][3]) == pytest.approx(1234567.891)  # NaN -> empty, no rounding


def test_export_csv_to_an_unwritable_path_raises_oserror(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    with pytest.raises(OSError):
        view.export_csv(tmp_path / "missing-dir" / "out.csv")


class _LabelledModel(RecordTableModel):
    """Shows a longer text than the column's formatter (as the watchlist does for stale rows)."""

    def display_text(self, record, column):  # type: ignore[no-untyped-def]
        text = super().display_text(record, column)
        return f"{text} (as of 2018-01-19, stale)" if self.columns[column].key == "mark" else text


def test_fitting_measures_the_model_display_text_not_just_the_formatter(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = _LabelledModel(COLUMNS, key=lambda r: r["symbol"])
    view = RecordTableView(model, name="labelled", settings_file=None)
    model.setParent(view)
    qtbot.addWidget(view)
    view.show()
    model.set_records(RECORDS)
    model.flush()
    shown = view.proxy.index(0, 2).data()
    assert shown.endswith("stale)")
    assert view.columnWidth(2) >= view.fontMetrics().horizontalAdvance(shown)


# ---- the cell delegate -------------------------------------------------------------------------
def _cell_pixels(view: RecordTableView, row: int, column: int) -> list[tuple[int, int, int]]:
    image = view.viewport().grab().toImage()
    rect = view.visualRect(view.proxy.index(row, column))
    return [(c.red(), c.green(), c.blue()) for c in
            (image.pixelColor(x, y) for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom()))]


def test_cells_paint_their_text_right_aligned_for_numbers_left_for_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor

    view = make_view(qtbot, None)
    background = view.palette().color(view.palette().ColorRole.Base)
    text = view.palette().color(view.palette().ColorRole.Text)

    def inked_columns(row: int, column: int) -> list[int]:
        rect = view.visualRect(view.proxy.index(row, column))
        image = view.viewport().grab().toImage()
        cols = []
        for x in range(rect.left(), rect.right()):
            if any(abs(QColor(image.pixelColor(x, y)).lightness() - background.lightness()) > 60
                   for y in range(rect.top(), rect.bottom())):
                cols.append(x - rect.left())
        return cols

    view.setColumnWidth(2, 200)  # "Mark" 1.05: a wide cell, the text hugs the right edge
    qtbot.wait(10)
    mark = inked_columns(0, 2)
    assert mark and min(mark) > 150 and max(mark) >= 190
    symbol = inked_columns(0, 0)  # text: starts at the left edge
    assert symbol and min(symbol) <= 6
    assert text != background


def test_a_coloured_column_paints_in_its_colour_and_selection_in_the_highlight(qtbot) -> None:  # type: ignore[no-untyped-def]
    from magnus_desktop.widgets.table_model import pnl_color

    columns = (*COLUMNS[:3], Column("value", "Market value", fmt_money, color=pnl_color))
    model = RecordTableModel(columns, key=lambda r: r["symbol"])
    view = RecordTableView(model, name="coloured", settings_file=None)
    model.setParent(view)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    model.set_records(RECORDS)
    model.flush()
    loss = pnl_color(-1.0)
    assert loss is not None
    red = [p for p in _cell_pixels(view, 0, 3) if p[0] > 150 and p[0] - max(p[1], p[2]) > 60]
    assert red, "the negative market value is not drawn in the loss colour"
    view.selectRow(1)
    highlight = view.palette().color(view.palette().ColorGroup.Active, view.palette().ColorRole.Highlight)
    qtbot.wait(10)
    pixels = _cell_pixels(view, 1, 0)
    share = sum(p == (highlight.red(), highlight.green(), highlight.blue()) for p in pixels) / len(pixels)
    assert share > 0.5


def test_a_narrow_cell_elides_its_text_in_the_middle(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    delegate = view.cell_delegate
    full = delegate._layout("SPXW 2018-01-31 2550 P", 10_000)
    narrow = delegate._layout("SPXW 2018-01-31 2550 P", 60)
    assert full.text() == "SPXW 2018-01-31 2550 P"
    assert "…" in narrow.text() and narrow.size().width() <= 60
    assert narrow.text().startswith("SP") and narrow.text().endswith("P")


def test_a_font_change_drops_the_cached_layouts(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, None)
    delegate = view.cell_delegate
    before = delegate._layout("2,695.79", 10_000).size().width()
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    view.setFont(font)
    after = delegate._layout("2,695.79", 10_000).size().width()
    assert after > before * 1.5


def test_cell_and_display_role_share_one_formatted_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    view = make_view(qtbot, None)
    model = view.source_model
    text, color, numeric = model.cell(1, 3)
    assert text == fmt_money(1234567.891) and numeric and color is None
    assert model.data(model.index(1, 3), Qt.ItemDataRole.DisplayRole) == text
    model.set_records([{**RECORDS[0], "value": -7.0}, RECORDS[1]])
    model.flush()
    assert model.cell(0, 3)[0] == fmt_money(-7.0)  # a changed row is formatted again
