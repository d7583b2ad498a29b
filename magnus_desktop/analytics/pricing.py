"""European Black-Scholes-Merton prices, closed-form Greeks and implied volatility (vectorised NumPy).

Every function takes scalars or arrays (NumPy broadcasting) and returns ``float64`` ndarrays of the
broadcast shape (0-d for all-scalar input). Units follow the project convention: prices in USD per
share, ``t_years`` = calendar days / 365, ``rate``/``div_yield``/``iv`` annualised decimals
(continuous compounding), theta per calendar day, vega and rho per 1 point (0.01).

Invalid elements (non-finite or non-positive prices/strikes, negative time or volatility) give NaN;
they never raise. A wrong ``right`` code raises :class:`ValueError`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

__all__ = ["Greeks", "bs_greeks", "bs_price", "implied_vol", "iv_and_delta", "prob_otm", "right_sign"]

FloatArray = NDArray[np.float64]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_MAX_ITER = 100
_STEP_TOL = 1e-5
_BRACKET_TOL = 1e-13


class Greeks(NamedTuple):
    """Closed-form BSM sensitivities per share (float64 arrays of the broadcast shape).

    Attributes:
        delta: dV/dS.
        gamma: d2V/dS2, per USD.
        theta: dV/dt per calendar day (annual theta / 365), usually negative.
        vega: dV/dsigma per 1 vol point (0.01).
        rho: dV/dr per 1 rate point (0.01).
    """

    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    rho: FloatArray


def right_sign(right: ArrayLike) -> FloatArray:
    """Map option rights to +1.0 (call) / -1.0 (put).

    Args:
        right: ``"C"``/``"P"`` (case-insensitive; ``"call"``/``"put"`` accepted), scalar or array of str.

    Returns:
        float64 array of +1.0/-1.0 with the shape of ``right``.

    Raises:
        ValueError: any element is not a call or put code.
    """
    arr = np.asarray(right)
    if arr.dtype.kind not in "USO":
        raise ValueError(f"right must be 'C' or 'P' strings, got dtype {arr.dtype}")
    if arr.dtype == np.dtype("<U1"):  # fast path: compare UTF-32 code points, ASCII-lowercased (| 32)
        lower = arr.view(np.uint32) | 32
        is_call = lower == ord("c")
        known = is_call | (lower == ord("p"))
    else:
        is_call = (arr == "C") | (arr == "c")
        known = is_call | (arr == "P") | (arr == "p")
    if not known.all():  # rare spellings: validate each distinct code once
        call_codes = []
        for code in np.unique(arr[~known].astype(str)):
            norm = code.strip().upper()
            if norm not in ("C", "CALL", "P", "PUT"):
                raise ValueError(f"right must be 'C' or 'P' (case-insensitive), got {code!r}")
            if norm in ("C", "CALL"):
                call_codes.append(code)
        if call_codes:
            is_call |= np.isin(arr.astype(str), call_codes)
    return np.where(is_call, 1.0, -1.0)


def _as_float(*values: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def _finish(shape: tuple[int, ...], *arrays: FloatArray) -> list[FloatArray]:
    """Give every output the full broadcast shape, as its own writable float64 array."""
    out = []
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        out.append(a if a.shape == shape else np.broadcast_to(a, shape).copy())
    return out


class _Core(NamedTuple):
    w: FloatArray  # +1 call, -1 put
    s: FloatArray  # S (NaN where the element is invalid)
    dq: FloatArray  # e^{-qT}
    s_disc: FloatArray  # S e^{-qT}
    k_disc: FloatArray  # K e^{-rT}
    d1: FloatArray
    d2: FloatArray
    vst: FloatArray  # sigma sqrt(T)
    t: FloatArray
    shape: tuple[int, ...]
    sqrt_t: FloatArray  # sqrt(T)


def _core(
    right: ArrayLike,
    und_price: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    iv: ArrayLike,
    div_yield: ArrayLike,
) -> _Core:
    """d1, d2 and discounted legs, computed once; sigma*sqrt(T) == 0 maps to the deterministic limit."""
    w = right_sign(right)
    s, k, t, r, v, q = _as_float(und_price, strike, t_years, rate, iv, div_yield)
    shape = np.broadcast_shapes(w.shape, s.shape, k.shape, t.shape, r.shape, v.shape, q.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = (s > 0) & (k > 0) & (t >= 0) & (v >= 0) & np.isfinite(s + k + t + v + r + q)
    if not ok.all():
        s = np.where(ok, s, np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sqrt_t = np.sqrt(t)
        vst = v * sqrt_t
        dq = np.exp(-q * t) if q.any() else np.ones_like(q)
        s_disc = s * dq
        k_disc = k * np.exp(-r * t)
        log_fk = np.log(s_disc / k_disc)
        d1 = log_fk / vst
        d1 += 0.5 * vst
        d2 = d1 - vst
    zero = vst == 0
    if zero.any():  # T == 0 or iv == 0: d -> +-inf (0 at the forward), the sigma -> 0 limit
        lim = np.where(log_fk == 0, 0.0, np.copysign(np.inf, log_fk))
        d1 = np.where(zero, lim, d1)
        d2 = np.where(zero, lim, d2)
    return _Core(w, s, dq, s_disc, k_disc, d1, d2, vst, t, shape, sqrt_t)


def bs_price(
    right: ArrayLike,
    und_price: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    iv: ArrayLike,
    div_yield: ArrayLike = 0.0,
) -> FloatArray:
    """Black-Scholes-Merton price of a European option with continuous dividend yield.

    Args:
        right: ``"C"``/``"P"``, str or array of str.
        und_price: underlying price S, USD (array-like).
        strike: strike K, USD.
        t_years: time to expiry T in years (calendar days / 365); T == 0 gives discounted intrinsic.
        rate: risk-free rate r, annualised continuous decimal.
        iv: volatility sigma, annualised decimal; 0 gives the discounted forward intrinsic.
        div_yield: continuous dividend yield q, annualised decimal.

    Returns:
        float64 array (broadcast shape): price in USD per share; NaN for invalid elements.

    Raises:
        ValueError: a ``right`` element is not a call/put code.

    Source:
        Hull, *Options, Futures and Other Derivatives* (10th ed.), eq. 17.4-17.5;
        Haug, *The Complete Guide to Option Pricing Formulas* (2007), sec. 1.1.6 (generalised BSM).
    """
    c = _core(right, und_price, strike, t_years, rate, iv, div_yield)
    price = c.w * (c.s_disc * ndtr(c.w * c.d1) - c.k_disc * ndtr(c.w * c.d2))
    return _finish(c.shape, price)[0]


def bs_greeks(
    right: ArrayLike,
    und_price: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    iv: ArrayLike,
    div_yield: ArrayLike = 0.0,
) -> Greeks:
    """Closed-form BSM Greeks (no finite differences).

    Args:
        right, und_price, strike, t_years, rate, iv, div_yield: as in :func:`bs_price`.

    Returns:
        :class:`Greeks` of float64 arrays: delta, gamma (per USD), theta per calendar day,
        vega per vol point, rho per rate point. At sigma*sqrt(T) == 0 gamma and vega are 0.

    Raises:
        ValueError: a ``right`` element is not a call/put code.

    Source:
        Haug (2007), sec. 2.1 (generalised BSM Greeks: delta, gamma, theta, vega, rho with
        b = r - q); Hull (10th ed.), ch. 19.
    """
    c = _core(right, und_price, strike, t_years, rate, iv, div_yield)
    w, s_disc = c.w, c.s_disc
    r, q = _as_float(rate, div_yield)
    has_q = bool(q.any())
    # in-place arithmetic on full-shape arrays: 1M options allocate a handful of arrays, not dozens
    shape = c.shape
    w, d1, d2, s_disc, k_disc, s, vst, t, sqrt_t = (np.broadcast_to(a, shape) for a in (
        w, c.d1, c.d2, s_disc, c.k_disc, c.s, c.vst, c.t, c.sqrt_t))
    nd1 = ndtr(w * d1)
    nd2_k = ndtr(w * d2)
    nd2_k *= k_disc  # K e^{-rT} N(w d2)
    s_pdf = np.square(d1)
    s_pdf *= -0.5
    s_pdf = np.exp(s_pdf)
    s_pdf *= s_disc
    s_pdf *= _INV_SQRT_2PI  # S e^{-qT} n(d1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = s * s
        gamma *= vst
        gamma = s_pdf / gamma
        decay = s_pdf * vst
        decay /= t  # S e^{-qT} n(d1) sigma / sqrt(T)
    zero = vst == 0
    if zero.any():
        gamma = np.where(zero, 0.0, gamma)
        decay = np.where(zero, 0.0, decay)
    delta = w * nd1
    if has_q:
        delta *= np.broadcast_to(c.dq, shape)
    carry = r * nd2_k  # r K e^{-rT} N(w d2) - q S e^{-qT} N(w d1)
    if has_q:
        carry -= q * s_disc * nd1
    carry *= w
    theta = decay
    theta *= -0.5
    theta -= carry
    theta /= 365.0
    vega = s_pdf * sqrt_t
    vega *= 0.01
    rho = nd2_k * t
    rho *= w
    rho *= 0.01
    out = _finish(c.shape, delta, gamma, theta, vega, rho)
    return Greeks(*out)


def prob_otm(
    right: ArrayLike,
    und_price: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    iv: ArrayLike,
    div_yield: ArrayLike = 0.0,
) -> FloatArray:
    """Risk-neutral probability that the option expires out of the money.

    A put finishes OTM (S_T > K) with probability N(d2), a call (S_T < K) with N(-d2).

    Args:
        right, und_price, strike, t_years, rate, iv, div_yield: as in :func:`bs_price`.

    Returns:
        float64 array in [0, 1]; NaN for invalid elements.

    Raises:
        ValueError: a ``right`` element is not a call/put code.

    Source:
        Hull (10th ed.), sec. 15.8: N(d2) is the risk-neutral probability that S_T > K.
    """
    c = _core(right, und_price, strike, t_years, rate, iv, div_yield)
    return _finish(c.shape, ndtr(-c.w * c.d2))[0]


def implied_vol(
    price: ArrayLike,
    right: ArrayLike,
    und_price: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike = 0.0,
) -> FloatArray:
    """Black-Scholes-Merton implied volatility of European option prices.

    The price is mapped to the normalised out-of-the-money call b(x, s) with x = -|ln(F/K)|,
    s = sigma sqrt(T) (Jaeckel 2015, sec. 2-3); s is solved by Halley iterations on a region-wise
    transformed objective, ln b below the inflection point s_c = sqrt(2|x|) and
    -ln(b_max - b) above it, started from Jaeckel's lower/upper asymptotic maps and safeguarded
    by a bisection bracket, so every element converges.

    Args:
        price: option price, USD per share (array-like).
        right: ``"C"``/``"P"``, str or array of str.
        und_price: underlying price S, USD.
        strike: strike K, USD.
        t_years: time to expiry T in years (calendar days / 365).
        rate: risk-free rate r, annualised continuous decimal.
        div_yield: continuous dividend yield q, annualised decimal.

    Returns:
        float64 array (broadcast shape) of annualised volatilities. NaN where no positive volatility
        reproduces the price: price at or below the discounted intrinsic value, at or above the
        upper bound (S e^{-qT} for calls, K e^{-rT} for puts), T <= 0, non-finite or
        non-positive inputs. Never raises for a bad element.

    Raises:
        ValueError: a ``right`` element is not a call/put code.

    Source:
        P. Jaeckel, "Let's Be Rational", Wilmott (2015) 2015(75): normalised Black function,
        region split at s_c and the lower/upper asymptotic maps used as initial guesses;
        Halley's method: Press et al., *Numerical Recipes* (3rd ed.), sec. 9.4.
    """
    w = right_sign(right)
    arrays = np.broadcast_arrays(w, *_as_float(price, und_price, strike, t_years, rate, div_yield))
    shape = arrays[0].shape
    w, p, s, k, t, r, q = (a.ravel() for a in arrays)
    out = np.full(w.size, np.nan)
    with np.errstate(all="ignore"):
        x, beta, valid = _normalise(w, p, s, k, t, r, q)
        idx = np.flatnonzero(valid)
        if idx.size:
            out[idx] = _solve_s(x[idx], beta[idx]) / np.sqrt(t[idx])
    return out.reshape(shape)


def _normalise(
    w: FloatArray, p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Map prices to (x <= 0, beta): the OTM normalised call value b(x, s) = beta (Jaeckel 2015)."""
    disc = np.exp(-r * t)
    fwd = s * np.exp((r - q) * t)
    undisc = p / disc
    intrinsic = np.maximum(w * (fwd - k), 0.0)
    root_fk = np.sqrt(fwd * k)
    beta = (undisc - intrinsic) / root_fk
    x = -np.abs(np.log(fwd / k))
    valid = (p > 0) & (s > 0) & (k > 0) & (t > 0) & (beta > 0) & (beta < np.exp(0.5 * x))
    valid &= np.isfinite(beta) & np.isfinite(x)
    return x, beta, valid


def _vega_n(x: FloatArray, s: FloatArray) -> FloatArray:
    """db/ds of the normalised call: exp(-(x^2/s^2 + s^2/4)/2) / sqrt(2 pi)."""
    return _INV_SQRT_2PI * np.exp(-0.5 * (np.square(x / s) + 0.25 * np.square(s)))


def _solve_s(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Total volatility s = sigma sqrt(T) with b(x, s) = beta, for x <= 0 and 0 < beta < e^{x/2}."""
    ex2 = np.exp(0.5 * x)
    s_c = np.sqrt(-2.0 * x)
    d1c = np.where(s_c > 0, 0.5 * s_c + x / np.where(s_c > 0, s_c, 1.0), 0.0)
    b_c = ex2 * ndtr(d1c) - ndtr(d1c - s_c) / ex2
    out = np.empty_like(x)
    low = beta < b_c
    for mask, upper in ((low, False), (~low, True)):
        i = np.flatnonzero(mask)
        if i.size:
            out[i] = _halley(x[i], beta[i], ex2[i], s_c[i], b_c[i], upper)
    return out


def _initial_s(
    x: FloatArray, beta: FloatArray, ex2: FloatArray, s_c: FloatArray, b_c: FloatArray, upper: bool
) -> FloatArray:
    """Jaeckel's asymptotic maps, scaled to pass through (s_c, b_c): f_l ~ N(-|x|/(sqrt3 s))^3, f_u = N(-s/2)."""
    if upper:
        return -2.0 * ndtri(ndtr(-0.5 * s_c) * (ex2 - beta) / (ex2 - b_c))
    z = ndtri(ndtr(-np.sqrt(-x / 6.0)) * np.cbrt(beta / b_c))
    return x / (math.sqrt(3.0) * z)


def _halley_step(
    x: FloatArray, s: FloatArray, target_log: FloatArray, ex2: FloatArray, upper: bool
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """One Halley step on ln b - ln beta (lower) or ln(b_max - beta) - ln(b_max - b) (upper)."""
    d1 = x / s + 0.5 * s
    vega = _vega_n(x, s)
    curv = np.square(x / s) / s - 0.25 * s  # b'' / b'
    if upper:
        c = ex2 * ndtr(-d1) + ndtr(d1 - s) / ex2  # b_max - b, without cancellation
        r1 = (target_log - np.log(c)) * c / vega
        r2 = vega / c + curv
        above = c < np.exp(target_log)
    else:
        b = ex2 * ndtr(d1) - ndtr(d1 - s) / ex2
        r1 = (np.log(b) - target_log) * b / vega
        r2 = curv - vega / b
        above = b > np.exp(target_log)
    denom = 1.0 - 0.5 * r1 * r2
    step = np.where(denom > 0.5, -r1 / denom, -r1)
    return step, above


def _halley(
    x: FloatArray, beta: FloatArray, ex2: FloatArray, s_c: FloatArray, b_c: FloatArray, upper: bool
) -> FloatArray:
    """Bracketed Halley iterations for s (vectorised; converged elements leave the active set)."""
    s = _initial_s(x, beta, ex2, s_c, b_c, upper)
    lo = s_c.copy() if upper else np.zeros_like(s)
    hi = np.full_like(s, np.inf) if upper else s_c.copy()
    target_log = np.log(ex2 - beta) if upper else np.log(beta)
    out = np.empty_like(s)
    act = np.arange(s.size)
    for _ in range(_MAX_ITER):
        s = np.where((s > lo) & (s < hi), s, np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * lo + 1.0))
        step, above = _halley_step(x, s, target_log, ex2, upper)
        hi = np.where(above, s, hi)
        lo = np.where(above, lo, s)
        small = np.abs(step) <= _STEP_TOL * s  # Halley is cubic: the error after this step is ~1e-20 s
        done = small | (hi - lo <= _BRACKET_TOL * s)
        out[act[done]] = np.where(small, s + step, s)[done]
        keep = ~done
        if not keep.any():
            return out
        act, x, s, lo, hi, target_log, ex2 = (a[keep] for a in (act, x, (s + step), lo, hi, target_log, ex2))
    out[act] = np.clip(s, lo, hi)  # not reached in practice: best bracketed estimate
    return out


def iv_and_delta(
    price: float, right: str, und_price: float, strike: float, dte: int, rate: float, div_yield: float = 0.0
) -> tuple[float, float]:
    """The implied volatility of one quoted option price and the BSM delta at it.

    One contract (scalars), time as ``dte / 365`` (calendar days). Used wherever an IV is read off a
    quote's mid (the assistant's tools, the predictor's ``p_win`` of a ticket).

    Args:
        price: option price (usually the bid/ask mid), USD per share.
        right: ``"C"`` or ``"P"``.
        und_price: underlying price, USD.
        strike: strike, USD.
        dte: calendar days to expiry.
        rate: risk-free rate, annualised continuous decimal.
        div_yield: continuous dividend yield, annualised decimal.

    Returns:
        ``(iv, delta)``: annualised decimal volatility and the signed delta per share (calls > 0);
        both NaN when no positive volatility reproduces ``price`` (see :func:`implied_vol`),
        ``dte`` <= 0 or an input is not finite/positive. Never raises for such a quote.

    Raises:
        ValueError: ``right`` is not a call/put code.
    """
    if not (dte > 0 and math.isfinite(price) and price > 0 and math.isfinite(und_price) and und_price > 0):
        right_sign(right)  # a bad right is still an error
        return math.nan, math.nan
    t = dte / 365.0
    iv = float(implied_vol(price, right, und_price, strike, t, rate, div_yield))
    if not (math.isfinite(iv) and iv > 0):
        return math.nan, math.nan
    return iv, float(bs_greeks(right, und_price, strike, t, rate, iv, div_yield).delta)
