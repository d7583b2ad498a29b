"""YahooMarket against a local fake Yahoo (real yfinance 1.7 + curl_cffi, loopback only).

Payload shapes and their sources are described in ``fake_yahoo.py``; the numbers are the bundled
real recordings (pandas-ta SPY bars, optopsy SPXW chain of 2018-01-26) reshaped into Yahoo's JSON.
Why this seam: yfinance routes every request through the session of its ``YfData`` singleton, and
``yf.Ticker(..., session=)`` is its documented way to supply that session. A curl_cffi ``Session``
subclass that only rewrites the destination keeps all of yfinance (handshake, parsing, errors) and
libcurl in the test — monkeypatching ``YfData.get`` (what yfinance's own mocks do) would skip the
HTTP stack whose failures (connection refused) this source must translate.
"""

from __future__ import annotations

import asyncio
import math
import socket
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from curl_cffi import requests as curl_requests
from tenacity import wait_none

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.market.protocols import MarketData, NoData, SourceOffline, UnknownSymbol
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.market.yahoo import YahooMarket
from tests.unit.market.conftest import NetworkBlocked
from tests.unit.market.fake_yahoo import FakeYahoo, LoopbackSession, chart_payload, json_body, options_payload

DAY = date(2018, 1, 26)
CHART = "query2.finance.yahoo.com/v8/finance/chart/"
OPTIONS = "query2.finance.yahoo.com/v7/finance/options/"


@pytest.fixture
def served(fake_yahoo: tuple[FakeYahoo, LoopbackSession], replay_data: ReplayMarketData) -> tuple[FakeYahoo, LoopbackSession]:
    """Fake Yahoo serving SPY's real bars up to 2018-01-26 and the real SPXW chain of that day."""
    server, session = fake_yahoo
    spy = replay_data.bars("SPY", date(2017, 1, 2), DAY)
    chain = replay_data.chain(DAY)
    server.routes[CHART + "SPY"] = lambda p: json_body(chart_payload("SPY", spy, p))

    def options(params: dict[str, str]) -> tuple[int, str, bytes]:
        expiry = pd.Timestamp(int(params["date"]), unit="s").date() if "date" in params else None
        return json_body(options_payload("^SPX", chain, expiry))

    server.routes[OPTIONS + "^SPX"] = options
    return server, session


def _market(session: LoopbackSession, **kwargs: object) -> YahooMarket:
    kwargs.setdefault("attempts", 1)
    return YahooMarket(session=session, retry_wait=wait_none(), **kwargs)  # type: ignore[arg-type]


def test_guard_blocks_the_real_yahoo_host(no_network: list[str]) -> None:
    """The network guard itself: a plain curl_cffi request or a socket to Yahoo never leaves."""
    with curl_requests.Session() as session, pytest.raises(NetworkBlocked):
        session.get("https://query2.finance.yahoo.com/v8/finance/chart/SPY")
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("93.184.215.14", 443))
    assert no_network == [
        "curl URL https://query2.finance.yahoo.com/v8/finance/chart/SPY",
        "socket.connect('93.184.215.14', 443)",
    ]
    no_network.clear()  # expected here; in any other test a blocked attempt fails it at teardown


@pytest.mark.asyncio
async def test_price_is_the_last_close_labelled_delayed(served: tuple[FakeYahoo, LoopbackSession], replay_data: ReplayMarketData) -> None:
    market = _market(served[1])
    assert isinstance(market, MarketData)
    spy = replay_data.bars("SPY", date(2018, 1, 22), DAY)
    quote = await market.underlying_price("SPY")
    assert quote.last == pytest.approx(spy["close"].iloc[-1])
    assert quote.prev_close == pytest.approx(spy["close"].iloc[-2])
    assert quote.volume == pytest.approx(spy["volume"].iloc[-1])
    assert (quote.source, quote.delayed) == ("yfinance", True)
    assert quote.as_of == datetime(2018, 1, 26, 21, 0, tzinfo=UTC)  # Yahoo's regularMarketTime
    assert market.state == "online"
    await market.aclose()


@pytest.mark.asyncio
async def test_bars_and_a_past_close(served: tuple[FakeYahoo, LoopbackSession], replay_data: ReplayMarketData) -> None:
    market = _market(served[1])
    want = replay_data.bars("SPY", date(2018, 1, 16), date(2018, 1, 19))
    bars = await market.bars("SPY", date(2018, 1, 16), date(2018, 1, 19))
    assert list(bars.index.date) == list(want.index.date)
    pd.testing.assert_frame_equal(bars.reset_index(drop=True), want.reset_index(drop=True), check_names=False)
    close = await market.underlying_price("SPY", date(2018, 1, 19))
    assert close.last == pytest.approx(want["close"].iloc[-1])
    assert close.as_of == datetime(2018, 1, 19, 21, 0, tzinfo=UTC)
    await market.aclose()


@pytest.mark.asyncio
async def test_chain_in_chain_columns_with_und_price(served: tuple[FakeYahoo, LoopbackSession], replay_data: ReplayMarketData) -> None:
    market = _market(served[1], max_expiries=2)
    recorded = replay_data.chain(DAY)
    chain = await market.chain("SPX")
    expiries = sorted(recorded["expiry"].unique())[:2]
    want = recorded[recorded["expiry"].isin(expiries)]
    assert len(chain) == len(want)
    assert set(chain["underlying"]) == {"SPXW"}
    assert (chain["und_price"] == recorded["und_price"].iloc[0]).all()
    assert (chain["quote_date"] == pd.Timestamp(DAY)).all()
    merged = chain.merge(want, on=["expiry", "strike", "right"], suffixes=("", "_rec"))
    assert len(merged) == len(want)
    for col in ("bid", "ask", "last", "open_interest"):
        # Yahoo has no "missing" marker: 0 means none, so positive values must match and 0 → NaN
        rec = merged[f"{col}_rec"].where(merged[f"{col}_rec"] > 0) if col != "open_interest" else merged[f"{col}_rec"]
        pd.testing.assert_series_equal(merged[col], rec, check_names=False)
    contract = OptionContract("SPXW", expiries[0].date(), float(merged["strike"].iloc[0]), "C")
    quote = await market.option_quote(contract)
    row = merged[(merged["strike"] == contract.strike) & (merged["right"] == "C") & (merged["expiry"] == expiries[0])].iloc[0]
    assert (quote.bid, quote.ask, quote.und_price) == (row["bid"], row["ask"], row["und_price"])
    assert quote.source == "yfinance" and quote.delayed and math.isnan(quote.iv)
    with pytest.raises(NoData, match="today's option chain only"):
        await market.chain("SPX", date(2018, 1, 2))
    await market.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        (200, "text/html", b"<html><body>Will be right back</body></html>"),
        (200, "application/json", b'{"chart": {"result": [], "error": null}}'),
        (200, "application/json", b"{not json"),
        (200, "application/json", b'{"chart": {"result": [{"meta": {"exchangeTimezoneName": "America/New_York", '
         b'"regularMarketPrice": null, "instrumentType": "ETF"}, "timestamp": [1516977000], '
         b'"indicators": {"quote": [{"open": [null], "high": [null], "low": [null], "close": [null], "volume": [null]}]}}], "error": null}}'),
    ],
    ids=["html", "empty-result", "not-json", "nan-prices"],
)
async def test_empty_or_garbage_gives_no_data_never_nan(fake_yahoo: tuple[FakeYahoo, LoopbackSession], body: tuple[int, str, bytes]) -> None:
    server, session = fake_yahoo
    server.routes[CHART + "JUNK"] = lambda _p: body
    market = _market(session)
    with pytest.raises(NoData):
        await market.underlying_price("JUNK")
    assert market.state == "online", "Yahoo answered: garbage is not an outage"
    await market.aclose()


@pytest.mark.asyncio
async def test_empty_option_listing_gives_no_data_and_unknown_symbol(fake_yahoo: tuple[FakeYahoo, LoopbackSession]) -> None:
    server, session = fake_yahoo
    market = _market(session)
    with pytest.raises(NoData, match="lists no options for QQQQ"):
        await market.chain("QQQQ")  # the fake answers {"optionChain": {"result": []}} like Yahoo
    with pytest.raises(UnknownSymbol, match="NOPE"):
        await market.underlying_price("NOPE")  # 404 with chart.error, as Yahoo answers
    await market.aclose()


@pytest.mark.asyncio
async def test_connection_refused_is_offline_then_back_online(closed_port_session: LoopbackSession, served: tuple[FakeYahoo, LoopbackSession]) -> None:
    market = _market(closed_port_session, attempts=3)
    changes: list[tuple[str, str]] = []
    market.state_changed.connect(lambda state, reason: changes.append((state, reason)))
    with pytest.raises(SourceOffline, match="unreachable"):
        await market.underlying_price("SPY")
    assert market.state == "offline" and changes[0][0] == "offline"
    assert market.calls_started == 3, "a transient error is retried (attempts=3)"
    market._session = served[1]  # the network is back
    assert await market.probe() == "online"
    assert [c[0] for c in changes] == ["offline", "online"]
    await market.aclose()


@pytest.mark.asyncio
async def test_rate_limiter_bounds_the_calls(served: tuple[FakeYahoo, LoopbackSession]) -> None:
    server, session = served
    # 3 calls per minute: the first 3 go at once, the 4th must wait ~20 s for the bucket to drain
    market = _market(session, max_rate=3, rate_period=60)
    tasks = [asyncio.create_task(market.bars("SPY", date(2018, 1, d), date(2018, 1, d))) for d in (16, 17, 18, 19, 22, 23)]
    done: set[asyncio.Task[pd.DataFrame]] = set()
    while len(done) < 3:
        finished, _ = await asyncio.wait(set(tasks) - done, return_when=asyncio.FIRST_COMPLETED)
        done |= finished
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(done) == 3 and market.calls_started == 3
    assert sum(1 for t in tasks if not t.done()) == 3
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await market.aclose()


@pytest.mark.asyncio
async def test_polling_subscription_delivers_quotes(served: tuple[FakeYahoo, LoopbackSession], replay_data: ReplayMarketData) -> None:
    market = _market(served[1], poll_interval=0.01)
    got: asyncio.Queue[list[object]] = asyncio.Queue()
    market.subscribe(["SPY"], got.put_nowait)
    batch = await got.get()
    market.unsubscribe(["SPY"], got.put_nowait)
    assert batch[0].last == pytest.approx(replay_data.bars("SPY", DAY, DAY)["close"].iloc[0])  # type: ignore[attr-defined]
    await market.aclose()
