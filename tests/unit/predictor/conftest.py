"""Small slices of the real bundled history, built once per test session (seconds, not minutes)."""

from __future__ import annotations

from datetime import date

import pytest

from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.predictor.dataset import LabelRule, TrainingSet, build_training_set


@pytest.fixture(scope="session")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest.fixture(scope="session")
def spy_slice(market: ReplayMarketData) -> TrainingSet:
    """SPY candidates 2001-2007, every 7th trading day, expiry label (about 20k rows)."""
    return build_training_set(symbols=("SPY",), start=date(2001, 1, 1), end=date(2007, 12, 31), day_step=7,
                              recorded_chain=False, market=market)


@pytest.fixture(scope="session")
def target_slice(market: ReplayMarketData) -> TrainingSet:
    """SPY and AAPL 2005-2008 with the profit-target label, every 10th trading day."""
    return build_training_set(symbols=("SPY", "AAPL"), start=date(2005, 1, 1), end=date(2008, 12, 31), day_step=10,
                              label=LabelRule("target", 0.5, 2.0), recorded_chain=False, market=market)
