"""A negative buying power is shown in red and in words (dashboard card + warning, Positions totals)."""

from __future__ import annotations

from datetime import date

from magnus_desktop.models.domain import Fill, OptionContract
from magnus_desktop.services.portfolio.marking import account_summary
from magnus_desktop.ui.dashboard.panel import DashboardPanel
from magnus_desktop.ui.positions.panel import PositionsPanel
from magnus_desktop.widgets.table_model import text_color


def overcommitted(ws):  # type: ignore[no-untyped-def]
    """The issue's state, as an account stored before the later-days check existed holds it: the
    demo seed plus 1 x 2720 P sold on 02-02 and 7 x 2790 P sold (backdated) on 02-01, marked on 02-02."""
    feb28, day = date(2018, 2, 28), date(2018, 2, 2)
    extra = []
    for strike, qty, traded in ((2720.0, 1, day), (2790.0, 7, date(2018, 2, 1))):
        contract = OptionContract("SPXW", feb28, strike, "P")
        bid = ws.market.option_quote(contract, traded).bid
        extra.append(Fill(contract, -qty, bid, 0.65 * qty, traded, f"old-{strike}"))
    return account_summary([*ws.portfolio.fills, *extra], day, ws.market, ws.clock.days, starting_cash=ws.portfolio.starting_cash,
                           rate=ws.settings.risk_free_rate)


def test_negative_buying_power_is_red_and_explained(tmp_path, qtbot, run, dashboard_vm, positions_vm, ctx) -> None:
    dashboard, positions = DashboardPanel(dashboard_vm), PositionsPanel(positions_vm)
    for panel in (dashboard, positions):
        qtbot.addWidget(panel)
        panel.resize(1000, 600)
        panel.show()
    summary = overcommitted(ctx)
    assert summary.buying_power < 0
    ctx.portfolio.account_changed.emit(summary)  # as the service publishes it: both docks follow
    card = dashboard.cards["buying_power"]
    run.until(lambda: dashboard.bp_warning.isVisible())
    amount = f"-${-summary.buying_power:,.0f}"
    assert card.text() == amount and text_color("loss").name() in card.styleSheet()
    text = dashboard.bp_warning.text()
    assert "Buying power is negative on 2018-02-02" in text and amount in text
    assert f"${summary.collateral_used:,.0f}" in text
    run.until(lambda: positions.total_labels["buying_power"].text() == f"{amount} (short)")
    assert text_color("loss").name() in positions.total_labels["buying_power"].styleSheet()
    assert dashboard.grab().save(str(tmp_path / "dashboard_negative_bp.png"))
    # back above zero: the warning goes and the colour too
    ctx.portfolio.account_changed.emit(ctx.portfolio.last_summary)
    run.until(lambda: not dashboard.bp_warning.isVisible())
    assert card.styleSheet() == "" and ctx.portfolio.last_summary.buying_power > 0
    run.until(lambda: "(short)" not in positions.total_labels["buying_power"].text())
    assert positions.total_labels["buying_power"].styleSheet() == ""
