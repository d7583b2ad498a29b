"""Speed of the win-probability predictor (issue: one prediction incl. features <= 1 ms p50, 10,000
scanner rows <= 50 ms, building the training set from all bundled history and training <= 60 s).

- **build + train**: :func:`build_training_set` over every bundled series (SPY 1999-2020, AAPL and
  GOOG 2004-2018, the recorded SPXW chain), each trading day, then :func:`train_model` (XGBoost,
  2 threads), timed once; ``--quick``: SPY only, every 5th day (same target).
- **load**: ``PredictorModel.load`` of the saved JSON file, best of 5 (target <= 200 ms).
- **one prediction**: ``CandidateScorer.score`` — the day's market features from the last 280 real
  closes, |delta| and prob_otm by Black-Scholes, the booster and the calibration — for 300 candidates
  on different days, p50 of the single-call times.
- **10,000 rows**: one day's market row with 10,000 candidates (strikes and DTEs of a scanner grid):
  ``candidate_features`` + ``PredictorModel.predict``, best of 7.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks.common import Result, timeit_best

TARGET_TRAIN_S = 60.0
TARGET_ONE_MS = 1.0
TARGET_10K_MS = 50.0
TARGET_LOAD_MS = 200.0


def run(quick: bool) -> list[Result]:
    """Four rows: build + train, model file load, one prediction p50, 10,000 rows scored."""
    from magnus_desktop.analytics.features import candidate_features
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.predictor.dataset import build_training_set
    from magnus_desktop.services.predictor.model import PredictorModel, train_model
    from magnus_desktop.services.predictor.scoring import CandidateScorer

    market = ReplayMarketData.from_resources()
    symbols = ("SPY",) if quick else ("SPY", "AAPL", "GOOG")
    step = 5 if quick else 1
    start = time.perf_counter()
    ts = build_training_set(symbols=symbols, day_step=step, market=market)
    built = time.perf_counter() - start
    model = train_model(ts)
    total = time.perf_counter() - start
    rows = [Result(f"predictor.build+train {'+'.join(symbols)}", "time", total, "s", target=TARGET_TRAIN_S,
                   direction="max_value",
                   note=f"{len(ts):,} candidates ({built:.1f} s to build), "
                        f"{int((ts.price_source == 'recorded').sum())} from the recorded SPXW chain; 150 trees, 2 threads")]

    with tempfile.TemporaryDirectory(prefix="magnus-bench-predictor-") as tmp:
        path = model.save(Path(tmp) / "model.json")
        size_kb = path.stat().st_size / 1024
        load_s = timeit_best(lambda: PredictorModel.load(path), repeat=5)
    rows.append(Result("predictor.load model file", "time", load_s * 1e3, "ms", target=TARGET_LOAD_MS,
                       direction="max_value", note=f"JSON {size_kb:,.0f} KiB: booster, calibration, model card"))

    scorer = CandidateScorer(market, model)
    days = [d.date() for d in market.bars("SPY", start=date(2005, 1, 3), end=date(2018, 12, 31)).index[::10]][:300]
    scorer.score("SPY", days[0], "P", 100.0, 30)  # first call reads the series
    times = []
    for k, day in enumerate(days):
        und = market.underlying_price("SPY", day)
        right = "P" if k % 2 else "C"
        strike = round(und * (0.95 if right == "P" else 1.05))
        t0 = time.perf_counter()
        scorer.score("SPY", day, right, strike, 7 + k % 54)
        times.append((time.perf_counter() - t0) * 1e3)
    rows.append(Result("predictor.predict one candidate", "p50 time", statistics.median(times), "ms",
                       target=TARGET_ONE_MS, direction="max_value",
                       note=f"{len(times)} real SPY days; features + Black-Scholes + booster + calibration; "
                            f"p95 {np.percentile(times, 95):.3f} ms"))

    x_one, und, iv = scorer.features("SPY", date(2018, 1, 2), "P", 260.0, 30)
    market_row = x_one[0, 5:18]
    n = 10_000
    rng = np.random.default_rng(5)
    strikes = np.round(und * rng.uniform(0.8, 1.2, n))
    dte = rng.integers(7, 61, n).astype(float)
    is_call = (strikes > und).astype(float)
    delta = rng.uniform(0.05, 0.4, n)

    rights = np.where(is_call > 0, "C", "P")
    ivs = np.full(n, iv)

    def score_all() -> np.ndarray:
        # the scanner's path (``CandidateScorer.p_win_many``): the day's market row + features + booster
        return scorer.p_win_many("SPY", date(2018, 1, 2), rights, strikes, np.full(n, und), ivs, delta, dte)

    def features_and_booster_only() -> np.ndarray:
        return model.predict(candidate_features(market_row, delta, dte, is_call, strikes, und, iv, 1.0))

    seconds = timeit_best(score_all, repeat=7)
    inner = timeit_best(features_and_booster_only, repeat=7)
    rows.append(Result("predictor.score 10,000 rows", "time", seconds * 1e3, "ms", target=TARGET_10K_MS,
                       direction="max_value",
                       note=f"the scanner's p_win_many on a scanner-style grid (market row + features + booster); "
                            f"features + booster alone {inner * 1e3:.1f} ms"))
    return rows
