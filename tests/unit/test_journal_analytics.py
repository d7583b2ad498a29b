"""Decision-journal analytics: outcome linking, the review by tag / setup / p_win bucket, learned
preferences, and the option numbers at the time."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest

from magnus_desktop.analytics import journal as jn
from magnus_desktop.analytics.pricing import bs_greeks, bs_price
from magnus_desktop.analytics.realized import realized_pnl
from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.models.journal import JournalEntry, option_key, parse_tags

PUT = option_key("SPY", date(2024, 1, 19), 450.0, "P")
CALL = option_key("SPY", date(2024, 1, 19), 480.0, "C")


def trade(day: date, key: str, qty: float, price: float, account: str = "A") -> HistoryEvent:
    _cat, und, expiry, strike, right = key.split(":")
    return HistoryEvent(account, "ibkr", f"{day}{key}{qty}", "trade", datetime.combine(day, datetime.min.time()),
                        "OPT", key, und, date.fromisoformat(expiry), float(strike), right,  # type: ignore[arg-type]
                        100.0, qty, price, -qty * price * 100 - 1.0, 1.0, "USD", 1.0, "", "", 1)


def entry(i: int, **kw: object) -> JournalEntry:
    base: dict[str, object] = dict(source="ticket", action="sent", trade_date=date(2024, 1, 2), account="A",
                                   symbol="SPY", contract_keys=(PUT,), id=i)
    base.update(kw)
    return JournalEntry(**base)  # type: ignore[arg-type]


def _link(events: list[HistoryEvent], entries: list[JournalEntry]) -> dict[int, jn.Outcome]:
    report = realized_pnl(events)
    open_qty = {(p.account, p.contract_key): p.open_qty for p in report.positions}
    return {o.entry_id: o for o in jn.link_outcomes(entries, report.matches, open_qty, "history")}


def test_outcome_linked_only_when_the_position_is_closed() -> None:
    opened = [trade(date(2024, 1, 2), PUT, -2, 1.50)]
    half = opened + [trade(date(2024, 1, 10), PUT, 1, 0.40)]
    assert _link(half, [entry(1)]) == {}  # one contract still open: no outcome yet
    closed = half + [trade(date(2024, 1, 12), PUT, 1, 0.20)]
    out = _link(closed, [entry(1)])
    expected = sum(m.realized for m in realized_pnl(closed).matches)
    assert out[1].pnl == pytest.approx(expected)
    assert out[1].pnl == pytest.approx((1.5 - 0.4) * 100 + (1.5 - 0.2) * 100 - 2 * 0.5 - 1.0 - 1.0)  # open fee 0.5 each
    assert out[1].closed_at == datetime(2024, 1, 12)


def test_outcome_needs_every_leg_the_same_account_and_a_later_open() -> None:
    events = [trade(date(2024, 1, 2), PUT, -1, 1.5), trade(date(2024, 1, 5), PUT, 1, 0.5),
              trade(date(2024, 1, 2), CALL, -1, 1.0)]  # the call is still open
    assert _link(events, [entry(1, contract_keys=(PUT, CALL))]) == {}
    assert set(_link(events, [entry(2)])) == {2}
    assert _link(events, [entry(3, account="B")]) == {}  # another account's position
    assert _link(events, [entry(4, trade_date=date(2024, 1, 3))]) == {}  # opened before the decision
    assert _link(events, [entry(5, outcome_pnl=1.0)]) == {}  # already closed: left alone


def test_review_by_tag_setup_and_p_win_bucket() -> None:
    es = [entry(1, tags=("wheel",), strategy="single", p_win=0.85, outcome_pnl=100.0),
          entry(2, tags=("wheel", "earnings"), strategy="single", p_win=0.62, outcome_pnl=-300.0),
          entry(3, tags=(), strategy="vertical", p_win=0.88, outcome_pnl=50.0),
          entry(4, tags=("earnings",), strategy="vertical", p_win=None, outcome_pnl=None)]
    tags = {r.key: r for r in jn.by_tag(es)}
    assert set(tags) == {"wheel", "earnings", "(no tag)"}
    assert (tags["wheel"].entries, tags["wheel"].closed, tags["wheel"].wins) == (2, 2, 1)
    assert tags["wheel"].total_pnl == -200.0 and tags["wheel"].avg_pnl == -100.0
    assert tags["earnings"].closed == 1 and tags["earnings"].win_rate == 0.0
    setups = {r.key: r for r in jn.by_setup(es)}
    assert setups["vertical"].entries == 2 and setups["vertical"].closed == 1 and setups["vertical"].win_rate == 1.0
    buckets = jn.by_p_win(es)
    assert [r.key for r in buckets] == ["60–70 %", "80–90 %", jn.NO_P_WIN]
    assert buckets[1].entries == 2 and buckets[1].total_pnl == 150.0
    assert math.isnan(buckets[2].win_rate)  # nothing closed there


def test_preferences_from_winning_taken_trades() -> None:
    rng = np.random.default_rng(7)
    deltas = rng.uniform(0.08, 0.30, 12)
    dtes = rng.integers(7, 50, 12)
    es = [entry(i, delta=-float(d), dte=int(t), symbol="SPY" if i % 3 else "QQQ", outcome_pnl=100.0)
          for i, (d, t) in enumerate(zip(deltas, dtes, strict=True))]
    es += [entry(100, delta=-0.9, dte=400, outcome_pnl=-50.0),  # a loser: ignored
           entry(101, delta=-0.9, dte=400, outcome_pnl=80.0, action="cancelled"),  # not taken: ignored
           entry(102, delta=-0.9, dte=400, outcome_pnl=None)]  # still open: ignored
    p = jn.derive_preferences(es)
    assert p.ready and p.n == 12 and set(p.entry_ids) == set(range(12))
    low, high = np.percentile(deltas, [25, 75])
    assert p.delta_range == (round(low, 3), round(high, 3))
    dlow, dhigh = np.percentile(dtes, [25, 75])
    assert p.dte_range == (math.floor(dlow), math.ceil(dhigh))
    assert p.underlyings[0] == ("SPY", 8) and p.underlyings[1] == ("QQQ", 4)
    few = jn.derive_preferences(es[:3])
    assert not few.ready and few.delta_range is None and "3 winning" in (few.reason or "")


def test_option_numbers_recover_the_greeks_of_a_bsm_price() -> None:
    day, expiry = date(2024, 1, 2), date(2024, 2, 16)
    t = (expiry - day).days / 365.0
    mid = float(bs_price("P", 470.0, 450.0, t, 0.04, 0.2))
    n = jn.option_numbers("P", 450.0, expiry, day, mid - 0.05, mid + 0.05, 470.0, 0.04)
    g = bs_greeks("P", 470.0, 450.0, t, 0.04, 0.2)
    assert n["iv"] == pytest.approx(0.2, abs=1e-6) and n["delta"] == pytest.approx(float(g.delta), abs=1e-6)
    assert n["theta"] == pytest.approx(float(g.theta), abs=1e-6) and n["dte"] == 45
    no_quote = jn.option_numbers("P", 450.0, expiry, day, float("nan"), float("nan"), 470.0, 0.04)
    assert "delta" not in no_quote and "mid" not in no_quote and "bid" not in no_quote  # missing, never 0


def test_parse_tags() -> None:
    assert parse_tags(" Wheel, high-iv ,, wheel ,") == ("wheel", "high-iv")
    assert parse_tags("") == ()
