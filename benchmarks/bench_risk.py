"""Speed of the risk engine (``magnus_desktop.analytics.risk`` / ``risk_var``).

Rows:
- full-revaluation P&L grid: 500 SYNTHETIC option positions x 41 underlying moves x 31 IV changes
  (635,500 BSM prices) (target <= 100 ms);
- historical VaR: 1,000 real days of SPY and VIX (bundled bars up to 2018-02-02) x the same 500
  positions, full revaluation (target <= 200 ms).
The synthetic book is seeded: 500 SPX-root options, strikes 0.8-1.2 x spot, 1-120 dte, IV 10-40 %.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from benchmarks.common import Result, timeit_best


def synthetic_book(n: int = 500, seed: int = 20180205):  # noqa: ANN201 - a Book
    from magnus_desktop.analytics.risk import Book, RiskPosition

    rng = np.random.default_rng(seed)
    spot = 2762.0
    positions = [RiskPosition(f"SYN {i}", "SPXW", "option", "P" if rng.random() < 0.6 else "C",
                              float(round(spot * rng.uniform(0.8, 1.2))), int(rng.integers(1, 121)),
                              float(rng.choice([-3, -2, -1, 1, 2])), 100, spot, float(rng.uniform(0.1, 0.4)), 1.0)
                 for i in range(n)]
    return Book.of(positions, 0.015)


def run(quick: bool) -> list[Result]:
    """Risk rows (see module docstring)."""
    from magnus_desktop.analytics.risk import pnl_grid
    from magnus_desktop.analytics.risk_var import historical_pnl
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.risk.history import factor_history

    book = synthetic_book()
    moves, ivs = np.linspace(-0.2, 0.2, 41), np.linspace(-0.5, 1.0, 31)
    grid_s = timeit_best(lambda: pnl_grid(book, moves, ivs), repeat=3 if quick else 10)
    hist = factor_history(ReplayMarketData.from_resources(), book.factors, date(2018, 2, 2))
    var_s = timeit_best(lambda: historical_pnl(book, hist, 1000, 1), repeat=3 if quick else 10)
    return [
        Result("risk grid 500 pos x 41 x 31", "time", grid_s * 1e3, "ms", target=100.0, direction="max_value",
               note="full BSM revaluation, synthetic seeded book"),
        Result("historical VaR 1,000 days x 500 pos", "time", var_s * 1e3, "ms", target=200.0,
               direction="max_value", note="real SPY/VIX bars 2014-02..2018-02, full revaluation"),
    ]
