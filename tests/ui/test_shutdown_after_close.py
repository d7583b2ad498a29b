"""Closing the window after a script closed the services submits nothing to the closed executors."""

from __future__ import annotations

import logging

from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.app_view_model import AppViewModel


def test_shutdown_after_the_context_was_closed_submits_nothing_and_says_so(run, ctx: AppContext,
                                                                          app_vm: AppViewModel, caplog) -> None:
    run(ctx.aclose())
    assert ctx.closed
    with caplog.at_level(logging.WARNING):
        run(app_vm.shutdown())  # before the fix: RuntimeError: cannot schedule new futures after shutdown
    assert any("already closed" in r.getMessage() for r in caplog.records)


def test_shutdown_saves_the_settings_while_the_services_run(run, ctx: AppContext, app_vm: AppViewModel) -> None:
    ctx.settings.risk_free_rate = 0.0312
    run(app_vm.shutdown())
    assert ctx.closed
    assert ctx.settings_store.load().risk_free_rate == 0.0312
