"""The Orders dock and the audit viewer on real paper orders: a new order appears, a status change
updates its row (keyed by order_ref), Cancel follows what is working, the viewer filters, pages
newest first and exports CSV off the GUI thread."""

from __future__ import annotations

import csv
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import OrderEvent
from magnus_desktop.services.brokers.paper import OrderRejected
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.ui.audit.panel import AuditPanel
from magnus_desktop.ui.audit.view_model import AuditViewModel
from magnus_desktop.ui.orders_blotter.panel import OrdersBlotterPanel
from magnus_desktop.ui.orders_blotter.view_model import OrdersBlotterViewModel
from tests.ui.conftest import LoopRunner

JAN31 = date(2018, 1, 31)
PUT = OptionContract("SPXW", JAN31, 2500.0, "P")
CALL = OptionContract("SPXW", JAN31, 2800.0, "C")


def _shown(qtbot, panel, width: int, height: int):  # type: ignore[no-untyped-def]
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    return panel


@pytest.fixture
def orders_panel(qtbot, ctx: AppContext) -> OrdersBlotterPanel:  # type: ignore[no-untyped-def]
    return _shown(qtbot, OrdersBlotterPanel(OrdersBlotterViewModel(ctx)), 1100, 300)


@pytest.fixture
def audit_panel(qtbot, ctx: AppContext) -> AuditPanel:  # type: ignore[no-untyped-def]
    return _shown(qtbot, AuditPanel(AuditViewModel(ctx)), 1300, 360)


def _by_ref(panel: OrdersBlotterPanel) -> dict[str, dict]:
    return {r["order_ref"]: r for r in panel.model.records()}


def test_a_new_paper_order_and_a_rejection_show_keyed_by_order_ref(run: LoopRunner, ctx: AppContext,
                                                                   orders_panel: OrdersBlotterPanel) -> None:
    assert orders_panel.empty.isVisible()
    put = ctx.orders.new_ticket(PUT, "SELL", 1)
    run(ctx.orders.place_order(put))
    # the row appears with "submitted" (working), then turns "filled" on the next status: wait for that one
    run.until(lambda: _by_ref(orders_panel).get(put.order_ref, {}).get("state") == "filled")
    fill = ctx.orders.fill_of(put.order_ref)
    row = _by_ref(orders_panel)[put.order_ref]
    assert fill is not None and (row["state"], row["filled_qty"], row["avg_fill_price"]) == ("filled", 1, fill.price)
    assert row["description"] == PUT.describe() and not orders_panel.empty.isVisible()
    call = ctx.orders.new_ticket(CALL, "SELL", 1)
    with pytest.raises(OrderRejected):
        run(ctx.orders.place_order(call))
    run.until(lambda: _by_ref(orders_panel).get(call.order_ref, {}).get("state") == "rejected")
    records = orders_panel.model.records()
    assert [r["order_ref"] for r in records] == [call.order_ref, put.order_ref]  # newest activity first
    assert records[0]["state"] == "rejected" and "covered call" in records[0]["message"]
    # the text in the view, not only the record
    status = next(i for i, c in enumerate(orders_panel.model.columns) if c.key == "state")
    assert orders_panel.table.proxy.index(0, status).data() == "rejected"


def test_a_working_order_updates_in_place_and_cancel_follows_the_broker(
        run: LoopRunner, ctx: AppContext, orders_panel: OrdersBlotterPanel) -> None:
    """A real broker's order stays working; its statuses arrive keyed by order_ref. (Paper orders never
    work, so the statuses are published on the order service as a broker would send them.)"""
    ticket = ctx.orders.new_ticket(PUT, "BUY", 3, limit_price=1.0)

    def publish(state: str, filled: float, avg: float, message: str = "") -> None:
        emit_isolated(ctx.orders.order_status, OrderEvent(ticket.order_ref, state, filled, 3 - filled, avg, "771",  # type: ignore[arg-type]
                                                          message, "ib", datetime.now(UTC), ticket))

    publish("submitted", 0, math.nan)
    run.until(lambda: _by_ref(orders_panel).get(ticket.order_ref, {}).get("state") == "working")
    orders_panel.table.selectRow(0)
    run.until(lambda: orders_panel.cancel_button.isEnabled())
    publish("partially_filled", 1, 0.95)
    run.until(lambda: _by_ref(orders_panel)[ticket.order_ref]["filled_qty"] == 1)
    assert orders_panel.model.rowCount() == 1 and _by_ref(orders_panel)[ticket.order_ref]["avg_fill_price"] == 0.95
    # Cancel goes to the order service; the paper broker never had this order and says so
    orders_panel.cancel_selected()
    run.until(lambda: "Cancel refused" in orders_panel.status.text())
    assert "No paper order" in orders_panel.status.text()
    publish("cancelled", 1, 0.95, "cancelled by the trader")
    run.until(lambda: _by_ref(orders_panel)[ticket.order_ref]["state"] == "cancelled")
    assert not orders_panel.cancel_button.isEnabled()
    run(ctx.audit.idle())
    rows, _ = run(ctx.audit.query(AuditFilter(text=ticket.order_ref), 10, 0))
    assert [r.action for r in reversed(rows)] == ["placed", "partially_filled", "cancel_requested", "cancelled"]


def test_audit_viewer_filters_pages_and_exports_csv(run: LoopRunner, ctx: AppContext, audit_panel: AuditPanel,
                                                    tmp_path: Path) -> None:
    put = ctx.orders.new_ticket(PUT, "SELL", 1)
    run(ctx.orders.place_order(put))
    call = ctx.orders.new_ticket(CALL, "SELL", 1)
    with pytest.raises(OrderRejected):
        run(ctx.orders.place_order(call))
    # the rules refuse the covered call before any broker call: one "rejected" row, no "placed"
    run.until(lambda: audit_panel.model.rowCount() == 3)  # the live rows reload the first page
    assert [r["action"] for r in audit_panel.model.records()] == ["rejected", "filled", "placed"]
    assert audit_panel.page_label.text() == "rows 1–3 of 3, newest first"
    audit_panel.action.setCurrentText("rejected")
    run.until(lambda: audit_panel.model.rowCount() == 1)
    assert audit_panel.model.records()[0]["order_ref"] == call.order_ref
    audit_panel.action.setCurrentText("All actions")
    audit_panel.text.setText(put.order_ref[:10])
    run.until(lambda: {r["order_ref"] for r in audit_panel.model.records()} == {put.order_ref})
    today = datetime.now(UTC).date()
    audit_panel.until.setDate(QDate(today.year, today.month, today.day).addDays(-1))  # before every row
    run.until(lambda: audit_panel.model.rowCount() == 0)
    assert audit_panel.page_label.text() == "rows 0 of 0, newest first"
    audit_panel.until.setDate(QDate(today.year, today.month, today.day))
    run.until(lambda: audit_panel.model.rowCount() == 2)
    out = tmp_path / "audit.csv"
    audit_panel.export(str(out))
    run.until(lambda: audit_panel.status.text().startswith("Exported"))
    assert audit_panel.status.text() == f"Exported 2 rows to {out}."
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["action"] for r in rows] == ["filled", "placed"] and {r["order_ref"] for r in rows} == {put.order_ref}
    assert rows[0]["avg_fill_price_usd"] == str(ctx.orders.fill_of(put.order_ref).price)  # type: ignore[union-attr]
    # an unwritable path: a clear message, the button back
    audit_panel.export(str(tmp_path / "no-such-dir" / "x.csv"))
    run.until(lambda: "Could not export" in audit_panel.status.text())
    assert audit_panel.export_button.isEnabled()


def test_account_filter_lists_the_accounts_seen(run: LoopRunner, ctx: AppContext, audit_panel: AuditPanel) -> None:
    run(ctx.orders.place_order(ctx.orders.new_ticket(PUT, "SELL", 1)))
    name = ctx.session.active.name
    run.until(lambda: audit_panel.account.findText(name) >= 0)
    audit_panel.account.setCurrentText(name)
    run.until(lambda: audit_panel.model.rowCount() == 2)


def test_the_audit_dock_built_before_the_database_opens_loads_once_it_does(
        run: LoopRunner, tmp_path: Path, replay_market, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The window builds its docks before ``AppContext.start()`` opens the database (as at every
    start-up): the Audit dock must then show the stored rows and accounts, not "No database is open"."""
    from magnus_desktop.services.settings import Settings, SettingsStore

    def context() -> AppContext:
        return AppContext(SettingsStore(tmp_path / "settings.json"), Settings(),
                          db_url=f"sqlite:///{tmp_path / 'magnus.sqlite3'}", market=replay_market)

    first = context()
    run(first.start())
    run(first.orders.place_order(first.orders.new_ticket(PUT, "SELL", 1)))
    run(first.audit.idle())
    name = first.session.active.name
    run(first.aclose())

    second = context()  # not started yet: no database
    panel = _shown(qtbot, AuditPanel(AuditViewModel(second)), 1300, 360)
    run.idle(0.3)
    try:
        run(second.start())
        run.until(lambda: panel.model.rowCount() >= 2 and panel.account.findText(name) >= 0)
        assert "database" not in panel.status.text().lower()
    finally:
        run(second.aclose())
