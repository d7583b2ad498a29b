"""Paper order ticket for the demo account: the recorded quote, a live risk preview, confirm.

Nothing is sent anywhere: a confirmed ticket goes to ``vm.place_order`` and the paper broker fills
it against the recorded end-of-day quote of the replay day (SELL at the bid, BUY at the ask; see
``services.paper_broker``). The arithmetic lives in :func:`ticket_preview` (no Qt) so it is tested
on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.domain import AccountSummary, Fill, OptionContract
from magnus_desktop.services.workstation import DEMO_ACCOUNT
from magnus_desktop.ui.view_model import WorkstationViewModel
from magnus_desktop.widgets.formatting import MISSING, fmt_money, fmt_num

Action = Literal["SELL", "BUY"]
PAPER_NOTE = "PAPER — no order is sent anywhere. Filled against the recorded end-of-day quote of the replay day."


@dataclass(frozen=True, slots=True)
class TicketPreview:
    """What a paper ticket would do (USD unless stated).

    Attributes:
        fill_price: USD per share the paper broker fills at (bid for SELL, ask for BUY); NaN = no quote.
        premium: cash from the option, signed: + credit (SELL), − debit (BUY); price × multiplier × qty.
        commission: commission_per_contract × qty (>= 0).
        collateral: cash secured by the new short puts: strike × multiplier × contracts opened short.
        max_loss: worst case of the new exposure incl. commission; ``inf`` for a new short call
            (uncovered); 0 when the ticket only closes a position.
        buying_power: before the order (NaN when unknown).
        buying_power_after: buying_power + premium − commission − collateral + collateral freed by
            buying back short puts.
        problems: reasons the paper broker will reject the ticket (empty = expected to fill).
    """

    fill_price: float
    premium: float
    commission: float
    collateral: float
    max_loss: float
    buying_power: float
    buying_power_after: float
    problems: tuple[str, ...] = ()

    @property
    def credit(self) -> bool:
        return self.premium >= 0


def ticket_preview(contract: OptionContract, action: Action, qty: int, bid: float, ask: float, limit: float,
                   commission_per_contract: float, buying_power: float, held_qty: int = 0) -> TicketPreview:
    """Estimate fill, cash, collateral and max loss of a paper ticket (mirrors ``PaperBroker.fill``).

    Args:
        contract: the option (its ``multiplier`` scales every USD amount).
        action: ``"SELL"`` or ``"BUY"``; qty: contracts, >= 1.
        bid, ask: recorded quote, USD per share (NaN = not quoted).
        limit: USD per share, NaN = none (fill at the quote).
        commission_per_contract: USD.
        buying_power: USD before the order (cash − collateral in use); NaN when unknown.
        held_qty: signed contracts already held of this contract (short < 0).

    Returns:
        The preview; ``problems`` lists what would make the broker reject the ticket.

    Source:
        Cash-secured put: collateral = strike × 100 per contract, max loss = (strike − premium) × 100
        (the underlying goes to 0); a long option can lose its premium; a naked short call is unlimited.
    """
    m = contract.multiplier
    price = bid if action == "SELL" else ask
    price = price if math.isfinite(price) and price > 0 else math.nan
    signed = -qty if action == "SELL" else qty
    new_short = max(max(-(held_qty + signed), 0) - max(-held_qty, 0), 0)
    new_long = max(max(held_qty + signed, 0) - max(held_qty, 0), 0)
    closed_short = max(min(-held_qty, signed), 0)
    commission = commission_per_contract * qty
    premium = (price if action == "SELL" else -price) * m * qty
    put = contract.right == "P"
    collateral = contract.strike * m * new_short if put else 0.0
    freed = contract.strike * m * closed_short if put else 0.0
    if new_short > 0 and not put:
        max_loss = math.inf
    else:
        max_loss = (contract.strike - price) * m * new_short + price * m * new_long
        max_loss = max_loss + commission if new_short or new_long else 0.0
    after = buying_power + premium - commission - collateral + freed
    problems = _problems(contract, action, qty, price, limit, new_short, after)
    return TicketPreview(price, premium, commission, collateral, max_loss, buying_power, after, problems)


def _problems(contract: OptionContract, action: Action, qty: int, price: float, limit: float,
              new_short: int, after: float) -> tuple[str, ...]:
    side = "bid" if action == "SELL" else "ask"
    out = []
    if qty < 1:
        out.append("Quantity must be at least 1 contract.")
    if math.isnan(price):
        out.append(f"No recorded {side} to fill against.")
    elif math.isfinite(limit) and (price < limit if action == "SELL" else price > limit):
        out.append(f"The {side} {price:.2f} does not meet your limit {limit:.2f}: it would not fill.")
    if new_short > 0 and contract.right == "C":
        out.append("Selling a call to open needs 100 shares per contract (covered call); the demo account has none.")
    elif math.isfinite(after) and after < 0:
        out.append(f"Not enough buying power: {fmt_money(-after, 0)} short.")
    return tuple(out)


def replace_ticket(previous: OrderTicketDialog | None, vm: WorkstationViewModel, contract: OptionContract,
                   action: Action, qty: int, parent: QWidget) -> OrderTicketDialog:
    """Close and free ``previous`` (one ticket at a time) and open a new prefilled ticket."""
    if previous is not None:
        previous.close()
        previous.deleteLater()
    dialog = OrderTicketDialog(vm, contract, action, qty, parent=parent)
    dialog.open()
    return dialog


class OrderTicketDialog(QDialog):
    """A paper ticket for one contract; closes when the view model reports its fill."""

    def __init__(self, vm: WorkstationViewModel, contract: OptionContract, action: Action = "SELL", qty: int = 1,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Paper order — {contract.describe()}")
        self.setObjectName("order_ticket_dialog")
        self.vm, self.contract = vm, contract
        self.pending_ref: str | None = None
        self.quote = (math.nan, math.nan, math.nan, math.nan)
        self.preview: TicketPreview | None = None
        self._build_fields(action, qty)
        self._lay_out()
        self._connections = [(vm.order_rejected, self._on_vm_order_rejected), (vm.order_filled, self._on_vm_order_filled),
                             (vm.account_changed, self._on_vm_account_changed), (vm.date_changed, self._on_vm_date_changed)]
        for signal, slot in self._connections:
            signal.connect(slot)
        self._on_vm_date_changed(self._replay_day())

    # ---- construction -------------------------------------------------------------------------
    def _build_fields(self, action: Action, qty: int) -> None:
        self.day_label, self.bid_label, self.ask_label, self.mid_label, self.und_label = (QLabel() for _ in range(5))
        self.action = QComboBox()
        self.action.addItems(["SELL", "BUY"])
        self.action.setCurrentText(action)
        self.qty = QSpinBox()
        self.qty.setRange(1, 10_000)
        self.qty.setValue(max(qty, 1))
        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.0, 1_000_000.0)
        self.limit.setDecimals(2)
        self.limit.setSingleStep(0.05)
        self.risk = {name: QLabel() for name in ("fill", "premium", "commission", "collateral", "max_loss",
                                                  "bp_now", "bp_after")}
        self.warning = _wrapping_label("color: #f0ad4e;")
        self.error = _wrapping_label("color: #d9534f; font-weight: bold;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm = self.buttons.addButton("Place paper order", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        for signal in (self.action.currentTextChanged, self.qty.valueChanged, self.limit.valueChanged):
            signal.connect(self.update_preview)

    def _lay_out(self) -> None:
        info = QFormLayout()
        info.addRow("Account", QLabel(DEMO_ACCOUNT))
        info.addRow("Contract", QLabel(f"<b>{self.contract.describe()}</b>"))
        for text, widget in (("Replay trade date", self.day_label), ("Recorded bid", self.bid_label),
                             ("Recorded ask", self.ask_label), ("Mid", self.mid_label),
                             ("Underlying price", self.und_label), ("Action", self.action),
                             ("Quantity (contracts)", self.qty),
                             ("Limit price", self.limit)):
            info.addRow(text, widget)
        box = QGroupBox("Risk (estimated at the recorded quote)")
        risk = QFormLayout(box)
        for key, text in (("fill", "Estimated fill price"), ("premium", "Premium"), ("commission", "Commission"),
                          ("collateral", "Collateral required"), ("max_loss", "Max loss"),
                          ("bp_now", "Buying power now"), ("bp_after", "Buying power after")):
            self.risk[key].setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            risk.addRow(text, self.risk[key])
        paper = _wrapping_label("color: #f0ad4e; font-weight: bold;")
        paper.setText(PAPER_NOTE)
        column = QVBoxLayout(self)
        column.addLayout(info)
        column.addWidget(box)
        for label in (self.warning, paper, self.error):
            column.addWidget(label)
        column.addWidget(self.buttons)
        self.setMinimumWidth(460)

    # ---- state --------------------------------------------------------------------------------
    def _replay_day(self) -> date | None:
        clock = self.vm.ws.clock
        return clock.current if clock is not None else None

    def limit_price(self) -> float:
        """The limit in USD per share, NaN when the box shows "none" (its minimum, 0)."""
        value = self.limit.value()
        return value if value > 0 else math.nan

    def held_qty(self) -> int:
        summary = self.vm.ws.last_summary
        if summary is None:
            return 0
        return sum(p.qty for p in summary.positions if p.contract == self.contract)

    def update_preview(self) -> TicketPreview:
        """Recompute and show the risk box from the current fields."""
        action: Action = "SELL" if self.action.currentText() == "SELL" else "BUY"
        side = "bid" if action == "SELL" else "ask"
        self.limit.setSpecialValueText(f"none — fill at the recorded {side}")
        summary = self.vm.ws.last_summary
        bp = summary.buying_power if summary is not None else math.nan
        p = ticket_preview(self.contract, action, self.qty.value(), self.quote[0], self.quote[1],
                           self.limit_price(), self.vm.ws.settings.commission_per_contract, bp, self.held_qty())
        self.preview = p
        kind = "credit" if p.credit else "debit"
        self.risk["fill"].setText(fmt_num(p.fill_price))
        self.risk["premium"].setText(MISSING if math.isnan(p.premium) else f"{fmt_money(abs(p.premium))} {kind}")
        self.risk["commission"].setText(fmt_money(p.commission))
        self.risk["collateral"].setText(fmt_money(p.collateral))
        self.risk["max_loss"].setText("unlimited — covered call needs shares" if math.isinf(p.max_loss)
                                      else fmt_money(p.max_loss))
        self.risk["bp_now"].setText(fmt_money(p.buying_power))
        self.risk["bp_after"].setText(fmt_money(p.buying_power_after))
        self.warning.setText(" ".join(p.problems))
        self.warning.setVisible(bool(p.problems))
        return p

    # ---- actions ------------------------------------------------------------------------------
    def submit(self) -> None:
        """Build the ticket and hand it to the view model; the dialog waits for fill or rejection."""
        self.error.hide()
        action = self.action.currentText()
        ticket = self.vm.ws.new_ticket(self.contract, action, self.qty.value(), self.limit_price())
        self.pending_ref = ticket.order_ref
        self.confirm.setEnabled(False)
        self.confirm.setText("Placing…")
        self.vm.place_order(ticket)

    def _on_vm_order_rejected(self, reason: str) -> None:
        if self.pending_ref is None:
            return
        self.pending_ref = None
        self.error.setText(f"Rejected: {reason}")
        self.error.show()
        self.confirm.setEnabled(True)
        self.confirm.setText("Place paper order")

    def _on_vm_order_filled(self, fill: Fill) -> None:
        if self.pending_ref is not None and fill.order_ref == self.pending_ref:
            self.pending_ref = None
            self.accept()

    def _on_vm_account_changed(self, _summary: AccountSummary) -> None:
        self.update_preview()

    def _on_vm_date_changed(self, day: date | None) -> None:
        self.day_label.setText(day.isoformat() if day is not None else "replay not started")
        if day is not None:
            self.quote = self.vm.ws.market.option_quote(self.contract, day)
        bid, ask, _last, und = self.quote
        self.bid_label.setText(fmt_num(bid))
        self.ask_label.setText(fmt_num(ask))
        self.mid_label.setText(fmt_num((bid + ask) / 2.0))
        self.und_label.setText(fmt_num(und))
        self.update_preview()

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        for signal, slot in self._connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._connections = []
        super().done(result)


def _wrapping_label(style: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label
