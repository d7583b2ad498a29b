"""``magnus-desktop risk`` as a subprocess on the bundled data, and the RiskService on an AppContext."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.risk import RiskReport
from magnus_desktop.services.settings import Settings, SettingsStore

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "magnus_desktop", "risk", *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ), timeout=120, check=False)


def test_cli_json_has_the_issue_fields() -> None:
    out = run_cli("--account", "demo", "--replay-date", "2018-02-02", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["as_of"] == "2018-02-02" and len(doc["positions"]) == 3
    assert set(doc["var"]) == {"historical", "delta-gamma", "monte carlo"}
    for figs in doc["var"].values():
        for key in ("var_95_1d", "var_99_1d", "es_95_1d", "es_99_1d"):
            assert figs[key] > 0
        assert figs["es_99_1d"] >= figs["var_99_1d"]
    assert {"2018-02-05", "2015-08-24", "2020-03-16", "1987-10-19"} <= set(doc["scenarios"])
    assert doc["scenarios"]["2018-02-05"]["pnl"] < 0
    assert set(doc["greeks"]["by_bucket"]) == {"≤ 7 DTE", "8–30 DTE", "31–60 DTE", "> 60 DTE"}
    assert doc["greeks"]["by_bucket"]["8–30 DTE"]["positions"] == 3  # Feb-28 puts: 26 DTE
    assert [r["day"] for r in doc["replay_2018_02_05"]][0] == "2018-02-05"


def test_cli_table_and_bad_input() -> None:
    table = run_cli("--replay-date", "2018-01-10")
    assert table.returncode == 0 and "VaR / ES" in table.stdout and "2018-02-05" in table.stdout
    bad = run_cli("--account", "my-ib")
    assert bad.returncode == 2 and "use --account demo" in bad.stderr and not bad.stdout
    outside = run_cli("--replay-date", "2019-01-01")
    assert outside.returncode == 2 and "outside the replay" in outside.stderr


@pytest.mark.asyncio
async def test_risk_service_recomputes_on_portfolio_update(tmp_path: Path) -> None:
    from datetime import date

    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=ReplayMarketData.from_resources(),
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    reports: list[RiskReport] = []
    ctx.risk.report_changed.connect(reports.append)
    await ctx.start(replay_date=date(2018, 2, 2))
    try:
        await ctx.refreshed.wait()
        for _ in range(200):
            if reports:
                break
            await __import__("asyncio").sleep(0.05)
        assert reports and reports[-1].as_of == date(2018, 2, 2)
        assert reports[-1].greeks.total.positions == 3 and reports[-1].backtest is not None
    finally:
        await ctx.aclose()


@pytest.mark.asyncio
async def test_risk_reports_are_rate_limited_and_take_the_latest_account(tmp_path: Path) -> None:
    """A replay playing changes the account 10 times a second: the risk thread starts a report at most
    every ``min_interval_s`` and always for the latest account (it ran back to back before, starving
    the refresh pass: 4.7 refreshes/s at 10 days/s)."""
    import asyncio
    import threading
    from datetime import date

    ctx = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), market=ReplayMarketData.from_resources(),
                     db_url=f"sqlite:///{tmp_path / 'm.db'}")
    reports: list[RiskReport] = []
    ctx.risk.report_changed.connect(reports.append)
    threads: set[str] = set()
    compute = ctx.risk._compute

    def spy(*args):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return compute(*args)

    ctx.risk._compute = spy  # type: ignore[method-assign]
    await ctx.start(replay_date=date(2018, 1, 2))
    try:
        await ctx.refreshed.wait()
        while not reports:
            await asyncio.sleep(0.05)
        ctx.risk.min_interval_s = 1.0
        reports.clear()
        assert ctx.clock is not None
        for day in ctx.days[1:11]:  # ten account changes within ~0.2 s
            ctx.clock.jump(day)
            await ctx.refreshed.wait()
        last_day = ctx.days[10]
        await asyncio.sleep(2.5)
        assert 1 <= len(reports) <= 3
        assert reports[-1].as_of == last_day
        assert threads and all(name.startswith("magnus-risk") for name in threads)
    finally:
        await ctx.aclose()


def test_cli_json_adds_the_users_scenarios_by_name(tmp_path: Path) -> None:
    """A scenario saved in the settings file appears under "scenarios" keyed by its name, marked
    "user", with its ranked positions; its P&L is the service's own stress test of the same book."""
    from datetime import date

    from magnus_desktop.analytics.risk import Book, stress_test
    from magnus_desktop.cli_risk import build_report
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.risk.scenarios import to_scenario
    from magnus_desktop.services.settings import UserScenario

    crash = UserScenario(name="crash -10", index_move=-0.10, iv_change=1.0, days=2)
    settings = Settings(risk_scenarios=[crash])
    SettingsStore(app_paths().settings_file).save(settings)
    before = app_paths().settings_file.read_bytes()
    out = run_cli("--replay-date", "2018-02-02", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    user = doc["scenarios"]["crash -10"]
    report = build_report("demo", date(2018, 2, 2), None)
    book = Book.of(report.positions, settings.risk_free_rate)
    expected = stress_test(book, to_scenario(crash), {u: b.value for u, b in report.betas.items()})
    assert user["kind"] == "user" and user["pnl"] == pytest.approx(expected.pnl, abs=0.01) and user["pnl"] < 0
    assert [r["pnl"] for r in user["ranked"]] == sorted(r["pnl"] for r in user["ranked"])
    assert user["worst_position"] == user["ranked"][0]["position"] and len(user["ranked"]) == 3
    assert doc["scenarios"]["2018-02-05"]["kind"] == "built-in"
    for s in doc["scenarios"].values():  # every field the issue's version had is still there
        assert {"label", "pnl", "margin_change", "source", "worst_position"} <= set(s)
    assert app_paths().settings_file.read_bytes() == before  # only read
    app_paths().settings_file.write_text("{not json", encoding="utf-8")
    broken = run_cli("--replay-date", "2018-02-02", "--format", "json")
    assert broken.returncode == 0 and "not used" in broken.stderr and "crash -10" not in json.loads(broken.stdout)["scenarios"]
    assert app_paths().settings_file.read_text(encoding="utf-8") == "{not json"  # not moved aside


def test_the_settings_rate_prices_the_headless_report_as_in_the_dock() -> None:
    """The rate and dividend yield of Settings (as the Risk dock uses them), not the defaults."""
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.settings import Settings, SettingsStore

    default = json.loads(run_cli("--replay-date", "2018-02-02", "--format", "json").stdout)
    SettingsStore(app_paths().settings_file).save(Settings(risk_free_rate=0.08, dividend_yield=0.0))
    changed = json.loads(run_cli("--replay-date", "2018-02-02", "--format", "json").stdout)
    assert changed["greeks"] != default["greeks"]
