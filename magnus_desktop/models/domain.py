"""Domain values shared by every layer.

Units (everywhere): prices in USD per share unless a name ends in ``_cents``; ``iv`` is an annualised
decimal (0.20 = 20 %); ``theta`` per calendar day per share; ``vega`` per 1 vol point; ``dte`` in
calendar days; quantities are signed (short < 0); a missing price is ``nan``, never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from magnus_desktop.models.market import StockContract

Right = Literal["C", "P"]

#: Canonical columns of an option-chain table (``pandas.DataFrame``) produced by every chain loader.
#: ``quote_date`` and ``expiry`` are ``datetime64`` (day precision), ``right`` is ``"C"``/``"P"``,
#: ``und_price`` is the underlying's price at the quote, prices in USD per share (NaN when missing),
#: ``volume``/``open_interest`` float64 (NaN when the source has none).
CHAIN_COLUMNS: tuple[str, ...] = (
    "underlying",
    "quote_date",
    "und_price",
    "expiry",
    "strike",
    "right",
    "bid",
    "ask",
    "last",
    "volume",
    "open_interest",
)

#: Columns of a scanner result, in display/export order (see ``analytics.scanner``).
SCAN_COLUMNS: tuple[str, ...] = (
    "underlying",
    "expiry",
    "dte",
    "strike",
    "right",
    "bid",
    "ask",
    "mid",
    "spread_pct",
    "open_interest",
    "iv",
    "delta",
    "prob_otm",
    "return_on_collateral",
    "annualized_return",
    "score",
)

NAN = math.nan


@dataclass(frozen=True, slots=True)
class OptionContract:
    """One listed option.

    Attributes:
        underlying: root/ticker as quoted (``"SPXW"``).
        expiry: last trading day.
        strike: USD.
        right: ``"C"`` or ``"P"``.
        multiplier: shares (or index units) per contract; 100 for US equity and SPX options.
        con_id: the broker's contract id where it has one (IB ``conId``); not part of equality,
            so a contract from the replay and the same one from the broker compare equal.
    """

    underlying: str
    expiry: date
    strike: float
    right: Right
    multiplier: int = 100
    con_id: int | None = field(default=None, compare=False)

    @property
    def local_symbol(self) -> str:
        """OCC-style symbol, e.g. ``SPXW  180131P02600000``."""
        return f"{self.underlying:<6}{self.expiry:%y%m%d}{self.right}{round(self.strike * 1000):08d}"

    def dte(self, as_of: date) -> int:
        """Calendar days from ``as_of`` to expiry (0 on expiry day, negative after)."""
        return (self.expiry - as_of).days

    def describe(self) -> str:
        """Human label, e.g. ``SPXW 2018-01-31 2600 P``."""
        return f"{self.underlying} {self.expiry.isoformat()} {self.strike:g} {self.right}"


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily OHLCV bar (USD per share; ``volume`` in shares, NaN for an index)."""

    symbol: str
    day: date
    open: float
    high: float
    low: float
    close: float
    volume: float = NAN


@dataclass(frozen=True, slots=True)
class Quote:
    """Latest daily quote of a symbol as of a replay date.

    ``as_of`` is the date of the bar used. When the recorded series has no bar for the asked day's
    trading session (it ends earlier), ``as_of`` is that older bar's date and ``stale`` is True:
    ``last`` is then the close of ``as_of`` and ``change``/``change_pct`` describe the move *on*
    ``as_of``, not a move on the asked day.

    Attributes:
        last: close of the ``as_of`` bar, USD per share (index points for VIX/SPX).
        prev_close: close of the bar before ``as_of``, same unit; NaN when there is none.
        volume: shares traded on ``as_of``; NaN when the source has no volume.
        stale: the bar is older than the asked day's trading session.
        source: where it came from (a ``DataSource``: the bundled data is ``"replay"``).
        quoted_at: when an intraday quote (a broker session, yfinance) was true (timezone-aware);
            None for a daily bar (true at the close of ``as_of``).
        delayed: the source delivers delayed data (yfinance, IB delayed).
    """

    symbol: str
    as_of: date
    last: float
    prev_close: float
    volume: float
    stale: bool = False
    source: str = "replay"
    quoted_at: datetime | None = None
    delayed: bool = False

    @property
    def change(self) -> float:
        """``last - prev_close`` (USD per share) on the ``as_of`` bar; NaN without a previous close."""
        return self.last - self.prev_close

    @property
    def change_pct(self) -> float:
        """Change versus the previous close as a decimal fraction (0.05 = +5 %), like every other
        ``_pct`` field; NaN without a previous close."""
        if not self.prev_close or math.isnan(self.prev_close):
            return NAN
        return self.last / self.prev_close - 1.0


@dataclass(frozen=True, slots=True)
class Fill:
    """An executed (paper or broker) trade.

    Attributes:
        qty: signed contracts (sell < 0).
        price: USD per share (premium per share for options).
        commission: USD, total for the fill (>= 0).
        order_ref: idempotent client order reference.
    """

    contract: OptionContract
    qty: int
    price: float
    commission: float
    fill_date: date
    order_ref: str
    account_id: int = 1


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A marked option position as shown in the Positions dock.

    Greeks are position-level, shares-equivalent: ``delta`` = per-share delta x qty x multiplier
    (shares), ``gamma`` likewise per 1 USD, ``theta`` USD per calendar day, ``vega`` USD per vol point.
    ``collateral`` is the cash secured (USD) by a short put: strike x multiplier x |qty|.
    ``pct_max_profit`` is the share of the opening credit already captured (short) or NaN (long).
    ``und_price`` is the contract's own underlying (USD per share; index points for SPX).
    ``source`` / ``as_of`` say where the mark's quote came from and when it was true (UTC; the
    replay's marks are as of the replay day's close); "" / None for a position built without one.
    ``greeks_source`` says where the Greeks came from for a broker's position ("IB model" =
    the broker's streamed model Greeks; "model" = our Black-Scholes from the quote's mid); "" =
    ours from the replay's mid. A real account's stock position has a ``StockContract``
    (``models.market``): delta = qty shares, gamma/theta/vega 0, iv and dte NaN.
    """

    contract: OptionContract | StockContract
    qty: int
    avg_cost: float
    mark: float
    market_value: float
    unrealized_pnl: float
    delta: float
    gamma: float
    theta: float
    vega: float
    iv: float
    dte: int
    pct_max_profit: float
    collateral: float
    und_price: float = NAN
    source: str = ""
    as_of: datetime | None = None
    greeks_source: str = ""


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Account totals (USD) at a replay date. ``buying_power`` = cash - collateral used.

    For a real broker account (``source`` "ib"/"robinhood") the totals are the broker's own
    (net liquidation, cash, buying power; ``collateral_used`` = its maintenance margin),
    ``as_of`` is the local date, ``updated_at`` (UTC) when the broker last sent anything, and
    ``realized_pnl`` is NaN (the broker's account values carry none). ``account`` names the account.
    """

    as_of: date
    cash: float
    market_value: float
    net_liquidation: float
    collateral_used: float
    buying_power: float
    realized_pnl: float
    unrealized_pnl: float
    net_delta: float
    theta_per_day: float
    positions: tuple[PositionSnapshot, ...] = field(default_factory=tuple)
    source: str = "replay"
    account: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WatchlistItem:
    """One symbol of a watchlist. ``exchange`` as given by TradingView (``"NASDAQ"``) or ``""``;
    ``section`` is the ``###Section`` header it was imported under, or ``""``."""

    symbol: str
    exchange: str = ""
    section: str = ""


@dataclass(frozen=True, slots=True)
class Watchlist:
    """A named, ordered list of symbols (``position`` orders the lists among themselves)."""

    watchlist_id: int
    name: str
    position: int
    items: tuple[WatchlistItem, ...] = ()


Action = Literal["BUY", "SELL"]
#: ``"MKT"`` fills at the quote; ``"LMT"`` only at ``limit_price`` or better.
OrderType = Literal["MKT", "LMT"]
#: ``"DAY"`` expires at the close of the trade day; ``"GTC"`` works until filled or cancelled.
TimeInForce = Literal["DAY", "GTC"]
#: ``"auto"`` opens or closes by what the account holds; ``"open"``/``"close"`` say it explicitly
#: (buy/sell to open, buy/sell to close) and the rules refuse a ticket that would do otherwise.
PositionEffect = Literal["auto", "open", "close"]
#: The combos a :class:`ComboTicket` can be.
Strategy = Literal["vertical", "iron_condor", "roll", "calendar"]


def _order_type_of(order_type: str, limit_price: float) -> str:
    """An unset order type follows the limit: NaN = market, any other value = limit."""
    if order_type:
        return order_type
    return "MKT" if isinstance(limit_price, float | int) and math.isnan(limit_price) else "LMT"


@dataclass(frozen=True, slots=True)
class OrderLeg:
    """One leg of a ticket: a contract (an option, or a ``StockContract``), a side and a ratio.

    Attributes:
        ratio: units of this leg per unit of the ticket (>= 1); contracts for an option, shares
            for a stock.
    """

    contract: OptionContract | StockContract
    action: Action
    ratio: int = 1

    def signed_qty(self, qty: int) -> int:
        """Signed units of this leg for ``qty`` units of the ticket (sell < 0)."""
        return -qty * self.ratio if self.action == "SELL" else qty * self.ratio


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A single-leg order (an option, or a stock) as the trader confirmed it.

    Attributes:
        contract: an ``OptionContract``, or a ``StockContract`` (``models.market``) for shares.
        action: ``"SELL"`` (to open a short / close a long) or ``"BUY"``.
        qty: contracts (shares for a stock), > 0 (the sign comes from ``action``).
        limit_price: USD per share; ``nan`` = a market order (fills at the quoted bid for a sell,
            ask for a buy).
        order_ref: idempotent client reference; a second submission with the same ref is ignored.
        order_type: ``"MKT"``/``"LMT"``; left empty it follows ``limit_price`` (NaN = ``"MKT"``), so
            a limit order with a NaN price is an explicit ``order_type="LMT"`` the rules refuse.
        tif: ``"DAY"`` or ``"GTC"``.
        position_effect: ``"auto"``, ``"open"`` or ``"close"`` (buy/sell to open/close).
        currency: of the prices; the accounts trade USD only.
    """

    contract: OptionContract | StockContract
    action: Action
    qty: int
    limit_price: float
    order_ref: str
    trade_date: date
    account_id: int = 1
    order_type: OrderType = ""  # type: ignore[assignment]  # set in __post_init__
    tif: TimeInForce = "DAY"
    position_effect: PositionEffect = "auto"
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "order_type", _order_type_of(self.order_type, self.limit_price))

    @property
    def signed_qty(self) -> int:
        return -self.qty if self.action == "SELL" else self.qty

    @property
    def legs(self) -> tuple[OrderLeg, ...]:
        """The ticket as one leg of ratio 1."""
        return (OrderLeg(self.contract, self.action, 1),)

    @property
    def strategy(self) -> str:
        return "single"


@dataclass(frozen=True, slots=True)
class ComboTicket:
    """A multi-leg option order filled as one: all legs at one net price, or none.

    ``strategy`` says what the legs must form (checked by ``services.orders.rules``):
        ``"vertical"``     two options of one underlying, expiry and right, other strikes, one bought
                           and one sold;
        ``"iron_condor"``  a put vertical below a call vertical, one underlying and expiry;
        ``"roll"``         close a held option and open the same right of the same underlying at a
                           later expiry and/or another strike.
        ``"calendar"``     sell an option of the near expiry and buy the same strike and right of a
                           later expiry (a long time spread).

    Attributes:
        legs: the legs (a roll: the closing leg first, then the opening leg; a calendar: the sold near
            leg, then the bought far leg).
        qty: units of the combo (> 0); each leg trades ``qty × ratio`` contracts.
        limit_price: net USD per share, signed as cash: ``> 0`` = a net credit of at least this,
            ``< 0`` = a net debit of at most ``-limit_price``; ``nan`` = market (the natural price:
            sells at the bid, buys at the ask).
        order_ref, trade_date, account_id, order_type, tif, currency: as on ``OrderTicket``.
    """

    strategy: Strategy
    legs: tuple[OrderLeg, ...]
    qty: int
    limit_price: float
    order_ref: str
    trade_date: date
    account_id: int = 1
    order_type: OrderType = ""  # type: ignore[assignment]  # set in __post_init__
    tif: TimeInForce = "DAY"
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "order_type", _order_type_of(self.order_type, self.limit_price))

    @property
    def position_effect(self) -> PositionEffect:
        return "auto"

    def describe(self) -> str:
        """``"vertical: SELL SPXW 2018-01-31 2600 P / BUY SPXW 2018-01-31 2550 P"``."""
        return f"{self.strategy.replace('_', ' ')}: " + " / ".join(
            f"{leg.action} {_describe(leg.contract)}" for leg in self.legs)


#: Any ticket the order rules (``services.orders.rules``) and the brokers accept.
Ticket = OrderTicket | ComboTicket


def _describe(contract: OptionContract | StockContract) -> str:
    return contract.describe() if isinstance(contract, OptionContract) else contract.symbol


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A stored trading account. ``kind`` is ``"demo"``, ``"ib"`` or ``"robinhood"``;
    ``starting_cash`` in USD."""

    account_id: int
    name: str
    kind: str
    starting_cash: float
