"""Charts: trading-day x axis (no weekend gaps), thousands separators, legend outside the plot."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from magnus_desktop.ui.theme import chart_colors, contrast_ratio
from magnus_desktop.widgets.charts import TimeSeriesChart, format_tick, tick_decimals

# Fri 2018-01-12, (weekend + MLK holiday Monday), Tue 2018-01-16 ...
DAYS = [date(2018, 1, 11), date(2018, 1, 12), date(2018, 1, 16), date(2018, 1, 17), date(2018, 1, 18)]


@pytest.fixture
def chart(qtbot) -> TimeSeriesChart:  # type: ignore[no-untyped-def]
    widget = TimeSeriesChart("SPX close (recorded)", "index", zero_line=True)
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.apply_colors(chart_colors("light"))
    widget.show()
    return widget


def test_x_is_the_trading_day_index_so_weekends_leave_no_gap(chart: TimeSeriesChart) -> None:
    chart.set_series("SPX", DAYS, [2767.56, 2786.24, 2776.42, 2802.56, 2798.03])
    x = chart._curves["SPX"].xData
    assert list(x) == [0, 1, 2, 3, 4]  # Fri -> Tue is one step, not four days
    labels = chart.day_axis.tickStrings([0.0, 1.0, 2.0, 2.5, 9.0], 1.0, 1.0)
    assert labels == ["Jan 11", "Jan 12", "Jan 16", "", ""]


def test_series_with_different_days_share_one_day_index(chart: TimeSeriesChart) -> None:
    chart.set_series("A", DAYS[:3], [1.0, 2.0, 3.0])
    chart.set_series("B", DAYS[2:], [4.0, 5.0, 6.0])
    assert list(chart._curves["A"].xData) == [0, 1, 2]
    assert list(chart._curves["B"].xData) == [2, 3, 4]
    assert chart.day_axis.days == DAYS


def test_y_axis_labels_have_thousands_separators_and_no_si_prefix(chart: TimeSeriesChart) -> None:
    axis = chart.value_axis
    assert axis.tickStrings([2700.0, 2750.0, 2800.0], 1.0, 50.0) == ["2,700", "2,750", "2,800"]
    assert axis.tickStrings([2_000_000.0, 2_000_500.0], 1.0, 500.0) == ["2,000,000", "2,000,500"]
    assert axis.tickStrings([-0.0001, 0.5, 1.0], 1.0, 0.5) == ["0.0", "0.5", "1.0"]
    chart.set_series("Account", DAYS, np.linspace(2_000_000, 2_001_938, len(DAYS)))
    assert not axis.autoSIPrefix
    assert axis.autoSIPrefixScale == 1.0  # pyqtgraph would otherwise show "2.0" with "x1e6" in the label


def test_tick_formatting_helpers() -> None:
    assert [tick_decimals(s) for s in (500.0, 1.0, 0.5, 0.25, 0.05, 0.001)] == [0, 0, 1, 1, 2, 3]
    assert format_tick(-1234.5, 1) == "-1,234.5"
    assert format_tick(-0.04, 1) == "0.0"


def test_value_axis_widens_for_millions(chart: TimeSeriesChart) -> None:
    chart.set_series("SPX", DAYS, [2767.56, 2786.24, 2776.42, 2802.56, 2798.03])
    narrow = chart.value_axis.fixedWidth
    chart.set_series("SPX", DAYS, [2_000_000.0, 2_001_000.0, 2_000_500.0, 2_001_938.05, 2_001_100.0])
    wide = chart.value_axis.fixedWidth
    label = chart.value_axis.tickStrings([2_001_000.0], 1.0, 500.0)[0]
    assert wide > narrow
    assert wide >= chart.fontMetrics().horizontalAdvance(label) + 10


def test_legend_is_outside_the_plot_area(chart: TimeSeriesChart, qtbot) -> None:  # type: ignore[no-untyped-def]
    chart.set_series("SPX", DAYS, [2767.56, 2786.24, 2776.42, 2802.56, 2798.03])
    qtbot.wait(20)
    plot = chart.getPlotItem()
    assert plot.legend is None  # no pyqtgraph legend floating over the view box
    title = plot.titleLabel
    assert "SPX" in title.text and "color:" in title.text  # the legend swatch + name, in the title row
    assert not title.sceneBoundingRect().intersects(plot.vb.sceneBoundingRect())


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chart_title_and_axis_text_meet_wcag_aa(chart: TimeSeriesChart, theme: str) -> None:
    colors = chart_colors(theme)
    chart.apply_colors(colors)
    assert chart.title_color == colors["fg"]
    assert contrast_ratio(chart.title_color, colors["bg"]) >= 4.5
    assert contrast_ratio(chart.value_axis.textPen().color(), colors["bg"]) >= 4.5


def test_single_day_gets_a_visible_range(chart: TimeSeriesChart) -> None:
    chart.set_series("SPX", [DAYS[0]], [2767.56])
    (x0, x1), (y0, y1) = chart.getPlotItem().vb.viewRange()
    assert x0 < 0 < x1 and y0 < 2767.56 < y1


def test_days_one_year_apart_label_by_month(chart: TimeSeriesChart) -> None:
    days = [date(2017, 1, 2) + timedelta(days=i) for i in range(400)]
    chart.set_series("X", days, np.arange(400.0))
    assert chart.day_axis.tickStrings([0.0], 1.0, 126.0) == ["Jan 2017"]


def test_a_day_domain_fixes_the_x_range_while_the_series_grows(chart: TimeSeriesChart) -> None:
    calendar = [date(2018, 1, 2) + timedelta(days=i) for i in range(40)]
    chart.set_day_domain(calendar)
    ranges = []
    for n in (1, 5, 17, 40):
        chart.set_series("SPX", calendar[:n], [2700.0 + i for i in range(n)])
        ranges.append(tuple(round(v, 6) for v in chart.getPlotItem().vb.viewRange()[0]))
        x, _y = chart.getPlotItem().listDataItems()[0].getData()
        assert list(x) == list(range(n))  # each day at its place in the calendar
    assert len(set(ranges)) == 1  # the day axis never moved
    assert ranges[0][0] <= 0 and ranges[0][1] >= 39
    assert chart.day_axis.days == calendar


def test_a_rising_series_leaves_headroom_so_the_value_axis_rarely_changes(chart: TimeSeriesChart) -> None:
    calendar = [date(2018, 1, 2) + timedelta(days=i) for i in range(60)]
    chart.set_day_domain(calendar)
    views = set()
    for n in range(2, 61):
        chart.set_series("SPX", calendar[:n], [2700.0 + 3.0 * i for i in range(n)])
        views.add(chart._view)
    assert len(views) <= 15  # 59 updates of a steady trend; without headroom every one moved the axis


def test_axes_and_title_paint_from_a_cached_pixmap(chart: TimeSeriesChart) -> None:
    from PySide6.QtWidgets import QGraphicsItem

    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    item = chart.getPlotItem()
    assert item.getAxis("left").cacheMode() == cached
    assert item.getAxis("bottom").cacheMode() == cached
    assert item.titleLabel.cacheMode() == cached
