"""What the performance figures are built from (blocking reads; no Qt).

- the trade history's closed lots (``HistorySnapshot.matches``) and its cash-only events
  (dividends, interest, fees, taxes, lending income, deposits/withdrawals);
- the app's own fills (the paper/replay account and any account the app traded), turned into
  trade events and matched FIFO like the imports (``analytics.realized``); an option the app still
  held after its expiry is closed at its intrinsic value on the first trading day after expiry
  (the same settlement the account marking uses, ``services.portfolio.marking``);
- our Kalshi fills and settlements (``services.kalshi.history``), realized per market
  (``analytics.kalshi_pnl``) under the Kalshi account's name;
- the starting cash: a statement's own starting cash (``statement_cash``, recorded at import), else
  the app account's starting cash, else ``Settings.performance_starting_capital`` when > 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from magnus_desktop.analytics.performance import FLOW_KINDS, INCOME_KINDS
from magnus_desktop.analytics.realized import LotMatch, realized_pnl
from magnus_desktop.models.domain import Fill, OptionContract
from magnus_desktop.models.history import HistoryEvent
from magnus_desktop.models.orm import AccountRow
from magnus_desktop.models.orm_history import HistoryEventRow
from magnus_desktop.models.orm_journal import StatementCashRow
from magnus_desktop.services.kalshi.history import KalshiHistory
from magnus_desktop.services.storage import Database
from magnus_desktop.services.storage.repositories import TradeRepo

_CASH_FIELDS = ("account", "broker", "event_key", "kind", "occurred_at", "asset_category", "symbol", "underlying",
                "expiry", "strike", "right", "multiplier", "qty", "price", "amount", "commission", "currency",
                "fx_rate_to_base", "open_close", "description", "source_line")


@dataclass(frozen=True, slots=True)
class Capital:
    """A starting capital (base currency, USD) and a sentence saying where it comes from."""

    amount: float | None
    source: str


@dataclass(slots=True)
class PerformanceInputs:
    """Everything one report reads, per account.

    Attributes:
        matches: closed lots per account (imports and app fills).
        cash_events: cash-only events per account (imports).
        capital: starting capital per account (``Capital.amount`` None when unknown).
        app_accounts: the accounts the app itself trades (their trades are the app's fills).
        end_day: per app account, the last day to draw (the replay day); imports end at their last event.
        kalshi: per Kalshi account, its stored fills and settlements (matched into ``matches``).
    """

    matches: dict[str, list[LotMatch]] = field(default_factory=dict)
    cash_events: dict[str, list[HistoryEvent]] = field(default_factory=dict)
    capital: dict[str, Capital] = field(default_factory=dict)
    app_accounts: list[str] = field(default_factory=list)
    end_day: dict[str, date] = field(default_factory=dict)
    kalshi: dict[str, KalshiHistory] = field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        """App accounts first (in their order), then the imported ones by name."""
        names = set(self.matches) | set(self.cash_events)
        return [a for a in self.app_accounts if a in names or a in self.capital] + sorted(names - set(self.app_accounts))


def load_cash_events(db: Database) -> dict[str, list[HistoryEvent]]:
    """The stored cash-only events (income kinds and transfers), per account, oldest first."""
    cols = [HistoryEventRow.__table__.c[f] for f in _CASH_FIELDS]
    query = (select(*cols).where(HistoryEventRow.kind.in_(sorted(INCOME_KINDS | FLOW_KINDS)))
             .order_by(HistoryEventRow.occurred_at, HistoryEventRow.id))
    out: dict[str, list[HistoryEvent]] = defaultdict(list)
    with db.session() as s:
        for row in s.execute(query):
            event = HistoryEvent(*row)
            out[event.account].append(event)
    return dict(out)


def statement_capital(db: Database) -> dict[str, Capital]:
    """Per account, the starting cash of its earliest recorded statement, in the base currency.

    A currency without a rate to the base currency is left out and named in the source sentence.
    """
    with db.session() as s:
        rows = list(s.scalars(select(StatementCashRow).order_by(StatementCashRow.period_start, StatementCashRow.id)))
    first: dict[str, date] = {}
    for r in rows:
        first.setdefault(r.account, r.period_start)
    out: dict[str, Capital] = {}
    for account, start in first.items():
        mine = [r for r in rows if r.account == account and r.period_start == start]
        total = sum(r.starting * r.fx_rate_to_base for r in mine if r.fx_rate_to_base is not None)
        parts = ", ".join(f"{r.currency} {r.starting:,.2f}" for r in mine if r.fx_rate_to_base is not None)
        left = ", ".join(f"{r.currency} {r.starting:,.2f}" for r in mine if r.fx_rate_to_base is None)
        source = f"the starting cash of the statement {mine[0].file_name} ({start:%Y-%m-%d}): {parts}"
        if left:
            source += f"; not converted (no rate to the base currency in the file): {left}"
        out[account] = Capital(total, source)
    return out


def app_accounts(db: Database) -> list[tuple[int, str, float]]:
    """(id, name, starting cash USD) of the app's accounts, by id."""
    with db.session() as s:
        return [(r.id, r.name, r.starting_cash) for r in s.scalars(select(AccountRow).order_by(AccountRow.id))]


def app_fills(db: Database, account_id: int, up_to: date | None) -> list[Fill]:
    return TradeRepo(db).fills(account_id, up_to)


def fill_events(account: str, fills: Sequence[Fill], settlements: dict[OptionContract, tuple[date, float]]) -> list[HistoryEvent]:
    """The app's fills as trade events (one time per order, so the legs of one order open together
    and separate orders stay separate trades), plus a closing trade at intrinsic value for each
    contract still held after its expiry (``settlements``: contract → (settlement day, price per share)).
    """
    events: list[HistoryEvent] = []
    order_times: dict[str, datetime] = {}
    held: dict[OptionContract, float] = defaultdict(float)
    for fill in fills:
        c = fill.contract
        when = order_times.get(fill.order_ref)
        if when is None:
            when = order_times[fill.order_ref] = (datetime.combine(fill.fill_date, time(10, 0))
                                                  + timedelta(seconds=len(order_times)))
        events.append(HistoryEvent(account, "app", f"app:{fill.order_ref}:{len(events)}", "trade", when, "OPT",
                                   c.local_symbol, c.underlying, c.expiry, c.strike, c.right, float(c.multiplier),
                                   float(fill.qty), float(fill.price),
                                   -fill.qty * fill.price * c.multiplier - fill.commission, fill.commission, "USD",
                                   1.0, "", "", 0))
        held[c] += fill.qty
    for c, qty in held.items():
        if abs(qty) < 1e-9 or c not in settlements:
            continue
        day, price = settlements[c]
        events.append(HistoryEvent(account, "app", f"app:settle:{c.local_symbol}", "trade",
                                   datetime.combine(day, time(16, 0)), "OPT", c.local_symbol,
                                   c.underlying, c.expiry, c.strike, c.right, float(c.multiplier),
                                   -qty, price, qty * price * c.multiplier, 0.0, "USD", 1.0, "C",
                                   "settled at intrinsic value after expiry", 0))
    return events


def app_matches(account: str, fills: Sequence[Fill], settlements: dict[OptionContract, tuple[date, float]]) -> list[LotMatch]:
    """FIFO closed lots of the app's ``fills`` (see :func:`fill_events`)."""
    events = fill_events(account, fills, settlements)
    return realized_pnl(events).matches if events else []


def settle_prices(fills: Sequence[Fill], trading_days: Sequence[date], day: date,
                  settlement_price: Callable[[OptionContract, Sequence[date]], float]) -> dict[OptionContract, tuple[date, float]]:
    """(first trading day after expiry, intrinsic value) of each filled contract expired before ``day``;
    ``settlement_price(contract, trading_days)`` gives the underlying's price (NaN: not settled)."""
    from magnus_desktop.services.portfolio.marking import intrinsic_value

    out: dict[OptionContract, tuple[date, float]] = {}
    for c in {f.contract for f in fills}:
        after = [d for d in trading_days if d > c.expiry]
        if not after or after[0] > day:
            continue
        und = settlement_price(c, trading_days)
        if math.isnan(und):
            continue
        out[c] = (after[0], intrinsic_value(c, float(und)))
    return out
