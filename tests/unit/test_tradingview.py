"""TradingView watchlist import/export, on real third-party files (test-only) and malformed input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from magnus_desktop.models.domain import WatchlistItem
from magnus_desktop.services.tradingview import (
    WatchlistFormatError,
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
    f.write_bytes("EURONEXT:CAFÉ,XETR:SAP".encode("latin-1"))
    parsed = load_tradingview(f)
    assert [i.symbol for i in parsed.items] == ["CAFÉ", "SAP"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"", "empty"),
        (b"  \n\n \t", "empty"),
        (b",,, ,\n,\n", "no symbols"),
        (b"\xff\xfe\x81\x90\x8d", "not UTF-8"),
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
