"""One account's performance report from :class:`PerformanceInputs` (pure computation, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from magnus_desktop.analytics.performance import (
    EquityCurve,
    PerformanceInputError,
    PerformanceStats,
    TradeStats,
    closed_trades,
    daily_equity,
    monthly_returns,
    performance_stats,
    stats_by,
    trade_stats,
)
from magnus_desktop.services.performance.inputs import Capital, PerformanceInputs

#: what the dock says about how the equity is built (``analytics.performance`` has the formulas)
METHOD = ("Equity = starting capital + realized P&L of closed lots (FIFO, commissions included) + dividends, "
          "interest, fees and taxes + deposits/withdrawals, per business day; open positions are not marked. "
          "Daily return = that day's P&L / the previous day's equity (deposits and withdrawals are not returns).")

NO_DATA = ("No closed trade and no cash movement yet: import a statement (File → Import broker statement…) or "
           "trade in the app to see performance.")


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """What the Performance dock shows for one account (USD / base currency; decimals for rates).

    ``empty`` is the sentence shown instead of figures when there is nothing to compute from;
    ``notes`` say why some figures are missing (one day of equity, no starting capital, ...).
    """

    account: str | None
    accounts: list[str]
    capital: Capital
    curve: EquityCurve | None = None
    stats: PerformanceStats | None = None
    overall: TradeStats | None = None
    by_strategy: list[TradeStats] = field(default_factory=list)
    by_underlying: list[TradeStats] = field(default_factory=list)
    by_month: list[TradeStats] = field(default_factory=list)
    monthly: pd.DataFrame | None = None
    empty: str | None = None
    notes: list[str] = field(default_factory=list)
    method: str = METHOD


def build_report(inputs: PerformanceInputs, account: str | None, risk_free_rate: float,
                 fallback: Capital) -> PerformanceReport:
    """The report of ``account`` (default: the first of ``inputs.accounts``).

    ``fallback`` is the starting capital used when neither a statement nor the app states one
    (``Settings.performance_starting_capital``; amount None when not set). Never raises on data:
    bad or missing input becomes ``empty`` / ``notes``.
    """
    accounts = inputs.accounts
    if account not in accounts:
        account = accounts[0] if accounts else None
    if account is None:
        return PerformanceReport(None, accounts, fallback, empty=NO_DATA)
    capital = inputs.capital.get(account) or fallback
    matches = inputs.matches.get(account, [])
    cash = inputs.cash_events.get(account, [])
    notes: list[str] = []
    try:
        curve = daily_equity(matches, cash, capital.amount, capital.source)
    except PerformanceInputError as exc:
        return PerformanceReport(account, accounts, capital, empty=f"{account}: {exc}", notes=[NO_DATA])
    end = inputs.end_day.get(account)
    if end is not None and curve.frame.index[-1].date() < end:
        curve = _extend(curve, end)
    stats = performance_stats(curve, risk_free_rate)
    if stats.problem:
        notes.append(stats.problem)
    trades = closed_trades(matches)
    overall = None
    if trades:
        overall = trade_stats(trades)
    else:
        notes.append("No closed trade yet: win rate, profit factor and expectancy need at least one.")
    return PerformanceReport(
        account, accounts, capital, curve, stats, overall,
        stats_by(trades, lambda t: t.strategy), stats_by(trades, lambda t: t.underlying),
        stats_by(trades, lambda t: t.month), monthly_returns(curve), None, notes)


def _extend(curve: EquityCurve, end: date) -> EquityCurve:
    """The curve carried flat (no P&L) to ``end`` (the replay day of an app account)."""
    frame = curve.frame
    index = frame.index.union(pd.bdate_range(frame.index[-1], end))
    out = frame.reindex(index)
    out["pnl"] = out["pnl"].fillna(0.0)
    out["flow"] = out["flow"].fillna(0.0)
    out["equity"] = out["equity"].ffill()
    if curve.starting_capital is not None:
        out["returns"] = out["returns"].fillna(0.0)
    return EquityCurve(out, curve.starting_capital, curve.capital_source)
