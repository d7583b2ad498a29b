"""The docks on a real account, with real parts: a real AppContext, the fake TWS (ib_async unmodified
over real sockets) and the real private Secret Service keyring.

Switch to an IB account → the positions dock shows the server's positions (source ib); kill the
server → the header says reconnecting with the age; restart → live again; the ticket refuses to
send (no placeOrder reaches the server); switch back to demo → the replay positions return.
Robinhood (the fake HTTP server, robin_stocks unmodified): polled, orders refused likewise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path

import pytest
from keyring.backends import SecretService

from magnus_desktop.models.domain import OptionContract, OrderTicket
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.credentials import CredentialStore
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.orders import LiveOrdersDisabled
from magnus_desktop.services.settings import DEMO_ACCOUNT, AccountConfig, Settings, SettingsStore
from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.ui.dashboard.panel import DashboardPanel
from magnus_desktop.ui.dashboard.view_model import DashboardViewModel
from magnus_desktop.ui.orders.ticket import OrderTicketDialog
from magnus_desktop.ui.positions.panel import PositionsPanel
from magnus_desktop.ui.positions.view_model import PositionsViewModel
from tests.fake_robinhood import FakeRobinhood
from tests.fakes.fake_tws import FakeTWS
from tests.secret_service import secret_service  # noqa: F401  (fixture)
from tests.ui.conftest import LoopRunner, main_thread_gc, replay_market, run  # noqa: F401  (fixtures)

IB_FAST = {"connect_timeout": 2.0, "request_timeout": 3.0, "backoff_initial": 0.05, "backoff_max": 0.3}
IB_NAME = "IB paper"


@pytest.fixture
def live_ctx(run: LoopRunner, tmp_path: Path, replay_market: ReplayMarketData,  # noqa: F811
             secret_service) -> Iterator[AppContext]:  # noqa: F811
    """A started AppContext (demo account active) whose keyring is the real private Secret Service."""
    ctx = AppContext(SettingsStore(tmp_path / "settings.json"), Settings(),
                     db_url=f"sqlite:///{tmp_path / 'magnus.sqlite3'}", market=replay_market,
                     credentials=CredentialStore(SecretService.Keyring()),
                     session_options={"ib_options": IB_FAST})
    run(ctx.start())
    run(ctx.refreshed.wait())
    run.until(lambda: ctx.session.status().state == "connected")
    yield ctx
    run(ctx.aclose())


@pytest.fixture
def tws(run: LoopRunner) -> Iterator[FakeTWS]:  # noqa: F811
    server = FakeTWS()
    run(server.start())
    yield server
    run(server.stop())


def _symbols(panel: PositionsPanel) -> list[str]:
    return [panel.model.record(i)["symbol"] for i in range(panel.model.rowCount())]


def test_ib_account_feeds_the_positions_dock_and_never_sends_orders(
        run: LoopRunner, live_ctx: AppContext, tws: FakeTWS, qtbot) -> None:  # noqa: F811
    ctx = live_ctx
    app_vm = AppViewModel(ctx)
    panel = PositionsPanel(PositionsViewModel(ctx, app_vm.orders))
    qtbot.addWidget(panel)
    dashboard = DashboardPanel(DashboardViewModel(ctx, app_vm))
    qtbot.addWidget(dashboard)
    dashboard.show()
    run(ctx.refresh_now())
    run.until(lambda: panel.model.rowCount() > 0)
    demo_rows = _symbols(panel)
    assert all(panel.model.record(i)["source"].startswith("replay") for i in range(panel.model.rowCount()))
    assert panel.header.text().startswith("Demo account (paper)")

    # switch to the IB account: the server's positions, source ib, no replay marks
    run(ctx.session.save_account(AccountConfig(name=IB_NAME, kind="ib", port=tws.port, client_id=7)))
    run(ctx.session.switch(IB_NAME))
    run.until(lambda: "SPY (shares)" in _symbols(panel), timeout=10)
    summary = ctx.portfolio.last_summary
    assert summary is not None and summary.source == "ib" and summary.account == IB_NAME
    by_kind = {type(p.contract).__name__: p for p in summary.positions}
    put = by_kind["OptionContract"]
    assert (put.contract.underlying, put.contract.strike, put.contract.right, put.qty) == ("SPXW", 2600.0, "P", -2)
    assert by_kind["StockContract"].qty == 100
    # exactly the server's two positions: none of the demo fills' contracts (2550/2650 puts) remain
    assert sorted(_symbols(panel)) == ["SPXW 2018-01-31 2600 P", "SPY (shares)"]
    assert set(demo_rows) - set(_symbols(panel))
    # account values are the server's own numbers (cash 250,000 is its test account)
    assert summary.cash == pytest.approx(tws.cash)
    # the streamed quote arrives with IB's model Greeks
    run.until(lambda: any(p.greeks_source == "IB model" for p in ctx.portfolio.last_summary.positions), timeout=10)
    put = next(p for p in ctx.portfolio.last_summary.positions if isinstance(p.contract, OptionContract))
    assert math.isfinite(put.mark) and put.source == "ib" and put.delta != 0
    run.until(lambda: panel.header.text().startswith(f"{IB_NAME} (IB) — live, as of "))
    # the dashboard's equity: only the broker's net liquidation, labelled as such; no P&L invented
    run.until(lambda: dashboard.broker_equity_chart is not None and dashboard.broker_equity_chart.isVisible())
    assert not dashboard.equity_chart.isVisible()
    assert "IB paper: net liquidation as reported by IB since connecting" in dashboard.broker_equity_chart._title
    assert dashboard.cards["total_pnl"].text() == "—"
    assert dashboard.cards["net_liquidation"].text() == f"${summary.net_liquidation:,.2f}"
    dashboard.resize(900, 600)
    panel.resize(1100, 300)

    # the watchlist quotes: the session's MarketData first (the fake TWS quotes SPX and SPY), then the
    # replay (AAPL, GOOG, VIX: the server knows no such contract); yfinance stays out (setting off)
    quotes: list[dict] = []
    ctx.watchlists.quotes_changed.connect(quotes.append)
    run(ctx.refresh_now())
    run.until(lambda: bool(quotes) and quotes[-1]["SPY"] is not None and quotes[-1]["SPY"].source == "ib")
    latest = quotes[-1]
    assert latest["SPY"].last == pytest.approx(tws.book.spy_close(tws.book.quote_date))
    assert latest["SPY"].quoted_at is not None
    assert {latest[s].source for s in ("AAPL", "GOOG", "VIX")} == {"replay"}
    assert [type(s).__name__ for s in ctx.watchlists.quote_chain().sources] == ["IBSession", "ReplayMarket"]

    # the ticket refuses to send on the IB account; nothing reaches the server
    dialog = OrderTicketDialog(app_vm.orders, put.contract, "BUY", 1)
    qtbot.addWidget(dialog)
    assert not dialog.confirm.isEnabled()
    assert f"Live orders are not enabled for {IB_NAME}" in dialog.warning.text()
    rejected: list[str] = []
    app_vm.orders.order_rejected.connect(lambda _ref, why: rejected.append(why))
    app_vm.orders.place_order(dialog.build_ticket())  # even if something called it: refused before sending
    run.until(lambda: bool(rejected))
    assert "Live orders are not enabled" in rejected[0]
    with pytest.raises(LiveOrdersDisabled):
        run(ctx.orders.place_order(dialog.build_ticket()))
    run.idle(0.3)
    assert tws.place_order_count == 0
    demo_fills = len(ctx.portfolio.fills)

    # kill the server: stale, labelled with its age, never "live"
    run(tws.stop())
    run.until(lambda: "reconnecting — last update" in panel.header.text(), timeout=10)
    run.until(lambda: " s old" in panel.header.text() and not panel.header.text().endswith(" 0 s old"),
              timeout=5)
    assert "live" not in panel.header.text()
    # restart: live again
    run(tws.start())
    run.until(lambda: "— live, as of" in panel.header.text(), timeout=15)

    # back to the demo account: the replay positions return
    run(ctx.session.switch(DEMO_ACCOUNT))
    run.until(lambda: ctx.portfolio.last_summary is not None and ctx.portfolio.last_summary.source == "replay")
    run.until(lambda: _symbols(panel) == demo_rows)
    assert panel.header.text().startswith("Demo account (paper)")
    run.until(lambda: dashboard.broker_equity_chart is None and dashboard.equity_chart.isVisible())
    run.until(lambda: dashboard.cards["total_pnl"].text() != "—")
    run(ctx.refresh_now())
    assert {q.source for q in quotes[-1].values() if q is not None} == {"replay"}
    assert len(ctx.portfolio.fills) == demo_fills and tws.place_order_count == 0


# ------------------------------------------------------------------------------------ Robinhood


def test_robinhood_account_is_polled_and_never_sent_orders(
        run: LoopRunner, live_ctx: AppContext, fake_rh: FakeRobinhood, qtbot) -> None:  # noqa: F811
    """Robinhood streams nothing: positions, values and quotes are asked for on a timer; the password
    and TOTP secret come from the real keyring."""
    ctx = live_ctx
    assert ctx.portfolio.live is not None
    ctx.portfolio.live.poll_interval_s = 0.2
    panel = PositionsPanel(PositionsViewModel(ctx, AppViewModel(ctx).orders))
    qtbot.addWidget(panel)
    account = AccountConfig(name="RH", kind="robinhood", username=fake_rh.username)
    run(ctx.session.save_account(account))
    run(ctx.session.save_secrets("RH", {"password": fake_rh.password, "totp_secret": fake_rh.totp_secret or ""}))
    run(ctx.session.switch("RH"))
    assert ctx.session.status().state == "connected"
    run.until(lambda: "AAPL (shares)" in _symbols(panel), timeout=10)
    summary = ctx.portfolio.last_summary
    assert summary is not None and summary.source == "robinhood"
    assert summary.net_liquidation == pytest.approx(12345.67)  # the portfolio's "equity", as reported
    # the option's quote arrives by polling, with Robinhood's own Greeks
    run.until(lambda: any(isinstance(p.contract, OptionContract) and math.isfinite(p.mark)
                          for p in ctx.portfolio.last_summary.positions), timeout=10)
    put = next(p for p in ctx.portfolio.last_summary.positions if isinstance(p.contract, OptionContract))
    assert put.mark == pytest.approx((2.15 + 2.25) / 2) and put.source == "robinhood"
    assert put.greeks_source == "Robinhood model" and put.delta == pytest.approx(-0.221 * put.qty * 100)
    run.until(lambda: panel.header.text().startswith("RH (Robinhood) — live, as of "))
    with pytest.raises(LiveOrdersDisabled):
        run(ctx.orders.place_order(ctx.orders.new_ticket(put.contract, "BUY", 1)))
    assert fake_rh.posted_orders() == []
    run(ctx.session.switch(DEMO_ACCOUNT))
    run.until(lambda: ctx.portfolio.last_summary.source == "replay")


def test_ib_account_feeds_the_spx_card_and_the_scanner_from_the_one_session(
        run: LoopRunner, live_ctx: AppContext, tws: FakeTWS, qtbot, monkeypatch) -> None:  # noqa: F811
    """SPX comes from the session (VIX, which the server does not know, stays recorded and says so);
    the scanner scans the session's SPXW chain snapshot, labelled; back on demo both are recorded."""
    from datetime import datetime

    from magnus_desktop.services.brokers import ib as ib_module
    from magnus_desktop.services.scanner.service import RECORDED_QUOTES
    from magnus_desktop.ui.scanner.panel import status_text

    # the server's "today" is its recorded quote date (the chain's expiries are in 2018)
    monkeypatch.setattr(ib_module, "_now", lambda: datetime(2018, 1, 2, 20, 30, tzinfo=UTC))
    ctx = live_ctx
    dashboard = DashboardPanel(DashboardViewModel(ctx, AppViewModel(ctx)))
    qtbot.addWidget(dashboard)
    dashboard.show()
    run(ctx.refresh_now())
    assert ctx.scanner.last_scan is not None and ctx.scanner.last_scan.quotes == RECORDED_QUOTES
    run.until(lambda: dashboard.market_source.text().startswith("SPX, VIX: replay · as of"))

    run(ctx.session.save_account(AccountConfig(name=IB_NAME, kind="ib", port=tws.port, client_id=8)))
    run(ctx.session.switch(IB_NAME))
    run(ctx.refresh_now())
    run.until(lambda: ctx.overview.last is not None and ctx.overview.last.spx_source == "ib", timeout=10)
    assert ctx.overview.last.spx == pytest.approx(tws.book.spx_price)
    run.until(lambda: dashboard.market_source.text().startswith("SPX: ib · as of "), timeout=5)
    assert "VIX: replay · as of 2018-01-02 close (no live quote)" in dashboard.market_source.text()
    assert dashboard.cards["spx"].text() == f"{tws.book.spx_price:,.2f}"

    run.until(lambda: ctx.scanner.last_scan.quotes == "ib snapshot quotes", timeout=20)
    scan = ctx.scanner.last_scan
    assert len(scan.rows) > 0 and set(scan.rows["right"]) == {"P"}
    row = scan.rows.iloc[0]
    served = tws.book.by_key[("SPXW", row["expiry"].strftime("%Y%m%d"), float(row["strike"]), "P")]
    assert row["bid"] == served.day(date(2018, 1, 2)).bid  # the server's quote, not the recording's file
    assert "ib snapshot quotes" in status_text(scan)

    run(ctx.session.switch(DEMO_ACCOUNT))
    run(ctx.refresh_now())
    run.until(lambda: ctx.scanner.last_scan.quotes == RECORDED_QUOTES, timeout=5)
    run.until(lambda: dashboard.market_source.text().startswith("SPX, VIX: replay"), timeout=5)


def test_live_trading_enabled_needs_the_typed_confirmation_and_sends_once(
        run: LoopRunner, live_ctx: AppContext, tws: FakeTWS, qtbot, qapp) -> None:  # noqa: F811
    """An IB account with "Live trading enabled": the ticket is LIVE, the confirmation restates the
    order and waits for the typed symbol; then exactly one placeOrder reaches the server, and
    sending the same ticket again (a retry) sends nothing more. The dialog closes on its own fill."""
    ctx = live_ctx
    app_vm = AppViewModel(ctx)
    run(ctx.session.save_account(AccountConfig(name=IB_NAME, kind="ib", port=tws.port, client_id=8,
                                               live_trading_enabled=True)))
    run(ctx.session.switch(IB_NAME))
    run.until(lambda: ctx.portfolio.last_summary is not None and ctx.portfolio.last_summary.source == "ib"
              and any(isinstance(p.contract, OptionContract) for p in ctx.portfolio.last_summary.positions),
              timeout=10)
    assert app_vm.orders.tier() == "live" and app_vm.orders.refusal() is None
    put = next(p for p in ctx.portfolio.last_summary.positions if isinstance(p.contract, OptionContract))
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        dialog = OrderTicketDialog(app_vm.orders, put.contract, "BUY", 1, closing=True)
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.quote_day is not None)
        assert dialog.confirm.text() == "Place LIVE order…" and "LIVE" in dialog.windowTitle()
        assert dialog.blocking_problems() == ()
        confirmation = dialog.submit()
        assert confirmation is not None and confirmation.tier == "live"
        assert confirmation.fields["Account"].text() == f"<b>{IB_NAME}</b>"
        assert "BUY to close" in confirmation.fields["Side"].text()
        assert not confirmation.ok.isEnabled()
        confirmation.accept()  # without the typed symbol nothing is sent
        run.idle(0.3)
        assert tws.place_order_count == 0 and dialog.pending_ref is None
        confirmation.typed.setText("SPXW")
        confirmation.ok.click()
        ref = dialog.pending_ref
        assert ref is not None
        run.until(lambda: tws.place_order_count == 1, timeout=10)
        run.until(lambda: not dialog.isVisible(), timeout=10)  # its own order filled
        assert dialog.result() == dialog.DialogCode.Accepted
        retry = OrderTicket(put.contract, "BUY", 1, math.nan, ref, ctx.day)
        assert run(ctx.orders.place_order(retry)) == ref  # a retry of the same order_ref
        run.idle(0.3)
        assert tws.place_order_count == 1
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        run(ctx.session.switch(DEMO_ACCOUNT))


def test_a_working_live_order_is_modified_from_the_orders_dock_after_the_rules_check(
        run: LoopRunner, live_ctx: AppContext, tws: FakeTWS, qtbot) -> None:  # noqa: F811
    """A live IB limit order that stays working (the fake TWS does not fill it): Modify… in the Orders
    dock with a limit off the SPX tick size is refused by the rules (nothing reaches TWS, a refused
    ``modified`` audit row); a new quantity on the tick goes out as one placeOrder with the same order
    id, the dock shows the new quantity, and the audit log has an accepted ``modified`` row."""
    from magnus_desktop.models.audit import AuditFilter
    from magnus_desktop.ui.orders_blotter.panel import OrdersBlotterPanel
    from magnus_desktop.ui.orders_blotter.view_model import OrdersBlotterViewModel

    ctx = live_ctx
    tws.fill_orders = False
    run(ctx.session.save_account(AccountConfig(name=IB_NAME, kind="ib", port=tws.port, client_id=9,
                                               live_trading_enabled=True)))
    run(ctx.session.switch(IB_NAME))
    try:
        run.until(lambda: ctx.portfolio.last_summary is not None and ctx.portfolio.last_summary.source == "ib"
                  and any(isinstance(p.contract, OptionContract) for p in ctx.portfolio.last_summary.positions),
                  timeout=10)
        put = next(p for p in ctx.portfolio.last_summary.positions
                   if isinstance(p.contract, OptionContract) and p.qty < 0)
        quote = run(ctx.orders.quote(put.contract))
        limit = math.ceil(quote.ask * 10 + 1) / 10  # above the ask, on the $0.10 SPX tick: fills at the ask
        panel = OrdersBlotterPanel(OrdersBlotterViewModel(ctx))
        qtbot.addWidget(panel)
        ref = run(ctx.orders.place_order(OrderTicket(put.contract, "BUY", 1, limit, "ref-modify", ctx.day)))
        run.until(lambda: panel.model.rowCount() == 1 and panel.model.record(0)["working"], timeout=10)
        panel.table.selectRow(0)
        assert panel.modify_button.isEnabled()

        dialog = panel.modify_selected()
        dialog.limit.setValue(limit + 0.05)  # off the $0.10 tick
        dialog.accept()
        run.until(lambda: "refused" in panel.status.text(), timeout=10)
        assert "tick size" in panel.status.text() and tws.modifications == []

        dialog = panel.modify_selected()
        dialog.qty.setValue(abs(int(put.qty)))
        dialog.accept()
        run.until(lambda: tws.modifications, timeout=10)
        order_id = tws.placed_orders[0].order_id
        assert tws.modifications == [(order_id, float(abs(int(put.qty))), limit)] and tws.place_order_count == 1
        run.until(lambda: panel.model.record(0)["qty"] == abs(int(put.qty)), timeout=10)
        run(ctx.audit.idle())
        rows, _ = run(ctx.audit.query(AuditFilter(action="modified"), 10, 0))
        assert [r.params["modification"] for r in rows] == ["accepted", "refused"]  # newest first
        assert all(r.order_ref == ref for r in rows) and "tick size" in rows[1].result
    finally:
        run(ctx.session.switch(DEMO_ACCOUNT))
