"""Robinhood "Account activity" CSV → trade-history events.

Layout: header ``Activity Date,Process Date,Settle Date,Instrument,Description,Trans Code,
Quantity,Price,Amount``; quoted fields, descriptions may span lines (``"Ford Motor\\nCUSIP: ..."``);
amounts ``$1,655.59`` (credit) and ``($1,500.36)`` (debit); a blank record and a disclaimer line in
the tenth column close the file. Robinhood accounts are USD only: an amount or price without the
``$`` form (``€12.00``, ``12.00``) is a wrong currency and refuses the file.

Trans codes:

- ``BTO``/``BTC`` (+qty) and ``STO``/``STC`` (-qty): option trades; the description
  ``SPY 12/15/2023 Call $470.00`` gives the contract (:func:`parse_option_description`);
  multiplier 100 (Robinhood lists US equity options only). ``Buy``/``Sell``: stock trades.
- ``OEXP`` expiration, ``OASGN`` assignment, ``OEXCS`` exercise: the option leaves at price 0;
  a quantity like ``1S`` marks a short contract (qty +1 closes it), a plain ``1`` a long one (-1).
- ``CDIV``/``MDIV`` dividend, ``INT`` interest, ``GOLD``/``MINT``/``AFEE``/``DFEE`` fee,
  ``SLIP`` stock-lending income, ``DTAX``/``NRA`` tax, ``ACH``/``RTP``/``WIRE`` transfer.
- anything else (splits, mergers, journal entries, ...) is skipped with its line and a reason.

Fees: Robinhood prints no commission column; ``commission`` = |qty| x price x multiplier minus
the amount received (sells) or the amount paid minus that value (buys), rounded to cents. It is the
regulatory and contract fees (0.03 per option contract bought in this file, a little more on
sales: SEC and FINRA TAF fees); the amount already holds it. Robinhood accounts cannot sell short,
so ``Sell`` is marked closing and ``Buy`` opening.

Order: the file lists the newest activity first and dates carry no time; the events are returned
oldest first (the file order reversed) so that same-day fills keep their true sequence.

Ids: Robinhood gives none, so ``event_key`` is a content hash of the row's fields plus its
occurrence number among identical rows of the same file (two identical 1-lot fills on one day are
two events; importing the same file again finds the same keys).
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, datetime
from pathlib import Path

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.history import EventKind, HistoryEvent, new_history_event
from magnus_desktop.services.imports.common import ImportFormatError, ParsedFile, SkippedLine

HEADER = ("Activity Date", "Process Date", "Settle Date", "Instrument", "Description", "Trans Code",
          "Quantity", "Price", "Amount")
OPTION_MULTIPLIER = 100
_OPTION_MULTIPLIER = float(OPTION_MULTIPLIER)
OPTION_TRADES = {"BTO": (1, "O"), "BTC": (1, "C"), "STO": (-1, "O"), "STC": (-1, "C")}
STOCK_TRADES = {"Buy": 1, "Sell": -1}
OPTION_EVENTS: dict[str, EventKind] = {"OEXP": "expiration", "OASGN": "assignment", "OEXCS": "exercise"}
CASH_CODES: dict[str, EventKind] = {
    "CDIV": "dividend", "MDIV": "dividend", "INT": "interest", "GOLD": "fee", "MINT": "fee",
    "AFEE": "fee", "DFEE": "fee", "SLIP": "lending", "DTAX": "tax", "NRA": "tax",
    "ACH": "transfer", "RTP": "transfer", "WIRE": "transfer",
}
_OPTION = re.compile(r"(?P<und>[A-Z][A-Z0-9.]*) (?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}) "
                     r"(?P<right>Call|Put) \$(?P<strike>\d[\d,]*(?:\.\d+)?)")
_MONEY = re.compile(r"(?P<neg>\()?\$(?P<num>\d[\d,]*(?:\.\d+)?)(?(neg)\))")
_QTY = re.compile(r"(?P<num>\d+(?:\.\d+)?|\.\d+)(?P<short>S)?")


def parse_option_description(text: str) -> OptionContract | None:
    """``"SPY 12/15/2023 Call $470.00"`` → ``OptionContract("SPY", 2023-12-15, 470.0, "C")``.

    Also finds the contract inside longer texts (``"Option Expiration for SPY 12/15/2023 Call
    $470.00"``). Returns None when the text names no option.
    """
    m = _OPTION.search(text)
    if m is None:
        return None
    try:
        expiry = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    right = "C" if m["right"] == "Call" else "P"
    return OptionContract(m["und"], expiry, float(m["strike"].replace(",", "")), right, OPTION_MULTIPLIER)


def parse_money(path: Path, line: int, name: str, text: str) -> float:
    """``$1,655.59`` → 1655.59, ``($1,500.36)`` → -1500.36 (USD); anything else is refused."""
    m = _MONEY.fullmatch(text.strip())
    if m is None:
        raise ImportFormatError(path, line, f"{name} {text!r} is not a USD amount like $1,655.59 or "
                                "($1,500.36) (wrong currency or malformed)")
    value = float(m["num"].replace(",", ""))
    return -value if m["neg"] else value


_DATES: dict[str, datetime] = {}


def _us_datetime(path: Path, line: int, text: str) -> datetime:
    """``12/29/2023`` → midnight of that day (memoised: an activity file repeats few dates)."""
    when = _DATES.get(text)
    if when is not None:
        return when
    try:
        month, dom, year = text.split("/")
        when = datetime(int(year), int(month), int(dom))
    except ValueError:
        raise ImportFormatError(path, line, f"Activity Date {text!r} is not a date like 12/29/2023") from None
    if len(_DATES) < 10_000:
        _DATES[text] = when
    return when


def _quantity(path: Path, line: int, text: str) -> tuple[float, bool]:
    m = _QTY.fullmatch(text.strip())
    if m is None:
        if text.strip().startswith("-"):
            raise ImportFormatError(path, line, f"negative Quantity {text!r}: Robinhood quantities are "
                                    "unsigned (the trans code gives the side)")
        raise ImportFormatError(path, line, f"Quantity {text!r} is not a number")
    return float(m["num"]), m["short"] is not None


class _RowReader:
    def __init__(self, path: Path, account: str) -> None:
        self.path = path
        self.account = account
        self.seen: dict[str, int] = {}
        #: description -> contract fields (an activity file trades few contracts many times)
        self.contracts: dict[str, tuple[str, str, date, float, str] | None] = {}
        #: money text -> USD (prices and amounts repeat)
        self.amounts: dict[str, float] = {}
        #: quantity text -> (quantity, short mark) (quantities repeat)
        self.quantities: dict[str, tuple[float, bool]] = {}

    def quantity(self, line: int, text: str) -> tuple[float, bool]:
        """:func:`_quantity`, memoised per text."""
        value = self.quantities.get(text)
        if value is None:
            value = _quantity(self.path, line, text)
            if len(self.quantities) < 100_000:
                self.quantities[text] = value
        return value

    def money(self, line: int, name: str, text: str) -> float:
        """:func:`parse_money`, memoised per text."""
        value = self.amounts.get(text)
        if value is None:
            value = parse_money(self.path, line, name, text)
            if len(self.amounts) < 100_000:
                self.amounts[text] = value
        return value

    def key(self, fields: list[str]) -> str:
        digest = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]
        n = self.seen.get(digest, 0)
        self.seen[digest] = n + 1
        return f"rh:{digest}:{n}"

    def contract(self, description: str) -> tuple[str, str, date, float, str] | None:
        """(symbol, underlying, expiry, strike, right) of the option a description names, memoised."""
        try:
            return self.contracts[description]
        except KeyError:
            pass
        c = parse_option_description(description)
        fields = None if c is None else (c.local_symbol.replace(" ", ""), c.underlying, c.expiry, c.strike, c.right)
        if len(self.contracts) < 100_000:
            self.contracts[description] = fields
        return fields

    def event(self, fields: list[str], line: int) -> HistoryEvent | SkippedLine:
        activity, _process, _settle, instrument, description, code, qty_text, price_text, amount_text = fields
        when = _DATES.get(activity) or _us_datetime(self.path, line, activity)
        path, account, amounts = self.path, self.account, self.amounts
        if code in OPTION_TRADES or code in OPTION_EVENTS:
            contract = self.contracts.get(description) or self.contract(description)
            if contract is None:
                raise ImportFormatError(path, line, f"{code} row without an option description like "
                                        f"'SPY 12/15/2023 Call $470.00' (got {description!r})")
            symbol, underlying, expiry, strike, right = contract
            qty, short = self.quantities.get(qty_text) or self.quantity(line, qty_text)
            if code in OPTION_TRADES:
                sign, oc = OPTION_TRADES[code]
                price = amounts.get(price_text)
                if price is None:
                    price = self.money(line, "Price", price_text)
                amount = amounts.get(amount_text)
                if amount is None:
                    amount = self.money(line, "Amount", amount_text)
                return new_history_event(account, "robinhood", self.key(fields), "trade", when, "OPT", symbol,
                                         underlying, expiry, strike, right, _OPTION_MULTIPLIER, sign * qty, price,
                                         amount, _fee(sign, qty * price * OPTION_MULTIPLIER, amount), "USD", 1.0, oc,
                                         description, line)
            amount = self.money(line, "Amount", amount_text) if amount_text else 0.0
            return new_history_event(account, "robinhood", self.key(fields), OPTION_EVENTS[code], when, "OPT", symbol,
                                     underlying, expiry, strike, right, _OPTION_MULTIPLIER,
                                     qty if short else -qty, 0.0, amount, 0.0, "USD", 1.0, "C", description, line)
        if code in STOCK_TRADES:
            if not instrument:
                raise ImportFormatError(path, line, f"{code} row without an Instrument")
            qty, _short = self.quantity(line, qty_text)
            price = self.money(line, "Price", price_text)
            amount = self.money(line, "Amount", amount_text)
            sign = STOCK_TRADES[code]
            return new_history_event(account, "robinhood", self.key(fields), "trade", when, "STK", instrument,
                                     instrument, None, None, None, 1.0, sign * qty, price, amount,
                                     _fee(sign, qty * price, amount), "USD", 1.0, "O" if sign > 0 else "C",
                                     description, line)
        if code in CASH_CODES:
            amount = self.money(line, "Amount", amount_text)
            return new_history_event(account, "robinhood", self.key(fields), CASH_CODES[code], when,
                                     "STK" if instrument else "CASH", instrument, instrument, None, None, None, 1.0,
                                     0.0, None, amount, 0.0, "USD", 1.0, "", description, line)
        return SkippedLine(line, f"trans code {code!r} ({description.splitlines()[0] if description else 'no description'}) "
                                 "is not imported")


def _fee(sign: int, gross: float, amount: float) -> float:
    """Fees in USD (>= 0): what the amount lacks against qty x price x multiplier."""
    fee = round(-amount - gross, 2) if sign > 0 else round(gross - amount, 2)
    return max(fee, 0.0)


def parse_robinhood_csv(path: Path | str, account: str | None = None) -> ParsedFile:
    """Read a Robinhood activity CSV.

    Args:
        path: the ``.csv`` file.
        account: account name stored with every event (default ``"robinhood"``).

    Returns:
        The parsed events and skipped lines (Robinhood states no balances).

    Raises:
        ImportFormatError: wrong header, a record with the wrong number of fields, an unclosed
            quote (truncated file), a bad date, amount, price or quantity; names file and line.
    """
    path = Path(path)
    name = account or "robinhood"
    result = ParsedFile(path=path, kind="robinhood-csv", account=name)
    reader_state = _RowReader(path, name)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, strict=True)
            end_line = 0
            ended = False
            for fields in reader:
                line, end_line = end_line + 1, reader.line_num
                if line == 1:
                    if tuple(f.strip() for f in fields[:9]) != HEADER:
                        raise ImportFormatError(path, 1, "not a Robinhood activity CSV (header must be "
                                                + ",".join(HEADER) + ")")
                    continue
                first = fields[0] if fields else ""
                if (not first or first.isspace()) and not "".join(fields[:9]).strip():  # a blank record
                    ended = ended or len(fields) > 9  # the disclaimer closes the data
                    continue
                if ended:
                    raise ImportFormatError(path, line, "data after the closing disclaimer line")
                if len(fields) != 9:
                    raise ImportFormatError(path, line, f"{len(fields)} fields, expected 9 (malformed row)")
                item = reader_state.event(fields, line)
                if isinstance(item, SkippedLine):
                    result.skipped.append(item)
                else:
                    result.events.append(item)
    except csv.Error as exc:
        raise ImportFormatError(path, end_line + 1, f"malformed or truncated CSV ({exc})") from None
    except UnicodeDecodeError:
        raise ImportFormatError(path, 0, "not a UTF-8 text file") from None
    except OSError as exc:
        raise ImportFormatError(path, 0, f"cannot read the file ({exc.strerror or exc})") from None
    if end_line == 0:
        raise ImportFormatError(path, 0, "empty file")
    if len(result.events) > 1 and result.events[0].occurred_at > result.events[-1].occurred_at:
        result.events.reverse()
    return result
