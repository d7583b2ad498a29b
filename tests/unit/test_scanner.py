"""Wheel scanner: filters, hand-recomputed numbers, ranking and speed."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics.pricing import bs_price
from magnus_desktop.analytics.scanner import ScanError, ScanParams, scan
from magnus_desktop.models.domain import CHAIN_COLUMNS, SCAN_COLUMNS
from magnus_desktop.services.market.chains import chain_for_date, load_chain
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

QUOTE = pd.Timestamp("2018-01-02")
WIDE = ScanParams(right="both", dte_min=0, dte_max=365, delta_min=0.0, delta_max=1.0,
                  max_spread_pct=10.0, rate=0.01)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def chain(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A canonical chain from partial rows (S=100, quoted 2018-01-02, 30 dte by default)."""
    base = {"underlying": "XYZ", "quote_date": QUOTE, "und_price": 100.0,
            "expiry": QUOTE + pd.Timedelta(days=30), "strike": 95.0, "right": "P", "bid": 1.0,
            "ask": 1.1, "last": np.nan, "volume": 0.0, "open_interest": 500.0}
    return pd.DataFrame([{**base, **r} for r in rows], columns=list(CHAIN_COLUMNS))


def bsm_price(right: str, s: float, k: float, t: float, r: float, v: float) -> float:
    d1 = (math.log(s / k) + (r + v * v / 2) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if right == "C":
        return s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * norm_cdf(-d1)


def test_numbers_recomputed_by_hand() -> None:
    # premium priced at a known vol so the IV must come back as 0.25
    mid = bsm_price("P", 100.0, 95.0, 30 / 365, 0.01, 0.25)
    bid, ask = mid - 0.05, mid + 0.05
    out = scan(chain([{"bid": bid, "ask": ask}]), WIDE)
    assert tuple(out.columns) == SCAN_COLUMNS and len(out) == 1
    row = out.iloc[0]
    t = 30 / 365
    assert row["dte"] == 30 and row["mid"] == pytest.approx((bid + ask) / 2)
    assert row["spread_pct"] == pytest.approx((ask - bid) / ((bid + ask) / 2))
    assert row["iv"] == pytest.approx(0.25, abs=1e-6)
    sig = 0.25 * math.sqrt(t)
    d1 = (math.log(100 / 95) + (0.01 + 0.25**2 / 2) * t) / sig
    assert row["delta"] == pytest.approx(-norm_cdf(-d1), abs=1e-6)
    assert row["prob_otm"] == pytest.approx(norm_cdf(d1 - sig), abs=1e-6)
    assert row["return_on_collateral"] == pytest.approx(bid / 95.0)
    assert row["annualized_return"] == pytest.approx(bid / 95.0 * 365 / 30)
    expected_score = bid / 95.0 * 365 / 30 * norm_cdf(d1 - sig) * (1 - (ask - bid) / ((bid + ask) / 2))
    assert row["score"] == pytest.approx(expected_score, rel=1e-6)


def test_mid_premium_source() -> None:
    out = scan(chain([{"bid": 1.0, "ask": 1.2}]), dataclasses.replace(WIDE, premium_source="mid"))
    assert out["return_on_collateral"].iloc[0] == pytest.approx(1.1 / 95.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"expiry": QUOTE},  # dte 0
        {"expiry": QUOTE - pd.Timedelta(days=3)},  # expired
        {"bid": 0.0},  # nothing to collect
        {"ask": np.nan},  # no offer
        {"bid": 1.2, "ask": 1.1},  # crossed quote
    ],
)
def test_unusable_quotes_are_excluded(bad: dict[str, object]) -> None:
    out = scan(chain([{"strike": 90.0}, {"strike": 95.0, **bad}]), WIDE)
    assert out["strike"].tolist() == [90.0]


def test_no_fitting_vol_is_excluded() -> None:
    # a put quoted below its discounted intrinsic value (S=100, K=120): no volatility fits
    out = scan(chain([{"strike": 120.0, "bid": 15.0, "ask": 15.2}, {"strike": 95.0}]), WIDE)
    assert out["strike"].tolist() == [95.0]


def test_filters_are_inclusive_bounds() -> None:
    rows = chain([{"strike": 95.0, "expiry": QUOTE + pd.Timedelta(days=d)} for d in (7, 14, 21)])
    out = scan(rows, dataclasses.replace(WIDE, dte_min=7, dte_max=14))
    assert sorted(out["dte"]) == [7, 14]
    spread = scan(chain([{"bid": 1.0, "ask": 1.5}]), WIDE)["spread_pct"].iloc[0]
    assert len(scan(chain([{"bid": 1.0, "ask": 1.5}]), dataclasses.replace(WIDE, max_spread_pct=spread))) == 1
    assert scan(chain([{"bid": 1.0, "ask": 1.5}]), dataclasses.replace(WIDE, max_spread_pct=spread - 1e-9)).empty


def test_delta_and_right_filters() -> None:
    rows = chain([{"strike": k, "right": r, "bid": b, "ask": b + 0.1}
                  for k, r, b in ((80, "P", 0.02), (95, "P", 1.0), (100, "P", 3.0), (105, "C", 1.0))])
    everything = scan(rows, WIDE)
    assert set(everything["right"]) == {"C", "P"} and (everything.query("right == 'P'")["delta"] < 0).all()
    puts = scan(rows, dataclasses.replace(WIDE, right="P"))
    assert set(puts["right"]) == {"P"}
    lo, hi = sorted(np.abs(puts["delta"]))[1:3]
    banded = scan(rows, dataclasses.replace(WIDE, right="P", delta_min=float(lo), delta_max=float(hi)))
    assert sorted(np.abs(banded["delta"])) == pytest.approx([lo, hi])


def test_open_interest_filter_and_missing_oi() -> None:
    rows = chain([{"strike": 90.0, "open_interest": np.nan}, {"strike": 95.0, "open_interest": 100.0}])
    assert sorted(scan(rows, WIDE)["strike"]) == [90.0, 95.0]  # min 0 keeps a missing OI
    assert scan(rows, dataclasses.replace(WIDE, min_open_interest=100))["strike"].tolist() == [95.0]
    assert scan(rows, dataclasses.replace(WIDE, min_open_interest=101)).empty


def test_min_return_and_ranking_and_top() -> None:
    rows = chain([{"strike": k, "bid": b, "ask": b + 0.05} for k, b in ((85, 0.2), (90, 0.5), (95, 1.2))])
    out = scan(rows, WIDE)
    assert list(out["score"]) == sorted(out["score"], reverse=True)
    assert out.index.tolist() == list(range(len(out)))
    best = scan(rows, dataclasses.replace(WIDE, top=1))
    assert best["strike"].tolist() == [out["strike"].iloc[0]]
    cut = float(out["annualized_return"].median())
    kept = scan(rows, dataclasses.replace(WIDE, min_annualized_return=cut))
    assert (kept["annualized_return"] >= cut).all() and len(kept) == (out["annualized_return"] >= cut).sum()


def test_as_of_overrides_quote_date() -> None:
    out = scan(chain([{}]), WIDE, as_of=date(2018, 1, 12))
    assert out["dte"].tolist() == [20]


def test_empty_result_keeps_columns() -> None:
    out = scan(chain([{"bid": 0.0}]), WIDE)
    assert out.empty and tuple(out.columns) == SCAN_COLUMNS


@pytest.mark.parametrize(
    "kwargs",
    [{"right": "X"}, {"dte_min": 10, "dte_max": 5}, {"delta_min": 0.5, "delta_max": 0.2},
     {"delta_max": 1.5}, {"premium_source": "ask"}, {"top": 0}],
)
def test_bad_params_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ScanError):
        ScanParams(**kwargs)  # type: ignore[arg-type]


def test_chain_without_columns_raises() -> None:
    with pytest.raises(ScanError, match="bid"):
        scan(chain([{}]).drop(columns=["bid"]), WIDE)


@pytest.fixture(scope="module")
def spxw_day() -> pd.DataFrame:
    path = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
    return chain_for_date(load_chain(path), date(2018, 1, 2))


def test_spxw_scan_reprices_the_mid(spxw_day: pd.DataFrame) -> None:
    out = scan(spxw_day, ScanParams(rate=0.015))
    assert len(out) > 5 and (out["right"] == "P").all()
    repriced = bs_price("P", 2695.79, out["strike"].to_numpy(), out["dte"].to_numpy() / 365, 0.015,
                        out["iv"].to_numpy())
    np.testing.assert_allclose(repriced, out["mid"], atol=1e-4)
    assert ((np.abs(out["delta"]) >= 0.05) & (np.abs(out["delta"]) <= 0.35)).all()


def test_tie_breaking_matches_a_full_three_key_sort() -> None:
    from magnus_desktop.analytics.scanner import _rank_order

    rng = np.random.default_rng(7)
    for _ in range(200):
        m = int(rng.integers(1, 60))
        keys = rng.integers(0, 4, size=(3, m)).astype(float)  # many ties on purpose
        score, ann, strike = keys
        got = _rank_order(score.copy(), ann, strike)
        ref = np.lexsort((strike, -ann, -score))
        np.testing.assert_array_equal(keys[:, got], keys[:, ref])
        assert sorted(got.tolist()) == list(range(m))


def test_identical_contracts_of_two_underlyings_rank_deterministically() -> None:
    rows = chain([{"underlying": u, "strike": k} for u in ("AAA", "BBB") for k in (90.0, 95.0)])
    first, second = scan(rows, WIDE), scan(rows.iloc[::-1].reset_index(drop=True), WIDE)
    assert first[["strike", "score"]].equals(second[["strike", "score"]])
    assert first["score"].iloc[0] == first["score"].iloc[1]
