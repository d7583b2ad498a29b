"""Risk tiers of placing an order: the confirmation a ticket asks for before it is sent.

* read-only actions (quotes, previews, the payoff chart): no confirmation;
* a paper order: one confirmation, a clear summary and one click;
* a live order (only when the account's "Live trading enabled" switch is on): an explicit
  confirmation that restates account, symbol, side, quantity, limit price, max loss and collateral,
  and the trader types the symbol to confirm; the button stays disabled until it matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.widgets.formatting import fmt_money
from magnus_desktop.widgets.table_model import text_color

Tier = Literal["paper", "live"]


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """What a confirmation restates (prices USD per share, amounts USD).

    Attributes:
        side: e.g. ``"SELL to open"``, ``"vertical (credit)"``; order: e.g. ``"LMT 1.25 DAY"``.
        limit_price: USD per share (a combo: net, + credit / − debit); NaN for a market order.
    """

    account: str
    symbol: str
    description: str
    side: str
    qty: int
    order: str
    limit_price: float
    premium: float
    max_loss: float
    collateral: float
    bp_after: float
    #: what ``qty`` counts: ``"contract"`` (a single leg) or ``"combo"`` (each leg trades qty contracts)
    unit: str = "contract"

    def rows(self) -> list[tuple[str, str]]:
        limit = "market (no limit)" if math.isnan(self.limit_price) else f"{self.limit_price:+.2f} USD per share"
        loss = "unlimited" if math.isinf(self.max_loss) else fmt_money(self.max_loss)
        cash = f"{fmt_money(abs(self.premium))} {'credit' if self.premium >= 0 else 'debit'}"
        return [("Account", self.account), ("Symbol", self.symbol), ("Order", self.description),
                ("Side", self.side), ("Quantity", f"{self.qty:,} {self.unit}{'s' if self.qty != 1 else ''}"),
                ("Type", self.order), ("Limit price", limit), ("Premium", cash), ("Max loss", loss),
                ("Collateral", fmt_money(self.collateral)), ("Buying power after", fmt_money(self.bp_after))]


class ConfirmOrderDialog(QDialog):
    """The confirmation of one order at its risk tier; ``accepted`` = send it."""

    def __init__(self, summary: OrderSummary, tier: Tier, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary, self.tier = summary, tier
        self.setObjectName("confirm_order_dialog")
        live = tier == "live"
        self.setWindowTitle("Confirm LIVE order" if live else "Confirm paper order")
        column = QVBoxLayout(self)
        head = QLabel(f"<b>LIVE ORDER — real money on {summary.account}.</b> Check every line."
                      if live else "Paper order on the demo account: nothing is sent to a broker.")
        head.setWordWrap(True)
        if live:
            head.setStyleSheet(f"color: {text_color('loss').name()};")
        column.addWidget(head)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for name, value in summary.rows():
            label = QLabel(f"<b>{value}</b>" if live else value)
            label.setObjectName(f"confirm_{name.lower().replace(' ', '_')}")
            label.setWordWrap(True)
            self.fields[name] = label
            form.addRow(name, label)
        column.addLayout(form)
        self.typed: QLineEdit | None = None
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Send LIVE order" if live else "Place paper order",
                                         QDialogButtonBox.ButtonRole.AcceptRole)
        if live:
            prompt = QLabel(f"Type the symbol <b>{summary.symbol}</b> to confirm:")
            self.typed = QLineEdit()
            self.typed.setObjectName("confirm_typed")
            self.typed.setPlaceholderText(summary.symbol)
            self.typed.textChanged.connect(self._on_typed_changed)
            column.addWidget(prompt)
            column.addWidget(self.typed)
            self.ok.setEnabled(False)
        self.ok.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def _on_typed_changed(self, text: str) -> None:
        self.ok.setEnabled(self.typed_matches(text))

    def typed_matches(self, text: str) -> bool:
        """The typed text names the symbol (case and surrounding blanks ignored)."""
        return text.strip().upper() == self.summary.symbol.upper()

    def accept(self) -> None:
        if self.tier == "live" and (self.typed is None or not self.typed_matches(self.typed.text())):
            return  # a live order is never sent without the typed confirmation
        super().accept()
