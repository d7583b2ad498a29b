"""Paper order ticket: the pure preview arithmetic, and the dialog against a real Workstation."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.models.market import OrderEvent
from magnus_desktop.services.context import AppContext
from magnus_desktop.ui.orders.ticket import PAPER_NOTE, OrderTicketDialog
from magnus_desktop.ui.orders.view_model import OrdersViewModel

JAN31 = date(2018, 1, 31)
PUT = OptionContract("SPXW", JAN31, 2600.0, "P")
CALL = OptionContract("SPXW", JAN31, 2750.0, "C")


# ---- the dialog on a real Workstation (2018-01-02, demo account seeded) -------------------------
def chain_row(ws: AppContext, strike: float, right: str):  # type: ignore[no-untyped-def]
    chain = ws.market.chain(ws.day)
    return chain[(chain["strike"] == strike) & (chain["right"] == right)].iloc[0]


@pytest.fixture
def open_ticket(qtbot, qapp, run, orders_vm: OrdersViewModel):  # type: ignore[no-untyped-def]
    # the dialog is the only window here: closing it must not quit the app (and stop the loop)
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)

    def make(contract: OptionContract, action: str = "SELL") -> OrderTicketDialog:
        dialog = OrderTicketDialog(orders_vm, contract, action, 1)  # type: ignore[arg-type]
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.quote_day is not None)  # the quote is read off the GUI thread
        return dialog

    yield make
    qapp.setQuitOnLastWindowClosed(quit_on_close)


@pytest.fixture
def open_ticket_closing(qtbot, qapp, run, orders_vm: OrdersViewModel):  # type: ignore[no-untyped-def]
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)

    def make(contract: OptionContract, qty: int) -> OrderTicketDialog:
        dialog = OrderTicketDialog(orders_vm, contract, "BUY", qty, closing=True)
        qtbot.addWidget(dialog)
        dialog.show()
        run.until(lambda: dialog.quote_day is not None)
        return dialog

    yield make
    qapp.setQuitOnLastWindowClosed(quit_on_close)


def test_dialog_shows_quote_and_independent_risk_numbers(open_ticket, ctx) -> None:
    contract = OptionContract("SPXW", JAN31, 2675.0, "P")
    row = chain_row(ctx, 2675.0, "P")
    dialog = open_ticket(contract)
    dialog.qty.setValue(2)
    bid, ask = float(row["bid"]), float(row["ask"])
    assert dialog.day_label.text() == "2018-01-02"
    assert (dialog.bid_label.text(), dialog.ask_label.text()) == (f"{bid:.2f}", f"{ask:.2f}")
    assert dialog.mid_label.text() == f"{(bid + ask) / 2:.2f}"
    assert dialog.und_label.text() == f"{float(row['und_price']):,.2f}"
    fee = ctx.settings.commission_per_contract
    bp = ctx.portfolio.last_summary.buying_power
    assert dialog.risk["fill"].text() == f"{bid:.2f} USD/share"
    assert dialog.risk["premium"].text() == f"${bid * 100 * 2:,.2f} credit"
    assert dialog.risk["commission"].text() == f"${fee * 2:,.2f}"
    assert dialog.risk["collateral"].text() == f"${2675 * 100 * 2:,.2f}"
    assert dialog.risk["max_loss"].text() == f"${(2675 - bid) * 100 * 2 + fee * 2:,.2f}"
    assert dialog.risk["bp_now"].text() == f"${bp:,.2f}"
    after = bp - 2675 * 100 * 2 + bid * 100 * 2 - fee * 2
    assert dialog.risk["bp_after"].text() == (f"-${-after:,.2f}" if after < 0 else f"${after:,.2f}")
    assert "PAPER — no order is sent anywhere" in PAPER_NOTE
    assert dialog.limit.specialValueText() == "none — fill at the recorded bid"
    dialog.action.setCurrentText("BUY")
    assert dialog.risk["fill"].text() == f"{ask:.2f} USD/share" and dialog.risk["premium"].text().endswith("debit")


def test_preview_is_the_brokers_rule(orders_vm: OrdersViewModel, ctx, run) -> None:
    """One rule set: the ticket's preview (``vm.preview``) is what the paper broker decides with."""
    from magnus_desktop.services.orders.rules import BidAsk

    ticket = orders_vm.new_ticket(PUT, "SELL", 3)
    quote = run(ctx.broker.quote(PUT, ticket.trade_date))
    ours = orders_vm.preview(ticket, BidAsk(quote.bid, quote.ask))
    assert ours == run(ctx.broker.preview(ticket, ctx.portfolio.last_summary))
    assert ours.problems == ()


def test_covered_call_sell_is_blocked_and_the_broker_agrees(qtbot, run, open_ticket, ctx) -> None:
    strike = float(ctx.market.chain(ctx.day).query("right == 'C' and bid > 0")["strike"].iloc[0])
    dialog = open_ticket(OptionContract("SPXW", JAN31, strike, "C"))
    assert dialog.risk["max_loss"].text() == "unlimited — covered call needs shares"
    assert "covered call" in dialog.warning.text() and not dialog.confirm.isEnabled()
    fills_before = list(ctx.portfolio.fills)
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)  # disabled: nothing happens
    run.idle(0.2)
    assert dialog.pending_ref is None and not dialog.error.isVisible()
    assert dialog.submit() is None  # nothing to confirm while a problem blocks the order
    dialog.send(dialog.build_ticket())  # sent anyway: the broker applies the same rule
    run.until(lambda: dialog.error.isVisible())
    assert "covered call" in dialog.error.text() and dialog.error.text().startswith("Rejected:")
    assert dialog.isVisible() and not dialog.confirm.isEnabled()
    assert ctx.portfolio.fills == fills_before


def test_put_sell_fills_closes_the_dialog_and_changes_the_account(qtbot, run, open_ticket, ctx) -> None:
    strike = 2000.0  # 200k collateral: fits the seeded demo account's buying power
    row = chain_row(ctx, strike, "P")
    dialog = open_ticket(OptionContract("SPXW", JAN31, strike, "P"))
    preview = dialog.preview
    assert preview is not None and preview.problems == ()
    before = ctx.portfolio.last_summary
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    assert dialog.confirmation is not None and dialog.confirmation.tier == "paper"
    assert dialog.pending_ref is None  # nothing is sent before the one confirmation click
    qtbot.mouseClick(dialog.confirmation.ok, Qt.MouseButton.LeftButton)
    run.until(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Accepted
    fill = ctx.portfolio.fills[-1]
    assert (fill.contract.strike, fill.qty, fill.price) == (strike, -1, float(row["bid"]))
    run.until(lambda: ctx.portfolio.last_summary is not before and ctx.refreshed.is_set())
    after = ctx.portfolio.last_summary
    assert after.collateral_used == pytest.approx(before.collateral_used + strike * 100)
    assert after.buying_power == pytest.approx(preview.buying_power_after)


def test_cancel_places_nothing(qtbot, run, open_ticket, ctx) -> None:
    dialog = open_ticket(OptionContract("SPXW", JAN31, 2000.0, "P"))
    fills_before = list(ctx.portfolio.fills)
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    run.idle(0.2)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert ctx.portfolio.fills == fills_before


def test_a_blocking_problem_disables_place_until_fixed(qtbot, run, open_ticket, ctx) -> None:
    bid = float(chain_row(ctx, 2000.0, "P")["bid"])
    dialog = open_ticket(OptionContract("SPXW", JAN31, 2000.0, "P"))
    assert dialog.confirm.isEnabled()
    dialog.limit.setValue(bid + 1.0)
    assert "below your limit" in dialog.warning.text() and not dialog.confirm.isEnabled()
    dialog.limit.setValue(bid)
    assert not dialog.warning.isVisible() and dialog.confirm.isEnabled()
    dialog.qty.setValue(9)  # 9 x 200k of collateral: more than the seeded account's buying power
    assert "Not enough buying power" in dialog.warning.text() and not dialog.confirm.isEnabled()
    dialog.qty.setValue(1)
    assert dialog.confirm.isEnabled()


def test_later_days_are_checked_and_named_in_the_ticket(run, open_ticket, ctx) -> None:
    dialog = open_ticket(OptionContract("SPXW", JAN31, 2000.0, "P"))
    run.until(lambda: dialog.later is not None)
    # the put is open through 31 Jan; the positions of the account's later fills (the 2018-02-01
    # roll into Feb-28 puts) rely on the same cash, so the check runs until they expire too
    later = [f.contract.expiry for f in ctx.portfolio.fills if f.fill_date >= ctx.day]
    through = min(max([JAN31, *later]), ctx.clock.days[-1])
    assert through == date(2018, 2, 28)
    assert dialog.later_label.text() == f"Checked against every later replay day up to {through.isoformat()}"
    assert dialog.confirm.isEnabled()


def test_a_backdated_ticket_that_breaks_a_later_day_is_blocked(run, open_ticket, app_vm, ctx) -> None:
    feb28 = date(2018, 2, 28)
    app_vm.jump(date(2018, 2, 2))
    run.until(lambda: ctx.refreshed.is_set() and ctx.portfolio.last_summary.as_of == date(2018, 2, 2))
    run(ctx.orders.place_order(ctx.orders.new_ticket(OptionContract("SPXW", feb28, 2720.0, "P"), "SELL", 1)))
    app_vm.jump(date(2018, 2, 1))
    run.until(lambda: ctx.refreshed.is_set() and ctx.portfolio.last_summary.as_of == date(2018, 2, 1))
    dialog = open_ticket(OptionContract("SPXW", feb28, 2790.0, "P"))
    dialog.qty.setValue(4)
    assert dialog.preview.problems == ()  # fits 2018-02-01 ...
    run.until(lambda: dialog.later is not None)
    assert "on 2018-02-02" in dialog.warning.text() and not dialog.confirm.isEnabled()  # ... not 2018-02-02
    dialog.qty.setValue(1)
    run.until(lambda: dialog.later is not None)
    assert dialog.confirm.isEnabled() and not dialog.warning.isVisible()


def test_a_long_rejection_does_not_squeeze_the_fields(tmp_path, run, open_ticket) -> None:
    dialog = open_ticket(OptionContract("SPXW", JAN31, 2675.0, "P"))
    dialog.resize(520, 560)
    dialog.pending_ref = "sent"
    reason = "Not enough buying power on 2018-02-02: the collateral exceeds the cash. " * 8
    dialog._on_vm_order_status(OrderEvent("sent", "rejected", 0, 0, math.nan, "", reason, "paper", datetime.now(UTC)))
    run.idle(0.1)
    assert dialog.error.isVisible() and dialog.error.height() >= dialog.error.heightForWidth(dialog.error.width())
    for field in (dialog.action, dialog.qty, dialog.limit):
        assert field.height() >= field.sizeHint().height()
    assert dialog.grab().save(str(tmp_path / "order_ticket_rejected.png"))


def test_close_ticket_caps_the_quantity_at_the_position(tmp_path, run, open_ticket_closing, ctx) -> None:
    (pos,) = [p for p in ctx.portfolio.last_summary.positions if p.contract.strike == 2650.0]
    dialog = open_ticket_closing(pos.contract, abs(pos.qty))
    assert dialog.qty.maximum() == abs(pos.qty) == 1 and not dialog.action.isEnabled()
    dialog.qty.setValue(2)  # clamped: a close ticket never flips the position
    assert dialog.qty.value() == 1
    assert dialog.risk["position"].text() == "-1 → +0 (closes 1)"
    assert dialog.grab().save(str(tmp_path / "order_ticket_close.png"))


def test_an_opening_ticket_that_flips_says_so(open_ticket, ctx) -> None:
    (pos,) = [p for p in ctx.portfolio.last_summary.positions if p.contract.strike == 2650.0]
    dialog = open_ticket(pos.contract, "BUY")
    dialog.qty.setValue(2)
    assert dialog.risk["position"].text() == "-1 → +1 (closes 1, opens 1 long) — flips the position"
    assert dialog.preview.flips and dialog.preview.closes == 1 and dialog.preview.opens == 1


def test_replay_day_change_refreshes_the_quote(run, open_ticket, app_vm, ctx) -> None:
    contract = OptionContract("SPXW", JAN31, 2600.0, "P")
    dialog = open_ticket(contract)
    app_vm.step(1)
    run.until(lambda: dialog.day_label.text() != "2018-01-02")
    day = date.fromisoformat(dialog.day_label.text())
    run.until(lambda: dialog.quote_day == day)  # the new day's quote is read off the loop
    bid = ctx.market.option_quote(contract, day).bid
    assert dialog.source_label.text() == f"replay · as of {day.isoformat()} close"
    assert day > date(2018, 1, 2) and dialog.bid_label.text() == f"{bid:.2f}"


def test_render_offscreen(tmp_path, open_ticket) -> None:
    dialog = open_ticket(OptionContract("SPXW", JAN31, 2675.0, "P"))
    dialog.resize(520, 560)
    assert dialog.grab().save(str(tmp_path / "order_ticket.png"))
    for label in dialog.risk.values():  # every risk number fits its label
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())


def test_a_rejection_reaches_only_the_dialog_of_its_order(qtbot, run, open_ticket, ctx) -> None:
    """Two tickets open; the covered call is rejected: the put's dialog neither shows the message
    nor stops waiting for its own order, which then fills and closes only that dialog."""
    strike = float(ctx.market.chain(ctx.day).query("right == 'C' and bid > 0")["strike"].iloc[0])
    call = open_ticket(OptionContract("SPXW", JAN31, strike, "C"))
    put = open_ticket(OptionContract("SPXW", JAN31, 2000.0, "P"))
    put.pending_ref = "the-put-order"  # waiting for its own order (sent below, after the rejection)
    call.send(call.build_ticket())  # the rules refuse it (Place is disabled; sent directly here)
    run.until(lambda: call.error.isVisible())
    assert "covered call" in call.error.text() and call.pending_ref is None
    assert not put.error.isVisible() and put.pending_ref == "the-put-order" and put.isVisible()
    put.pending_ref = None
    put.submit().ok.click()
    run.until(lambda: not put.isVisible())
    assert put.result() == QDialog.DialogCode.Accepted
    assert call.isVisible() and ctx.portfolio.fills[-1].contract == put.contract


def test_until_the_quote_arrives_the_ticket_says_so_and_cannot_be_sent(qtbot, qapp, orders_vm, run) -> None:
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        dialog = OrderTicketDialog(orders_vm, OptionContract("SPXW", JAN31, 2000.0, "P"), "SELL", 1)
        qtbot.addWidget(dialog)
        assert dialog.quote_day is None  # requested from the compute executor, not read here
        assert dialog.warning.text() == "Reading the recorded quote of the replay day…"
        assert not dialog.confirm.isEnabled() and dialog.bid_label.text() == "—"
        run.until(lambda: dialog.quote_day is not None)
        assert dialog.bid_label.text() != "—" and dialog.confirm.isEnabled()
        dialog.reject()
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)


def test_the_ticket_shows_p_win_of_the_contract_like_the_scanner(run, open_ticket, ctx) -> None:
    """The ticket's p_win is the scanner's for the same contract (one model, one feature path)."""
    scan = ctx.scanner.last_scan
    assert scan.has_p_win
    row = scan.rows.iloc[len(scan.rows) // 2]
    contract = OptionContract(str(row["underlying"]), row["expiry"].date(), float(row["strike"]), row["right"])
    dialog = open_ticket(contract)
    run.until(lambda: dialog.p_win is not None)
    assert dialog.p_win == pytest.approx(float(row["p_win"]), abs=1e-6)
    assert f"{row['p_win'] * 100:.1f}%" in dialog.p_win_label.text() and "Brier" in dialog.p_win_label.text()
