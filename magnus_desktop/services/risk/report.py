"""One risk report of a book: everything the Risk dock and ``magnus-desktop risk`` show
(blocking, pure computation over the bundled data; run it on the compute executor).

Units as in :mod:`magnus_desktop.analytics.risk`: USD for P&L, VaR/ES and margin; delta in shares
and USD; gamma shares per point; theta USD per calendar day; vega USD per vol point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from magnus_desktop.analytics.risk import (
    Book,
    GreeksReport,
    RiskError,
    RiskPosition,
    Scenario,
    StressResult,
    greeks_report,
    pnl_grid,
    revalue_rows,
    stress_test,
)
from magnus_desktop.analytics.risk_var import (
    FactorHistory,
    KupiecResult,
    VarFigures,
    count_exceedances,
    delta_gamma_var,
    historical_var,
    kupiec_pof,
    monte_carlo_var,
)
from magnus_desktop.models.domain import Fill, OptionContract
from magnus_desktop.services.market.recorded import MarketDataError, ReplayMarketData
from magnus_desktop.services.portfolio.marking import (
    build_books,
    intrinsic_value,
    mark_position,
    settlement_price,
)
from magnus_desktop.services.risk.history import (
    INDEX,
    Beta,
    PathDay,
    beta_to_spy,
    builtin_scenarios,
    factor_history,
    shock_week,
)
from magnus_desktop.services.risk.positions import flagged

UND_MOVES = np.round(np.linspace(-0.20, 0.20, 41), 4)
IV_CHANGES = np.round(np.linspace(-0.50, 1.00, 31), 4)
VAR_WINDOW = 500


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One day of "replay this book through 2018-02-05": the real path and the book's P&L (USD)
    versus today's marks; ``recorded_pnl`` from the recorded marks of the same contracts (NaN
    when the recording does not quote them all or today is not the path's base day)."""

    path: PathDay
    model_pnl: float
    recorded_pnl: float
    by_position: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Backtest:
    """Historical 1-day VaR of each replay day's book against the next day's real P&L (USD)."""

    days: tuple[date, ...]
    var_95: tuple[float, ...]
    var_99: tuple[float, ...]
    pnl: tuple[float, ...]
    kupiec_95: KupiecResult
    kupiec_99: KupiecResult


@dataclass(frozen=True, slots=True)
class RiskReport:
    """Risk of one account at ``as_of``; ``errors`` says which parts could not be computed and why."""

    account: str
    as_of: date
    positions: tuple[RiskPosition, ...]
    flagged: tuple[tuple[str, str], ...]
    excluded: tuple[tuple[str, str], ...]
    greeks: GreeksReport
    betas: dict[str, Beta]
    spy_price: float
    und_moves: np.ndarray
    iv_changes: np.ndarray
    grid: np.ndarray
    var: tuple[VarFigures, ...]
    stress: tuple[StressResult, ...]
    replay: tuple[ReplayRow, ...]
    backtest: Backtest | None
    errors: dict[str, str] = field(default_factory=dict)


def compute_report(account: str, positions: Sequence[RiskPosition], as_of: date, market: ReplayMarketData, *,
                   rate: float, div_yield: float = 0.0, user_scenarios: Sequence[Scenario] = (),
                   fills: Sequence[Fill] | None = None, var_window: int = VAR_WINDOW) -> RiskReport:
    """The full report. ``fills`` (the demo account's) enable the backtest against the replay's P&L."""
    book = Book.of(positions, rate, div_yield)
    errors: dict[str, str] = {}
    unds = sorted({p.underlying.upper() for p in book.positions})
    betas = {u: beta_to_spy(market, u, as_of) for u in unds}
    spy = market.quote(INDEX, as_of)
    spy_price = spy.last if spy is not None else math.nan
    greeks = greeks_report(book, {u: b.value for u, b in betas.items()}, spy_price)
    grid = pnl_grid(book, UND_MOVES, IV_CHANGES)
    var = _var(book, market, as_of, var_window, errors)
    scenarios = [*builtin_scenarios(market, unds), *user_scenarios]
    stress = tuple(stress_test(book, s, {u: b.value for u, b in betas.items()}) for s in scenarios)
    try:
        replay = replay_week(book, market, as_of, {u: b.value for u, b in betas.items()})
    except (MarketDataError, RiskError) as exc:
        replay, errors["replay"] = (), str(exc)
    backtest = None
    if fills is not None:
        try:
            backtest = replay_backtest(fills, market, as_of, rate, div_yield, var_window)
        except (MarketDataError, RiskError) as exc:
            errors["backtest"] = str(exc)
    else:
        errors["backtest"] = "the backtest needs the replay's real P&L: it runs on the demo account"
    return RiskReport(account, as_of, tuple(positions), tuple(flagged(positions)), book.excluded, greeks, betas,
                      spy_price, UND_MOVES, IV_CHANGES, grid, var, stress, replay, backtest, errors)


def _var(book: Book, market: ReplayMarketData, as_of: date, window: int, errors: dict[str, str]) -> tuple[VarFigures,
                                                                                                            ...]:
    if len(book) == 0:
        errors["var"] = "no revaluable position"
        return ()
    try:
        history = factor_history(market, book.factors, as_of)
        return (historical_var(book, history, window), delta_gamma_var(book, history, window),
                monte_carlo_var(book, history, window))
    except (MarketDataError, RiskError) as exc:
        errors["var"] = str(exc)
        return ()


def replay_week(book: Book, market: ReplayMarketData, as_of: date,
                betas: dict[str, float]) -> tuple[ReplayRow, ...]:
    """Re-mark today's positions along the real path of the week of 5 Feb 2018, day by day: each
    underlying moves as SPX did from the base day (log move x its beta to SPY; 1 for SPX roots;
    a position without a beta moves with the index), every IV as the VIX, and the calendar days
    that passed shorten each life."""
    path = shock_week(market)
    base = path[0].day
    beta = np.array([betas.get(p.underlying.upper(), 1.0) for p in book.positions])
    beta = np.where(np.isfinite(beta), beta, 1.0)
    rows = []
    for pd_ in path[1:]:
        mult = (pd_.spx_ratio ** beta)[:, None]
        pnl = revalue_rows(book, mult, np.array([pd_.vix_ratio]), pd_.days_elapsed / 365.0)[:, 0]
        recorded = _recorded_pnl(book, market, pd_.day) if as_of == base else math.nan
        rows.append(ReplayRow(pd_, float(pnl.sum()), recorded,
                              tuple((p.label, float(x)) for p, x in zip(book.positions, pnl, strict=True))))
    return tuple(rows)


def _recorded_pnl(book: Book, market: ReplayMarketData, day: date) -> float:
    total = 0.0
    for p, scale in zip(book.positions, book.scale, strict=True):
        contract = _contract_of(p)
        if contract is None:
            return math.nan
        q = market.option_quote(contract, day)
        mid = (q.bid + q.ask) / 2.0 if math.isfinite(q.bid) and math.isfinite(q.ask) else q.last
        if not math.isfinite(mid):
            return math.nan
        total += (mid - p.mark) * scale
    return total


def _contract_of(p: RiskPosition) -> OptionContract | None:
    if p.kind != "option" or p.expiry is None:
        return None
    return OptionContract(p.underlying, p.expiry, p.strike, "C" if p.right == "C" else "P")


def replay_backtest(fills: Sequence[Fill], market: ReplayMarketData, as_of: date, rate: float, div_yield: float,
                    window: int) -> Backtest:
    """Each replay day d0 < ``as_of``: the book held at d0's close, its historical 1-day VaR from
    data up to d0, and its real P&L to the next day d1 (recorded marks; settlement at intrinsic
    for an option that expired in between). Kupiec's POF test at 95 % and 99 %."""
    days = [d for d in market.trading_days() if d <= as_of]
    rows: list[tuple[date, float, float, float]] = []
    histories: dict[tuple[str, ...], FactorHistory] = {}  # read and aligned once per factor set, cut per day
    for d0, d1 in zip(days, days[1:], strict=False):
        books, _cash, _real = build_books(fills, d0, market, days)
        if not books:
            continue
        snaps = [mark_position(c, b, d0, market, rate, div_yield) for c, b in books.items()]
        pos = [RiskPosition(s.contract.describe(), s.contract.underlying, "option", s.contract.right,  # type: ignore[union-attr]
                            float(s.contract.strike), s.dte, float(s.qty), s.contract.multiplier, s.und_price,  # type: ignore[union-attr]
                            s.iv, s.mark, expiry=s.contract.expiry) for s in snaps]  # type: ignore[union-attr]
        book = Book.of(pos, rate, div_yield)
        if len(book) != len(pos):
            continue  # a position without a mark that day: its P&L is unknown, the day is left out
        factors = tuple(book.factors)
        if factors not in histories:
            histories[factors] = factor_history(market, factors, as_of)
        figs = historical_var(book, histories[factors].until(d0), window, horizons=(1,)).figures
        pnl = sum(_next_value(c, b.qty, d1, market, days) - s.mark * b.qty * c.multiplier
                  for (c, b), s in zip(books.items(), snaps, strict=True))
        if math.isfinite(pnl):
            rows.append((d1, figs["var_95_1d"], figs["var_99_1d"], pnl))
    if not rows:
        raise RiskError(f"no replay day before {as_of.isoformat()} with a held, marked book to backtest")
    d, v95, v99, pnl = (tuple(col) for col in zip(*rows, strict=True))
    n = len(rows)
    return Backtest(d, v95, v99, pnl,  # type: ignore[arg-type]
                    kupiec_pof(count_exceedances(np.array(v95), np.array(pnl)), n, 0.95),
                    kupiec_pof(count_exceedances(np.array(v99), np.array(pnl)), n, 0.99))


def _next_value(contract: OptionContract, qty: int, day: date, market: ReplayMarketData, days: Sequence[date]) -> float:
    """Value (USD) of the position at ``day``: recorded mid, or intrinsic at settlement after expiry."""
    if contract.expiry < day:
        return intrinsic_value(contract, settlement_price(market, contract, days)) * qty * contract.multiplier
    q = market.option_quote(contract, day)
    mid = (q.bid + q.ask) / 2.0 if math.isfinite(q.bid) and math.isfinite(q.ask) and q.ask > 0 else q.last
    return mid * qty * contract.multiplier
