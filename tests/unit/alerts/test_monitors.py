"""Monitors, de-duplication, the schedule and the alert table, without the app (no Qt)."""

from __future__ import annotations

import logging
import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import insert

from magnus_desktop.models.alerts import Alert, AlertCandidate, Fact, Priority
from magnus_desktop.models.orm_alerts import AlertRow
from magnus_desktop.services.alerts.dedupe import dedupe
from magnus_desktop.services.alerts.inputs import iv_history
from magnus_desktop.services.alerts.monitors import (
    KalshiQuote,
    MonitorInput,
    MonitorSpec,
    iv_rank,
    kalshi_mispricing,
    run_monitors,
    unusual_iv,
)
from magnus_desktop.services.alerts.repo import AlertRepo, HistoryFilter
from magnus_desktop.services.alerts.schedule import MonitorScheduler, next_fire
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR
from magnus_desktop.services.settings import AlertSettings
from magnus_desktop.services.storage import Database

NOW = datetime(2018, 2, 5, 21, 0, tzinfo=UTC)


def _alert(priority: Priority, raised_at: datetime, subject: str = "S", **kw: object) -> Alert:
    return Alert(1, "acct", "expiration", subject, priority, "t", raised_at.date(), raised_at, **kw)  # type: ignore[arg-type]


def _cand(priority: Priority, subject: str = "S") -> AlertCandidate:
    return AlertCandidate("expiration", subject, priority, "t")


def test_same_key_within_the_cooldown_is_dropped_but_an_escalation_is_raised() -> None:
    recent = [_alert(Priority.HIGH, NOW - timedelta(hours=10))]
    cooldown = timedelta(hours=72)
    assert dedupe([_cand(Priority.HIGH)], recent, NOW, cooldown) == []
    assert dedupe([_cand(Priority.CRITICAL)], recent, NOW, cooldown) == [_cand(Priority.CRITICAL)]
    assert dedupe([_cand(Priority.HIGH)], recent, NOW + timedelta(hours=62), cooldown) == [_cand(Priority.HIGH)]
    assert dedupe([_cand(Priority.HIGH, "other")], recent, NOW, cooldown) == [_cand(Priority.HIGH, "other")]


def test_a_snoozed_alert_blocks_its_key_until_the_snooze_ends() -> None:
    recent = [_alert(Priority.HIGH, NOW - timedelta(days=10), snoozed_until=NOW + timedelta(hours=1))]
    assert dedupe([_cand(Priority.HIGH)], recent, NOW, timedelta(hours=1)) == []
    assert dedupe([_cand(Priority.HIGH)], recent, NOW + timedelta(hours=2), timedelta(hours=1)) != []


def test_one_batch_keeps_the_most_urgent_candidate_per_key() -> None:
    assert dedupe([_cand(Priority.HIGH), _cand(Priority.CRITICAL)], [], NOW, timedelta(hours=1)) == [
        _cand(Priority.CRITICAL)]


def test_a_monitor_that_raises_does_not_stop_the_others() -> None:
    def broken(_inp: MonitorInput, _cfg: AlertSettings) -> list[AlertCandidate]:
        raise ZeroDivisionError("boom")

    def fine(inp: MonitorInput, _cfg: AlertSettings) -> list[AlertCandidate]:
        return [AlertCandidate("expiration", inp.day.isoformat(), Priority.LOW, "ok")]

    specs = (MonitorSpec("expiration", "A", broken, "expiration"), MonitorSpec("profit_target", "B", fine, "profit_target"))
    result = run_monitors(MonitorInput(day=date(2018, 1, 2)), AlertSettings(), monitors=specs)
    assert [c.title for c in result.candidates] == ["ok"]
    assert result.failures == (("expiration", "ZeroDivisionError: boom"),)


def test_a_disabled_monitor_does_not_run() -> None:
    calls = []
    spec = MonitorSpec("expiration", "A", lambda inp, cfg: calls.append(1) or [], "expiration")
    run_monitors(MonitorInput(day=date(2018, 1, 2)), AlertSettings(expiration_enabled=False), monitors=(spec,))
    assert calls == []


def test_iv_rank_and_jump_on_the_recorded_vix_of_5_feb_2018() -> None:
    raw = pd.read_csv(DATA_RESOURCES_DIR / "ohlcv" / "datahub_vix-daily_1990-2026.csv")
    raw.columns = [c.strip().lower() for c in raw.columns]
    raw["date"] = pd.to_datetime(raw["date"])
    window = raw[(raw["date"] >= "2017-02-05") & (raw["date"] <= "2018-02-05")]
    closes = window["close"].to_numpy()
    expected_rank = (closes[-1] - closes.min()) / (closes.max() - closes.min()) * 100.0
    source, history = iv_history(ReplayMarketData.from_resources(), "SPX", date(2018, 2, 5))  # type: ignore[misc]
    assert "VIX" in source and history[-1][0] == date(2018, 2, 5)
    assert iv_rank(history) == pytest.approx(expected_rank)
    found = unusual_iv(MonitorInput(day=date(2018, 2, 5), iv_history={"SPX": (source, history)}), AlertSettings())
    jump = next(f for f in found[0].facts if f.label == "day-over-day change")
    assert jump.value == pytest.approx((closes[-1] - closes[-2]), abs=0.01) and jump.unit == "vol points"


def test_kalshi_hook_raises_only_above_the_edge_after_fees() -> None:
    fee = math.ceil(0.07 * 0.40 * 0.60 * 100) / 100  # Kalshi's taker fee for one contract at 0.40 USD
    good = KalshiQuote("KXA", "A", model_prob=0.52, yes_ask_usd=0.40, fee_usd=fee)
    thin = KalshiQuote("KXB", "B", model_prob=0.44, yes_ask_usd=0.40, fee_usd=fee)
    found = kalshi_mispricing(MonitorInput(day=date(2018, 1, 2), kalshi=(good, thin)), AlertSettings())
    assert [c.subject for c in found] == ["KXA"]
    edge = next(f for f in found[0].facts if f.label == "edge after fees")
    assert edge.value == pytest.approx(0.52 - 0.40 - fee)
    assert kalshi_mispricing(MonitorInput(day=date(2018, 1, 2)), AlertSettings()) == []


@pytest.mark.parametrize(("cadence", "now", "expected"), [
    ("30min", datetime(2018, 1, 2, 9, 10), datetime(2018, 1, 2, 9, 30)),
    ("hourly", datetime(2018, 1, 2, 9, 0), datetime(2018, 1, 2, 10, 0)),
    ("4h", datetime(2018, 1, 2, 21, 5), datetime(2018, 1, 3, 0, 0)),
    ("daily_0700", datetime(2018, 1, 2, 6, 59), datetime(2018, 1, 2, 7, 0)),
    ("daily_0700", datetime(2018, 1, 2, 7, 0), datetime(2018, 1, 3, 7, 0)),
])
def test_next_fire(cadence: str, now: datetime, expected: datetime) -> None:
    assert next_fire(cadence, now) == expected


def test_unknown_cadence_is_named() -> None:
    with pytest.raises(ValueError, match="'2h'"):
        next_fire("2h", NOW)


def test_corrupt_rows_are_skipped_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    db = Database.open("sqlite://")
    try:
        repo = AlertRepo(db)
        good = repo.add([Alert(0, "acct", "delta", "portfolio", Priority.HIGH, "t", NOW.date(), NOW,
                               (Fact("net delta", 551.4, "SPY shares"), Fact("x", math.nan, "USD")), ("open_ticket",))])
        base = dict(account="acct", monitor="delta", subject="p", title="t", day=NOW.date(), raised_at=NOW,
                    actions="[]", state="new")
        with db.session() as s:
            s.execute(insert(AlertRow), [{**base, "priority": "URGENT", "facts": "[]"},
                                         {**base, "priority": "LOW", "facts": "not json"},
                                         {**base, "priority": "LOW", "facts": "[]", "state": "sleeping"}])
        with caplog.at_level(logging.WARNING):
            read = repo.open_alerts("acct", NOW - timedelta(days=1))
        assert read == good and read[0].facts[0] == Fact("net delta", 551.4, "SPY shares")
        assert math.isnan(read[0].facts[1].value)  # type: ignore[arg-type]
        assert sum("skipped" in r.message for r in caplog.records) == 3
        assert repo.history("acct", HistoryFilter(text="net delta")) == good
        assert repo.history("acct", HistoryFilter(min_priority=Priority.CRITICAL)) == []
    finally:
        db.close()


@pytest.mark.asyncio
async def test_the_scheduler_runs_each_cadence_with_the_monitors_set_to_it_now() -> None:
    """APScheduler on the running loop: one job per cadence; a tick runs the monitors whose cadence
    it is when it fires (a cadence changed in Settings takes effect without rescheduling)."""
    cadences = {"expiration": "daily_0700", "profit_target": "30min", "iv": "30min"}
    runs: list[tuple[str, ...]] = []

    async def run(names: tuple[str, ...]) -> None:
        runs.append(names)
        if names == ("boom",):
            raise RuntimeError("a failed run")

    sched = MonitorScheduler(lambda: cadences, run, tz=UTC)
    sched.start()
    try:
        assert sched.running
        nxt = sched.next_runs()
        assert set(nxt) == {"30min", "hourly", "4h", "daily_0700"}
        now = datetime.now(UTC)
        assert all(when > now for when in nxt.values())
        assert nxt["daily_0700"] == next_fire("daily_0700", now)
        await sched.fire("30min")
        await sched.fire("hourly")  # no monitor has this cadence: nothing runs
        cadences["iv"] = "hourly"
        await sched.fire("hourly")
        cadences["boom"] = "4h"
        await sched.fire("4h")  # a run that raises is logged; the schedule goes on
        assert runs == [("profit_target", "iv"), ("iv",), ("boom",)]
    finally:
        await sched.aclose()
    assert not sched.running


@pytest.mark.asyncio
async def test_a_quote_batch_runs_the_monitors_at_once_then_at_most_every_interval() -> None:
    """A real account's quote batch: the first runs the monitors at once (no fixed delay before a
    triggering quote can reach the tray); batches within the interval coalesce into one later run."""
    import asyncio
    from types import SimpleNamespace

    from magnus_desktop.services.alerts.service import LIVE_RUN_INTERVAL, AlertService

    loop = asyncio.get_running_loop()
    svc = AlertService(SimpleNamespace(portfolio=SimpleNamespace(showing_broker=True), closed=False))  # type: ignore[arg-type]
    runs: list[float] = []

    async def fake_run(_day: date, _names: object = None) -> tuple[()]:
        runs.append(loop.time())
        return ()

    svc.run = fake_run  # type: ignore[method-assign]
    start = loop.time()
    svc._on_portfolio_account_changed(None)
    await asyncio.sleep(0.05)
    assert len(runs) == 1 and runs[0] - start < 0.05
    for _ in range(5):
        svc._on_portfolio_account_changed(None)
        await asyncio.sleep(0.01)
    assert len(runs) == 1
    await asyncio.sleep(LIVE_RUN_INTERVAL)
    assert len(runs) == 2 and runs[1] - runs[0] >= LIVE_RUN_INTERVAL - 0.02
