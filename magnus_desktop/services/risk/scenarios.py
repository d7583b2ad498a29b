"""The trader's stress scenarios: kept in ``Settings.risk_scenarios`` (:class:`UserScenario`,
validated there), turned into :class:`~magnus_desktop.analytics.risk.Scenario` for the report, and
the one-scenario P&L the risk-limits monitor needs when no fresh risk report exists (blocking;
compute thread)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from magnus_desktop.analytics.risk import Book, Scenario, StressResult, stress_test
from magnus_desktop.models.domain import AccountSummary
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.risk.history import beta_to_spy, builtin_scenarios
from magnus_desktop.services.risk.positions import to_risk_positions
from magnus_desktop.services.settings import UserScenario


class UnknownScenarioError(LookupError):
    """A scenario name that is neither built in nor one of the trader's (the message lists the known ones)."""


def describe(s: UserScenario) -> str:
    """``"index -5.0 %, SPY -6.0 %, IV +50.0 %, 1 day"``: the moves of a user scenario in words."""
    parts = [f"index {s.index_move:+.1%}", *(f"{sym} {mv:+.1%}" for sym, mv in sorted(s.moves.items())),
             f"IV {s.iv_change:+.1%}", f"{s.days} day{'s' if s.days != 1 else ''}"]
    return ", ".join(parts)


def to_scenario(s: UserScenario) -> Scenario:
    """The analytics scenario of a user scenario (``user=True``; source: its moves in words)."""
    return Scenario(s.name, f"user: {s.name}", dict(s.moves), s.index_move, s.iv_change,
                    f"user scenario: {describe(s)}", s.days, user=True)


def to_scenarios(scenarios: Sequence[UserScenario]) -> tuple[Scenario, ...]:
    return tuple(to_scenario(s) for s in scenarios)


def find_scenario(name: str, market: ReplayMarketData, underlyings: Sequence[str],
                  user: Sequence[UserScenario]) -> Scenario:
    """The built-in or user scenario called ``name``.

    Raises:
        UnknownScenarioError: no scenario has that name.
    """
    for s in [*builtin_scenarios(market, underlyings), *to_scenarios(user)]:
        if s.name == name:
            return s
    known = ", ".join([*(s.name for s in builtin_scenarios(market, ())), *(u.name for u in user)])
    raise UnknownScenarioError(f"no stress scenario is named {name!r} (known: {known})")


def scenario_stress(summary: AccountSummary, day: date, market: ReplayMarketData, name: str,
                    user: Sequence[UserScenario], *, rate: float, div_yield: float,
                    days: Sequence[date] = ()) -> StressResult:
    """The stress result of one scenario for ``summary``'s positions at ``day`` (betas to SPY from
    the bundled bars up to ``day``), without the rest of the risk report.

    Raises:
        UnknownScenarioError: no scenario is called ``name``.
    """
    positions = to_risk_positions(summary.positions, day, rate, div_yield, market=market, days=days)
    book = Book.of(positions, rate, div_yield)
    unds = sorted({p.underlying.upper() for p in book.positions})
    scenario = find_scenario(name, market, unds, user)
    return stress_test(book, scenario, {u: beta_to_spy(market, u, day).value for u in unds})
