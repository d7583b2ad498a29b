"""Speed and accuracy of ``magnus_desktop.analytics.pricing`` against references measured in the same run.

References: ``py_vollib_vectorized`` 0.1.1 (numba; ``pip install -e ".[bench]"``) and a plain NumPy
textbook closed form written below. Targets: ``bs_greeks`` >= 10x faster than pvv ``get_all_greeks``
and <= 1.5x the time of the NumPy textbook; ``implied_vol`` >= 1.3x faster than pvv
``vectorized_implied_volatility`` with max abs vol error <= 1e-9 on well-conditioned contracts.
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType

import numpy as np
from scipy.special import ndtr

from benchmarks.common import Result, timeit_best
from magnus_desktop.analytics.pricing import bs_greeks, bs_price, implied_vol

NAN = math.nan


def make_book(n: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    """A random option book: S 20-500, K/S 0.7-1.3, 1 day to 2 years, vol 8-120 %, r 0-6 %, q 0-4 %."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(20.0, 500.0, n)
    return {
        "right": np.where(rng.random(n) < 0.5, "C", "P"),
        "S": s,
        "K": np.round(s * rng.uniform(0.7, 1.3, n), 1),
        "T": rng.integers(1, 731, n) / 365.0,
        "r": rng.uniform(0.0, 0.06, n),
        "v": rng.uniform(0.08, 1.2, n),
        "q": rng.uniform(0.0, 0.04, n),
    }


def textbook_greeks(right, s, k, t, r, v, q):  # noqa: ANN001, ANN201 - reference, kept plain on purpose
    """Straightforward Hull-style closed form: 4 N() calls, separate call/put formulas, np.where."""
    is_call = right == "C"
    sqrt_t = np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * v**2) * t) / (v * sqrt_t)
    d2 = d1 - v * sqrt_t
    pdf = np.exp(-0.5 * d1**2) / np.sqrt(2 * np.pi)
    nd1, nd2, nmd1, nmd2 = ndtr(d1), ndtr(d2), ndtr(-d1), ndtr(-d2)
    eq, er = np.exp(-q * t), np.exp(-r * t)
    delta = np.where(is_call, eq * nd1, -eq * nmd1)
    gamma = eq * pdf / (s * v * sqrt_t)
    vega = s * eq * pdf * sqrt_t / 100
    decay = -s * eq * pdf * v / (2 * sqrt_t)
    theta_c = decay - r * k * er * nd2 + q * s * eq * nd1
    theta_p = decay + r * k * er * nmd2 - q * s * eq * nmd1
    theta = np.where(is_call, theta_c, theta_p) / 365
    rho = np.where(is_call, k * t * er * nd2, -k * t * er * nmd2) / 100
    return delta, gamma, theta, vega, rho


def _load_pvv() -> tuple[ModuleType | None, str]:
    try:
        import py_vollib_vectorized as pvv
    except Exception as exc:  # noqa: BLE001 - any import failure means "no reference"
        return (
            None,
            f"py_vollib_vectorized not importable ({type(exc).__name__}: {exc}); pip install -e '.[bench]'",
        )
    return pvv, ""


def _greeks_rows(book: dict[str, np.ndarray], pvv: ModuleType | None, why: str, repeat: int) -> list[Result]:
    args = (book["right"], book["S"], book["K"], book["T"], book["r"], book["v"], book["q"])
    n = f"{book['S'].size:,}"
    ours = timeit_best(lambda: bs_greeks(*args), repeat)
    ref = timeit_best(lambda: textbook_greeks(*args), repeat)
    diff = max(
        float(np.max(np.abs(a - b))) for a, b in zip(bs_greeks(*args), textbook_greeks(*args), strict=True)
    )
    rows = [
        Result(
            f"bs_greeks {n}",
            "time",
            ours,
            "s",
            "numpy textbook",
            ours / ref,
            1.5,
            "max_ratio",
            f"textbook {ref:.4f} s; ratio = ours / textbook",
        ),
        Result(
            f"bs_greeks {n}",
            "max |ours - textbook|",
            diff,
            "per share",
            "numpy textbook",
            target=1e-9,
            direction="max_value",
        ),
    ]
    if pvv is None:
        return rows + [Result(f"bs_greeks {n}", "speedup vs pvv", NAN, "x", "pvv get_all_greeks", note=why)]
    flag = np.char.lower(book["right"])
    pargs = (flag, book["S"], book["K"], book["T"], book["r"], book["v"], book["q"])

    def pvv_greeks() -> object:
        return pvv.get_all_greeks(*pargs, model="black_scholes_merton", return_as="dict")

    theirs = timeit_best(pvv_greeks, repeat)
    return rows + [
        Result(
            f"bs_greeks {n}",
            "speedup vs pvv",
            theirs / ours,
            "x",
            "pvv get_all_greeks",
            theirs / ours,
            10.0,
            "min_ratio",
            f"pvv {theirs:.4f} s, ours {ours:.4f} s",
        )
    ]


def _iv_rows(book: dict[str, np.ndarray], pvv: ModuleType | None, why: str, repeat: int) -> list[Result]:
    right, s, k, t, r, v, q = (book[c] for c in ("right", "S", "K", "T", "r", "v", "q"))
    n = f"{s.size:,}"
    price = bs_price(right, s, k, t, r, v, q)
    well = bs_greeks(right, s, k, t, r, v, q).vega >= 1e-4
    ours = timeit_best(lambda: implied_vol(price, right, s, k, t, r, q), repeat)
    err = float(np.max(np.abs(implied_vol(price, right, s, k, t, r, q)[well] - v[well])))
    rows = [
        Result(
            f"implied_vol {n}",
            "max abs vol error",
            err,
            "vol",
            "input vol",
            target=1e-9,
            direction="max_value",
            note=f"{int(well.sum()):,} well-conditioned contracts (vega >= 1e-4/pt)",
        ),
    ]
    if pvv is None:
        return rows + [Result(f"implied_vol {n}", "speedup vs pvv", NAN, "x", "pvv implied vol", note=why)]
    flag = np.char.lower(right)

    def pvv_iv() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pvv.vectorized_implied_volatility(
                price, s, k, t, r, flag, q, model="black_scholes_merton", return_as="numpy", on_error="ignore"
            )

    theirs = timeit_best(pvv_iv, repeat)
    pvv_err = float(np.nanmax(np.abs(np.asarray(pvv_iv()).ravel()[well] - v[well])))
    return rows + [
        Result(
            f"implied_vol {n}",
            "speedup vs pvv",
            theirs / ours,
            "x",
            "pvv vectorized_implied_volatility",
            theirs / ours,
            1.3,
            "min_ratio",
            f"pvv {theirs:.4f} s, ours {ours:.4f} s",
        ),
        Result(
            f"implied_vol {n}",
            "pvv max abs vol error",
            pvv_err,
            "vol",
            "input vol",
            note="context only: the reference's own accuracy on the same contracts",
        ),
    ]


def run(quick: bool) -> list[Result]:
    """Rows for run.py: 1,000,000 contracts (100,000 with ``quick``)."""
    book = make_book(100_000 if quick else 1_000_000)
    repeat = 3 if quick else 5
    pvv, why = _load_pvv()
    if pvv is not None:  # numba compiles on first use: keep that out of the timings
        small = make_book(64)
        textbook_greeks(*(small[c] for c in ("right", "S", "K", "T", "r", "v", "q")))
        _greeks_rows(small, pvv, why, 1)
        _iv_rows(small, pvv, why, 1)
    price_time = timeit_best(
        lambda: bs_price(book["right"], book["S"], book["K"], book["T"], book["r"], book["v"], book["q"]),
        repeat,
    )
    n = f"{book['S'].size:,}"
    return [
        Result(f"bs_price {n}", "time", price_time, "s"),
        *_greeks_rows(book, pvv, why, repeat),
        *_iv_rows(book, pvv, why, repeat),
    ]
