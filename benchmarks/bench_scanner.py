"""Speed of the wheel scanner (``magnus_desktop.analytics.scanner.scan``) and the chain loader.

Rows:
- ``load_chain`` of the bundled 2 MB SPXW CSV (target <= 1 s; callers cache the frame).
- ``scan`` of the bundled SPXW chain for one quote date (2018-01-02, ~360 real contracts) with the
  default settings filters (target <= 20 ms).
- ``scan`` of a SYNTHETIC 500,000-contract universe (50,000 with ``--quick``) with filters wide
  open, so every contract goes through IV, Greeks, prob OTM, score and the rank (target <= 1.0 s).
  The universe is built deterministically (seeded RNG): 200 underlyings, spot 20-500, strikes
  0.7-1.3 x spot, 1-120 dte, true vol 10-80 %, quotes = BSM price -/+ a 0.5-10 % half-spread.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from benchmarks.common import Result, timeit_best

SPXW_DAY = date(2018, 1, 2)
RATE = 0.03


def synthetic_universe(n: int, seed: int = 20240102) -> pd.DataFrame:
    """A canonical chain of ``n`` SYNTHETIC contracts quoted on 2024-01-02 (see module docstring)."""
    from magnus_desktop.analytics.pricing import bs_price

    rng = np.random.default_rng(seed)
    und = rng.integers(0, 200, n)
    spot = rng.uniform(20.0, 500.0, 200)[und]
    dte = rng.integers(1, 121, n)
    right = np.where(rng.random(n) < 0.5, "C", "P")
    strike = np.round(spot * rng.uniform(0.7, 1.3, n), 1)
    fair = bs_price(right, spot, strike, dte / 365.0, RATE, rng.uniform(0.1, 0.8, n))
    half = np.maximum(0.01, fair * rng.uniform(0.005, 0.1, n))
    quote = pd.Timestamp("2024-01-02")
    return pd.DataFrame({
        "underlying": np.char.add("SYN", und.astype(str)), "quote_date": quote, "und_price": spot,
        "expiry": quote + pd.to_timedelta(dte, unit="D"), "strike": strike, "right": right,
        "bid": np.round(np.maximum(fair - half, 0.0), 2), "ask": np.round(fair + half, 2),
        "last": math.nan, "volume": math.nan,
        "open_interest": rng.integers(0, 5000, n).astype(float),
    })


def _spxw_rows(quick: bool) -> list[Result]:
    from magnus_desktop.analytics.scanner import scan
    from magnus_desktop.services.market.chains import chain_for_date, load_chain
    from magnus_desktop.services.paths import DATA_RESOURCES_DIR
    from magnus_desktop.services.scanner import scan_params_from_settings
    from magnus_desktop.services.settings import Settings

    path = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
    load_s = timeit_best(lambda: load_chain(path), repeat=2 if quick else 5)
    day = chain_for_date(load_chain(path), SPXW_DAY)
    params = scan_params_from_settings(Settings())
    scan_s = timeit_best(lambda: scan(day, params), repeat=5 if quick else 30)
    found = len(scan(day, params))
    return [
        Result("load_chain SPXW 2 MB (14,438 rows)", "time", load_s * 1e3, "ms", target=1000.0,
               direction="max_value", note=f"{path.name}, real EOD quotes"),
        Result(f"scan SPXW {SPXW_DAY} ({len(day)} contracts)", "time", scan_s * 1e3, "ms",
               target=20.0, direction="max_value",
               note=f"default settings filters, {found} rows pass; IV + delta + prob OTM + score + rank"),
    ]


def _synthetic_row(quick: bool) -> Result:
    from magnus_desktop.analytics.scanner import ScanParams, scan

    n = 50_000 if quick else 500_000
    universe = synthetic_universe(n)
    wide = ScanParams(right="both", dte_min=0, dte_max=365, delta_min=0.0, delta_max=1.0,
                      max_spread_pct=10.0, rate=RATE)
    seconds = timeit_best(lambda: scan(universe, wide), repeat=2 if quick else 5)
    ranked = len(scan(universe, wide))
    return Result(f"scan SYNTHETIC universe {n:,}", "time", seconds, "s", target=1.0,
                  direction="max_value",
                  note=f"seeded synthetic chain, filters wide open: {ranked:,} contracts priced, scored, ranked")


def run(quick: bool) -> list[Result]:
    """Scanner rows (see module docstring)."""
    return [*_spxw_rows(quick), _synthetic_row(quick)]
