"""LayeredMarket: ordered fall-through, TTL cache per kind with a fake clock, shared in-flight requests."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from tenacity import wait_none

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import DataSource, OptionQuote, PriceQuote
from magnus_desktop.services.market.layered import LayeredMarket
from magnus_desktop.services.market.protocols import (
    MarketData,
    NoData,
    QuoteListener,
    SourceOffline,
    UnknownSymbol,
)
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.market.replay import ReplayMarket
from magnus_desktop.services.market.yahoo import YahooMarket
from tests.unit.market.fake_yahoo import LoopbackSession

AS_OF = datetime(2018, 1, 26, 21, 0, tzinfo=UTC)


class Scripted:
    """A MarketData source answering from a script: a price, or an error to raise; counts calls."""

    def __init__(self, source: DataSource, answer: float | Exception, gate: asyncio.Event | None = None) -> None:
        self.source = source
        self.answer = answer
        self.gate = gate
        self.calls: list[str] = []

    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        self.calls.append(symbol)
        if self.gate is not None:
            await self.gate.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return PriceQuote(symbol, self.answer, math.nan, math.nan, math.nan, math.nan, self.source, AS_OF)

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        raise NoData("scripted source has no options")

    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        raise NoData("scripted source has no chains")

    async def bars(self, symbol: str, start: date, end: date, interval: str = "1d") -> pd.DataFrame:
        raise NoData("scripted source has no bars")

    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        self.listener = listener

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        self.listener = None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_first_source_that_answers_wins_in_order() -> None:
    broker = Scripted("ib", SourceOffline("TWS not running"))
    yahoo = Scripted("yfinance", NoData("empty payload"))
    replay = Scripted("replay", 286.58)
    spare = Scripted("paper", 1.0)
    market = LayeredMarket([broker, yahoo, replay, spare])
    assert isinstance(market, MarketData)
    quote = await market.underlying_price("SPY")
    assert (quote.source, quote.last, quote.as_of) == ("replay", 286.58, AS_OF)
    assert (broker.calls, yahoo.calls, replay.calls, spare.calls) == (["SPY"], ["SPY"], ["SPY"], [])
    market.set_sources([spare, replay])
    assert (await market.underlying_price("SPY")).source == "paper"


@pytest.mark.asyncio
async def test_no_answer_names_every_source() -> None:
    offline = LayeredMarket([Scripted("ib", SourceOffline("down")), Scripted("yfinance", SourceOffline("no network"))])
    with pytest.raises(SourceOffline, match="ib: down; yfinance: no network"):
        await offline.underlying_price("SPY")
    unknown = LayeredMarket([Scripted("yfinance", UnknownSymbol("no ZZZ")), Scripted("replay", UnknownSymbol("no ZZZ"))])
    with pytest.raises(UnknownSymbol):
        await unknown.underlying_price("ZZZ")
    mixed = LayeredMarket([Scripted("yfinance", SourceOffline("down")), Scripted("replay", NoData("before 1999"))])
    with pytest.raises(NoData, match="replay: before 1999"):
        await mixed.underlying_price("SPY")


@pytest.mark.asyncio
async def test_ttl_expiry_and_hit_rate_with_a_fake_clock() -> None:
    clock = FakeClock()
    src = Scripted("yfinance", 100.0)
    market = LayeredMarket([src], ttls={"quote": 10.0}, clock=clock)
    await market.underlying_price("SPY")
    clock.now += 9.9
    await market.underlying_price("spy")  # same key: symbols are case-insensitive
    assert len(src.calls) == 1
    clock.now += 0.2  # 10.1 s after the first fetch: expired
    src.answer = 101.0
    assert (await market.underlying_price("SPY")).last == 101.0
    assert len(src.calls) == 2
    stats = market.stats["quote"]
    assert (stats.hits, stats.misses) == (1, 2)
    assert stats.hit_rate == pytest.approx(1 / 3)
    assert market.stats["chain"].hit_rate == 0.0


@pytest.mark.asyncio
async def test_errors_are_not_cached() -> None:
    src = Scripted("yfinance", SourceOffline("down"))
    market = LayeredMarket([src], clock=FakeClock())
    with pytest.raises(SourceOffline):
        await market.underlying_price("SPY")
    src.answer = 100.0
    assert (await market.underlying_price("SPY")).last == 100.0


@pytest.mark.asyncio
async def test_concurrent_identical_requests_share_one_call() -> None:
    gate = asyncio.Event()
    src = Scripted("yfinance", 100.0, gate=gate)
    market = LayeredMarket([src], clock=FakeClock())
    tasks = [asyncio.create_task(market.underlying_price("SPY")) for _ in range(5)]
    other = asyncio.create_task(market.underlying_price("QQQ"))
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set()
    quotes = await asyncio.gather(*tasks, other)
    assert src.calls == ["SPY", "QQQ"]
    assert [q.last for q in quotes] == [100.0] * 6
    assert (market.stats["quote"].misses, market.stats["quote"].shared) == (2, 4)


@pytest.mark.asyncio
async def test_subscription_prefers_the_higher_source() -> None:
    clock = FakeClock()
    top, low = Scripted("ib", 1.0), Scripted("replay", 1.0)
    market = LayeredMarket([top, low], ttls={"quote": 5.0}, clock=clock)
    got: list[list[object]] = []
    market.subscribe(["SPY"], got.append)
    q = lambda src: PriceQuote("SPY", 1.0, math.nan, math.nan, math.nan, math.nan, src, AS_OF)  # noqa: E731
    top.listener([q("ib")])
    low.listener([q("replay")])  # dropped: ib delivered SPY within the quote TTL
    clock.now += 6
    low.listener([q("replay")])  # ib went quiet: the lower source fills in
    assert [b[0].source for b in got] == ["ib", "replay"]  # type: ignore[attr-defined]
    market.unsubscribe(["SPY"], got.append)
    assert top.listener is None and low.listener is None


@pytest.mark.asyncio
async def test_yahoo_offline_falls_through_to_the_replay(
    closed_port_session: LoopbackSession, replay_data: ReplayMarketData, executor: ThreadPoolExecutor
) -> None:
    """Real parts: yfinance refused at the socket, the bundled replay answers with its label."""
    yahoo = YahooMarket(session=closed_port_session, attempts=1, retry_wait=wait_none())
    replay = ReplayMarket(replay_data, executor, day=date(2018, 1, 26))
    market = LayeredMarket([yahoo, replay])
    quote = await market.underlying_price("SPY", date(2018, 1, 26))
    assert (quote.source, quote.as_of) == ("replay", AS_OF)
    assert quote.last == pytest.approx(replay_data.bars("SPY", date(2018, 1, 26), date(2018, 1, 26))["close"].iloc[0])
    assert yahoo.state == "offline"
    await yahoo.aclose()


@pytest.mark.asyncio
async def test_last_source_per_kind_names_who_answered_for_the_health_panel() -> None:
    broker = Scripted("ib", SourceOffline("TWS not running"))
    replay = Scripted("replay", 286.58)
    market = LayeredMarket([broker, replay])
    assert market.last_source == {}
    await market.underlying_price("SPY")
    assert market.last_source == {"quote": "replay"}
    broker.answer = 290.0
    await market.underlying_price("QQQ")
    await market.underlying_price("SPY")  # cached: the last uncached answer still names the source
    assert market.last_source["quote"] == "ib"
    assert (market.stats["quote"].hits, market.stats["quote"].misses) == (1, 2)
