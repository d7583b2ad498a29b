"""Reconciliation: the cash balance computed from a file's imported movements against the balance
the statement itself states, per currency.

For every ``StatementBalance`` (IBKR ``CashReport`` starting/ending cash per currency, IBKR
``StmtFunds`` opening/closing running balance per currency)::

    computed_balance = starting balance + sum(amount of every imported event in that currency)

The movements counted are all events the parser produced from the file (duplicates of earlier
imports included: they are the file's own movements): trades at ``netCash`` (proceeds + commission
+ taxes; for futures the variation margin, i.e. what IBKR books as ``cashSettlingMtm``), and cash
transactions (dividends, withholding tax, interest, fees, deposits/withdrawals) at ``amount``.

On the real IBKR file (TestForCoding, 2018-11-09) this reconciles exactly in CHF, EUR, GBP and USD:
e.g. USD 80,464.69 start + 13,272.59 (ESV sale) + 1,347.57 (four FOP trades) - 478.12 (four YM
futures: -470 variation margin, -8.12 commission) = 94,605.73 = ``endingCash``. The
``BASE_SUMMARY`` row is not reconciled: it adds FX translation gains no movement carries.
Rows skipped by the parser (forex trades, unknown cash types) are not counted, so a file holding
them shows a difference: that is the point of the check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from magnus_desktop.services.imports.common import ParsedFile

TOLERANCE = 0.01  # currency units


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    """One currency of one statement section; amounts in ``currency``."""

    currency: str
    source: str
    statement_balance: float
    computed_balance: float

    @property
    def difference(self) -> float:
        return self.computed_balance - self.statement_balance

    @property
    def ok(self) -> bool:
        return abs(self.difference) <= TOLERANCE

    def as_dict(self) -> dict[str, object]:
        return {"currency": self.currency, "source": self.source,
                "statement_balance": round(self.statement_balance, 6),
                "computed_balance": round(self.computed_balance, 6),
                "difference": round(self.difference, 6) + 0.0}


def reconcile(parsed: ParsedFile) -> list[ReconciliationRow]:
    """Compare stated and computed balances (see module docstring); one row per stated balance."""
    moved: dict[str, float] = defaultdict(float)
    for event in parsed.events:
        moved[event.currency] += event.amount
    rows = []
    for balance in parsed.balances:
        start = balance.starting if balance.starting is not None else 0.0
        rows.append(ReconciliationRow(balance.currency, balance.source, balance.ending,
                                      start + moved.get(balance.currency, 0.0)))
    return rows
