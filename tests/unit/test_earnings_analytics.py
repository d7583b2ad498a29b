"""Earnings analytics on real data: bundled AAPL/GOOG bars with the test-only earnings dates
(``../shared/data/earnings``), the Agilent and SPXW chains for the straddle."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from magnus_desktop.analytics.earnings import (
    EarningsError,
    earnings_reactions,
    earnings_risk,
    next_report,
    reaction_summary,
    straddle_move,
)
from magnus_desktop.services.market.chains import load_chain
from magnus_desktop.services.market.recorded import ReplayMarketData

AGILENT = Path(__file__).resolve().parents[1] / "data" / "optopsy_A_agilent_2016-01-05.csv"


@pytest.fixture(scope="module")
def replay() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def _reports(shared: Path, ticker: str) -> list[date]:
    df = pd.read_csv(shared / "earnings" / "daniel-bassett_earnings_1993-2024.csv")
    return [pd.Timestamp(d).date() for d in df.loc[df["ticker"] == ticker, "dates"]]


def test_reactions_are_the_two_session_moves_of_the_bars(shared_data: Path, replay: ReplayMarketData) -> None:
    bars = replay.bars("AAPL")
    reports = _reports(shared_data, "AAPL")
    out = earnings_reactions(bars, reports)
    first, last = bars.index[0].date(), bars.index[-1].date()
    inside = [d for d in reports if first < d < last]
    assert len(out) == len(inside) > 40
    closes = bars["close"]
    for row in out.itertuples():
        before = closes[closes.index < pd.Timestamp(row.report)]
        after = closes[closes.index > pd.Timestamp(row.report)]
        assert row.before == before.index[-1].date() and row.after == after.index[0].date()
        assert row.move == pytest.approx(after.iloc[0] / before.iloc[-1] - 1)
    aug = out[out["report"] == date(2017, 8, 1)].iloc[0]  # after the close on 1 Aug 2017; up on 2 Aug
    assert aug["before"] == date(2017, 7, 31) and aug["after"] == date(2017, 8, 2) and aug["move"] > 0.04
    summary = reaction_summary(out, bars)
    assert summary["n"] == len(out)
    assert summary["mean_abs_move"] > 1.5 * summary["baseline_abs_move"]  # reports move AAPL more than usual days


def test_reactions_skip_dates_outside_the_bars(shared_data: Path, replay: ReplayMarketData) -> None:
    bars = replay.bars("GOOG")  # ends 2018-01-19
    reports = _reports(shared_data, "GOOG")
    out = earnings_reactions(bars, reports)
    assert out["report"].max() < date(2018, 1, 19) and all(d > bars.index[0].date() for d in out["report"])
    assert earnings_reactions(bars, [date(2019, 1, 1)]).empty
    assert reaction_summary(earnings_reactions(bars, []), bars)["n"] == 0
    with pytest.raises(EarningsError, match="close"):
        earnings_reactions(bars.drop(columns=["close"]), reports)


def test_straddle_is_the_atm_call_plus_put_of_the_first_expiry_after_the_report() -> None:
    chain = load_chain(AGILENT)
    move = straddle_move(chain, date(2016, 2, 1))
    assert move is not None and move.expiry == date(2016, 2, 19)
    part = chain[chain["expiry"] == pd.Timestamp("2016-02-19")]
    strikes = sorted(set(part["strike"]))
    nearest = min(strikes, key=lambda k: abs(k - 40.55))
    assert move.strike == nearest
    mid = part.assign(mid=(part["bid"] + part["ask"]) / 2).set_index(["strike", "right"])["mid"]
    assert move.straddle == pytest.approx(mid[(nearest, "C")] + mid[(nearest, "P")])
    assert move.move_pct == pytest.approx(move.straddle / 40.55)
    assert move.lower == pytest.approx(40.55 - move.straddle)
    assert straddle_move(chain, date(2018, 6, 1)) is None  # no expiry after the last one listed


def test_straddle_on_the_spxw_replay(replay: ReplayMarketData) -> None:
    chain = replay.chain(date(2018, 2, 6))
    move = straddle_move(chain)
    assert move is not None and move.expiry == date(2018, 2, 28)
    assert abs(move.strike - chain["und_price"].iloc[0]) <= 5
    with pytest.raises(EarningsError, match="one underlying"):
        straddle_move(pd.concat([chain, chain.assign(underlying="X")]))


def test_earnings_risk_from_the_calendar_snapshots(shared_data: Path) -> None:
    cal = pd.read_csv(shared_data / "earnings" / "options_screener_earnings_calendar_2026-08.csv")
    asof = date(2026, 8, 23)
    snap = cal[cal["asof"] == asof.isoformat()]
    reports = {r.ticker: [date.fromisoformat(r.earnings_date)] for r in snap.itertuples()}
    nvda = reports["NVDA"][0]
    positions = [("NVDA", nvda + timedelta(days=3), "NVDA short put after the report"),
                 ("NVDA", nvda - timedelta(days=1), "NVDA short put before the report"),
                 ("SPXW", date(2026, 9, 30), "index option")]
    out = earnings_risk(positions, reports, asof)
    assert out["at_risk"].tolist() == [True, False, False]
    assert out["days_to_report"].iloc[0] == (nvda - asof).days
    assert not out["known"].iloc[2] and math.isnan(out["days_to_report"].iloc[2])
    # a report on the day shown has happened: the next one (if any) counts
    assert next_report([nvda], nvda) is None and next_report([nvda], asof) == nvda
