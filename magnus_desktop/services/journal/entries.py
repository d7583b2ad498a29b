"""Journal entries built from what each source has at the time (no I/O, no Qt).

- the order ticket: the contracts, order_ref, strategy, the recorded bid/ask/underlying, p_win and
  (from our BSM at the mid) iv, delta, gamma, theta, vega and dte of the first option leg;
- an alert: its monitor (the setup), subject contract and facts;
- an assistant answer: the question, the answer text and the tools it used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from magnus_desktop.analytics.journal import option_numbers
from magnus_desktop.models.alerts import Alert
from magnus_desktop.models.domain import OptionContract, OrderTicket
from magnus_desktop.models.journal import JournalAction, JournalEntry, option_key, parse_tags

#: an OCC-style local symbol: root padded to 6, yymmdd, C/P, strike x 1000 in 8 digits
_OCC = re.compile(r"^(?P<root>.{1,6}?)\s*(?P<ymd>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")


def key_of_local_symbol(text: str) -> str | None:
    """``"SPXW  180228P02670000"`` → ``"OPT:SPXW:2018-02-28:2670:P"``; None when not an option symbol."""
    m = _OCC.match(text.strip()) if len(text.strip()) > 15 else None
    if m is None:
        m = _OCC.match(text)
    if m is None:
        return None
    ymd = m.group("ymd")
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return None
    return option_key(m.group("root").strip(), expiry, int(m.group("strike")) / 1000.0, m.group("right"))


def contract_key(contract: Any) -> str:
    """The contract key of an ``OptionContract`` or a ``StockContract``."""
    if isinstance(contract, OptionContract):
        return option_key(contract.underlying, contract.expiry, contract.strike, contract.right)
    return f"STK:{contract.symbol}"


def ticket_entry(ticket: Any, action: JournalAction, thesis: str, tags: str, account: str,
                 quote: Sequence[float], p_win: float | None, day: date, rate: float,
                 div_yield: float = 0.0) -> JournalEntry:
    """A ticket's entry. ``quote`` = (bid, ask, last, underlying price) of the first leg, USD per share
    (NaN where unknown); ``p_win`` the predictor's probability (decimal) or None."""
    legs = ticket.legs
    first = legs[0].contract
    numbers: dict[str, Any] = {"qty": ticket.qty, "limit_price": ticket.limit_price,
                               "legs": [f"{leg.action} {leg.ratio}x {_describe(leg.contract)}" for leg in legs]}
    delta = dte = None
    if isinstance(first, OptionContract):
        bid, ask, _last, und = (list(quote) + [math.nan] * 4)[:4]
        numbers.update(option_numbers(first.right, first.strike, first.expiry, day, bid, ask, und, rate, div_yield))
        delta = numbers.get("delta")
        dte = first.dte(day)
        symbol = first.underlying
    else:
        symbol = first.symbol
    if p_win is not None:
        numbers["p_win"] = p_win
    return JournalEntry(source="ticket", action=action, trade_date=day, thesis=thesis.strip(), tags=parse_tags(tags),
                        account=account, symbol=symbol, contract_keys=tuple(contract_key(leg.contract) for leg in legs),
                        order_ref=ticket.order_ref, strategy=ticket.strategy if not isinstance(ticket, OrderTicket)
                        else ("single " + ("short" if ticket.action == "SELL" else "long")),
                        numbers=numbers, delta=delta, dte=dte, p_win=p_win)


def _describe(contract: Any) -> str:
    return contract.describe() if isinstance(contract, OptionContract) else contract.symbol


def alert_entry(alert: Alert, thesis: str, tags: str, action_taken: str = "") -> JournalEntry:
    """An alert's entry: its monitor is the setup, its subject the contract when it names an option."""
    key = key_of_local_symbol(alert.subject)
    numbers: dict[str, Any] = {f.label: f.value for f in alert.facts
                               if not (isinstance(f.value, float) and math.isnan(f.value))}
    numbers["title"] = alert.title
    if action_taken:
        numbers["action"] = action_taken
    delta = _number(numbers.get("delta"))
    dte = _number(numbers.get("dte"))
    symbol = key.split(":")[1] if key else alert.subject.strip()
    return JournalEntry(source="alert", action="noted", trade_date=alert.day, thesis=thesis.strip(),
                        tags=parse_tags(tags), account=alert.account, symbol=symbol,
                        contract_keys=(key,) if key else (), strategy=alert.monitor, numbers=numbers,
                        delta=delta, dte=int(dte) if dte is not None else None, p_win=_p_win(numbers))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _p_win(numbers: dict[str, Any]) -> float | None:
    p = _number(numbers.get("p_win"))
    if p is not None and p > 1.0:
        p /= 100.0  # stated in %
    return p if p is not None and 0.0 <= p <= 1.0 else None


def answer_entry(question: str, answer: str, tools: Sequence[str], thesis: str, tags: str, day: date,
                 symbol: str = "") -> JournalEntry:
    """An assistant answer's entry (the answer and the tools it used are kept as its numbers)."""
    numbers = {"question": question, "answer": answer[:4000], "tools": list(tools)}
    return JournalEntry(source="assistant", action="noted", trade_date=day, thesis=thesis.strip(),
                        tags=parse_tags(tags), symbol=symbol, strategy="assistant", numbers=numbers)
