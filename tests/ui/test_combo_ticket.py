"""Ticket dialogs of every kind on a real Workstation (recorded SPXW chain, demo account seeded at
2018-01-02): the figures are the rules' preview at the chain's quotes, Place follows the problems,
the confirmation tiers, order_ref keying, and opening tickets from the positions and scanner docks.

Set ``RENDER_DIR`` to keep the rendered PNGs of the four ticket kinds (they are looked at by hand)."""

from __future__ import annotations

import math
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from magnus_desktop.models.domain import ComboTicket, OptionContract, OrderLeg
from magnus_desktop.models.market import OrderEvent
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.orders.rules import BidAsk, preview
from magnus_desktop.ui.orders.combo import ComboTicketDialog
from magnus_desktop.ui.orders.confirm import ConfirmOrderDialog, OrderSummary
from magnus_desktop.ui.orders.risk_box import figure_texts
from magnus_desktop.ui.orders.ticket import OrderTicketDialog
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.positions.panel import PositionsPanel
from magnus_desktop.ui.scanner.panel import SPREAD_WIDTH, ScannerPanel

JAN31 = date(2018, 1, 31)


def quote_of(ctx: AppContext, c: OptionContract) -> BidAsk:
    chain = ctx.market.chain(ctx.day)
    row = chain[(chain["strike"] == c.strike) & (chain["right"] == c.right)].iloc[0]
    return BidAsk(float(row["bid"]), float(row["ask"]))


def und_of(ctx: AppContext) -> float:
    return float(ctx.market.chain(ctx.day)["und_price"].iloc[0])


@pytest.fixture
def keep_app(qapp):  # type: ignore[no-untyped-def]
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # closing a dialog must not quit the app (and stop the loop)
    yield
    qapp.setQuitOnLastWindowClosed(quit_on_close)


@pytest.fixture
def open_combo(qtbot, run, orders_vm: OrdersViewModel, keep_app):  # type: ignore[no-untyped-def]
    def make(kind: str, **prefill: object) -> ComboTicketDialog:
        dialog = ComboTicketDialog(orders_vm, kind, "SPXW", **prefill)  # type: ignore[arg-type]
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.preview is not None)  # the chain is read off the GUI thread
        return dialog

    return make


def held_position(ctx: AppContext) -> tuple[OptionContract, int]:
    p = next(p for p in ctx.portfolio.last_summary.positions if isinstance(p.contract, OptionContract))
    return p.contract, int(p.qty)


def render(dialog: QDialog, name: str, tmp_path: Path) -> Path:
    dialog.layout().activate()
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()))
    out = Path(os.environ.get("RENDER_DIR", tmp_path)) / f"ticket_{name}.png"
    assert dialog.grab().save(str(out))
    return out


def assert_figures(dialog: ComboTicketDialog, expected) -> None:  # type: ignore[no-untyped-def]
    shown = {key: label.text() for key, label in dialog.risk.labels.items()}
    assert shown == figure_texts(expected)


# ---- each kind previews the rules' figures ------------------------------------------------------
def test_vertical_from_the_chain_previews_the_rules_figures(open_combo, ctx, tmp_path) -> None:
    dialog = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    short, long_ = (OptionContract("SPXW", JAN31, k, "P") for k in (2600.0, 2575.0))
    assert [leg.contract for leg in dialog.ticket.legs] == [short, long_]
    assert [leg.action for leg in dialog.ticket.legs] == ["SELL", "BUY"]
    qs, ql = quote_of(ctx, short), quote_of(ctx, long_)
    fee = ctx.settings.commission_per_contract
    ticket = ComboTicket("vertical", (OrderLeg(short, "SELL"), OrderLeg(long_, "BUY")), 1, dialog.limit_price(),
                         "x", ctx.day)
    expected = preview(ticket, ctx.portfolio.last_summary, {short: qs, long_: ql}, commission_per_contract=fee)
    assert_figures(dialog, expected)
    credit = qs.bid - ql.ask  # hand figures of a put credit spread
    assert expected.max_loss == pytest.approx((25 - credit) * 100 + 2 * fee)
    assert dialog.risk.labels["max_loss"].text() == f"${(25 - credit) * 100 + 2 * fee:,.2f}"
    assert dialog.risk.labels["net"].text() == f"{credit:,.2f} USD/share credit"
    assert dialog.width_label.text() == "put 25 points ($2,500 per combo)"
    render(dialog, "vertical", tmp_path)


def test_iron_condor_previews_the_rules_figures(open_combo, ctx, tmp_path) -> None:
    strikes = (2475.0, 2525.0, 2800.0, 2850.0)
    dialog = open_combo("iron_condor", expiry=JAN31, strikes=strikes)
    legs = dialog.ticket.legs
    assert [(leg.contract.right, leg.contract.strike, leg.action) for leg in legs] == [
        ("P", 2475.0, "BUY"), ("P", 2525.0, "SELL"), ("C", 2800.0, "SELL"), ("C", 2850.0, "BUY")]
    quotes = {leg.contract: quote_of(ctx, leg.contract) for leg in legs}
    fee = ctx.settings.commission_per_contract
    expected = preview(ComboTicket("iron_condor", legs, 1, dialog.limit_price(), "x", ctx.day),
                       ctx.portfolio.last_summary, quotes, commission_per_contract=fee)
    assert_figures(dialog, expected)
    credit = sum(q.bid if leg.action == "SELL" else -q.ask for leg, q in zip(legs, quotes.values(), strict=True))
    assert expected.max_loss == pytest.approx((50 - credit) * 100 + 4 * fee)
    assert len(expected.breakevens) == 2
    assert dialog.width_label.text() == "put 50 points ($5,000 per combo); call 50 points ($5,000 per combo)"
    render(dialog, "condor", tmp_path)


def test_roll_of_a_held_position_previews_the_rules_figures(open_combo, ctx, tmp_path) -> None:
    held, qty = held_position(ctx)
    new_strike = held.strike - 25 if held.right == "P" else held.strike + 25
    dialog = open_combo("roll", expiry=held.expiry, strikes=(new_strike,), position=(held, qty))
    close, opened = dialog.ticket.legs
    assert close.contract == held and close.action == ("BUY" if qty < 0 else "SELL")
    assert opened.contract == OptionContract("SPXW", held.expiry, new_strike, held.right)
    assert dialog.qty.value() == abs(qty)
    quotes = {leg.contract: quote_of(ctx, leg.contract) for leg in dialog.ticket.legs}
    fee = ctx.settings.commission_per_contract
    expected = preview(ComboTicket("roll", dialog.ticket.legs, abs(qty), dialog.limit_price(), "x", ctx.day),
                       ctx.portfolio.last_summary, quotes, commission_per_contract=fee)
    assert_figures(dialog, expected)
    q_close, q_open = quotes[held], quotes[opened.contract]
    net = (q_open.bid - q_close.ask) if close.action == "BUY" else (q_close.bid - q_open.ask)
    assert expected.net_price == pytest.approx(net)
    kind = "credit" if net >= 0 else "debit"
    assert dialog.risk.labels["net"].text() == f"{abs(net):,.2f} USD/share {kind}"
    render(dialog, "roll", tmp_path)


def test_single_leg_shows_units_and_payoff(qtbot, run, orders_vm, ctx, keep_app, tmp_path) -> None:
    contract = OptionContract("SPXW", JAN31, 2600.0, "P")
    dialog = OrderTicketDialog(orders_vm, contract, "SELL", 1)
    qtbot.addWidget(dialog)
    dialog.show()
    run.until(lambda: dialog.quote_day is not None)
    q = quote_of(ctx, contract)
    fee = ctx.settings.commission_per_contract
    assert dialog.risk["max_profit"].text() == f"${q.bid * 100 - fee:,.2f}"
    assert dialog.risk["breakevens"].text() == f"{2600 - q.bid + fee / 100:,.2f} USD/share"
    assert dialog.chart.expiry_curve.getData()[0] is not None  # the payoff is drawn
    for effect, tif in (("close", "GTC"), ("open", "DAY")):
        dialog.effect.setCurrentIndex(dialog.effect.findData(effect))
        dialog.tif.setCurrentText(tif)
        t = dialog.build_ticket()
        assert (t.position_effect, t.tif) == (effect, tif)
        if effect == "close":  # nothing held to close: the rules say so and Place is off
            assert "Sell to close needs a long position" in dialog.warning.text()
            assert not dialog.confirm.isEnabled()
    dialog.limit.setValue(0.05)
    assert dialog.order_type.currentText() == "LMT" and dialog.build_ticket().order_type == "LMT"
    dialog.order_type.setCurrentText("MKT")
    assert math.isnan(dialog.build_ticket().limit_price) and dialog.build_ticket().order_type == "MKT"
    render(dialog, "single", tmp_path)


# ---- Place follows the problems -----------------------------------------------------------------
def test_place_is_disabled_while_a_problem_exists(open_combo, ctx) -> None:
    dialog = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    assert dialog.preview.problems == () and dialog.place.isEnabled()
    dialog.order_type.setCurrentText("LMT")
    dialog.limit.setValue(24.0)  # a credit of 24 on a 25-wide spread: the natural net misses it
    assert any("would not fill" in p for p in dialog.preview.problems)
    assert not dialog.place.isEnabled() and "would not fill" in dialog.problems.text()
    assert dialog.submit() is None  # nothing to confirm
    dialog.limit.setValue(0.5)
    assert dialog.preview.problems == () and dialog.place.isEnabled()


# ---- confirmation tiers -------------------------------------------------------------------------
def test_paper_order_needs_one_click(open_combo, ctx, run, qtbot) -> None:
    dialog = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    fills = len(ctx.portfolio.fills)
    notices: list[str] = []
    ctx.notice.connect(notices.append)
    confirmation = dialog.submit()
    assert isinstance(confirmation, ConfirmOrderDialog) and confirmation.tier == "paper"
    assert confirmation.typed is None and confirmation.ok.isEnabled()
    assert confirmation.fields["Max loss"].text() == f"${dialog.preview.max_loss:,.2f}"
    assert len(ctx.portfolio.fills) == fills and dialog.pending_ref is None  # nothing sent yet
    qtbot.mouseClick(confirmation.ok, Qt.MouseButton.LeftButton)
    run.until(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert len(ctx.portfolio.fills) == fills + 2  # both legs, one order
    net = dialog.preview.net_price
    run.until(lambda: bool(notices))
    assert notices[-1] == f"Filled 1 × {dialog.ticket.describe()} at a net credit of {net:.2f} (paper fill)."


def test_live_order_restates_the_fields_and_needs_the_typed_symbol(open_combo, orders_vm, monkeypatch) -> None:
    sent = []
    monkeypatch.setattr(orders_vm, "tier", lambda: "live")
    monkeypatch.setattr(orders_vm, "active_account", lambda: "IB main")
    monkeypatch.setattr(orders_vm, "place_order", sent.append)
    dialog = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    dialog.order_type.setCurrentText("LMT")
    dialog.limit.setValue(0.5)
    p = dialog.preview
    confirmation = dialog.submit()
    assert confirmation.tier == "live" and "LIVE" in confirmation.windowTitle()
    shown = {k: v.text() for k, v in confirmation.fields.items()}
    for key, text in (("Account", "IB main"), ("Symbol", "SPXW"), ("Side", "vertical, net credit"),
                      ("Quantity", "1 combo"), ("Limit price", "+0.50 USD per share"),
                      ("Max loss", f"${p.max_loss:,.2f}"), ("Collateral", f"${p.collateral:,.2f}")):
        assert text in shown[key], key
    assert not confirmation.ok.isEnabled()
    confirmation.accept()  # no typed confirmation: nothing is sent
    assert sent == [] and confirmation.result() != QDialog.DialogCode.Accepted
    confirmation.typed.setText("SPX")
    assert not confirmation.ok.isEnabled()
    confirmation.typed.setText(" spxw ")
    assert confirmation.ok.isEnabled()
    confirmation.ok.click()
    assert len(sent) == 1 and sent[0].order_ref == dialog.pending_ref


def test_no_tier_no_confirmation(open_combo, orders_vm, monkeypatch) -> None:
    """A real account without live trading: Place is off with the reason, nothing to confirm."""
    reason = "Live orders are not enabled for IB main."
    monkeypatch.setattr(orders_vm, "refusal", lambda: reason)
    dialog = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    assert orders_vm.tier() is None
    assert not dialog.place.isEnabled() and reason in dialog.problems.text()
    assert dialog.submit() is None


def test_confirm_dialog_summary_rows() -> None:
    s = OrderSummary("Demo", "SPXW", "SPXW 2018-01-31 2600 P", "SELL to open", 2, "MKT DAY", math.nan, 1500.0,
                     math.inf, 520_000.0, 10.0)
    rows = dict(s.rows())
    assert rows["Limit price"] == "market (no limit)" and rows["Max loss"] == "unlimited"
    assert rows["Quantity"] == "2 contracts" and rows["Premium"] == "$1,500.00 credit"


# ---- order_ref keying ---------------------------------------------------------------------------
def test_two_dialogs_react_only_to_their_own_order(open_combo, ctx, run, orders_vm) -> None:
    vertical = open_combo("vertical", right="P", expiry=JAN31, strikes=(2600.0, 2575.0))
    condor = open_combo("iron_condor", expiry=JAN31, strikes=(2475.0, 2525.0, 2800.0, 2850.0))
    condor.pending_ref = "condor-order"  # waiting for its own order
    orders_vm.order_status.emit(OrderEvent("someone-else", "rejected", 0, 0, math.nan, "", "not yours",
                                           ctx.broker.source, datetime.now(UTC)))
    assert not condor.error.isVisible() and condor.pending_ref == "condor-order"
    vertical.submit().ok.click()
    run.until(lambda: not vertical.isVisible())
    assert vertical.result() == QDialog.DialogCode.Accepted
    assert condor.isVisible() and condor.pending_ref == "condor-order" and not condor.error.isVisible()
    orders_vm.order_status.emit(OrderEvent("condor-order", "rejected", 0, 0, math.nan, "", "broker says no",
                                           ctx.broker.source, datetime.now(UTC)))
    assert condor.error.text() == "Rejected: broker says no" and condor.pending_ref is None


# ---- opening tickets from the docks -------------------------------------------------------------
def test_positions_dock_opens_close_and_roll(qtbot, run, positions_vm, ctx, keep_app) -> None:
    panel = PositionsPanel(positions_vm)
    qtbot.addWidget(panel)
    panel._show_account(ctx.portfolio.last_summary)
    panel.model.flush() if hasattr(panel.model, "flush") else None
    run.until(lambda: panel.model.rowCount() > 0)
    row = next(r for r in range(panel.model.rowCount())
               if isinstance(panel.table.record_at(r)["contract"], OptionContract))
    record = panel.table.record_at(row)
    menu = panel.context_menu(row)
    assert [a.text() for a in menu.actions()] == ["Close…", "Roll…"]
    menu.actions()[1].trigger()
    roll = panel.ticket_dialog
    assert isinstance(roll, ComboTicketDialog) and roll.kind == "roll"
    assert roll.position == (record["contract"], int(record["qty"]))
    panel.table.selectRow(row)
    panel.close_button.click()
    close = panel.ticket_dialog
    assert isinstance(close, OrderTicketDialog) and close.closing and close.contract == record["contract"]
    assert not roll.isVisible()  # one ticket at a time
    panel.roll_button.click()
    assert isinstance(panel.ticket_dialog, ComboTicketDialog)
    panel.ticket_dialog.close()


def test_scanner_opens_sell_and_put_spread(qtbot, run, scanner_vm, keep_app) -> None:
    panel = ScannerPanel(scanner_vm)
    qtbot.addWidget(panel)
    panel.request_scan()
    run.until(lambda: panel.model.rowCount() > 0, timeout=30)
    row = next(r for r in range(panel.model.rowCount()) if panel.table.record_at(r)["right"] == "P")
    record = panel.table.record_at(row)
    menu = panel.context_menu(row)
    assert [a.text() for a in menu.actions()] == ["Sell…", "Sell put spread…"]
    menu.actions()[1].trigger()
    spread = panel.ticket_dialog
    assert isinstance(spread, ComboTicketDialog) and spread.kind == "vertical"
    run.until(lambda: spread.ticket is not None)
    short, long_ = spread.ticket.legs
    assert (short.action, short.contract.strike) == ("SELL", float(record["strike"]))
    assert long_.action == "BUY" and long_.contract.strike < short.contract.strike
    assert abs(short.contract.strike - long_.contract.strike - SPREAD_WIDTH) <= 25  # nearest listed strike
    panel.table.selectRow(row)
    panel.sell_button.click()
    assert isinstance(panel.ticket_dialog, OrderTicketDialog) and panel.ticket_dialog.current_action() == "SELL"
    panel.ticket_dialog.close()
