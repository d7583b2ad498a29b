"""Paper order ticket for the demo account: the recorded quote, a live risk preview, confirm.

Nothing is sent anywhere: a confirmed ticket goes to ``vm.place_order`` and the paper broker fills
it against the recorded end-of-day quote of the replay day (SELL at the bid, BUY at the ask; see
``services.brokers.paper``). The quote is read off the GUI thread (``vm.request_quote``); fills and
rejections are keyed by ``order_ref``, so a dialog only reacts to its own order. The preview is THE order rules'
(:func:`~magnus_desktop.services.orders.rules.preview`, through ``vm.preview``), which the paper broker fills by, so
the ticket and the fill agree;
"Place paper order" is disabled while the preview lists a problem the broker would reject.
Buying power on the later replay days the order affects (a backdated order) is checked on the
compute thread (``vm.check_ticket``) and shown under the risk box.
"""

from __future__ import annotations

import math
from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.domain import AccountSummary, Action, OptionContract, OrderTicket
from magnus_desktop.models.market import describe_source
from magnus_desktop.services.brokers.paper import LaterDaysCheck
from magnus_desktop.services.orders import TicketQuote
from magnus_desktop.services.orders.rules import BidAsk, TicketPreview
from magnus_desktop.services.portfolio import DEMO_ACCOUNT
from magnus_desktop.ui.orders.confirm import ConfirmOrderDialog
from magnus_desktop.ui.orders.journal_fields import JournalsTicket
from magnus_desktop.ui.orders.risk_box import (
    PlacesOwnOrder,
    ask_confirmation,
    draw_payoff,
    money_or_unlimited,
)
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.formatting import MISSING, fmt_money, fmt_num
from magnus_desktop.widgets.payoff_chart import PayoffChart
from magnus_desktop.widgets.table_model import text_color

PAPER_NOTE = "PAPER — no order is sent anywhere. Filled against the recorded end-of-day quote of the replay day."
LIVE_NOTE = ("LIVE — this account's broker receives the order (live trading is enabled for it in Settings → "
             "Accounts). You confirm it by typing the symbol.")

def replace_ticket(previous: QDialog | None, vm: OrdersViewModel, contract: OptionContract,
                   action: Action, qty: int, parent: QWidget, *, closing: bool = False) -> OrderTicketDialog:
    """Close and free ``previous`` (one ticket at a time) and open a new prefilled ticket."""
    if previous is not None:
        previous.close()
        previous.deleteLater()
    dialog = OrderTicketDialog(vm, contract, action, qty, parent=parent, closing=closing)
    dialog.open()
    return dialog


class OrderTicketDialog(JournalsTicket, PlacesOwnOrder, QDialog):
    """A paper ticket for one contract; closes when the view model reports its fill.

    A ``closing`` ticket (from the Positions dock) only reduces the held position: its action is
    fixed to the closing side and its quantity cannot exceed the contracts held.
    """

    def __init__(self, vm: OrdersViewModel, contract: OptionContract, action: Action = "SELL", qty: int = 1,
                 parent: QWidget | None = None, *, closing: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Paper order — {contract.describe()}")
        self.setObjectName("order_ticket_dialog")
        self.vm, self.contract, self.closing = vm, contract, closing
        self.pending_ref: str | None = None
        self.confirmation: ConfirmOrderDialog | None = None
        self.quote = (math.nan, math.nan, math.nan, math.nan)  # bid, ask, last, underlying (USD)
        #: the replay day ``quote`` was recorded on (None while it is being read)
        self.quote_day: date | None = None
        self.preview: TicketPreview | None = None
        self.later: LaterDaysCheck | None = None
        self._check_ref: str | None = None
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(150)  # one compute-thread check after a burst of edits
        self._check_timer.timeout.connect(self._request_check)
        self._build_fields(action, qty)
        self._lay_out()
        self._connections = [(vm.order_status, self._on_vm_order_status),
                             (vm.account_changed, self._on_vm_account_changed), (vm.date_changed, self._on_vm_date_changed),
                             (vm.ticket_checked, self._on_vm_ticket_checked),
                             (vm.quote_received, self._on_vm_quote_received),
                             (vm.p_win_received, self._on_vm_p_win_received),
                             (vm.refusal_changed, self._show_problems)]
        for signal, slot in self._connections:
            signal.connect(slot)
        self._on_vm_date_changed(self._replay_day())

    # ---- construction -------------------------------------------------------------------------
    def _build_fields(self, action: Action, qty: int) -> None:
        self.day_label, self.bid_label, self.ask_label, self.mid_label, self.und_label = (QLabel() for _ in range(5))
        #: the predictor's p_win of selling the contract (decimal), None until known or without a model
        self.p_win: float | None = None
        self.p_win_label = QLabel("…")
        self.p_win_label.setObjectName("ticket_p_win")
        self.p_win_label.setWordWrap(True)
        self.p_win_label.setToolTip(P_WIN_HELP)
        self.source_label = QLabel("…")
        self.source_label.setObjectName("ticket_quote_source")
        self.source_label.setToolTip("Where the bid/ask above come from, and when they were true")
        self.action = QComboBox()
        self.action.addItems(["SELL", "BUY"])
        self.action.setCurrentText(action)
        self.action.setEnabled(not self.closing)
        self.qty = QSpinBox()
        self.qty.setRange(1, self._max_qty())
        self.qty.setValue(max(qty, 1))
        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.0, 1_000_000.0)
        self.limit.setDecimals(2)
        self.limit.setSingleStep(0.05)
        self.limit.setSuffix(" USD/share")
        self.effect = QComboBox()
        for text, effect in (("to open or close (auto)", "auto"), ("to open", "open"), ("to close", "close")):
            self.effect.addItem(text, effect)
        self.effect.setCurrentIndex(2 if self.closing else 0)
        self.effect.setEnabled(not self.closing)
        self.order_type = QComboBox()
        self.order_type.addItems(["MKT", "LMT"])
        self.order_type.setToolTip("MKT fills at the quoted bid (sell) or ask (buy); LMT only at your limit or better")
        self.tif = QComboBox()
        self.tif.addItems(["DAY", "GTC"])
        #: optional: journaled (with the numbers shown) when the order is sent or the ticket cancelled
        self._make_journal_fields()
        self.chart = PayoffChart()
        self.chart.setObjectName("ticket_payoff_chart")
        self.chart.setMinimumSize(400, 280)
        self.chart.apply_colors(chart_colors(self.vm.theme()))
        for field in (self.action, self.effect, self.qty, self.order_type, self.limit, self.tif):  # never squeezed by a long message below
            field.setSizePolicy(field.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Fixed)
        self.risk = {name: QLabel() for name in ("position", "fill", "premium", "commission", "collateral",
                                                  "max_loss", "max_profit", "breakevens", "bp_now", "bp_after")}
        self.later_label = _wrapping_label("")
        self.warning = _wrapping_label(f"color: {_color('stale')};")
        self.error = _wrapping_label(f"color: {_color('loss')}; font-weight: bold;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm = self.buttons.addButton("Place paper order", QDialogButtonBox.ButtonRole.AcceptRole)
        self.place_button = self.confirm
        self.confirm.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.limit.valueChanged.connect(self._on_limit_edited)
        self.order_type.currentTextChanged.connect(self._on_order_type_changed)
        for signal in (self.action.currentTextChanged, self.qty.valueChanged, self.limit.valueChanged,
                       self.effect.currentIndexChanged, self.tif.currentIndexChanged):
            signal.connect(self.update_preview)

    def _lay_out(self) -> None:
        info = QFormLayout()
        info.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.account_label = QLabel(DEMO_ACCOUNT)
        self.account_label.setObjectName("ticket_account")
        info.addRow("Account", self.account_label)
        info.addRow("Contract", QLabel(f"<b>{self.contract.describe()}</b>"))
        qty_text = "Quantity to close (contracts)" if self.closing else "Quantity (contracts)"
        for text, widget in (("Replay trade date", self.day_label), ("Recorded bid", self.bid_label),
                             ("Recorded ask", self.ask_label), ("Mid", self.mid_label),
                             ("Underlying price", self.und_label), ("Quote source", self.source_label),
                             ("p_win (if sold)", self.p_win_label),
                             ("Action", self.action), ("Position effect", self.effect),
                             (qty_text, self.qty), ("Order type", self.order_type), ("Limit price", self.limit),
                             ("Time in force", self.tif), ("Thesis (journal)", self.thesis),
                             ("Journal tags", self.journal_tags)):
            info.addRow(text, widget)
        box = QGroupBox("Risk (estimated at the recorded quote)")
        box.setMinimumWidth(440)
        risk = QFormLayout(box)
        for key, text in (("position", "Position"), ("fill", "Estimated fill price"), ("premium", "Premium"),
                          ("commission", "Commission"), ("collateral", "Collateral required"),
                          ("max_loss", "Max loss"), ("max_profit", "Max profit"),
                          ("breakevens", "Breakeven at expiry"), ("bp_now", "Buying power now"),
                          ("bp_after", "Buying power after")):
            self.risk[key].setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            risk.addRow(text, self.risk[key])
        paper = _wrapping_label(f"color: {_color('stale')}; font-weight: bold;")
        paper.setText(PAPER_NOTE)
        self.paper_label = paper
        left = QVBoxLayout()
        left.addLayout(info)
        left.addWidget(box)
        left.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(self.chart, 1)
        column = QVBoxLayout(self)
        column.addLayout(body)
        for label in (self.later_label, self.warning, paper, self.error):
            column.addWidget(label)
        column.addWidget(self.buttons)
        self.setMinimumWidth(900)

    def fit_height(self) -> None:
        """Keep the dialog at least as tall as its content at its width.

        The messages wrap, so the height they need depends on the width (height-for-width), which
        Qt does not enforce on a top-level window: a long rejection used to squeeze the Action,
        Quantity and Limit fields into slivers. The minimum height follows the content instead, and
        the dialog grows when a message needs it.
        """
        layout = self.layout()
        layout.activate()
        width = max(self.width(), self.minimumWidth())
        needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalMinimumSize().height()
        self.setMinimumHeight(needed)
        if self.height() < needed:
            self.resize(width, needed)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self.fit_height)  # narrower: the messages need more lines

    # ---- state --------------------------------------------------------------------------------
    def _replay_day(self) -> date | None:
        return self.vm.replay_day()

    def _max_qty(self) -> int:
        """A closing ticket cannot exceed the contracts held (it would flip the position)."""
        return max(abs(self.held_qty()), 1) if self.closing else 10_000

    def limit_price(self) -> float:
        """The limit in USD per share, NaN for a market order or when the box shows "none" (its minimum, 0)."""
        value = self.limit.value()
        return value if value > 0 and self.order_type.currentText() == "LMT" else math.nan

    def _on_limit_edited(self, value: float) -> None:
        """A limit typed in makes the order a limit order."""
        if value > 0 and self.order_type.currentText() != "LMT":
            self.order_type.setCurrentText("LMT")

    def _on_order_type_changed(self, order_type: str) -> None:
        if order_type == "MKT" and self.limit.value() > 0:
            self.limit.setValue(0.0)
        self.update_preview()

    def _options(self) -> dict[str, str]:
        """Order type, time in force and position effect of the ticket as the fields say."""
        return {"order_type": self.order_type.currentText(), "tif": self.tif.currentText(),
                "position_effect": self.effect.currentData() or "auto"}

    def held_qty(self) -> int:
        summary = self.vm.last_summary()
        if summary is None:
            return 0
        return sum(p.qty for p in summary.positions if p.contract == self.contract)

    def current_action(self) -> Action:
        return "SELL" if self.action.currentText() == "SELL" else "BUY"

    def blocking_problems(self) -> tuple[str, ...]:
        """What the broker would reject now: the preview's problems, the later-days check, and a
        closing ticket with nothing (left) to close."""
        refusal = self.vm.refusal()
        if refusal is not None:  # a real account is active: nothing may reach its broker
            return (refusal,)
        if self.quote_day is None and self._replay_day() is not None:
            return ("Reading the recorded quote of the replay day…",)  # not "no bid": it is on its way
        problems = list(self.preview.problems) if self.preview is not None else []
        if self.closing and self.held_qty() == 0:
            problems.append("There is no position left to close on this replay day.")
        if self.later is not None and self.later.problem is not None:
            problems.append(self.later.problem)
        return tuple(problems)

    def update_preview(self) -> TicketPreview:
        """Recompute and show the risk box from the current fields."""
        action = self.current_action()
        side = "bid" if action == "SELL" else "ask"
        self.limit.setSpecialValueText(f"none — fill at the recorded {side}" if self.order_type.currentText() == "MKT"
                                       else "enter a limit")
        self.qty.setMaximum(self._max_qty())
        held = self.held_qty()
        if self._replay_day() is None:  # no replay day yet: the expiry cannot be checked, so use the contract's own
            ticket = OrderTicket(self.contract, action, self.qty.value(), self.limit_price(), "", self.contract.expiry,
                                 **self._options())  # type: ignore[arg-type]
        else:
            ticket = self.build_ticket()
        quote = BidAsk(self.quote[0], self.quote[1])
        p = self.vm.preview(ticket, quote)
        self.preview = p
        self._show_risk(p, held)
        draw_payoff(self.chart, self.vm.payoff(ticket, p, {self.contract: quote}, self.quote[3]), p)
        self.later = None
        self._check_ref = None  # a check still running is of the ticket before this edit: dropped
        self.later_label.setText("Checking buying power on the later replay days this order affects…")
        self._check_timer.start()
        self._show_problems()
        return p

    def _show_risk(self, p: TicketPreview, held: int) -> None:
        signed = -self.qty.value() if self.current_action() == "SELL" else self.qty.value()
        change = p.describe_position_change()
        flip = " — flips the position" if p.flips else ""
        self.risk["position"].setText(f"{held:+d} → {held + signed:+d} ({change}){flip}")
        self.risk["position"].setStyleSheet(f"color: {_color('stale')}; font-weight: bold;" if p.flips else "")
        kind = "credit" if p.credit else "debit"
        self.risk["fill"].setText(MISSING if math.isnan(p.fill_price) else f"{fmt_num(p.fill_price)} USD/share")
        self.risk["premium"].setText(MISSING if math.isnan(p.premium) else f"{fmt_money(abs(p.premium))} {kind}")
        self.risk["commission"].setText(fmt_money(p.commission))
        self.risk["collateral"].setText(fmt_money(p.collateral))
        self.risk["max_loss"].setText(money_or_unlimited(p.max_loss, "unlimited — covered call needs shares"))
        self.risk["max_profit"].setText(money_or_unlimited(p.max_profit))
        self.risk["breakevens"].setText(", ".join(f"{b:,.2f} USD/share" for b in p.breakevens) or "none")
        self.risk["bp_now"].setText(fmt_money(p.buying_power))
        self.risk["bp_after"].setText(fmt_money(p.buying_power_after))
        negative = math.isfinite(p.buying_power_after) and p.buying_power_after < 0
        self.risk["bp_after"].setStyleSheet(f"color: {_color('loss')}; font-weight: bold;" if negative else "")

    def _show_problems(self) -> None:
        """The warning line and the confirm button follow the blocking problems."""
        problems = self.blocking_problems()
        active = self.vm.active_account()
        live = self.vm.tier() == "live"
        self.account_label.setText(DEMO_ACCOUNT if active == DEMO_ACCOUNT else
                                   f"{active} — LIVE: real orders" if live else
                                   f"{active} is active — live orders not enabled")
        self.paper_label.setText(LIVE_NOTE if live else PAPER_NOTE)
        self.setWindowTitle(f"{'LIVE' if live else 'Paper'} order — {self.contract.describe()}")
        self.warning.setText(" ".join(problems))
        self.warning.setVisible(bool(problems))
        self.fit_height()
        if self.pending_ref is None:
            self.confirm.setText(self._place_text())
            self.confirm.setEnabled(not problems)
            self.confirm.setToolTip("Fix the problems listed above first" if problems else "")

    def _place_text(self) -> str:
        return "Place LIVE order…" if self.vm.tier() == "live" else "Place paper order"

    # ---- later replay days (compute thread, via the view model) ------------------------------
    def build_ticket(self) -> OrderTicket:
        return self.vm.new_ticket(self.contract, self.current_action(), self.qty.value(), self.limit_price(),
                                  **self._options())

    def _request_check(self) -> None:
        if self._replay_day() is None:
            return
        ticket = self.build_ticket()
        self._check_ref = ticket.order_ref
        self.vm.check_ticket(ticket)

    def _on_vm_ticket_checked(self, ticket: OrderTicket, check: LaterDaysCheck | None) -> None:
        if ticket.order_ref != self._check_ref:
            return  # an older request, or another dialog's
        self.later = check
        self.later_label.setText(check.describe() if check is not None else
                                 "Later replay days not checked: there is no recorded quote to fill at.")
        self._show_problems()

    # ---- actions ------------------------------------------------------------------------------
    def submit(self) -> ConfirmOrderDialog | None:
        """Build the ticket and ask the confirmation of its risk tier (paper: one click; live: the
        typed symbol); a confirmed ticket goes to the view model and the dialog waits for its fill
        or rejection. None (nothing asked) while a problem blocks the order."""
        if self.blocking_problems():
            self._show_problems()
            return None
        self.error.hide()
        ticket = self.build_ticket()
        p = self.vm.preview(ticket, BidAsk(self.quote[0], self.quote[1]))
        self.confirmation = ask_confirmation(self, self.vm.tier(), self.vm.active_account(), ticket, p,
                                             self.send)
        return self.confirmation

    def _after_refusal(self) -> None:
        self.confirm.setText(self._place_text())
        self._show_problems()  # fits the height to the message too

    def _on_vm_account_changed(self, _summary: AccountSummary) -> None:
        self.update_preview()

    def _on_vm_date_changed(self, day: date | None) -> None:
        self.day_label.setText(day.isoformat() if day is not None else "replay not started")
        if day is not None and day != self.quote_day:
            self.quote, self.quote_day = (math.nan, math.nan, math.nan, math.nan), None
            self.p_win = None
            self.p_win_label.setText("…")
            self.source_label.setText("reading the quote…")
            self.vm.request_quote(self.contract)
        self._show_quote()

    def _on_vm_quote_received(self, quote: TicketQuote) -> None:
        if quote.contract != self.contract or quote.day != self._replay_day():
            return  # another dialog's contract, or a day the replay has left
        self.quote, self.quote_day = (quote.bid, quote.ask, quote.last, quote.und_price), quote.day
        self.source_label.setText(describe_source(quote.source, quote.as_of, today=quote.day,
                                                  delayed=quote.quote.delayed))
        self._show_quote()

    def _on_vm_p_win_received(self, contract: OptionContract, day: date, p: float | None, note: str) -> None:
        if contract != self.contract or day != self._replay_day():
            return
        self.p_win = p
        short = note.split(" ", 2)[:2] if p is not None else []
        brier = note.rpartition("Brier ")[2] if "Brier " in note else ""
        self.p_win_label.setText(note if p is None else
                                 f"<b>{p * 100:.1f}%</b> · {' '.join(short)}" + (f", Brier {brier}" if brier else ""))
        self.p_win_label.setToolTip(f"{note}\n\n{P_WIN_HELP}")

    def _show_quote(self) -> None:
        bid, ask, _last, und = self.quote
        self.bid_label.setText(fmt_num(bid))
        self.ask_label.setText(fmt_num(ask))
        self.mid_label.setText(fmt_num((bid + ask) / 2.0))
        self.und_label.setText(fmt_num(und))
        self.update_preview()

    def journal_quote(self) -> tuple[float, float, float, float]:
        return self.quote

    def journal_p_win(self) -> float | None:
        return self.p_win

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        self._check_timer.stop()
        self._disconnect_vm()
        super().done(result)


P_WIN_HELP = ("p_win: the predictor's calibrated probability that this option, sold today, expires out of the "
              "money (XGBoost on real price paths; the scanner shows the Black-Scholes P(OTM) beside it).")


def _wrapping_label(style: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


def _color(kind: str) -> str:
    """A text colour that meets WCAG AA on the current theme (``widgets.table_model.TEXT_COLORS``)."""
    return text_color(kind).name()
