"""The candle widget's level-of-detail aggregation and its choice of level."""

from __future__ import annotations

import numpy as np

from magnus_desktop.widgets.candles import CandleChart, aggregate_ohlc, aggregate_peak


def test_aggregate_ohlc_groups_by_k() -> None:
    rows = np.array([[1, 3, 0.5, 2], [2, 4, 1.5, 3], [3, 3.5, 2.5, 2.8], [2.8, 5, 2.7, 4.5], [4.5, 4.6, 4, 4.2]],
                    dtype=float)
    out = aggregate_ohlc(rows, 2)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[0], [1, 4, 0.5, 3])
    np.testing.assert_allclose(out[1], [3, 5, 2.5, 4.5])
    np.testing.assert_allclose(out[2], [4.5, 4.6, 4, 4.2])  # the partial last group


def test_aggregate_peak_keeps_the_largest_magnitude() -> None:
    np.testing.assert_allclose(aggregate_peak(np.array([1.0, -3.0, 2.0, 0.5, 4.0]), 2), [-3.0, 2.0, 4.0])


def test_zoomed_out_chart_draws_coarser_candles(qtbot) -> None:  # type: ignore[no-untyped-def]
    from magnus_desktop.widgets.candles import _visible

    chart = CandleChart()
    qtbot.addWidget(chart)
    chart.resize(900, 600)
    chart.show()
    n = 3000
    c = 100 + np.cumsum(np.sin(np.arange(n) / 7.0))
    days = [np.datetime64("2010-01-01") + i for i in range(n)]
    chart.set_data([d.astype(object) for d in days], c, c + 1, c - 1, c + 0.2, np.full(n, 1e6), {}, [])
    assert _visible(chart.candles)[2] == 1  # 150 bars in ~800 px: one candle per bar
    chart.show_last(n + 2)
    qtbot.wait(10)
    assert _visible(chart.candles)[2] > 1  # 3,000 bars: aggregated
