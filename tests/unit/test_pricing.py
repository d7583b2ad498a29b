"""Black-Scholes-Merton prices, Greeks, prob_otm and implied vol against published values and identities."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from magnus_desktop.analytics.pricing import (
    Greeks,
    bs_greeks,
    bs_price,
    implied_vol,
    prob_otm,
    right_sign,
)

VECTORS = Path("pricing_vectors")
HOUR = 1.0 / (365.0 * 24.0)


def _random_book(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "right": np.where(rng.random(n) < 0.5, "C", "P"),
        "und_price": rng.uniform(20.0, 500.0, n),
        "strike_ratio": rng.uniform(0.6, 1.6, n),
        "t_years": rng.uniform(2.0 / 365.0, 2.0, n),
        "rate": rng.uniform(-0.01, 0.08, n),
        "iv": rng.uniform(0.05, 1.5, n),
        "div_yield": rng.uniform(0.0, 0.06, n),
    }


def _args(book: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    s = book["und_price"]
    return (
        book["right"],
        s,
        s * book["strike_ratio"],
        book["t_years"],
        book["rate"],
        book["iv"],
        book["div_yield"],
    )


# --- published values -------------------------------------------------------------------------------


def _py_vollib_table(shared_data: Path) -> dict[str, np.ndarray]:
    doc = json.loads((shared_data / VECTORS / "py_vollib_test_data.json").read_text())
    data = np.asarray(doc["data"], dtype=float)
    return {name: data[:, i] for i, name in enumerate(doc["columns"])}


def test_py_vollib_prices_and_greeks(shared_data: Path) -> None:
    """101 py_vollib vectors: theta there is per year, vega/rho per 1.00 (ours: per day, per 0.01)."""
    d = _py_vollib_table(shared_data)
    common = (d["S"], d["K"], d["t"], d["R"], d["v"])
    for right, price_col, prefix in (("C", "bs_call", "C"), ("P", "bs_put", "P")):
        g = bs_greeks(right, *common)
        # reference values carry 6 significant digits; underflow rows are compared absolutely
        tol = {"rtol": 2e-6, "atol": 1e-6}
        np.testing.assert_allclose(bs_price(right, *common), d[price_col], **tol)
        np.testing.assert_allclose(g.delta, d[prefix + "D"], **tol)
        np.testing.assert_allclose(g.gamma, d[prefix + "G"], **tol)
        np.testing.assert_allclose(g.theta * 365.0, d[prefix + "T"], **tol)
        np.testing.assert_allclose(g.vega * 100.0, d[prefix + "V"], **tol)
        np.testing.assert_allclose(g.rho * 100.0, d[prefix + "R"], **tol)


def test_haug_european_values(shared_data: Path) -> None:
    with (shared_data / VECTORS / "quantlib_haug_european_values.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 43
    right = np.array(["C" if r["type"] == "call" else "P" for r in rows])
    col = {
        k: np.array([float(r[k]) for r in rows])
        for k in ("strike", "spot", "q", "r", "t", "vol", "expected_value", "tolerance")
    }
    got = bs_price(right, col["spot"], col["strike"], col["t"], col["r"], col["vol"], col["q"])
    err = np.abs(got - col["expected_value"])
    assert np.all(err <= col["tolerance"]), err.max()


# --- identities -------------------------------------------------------------------------------------


def test_put_call_parity_with_dividends() -> None:
    _, s, k, t, r, v, q = _args(_random_book(5000))
    lhs = bs_price("C", s, k, t, r, v, q) - bs_price("P", s, k, t, r, v, q)
    rhs = s * np.exp(-q * t) - k * np.exp(-r * t)
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-10 * s.max())


def test_greeks_match_finite_differences_of_price() -> None:
    right, s, k, t, r, v, q = _args(_random_book(2000))
    g = bs_greeks(right, s, k, t, r, v, q)

    def bump(**kw: np.ndarray) -> np.ndarray:
        a = {"und_price": s, "strike": k, "t_years": t, "rate": r, "iv": v, "div_yield": q} | kw
        return bs_price(right, **a)

    hs, h = 1e-4 * s, 1e-5
    base = bump()
    checks = {
        "delta": ((bump(und_price=s + hs) - bump(und_price=s - hs)) / (2 * hs), g.delta),
        "gamma": ((bump(und_price=s + hs) - 2 * base + bump(und_price=s - hs)) / hs**2, g.gamma),
        "theta": ((bump(t_years=t - h) - bump(t_years=t + h)) / (2 * h) / 365.0, g.theta),
        "vega": ((bump(iv=v + h) - bump(iv=v - h)) / (2 * h) * 0.01, g.vega),
        "rho": ((bump(rate=r + h) - bump(rate=r - h)) / (2 * h) * 0.01, g.rho),
    }
    for name, (fd, closed) in checks.items():
        np.testing.assert_allclose(closed, fd, rtol=1e-4, atol=1e-6 * s.max(), err_msg=name)


def test_greeks_signs_and_call_put_relations() -> None:
    _, s, k, t, r, v, q = _args(_random_book(3000))
    c, p = bs_greeks("C", s, k, t, r, v, q), bs_greeks("P", s, k, t, r, v, q)
    np.testing.assert_allclose(c.delta - p.delta, np.exp(-q * t), atol=1e-12)
    np.testing.assert_allclose(c.gamma, p.gamma, rtol=1e-12)
    np.testing.assert_allclose(c.vega, p.vega, rtol=1e-12)
    assert np.all((c.delta > 0) & (p.delta < 0) & (c.gamma > 0) & (c.vega > 0))


def test_prob_otm_is_the_digital_price_ratio() -> None:
    """P(S_T > K) = -e^{rT} dC/dK (Breeden-Litzenberger), independent of the d2 formula."""
    _, s, k, t, r, v, q = _args(_random_book(2000))
    h = 1e-4 * k
    dcdk = (bs_price("C", s, k + h, t, r, v, q) - bs_price("C", s, k - h, t, r, v, q)) / (2 * h)
    put_otm = prob_otm("P", s, k, t, r, v, q)
    np.testing.assert_allclose(put_otm, -np.exp(r * t) * dcdk, atol=1e-6)
    np.testing.assert_allclose(prob_otm("C", s, k, t, r, v, q) + put_otm, 1.0, atol=1e-12)


def test_expiry_and_zero_vol_give_the_deterministic_limit() -> None:
    s, k = np.array([90.0, 100.0, 110.0]), 100.0
    np.testing.assert_allclose(bs_price("C", s, k, 0.0, 0.05, 0.3), [0.0, 0.0, 10.0])
    np.testing.assert_allclose(bs_price("P", s, k, 0.0, 0.05, 0.3), [10.0, 0.0, 0.0])
    fwd_itm = bs_price("C", 100.0, 90.0, 0.5, 0.05, 0.0)
    np.testing.assert_allclose(fwd_itm, 100.0 - 90.0 * np.exp(-0.025))
    g = bs_greeks("C", s, k, 0.0, 0.05, 0.3)
    np.testing.assert_allclose(g.delta, [0.0, 0.5, 1.0])
    assert np.all(g.gamma == 0.0) and np.all(g.vega == 0.0) and np.all(np.isfinite(g.theta))


def test_invalid_price_inputs_give_nan_without_raising() -> None:
    bad = bs_price(
        "C",
        [100.0, -1.0, 100.0, 100.0, np.nan],
        [100.0, 100.0, 0.0, 100.0, 100.0],
        [0.5, 0.5, 0.5, -0.1, 0.5],
        0.05,
        [0.2, 0.2, 0.2, 0.2, 0.2],
    )
    assert np.isfinite(bad[0]) and np.all(np.isnan(bad[1:]))
    g = bs_greeks("P", 100.0, 100.0, 0.5, 0.05, -0.2)
    assert all(np.isnan(field) for field in g)


# --- implied volatility -----------------------------------------------------------------------------


def _edge_grid() -> tuple[np.ndarray, ...]:
    t = np.array([HOUR, 1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 2.0])
    m = np.linspace(0.5, 2.0, 31)
    v = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 2.2, 3.0])
    right = np.array(["C", "P"])
    grid = np.meshgrid(right, m, t, v, indexing="ij")
    return tuple(a.ravel() for a in grid)


def test_implied_vol_round_trip_on_edge_grid() -> None:
    right, moneyness, t, v = _edge_grid()
    s, r, q = 100.0, 0.04, 0.015
    k = s / moneyness
    price = bs_price(right, s, k, t, r, v, q)
    iv = implied_vol(price, right, s, k, t, r, q)
    vega = bs_greeks(right, s, k, t, r, v, q).vega
    intrinsic = np.maximum(right_sign(right) * (s * np.exp(-q * t) - k * np.exp(-r * t)), 0.0)
    well = (vega >= 1e-4) & (price - intrinsic > 1e-10 * s)
    assert well.sum() > 0.5 * well.size  # the strict bound covers most of the grid
    assert np.max(np.abs(iv[well] - v[well])) <= 1e-9
    # elsewhere: NaN only when the time value is gone, otherwise the vol reprices the input
    solved = np.isfinite(iv)
    assert np.all(solved | (price - intrinsic <= 1e-8 * s))
    repriced = bs_price(right[solved], s, k[solved], t[solved], r, iv[solved], q)
    np.testing.assert_allclose(repriced, price[solved], rtol=1e-9, atol=1e-12 * s)


def test_implied_vol_random_book_accuracy() -> None:
    right, s, k, t, r, v, q = _args(_random_book(50_000, seed=11))
    price = bs_price(right, s, k, t, r, v, q)
    well = bs_greeks(right, s, k, t, r, v, q).vega >= 1e-4
    iv = implied_vol(price, right, s, k, t, r, q)
    assert np.max(np.abs(iv[well] - v[well])) <= 1e-9


@pytest.mark.parametrize(
    ("price", "right", "t_years", "why"),
    [
        (4.0, "C", 0.5, "below intrinsic (call intrinsic ~ 10.99)"),
        (100.0 * np.exp(-0.01 * 0.5), "C", 0.5, "at the call upper bound S e^{-qT}"),
        (150.0, "C", 0.5, "above the call upper bound"),
        (90.0, "P", 0.5, "at/above the put upper bound K e^{-rT}"),
        (5.0, "C", 0.0, "T == 0"),
        (5.0, "C", -0.1, "T < 0"),
        (np.nan, "C", 0.5, "NaN price"),
        (0.0, "P", 0.5, "zero price"),
        (-1.0, "P", 0.5, "negative price"),
    ],
)
def test_implied_vol_nan_cases(price: float, right: str, t_years: float, why: str) -> None:
    iv = implied_vol(price, right, 100.0, 90.0, t_years, 0.05, 0.01)
    assert isinstance(iv, np.ndarray) and iv.shape == ()
    assert np.isnan(iv), why


def test_implied_vol_bad_elements_do_not_spoil_good_ones() -> None:
    s = np.array([100.0, np.nan, 100.0, -5.0, 100.0])
    price = bs_price("C", 100.0, 100.0, 0.25, 0.03, 0.3)
    iv = implied_vol(np.array([price, price, 200.0, price, price]), "C", s, 100.0, 0.25, 0.03)
    assert np.isnan(iv[1:4]).all()
    np.testing.assert_allclose(iv[[0, 4]], 0.3, atol=1e-12)


# --- shapes and arguments ---------------------------------------------------------------------------


def test_scalar_inputs_give_zero_d_arrays() -> None:
    price = bs_price("C", 100.0, 100.0, 0.5, 0.05, 0.2)
    assert isinstance(price, np.ndarray) and price.shape == () and price.dtype == np.float64
    g = bs_greeks("P", 100.0, 100.0, 0.5, 0.05, 0.2)
    assert isinstance(g, Greeks) and all(isinstance(f, np.ndarray) and f.shape == () for f in g)


def test_broadcasting_strikes_against_expiries() -> None:
    strikes = np.linspace(80.0, 120.0, 9)
    t = np.array([[0.1], [0.5], [1.0]])
    price = bs_price("C", 100.0, strikes, t, 0.03, 0.25)
    g = bs_greeks(np.array(["C", "P"] * 4 + ["C"]), 100.0, strikes, t, 0.03, 0.25)
    assert price.shape == (3, 9) and all(f.shape == (3, 9) for f in g)
    assert np.all(np.diff(price, axis=1) < 0) and np.all(np.diff(price, axis=0) > 0)
    iv = implied_vol(price, "C", 100.0, strikes, t, 0.03)
    assert iv.shape == (3, 9)
    np.testing.assert_allclose(iv, 0.25, atol=1e-10)
    # a field that does not depend on `right` still has the full shape and is writable
    gamma = bs_greeks(np.array(["C", "P"]), 100.0, 100.0, 0.5, 0.03, 0.2).gamma
    gamma[0] = 1.0


def test_right_codes_are_case_insensitive() -> None:
    np.testing.assert_array_equal(right_sign(["C", "c", "P", "p", "call", "PUT"]), [1, 1, -1, -1, 1, -1])
    np.testing.assert_array_equal(right_sign(np.array(["c", "P", "C", "p"])), [1, -1, 1, -1])  # one-char path
    args = (100.0, 95.0, 0.5, 0.05, 0.3)
    assert bs_price("c", *args) == bs_price("C", *args)


@pytest.mark.parametrize("bad", ["X", "", "CP", ["C", "Q"], ["c", "#"], 1, np.array([1.0, -1.0])])
def test_bad_right_raises_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="right"):
        bs_price(bad, 100.0, 100.0, 0.5, 0.05, 0.2)
    with pytest.raises(ValueError, match="right"):
        implied_vol(5.0, bad, 100.0, 100.0, 0.5, 0.05)
