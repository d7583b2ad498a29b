"""Bad input in the alerts centre, end to end: a monitor that raises is isolated (the others still
raise their alerts), logged, told to the trader once and shown once in the Alerts dock; a corrupt
alert row in the database is skipped with a log line and the dock shows the rest."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from magnus_desktop.models.orm_alerts import AlertRow
from magnus_desktop.services.alerts import service as alert_service
from magnus_desktop.services.alerts.monitors import MONITORS, MonitorInput, MonitorSpec, run_monitors
from magnus_desktop.services.alerts.replay import replay_alerts
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.settings import AlertSettings
from magnus_desktop.ui.alerts.panel import AlertsPanel
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.docks import alerts_dock
from tests.ui.conftest import LoopRunner


def _broken(_inp: MonitorInput, _cfg: AlertSettings) -> list[Any]:
    raise KeyError("no_such_column")


def test_a_raising_monitor_is_isolated_logged_and_shown_once(run: LoopRunner, ctx: AppContext, app_vm: AppViewModel,
                                                            qtbot: Any, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    specs = tuple(MonitorSpec(m.name, m.label, _broken, m.settings_prefix) if m.name == "iv" else m for m in MONITORS)
    monkeypatch.setattr(alert_service, "run_monitors",
                        lambda inp, cfg, names=None: run_monitors(inp, cfg, names, monitors=specs))
    notices: list[str] = []
    ctx.notice.connect(notices.append)
    with caplog.at_level(logging.ERROR):
        alerts = run(replay_alerts(ctx, date(2018, 1, 2), date(2018, 1, 29)))
    # the other monitors still ran: the demo's Jan-31 puts raised their expiration alerts
    assert any(a.monitor == "expiration" for a in alerts) and not any(a.monitor == "iv" for a in alerts)
    assert sum("monitor iv failed" in r.getMessage() for r in caplog.records) >= 2  # logged each run
    told = [n for n in notices if "iv monitor failed" in n]
    assert len(told) == 1 and "no_such_column" in told[0]  # told once, not once per replay day
    panel = alerts_dock(app_vm)
    assert isinstance(panel, AlertsPanel)
    qtbot.addWidget(panel)
    lines = panel.problems.text().splitlines()
    assert sum(line.startswith("Monitor iv failed") for line in lines) == 1


def test_a_corrupt_alert_row_is_skipped_and_the_dock_shows_the_rest(run: LoopRunner, ctx: AppContext,
                                                                    app_vm: AppViewModel, qtbot: Any,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    alerts = run(replay_alerts(ctx, date(2018, 1, 2), date(2018, 1, 24)))
    assert alerts
    now = datetime(2018, 1, 24, 21, tzinfo=UTC)
    base = dict(account=ctx.alerts.account, monitor="delta", subject="portfolio", title="t", day=date(2018, 1, 24),
                raised_at=now, actions="[]", state="new", facts="[]")
    with ctx.db.session() as s:
        s.execute(insert(AlertRow), [{**base, "priority": "SEVERE"}, {**base, "priority": "LOW", "facts": "{oops"}])
    with caplog.at_level(logging.WARNING):
        run(ctx.alerts.reload())
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 2
    assert {a.alert_id for a in ctx.alerts.visible()} == {a.alert_id for a in alerts}
    panel = alerts_dock(app_vm)
    qtbot.addWidget(panel)
    run.until(lambda: panel.model.rowCount() == len(alerts))  # type: ignore[attr-defined]
