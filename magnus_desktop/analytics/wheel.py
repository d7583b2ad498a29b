"""The wheel, cycle by cycle, from imported trade history: put sold → assigned → call sold →
called away. Pure Python, no I/O.

Input: ``models.history.HistoryEvent`` (or ``PositionEvent``) values (any order; sorted here, stably, by
``occurred_at``). Only equity options (``OPT``) and their underlying's shares (``STK``) take part;
futures options, cash events and long options (bought to open) are not wheel legs.

Per account and underlying a cycle:

- starts with a short put sold to open (or, with no put, with shares bought while no cycle is
  open: a covered-call cycle that starts at "shares bought");
- collects premium: the net cash of every short option leg (sold to open: credit; bought to
  close: debit), commissions included, in the trade currency;
- becomes "assigned" when a short put is assigned (the shares bought at the strike arrive as a
  stock event of the same underlying), "call sold" when a call is sold against the shares,
  "called away" when a short call is assigned and the shares leave;
- ends when no short option and no share is left: "put expired" / "put closed" (never
  assigned), "called away", or "shares sold".

Amounts are in the cycle's currency (USD for US equity options); per-share figures are per share
of the underlying. ``effective_cost_basis`` = (stock cost - premium collected) / shares held,
i.e. what each share really cost once the premiums are counted: USD per share.
Cycles with no short option leg at all (plain share trades) are not reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from magnus_desktop.analytics.realized import ContractKeys
from magnus_desktop.models.history import HistoryEvent, PositionEvent

_EPS = 1e-9
_STAGE_BY_STEP = {
    "put sold": "put sold", "put assigned": "assigned", "call sold": "call sold", "called away": "called away",
}


@dataclass(frozen=True, slots=True)
class WheelStep:
    """One leg of a cycle: when, what (``"put sold"``, ``"put assigned"``, ``"call sold"``,
    ``"call expired"``, ``"called away"``, ...), the contract or shares, qty (signed), and the cash
    it moved (``amount``, trade currency, credit > 0)."""

    occurred_at: datetime
    step: str
    symbol: str
    qty: float
    amount: float


@dataclass(slots=True)
class WheelCycle:
    """One wheel cycle of one underlying (see the module docstring for every figure's unit).

    Attributes:
        stage: where the cycle is: ``"put sold"``, ``"assigned"``, ``"call sold"``,
            ``"shares bought"`` while open; ``"called away"``, ``"put expired"``,
            ``"put closed"``, ``"shares sold"`` once closed.
        premium: net option premium collected, currency (credit > 0).
        shares: shares held now (0 once called away).
        stock_cost: cash paid for the shares held or sold in the cycle, currency (> 0).
        stock_proceeds: cash received for shares sold or called away, currency (> 0).
        puts_sold, calls_sold: short option contracts sold to open.
    """

    account: str
    underlying: str
    currency: str
    opened_at: datetime
    closed_at: datetime | None = None
    stage: str = "put sold"
    premium: float = 0.0
    shares: float = 0.0
    stock_cost: float = 0.0
    stock_proceeds: float = 0.0
    puts_sold: float = 0.0
    calls_sold: float = 0.0
    steps: list[WheelStep] = field(default_factory=list)
    _short: dict[str, float] = field(default_factory=dict, repr=False)  # contract_key -> open short qty (< 0)
    _assigned: bool = field(default=False, repr=False)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def effective_cost_basis(self) -> float | None:
        """(stock cost - premium) / shares held, USD per share; None without shares."""
        if self.shares <= _EPS:
            return None
        return (self.stock_cost - self.premium) / self.shares

    @property
    def realized(self) -> float | None:
        """Premium + stock proceeds - stock cost, currency, once the cycle is closed; else None."""
        if self.is_open:
            return None
        return self.premium + self.stock_proceeds - self.stock_cost


def wheel_cycles(events: Iterable[HistoryEvent | PositionEvent]) -> list[WheelCycle]:
    """Every wheel cycle in ``events`` (see the module docstring), oldest first."""
    ordered = sorted((e for e in events if _is_wheel_event(e)), key=lambda e: e.occurred_at)
    current: dict[tuple[str, str], WheelCycle] = {}
    longs: dict[tuple[str, str], float] = {}  # (account, contract) -> long option qty (not wheel legs)
    cycles: list[WheelCycle] = []
    contract_key = ContractKeys()
    for e in ordered:
        key = (e.account, e.underlying)
        cycle = current.get(key)
        if e.asset_category == "OPT":
            ck = contract_key(e)
            if _long_leg(longs, cycle, e, ck):
                continue
            cycle = _option_event(cycle, e, ck)
        else:
            cycle = _stock_event(cycle, e)
        if cycle is None:
            continue
        if key not in current:
            current[key] = cycle
            cycles.append(cycle)
        if _finished(cycle):
            cycle.closed_at = e.occurred_at
            del current[key]
    return [c for c in cycles if c.puts_sold > 0 or c.calls_sold > 0]


def _is_wheel_event(e: HistoryEvent) -> bool:
    if e.asset_category == "OPT":
        return e.right in ("C", "P") and e.qty != 0
    return e.asset_category == "STK" and e.kind in ("trade", "assignment", "exercise") and e.qty != 0


def _long_leg(longs: dict[tuple[str, str], float], cycle: WheelCycle | None, e: HistoryEvent,
              contract_key: str) -> bool:
    """Book a long option's open/close (not a wheel leg); True when ``e`` was one."""
    ident = (e.account, contract_key)
    held = longs.get(ident, 0.0)
    short_open = cycle._short.get(contract_key, 0.0) if cycle else 0.0
    if e.qty > 0 and e.kind == "trade" and short_open >= -_EPS and e.open_close != "C":
        longs[ident] = held + e.qty  # bought to open
        return True
    if e.qty < 0 and held > _EPS and e.open_close != "O":
        longs[ident] = max(held + e.qty, 0.0)  # sold to close (or expired/exercised)
        return True
    if e.kind != "trade" and held > _EPS and short_open >= -_EPS:
        longs[ident] = max(held - abs(e.qty), 0.0)
        return True
    return False


def _option_event(cycle: WheelCycle | None, e: HistoryEvent, contract_key: str) -> WheelCycle | None:
    right = "put" if e.right == "P" else "call"
    short_open = cycle._short.get(contract_key, 0.0) if cycle else 0.0
    if e.kind == "trade" and e.qty < 0:  # sold to open (longs were booked before)
        if cycle is None:
            if right == "call":
                return None  # a call sold with no shares and no put in the history: not a wheel leg
            cycle = WheelCycle(e.account, e.underlying, e.currency, e.occurred_at)
        cycle._short[contract_key] = short_open + e.qty
        cycle.premium += e.amount
        if right == "put":
            cycle.puts_sold += -e.qty
        else:
            cycle.calls_sold += -e.qty
        _step(cycle, e, f"{right} sold")
        return cycle
    if cycle is None or short_open >= -_EPS:
        return None  # a short opened before the history began: its cycle is unknown
    closed = min(abs(e.qty), -short_open)
    cycle._short[contract_key] = short_open + closed
    if e.kind == "trade":
        cycle.premium += e.amount
        _step(cycle, e, f"{right} bought back")
    elif e.kind == "assignment":
        if right == "put":
            cycle._assigned = True
        _step(cycle, e, "put assigned" if right == "put" else "called away")
    else:
        _step(cycle, e, f"{right} {'expired' if e.kind == 'expiration' else 'exercised'}")
    return cycle


def _stock_event(cycle: WheelCycle | None, e: HistoryEvent) -> WheelCycle | None:
    if cycle is None:
        if e.qty < 0:
            return None  # shares sold that no cycle holds
        cycle = WheelCycle(e.account, e.underlying, e.currency, e.occurred_at, stage="shares bought")
    if e.qty > 0:
        cycle.stock_cost += -e.amount
    else:
        cycle.stock_proceeds += e.amount
    cycle.shares += e.qty
    if e.qty > 0 and cycle.stage not in ("assigned", "call sold"):
        cycle.stage = "assigned" if cycle._assigned else "shares bought"
    cycle.steps.append(WheelStep(e.occurred_at, "shares bought" if e.qty > 0 else "shares sold",
                                 e.symbol, e.qty, e.amount))
    return cycle


def _step(cycle: WheelCycle, e: HistoryEvent, step: str) -> None:
    cycle.steps.append(WheelStep(e.occurred_at, step, e.symbol, e.qty, e.amount))
    stage = _STAGE_BY_STEP.get(step)
    if stage == "put sold" and cycle.shares > _EPS:
        stage = None  # a put sold while holding shares does not undo the assignment
    if stage is not None:
        cycle.stage = stage


def _finished(cycle: WheelCycle) -> bool:
    """No short option and no share left: name the way the cycle ended."""
    if any(q < -_EPS for q in cycle._short.values()) or cycle.shares > _EPS:
        return False
    if cycle._assigned and cycle.stock_cost == 0.0:
        return False  # the put was assigned; its shares arrive as the next stock event
    last = cycle.steps[-1].step
    if cycle.stock_cost > 0 or cycle.stock_proceeds > 0:
        cycle.stage = "called away" if last == "called away" or cycle.stage == "called away" else "shares sold"
    elif last == "put expired":
        cycle.stage = "put expired"
    else:
        cycle.stage = "put closed"
    return True
