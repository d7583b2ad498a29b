"""A real account's positions from the broker's values (no Qt, no server): marks, Greeks, missing quotes."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from magnus_desktop.analytics.pricing import bs_greeks, implied_vol
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import AccountValues, BrokerPosition, OptionQuote, PriceQuote, StockContract
from magnus_desktop.services.portfolio.live import FeedStatus, broker_summary, describe_feed, quote_key
from magnus_desktop.services.settings import Settings

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
PUT = OptionContract("SPXW", date(2026, 3, 20), 5800.0, "P", con_id=42)


def _pos(contract, qty: float, avg: float) -> BrokerPosition:
    return BrokerPosition("DU1", contract, qty, avg, "ib", AT)


def _quote(**kw) -> OptionQuote:
    base = dict(contract=PUT, bid=10.0, ask=11.0, last=10.4, volume=5.0, open_interest=100.0,
                und_price=6000.0, source="ib", as_of=AT)
    return OptionQuote(**(base | kw))


VALUES = AccountValues("DU1", 300_000.0, 250_000.0, 900_000.0, 40_000.0, "USD", "ib", AT)


def test_broker_model_greeks_are_used_and_scaled_to_the_position() -> None:
    q = _quote(iv=0.2, delta=-0.3, gamma=0.001, theta=-0.5, vega=2.0)
    s = broker_summary("IB", [_pos(PUT, -2, 12.0)], VALUES, {quote_key(PUT): q}, TODAY, AT, rate=0.04)
    p = s.positions[0]
    assert p.greeks_source == "IB model" and p.mark == 10.5
    assert p.delta == pytest.approx(-0.3 * -200) and p.theta == pytest.approx(-0.5 * -200)
    assert p.unrealized_pnl == pytest.approx((10.5 - 12.0) * -200)
    # the broker's own totals, not ours
    assert (s.net_liquidation, s.cash, s.buying_power, s.source) == (300_000.0, 250_000.0, 900_000.0, "ib")
    assert math.isnan(s.realized_pnl)


def test_without_broker_greeks_ours_are_computed_from_the_mid_and_labelled_model() -> None:
    s = broker_summary("IB", [_pos(PUT, -1, 12.0)], VALUES, {quote_key(PUT): _quote()}, TODAY, AT, rate=0.04)
    p = s.positions[0]
    t = (PUT.expiry - TODAY).days / 365.0
    iv = float(implied_vol(10.5, "P", 6000.0, 5800.0, t, 0.04, 0.0))
    assert p.greeks_source == "model"
    assert p.iv == pytest.approx(iv)
    assert p.delta == pytest.approx(float(bs_greeks("P", 6000.0, 5800.0, t, 0.04, iv, 0.0).delta) * -100)


def test_a_missing_quote_stays_missing_never_zero() -> None:
    spy = StockContract("SPY")
    s = broker_summary("IB", [_pos(PUT, -1, 12.0), _pos(spy, 10, 500.0)], VALUES, {}, TODAY, AT, rate=0.04)
    for p in s.positions:
        assert math.isnan(p.mark) and math.isnan(p.market_value) and math.isnan(p.unrealized_pnl)
        assert p.as_of is None
    assert math.isnan(s.market_value) and math.isnan(s.unrealized_pnl)
    assert math.isnan(s.positions[0].delta)  # no quote, no underlying: no Greeks either


def test_shares_are_marked_at_the_last_price_with_delta_in_shares() -> None:
    spy = StockContract("SPY")
    q = PriceQuote("SPY", 510.0, 509.9, 510.1, 505.0, 1e6, "ib", AT)
    (p,) = broker_summary("IB", [_pos(spy, 10, 500.0)], None, {"SPY": q}, TODAY, AT, rate=0.04).positions
    assert (p.mark, p.market_value, p.unrealized_pnl, p.delta) == (510.0, 5100.0, 100.0, 10.0)


def test_account_values_not_yet_received_are_missing() -> None:
    s = broker_summary("IB", [], None, {}, TODAY, None, rate=0.04, source="ib")
    assert math.isnan(s.net_liquidation) and math.isnan(s.buying_power) and s.source == "ib"


def test_header_says_live_only_while_connected_and_the_age_otherwise() -> None:
    last = datetime(2026, 3, 2, 17, 2, 55, tzinfo=UTC)
    stamp = last.astimezone().strftime("%H:%M:%S")
    live = describe_feed(FeedStatus("IB paper", "ib", "connected", last), last + timedelta(seconds=1))
    assert live == f"IB paper (IB) — live, as of {stamp}"
    stale = describe_feed(FeedStatus("IB paper", "ib", "reconnecting", last), last + timedelta(seconds=9))
    assert stale == f"IB paper (IB) — reconnecting — last update {stamp}, 9 s old"
    assert "live" not in describe_feed(FeedStatus("RH", "robinhood", "failed", last), last + timedelta(hours=3))
    assert describe_feed(FeedStatus("RH", "robinhood", "connecting", None), last) == \
        "RH (Robinhood) — connecting, nothing received yet"


def test_yfinance_is_off_by_default_and_kept_in_the_settings() -> None:
    assert Settings().market_data.use_yfinance is False
    assert Settings.model_validate({"market_data": {"use_yfinance": True}}).market_data.use_yfinance is True
