"""Option-chain loaders on the bundled SPXW file, the shared-data layouts and broken input."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from magnus_desktop.models.domain import CHAIN_COLUMNS
from magnus_desktop.services.market.chains import (
    REPORT_LINES,
    SKIP_REASONS,
    ChainFormatError,
    QuoteDateNotFoundError,
    chain_for_date,
    load_chain,
    quote_dates,
    read_chain,
)
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

BUNDLED_SPXW = DATA_RESOURCES_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"


def raw_rows(path: Path) -> list[dict[str, str]]:
    """The file read with the csv module, header names stripped (independent of pandas)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(fh)]


def us_date(text: str) -> pd.Timestamp:
    month, day, year = (int(x) for x in text.split("/"))
    return pd.Timestamp(year, month, day)


@pytest.fixture(scope="module")
def spxw() -> pd.DataFrame:
    return load_chain(BUNDLED_SPXW)


def test_bundled_spxw_has_canonical_columns_and_types(spxw: pd.DataFrame) -> None:
    assert tuple(spxw.columns) == CHAIN_COLUMNS
    assert len(spxw) == len(raw_rows(BUNDLED_SPXW))
    for col in ("quote_date", "expiry"):
        assert pd.api.types.is_datetime64_any_dtype(spxw[col])
        assert (spxw[col] == spxw[col].dt.normalize()).all()
    for col in ("und_price", "strike", "bid", "ask", "last", "volume", "open_interest"):
        assert spxw[col].dtype == np.float64, col
    assert set(spxw["right"]) == {"C", "P"}
    assert set(spxw["underlying"]) == {"SPXW"}


def test_bundled_spxw_rows_match_raw_csv(spxw: pd.DataFrame) -> None:
    rows = raw_rows(BUNDLED_SPXW)
    for i in (0, 5000, len(rows) - 1):
        raw, got = rows[i], spxw.iloc[i]
        assert got["quote_date"] == us_date(raw["quotedate"])
        assert got["expiry"] == us_date(raw["expiration"])
        assert got["right"] == raw["type"][0].upper()
        assert got["strike"] == float(raw["strike"])
        assert got["und_price"] == float(raw["underlying_last"])
        assert got["bid"] == float(raw["bid"])
        assert got["open_interest"] == float(raw["openinterest"])


def test_missing_prices_are_nan_never_zero(spxw: pd.DataFrame) -> None:
    rows = raw_rows(BUNDLED_SPXW)
    zero_ask = sum(float(r["ask"]) <= 0 for r in rows)
    zero_last = sum(float(r["last"]) <= 0 for r in rows)
    assert zero_ask > 0 and zero_last > 0  # the file really has such rows
    assert spxw["ask"].isna().sum() == zero_ask
    assert spxw["last"].isna().sum() == zero_last
    assert (spxw["ask"].dropna() > 0).all() and (spxw["last"].dropna() > 0).all()


def test_quote_dates_and_chain_for_date(spxw: pd.DataFrame) -> None:
    days = quote_dates(spxw)
    raw_days = sorted({us_date(r["quotedate"]).date() for r in raw_rows(BUNDLED_SPXW)})
    assert days == raw_days
    latest = chain_for_date(spxw)
    assert set(latest["quote_date"].dt.date) == {days[-1]}
    first = chain_for_date(spxw, days[0])
    assert len(first) == int((spxw["quote_date"].dt.date == days[0]).sum())


def test_date_not_in_chain_names_the_available_range(spxw: pd.DataFrame) -> None:
    with pytest.raises(QuoteDateNotFoundError) as info:
        chain_for_date(spxw, date(2018, 1, 1))  # a holiday: no quotes
    assert isinstance(info.value, ChainFormatError) and isinstance(info.value, KeyError)
    assert "2018-01-02 .. 2018-02-28" in str(info.value)
    assert "2018-01-01" in str(info.value)




def test_historicaloptiondata_layout(shared_data: Path) -> None:
    path = shared_data / "options_chains" / "optopsy_A_agilent_2016-01-05.csv"
    df, rows = load_chain(path), raw_rows(path)
    assert tuple(df.columns) == CHAIN_COLUMNS and len(df) == len(rows)
    assert quote_dates(df) == [date(2016, 1, 5)]  # from the ' DataDate' column (leading space)
    raw, got = rows[7], df.iloc[7]
    assert got["underlying"] == raw["UnderlyingSymbol"] == "A"
    assert got["expiry"] == us_date(raw["Expiration"])
    assert (got["strike"], got["ask"]) == (float(raw["Strike"]), float(raw["Ask"]))
    assert got["und_price"] == pytest.approx(40.55)


def test_cboe_eod_layout_uses_root_and_underlying_mid(shared_data: Path) -> None:
    path = shared_data / "options_chains" / "optopsy_VIX_options_cboe_2016-06-01.csv"
    df, rows = load_chain(path), raw_rows(path)
    assert len(df) == len(rows)
    assert set(df["underlying"]) == {r["root"] for r in rows} == {"VIX", "BVZ"}
    for i in (0, 400, len(rows) - 1):
        raw, got = rows[i], df.iloc[i]
        mid = (float(raw["underlying_bid_eod"]) + float(raw["underlying_ask_eod"])) / 2
        assert got["und_price"] == pytest.approx(mid)
        assert got["bid"] == float(raw["bid_eod"])
        assert got["right"] == raw["option_type"]
    assert (df["expiry"] == df["quote_date"]).sum() == sum(r["expiration"] == r["quote_date"] for r in rows)


def test_yfinance_layout_many_tickers_and_dates(shared_data: Path) -> None:
    path = shared_data / "options_chains" / "options_screener_yf_chain_history_2026-08.csv"
    df, rows = load_chain(path), raw_rows(path)
    assert len(df) == len(rows) and df["last"].isna().all()
    assert quote_dates(df) == sorted({date.fromisoformat(r["date"]) for r in rows})
    dte = (df["expiry"] - df["quote_date"]).dt.days.to_numpy()
    assert (dte == np.array([int(r["dte"]) for r in rows])).all()  # vendor's own dte column
    day = chain_for_date(df, date(2026, 8, 20))
    assert set(day["underlying"]) == {r["ticker"] for r in rows if r["date"] == "2026-08-20"}


def write(tmp_path: Path, text: str | bytes, name: str = "chain.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


SPXW_HEADER = "underlying,underlying_last, exchange,optionroot,optionext,type,expiration,quotedate,strike,last,bid,ask,volume,openinterest"
GOOD_ROW = "SPXW,2695.79,W,X,,put,01/31/2018,01/02/2018,2600,3.1,3.0,3.2,10,100"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\xffbinary\x00" * 50, "not a text CSV"),
        ("\ufeff" + SPXW_HEADER + "\r\n", "no data rows"),
    ],
)
def test_unusable_files_raise_chain_format_error(tmp_path: Path, content: bytes | str, expected: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ChainFormatError, match=expected) as info:
        load_chain(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ChainFormatError, match="file not found"):
        load_chain(tmp_path / "nope.csv")


def test_unknown_layout_names_closest_layout_and_missing_columns(tmp_path: Path) -> None:
    header = SPXW_HEADER.replace(",bid,ask", ",bidprice,ask")
    path = write(tmp_path, header + "\n" + GOOD_ROW + "\n")
    with pytest.raises(ChainFormatError) as info:
        load_chain(path)
    msg = str(info.value)
    assert "closest is 'optopsy'" in msg and "missing columns: bid" in msg and str(path) in msg


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        (GOOD_ROW.replace("01/02/2018", "2018-13-45"), "quote_date"),
        (GOOD_ROW.replace("01/31/2018", ""), "expiry"),
        (GOOD_ROW.replace(",put,", ",straddle,"), "right"),
    ],
)
def test_bad_required_value_reports_line(tmp_path: Path, bad_row: str, column: str) -> None:
    path = write(tmp_path, "\n".join([SPXW_HEADER, GOOD_ROW, GOOD_ROW, bad_row, GOOD_ROW]) + "\n")
    with pytest.raises(ChainFormatError, match=rf"bad {column}.*line 4"):
        load_chain(path)


def test_bad_required_value_line_counts_blank_lines(tmp_path: Path) -> None:
    bad = GOOD_ROW.replace("01/02/2018", "2018-01-02")
    path = write(tmp_path, "\n".join([SPXW_HEADER, GOOD_ROW, "", "", bad]) + "\n")
    with pytest.raises(ChainFormatError, match=r"bad quote_date value at line 5 \('2018-01-02'\)"):
        load_chain(path)


def test_bad_optional_number_becomes_nan(tmp_path: Path) -> None:
    other = GOOD_ROW.replace(",2600,", ",2605,").replace(",3.0,3.2,", ",n/a,3.2,")
    path = write(tmp_path, "\n".join([SPXW_HEADER, GOOD_ROW, other]) + "\n")
    df = load_chain(path)
    assert df["bid"].iloc[0] == 3.0 and np.isnan(df["bid"].iloc[1])
    assert df["right"].tolist() == ["P", "P"]


def test_chain_for_date_accepts_a_timestamp(spxw: pd.DataFrame) -> None:
    by_stamp = chain_for_date(spxw, pd.Timestamp("2018-02-05 15:30"))
    assert len(by_stamp) == len(chain_for_date(spxw, date(2018, 2, 5))) > 0


def spxw_row(strike: float, bid: str = "3.0", ask: str = "3.2", last: str = "3.1", und: str = "2695.79",
             expiry: str = "01/31/2018", quote: str = "01/02/2018") -> str:
    return f"SPXW,{und},W,X,,put,{expiry},{quote},{strike},{last},{bid},{ask},10,100"


def test_invalid_rows_are_skipped_and_reported_with_file_lines(tmp_path: Path) -> None:
    lines = [
        SPXW_HEADER,                                  # line 1
        spxw_row(2600),                               # 2 valid
        spxw_row(2605, bid="-0.5"),                   # 3 negative bid
        "",                                           # 4 blank: ignored, still counts as a line
        spxw_row(2610, bid="3.5", ask="3.2"),         # 5 bid > ask
        spxw_row(2615, expiry="12/29/2017"),          # 6 expiry before quote date
        spxw_row(2620, ask="inf"),                    # 7 infinite ask
        spxw_row(-5),                                 # 8 negative strike
        spxw_row(2625, und="nan"),                    # 9 NaN underlying price
        spxw_row(2630, last="-1"),                    # 10 negative last
        spxw_row(2635, bid="0.05", ask="0"),          # 11 valid: ask 0 = no offer (NaN), not bid > ask
        spxw_row(2640, bid="", ask=""),               # 12 valid: missing quotes are NaN
        spxw_row(float("nan")),                       # 13 NaN strike
    ]
    loaded = read_chain(write(tmp_path, "\n".join(lines) + "\n"))
    got = {s.reason: (s.count, s.lines) for s in loaded.report.skipped}
    assert got == {
        "bad_strike": (2, (8, 13)), "bad_und_price": (1, (9,)), "expiry_before_quote_date": (1, (6,)),
        "infinite_price": (1, (7,)), "negative_price": (2, (3, 10)), "bid_above_ask": (1, (5,)),
    }
    assert [s.reason for s in loaded.report.skipped] == list(SKIP_REASONS)
    frame = loaded.frame
    assert frame["strike"].tolist() == [2600.0, 2635.0, 2640.0]
    assert np.isnan(frame["ask"].iloc[1]) and frame["bid"].iloc[1] == 0.05
    assert loaded.report.rows_read == 11 and loaded.report.rows_kept == 3  # 12 lines, 1 blank
    messages = loaded.report.messages()
    assert any("skipped 1 row, bid > ask: line 5" in m for m in messages)


def test_a_row_with_several_problems_counts_once(tmp_path: Path) -> None:
    rows = [SPXW_HEADER, spxw_row(2600), spxw_row(-1, bid="-2", expiry="12/29/2017")]
    report = read_chain(write(tmp_path, "\n".join(rows) + "\n")).report
    assert [(s.reason, s.count, s.lines) for s in report.skipped] == [("bad_strike", 1, (3,))]


def test_report_keeps_the_first_lines_and_counts_the_rest(tmp_path: Path) -> None:
    bad = [spxw_row(2000 + i, bid="9", ask="1") for i in range(REPORT_LINES + 5)]
    report = read_chain(write(tmp_path, "\n".join([SPXW_HEADER, spxw_row(2600), *bad]) + "\n")).report
    (skipped,) = report.skipped
    assert skipped.count == REPORT_LINES + 5
    assert skipped.lines == tuple(range(3, 3 + REPORT_LINES))
    assert report.messages()[0].endswith("and 5 more")


def test_duplicates_are_dropped_first_kept_and_reported(tmp_path: Path) -> None:
    rows = [
        SPXW_HEADER,
        spxw_row(2600),                    # 2
        spxw_row(2605),                    # 3
        spxw_row(2600),                    # 4 exact copy of line 2
        spxw_row(2605, bid="2.9"),         # 5 same contract as line 3, other bid
        spxw_row(2600, quote="01/03/2018"),  # 6 same contract, next quote date: not a duplicate
        spxw_row(2600),                    # 7 copy of line 2 again
    ]
    loaded = read_chain(write(tmp_path, "\n".join(rows) + "\n"))
    dup = loaded.report.duplicates
    assert (dup.count, dup.differing, dup.lines) == (3, 1, (4, 5, 7))
    frame = loaded.frame
    assert len(frame) == 3 and not frame.duplicated(["quote_date", "strike"]).any()
    assert frame.loc[frame["strike"] == 2605, "bid"].tolist() == [3.0]  # the first copy wins
    assert any("dropped 3 rows" in m and "lines 4, 5, 7" in m for m in loaded.report.messages())


def test_invalid_first_copy_does_not_hide_a_valid_second(tmp_path: Path) -> None:
    rows = [SPXW_HEADER, spxw_row(2600, bid="5", ask="1"), spxw_row(2600)]
    loaded = read_chain(write(tmp_path, "\n".join(rows) + "\n"))
    assert loaded.frame["bid"].tolist() == [3.0] and loaded.report.duplicates.count == 0


def test_chain_with_no_valid_rows_raises(tmp_path: Path) -> None:
    rows = [SPXW_HEADER, spxw_row(2600, bid="5", ask="1"), spxw_row(2605, expiry="12/01/2017")]
    path = write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(ChainFormatError) as info:
        read_chain(path)
    msg = str(info.value)
    assert "no valid rows" in msg and str(path) in msg and "1 bid > ask" in msg and "\n" not in msg


def test_load_chain_logs_what_it_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [SPXW_HEADER, spxw_row(2600), spxw_row(2600), spxw_row(2605, bid="5", ask="1")]
    with caplog.at_level("WARNING", logger="magnus_desktop.services.market.chains"):
        frame = load_chain(write(tmp_path, "\n".join(rows) + "\n"))
    assert len(frame) == 1
    text = caplog.text
    assert "bid > ask: line 4" in text and "dropped 1 row" in text and "line 3" in text


def test_clean_files_report_nothing(spxw: pd.DataFrame, tmp_path: Path) -> None:
    report = read_chain(BUNDLED_SPXW).report
    assert report.skipped == () and report.duplicates.count == 0
    assert report.rows_read == report.rows_kept == len(spxw) and report.messages() == []


def test_padded_values_load_like_unpadded_ones(tmp_path: Path) -> None:
    """Blanks around values are stripped (only padded columns are, for speed): same frame as the original."""
    source = Path(__file__).resolve().parents[2] / "resources/data/options_chains/optopsy_SPXW_2018_monthlies.csv"
    lines = source.read_text(encoding="utf-8-sig").splitlines()[:60]
    plain, padded = tmp_path / "plain.csv", tmp_path / "padded.csv"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    padded.write_text("\n".join([lines[0]] + [",".join(f"  {v}\t" if i % 2 else f" {v}" for i, v in enumerate(ln.split(",")))
                                             for ln in lines[1:]]) + "\n", encoding="utf-8")
    expected = load_chain(plain)
    assert len(expected) == 59
    pd.testing.assert_frame_equal(load_chain(padded), expected)
