"""TradingView watchlist import/export, on real third-party files (test-only) and malformed input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from magnus_desktop.models.domain import WatchlistItem
from magnus_desktop.services.watchlists.tradingview import (
    INVISIBLE_CHARS,
    SkippedEntry,
    WatchlistFormatError,
    decode_watchlist_bytes,
    describe_skipped,
    export_tradingview,
    load_tradingview,
    parse_tradingview,
)

TV_FILES = (
    "metaData_v1_pvb_watchlist_2_20250930.txt",
    "oktrader_oanda_fx_pairs.txt",
    "yezooz_watchlist_AMEX.txt",
)


def _raw_tokens(text: str) -> list[str]:
    """Symbols of a raw file, counted independently of the parser (regex split, no validation)."""
    tokens = [t.strip() for t in re.split(r"[,\r\n]+", text)]
    return [t for t in tokens if t and not t.startswith("###")]


@pytest.mark.parametrize("name", TV_FILES)
def test_real_files_symbols_and_sections(shared_data: Path, name: str) -> None:
    path = shared_data / "tradingview" / name
    raw = path.read_text(encoding="utf-8")
    tokens = _raw_tokens(raw)
    parsed = load_tradingview(path)

    assert parsed.name_hint == path.stem
    assert parsed.skipped == ()
    assert [f"{i.exchange}:{i.symbol}" for i in parsed.items] == list(dict.fromkeys(tokens))
    assert parsed.sections == tuple(re.findall(r"^###(.+?)\s*$", raw, flags=re.M))


def test_pvb_items_belong_to_their_section(shared_data: Path) -> None:
    raw = (shared_data / "tradingview" / TV_FILES[0]).read_text(encoding="utf-8")
    parsed = load_tradingview(shared_data / "tradingview" / TV_FILES[0])
    blocks = re.findall(r"^###(.+)\n(.+)$", raw, flags=re.M)
    assert len(blocks) == 4
    for section, line in blocks:
        expected = [t.strip().split(":")[1] for t in line.split(",") if t.strip()]
        assert [i.symbol for i in parsed.items if i.section == section] == expected
        assert {i.exchange for i in parsed.items if i.section == section} == {"NASDAQ"}


def test_amex_odd_symbols_kept_verbatim(shared_data: Path) -> None:
    raw = (shared_data / "tradingview" / TV_FILES[2]).read_text(encoding="utf-8")
    parsed = load_tradingview(shared_data / "tradingview" / TV_FILES[2])
    odd = [t for t in _raw_tokens(raw) if re.search(r"[\^.]", t)]
    assert "AMEX:ARNC^" in odd and "AMEX:NSPR.WS.B" in odd
    got = {f"{i.exchange}:{i.symbol}" for i in parsed.items}
    assert set(odd) <= got


@pytest.mark.parametrize("name", TV_FILES)
def test_export_round_trip_real_files(shared_data: Path, name: str) -> None:
    parsed = load_tradingview(shared_data / "tradingview" / name)
    again = parse_tradingview(export_tradingview(parsed.items))
    assert again.items == parsed.items
    assert again.sections == parsed.sections


def test_round_trip_with_repeated_sections_and_bare_symbols() -> None:
    items = (
        WatchlistItem("SPX", "SP"),
        WatchlistItem("BRK.B", "NYSE", "Value"),
        WatchlistItem("VIX", "", "Vol"),
        WatchlistItem("KO", "NYSE", "Value"),
    )
    text = export_tradingview(items)
    assert text.splitlines()[0] == "SP:SPX"
    assert text.count("###Value") == 2
    assert parse_tradingview(text).items == items


def test_inline_section_headers_as_tradingview_exports_them() -> None:
    parsed = parse_tradingview("###Indices,SP:SPX,TVC:DJI,###My Stocks,NASDAQ:AAPL,AAPL")
    assert parsed.sections == ("Indices", "My Stocks")
    assert [(i.exchange, i.symbol, i.section) for i in parsed.items] == [
        ("SP", "SPX", "Indices"),
        ("TVC", "DJI", "Indices"),
        ("NASDAQ", "AAPL", "My Stocks"),
        ("", "AAPL", "My Stocks"),
    ]


def test_duplicates_keep_first_occurrence() -> None:
    parsed = parse_tradingview("NASDAQ:AAPL\n###B\nNASDAQ:MSFT, NASDAQ:AAPL ,NASDAQ:MSFT")
    assert [(i.symbol, i.section) for i in parsed.items] == [("AAPL", ""), ("MSFT", "B")]
    assert [(n, t) for n, t, _ in parsed.skipped] == [(3, "NASDAQ:AAPL"), (3, "NASDAQ:MSFT")]


def test_weird_tokens_are_skipped_with_reasons() -> None:
    long_token = "X" * 41
    text = "NASDAQ:AAPL,NASDAQ:, :MSFT\nA:B:C, BRK B ,\x07BEL\n" + long_token + ",###\n"
    parsed = parse_tradingview(text)
    assert [i.symbol for i in parsed.items] == ["AAPL"]
    reasons = {token: (line, reason) for line, token, reason in parsed.skipped}
    assert reasons["NASDAQ:"] == (1, "empty symbol after ':'")
    assert reasons[":MSFT"] == (1, "empty exchange before ':'")
    assert reasons["A:B:C"] == (2, "more than one ':'")
    assert reasons["BRK B"] == (2, "contains whitespace")
    assert reasons["\x07BEL"] == (2, "contains control characters")
    assert reasons[long_token][0] == 3 and "40" in reasons[long_token][1]
    assert reasons["###"] == (3, "empty section name")


def test_crlf_trailing_commas_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "fx.txt"
    f.write_bytes(b"\xef\xbb\xbfOANDA:EURUSD,\r\nOANDA:USDJPY,\r\n,\r\n")
    parsed = load_tradingview(f)
    assert [i.symbol for i in parsed.items] == ["EURUSD", "USDJPY"]
    assert parsed.items[0].exchange == "OANDA"  # no BOM glued to the first exchange


def test_latin1_fallback_for_printable_text(tmp_path: Path) -> None:
    f = tmp_path / "eu.txt"
    f.write_bytes("###Actions françaises\r\nEURONEXT:AIR,EURONEXT:CAFÉ,XETR:SAP\r\n".encode("latin-1"))
    parsed = load_tradingview(f)
    assert parsed.sections == ("Actions françaises",)
    assert [i.symbol for i in parsed.items] == ["AIR", "SAP"]
    assert [(e.token, e.line) for e in parsed.skipped] == [("EURONEXT:CAFÉ", 2)]  # tickers are ASCII
    assert "'É'" in parsed.skipped[0].reason


# ---- ticker shape ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "token",
    ["NYSE:BRK.B", "BTCUSD", "CME_MINI:ES1!", "AMEX:ARNC^", "^VIX", "BF-B", "BTC/USD", "EURUSD=X",
     "TSE:7203", "FX_IDC:EURUSD", "nasdaq:aapl", "AMEX:NSPR.WS.B", "X" * 24, "E" * 20 + ":" + "S" * 19],
)
def test_ticker_shaped_tokens_are_taken(token: str) -> None:
    parsed = parse_tradingview(f"SPY,{token}")
    assert parsed.skipped == ()
    exchange, _, symbol = token.rpartition(":")
    assert parsed.items[-1] == WatchlistItem(symbol, exchange)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("$$$", "'$' not allowed in a ticker"),
        ("<SCRIPT>", "'<>' not allowed in a ticker"),
        ("NASDAQ:AA$PL", "'$' not allowed"),
        ("NASDAQ:CAFÉ", "'É' not allowed"),
        ("AAPL;DROP", "';' not allowed"),
        ("X" * 25, "symbol longer than 24"),
        ("A" * 21 + ":B", "exchange longer than 20"),
        ("X" * 41, "longer than 40"),
        ("NAS-DAQ:AAPL", "exchange 'NAS-DAQ'"),
        ("1X:AAPL", "exchange '1X'"),
        ("^", "no letter or digit"),
        ("!!", "no letter or digit"),
        (".AAPL", "starts with '.'"),
        ("NASDAQ:", "empty symbol after ':'"),
        (":AAPL", "empty exchange"),
        ("A:B:C", "more than one ':'"),
    ],
)
def test_tokens_that_are_not_ticker_shaped_are_skipped_with_reason(token: str, reason: str) -> None:
    parsed = parse_tradingview(f"SPY\n{token}")
    assert [i.symbol for i in parsed.items] == ["SPY"]
    assert len(parsed.skipped) == 1
    entry = parsed.skipped[0]
    assert (entry.line, entry.token) == (2, token)
    assert reason in entry.reason


def test_invisible_characters_are_removed_before_parsing() -> None:
    assert len(INVISIBLE_CHARS) == 16 and "\u200b" in INVISIBLE_CHARS and "\u202e" in INVISIBLE_CHARS
    text = ("###\u200bTe\u00adch\u2069\n"
            "NASDAQ:\u200bAAPL,\u202eMSFT\u202c,\ufeffSPY\u00ad,\u2066GOOG\u2069,\u200e\u200f,"
            "NYSE:BRK\u200d.B\u200c,\u202a\u202b\u202dKO\u2067\u2068")
    parsed = parse_tradingview(text)
    assert parsed.skipped == ()
    assert parsed.sections == ("Tech",)
    assert [(i.exchange, i.symbol) for i in parsed.items] == [
        ("NASDAQ", "AAPL"), ("", "MSFT"), ("", "SPY"), ("", "GOOG"), ("NYSE", "BRK.B"), ("", "KO")]
    assert not any(c in INVISIBLE_CHARS for i in parsed.items for c in i.symbol + i.exchange + i.section)


def test_only_invisible_characters_is_an_empty_file() -> None:
    with pytest.raises(WatchlistFormatError, match="empty"):
        parse_tradingview("\u200b\ufeff\n\u202e", source="x.txt")


def test_duplicates_compare_case_insensitively_and_name_the_first_line() -> None:
    parsed = parse_tradingview("NASDAQ:AAPL\nnasdaq:aapl,AAPL")
    assert [(i.exchange, i.symbol) for i in parsed.items] == [("NASDAQ", "AAPL"), ("", "AAPL")]
    assert parsed.skipped == (SkippedEntry(2, "nasdaq:aapl", "duplicate of line 1"),)


def test_describe_skipped_names_the_first_and_counts_the_rest() -> None:
    bad = [f"B{n}$" for n in range(8)]
    parsed = parse_tradingview("SPY\n" + "\n".join(bad))
    assert [e.token for e in parsed.skipped] == bad
    text = describe_skipped(parsed.skipped, 5)
    for n, token in enumerate(bad[:5]):
        assert f"line {n + 2}: {token!r}" in text
    assert bad[5] not in text and bad[7] not in text
    assert text.count("'$' not allowed") == 5 and text.endswith("and 3 more")
    assert describe_skipped(parsed.skipped[:2], 5).count("line") == 2
    assert "more" not in describe_skipped(parsed.skipped[:5], 5)
    assert describe_skipped((), 5) == ""


# ---- encodings -----------------------------------------------------------------------------------------
def _encode(text: str, encoding: str) -> bytes:
    """``encoding`` plus a BOM choice: "utf-16-le+bom", "utf-16-be+bom", "utf-16-le" (no BOM)..."""
    codec, _, bom = encoding.partition("+")
    prefix = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8": b"\xef\xbb\xbf",
              "utf-32-le": b"\xff\xfe\x00\x00"}[codec] if bom else b""
    return prefix + text.encode(codec)


ENCODINGS = ("utf-16-le+bom", "utf-16-be+bom", "utf-16-le", "utf-16-be", "utf-8+bom", "utf-32-le+bom")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", TV_FILES)
def test_real_files_in_other_encodings_read_the_same(shared_data: Path, tmp_path: Path, name: str,
                                                     encoding: str) -> None:
    original = shared_data / "tradingview" / name
    copy = tmp_path / name
    copy.write_bytes(_encode(original.read_text(encoding="utf-8"), encoding))
    assert copy.read_bytes() != original.read_bytes()
    assert load_tradingview(copy).items == load_tradingview(original).items
    assert load_tradingview(copy).sections == load_tradingview(original).sections


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_small_list_in_other_encodings(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "fx.txt"
    f.write_bytes(_encode("###Majors\r\nOANDA:EURUSD,\r\nNYSE:BRK.B\r\n", encoding))
    parsed = load_tradingview(f)
    assert [(i.exchange, i.symbol, i.section) for i in parsed.items] == [
        ("OANDA", "EURUSD", "Majors"), ("NYSE", "BRK.B", "Majors")]


def test_utf16_is_not_mistaken_for_binary_but_binary_still_is() -> None:
    assert decode_watchlist_bytes("AAPL,MSFT".encode("utf-16-le")) == "AAPL,MSFT"
    assert decode_watchlist_bytes("AAPL,MSFT".encode("utf-16-be")) == "AAPL,MSFT"
    with pytest.raises(WatchlistFormatError, match="binary"):
        decode_watchlist_bytes(b"A\x00B\x00\x00C")  # NULs in both lanes: not UTF-16 text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"", "empty"),
        (b"  \n\n \t", "empty"),
        (b",,, ,\n,\n", "no symbols"),
        (b"\xc3\x28\x81\x90\x8d", "not UTF-8"),
        (b"\xff\xfe\x00\xd8", "looks like UTF-16 LE but does not decode"),
        (b"\xfe\xff\x00A\x00", "looks like UTF-16 BE but does not decode"),
        ("A\x01B\x02".encode("utf-16-le"), "UTF-16 LE text with control characters"),
        ("\u200b\u202e".encode("utf-16"), "empty"),
        (b"$$$,<SCRIPT>", "no symbols"),
        (b"NASDAQ:, BRK B", "no symbols"),
    ],
)
def test_malformed_files_raise_typed_error(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad_list.txt"
    f.write_bytes(content)
    with pytest.raises(WatchlistFormatError) as info:
        load_tradingview(f)
    assert isinstance(info.value, ValueError)
    assert "bad_list.txt" in str(info.value) and message in str(info.value)


def test_missing_file_raises_typed_error(tmp_path: Path) -> None:
    with pytest.raises(WatchlistFormatError, match="nope.txt"):
        load_tradingview(tmp_path / "nope.txt")


def test_parse_text_with_nul_is_rejected() -> None:
    with pytest.raises(WatchlistFormatError, match="NUL"):
        parse_tradingview("AAPL\x00MSFT", source="paste")


@pytest.mark.parametrize(
    "item",
    [
        WatchlistItem("BRK B", "NYSE"),
        WatchlistItem("A,B", "NYSE"),
        WatchlistItem("AAPL", "NASDAQ", "bad\nsection"),
        WatchlistItem("###X"),
    ],
)
def test_export_rejects_unrepresentable_items(item: WatchlistItem) -> None:
    with pytest.raises(ValueError, match="cannot export"):
        export_tradingview([WatchlistItem("SPY", "AMEX"), item])
