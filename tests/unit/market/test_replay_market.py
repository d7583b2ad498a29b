"""ReplayMarket: the bundled recordings behind the async MarketData seam, multi-underlying."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import OptionQuote, PriceQuote
from magnus_desktop.services.market.protocols import MarketData, NoData, UnknownSymbol
from magnus_desktop.services.market.recorded import BUNDLED_BAR_FILES, ReplayMarketData
from magnus_desktop.services.market.replay import ReplayMarket
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

DAY = date(2018, 1, 26)
CLOSE_UTC = datetime(2018, 1, 26, 21, 0, tzinfo=UTC)  # 16:00 EST


def _file_row(symbol: str, day: date) -> pd.Series:
    """The row of the bundled CSV for ``day``, read straight from the file (not through our reader)."""
    raw = pd.read_csv(DATA_RESOURCES_DIR / BUNDLED_BAR_FILES[symbol])
    raw.columns = [c.lower() for c in raw.columns]
    return raw[raw["date"] == day.isoformat()].iloc[0]


@pytest.fixture
def market(replay_data: ReplayMarketData, executor: ThreadPoolExecutor) -> ReplayMarket:
    return ReplayMarket(replay_data, executor, day=DAY)


def test_is_a_market_data_source(market: ReplayMarket) -> None:
    assert isinstance(market, MarketData)


@pytest.mark.asyncio
async def test_spy_is_an_underlying_with_the_pandas_ta_close(market: ReplayMarket) -> None:
    row = _file_row("SPY", DAY)
    quote = await market.underlying_price("SPY")
    assert isinstance(quote, PriceQuote)
    assert quote.last == pytest.approx(float(row["close"]))
    assert quote.volume == pytest.approx(float(row["volume"]))
    assert quote.prev_close == pytest.approx(float(_file_row("SPY", date(2018, 1, 25))["close"]))
    assert (quote.source, quote.as_of) == ("replay", CLOSE_UTC)
    assert math.isnan(quote.bid) and math.isnan(quote.ask)


@pytest.mark.asyncio
async def test_every_bundled_series_is_an_underlying_with_its_real_age(market: ReplayMarket) -> None:
    aapl = await market.underlying_price("NASDAQ:aapl")
    # the AAPL file ends 2018-01-19: the quote says so instead of pretending to be from the 26th
    assert aapl.as_of == datetime(2018, 1, 19, 21, 0, tzinfo=UTC)
    assert aapl.last == pytest.approx(float(_file_row("AAPL", date(2018, 1, 19))["close"]))
    vix = await market.underlying_price("^VIX")
    assert vix.symbol == "VIX" and vix.last == pytest.approx(float(_file_row("VIX", DAY)["close"]))
    assert math.isnan(vix.volume)
    spx = await market.underlying_price("SPXW")
    chain = await market.chain("SPXW")
    assert spx.last == pytest.approx(float(chain["und_price"].iloc[0]))


@pytest.mark.asyncio
async def test_unknown_symbol_and_day_before_the_series(market: ReplayMarket) -> None:
    with pytest.raises(UnknownSymbol, match="known symbols: .*SPY"):
        await market.underlying_price("TSLA")
    with pytest.raises(NoData, match="starts 1999-11-01"):
        await market.underlying_price("SPY", date(1990, 1, 2))


@pytest.mark.asyncio
async def test_option_quote_is_typed_and_matches_the_recorded_chain(market: ReplayMarket) -> None:
    chain = await market.chain("SPX")
    row = chain[(chain["right"] == "P") & (chain["volume"] > 0)].iloc[0]
    contract = OptionContract("SPXW", row["expiry"].date(), float(row["strike"]), "P")
    quote = await market.option_quote(contract)
    assert isinstance(quote, OptionQuote)
    assert (quote.bid, quote.ask, quote.volume, quote.open_interest) == (
        row["bid"], row["ask"], row["volume"], row["open_interest"]
    )
    assert quote.und_price == row["und_price"]
    assert (quote.source, quote.as_of) == ("replay", CLOSE_UTC)
    with pytest.raises(NoData, match="not quoted on 2018-01-26"):
        await market.option_quote(OptionContract("SPXW", contract.expiry, 1234.5, "P"))
    with pytest.raises(NoData, match="no option quotes for AAPL"):
        await market.option_quote(OptionContract("AAPL", contract.expiry, 150.0, "P"))


@pytest.mark.asyncio
async def test_chain_only_for_spx_with_a_message_naming_what_exists(market: ReplayMarket) -> None:
    with pytest.raises(NoData, match=r"no option chain for 'SPY'.*SPXW.*2018-01-02 \.\. 2018-02-28"):
        await market.chain("SPY")
    with pytest.raises(UnknownSymbol):
        await market.chain("XYZ")
    with pytest.raises(NoData, match="not a replay day"):
        await market.chain("SPXW", date(2019, 1, 2))


@pytest.mark.asyncio
async def test_bars_daily_only(market: ReplayMarket) -> None:
    bars = await market.bars("GOOG", date(2018, 1, 8), date(2018, 1, 12))
    assert len(bars) == 5 and bars["close"].iloc[-1] == pytest.approx(float(_file_row("GOOG", date(2018, 1, 12))["close"]))
    with pytest.raises(NoData, match="daily bars only"):
        await market.bars("SPY", date(2018, 1, 8), date(2018, 1, 12), "5m")


@pytest.mark.asyncio
async def test_subscribers_get_quotes_when_the_day_advances(market: ReplayMarket) -> None:
    chain = await market.chain("SPXW")
    row = chain[chain["right"] == "C"].iloc[len(chain) // 4]
    contract = OptionContract("SPXW", row["expiry"].date(), float(row["strike"]), "C")
    missing = OptionContract("SPXW", contract.expiry, 1234.5, "C")
    got: list[list[object]] = []
    errors: list[Exception] = []
    market.error.connect(errors.append)

    def broken(_batch: object) -> None:
        raise RuntimeError("a broken panel")

    market.subscribe(["SPY", contract, missing], broken)
    market.subscribe(["SPY", contract, missing], got.append)
    await market.set_day(date(2018, 1, 29))
    assert len(got) == 1, "the broken listener must not silence the other one"
    by_kind = {type(q): q for q in got[0]}
    assert by_kind[PriceQuote].last == pytest.approx(float(_file_row("SPY", date(2018, 1, 29))["close"]))
    assert by_kind[OptionQuote].as_of == datetime(2018, 1, 29, 21, 0, tzinfo=UTC)
    assert len(errors) == 1 and "1234.5" in str(errors[0])
    await market.set_day(date(2018, 1, 30))
    assert len(got) == 2 and len(errors) == 1, "a missing contract is reported once, not every day"
    market.unsubscribe(["SPY", contract, missing], got.append)
    await market.set_day(date(2018, 1, 31))
    assert len(got) == 2
