"""What every ticket dialog shares: the preview's figures with units, the problems as sentences,
the payoff chart, and the confirmation by risk tier before an order is sent."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QFormLayout, QGroupBox, QLabel, QWidget

from magnus_desktop.models.domain import ComboTicket, OptionContract, Ticket
from magnus_desktop.models.market import OrderEvent
from magnus_desktop.services.orders.payoff import PayoffCurves
from magnus_desktop.services.orders.rules import TicketPreview
from magnus_desktop.ui.orders.confirm import ConfirmOrderDialog, OrderSummary
from magnus_desktop.widgets.formatting import MISSING, fmt_money
from magnus_desktop.widgets.payoff_chart import PayoffChart
from magnus_desktop.widgets.table_model import text_color

#: (key, label) of the figures, in display order
FIGURES = (("net", "Net price"), ("premium", "Premium"), ("commission", "Commission"),
           ("collateral", "Collateral required"), ("bp_effect", "Buying-power effect"),
           ("max_loss", "Max loss"), ("max_profit", "Max profit"), ("breakevens", "Breakeven(s) at expiry"),
           ("position", "Position after"), ("bp_after", "Buying power after"))


def money_or_unlimited(value: float, unlimited: str = "unlimited") -> str:
    """``$1,234.00`` (USD); ``unlimited`` for inf; the missing mark for NaN."""
    if math.isnan(value):
        return MISSING
    return unlimited if math.isinf(value) else fmt_money(value)


def figure_texts(p: TicketPreview) -> dict[str, str]:
    """Each figure of the preview as shown, with its unit."""
    net = MISSING if math.isnan(p.net_price) else (
        f"{abs(p.net_price):,.2f} USD/share {'credit' if p.net_price >= 0 else 'debit'}")
    premium = MISSING if math.isnan(p.premium) else f"{fmt_money(abs(p.premium))} {'credit' if p.credit else 'debit'}"
    evens = ", ".join(f"{b:,.2f}" for b in p.breakevens) + " (underlying, USD/share)" if p.breakevens else "none"
    several = p.strategy == "calendar" and math.isnan(p.max_profit)
    if several:  # legs of two expiries: the chart prices the far leg at the near expiry
        evens = "at the near expiry: on the chart"
    after = "; ".join(f"{_label(c.contract)}: {c.before:+d} → {c.after:+d}" for c in p.positions)
    return {"net": net, "premium": premium, "commission": fmt_money(p.commission),
            "collateral": fmt_money(p.collateral) + (f" (frees {fmt_money(p.collateral_freed)})"
                                                     if p.collateral_freed else ""),
            "bp_effect": MISSING if math.isnan(p.buying_power_effect) else f"{p.buying_power_effect:+,.2f} USD",
            "max_loss": money_or_unlimited(p.max_loss),
            "max_profit": "on the chart (near expiry)" if several else money_or_unlimited(p.max_profit),
            "breakevens": evens, "position": after, "bp_after": fmt_money(p.buying_power_after)}


def _label(contract: object) -> str:
    return contract.describe() if isinstance(contract, OptionContract) else f"{getattr(contract, 'symbol', '?')} shares"


class RiskBox(QGroupBox):
    """The preview's figures (USD unless stated), one row each."""

    def __init__(self, title: str = "Preview (the order rules, at the quotes shown)", parent: QWidget | None = None
                 ) -> None:
        super().__init__(title, parent)
        form = QFormLayout(self)
        self.labels: dict[str, QLabel] = {}
        for key, text in FIGURES:
            label = QLabel(MISSING)
            label.setObjectName(f"figure_{key}")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            label.setWordWrap(key == "position")
            self.labels[key] = label
            form.addRow(text, label)

    def show_preview(self, p: TicketPreview) -> None:
        for key, text in figure_texts(p).items():
            self.labels[key].setText(text)
        negative = math.isfinite(p.buying_power_after) and p.buying_power_after < 0
        self.labels["bp_after"].setStyleSheet(f"color: {text_color('loss').name()}; font-weight: bold;"
                                              if negative else "")


def problem_text(problems: tuple[str, ...]) -> str:
    """Problems as a bulleted list of sentences (HTML)."""
    return "<ul style='margin:0'>" + "".join(f"<li>{_escape(p)}</li>" for p in problems) + "</ul>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_payoff(chart: PayoffChart, curves: PayoffCurves | None, p: TicketPreview | None) -> None:
    """Curves when there are any, else the reason in the plot."""
    if curves is not None:
        chart.set_curves(curves.prices, curves.at_expiry, curves.today, curves.breakevens, curves.und_price)
    elif p is not None and p.opens == 0 and p.closes:
        chart.clear_curves("This order only closes: no exposure left to chart")
    else:
        chart.clear_curves("No payoff yet: waiting for quotes of every leg")


def side_text(ticket: Ticket, p: TicketPreview) -> str:
    """"SELL to open" / "BUY to close" / "vertical, net credit"."""
    if isinstance(ticket, ComboTicket):
        return f"{ticket.strategy.replace('_', ' ')}, net {'credit' if p.net_price >= 0 else 'debit'}"
    effect = ticket.position_effect
    if effect == "auto":
        effect = "close" if p.closes and not p.opens else "open"
    return f"{ticket.action} to {effect}"


def order_summary(account: str, ticket: Ticket, p: TicketPreview) -> OrderSummary:
    """The confirmation's restatement of ``ticket`` and its preview."""
    contract = ticket.legs[0].contract
    symbol = contract.underlying if isinstance(contract, OptionContract) else getattr(contract, "symbol", "")
    description = ticket.describe() if isinstance(ticket, ComboTicket) else _label(contract)
    limit = ticket.limit_price if ticket.order_type == "LMT" else math.nan
    order = f"{ticket.order_type} {ticket.tif}"
    return OrderSummary(account, symbol, description, side_text(ticket, p), int(ticket.qty), order, limit,
                        p.premium, p.max_loss, p.collateral, p.buying_power_after,
                        "combo" if isinstance(ticket, ComboTicket) else "contract")


def ask_confirmation(parent: QWidget, tier: str | None, account: str, ticket: Ticket, p: TicketPreview,
                     on_confirmed: Callable[[Ticket], None]) -> ConfirmOrderDialog | None:
    """Open the confirmation of ``ticket`` at ``tier`` (window-modal, not blocking the loop); a click
    on its send button calls ``on_confirmed(ticket)``. None when orders are refused (no tier)."""
    if tier not in ("paper", "live"):
        return None
    dialog = ConfirmOrderDialog(order_summary(account, ticket, p), tier, parent)  # type: ignore[arg-type]
    dialog.accepted.connect(lambda: on_confirmed(ticket))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


class PlacesOwnOrder:
    """Mixin of a ticket dialog: sends a confirmed ticket and follows ITS order only (by ``order_ref``).

    The dialog provides ``vm`` (``OrdersViewModel``), ``place_button``, ``error`` (a label),
    ``accept()`` and ``_after_refusal()`` (refresh the problems and the button after a rejection).
    """

    pending_ref: str | None
    place_button: QAbstractButton
    error: QLabel
    #: (signal, slot) pairs to the view model, cut when the dialog is done
    _connections: list[tuple[Any, Callable[..., None]]]

    def _disconnect_vm(self) -> None:
        """Stop listening to the view model (a closed ticket never reacts again)."""
        for signal, slot in self._connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                continue  # already gone with its sender
        self._connections = []

    def send(self, ticket: Ticket) -> None:
        """Send a confirmed ``ticket``; the dialog then waits for its own ``order_ref``'s status."""
        self.pending_ref = ticket.order_ref
        self.place_button.setEnabled(False)
        self.place_button.setText("Placing…")
        self.vm.place_order(ticket)  # type: ignore[attr-defined]

    def _on_vm_order_status(self, event: OrderEvent) -> None:
        """Our own order's status: filled closes the ticket; rejected or cancelled shows why."""
        if self.pending_ref is None or event.order_ref != self.pending_ref:
            return  # another dialog's order, or none of ours is pending
        if event.state == "filled":
            self.pending_ref = None
            self.accept()  # type: ignore[attr-defined]
        elif event.state in ("rejected", "cancelled"):
            self.pending_ref = None
            self.error.setText(f"{event.state.capitalize()}: {event.message}")
            self.error.show()
            self._after_refusal()  # type: ignore[attr-defined]
