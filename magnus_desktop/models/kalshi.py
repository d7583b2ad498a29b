"""Kalshi records as our code sees them (frozen dataclasses, no I/O).

The API mixes legacy integer cents (``yes_bid``), fixed-point dollar strings (``yes_bid_dollars``)
and fixed-point count strings (``volume_fp``); :mod:`magnus_desktop.services.kalshi.convert`
converts them once at the boundary. Here every price is integer cents with ``_cents`` in its name
(``None`` when the exchange quotes none), every amount says ``_usd`` or ``_cents``, every count is a
float of contracts, every time is a UTC ``datetime`` (``None`` when absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Side = Literal["yes", "no"]
Action = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class KalshiSeries:
    """A series: the template of recurring events (``KXNFLGAME``: "Professional Football Game")."""

    ticker: str
    title: str
    category: str = ""
    tags: tuple[str, ...] = ()
    frequency: str = ""


@dataclass(frozen=True, slots=True)
class KalshiEvent:
    """An event: one question that groups mutually related markets (e.g. one NFL game)."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str = ""
    category: str = ""
    mutually_exclusive: bool = False
    strike_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class KalshiMarket:
    """One binary market. Prices are cents 1..99 (None = no quote on that side).

    Attributes:
        yes_bid_cents, yes_ask_cents, no_bid_cents, no_ask_cents, last_price_cents: quotes.
        volume, volume_24h, open_interest: contracts. liquidity_usd: the exchange's liquidity figure.
        status: the API's status (``active``/``open``, ``closed``, ``settled``, ``initialized`` …).
    """

    ticker: str
    event_ticker: str
    title: str
    subtitle: str = ""
    yes_sub_title: str = ""
    status: str = ""
    yes_bid_cents: int | None = None
    yes_ask_cents: int | None = None
    no_bid_cents: int | None = None
    no_ask_cents: int | None = None
    last_price_cents: int | None = None
    volume: float = 0.0
    volume_24h: float = 0.0
    open_interest: float = 0.0
    liquidity_usd: float = float("nan")
    open_time: datetime | None = None
    close_time: datetime | None = None
    expiration_time: datetime | None = None
    result: str = ""
    rules_primary: str = ""
    rules_secondary: str = ""
    category: str = ""

    @property
    def is_open(self) -> bool:
        """The market takes orders (``active`` in the API's older wording, ``open`` in the newer)."""
        return self.status in ("active", "open")

    @property
    def label(self) -> str:
        """A one-line name: title, else subtitle, else the ticker."""
        return self.title or self.yes_sub_title or self.subtitle or self.ticker


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Resting bids of both sides, best (highest) first: ``(price_cents, contracts)``.

    Kalshi returns bids only: a YES bid at p is a NO ask at 100 − p. So the best YES ask is
    100 − the best NO bid, and the best NO ask is 100 − the best YES bid.
    """

    ticker: str
    yes_bids: tuple[tuple[int, float], ...] = ()
    no_bids: tuple[tuple[int, float], ...] = ()

    @property
    def best_yes_bid_cents(self) -> int | None:
        return self.yes_bids[0][0] if self.yes_bids else None

    @property
    def best_no_bid_cents(self) -> int | None:
        return self.no_bids[0][0] if self.no_bids else None

    @property
    def best_yes_ask_cents(self) -> int | None:
        """100 − the best NO bid (the reciprocal book); None when no NO bid rests."""
        return 100 - self.no_bids[0][0] if self.no_bids else None

    @property
    def best_no_ask_cents(self) -> int | None:
        """100 − the best YES bid; None when no YES bid rests."""
        return 100 - self.yes_bids[0][0] if self.yes_bids else None

    def yes_asks(self) -> tuple[tuple[int, float], ...]:
        """YES asks implied by the NO bids, best (lowest) first."""
        return tuple((100 - p, q) for p, q in self.no_bids)

    def no_asks(self) -> tuple[tuple[int, float], ...]:
        """NO asks implied by the YES bids, best (lowest) first."""
        return tuple((100 - p, q) for p, q in self.yes_bids)


@dataclass(frozen=True, slots=True)
class Candle:
    """One candlestick of a market's price history (cents; None when nothing traded)."""

    end: datetime
    open_cents: int | None
    high_cents: int | None
    low_cents: int | None
    close_cents: int | None
    yes_bid_close_cents: int | None = None
    yes_ask_close_cents: int | None = None
    volume: float = 0.0
    open_interest: float = 0.0


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One trade on the exchange: YES price in cents, contracts, the taker's side."""

    trade_id: str
    ticker: str
    yes_price_cents: int
    count: float
    taker_side: str
    created_time: datetime | None


@dataclass(frozen=True, slots=True)
class Balance:
    """The account's cash available to trade and its positions' value, cents."""

    balance_cents: int
    portfolio_value_cents: int
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class KalshiPosition:
    """A market position: ``position`` > 0 YES contracts, < 0 NO contracts (signed, as the API).

    Attributes:
        market_exposure_usd: cost of the position, USD. realized_pnl_usd, fees_paid_usd: USD.
    """

    ticker: str
    position: float
    market_exposure_usd: float
    realized_pnl_usd: float
    fees_paid_usd: float
    total_traded_usd: float = 0.0
    resting_orders_count: int = 0


@dataclass(frozen=True, slots=True)
class KalshiFill:
    """One of our fills: side, action, contracts, prices in cents, fee USD."""

    fill_id: str
    order_id: str
    ticker: str
    side: Side
    action: Action
    count: float
    yes_price_cents: int
    no_price_cents: int
    is_taker: bool
    fee_usd: float
    created_time: datetime | None


@dataclass(frozen=True, slots=True)
class KalshiSettlement:
    """How one of our markets settled (``GET /portfolio/settlements``).

    Attributes:
        market_result: ``yes``, ``no``, ``scalar`` or ``void`` (void: positions returned at cost).
        yes_count, no_count: contracts of each side held at settlement.
        yes_cost_cents, no_cost_cents: their total cost basis, integer cents.
        revenue_cents: the payout, integer cents (a winning contract pays 100).
        value_cents: the payout of one YES contract in cents (a scalar market), None when not given.
        fee_usd: fees charged at settlement, USD.
    """

    ticker: str
    event_ticker: str
    market_result: str
    yes_count: float
    no_count: float
    yes_cost_cents: int
    no_cost_cents: int
    revenue_cents: int
    value_cents: int | None
    fee_usd: float
    settled_time: datetime | None

    @property
    def yes_payout_cents(self) -> int | None:
        """What one YES contract paid, in cents: 100 (yes), 0 (no), ``value_cents`` (scalar);
        None for a void market (returned at cost) or a scalar without a value."""
        if self.market_result == "yes":
            return 100
        if self.market_result == "no":
            return 0
        if self.market_result == "scalar":
            return self.value_cents
        return None


@dataclass(frozen=True, slots=True)
class KalshiOrder:
    """One of our orders as the exchange reports it (``status``: resting, canceled, executed)."""

    order_id: str
    client_order_id: str
    ticker: str
    side: Side
    action: Action
    type: str
    status: str
    yes_price_cents: int | None
    no_price_cents: int | None
    initial_count: float
    fill_count: float
    remaining_count: float
    taker_fees_usd: float = 0.0
    maker_fees_usd: float = 0.0
    fill_cost_usd: float = 0.0
    created_time: datetime | None = None

    @property
    def avg_fill_price_usd(self) -> float:
        """Average fill price of the side ordered, USD per contract (NaN before a fill)."""
        return self.fill_cost_usd / self.fill_count if self.fill_count > 0 else float("nan")

    @property
    def price_cents(self) -> int | None:
        """The limit price of the side ordered."""
        return self.yes_price_cents if self.side == "yes" else self.no_price_cents


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A limit order we send: ``count`` whole contracts of ``side`` at ``price_cents`` (1..99).

    ``client_order_id`` makes it idempotent: the exchange refuses a second order with the same id,
    and the client sends the same id on every retry.
    """

    ticker: str
    side: Side
    action: Action
    count: int
    price_cents: int
    client_order_id: str
    time_in_force: str = "good_till_canceled"


def market_title(m: KalshiMarket, event: KalshiEvent | None) -> str:
    """The market's own title, or (older markets carry none) its event's title — the market's subtitle."""
    if m.title or event is None or not event.title:
        return m.label
    sub = m.yes_sub_title or m.subtitle
    return f"{event.title} — {sub}" if sub and sub != event.title else event.title
