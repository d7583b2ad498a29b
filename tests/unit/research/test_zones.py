"""Supply/demand zones on a hand-annotated stretch of the bundled SPY bars (pandas-ta SPY, unadjusted).

Hand annotation (read off the CSV; ratio = range / ATR(14) of the bar before, ATR from Wilder):

* 2016-10-31: range 213.19 - 212.36 = 0.83, ATR(10-28) 1.737 → 0.48 ≤ 0.7: a one-candle base (10-28's
  range 2.22 is 1.31 ATR, not narrow). 11-01 closes 211.01 below the base low 212.36 (a drop, 0.81 ATR
  of ATR(10-31) 1.672); 11-02 closes 209.74: (212.36 − 209.74) / 1.672 = 1.57 ≥ 1.5 → a SUPPLY zone
  from the lower body edge 212.55 (close of 10-31) to the high 213.19. 11-07 trades up to 213.19 (a
  test); 11-08 closes 214.11 above 213.19 → invalidated on 2016-11-08.
* 2017-04-21: range 1.18, ATR(04-20) 1.745 → 0.68: a one-candle base (04-20 is 1.22 ATR). 04-24 closes
  237.17 above the base high 235.31 (1.09 ATR of ATR(04-21) 1.707); 04-25 closes 238.55: 3.24 / 1.707 =
  1.90 ≥ 1.5 → a DEMAND zone from the low 234.13 to the body top 235.25 (open of 04-21). SPY never
  trades back down to 235.25 before 2018-02-28 (the Feb-2018 low is 252.92): fresh.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.analytics.indicators import atr
from magnus_desktop.analytics.zones import ZoneParams, active_zones, find_zones, zone_distance
from magnus_desktop.services.market.recorded import ReplayMarketData


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return ReplayMarketData.from_resources().bars("SPY", date(2016, 6, 1), date(2018, 2, 28))


def _day(bars: pd.DataFrame, i: int | None) -> date | None:
    return None if i is None else bars.index[i].date()


def test_hand_annotated_zones(spy: pd.DataFrame) -> None:
    zones = find_zones(spy.open, spy.high, spy.low, spy.close)
    by_base = {_day(spy, z.base_end): z for z in zones}
    supply = by_base[date(2016, 10, 31)]
    assert supply.kind == "supply" and _day(spy, supply.base_start) == date(2016, 10, 31)
    assert _day(spy, supply.departure) == date(2016, 11, 2)
    assert (supply.low, supply.high) == (212.55, 213.19)
    assert supply.status == "invalidated" and _day(spy, supply.invalidated_at) == date(2016, 11, 8)
    assert supply.tests == 1
    demand = by_base[date(2017, 4, 21)]
    assert demand.kind == "demand" and _day(spy, demand.departure) == date(2017, 4, 25)
    assert (demand.low, demand.high) == (234.13, 235.25)
    assert demand.status == "fresh" and demand.tests == 0
    assert demand.strength == pytest.approx((238.55 - 235.31) / 1.707, abs=0.01)


def test_every_zone_meets_the_definition(spy: pd.DataFrame) -> None:
    p = ZoneParams()
    o, h, lo, c = (spy[k].to_numpy() for k in ("open", "high", "low", "close"))
    a = atr(h, lo, c)
    zones = find_zones(o, h, lo, c, p)
    assert len(zones) >= 5
    for z in zones:
        base = range(z.base_start, z.base_end + 1)
        assert 1 <= len(base) <= p.max_base
        assert all(h[i] - lo[i] <= p.narrow_atr * a[i - 1] for i in base)
        assert not (h[z.base_end + 1] - lo[z.base_end + 1] <= p.narrow_atr * a[z.base_end])
        edge = h[base].max() if z.kind == "demand" else lo[base].min()
        move = (c[z.departure] - edge) if z.kind == "demand" else (edge - c[z.departure])
        assert move >= p.k * a[z.base_end] and z.departure - z.base_end <= p.departure_bars
        after = range(z.departure + 1, len(c))
        broken = [i for i in after if (c[i] < z.low if z.kind == "demand" else c[i] > z.high)]
        assert z.invalidated_at == (broken[0] if broken else None)
        end = broken[0] if broken else len(c)
        touched = [i for i in range(z.departure + 1, end) if (lo[i] <= z.high if z.kind == "demand" else h[i] >= z.low)]
        assert (z.status == "fresh") == (not broken and not touched)
    assert all(z.status != "invalidated" for z in active_zones(zones))


def test_stricter_k_finds_a_subset(spy: pd.DataFrame) -> None:
    loose = find_zones(spy.open, spy.high, spy.low, spy.close, ZoneParams(k=1.0))
    strict = find_zones(spy.open, spy.high, spy.low, spy.close, ZoneParams(k=2.5))
    assert len(strict) < len(loose)
    assert all(z.strength >= 2.5 for z in strict)


def test_distance_and_bad_params() -> None:
    zones = find_zones(*([np.full(5, np.nan)] * 4))
    assert zones == []
    from magnus_desktop.analytics.zones import Zone

    demand = Zone("demand", 90.0, 95.0, 0, 0, 1, 2.0, "fresh", 0, None)
    pct, in_atr = zone_distance(demand, 100.0, 2.5)
    assert pct == pytest.approx(0.05) and in_atr == pytest.approx(2.0)
    assert zone_distance(demand, 92.0, 2.5) == (0.0, 0.0)
    with pytest.raises(ValueError):
        ZoneParams(max_base=7)
