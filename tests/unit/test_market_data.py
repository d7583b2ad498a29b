"""ReplayMarketData against the bundled real files, each expectation read from the raw CSV here."""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from magnus_desktop.models.domain import CHAIN_COLUMNS, OptionContract
from magnus_desktop.models.market import OptionQuote
from magnus_desktop.services.market import recorded as md
from magnus_desktop.services.market.recorded import (
    MarketDataError,
    NotAReplayDayError,
    ReplayMarketData,
    UnknownSymbolError,
)
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

OHLCV = DATA_RESOURCES_DIR / "ohlcv"
CHAIN_FILE = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
SPY_TA = OHLCV / "pandas-ta_SPY_D_1999-2020.csv"
SPY_YAHOO = OHLCV / "mplfinance_yahoo_SPY_2008-2018.csv"
AAPL = OHLCV / "mplfinance_yahoo_AAPL_2004-2018.csv"
VIX = OHLCV / "datahub_vix-daily_1990-2026.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(fh)]


def _closes(path: Path, date_col: str, close_col: str) -> list[tuple[date, float]]:
    return [(date.fromisoformat(r[date_col]), float(r[close_col])) for r in _rows(path)]


def _mdy(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


@pytest.fixture(scope="module")
def mkt() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


@pytest.fixture(scope="module")
def chain_rows() -> list[dict[str, str]]:
    return _rows(CHAIN_FILE)


def test_spy_quote_matches_raw_pandas_ta_rows(mkt: ReplayMarketData) -> None:
    closes = _closes(SPY_TA, "date", "close")
    i = next(k for k, (d, _) in enumerate(closes) if d == date(2018, 2, 5))
    q = mkt.quote("AMEX:SPY", date(2018, 2, 5))
    assert q is not None and q.as_of == date(2018, 2, 5) and not q.stale
    assert q.last == closes[i][1]
    assert q.prev_close == closes[i - 1][1]
    assert q.change_pct == pytest.approx(closes[i][1] / closes[i - 1][1] - 1)  # decimal, like every _pct
    assert abs(q.change_pct) < 0.5  # a daily SPY move, not a percent figure
    assert q.volume == float(_rows(SPY_TA)[i]["volume"])


def test_spy_uses_one_vendor_where_files_disagree(mkt: ReplayMarketData) -> None:
    ta = dict(_closes(SPY_TA, "date", "close"))
    yahoo = dict(_closes(SPY_YAHOO, "Date", "Close"))
    differing = [d for d in yahoo if d in ta and abs(yahoo[d] - ta[d]) > 0.01]
    assert differing, "the two SPY vendors are known to differ on some days"
    bars = mkt.bars("SPY", min(differing), max(differing))
    for d in differing:
        assert bars.loc[pd.Timestamp(d), "close"] == ta[d]
    full = mkt.bars("spy")
    assert len(full) == len(ta) and full.index[0].date() == min(ta)


def test_weekend_quote_uses_friday_bar(mkt: ReplayMarketData) -> None:
    q = mkt.quote("SPY", date(2018, 2, 4))  # Sunday
    assert q is not None and q.as_of == date(2018, 2, 2) and not q.stale


def test_aapl_goes_stale_on_the_first_session_after_its_file_ends(mkt: ReplayMarketData) -> None:
    last_day, last_close = _closes(AAPL, "Date", "Close")[-1]
    assert last_day == date(2018, 1, 19)  # a Friday
    assert date(2018, 1, 22) in mkt.trading_days()
    for fresh_day in (last_day, date(2018, 1, 20), date(2018, 1, 21)):  # its own day and the weekend
        fresh = mkt.quote("NASDAQ:AAPL", fresh_day)
        assert fresh is not None and fresh.as_of == last_day and not fresh.stale
    for later in (date(2018, 1, 22), date(2018, 1, 23), date(2018, 2, 5)):  # Monday on: no bar for the session
        stale = mkt.quote("aapl", later)
        assert stale is not None and stale.stale, later
        assert stale.as_of == last_day and stale.last == last_close


def test_holiday_and_days_outside_the_replay_calendar(mkt: ReplayMarketData) -> None:
    days = mkt.trading_days()
    mlk = date(2018, 1, 15)  # Martin Luther King Day: exchanges closed, not a replay day
    assert mlk not in days and days[0] < mlk < days[-1]
    holiday = mkt.quote("SPY", mlk)
    assert holiday is not None and holiday.as_of == date(2018, 1, 12) and not holiday.stale
    saturday = mkt.quote("SPY", date(2017, 12, 30))  # before the calendar: weekday rule
    assert saturday is not None and saturday.as_of == date(2017, 12, 29) and not saturday.stale
    after = mkt.quote("GOOG", date(2018, 3, 6))  # after the calendar, a Tuesday
    assert after is not None and after.stale and after.as_of == date(2018, 1, 19)


def test_vix_quote_checks_raw_line_and_has_no_volume(mkt: ReplayMarketData) -> None:
    row = next(r for r in _rows(VIX) if r["DATE"] == "2018-02-05")
    for name in ("VIX", "^VIX", "CBOE:VIX", "TVC:VIX"):
        q = mkt.quote(name, date(2018, 2, 5))
        assert q is not None and q.symbol == "VIX"
        assert q.last == float(row["CLOSE"]) and math.isnan(q.volume)


def test_vix_quirky_rows_are_kept_as_recorded(mkt: ReplayMarketData) -> None:
    quirks = [r for r in _rows(VIX) if float(r["LOW"]) > min(float(r["OPEN"]), float(r["CLOSE"])) + 1e-9]
    assert quirks
    bars = mkt.bars("VIX")
    for r in quirks:
        got = bars.loc[pd.Timestamp(r["DATE"])]
        assert (got["low"], got["close"]) == (float(r["LOW"]), float(r["CLOSE"]))


def test_unknown_symbol(mkt: ReplayMarketData) -> None:
    assert mkt.quote("NASDAQ:ZZZZ", date(2018, 2, 5)) is None
    with pytest.raises(UnknownSymbolError, match="ZZZZ") as info:
        mkt.bars("ZZZZ")
    assert isinstance(info.value, KeyError)
    assert mkt.known_symbols() == {"SPY", "AAPL", "GOOG", "VIX", "SPX"}


def test_quote_at_series_start(mkt: ReplayMarketData) -> None:
    (d0, c0), (d1, c1) = _closes(VIX, "DATE", "CLOSE")[:2]
    assert mkt.quote("VIX", d0 - pd.Timedelta(days=1)) is None
    first, second = mkt.quote("VIX", d0), mkt.quote("VIX", d1)
    assert first is not None and first.last == c0 and math.isnan(first.prev_close)
    assert math.isnan(first.change_pct)
    assert second is not None and (second.last, second.prev_close) == (c1, c0)


def test_bars_range_inclusive_and_typed(mkt: ReplayMarketData) -> None:
    bars = mkt.bars("GOOG", date(2018, 1, 2), date(2018, 1, 5))
    assert list(bars.columns) == list(md.BAR_COLUMNS)
    assert isinstance(bars.index, pd.DatetimeIndex) and bars.index.name == "date"
    assert [d.date() for d in bars.index] == [date(2018, 1, d) for d in (2, 3, 4, 5)]
    bars.loc[:, "close"] = -1.0  # a copy: the cache must not change
    assert (mkt.bars("GOOG", date(2018, 1, 2), date(2018, 1, 5))["close"] > 0).all()


def test_trading_days_are_the_chain_quote_dates(mkt: ReplayMarketData, chain_rows: list) -> None:
    raw_days = sorted({_mdy(r["quotedate"]) for r in chain_rows})
    days = mkt.trading_days()
    assert days == raw_days
    assert (len(days), days[0], days[-1]) == (40, date(2018, 1, 2), date(2018, 2, 28))


def test_chain_of_one_day(mkt: ReplayMarketData, chain_rows: list) -> None:
    day = date(2018, 2, 5)
    raw = [r for r in chain_rows if _mdy(r["quotedate"]) == day]
    chain = mkt.chain(day)
    assert list(chain.columns) == list(CHAIN_COLUMNS)
    assert len(chain) == len(raw)
    assert set(chain["quote_date"].dt.date) == {day}
    assert set(chain["expiry"].dt.date) == {_mdy(r["expiration"]) for r in raw}
    with pytest.raises(NotAReplayDayError, match="2018-01-02"):
        mkt.chain(date(2018, 2, 3))


def test_und_price_and_spx_bars(mkt: ReplayMarketData, chain_rows: list) -> None:
    raw = {_mdy(r["quotedate"]): float(r["underlying_last"]) for r in chain_rows}
    spx = mkt.bars("SP:SPX")
    assert [d.date() for d in spx.index] == sorted(raw)
    assert spx["close"].tolist() == [raw[d] for d in sorted(raw)]
    assert spx[["open", "high", "low", "volume"]].isna().all().all()
    assert mkt.und_price(date(2018, 1, 2)) == raw[date(2018, 1, 2)]
    assert math.isnan(mkt.und_price(date(2018, 1, 6)))
    q = mkt.quote("SPX", date(2018, 2, 5))
    assert q is not None and q.last == raw[date(2018, 2, 5)] and q.prev_close == raw[date(2018, 2, 2)]


def test_option_quote_matches_raw_row(mkt: ReplayMarketData, chain_rows: list) -> None:
    row = next(
        r
        for r in chain_rows
        if r["quotedate"] == "02/05/2018" and r["type"] == "call" and float(r["bid"]) > 50
    )
    contract = OptionContract("SPXW", _mdy(row["expiration"]), float(row["strike"]), "C")
    q = mkt.option_quote(contract, date(2018, 2, 5))
    assert isinstance(q, OptionQuote) and q.contract == contract
    assert (q.bid, q.ask, q.last, q.und_price) == (
        float(row["bid"]),
        float(row["ask"]),
        float(row["last"]),
        float(row["underlying_last"]),
    )
    assert (q.volume, q.open_interest) == (float(row["volume"]), float(row["openinterest"]))
    # labelled: the replay, true at the 16:00 New York close of the quote date
    assert q.source == "replay" and q.as_of == datetime(2018, 2, 5, 21, 0, tzinfo=UTC)


def test_option_quote_not_quoted_is_nan(mkt: ReplayMarketData) -> None:
    odd_strike = OptionContract("SPXW", date(2018, 2, 28), 2601.0, "P")
    q = mkt.option_quote(odd_strike, date(2018, 2, 5))
    assert math.isnan(q.bid) and math.isnan(q.ask) and math.isnan(q.last) and q.und_price > 0
    assert math.isnan(q.mid) and q.source == "replay"
    expired = OptionContract("SPXW", date(2018, 1, 31), 2700.0, "P")
    e = mkt.option_quote(expired, date(2018, 2, 5))
    assert all(math.isnan(x) for x in (e.bid, e.ask, e.last))
    off = mkt.option_quote(OptionContract("SPXW", date(2018, 2, 28), 2700.0, "P"), date(2018, 2, 3))
    assert all(math.isnan(x) for x in (off.bid, off.ask, off.last, off.volume, off.open_interest, off.und_price))


def test_provenance_from_json(mkt: ReplayMarketData) -> None:
    records = {r["file"]: r for r in json.loads((DATA_RESOURCES_DIR / "provenance.json").read_text())}
    for symbol, rel in [("SPY", md.BUNDLED_BAR_FILES["SPY"]), ("SP:SPX", md.BUNDLED_CHAIN_FILE)]:
        text = mkt.provenance(symbol)
        assert rel in text and records[rel]["repo"] in text and records[rel]["path"] in text
    with pytest.raises(UnknownSymbolError):
        mkt.provenance("ZZZZ")


# ---------------------------------------------------------------- malformed resources
def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


def test_resources_are_loaded_lazily(tmp_path: Path) -> None:
    mkt = ReplayMarketData(tmp_path / "nochain.csv", {"SPY": tmp_path / "nospy.csv"})
    with pytest.raises(MarketDataError, match="nospy.csv"):
        mkt.bars("SPY")
    with pytest.raises(MarketDataError, match="nochain.csv"):
        mkt.trading_days()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Date,Open,High,Close\n2018-01-02,1,2,1.5\n", "missing columns: low"),
        ("Date,Open,High,Low,Close\n2018-13-02,1,2,1,1.5\n", "bad date at line 2"),
        ("Date,Open,High,Low,Close\n2018-01-02,1,2,1,1.5\n2018-01-03,1,2,1,null\n", "bad close at line 3"),
        ("Date,Open,High,Low,Close\n2018-01-02,1,2,1,1.5\n2018-01-02,1,2,1,1.6\n", "duplicate date"),
        ("Date,Open,High,Low,Close\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a readable CSV"),
    ],
)
def test_malformed_bar_file(tmp_path: Path, content: str | bytes, message: str) -> None:
    mkt = ReplayMarketData(CHAIN_FILE, {"XYZ": _write(tmp_path, "xyz.csv", content)})
    with pytest.raises(MarketDataError, match=message):
        mkt.quote("XYZ", date(2018, 1, 5))


def test_malformed_chain_file(tmp_path: Path) -> None:
    bad = _write(tmp_path, "chain.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(MarketDataError, match="chain.csv"):
        ReplayMarketData(bad, {}).chain(date(2018, 1, 2))


def test_malformed_provenance(tmp_path: Path) -> None:
    prov = _write(tmp_path, "provenance.json", '{"file": 1}')
    mkt = ReplayMarketData(CHAIN_FILE, {"SPY": SPY_TA}, prov)
    with pytest.raises(MarketDataError, match="provenance.json"):
        mkt.provenance("SPY")
    assert "no provenance record" in ReplayMarketData(CHAIN_FILE, {"SPY": SPY_TA}).provenance("SPY")


def test_concurrent_first_calls_read_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = md._read_bar_file

    def slow_read(path: Path) -> pd.DataFrame:
        calls.append(threading.get_ident())
        time.sleep(0.05)
        return real(path)

    monkeypatch.setattr(md, "_read_bar_file", slow_read)
    mkt = ReplayMarketData(CHAIN_FILE, {"SPY": SPY_TA})
    with ThreadPoolExecutor(max_workers=6) as pool:
        quotes = list(pool.map(lambda _: mkt.quote("SPY", date(2018, 2, 5)), range(6)))
    assert len(calls) == 1
    assert len({q.last for q in quotes if q is not None}) == 1
