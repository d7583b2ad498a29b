"""The Kalshi order ticket: a limit order in cents with its fee preview (the fee schedule's taker
fee), max loss and max profit, our model's edge and a capped fractional-Kelly stake where a model
probability exists; then the same confirmation as a live options order (``ui.orders.confirm``:
restated figures, the ticker typed to confirm) and the audit log (the service writes it)."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.kalshi import KalshiMarket, OrderRequest, Side
from magnus_desktop.services.kalshi.service import KalshiPreview
from magnus_desktop.ui.kalshi.browser import fmt_cents
from magnus_desktop.ui.kalshi.view_model import KalshiViewModel
from magnus_desktop.ui.orders.confirm import ConfirmOrderDialog
from magnus_desktop.widgets.formatting import MISSING, fmt_money
from magnus_desktop.widgets.table_model import text_color


@dataclass(frozen=True, slots=True)
class KalshiOrderSummary:
    """What the confirmation restates (the ``OrderSummary`` shape ``ConfirmOrderDialog`` reads)."""

    account: str
    symbol: str
    title: str
    side: str
    qty: int
    limit_cents: int
    cost_usd: float
    fee_usd: float
    max_loss_usd: float
    max_profit_usd: float
    balance_after_usd: float | None

    def rows(self) -> list[tuple[str, str]]:
        after = MISSING if self.balance_after_usd is None else fmt_money(self.balance_after_usd)
        return [("Account", self.account), ("Market", self.symbol), ("Question", self.title), ("Side", self.side),
                ("Quantity", f"{self.qty:,} contract{'s' if self.qty != 1 else ''}"),
                ("Limit price", f"{self.limit_cents}¢ per contract (pays 100¢ if it wins)"),
                ("Cost", fmt_money(self.cost_usd)), ("Fee (taker, at most)", fmt_money(self.fee_usd)),
                ("Max loss", fmt_money(self.max_loss_usd)), ("Max profit", fmt_money(self.max_profit_usd)),
                ("Balance after", after)]


class KalshiTicket(QDialog):
    """Buy YES or NO of one market at a limit. The ``client_order_id`` is made once per ticket, so
    pressing Place twice (or a retry) sends one order."""

    sent = Signal(object)  # OrderRequest

    def __init__(self, vm: KalshiViewModel, market: KalshiMarket, side: Side, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kalshi_ticket")
        self.setWindowTitle(f"Kalshi order — {market.ticker}")
        self._vm, self.market = vm, market
        self.client_order_id = uuid.uuid4().hex
        self.yes = QRadioButton("Buy YES")
        self.no = QRadioButton("Buy NO")
        group = QButtonGroup(self)
        group.addButton(self.yes)
        group.addButton(self.no)
        (self.yes if side == "yes" else self.no).setChecked(True)
        self.count = QSpinBox(objectName="kalshi_ticket_count", minimum=1, maximum=100_000, value=1)
        self.price = QSpinBox(objectName="kalshi_ticket_price", minimum=1, maximum=99, suffix="¢")
        self.price.setValue(self._default_price(side))
        self.preview_labels: dict[str, QLabel] = {}
        form = self._form = QFormLayout()
        sides = QHBoxLayout()
        sides.addWidget(self.yes)
        sides.addWidget(self.no)
        form.addRow("Market", QLabel(f"<b>{html.escape(vm.service.title(market))}</b><br>{market.ticker}"))
        form.addRow("Side", sides)
        form.addRow("Contracts", self.count)
        form.addRow("Limit price", self.price)
        names = ["Quote", "Cost", "Fee", "Max loss", "Max profit", "Balance after", "Model", "Edge", "Kelly stake"]
        for name in names:
            label = QLabel(objectName=f"kalshi_preview_{name.lower().replace(' ', '_')}")
            label.setWordWrap(True)
            self.preview_labels[name] = label
            form.addRow(name, label)
        self.problems = QLabel(objectName="kalshi_ticket_problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {text_color('loss').name()};")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.place = self.buttons.addButton("Place order…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.place.setObjectName("kalshi_ticket_place")
        self.place.clicked.connect(self._on_place_clicked)
        self.buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.problems)
        column.addWidget(self.buttons)
        for w in (self.count, self.price):
            w.valueChanged.connect(self.update_preview)
        self.yes.toggled.connect(self._on_side_toggled)
        self.preview: KalshiPreview | None = None
        self.confirm: ConfirmOrderDialog | None = None
        self.update_preview()
        self.setMinimumWidth(460)

    @property
    def side(self) -> Side:
        return "yes" if self.yes.isChecked() else "no"

    def _default_price(self, side: Side) -> int:
        ask = self.market.yes_ask_cents if side == "yes" else self.market.no_ask_cents
        return ask if ask is not None else 50

    def _on_side_toggled(self) -> None:
        self.price.setValue(self._default_price(self.side))
        self.update_preview()

    def request(self) -> OrderRequest:
        return OrderRequest(self.market.ticker, self.side, "buy", self.count.value(), self.price.value(),
                            self.client_order_id)

    def update_preview(self) -> None:
        p = self.preview = self._vm.preview(self.request())
        m, lab = self.market, self.preview_labels
        ask = m.yes_ask_cents if self.side == "yes" else m.no_ask_cents
        bid = m.yes_bid_cents if self.side == "yes" else m.no_bid_cents
        lab["Quote"].setText(f"{self.side.upper()} bid {fmt_cents(bid)} / ask {fmt_cents(ask)} · "
                             + ("crosses the ask: fills now as taker" if p.crosses else "rests in the book until matched"))
        lab["Cost"].setText(f"{fmt_money(p.cost_cents / 100)} ({p.request.count:,} × {p.request.price_cents}¢)")
        lab["Fee"].setText(f"{fmt_money(p.fee_cents / 100)} taker fee = ⌈0.07 × C × P × (1 − P)⌉ "
                           "(Kalshi fee schedule); a resting fill pays the maker fee, if any")
        lab["Max loss"].setText(fmt_money(p.max_loss_cents / 100))
        lab["Max profit"].setText(fmt_money(p.max_profit_cents / 100))
        lab["Balance after"].setText(MISSING if p.balance_after_cents is None else fmt_money(p.balance_after_cents / 100))
        has_model = p.model_prob is not None
        for name in ("Model", "Edge", "Kelly stake"):  # no model: no rows (not empty ones)
            self._form.setRowVisible(lab[name], has_model)
        if has_model:
            lab["Model"].setText(f"{p.model_prob * 100:.1f}% YES")  # type: ignore[operator]
            lab["Edge"].setText(MISSING if p.edge_usd is None else f"{p.edge_usd:+.3f} USD per contract after fees")
            s = p.stake
            lab["Kelly stake"].setText(MISSING if s is None else
                                       f"{s.contracts:,} contracts ({fmt_money(s.cost_usd)}, "
                                       f"{s.stake_fraction * 100:.1f}% of balance{', capped' if s.capped else ''})")
        refusal = self._vm.refusal()
        problems = list(p.problems) + ([refusal] if refusal else [])
        self.problems.setText(" ".join(problems))
        self.place.setEnabled(not problems)

    def summary(self) -> KalshiOrderSummary:
        p = self.preview
        assert p is not None
        return KalshiOrderSummary(
            account=self._vm.service.account_name, symbol=self.market.ticker, title=self.market.label,
            side=f"BUY {self.side.upper()}", qty=p.request.count, limit_cents=p.request.price_cents,
            cost_usd=p.cost_cents / 100, fee_usd=p.fee_cents / 100, max_loss_usd=p.max_loss_cents / 100,
            max_profit_usd=p.max_profit_cents / 100,
            balance_after_usd=None if p.balance_after_cents is None else p.balance_after_cents / 100)

    def _on_place_clicked(self) -> None:
        self.update_preview()
        if not self.place.isEnabled():
            return
        self.confirm = ConfirmOrderDialog(self.summary(), "live", self)  # type: ignore[arg-type]
        self.confirm.setWindowTitle("Confirm Kalshi order")
        self.confirm.accepted.connect(self._send)
        self.confirm.open()

    def _send(self) -> None:
        req = self.request()
        for w in (self.place, self.count, self.price, self.yes, self.no):
            w.setEnabled(False)
        self.problems.setText("Sending…")
        self._vm.order_done.connect(self._on_order_done)
        self.sent.emit(req)
        self._vm.place_order(req)

    def _on_order_done(self, client_order_id: str, problem: str) -> None:
        if client_order_id != self.client_order_id:
            return
        self._vm.order_done.disconnect(self._on_order_done)
        if problem:
            self.problems.setText(f"Not placed: {problem}")
            self.client_order_id = uuid.uuid4().hex  # a corrected ticket is a new order
            for w in (self.count, self.price, self.yes, self.no):
                w.setEnabled(True)
            self.update_preview()
            return
        self.accept()
