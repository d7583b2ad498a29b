"""``analytics.payoff.profile_rows`` / ``breakevens_rows`` (the order rules' batch kernels) give
exactly what ``profile`` / ``breakevens_of`` give for each exposure set: the same points and values
bit for bit (a repeated strike or a strike of 0 only repeats a point), the same extremes, slope and
breakevens."""

from __future__ import annotations

import random

import numpy as np
import pytest

from magnus_desktop.analytics.payoff import (
    CALL,
    PUT,
    SHARES,
    breakevens_of,
    breakevens_rows,
    profile,
    profile_rows,
)

CODE = {"P": PUT, "C": CALL, "S": SHARES}


def _random_sets(rng: random.Random, k: int, n: int) -> tuple[list[list[tuple[str, float, float]]], list[float]]:
    strikes = [0.0, 95.0, 100.0, 100.0, 102.5, 105.0, 110.0, 17.3, 2600.0]
    sets = []
    for _ in range(k):
        one = []
        for _ in range(n):
            right = rng.choice("PPCCS")
            strike = 0.0 if right == "S" else rng.choice(strikes)
            units = rng.choice((-300.0, -200.0, -100.0, 100.0, 200.0, 50.5, -1.0)) if right != "S" else rng.choice(
                (100.0, 35.0, -100.0))
            one.append((right, strike, units))
        sets.append(one)
    cash = [rng.choice((0.0, 545.35, -312.7, 1234.5678, -0.65, 250.0)) for _ in range(k)]
    return sets, cash


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_profile_rows_and_breakevens_rows_equal_the_scalar_functions(n: int) -> None:
    sets, cash = _random_sets(random.Random(n), 400, n)
    right = np.array([[CODE[r] for r, _k, _u in s] for s in sets])
    strike = np.array([[k for _r, k, _u in s] for s in sets])
    units = np.array([[u for _r, _k, u in s] for s in sets])
    prices, values, slope = profile_rows(right, strike, units, np.array(cash))
    evens = breakevens_rows(prices, values, slope)
    crossing = 0
    for i, (s, c) in enumerate(zip(sets, cash, strict=True)):
        p, v, sl = profile(s, c)
        assert repr(sl) == repr(float(slope[i]))
        points = {(repr(a), repr(b)) for a, b in zip(prices[i].tolist(), values[i].tolist(), strict=True)}
        assert points == {(repr(float(a)), repr(float(b))) for a, b in zip(p, v, strict=True)}, s
        assert min(v) == values[i].min() and max(v) == values[i].max()
        assert evens[i] == breakevens_of(p, v, sl), (s, c)
        crossing += bool(evens[i])
    assert crossing > 50  # the sets do cross zero


def test_breakevens_rows_of_flat_stretches_on_zero() -> None:
    """A point on 0 is one breakeven; a flat stretch on 0 gives its ends (as ``breakevens_of``)."""
    prices = np.array([[0.0, 90.0, 100.0, 100.0, 110.0], [0.0, 90.0, 100.0, 110.0, 120.0]])
    values = np.array([[-10.0, 0.0, 5.0, 5.0, 0.0], [-10.0, 0.0, 0.0, 3.0, 3.0]])
    slope = np.array([-1.0, 0.0])
    got = breakevens_rows(prices, values, slope)
    assert got[0] == breakevens_of([0.0, 90.0, 100.0, 110.0], [-10.0, 0.0, 5.0, 0.0], -1.0) == (90.0, 110.0)
    assert got[1] == breakevens_of([0.0, 90.0, 100.0, 110.0, 120.0], [-10.0, 0.0, 0.0, 3.0, 3.0], 0.0) == (90.0, 100.0)
