"""The trader's stress scenarios: validated by the settings model (clear messages), saved in the
settings file by the risk service, loaded at start, and computed next to the built-in ones."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.risk import ScenarioError
from magnus_desktop.services.risk.history import builtin_scenarios
from magnus_desktop.services.settings import (
    BUILTIN_SCENARIOS,
    RiskLimitSettings,
    Settings,
    SettingsStore,
    UserScenario,
)
from magnus_desktop.ui.risk.scenario_editor import ScenarioInputError, build_scenario, parse_moves

DAY = date(2018, 2, 2)


@pytest.fixture(scope="module")
def market() -> ReplayMarketData:
    return ReplayMarketData.from_resources()


def test_builtin_names_match_the_risk_history(market: ReplayMarketData) -> None:
    assert tuple(s.name for s in builtin_scenarios(market, ["SPXW"])) == BUILTIN_SCENARIOS


@pytest.mark.parametrize(("fields", "message"), [
    (("a", "nan", "", "", 1), "Index move: must be a number (not NaN"),
    (("a", "-5", "", "NaN", 1), "IV change: must be a number (not NaN"),
    (("a", "-5", "", "-100", 1), "IV change: must be above -100 %"),
    (("a", "-5", "", "-150", 1), "IV change: must be above -100 %"),
    (("a", "-100", "", "", 1), "Index move: must be above -100 %"),
    (("a", "", "SPY -100", "", 1), "Underlying moves: the move of SPY must be above -100 %"),
    (("a", "", "SPY nan", "", 1), "Underlying moves: the move of SPY must be a number"),
    (("a", "ten", "", "", 1), "Index move: 'ten' is not a number"),
    (("a", "", "SPY -4 QQQ", "", 1), "is not 'SYMBOL MOVE%'"),
    (("a", "", "SPY -4, spy -5", "", 1), "SPY is listed twice"),
    (("2018-02-05", "-5", "", "", 1), "Name: '2018-02-05' is the name of a built-in scenario"),
    (("  ", "-5", "", "", 1), "Name: enter a name"),
])
def test_bad_scenario_input_gets_a_clear_message(fields: tuple, message: str) -> None:
    with pytest.raises(ScenarioInputError) as err:
        build_scenario(*fields)
    assert message in str(err.value)


def test_form_percents_become_decimals() -> None:
    s = build_scenario(" crash ", "-10 %", "spy=-12; QQQ: −15", "+100", 3)
    assert (s.name, s.index_move, s.moves, s.iv_change, s.days) == ("crash", -0.1, {"SPY": -0.12, "QQQ": -0.15}, 1.0, 3)
    assert parse_moves("") == {}


def test_duplicate_names_are_refused_by_the_settings_model() -> None:
    with pytest.raises(ValueError, match="two scenarios are named 'Crash'"):
        Settings(risk_scenarios=[UserScenario(name="crash"), UserScenario(name="Crash")])


async def _ctx(tmp_path: Path, market: ReplayMarketData, settings: Settings | None = None) -> AppContext:
    ctx = AppContext(SettingsStore(tmp_path / "s.json"), settings or SettingsStore(tmp_path / "s.json").load(),
                     market=market, db_url=f"sqlite:///{tmp_path / 'm.db'}")
    ctx.alerts.scheduled = False
    await ctx.start(replay_date=DAY)
    await ctx.refreshed.wait()
    return ctx


async def _report_with(ctx: AppContext, name: str):  # type: ignore[no-untyped-def]
    for _ in range(400):
        r = ctx.risk.last_report
        if r is not None and any(s.scenario.name == name for s in r.stress):
            return r
        await asyncio.sleep(0.05)
    raise AssertionError(f"no report with {name}")


@pytest.mark.asyncio
async def test_scenarios_are_saved_loaded_at_start_and_computed(tmp_path: Path, market: ReplayMarketData) -> None:
    ctx = await _ctx(tmp_path, market)
    try:
        ctx.risk.set_paused(False)
        crash = UserScenario(name="crash", index_move=-0.1, iv_change=1.0)
        assert await ctx.risk.save_scenario(crash) is None
        with pytest.raises(ScenarioError, match="exists already"):
            await ctx.risk.save_scenario(UserScenario(name="CRASH", index_move=-0.2))
        report = await _report_with(ctx, "crash")
        user = next(s for s in report.stress if s.scenario.name == "crash")
        feb5 = next(s for s in report.stress if s.scenario.name == "2018-02-05")
        assert user.scenario.user and not feb5.scenario.user
        assert user.pnl < feb5.pnl < 0  # -10 % and IV x2 hurt the short puts more than -4.1 %, VIX x2.16
        stored = json.loads((tmp_path / "s.json").read_text())
        assert [s["name"] for s in stored["risk_scenarios"]] == ["crash"]
        # edited under a new name: replaced in place, the max-loss limit follows the rename
        ctx.settings.risk_limits = RiskLimitSettings(max_loss_usd=1e5, max_loss_scenario="crash")
        await ctx.risk.save_scenario(UserScenario(name="crash 2", index_move=-0.2), replacing="crash")
        assert [s.name for s in ctx.settings.risk_scenarios] == ["crash 2"]
        assert ctx.settings.risk_limits.max_loss_scenario == "crash 2"
        with pytest.raises(ScenarioError, match="max-loss limit"):
            await ctx.risk.delete_scenario("crash 2")
        assert [s.name for s in ctx.settings.risk_scenarios] == ["crash 2"]  # refused: nothing lost
    finally:
        await ctx.aclose()
    ctx = await _ctx(tmp_path, market)  # the next start loads them
    try:
        assert [s.name for s in ctx.risk.user_scenarios] == ["crash 2"]
        ctx.settings.risk_limits.max_loss_usd = None
        await ctx.risk.delete_scenario("crash 2")
        assert ctx.settings.risk_scenarios == [] and ctx.settings.risk_limits.max_loss_scenario == "2018-02-05"
        with pytest.raises(ScenarioError, match="no scenario of yours"):
            await ctx.risk.delete_scenario("crash 2")
    finally:
        await ctx.aclose()
    assert json.loads((tmp_path / "s.json").read_text())["risk_scenarios"] == []


@pytest.mark.asyncio
async def test_the_settings_dialog_does_not_put_back_an_old_scenario_list(tmp_path: Path,
                                                                            market: ReplayMarketData) -> None:
    ctx = await _ctx(tmp_path, market)
    try:
        stale = ctx.settings.model_copy(deep=True)  # a Settings dialog opened before the edit
        await ctx.risk.save_scenario(UserScenario(name="crash", index_move=-0.1))
        ctx.apply_settings(stale)
        assert [s.name for s in ctx.settings.risk_scenarios] == ["crash"]
    finally:
        await ctx.aclose()
