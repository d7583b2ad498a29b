"""Performance analytics of the trade history: daily equity, return ratios and trade statistics.

Pure (NumPy/pandas, ``empyrical-reloaded`` for the standard ratios), no I/O and no Qt.

**How the equity is built** (a *realized* equity curve; open positions are not marked)::

    pnl[d]    = realized P&L of the lots closed on day d (FIFO, commissions included;
                ``analytics.realized``) + dividends, interest, fees, taxes and stock-lending income
                booked on day d                                          (base currency)
    flow[d]   = deposits and withdrawals (``transfer`` events) on day d   (base currency)
    equity[d] = starting_capital + cumsum(pnl + flow)[d]
    r[d]      = pnl[d] / equity[d-1]        (flows are taken at the end of the day, so they
                                             move the equity but are not a return)

Days are business days (Mon-Fri) from the first day with an event (a closed lot's opening day
included) to the last; a day without events has ``pnl = 0``. ``starting_capital`` is the cash at the start (the statement's own
starting cash where known, else the app account's starting cash, else ``Settings``); without it
no percentage return (and no ratio) can be computed, only the USD figures.

**Ratios** (``empyrical-reloaded`` 0.7.1, 252 trading days a year): total return = the compounded
daily returns; annualised return (CAGR) = (1 + total) ** (252 / days) - 1; volatility = std(r,
ddof=1) * sqrt(252); Sharpe = mean(r - rf) / std(r - rf, ddof=1) * sqrt(252); Sortino = mean(r -
rf) * 252 / (sqrt(mean(min(r - rf, 0) ** 2)) * sqrt(252)); max drawdown = the largest fall of the
compounded equity from its running peak (a negative decimal); Calmar = CAGR / |max drawdown|. The
daily risk-free rate is ``exp(risk_free_rate / 252) - 1`` (``Settings.risk_free_rate`` is annual,
continuously compounded).

**Trades**: the closed lots (``LotMatch``) of one account opened at the same moment and closed
on the same day on one underlying are one trade (the legs of a vertical or a condor are filled
together); its strategy is read from its legs (see :func:`classify_legs`). Win rate = wins / trades
(a trade with P&L > 0 wins); profit factor = gross wins / |gross losses| (inf without a loss);
expectancy = mean P&L per trade (= win rate x avg win + (1 - win rate) x avg loss).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from magnus_desktop.analytics.realized import LotMatch, month_of
from magnus_desktop.models.history import HistoryEvent

TRADING_DAYS = 252
#: cash-only event kinds whose amount is P&L (income or cost); ``transfer`` is a flow
INCOME_KINDS = frozenset({"dividend", "interest", "fee", "tax", "lending"})
FLOW_KINDS = frozenset({"transfer"})

#: strategy names (the "by strategy" rows)
WHEEL_CSP = "Wheel: cash-secured put"
WHEEL_CC = "Wheel: covered call"
VERTICAL = "Vertical"
CONDOR = "Iron condor"
LONG_OPTION = "Long option"
OTHER_OPTIONS = "Other option combo"
STOCK = "Stock"
FUTURES = "Futures"
FUTURES_OPTIONS = "Futures options"
KALSHI = "Kalshi"


class PerformanceInputError(ValueError):
    """The input cannot give a performance figure (the message says what is missing)."""


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """Daily realized equity (module docstring), base currency.

    Attributes:
        frame: one row per business day (DatetimeIndex), columns ``pnl``, ``flow``, ``equity``
            (USD/base) and ``returns`` (decimal; NaN when ``starting_capital`` is None, or on a
            day whose previous equity is <= 0).
        starting_capital: the cash at the start (None when unknown).
        capital_source: where ``starting_capital`` comes from, for the trader to read.
    """

    frame: pd.DataFrame
    starting_capital: float | None
    capital_source: str

    @property
    def days(self) -> int:
        return len(self.frame)

    @property
    def returns(self) -> pd.Series:
        return self.frame["returns"]


def daily_equity(matches: Iterable[LotMatch], cash_events: Iterable[HistoryEvent],
                 starting_capital: float | None, capital_source: str = "") -> EquityCurve:
    """The daily realized equity of one account (see the module docstring).

    Args:
        matches: closed lots (``HistorySnapshot.matches`` of the account, app fills included).
        cash_events: the account's events; only :data:`INCOME_KINDS` and :data:`FLOW_KINDS` are read.
        starting_capital: base-currency cash at the start, or None when unknown (no returns).
        capital_source: a sentence naming where ``starting_capital`` comes from.

    Raises:
        PerformanceInputError: no closed trade and no cash event (nothing to build from), or a
            non-finite amount (the message names the event).
    """
    pnl: dict[date, float] = defaultdict(float)
    flow: dict[date, float] = defaultdict(float)
    first_open: date | None = None
    for m in matches:
        opened = _day(m.opened_at)
        first_open = opened if first_open is None or opened < first_open else first_open
        value = m.realized * m.fx_rate_to_base
        if not math.isfinite(value):
            raise PerformanceInputError(f"The closed lot of {m.contract_key} on {m.closed_at:%Y-%m-%d} has no "
                                        "finite P&L.")
        pnl[_day(m.closed_at)] += value
    for e in cash_events:
        if e.kind not in INCOME_KINDS and e.kind not in FLOW_KINDS:
            continue
        value = e.amount * e.fx_rate_to_base
        if not math.isfinite(value):
            raise PerformanceInputError(f"The {e.kind} of {e.occurred_at:%Y-%m-%d} has no finite amount.")
        (flow if e.kind in FLOW_KINDS else pnl)[_day(e.occurred_at)] += value
    days = set(pnl) | set(flow)
    if not days:
        raise PerformanceInputError("No closed trade and no cash movement: there is nothing to build an equity "
                                    "curve from.")
    if starting_capital is not None and not math.isfinite(starting_capital):
        raise PerformanceInputError("The starting capital is not a number.")
    begin = min(days) if first_open is None else min(min(days), first_open)
    index = pd.bdate_range(begin, max(days))
    extra = sorted(d for d in days if pd.Timestamp(d) not in index)  # weekend bookings keep their own day
    if extra:
        index = index.union(pd.DatetimeIndex([pd.Timestamp(d) for d in extra]))
    pnl_s = _on(index, pnl)
    flow_s = _on(index, flow)
    base = 0.0 if starting_capital is None else float(starting_capital)
    equity = base + (pnl_s + flow_s).cumsum()
    if starting_capital is None:
        returns = pd.Series(np.nan, index=index)
    else:
        before = equity.shift(1)
        before.iloc[0] = base
        returns = (pnl_s / before.where(before > 0)).astype(float)
    frame = pd.DataFrame({"pnl": pnl_s, "flow": flow_s, "equity": equity, "returns": returns})
    return EquityCurve(frame, None if starting_capital is None else float(starting_capital), capital_source)


def _on(index: pd.DatetimeIndex, values: dict[date, float]) -> pd.Series:
    """``values`` per day on ``index`` (0.0 on the other days)."""
    if not values:
        return pd.Series(0.0, index=index)
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in values])
    return pd.Series(list(values.values()), index=days, dtype=float).reindex(index, fill_value=0.0)


def _day(when: datetime | date) -> date:
    return when.date() if isinstance(when, datetime) else when


def daily_risk_free(risk_free_rate: float) -> float:
    """Daily simple rate of an annual, continuously compounded rate: ``exp(r / 252) - 1``."""
    return math.expm1(risk_free_rate / TRADING_DAYS)


@dataclass(frozen=True, slots=True)
class PerformanceStats:
    """Return and risk figures of a daily return series (decimals; NaN = not computable).

    Attributes:
        days: number of daily returns.
        total_pnl: sum of daily P&L, base currency (USD).
        total_return, annual_return, annual_volatility: decimals (0.12 = 12 %).
        sharpe, sortino, calmar: annualised ratios (risk-free rate ``risk_free_rate``).
        max_drawdown: the largest peak-to-trough fall of the compounded equity, a decimal <= 0.
        max_drawdown_usd: the same on the USD equity (<= 0).
        drawdown_days: longest time under a previous peak, in business days (a drawdown still
            open at the end counts up to the last day).
        drawdown_start, drawdown_end: the peak and the trough of the max drawdown.
        risk_free_rate: the annual rate used.
        problem: why the return figures are NaN (None when they are computed).
    """

    days: int
    total_pnl: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_usd: float
    drawdown_days: int
    drawdown_start: date | None
    drawdown_end: date | None
    calmar: float
    risk_free_rate: float
    problem: str | None = None


def performance_stats(curve: EquityCurve, risk_free_rate: float) -> PerformanceStats:
    """Ratios of ``curve`` (formulas in the module docstring; computed by ``empyrical``).

    Too little data gives NaN figures and ``problem`` says why (fewer than 2 daily returns, no
    starting capital, an equity at or below zero); it never raises.
    """
    frame = curve.frame
    total_pnl = float(frame["pnl"].sum())
    start_equity = curve.starting_capital if curve.starting_capital is not None else 0.0
    usd_dd = drawdown_duration(frame["equity"], start_equity, relative=False)
    nan = float("nan")
    returns = frame["returns"]
    problem = None
    if curve.starting_capital is None:
        problem = "No starting capital: set one in Settings → Data → Performance starting capital or import a statement that states its cash."
    elif returns.isna().any():
        problem = "The equity fell to zero or below: returns are not defined after that day."
    elif len(returns) < 2:
        problem = f"{len(returns)} day of equity: at least 2 daily returns are needed for a ratio."
    if problem is not None:
        _dd, dd_days, start, end = usd_dd
        return PerformanceStats(len(frame), total_pnl, nan, nan, nan, nan, nan, nan, usd_dd[0], dd_days, start, end,
                                nan, risk_free_rate, problem)
    import empyrical as ep

    values = returns.to_numpy(dtype=float)
    rf = daily_risk_free(risk_free_rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = float(ep.cum_returns_final(values))
        annual = float(ep.annual_return(values))
        vol = float(ep.annual_volatility(values))
        sharpe = float(ep.sharpe_ratio(values, risk_free=rf))
        sortino = float(ep.sortino_ratio(values, required_return=rf))
        mdd = float(ep.max_drawdown(values))
    wealth = np.cumprod(1.0 + values)
    _dd, days, start, end = drawdown_duration(pd.Series(wealth, index=frame.index), 1.0)
    calmar = annual / abs(mdd) if mdd < 0 else nan
    return PerformanceStats(len(frame), total_pnl, total, annual, vol, sharpe, sortino, mdd, usd_dd[0], days,
                            start, end, calmar, risk_free_rate)


def drawdown_series(wealth: pd.Series, initial: float = 1.0) -> pd.Series:
    """``wealth / running peak - 1`` (decimals <= 0), same index; ``initial`` is the wealth before
    the first row (a fall on day one is a drawdown from it)."""
    peak = np.maximum(wealth.cummax(), initial)
    return wealth / peak - 1.0


def drawdown_duration(values: pd.Series, initial: float, *, relative: bool = True
                      ) -> tuple[float, int, date | None, date | None]:
    """(max drawdown, longest run below a previous peak, the max drawdown's peak day, its trough day).

    Args:
        values: wealth (``relative``: drawdown as ``value / peak - 1``, a decimal) or USD equity
            (not ``relative``: ``value - peak``, USD); ``initial`` is the value before the first row.

    The run counts the rows from the first row under the peak up to the recovery (exclusive) or
    the last row; 0 when ``values`` never fall. The peak day is the first row when the peak is
    ``initial``; both days are None without a drawdown.
    """
    v = values.to_numpy(dtype=float)
    if len(v) == 0:
        return 0.0, 0, None, None
    peak = np.maximum(np.maximum.accumulate(v), initial)
    under = v < peak
    longest = run = 0
    for flag in under:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    dd = v / peak - 1.0 if relative else v - peak
    trough = int(np.argmin(dd))
    if dd[trough] >= 0:
        return 0.0, longest, None, None
    top = int(np.argmax(v[: trough + 1]))
    index = values.index
    top_day = index[0] if v[top] < initial else index[top]
    return float(dd[trough]), longest, _as_date(top_day), _as_date(index[trough])


def _as_date(x: object) -> date:
    return x.date() if isinstance(x, pd.Timestamp) else x  # type: ignore[return-value]


def monthly_returns(curve: EquityCurve) -> pd.DataFrame:
    """One row per calendar month: ``month`` (YYYY-MM), ``pnl`` (USD) and ``return`` (compounded
    daily returns of the month, decimal; NaN without a starting capital)."""
    frame = curve.frame
    key = [month_of(ts) for ts in frame.index]
    returns = frame["returns"]
    out = pd.DataFrame({"pnl": frame["pnl"].groupby(key, sort=True).sum()})
    compounded = np.expm1(np.log1p(returns.fillna(0.0)).groupby(key, sort=True).sum())
    missing = returns.isna().groupby(key, sort=True).any()
    out["return"] = compounded.where(~missing)
    out.index.name = "month"
    return out.reset_index()


# ---- trades -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Leg:
    """A contract key split into its fields (``HistoryEvent.contract_key`` layout)."""

    category: str
    underlying: str
    expiry: str
    strike: float | None
    right: str


def parse_contract_key(key: str) -> Leg:
    """``"OPT:SPY:2023-12-15:450:P"`` → Leg; ``"STK:AAPL"`` → a stock leg.

    Raises:
        ValueError: not a contract key.
    """
    parts = key.split(":")
    if len(parts) == 2:
        return Leg(parts[0], parts[1], "", None, "")
    if len(parts) != 5:
        raise ValueError(f"not a contract key: {key!r}")
    strike = float(parts[3]) if parts[3] else None
    return Leg(parts[0], parts[1], parts[2], strike, parts[4])


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One closed trade (the legs closed together; module docstring).

    Attributes:
        pnl: realized P&L in base currency (USD), commissions included.
        premium_collected: credit received when short options were opened (>= 0), base currency.
        premium_kept: realized P&L of those short-option legs, base currency.
    """

    account: str
    underlying: str
    strategy: str
    opened_at: datetime
    closed_at: datetime
    pnl: float
    legs: int
    premium_collected: float
    premium_kept: float

    @property
    def month(self) -> str:
        return month_of(self.closed_at)


def classify_legs(legs: Sequence[tuple[Leg, float]]) -> str:
    """Strategy of one trade from its (leg, signed qty) pairs.

    One short put → wheel cash-secured put; one short call → wheel covered call; two options of
    one right and expiry, one long one short → vertical; four options of one expiry (two puts,
    two calls, two short) → iron condor; long options only → long option; stock → stock;
    ``FUT``/``FOP`` → futures / futures options; ``KALSHI`` → Kalshi.
    """
    categories = {leg.category for leg, _ in legs}
    if categories == {"KALSHI"}:
        return KALSHI
    if categories <= {"STK"}:
        return STOCK
    if categories <= {"FUT"}:
        return FUTURES
    if "FOP" in categories:
        return FUTURES_OPTIONS
    options = [(leg, q) for leg, q in legs if leg.category == "OPT"]
    if len(options) != len(legs):
        return OTHER_OPTIONS
    if len(options) == 1:
        leg, qty = options[0]
        if qty > 0:
            return LONG_OPTION
        return WHEEL_CSP if leg.right == "P" else WHEEL_CC
    expiries = {leg.expiry for leg, _ in options}
    rights = [leg.right for leg, _ in options]
    shorts = sum(1 for _, q in options if q < 0)
    if len(options) == 2 and len(expiries) == 1 and rights[0] == rights[1] and shorts == 1:
        return VERTICAL
    if (len(options) == 4 and len(expiries) == 1 and rights.count("P") == 2 and rights.count("C") == 2
            and shorts == 2):
        return CONDOR
    if shorts == 0:
        return LONG_OPTION
    return OTHER_OPTIONS


def closed_trades(matches: Iterable[LotMatch]) -> list[ClosedTrade]:
    """Group closed lots into trades (module docstring), oldest close first."""
    groups: dict[tuple[str, str, datetime, date], list[LotMatch]] = defaultdict(list)
    legs_of: dict[str, Leg] = {}
    for m in matches:
        leg = legs_of.get(m.contract_key)
        if leg is None:
            leg = legs_of[m.contract_key] = parse_contract_key(m.contract_key)
        groups[(m.account, leg.underlying, m.opened_at, _day(m.closed_at))].append(m)
    trades = []
    for (account, underlying, opened_at, _closed_day), ms in groups.items():
        per_contract: dict[str, float] = defaultdict(float)
        for m in ms:
            per_contract[m.contract_key] += m.qty
        strategy = classify_legs([(legs_of[k], q) for k, q in per_contract.items()])
        pnl = sum(m.realized * m.fx_rate_to_base for m in ms)
        short_opts = [m for m in ms if m.qty < 0 and legs_of[m.contract_key].category in ("OPT", "FOP")]
        collected = sum(m.open_price * abs(m.qty) * m.multiplier * m.fx_rate_to_base for m in short_opts)
        kept = sum(m.realized * m.fx_rate_to_base for m in short_opts)
        trades.append(ClosedTrade(account, underlying, strategy, opened_at, max(m.closed_at for m in ms), pnl,
                                  len(per_contract), collected, kept))
    trades.sort(key=lambda t: (t.closed_at, t.opened_at))
    return trades


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Win/loss figures of a group of trades (USD, base currency).

    Attributes:
        key: the group (strategy, underlying or ``YYYY-MM``; ``"All"`` for every trade).
        trades, wins, losses: counts (a trade at exactly 0 is neither).
        win_rate: wins / trades (decimal).
        profit_factor: gross wins / |gross losses|; inf with wins and no loss, NaN with neither.
        avg_win, avg_loss: mean P&L of the winners (> 0) / losers (< 0); NaN when none.
        expectancy: mean P&L per trade.
        total_pnl: sum of P&L.
        premium_collected, premium_kept: of the short-option legs (see ``ClosedTrade``).
    """

    key: str
    trades: int
    wins: int
    losses: int
    win_rate: float
    profit_factor: float
    avg_win: float
    avg_loss: float
    expectancy: float
    total_pnl: float
    premium_collected: float
    premium_kept: float

    @property
    def kept_pct(self) -> float:
        """premium kept / premium collected (decimal; NaN with no premium)."""
        return self.premium_kept / self.premium_collected if self.premium_collected > 0 else float("nan")


def trade_stats(trades: Sequence[ClosedTrade], key: str = "All") -> TradeStats:
    """Win/loss figures of ``trades`` (see :class:`TradeStats`).

    Raises:
        PerformanceInputError: no trade.
    """
    if not trades:
        raise PerformanceInputError("No closed trade: win rate and profit factor need at least one.")
    pnl = np.array([t.pnl for t in trades], dtype=float)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    if gross_loss > 0:
        factor = gross_win / gross_loss
    else:
        factor = float("inf") if gross_win > 0 else float("nan")
    nan = float("nan")
    return TradeStats(key, len(trades), len(wins), len(losses), len(wins) / len(trades), factor,
                      float(wins.mean()) if len(wins) else nan, float(losses.mean()) if len(losses) else nan,
                      float(pnl.mean()), float(pnl.sum()), sum(t.premium_collected for t in trades),
                      sum(t.premium_kept for t in trades))


def stats_by(trades: Sequence[ClosedTrade], key: Callable[[ClosedTrade], str]) -> list[TradeStats]:
    """:func:`trade_stats` per group of ``key`` (sorted by key)."""
    groups: dict[str, list[ClosedTrade]] = defaultdict(list)
    for t in trades:
        groups[key(t)].append(t)
    return [trade_stats(ts, k) for k, ts in sorted(groups.items())]
