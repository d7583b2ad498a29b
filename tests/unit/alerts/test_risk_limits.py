"""The risk-limits monitor: each limit breached raises exactly its alert (facts: limit, current
value, scenario), nothing within the limits, de-duplication, and the max-loss P&L it reads equals
the risk report's (the same full revaluation)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from magnus_desktop.cli_risk import seed_fills
from magnus_desktop.models.alerts import Alert, Fact, Priority
from magnus_desktop.models.domain import AccountSummary, OptionContract, PositionSnapshot
from magnus_desktop.services.alerts.dedupe import dedupe
from magnus_desktop.services.alerts.monitors import (
    RISK_CRITICAL_RATIO,
    MonitorInput,
    RiskLimitInput,
    risk_limits,
    run_monitors,
)
from magnus_desktop.services.alerts.risk_input import RiskLimitInputError, risk_limit_input
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.portfolio.marking import account_summary
from magnus_desktop.services.risk.positions import to_risk_positions
from magnus_desktop.services.risk.report import compute_report
from magnus_desktop.services.settings import AlertSettings, RiskLimitSettings, UserScenario

DAY = date(2018, 2, 2)
RATE = 0.015
CFG = AlertSettings()


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def _pos(right: str, strike: float, qty: int, und: float, underlying: str = "SPXW") -> PositionSnapshot:
    c = OptionContract(underlying, date(2018, 3, 16), strike, right)  # type: ignore[arg-type]
    return PositionSnapshot(c, qty, 5.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 42, math.nan, 0.0, und_price=und)


def _facts(facts: tuple[Fact, ...]) -> dict[str, object]:
    return {f.label: f.value for f in facts}


def _run(positions: list[PositionSnapshot], limits: RiskLimitSettings, pnl: float = math.nan) -> list:
    inp = MonitorInput(DAY, tuple(positions), risk=RiskLimitInput(limits, "2018-02-05", "5 Feb 2018", pnl, "test"))
    return risk_limits(inp, CFG)


def test_short_put_notional_breach_raises_only_that_alert() -> None:
    book = [_pos("P", 2000.0, -10, 2700.0), _pos("P", 2100.0, -5, 2700.0), _pos("P", 1900.0, 3, 2700.0)]
    notional = 2000.0 * 100 * 10 + 2100.0 * 100 * 5  # short puts only; the long put does not count
    und_notional = 2700.0 * 100 * 18
    limits = RiskLimitSettings(max_short_put_notional_usd=notional * 0.9, max_underlying_notional_usd=und_notional + 1)
    (alert,) = _run(book, limits)
    assert (alert.monitor, alert.subject, alert.priority) == ("risk_limits", "short_put_notional", Priority.HIGH)
    facts = _facts(alert.facts)
    assert facts["limit"] == pytest.approx(notional * 0.9) and facts["current"] == pytest.approx(notional)
    assert _run(book, RiskLimitSettings(max_short_put_notional_usd=notional)) == []  # at the limit: within
    (critical,) = _run(book, RiskLimitSettings(max_short_put_notional_usd=notional / RISK_CRITICAL_RATIO))
    assert critical.priority == Priority.CRITICAL


def test_underlying_notional_breach_names_the_underlying() -> None:
    book = [_pos("C", 2800.0, 10, 2700.0), _pos("C", 300.0, 2, 270.0, "SPY")]
    spx, spy = 2700.0 * 100 * 10, 270.0 * 100 * 2
    limits = RiskLimitSettings(max_underlying_notional_usd=(spx + spy) / 2, max_short_put_notional_usd=1.0)
    (alert,) = _run(book, limits)  # no short put: the short-put limit of 1 USD is not breached
    assert alert.subject == "underlying:SPX" and _facts(alert.facts)["current"] == pytest.approx(spx)
    assert _run(book, RiskLimitSettings(max_underlying_notional_usd=spx)) == []


def test_max_loss_breach_reports_limit_value_and_scenario() -> None:
    book = [_pos("P", 2000.0, -10, 2700.0)]
    (alert,) = _run(book, RiskLimitSettings(max_loss_usd=40_000.0), pnl=-50_000.0)
    facts = _facts(alert.facts)
    assert alert.subject == "max_loss:2018-02-05" and alert.priority == Priority.HIGH
    assert facts["limit"] == 40_000.0 and facts["current"] == 50_000.0 and "2018-02-05" in str(facts["scenario"])
    assert _run(book, RiskLimitSettings(max_loss_usd=50_000.0), pnl=-50_000.0) == []
    assert _run(book, RiskLimitSettings(max_loss_usd=1.0), pnl=25_000.0) == []  # a gain is no loss
    assert _run(book, RiskLimitSettings(), pnl=-1e9) == []  # every limit off by default


def test_the_monitor_has_a_switch_and_a_cadence() -> None:
    inp = MonitorInput(DAY, (_pos("P", 2000.0, -10, 2700.0),),
                       risk=RiskLimitInput(RiskLimitSettings(max_short_put_notional_usd=1.0)))
    assert [c.monitor for c in run_monitors(inp, CFG, names=("risk_limits",)).candidates] == ["risk_limits"]
    off = AlertSettings(risk_limits_enabled=False)
    assert run_monitors(inp, off, names=("risk_limits",)).candidates == ()
    assert AlertSettings(risk_limits_cadence="4h").risk_limits_cadence == "4h"


def test_a_breach_is_not_raised_twice_within_the_cooldown_but_an_escalation_is() -> None:
    book = [_pos("P", 2000.0, -10, 2700.0)]
    (first,) = _run(book, RiskLimitSettings(max_short_put_notional_usd=1.9e6))
    now = datetime(2018, 2, 2, 21, tzinfo=UTC)
    stored = Alert(1, "acct", first.monitor, first.subject, first.priority, first.title, DAY, now, first.facts)
    (again,) = _run(book, RiskLimitSettings(max_short_put_notional_usd=1.8e6))  # still HIGH
    assert dedupe([again], [stored], now + timedelta(hours=1), timedelta(hours=72)) == []
    (worse,) = _run(book, RiskLimitSettings(max_short_put_notional_usd=1.0e6))  # CRITICAL now
    assert dedupe([worse], [stored], now + timedelta(hours=1), timedelta(hours=72)) == [worse]


def _demo(market: ReplayMarketData) -> AccountSummary:
    return account_summary(seed_fills(market), DAY, market, market.trading_days(), starting_cash=2e6, rate=RATE)


def test_max_loss_input_equals_the_risk_report_and_works_without_one(market: ReplayMarketData) -> None:
    summary, days = _demo(market), market.trading_days()
    crash = UserScenario(name="crash", index_move=-0.10, iv_change=1.0)
    positions = to_risk_positions(summary.positions, DAY, RATE, 0.0, market=market, days=days)
    from magnus_desktop.services.risk.scenarios import to_scenarios

    report = compute_report("demo", positions, DAY, market, rate=RATE, user_scenarios=to_scenarios([crash]))
    by_name = {s.scenario.name: s for s in report.stress}
    for name in ("2018-02-05", "crash"):
        limits = RiskLimitSettings(max_loss_usd=1.0, max_loss_scenario=name)
        fresh = risk_limit_input(limits, summary, DAY, None, market, [crash], rate=RATE, div_yield=0.0, days=days)
        from_report = risk_limit_input(limits, summary, DAY, report, market, [crash], rate=RATE, div_yield=0.0,
                                       days=days)
        assert fresh.scenario_pnl == pytest.approx(by_name[name].pnl, rel=1e-9) and fresh.scenario_pnl < 0
        assert from_report.scenario_pnl == by_name[name].pnl and "risk report" in from_report.source
        loss = -by_name[name].pnl
        breached = risk_limits(MonitorInput(DAY, summary.positions, risk=risk_limit_input(
            RiskLimitSettings(max_loss_usd=loss * 0.95, max_loss_scenario=name), summary, DAY, report, market,
            [crash], rate=RATE, div_yield=0.0)), CFG)
        assert [a.subject for a in breached] == [f"max_loss:{name}"]
        within = risk_limits(MonitorInput(DAY, summary.positions, risk=risk_limit_input(
            RiskLimitSettings(max_loss_usd=loss * 1.05, max_loss_scenario=name), summary, DAY, report, market,
            [crash], rate=RATE, div_yield=0.0)), CFG)
        assert within == []


def test_an_unknown_max_loss_scenario_is_a_clear_error(market: ReplayMarketData) -> None:
    limits = RiskLimitSettings(max_loss_usd=1.0, max_loss_scenario="gone")
    with pytest.raises(RiskLimitInputError, match="no stress scenario is named 'gone'.*2018-02-05"):
        risk_limit_input(limits, _demo(market), DAY, None, market, [], rate=RATE, div_yield=0.0)


@pytest.mark.asyncio
async def test_a_new_risk_report_runs_the_risk_limits_monitor(tmp_path, market: ReplayMarketData) -> None:
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.settings import Settings, SettingsStore

    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=market,
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    ctx.alerts.scheduled = False
    await ctx.start(replay_date=DAY)
    await ctx.refreshed.wait()
    try:
        assert not [a for a in ctx.alerts.visible() if a.monitor == "risk_limits"]  # limits off
        report = await ctx.risk.compute(ctx.portfolio.last_summary)
        loss = -next(s.pnl for s in report.stress if s.scenario.name == "2018-02-05")
        ctx.settings.risk_limits.max_loss_usd = loss * 0.9
        ctx.risk.report_changed.emit(report)
        await ctx.alerts.risk_checks_done()
        (alert,) = [a for a in ctx.alerts.visible() if a.monitor == "risk_limits"]
        assert alert.subject == "max_loss:2018-02-05" and alert.day == report.as_of
        assert _facts(alert.facts)["current"] == pytest.approx(loss, abs=0.01)
        assert "risk report" in str(_facts(alert.facts)["computed"])
        ctx.risk.report_changed.emit(report)  # the same breach again: de-duplicated
        await ctx.alerts.risk_checks_done()
        assert len([a for a in ctx.alerts.visible() if a.monitor == "risk_limits"]) == 1
    finally:
        await ctx.aclose()
