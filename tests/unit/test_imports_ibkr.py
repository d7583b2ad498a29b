"""IBKR Flex XML parser on the real bundled statement; expectations come from a second, simple
regex read of the same raw text, not from numbers typed in here."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from magnus_desktop.analytics.realized import realized_pnl
from magnus_desktop.services.imports import ImportFormatError, reconcile
from magnus_desktop.services.imports.ibkr_flex import parse_ibkr_flex

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def _raw_rows(text: str, tag: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', m)) for m in re.findall(rf"<{tag} ([^>]*)/>", text)]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "statement.xml"
    path.write_text(text)
    return path


def test_every_trade_is_read_with_its_id_quantity_cash_and_currency() -> None:
    raw = _raw_rows(FLEX.read_text(), "Trade")
    parsed = parse_ibkr_flex(FLEX)
    assert len(parsed.events) == len(raw) > 0
    by_key = {e.event_key: e for e in parsed.events}
    for row in raw:
        event = by_key[f"ibkr:T:{row['transactionID']}"]
        assert event.qty == float(row["quantity"])
        assert event.price == float(row["tradePrice"])
        assert event.amount == float(row["netCash"])
        assert event.commission == -float(row["ibCommission"])
        assert event.currency == row["currency"]
        assert event.fx_rate_to_base == float(row["fxRateToBase"])
        assert event.multiplier == float(row["multiplier"])
        assert event.asset_category == row["assetCategory"]
        if row["putCall"]:
            assert (event.right, event.strike) == (row["putCall"], float(row["strike"]))
            assert event.expiry is not None and event.expiry.strftime("%Y%m%d") == row["expiry"]
    assert {e.asset_category for e in parsed.events} == {"STK", "OPT", "FUT", "FOP"}
    assert parsed.account == re.search(r'<FlexStatement accountId="(\w+)"', FLEX.read_text())[1]


def test_cash_report_reconciles_exactly_per_currency() -> None:
    text = FLEX.read_text()
    stated = {r["currency"]: float(r["endingCash"]) for r in _raw_rows(text, "CashReportCurrency")
              if r["levelOfDetail"] == "Currency"}
    rows = reconcile(parse_ibkr_flex(FLEX))
    assert {r.currency: r.statement_balance for r in rows} == stated
    assert all(abs(r.difference) <= 0.01 for r in rows)
    assert len(stated) >= 4


def test_futures_round_trips_realize_their_net_cash_fifo() -> None:
    raw = _raw_rows(FLEX.read_text(), "Trade")
    net_qty: dict[str, float] = defaultdict(float)
    cash: dict[str, float] = defaultdict(float)
    for row in raw:
        if row["assetCategory"] == "FUT":
            net_qty[row["conid"]] += float(row["quantity"])
            cash[row["conid"]] += float(row["netCash"])  # variation margin + commission
    closed = {conid for conid, q in net_qty.items() if q == 0}
    assert closed
    report = realized_pnl(parse_ibkr_flex(FLEX).events)
    fut = {p.symbol: p for p in report.positions if p.asset_category == "FUT"}
    symbol_of = {row["conid"]: row["symbol"] for row in raw}
    for conid in closed:
        assert fut[symbol_of[conid]].realized == pytest.approx(cash[conid], abs=1e-6)
        assert fut[symbol_of[conid]].lot_method == "FIFO"


def test_truncated_xml_names_file_and_line(tmp_path: Path) -> None:
    text = FLEX.read_text()
    path = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ImportFormatError, match=r"statement\.xml, line \d+: malformed or truncated XML") as err:
        parse_ibkr_flex(path)
    assert err.value.line > 1


def test_unknown_section_refuses_the_file(tmp_path: Path) -> None:
    text = FLEX.read_text().replace("<Trades>", "<MadeUpSection>\n</MadeUpSection>\n<Trades>", 1)
    line = text[: text.index("<MadeUpSection>")].count("\n") + 1
    with pytest.raises(ImportFormatError, match=rf"line {line}: unknown Flex section <MadeUpSection>"):
        parse_ibkr_flex(_write(tmp_path, text))


def test_documented_section_we_do_not_need_is_skipped_with_a_reason(tmp_path: Path) -> None:
    text = FLEX.read_text().replace("<Trades>", "<ConversionRates>\n</ConversionRates>\n<Trades>", 1)
    parsed = parse_ibkr_flex(_write(tmp_path, text))
    assert any("ConversionRates" in s.reason for s in parsed.skipped)
    assert len(parsed.events) == len(_raw_rows(text, "Trade"))


def test_wrong_currency_refuses_the_file(tmp_path: Path) -> None:
    text = FLEX.read_text()
    at = text.index("<Trade ")
    text = text[:at] + text[at:].replace('currency="USD"', 'currency="US$"', 1)
    line = text[:at].count("\n") + 1
    with pytest.raises(ImportFormatError, match=rf"line {line}: wrong currency 'US\$'"):
        parse_ibkr_flex(_write(tmp_path, text))


def test_bought_quantity_cannot_be_negative(tmp_path: Path) -> None:
    text = FLEX.read_text()
    buy = re.search(r'<Trade [^>]*quantity="(\d+)"[^>]*buySell="BUY"', text)
    assert buy is not None
    start = buy.start()
    text = text[:start] + text[start:].replace(f'quantity="{buy[1]}"', f'quantity="-{buy[1]}"', 1)
    with pytest.raises(ImportFormatError, match=r"quantity -\d+ contradicts buySell BUY"):
        parse_ibkr_flex(_write(tmp_path, text))


def _with_sections(extra: str) -> str:
    return FLEX.read_text().replace("</FlexStatement>", extra + "\n</FlexStatement>", 1)


def _funds_lines(start: float, amounts: list[float], currency: str) -> str:
    lines, balance = [], start
    for i, amount in enumerate(amounts):
        balance += amount
        lines.append(f'<StatementOfFundsLine currency="{currency}" levelOfDetail="Currency" date="20181109" '
                     f'activityCode="BUY" amount="{amount!r}" balance="{balance!r}" transactionID="sf{i}" />')
    return "<StmtFunds>\n" + "\n".join(lines) + "\n</StmtFunds>"


def test_statement_of_funds_running_balance_reconciles(tmp_path: Path) -> None:
    text = FLEX.read_text()
    usd = [float(r["netCash"]) for r in _raw_rows(text, "Trade") if r["currency"] == "USD"]
    start = next(float(r["startingCash"]) for r in _raw_rows(text, "CashReportCurrency") if r["currency"] == "USD")
    parsed = parse_ibkr_flex(_write(tmp_path, _with_sections(_funds_lines(start, usd, "USD"))))
    funds = [r for r in reconcile(parsed) if r.source == "StmtFunds"]
    assert [r.currency for r in funds] == ["USD"]
    assert funds[0].ok
    assert funds[0].statement_balance == pytest.approx(start + sum(usd))


def test_statement_of_funds_with_a_broken_running_balance_is_refused(tmp_path: Path) -> None:
    good = _funds_lines(1000.0, [10.0, 20.0], "USD")
    bad = good.replace('balance="1030.0"', 'balance="1031.0"')
    with pytest.raises(ImportFormatError, match="StmtFunds running balance 1031.00 USD"):
        parse_ibkr_flex(_write(tmp_path, _with_sections(bad)))


def test_cash_transactions_and_open_positions_are_read_and_unbooked_cash_shows_as_a_difference(
        tmp_path: Path) -> None:
    extra = (
        '<CashTransactions>\n<CashTransaction currency="USD" fxRateToBase="0.88221" assetCategory="STK" '
        'symbol="ESV" description="ESV CASH DIVIDEND" dateTime="20181109" amount="20" type="Dividends" '
        'transactionID="777" levelOfDetail="DETAIL" />\n</CashTransactions>\n'
        '<OpenPositions>\n<OpenPosition currency="EUR" fxRateToBase="1" assetCategory="OPT" symbol="C ODAX DEC 18 12000" '
        'conid="156329870" underlyingSymbol="DAX" multiplier="5" strike="12000" expiry="20181221" putCall="C" '
        'reportDate="20181109" position="2" markPrice="55.7" costBasisMoney="553.4" levelOfDetail="SUMMARY" />\n'
        '</OpenPositions>'
    )
    parsed = parse_ibkr_flex(_write(tmp_path, _with_sections(extra)))
    dividend = [e for e in parsed.events if e.kind == "dividend"]
    assert [(d.event_key, d.amount, d.currency) for d in dividend] == [("ibkr:C:777", 20.0, "USD")]
    assert [(p.position_key, p.qty, p.multiplier, p.right) for p in parsed.positions] == [
        ("conid:156329870", 2.0, 5.0, "C")]
    usd = next(r for r in reconcile(parsed) if r.currency == "USD")
    assert usd.difference == pytest.approx(20.0)  # the statement's CashReport does not hold the dividend
    assert not usd.ok


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1_000", " 12", "12 ", "0x10", ""])
def test_parse_number_refuses_what_float_alone_would_accept(text: str) -> None:
    from magnus_desktop.services.imports.common import parse_number

    with pytest.raises(ImportFormatError, match="is not a number"):
        parse_number(Path("f.xml"), 3, "quantity", text)


@pytest.mark.parametrize(("text", "value"), [("-13283", -13283.0), ("0.88221", 0.88221), ("+.5", 0.5),
                                            ("5.", 5.0), ("1.5E+3", 1500.0)])
def test_parse_number_reads_plain_decimals(text: str, value: float) -> None:
    from magnus_desktop.services.imports.common import parse_number

    assert parse_number(Path("f.xml"), 3, "quantity", text) == value


def test_numbers_and_times_seen_before_do_not_hide_a_later_missing_or_bad_value(tmp_path: Path) -> None:
    """The reader memoises number and date/time texts; a later row's missing netCash or bad
    dateTime is still refused with that row's line."""
    text = FLEX.read_text()
    rows = re.findall(r"<Trade [^>]*/>", text)
    last = rows[-1]
    line = text[: text.index(last)].count("\n") + 1
    missing = text.replace(last, re.sub(r'netCash="[^"]*"', 'netCash=""', last), 1)
    with pytest.raises(ImportFormatError, match=rf"line {line}: netCash is missing"):
        parse_ibkr_flex(_write(tmp_path, missing))
    bad_time = text.replace(last, re.sub(r'dateTime="[^"]*"', 'dateTime="2018-13-45"', last), 1)
    with pytest.raises(ImportFormatError, match=rf"line {line}: date/time '2018-13-45'"):
        parse_ibkr_flex(_write(tmp_path, bad_time))


def test_line_numbers_stay_right_past_the_first_chunk_the_parser_reads(tmp_path: Path) -> None:
    """The file goes to expat 1 MiB at a time: a bad row or broken XML several MiB in is still
    reported on its own line."""
    text = FLEX.read_text()
    row = re.search(r"<Trade [^>]*/>", text)
    assert row is not None
    rows = "\n".join(re.sub(r'transactionID="\d+"', f'transactionID="7{i:09d}"', row[0]) for i in range(4000))
    big = text.replace("<Trades>", "<Trades>\n" + rows, 1)
    assert len(big.encode()) > 3 * 2**20
    bad_at = big.index(rows) + rows.rindex("<Trade ")  # the last added row, past 3 MiB
    line = big[:bad_at].count("\n") + 1
    wrong = big[:bad_at] + big[bad_at:].replace('currency="', 'currency="X', 1)
    with pytest.raises(ImportFormatError, match=rf"statement\.xml, line {line}: wrong currency"):
        parse_ibkr_flex(_write(tmp_path, wrong))
    broken = big[:bad_at] + "<Trade <" + big[bad_at:]
    with pytest.raises(ImportFormatError, match=rf"statement\.xml, line {line}: malformed or truncated XML"):
        parse_ibkr_flex(_write(tmp_path, broken))
    assert len(parse_ibkr_flex(_write(tmp_path, big)).events) == len(_raw_rows(text, "Trade")) + 4000
