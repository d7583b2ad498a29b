"""Typed market, account and order-status values exchanged across the MarketData/Broker seams.

Every value carries where it came from (``source``) and when it was true (``as_of``, timezone-aware
UTC): the UI labels delayed or stale data with its age and never shows it as live.

Units: prices USD per share (options: premium per share; multiply by ``multiplier`` for a
contract), ``iv`` annualised decimal, ``delta`` per share, ``gamma`` per 1 USD, ``theta`` USD per
calendar day per share, ``vega`` USD per 1 vol point per share; a missing price is ``nan``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from magnus_desktop.models.domain import NAN, OptionContract, Ticket

#: Where a value came from: a broker session, Yahoo Finance (delayed), or the bundled replay.
DataSource = Literal["ib", "robinhood", "yfinance", "replay", "paper"]

#: Order lifecycle as every broker reports it (keyed by the client's ``order_ref``).
OrderState = Literal["submitted", "partially_filled", "filled", "cancelled", "rejected"]

#: Connection state of the one broker session.
SessionState = Literal["disconnected", "connecting", "connected", "reconnecting", "failed"]


@dataclass(frozen=True, slots=True)
class StockContract:
    """A stock, ETF or index. ``con_id`` is the broker's id where it has one (IB conId)."""

    symbol: str
    exchange: str = "SMART"
    currency: str = "USD"
    sec_type: Literal["STK", "IND"] = "STK"
    con_id: int | None = None


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """Latest price of a stock/index.

    Attributes:
        last: last trade, USD per share (``nan`` if none).
        bid, ask: USD per share (``nan`` if none).
        prev_close: previous session's close, USD per share.
        volume: shares today (``nan`` for an index).
        source: where it came from; ``delayed`` is True for delayed feeds (yfinance, IB delayed).
        as_of: when the quote was true (UTC).
    """

    symbol: str
    last: float
    bid: float
    ask: float
    prev_close: float
    volume: float
    source: DataSource
    as_of: datetime
    delayed: bool = False

    @property
    def mid(self) -> float:
        """``(bid + ask) / 2``; ``nan`` when either side is missing."""
        return (self.bid + self.ask) / 2.0 if _finite(self.bid, self.ask) else NAN


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One option's quote, with the broker's model Greeks where it sends them.

    Attributes:
        bid, ask, last: USD per share; ``nan`` if missing.
        volume, open_interest: contracts; ``nan`` if unknown.
        und_price: underlying price used by the quote's Greeks, USD.
        iv: annualised decimal; delta per share; gamma per 1 USD; theta USD/calendar day/share;
            vega USD per 1 vol point per share (all ``nan`` when the source sends none).
    """

    contract: OptionContract
    bid: float
    ask: float
    last: float
    volume: float
    open_interest: float
    und_price: float
    source: DataSource
    as_of: datetime
    iv: float = NAN
    delta: float = NAN
    gamma: float = NAN
    theta: float = NAN
    vega: float = NAN
    delayed: bool = False

    @property
    def mid(self) -> float:
        """``(bid + ask) / 2``; ``nan`` when either side is missing."""
        return (self.bid + self.ask) / 2.0 if _finite(self.bid, self.ask) else NAN


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """A position as the broker reports it (real accounts are never rebuilt from local fills).

    ``qty`` signed (short < 0) in shares or contracts; ``avg_cost`` USD per share (IB reports per
    contract for options: adapters divide by the multiplier at the boundary).
    """

    account: str
    contract: OptionContract | StockContract
    qty: float
    avg_cost: float
    source: DataSource
    as_of: datetime


@dataclass(frozen=True, slots=True)
class AccountValues:
    """Account totals as the broker reports them (USD unless ``currency`` says otherwise)."""

    account: str
    net_liquidation: float
    cash: float
    buying_power: float
    maint_margin: float
    currency: str
    source: DataSource
    as_of: datetime


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One status change of an order, keyed by the client's idempotent ``order_ref``.

    Attributes:
        filled_qty, remaining_qty: contracts or shares (unsigned).
        avg_fill_price: USD per share, ``nan`` before any fill.
        broker_order_id: the broker's id as text ("" before the broker knows it).
        message: the broker's or our rules' reason (rejections, cancels).
        ticket: the order as sent, where the publisher has it (paper broker, ``OrderService``);
            None otherwise (a real broker's report of an order this app session did not send).
        preview: the ``services.orders.rules.TicketPreview`` the ticket was sent (or refused) with,
            filled in by ``OrderService``; None otherwise (models cannot name the services' type).
    """

    order_ref: str
    state: OrderState
    filled_qty: float
    remaining_qty: float
    avg_fill_price: float
    broker_order_id: str
    message: str
    source: DataSource
    at: datetime
    ticket: Ticket | None = None
    preview: Any = None


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill as the broker reports it. ``qty`` signed (sell < 0); ``price`` USD per share;
    ``commission`` USD total (``nan`` until the broker reports it)."""

    exec_id: str
    order_ref: str
    account: str
    contract: OptionContract | StockContract
    qty: float
    price: float
    commission: float
    at: datetime
    source: DataSource


_NEW_YORK = ZoneInfo("America/New_York")
_CLOSE = time(16, 0)


def close_of(day: date) -> datetime:
    """The US cash close of ``day`` (16:00 America/New_York), timezone-aware: the ``as_of`` of an
    end-of-day value."""
    return datetime.combine(day, _CLOSE, tzinfo=_NEW_YORK)


def describe_source(source: str, as_of: datetime | None, *, today: date | None = None,
                    delayed: bool = False) -> str:
    """Where a shown value came from and when it was true, for labels and tooltips.

    ``"replay · as of 2018-02-06 close"`` for an end-of-day value (16:00 New York);
    ``"yfinance · delayed · as of 2018-02-06 10:31 ET"`` for an intraday one. With ``today`` (the
    day the screen stands at: the replay day, or the real date), an older value says its age:
    ``"replay · as of 2018-01-19 close · 12 days old"``. Nothing is ever called "live" here.

    Args:
        source: a ``DataSource`` ("replay", "ib", "yfinance", ...).
        as_of: when the value was true (timezone-aware; naive = New York time); None = unknown.
        today: the day the value is shown for; None = no age check.
        delayed: the source delivers delayed data.
    """
    parts = [source or "unknown source"]
    if delayed:
        parts.append("delayed")
    if as_of is None:
        parts.append("time unknown")
        return " · ".join(parts)
    ny = as_of.astimezone(_NEW_YORK) if as_of.tzinfo is not None else as_of
    when = "close" if ny.time() == _CLOSE else f"{ny:%H:%M} ET"
    parts.append(f"as of {ny.date().isoformat()} {when}")
    if today is not None and ny.date() < today:
        age = (today - ny.date()).days
        parts.append(f"{age} day{'s' if age != 1 else ''} old")
    return " · ".join(parts)


def _finite(*values: float) -> bool:
    return all(isinstance(v, float | int) and math.isfinite(v) for v in values)
