"""Combo tickets: a roll (close a held option, open another), a vertical, an iron condor and a calendar
(sell the near expiry, buy the same strike further out).

Strikes and expiries are picked from the option chain of the active market data at the replay day
(``vm.request_chain``, read off the GUI thread); each leg is priced at that chain's bid/ask (a sell
at the bid, a buy at the ask), the same end-of-day quotes the paper broker fills at. The preview is
THE order rules' (``vm.preview``); Place stays disabled while it lists a problem, and a placed order
is confirmed by its risk tier (``ui.orders.confirm``). Status changes are matched by ``order_ref``:
the dialog reacts to its own order only.
"""

from __future__ import annotations

import math
import uuid
from datetime import date

import pandas as pd
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.domain import OptionContract, OrderLeg, Right, Strategy, Ticket
from magnus_desktop.services.orders.rules import BidAsk, Contract, TicketPreview, tick_size
from magnus_desktop.ui.orders.confirm import ConfirmOrderDialog
from magnus_desktop.ui.orders.journal_fields import JournalsTicket
from magnus_desktop.ui.orders.risk_box import (
    PlacesOwnOrder,
    RiskBox,
    ask_confirmation,
    draw_payoff,
    problem_text,
)
from magnus_desktop.ui.orders.view_model import OrdersViewModel
from magnus_desktop.ui.theme import chart_colors
from magnus_desktop.widgets.formatting import fmt_num
from magnus_desktop.widgets.payoff_chart import PayoffChart
from magnus_desktop.widgets.table_model import text_color

#: strike pickers per kind: (name, right, action, label)
_PICKS: dict[str, tuple[tuple[str, Right, str, str], ...]] = {
    "vertical": (("short", "?", "SELL", "Sell strike"), ("long", "?", "BUY", "Buy strike")),
    "iron_condor": (("long_put", "P", "BUY", "Buy put"), ("short_put", "P", "SELL", "Sell put"),
                    ("short_call", "C", "SELL", "Sell call"), ("long_call", "C", "BUY", "Buy call")),
}
TITLES = {"vertical": "Vertical spread", "iron_condor": "Iron condor", "roll": "Roll", "calendar": "Calendar spread"}


def replace_combo(previous: QDialog | None, vm: OrdersViewModel, kind: Strategy, underlying: str, parent: QWidget,
                  **prefill: object) -> ComboTicketDialog:
    """Close and free ``previous`` (one ticket at a time) and open a combo ticket (``prefill``: the
    keyword arguments of :class:`ComboTicketDialog`)."""
    if previous is not None:
        previous.close()
        previous.deleteLater()
    dialog = ComboTicketDialog(vm, kind, underlying, parent=parent, **prefill)  # type: ignore[arg-type]
    dialog.open()
    return dialog


class ComboTicketDialog(JournalsTicket, PlacesOwnOrder, QDialog):
    """A combo ticket of ``kind`` (``"vertical"``, ``"iron_condor"``, ``"roll"`` or ``"calendar"``).

    Args:
        underlying: the option root (``"SPXW"``).
        right: a vertical's or a calendar's right (``"P"`` for a put spread).
        expiry: the expiry to preselect (a roll: the held contract's; a calendar: the near one).
        far_expiry: a calendar's far expiry to preselect.
        strikes: strikes to preselect, in picker order (vertical: sell, buy; condor: buy put, sell put,
            sell call, buy call; roll: the new strike).
        position: a roll's held option and its signed quantity (contracts).
    """

    def __init__(self, vm: OrdersViewModel, kind: Strategy, underlying: str, *, right: Right = "P",
                 expiry: date | None = None, strikes: tuple[float, ...] = (),
                 position: tuple[OptionContract, int] | None = None, far_expiry: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind == "roll" and position is None:
            raise ValueError("a roll ticket needs the held position it rolls")
        self.vm, self.kind, self.underlying, self.right, self.position = vm, kind, underlying, right, position
        self.setObjectName(f"combo_ticket_{kind}")
        self.setWindowTitle(f"{TITLES[kind]} — {underlying}")
        self.chain: pd.DataFrame | None = None
        self.und_price = math.nan
        self.preview: TicketPreview | None = None
        self.ticket: Ticket | None = None
        self.pending_ref: str | None = None
        self.confirmation: ConfirmOrderDialog | None = None
        self._want_expiry, self._want_strikes, self._want_far = expiry, strikes, far_expiry
        #: the limit follows the natural net price until the trader edits it
        self._limit_edited = False
        self._chain_key = uuid.uuid4().hex
        self._build()
        self._connections = [(vm.chain_received, self._on_vm_chain_received),
                             (vm.order_status, self._on_vm_order_status),
                             (vm.account_changed, self._on_vm_account_changed),
                             (vm.refusal_changed, self.update_preview)]
        for signal, slot in self._connections:
            signal.connect(slot)
        self.status.setText(f"Reading the {underlying} option chain of the replay day…")
        vm.request_chain(self._chain_key, underlying)

    # ---- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.expiry = QComboBox()
        self.expiry.setObjectName("combo_expiry")
        self.strikes: dict[str, QComboBox] = {}
        picks = _PICKS.get(self.kind, ())
        for name, _right, _action, _label in picks:
            self.strikes[name] = QComboBox()
        if self.kind == "roll":
            self.strikes["new"] = QComboBox()
        self.far_expiry = QComboBox()
        self.far_expiry.setObjectName("combo_far_expiry")
        if self.kind == "calendar":
            self.strikes["strike"] = QComboBox()
        self.qty = QSpinBox()
        self.qty.setRange(1, 10_000)
        self.order_type = QComboBox()
        self.order_type.addItems(["LMT", "MKT"])
        self.limit = QDoubleSpinBox()
        self.limit.setRange(-100_000.0, 100_000.0)
        self.limit.setDecimals(2)
        self.limit.setSingleStep(0.05)
        self.limit.setSuffix(" USD/share net (+ credit, − debit)")
        self.tif = QComboBox()
        self.tif.addItems(["DAY", "GTC"])
        self.width_label = QLabel("—")
        self.width_label.setObjectName("combo_width")
        self.legs_label = QLabel("—")
        self.legs_label.setObjectName("combo_legs")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.risk = RiskBox()
        self.problems = QLabel()
        self.problems.setObjectName("combo_problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {text_color('loss').name()};")
        self.chart = PayoffChart()
        self.chart.setMinimumSize(460, 300)
        self.chart.apply_colors(chart_colors(self.vm.theme()))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.place = self.buttons.addButton("Place…", QDialogButtonBox.ButtonRole.ActionRole)
        self.place.setObjectName("combo_place")
        self.place_button = self.place
        self.place.setEnabled(False)
        self.place.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {text_color('loss').name()}; font-weight: bold;")
        self.error.hide()
        form = QFormLayout()
        form.addRow("Account", QLabel(self.vm.active_account()))
        if self.kind == "roll":
            contract, held = self.position  # type: ignore[misc]
            form.addRow("Rolls", QLabel(f"<b>{held:+d} {contract.describe()}</b>"))
            form.addRow("New expiry", self.expiry)
            form.addRow("New strike", self.strikes["new"])
        elif self.kind == "calendar":
            form.addRow("Right", QLabel("calls" if self.right == "C" else "puts"))
            form.addRow("Sell (near) expiry", self.expiry)
            form.addRow("Buy (far) expiry", self.far_expiry)
            form.addRow("Strike", self.strikes["strike"])
        else:
            form.addRow("Expiry", self.expiry)
            for name, _right, _action, label in picks:
                form.addRow(label, self.strikes[name])
        form.addRow({"roll": "Moves", "calendar": "Spread"}.get(self.kind, "Width"), self.width_label)
        form.addRow("Legs (bid / ask USD/share)", self.legs_label)
        form.addRow("Quantity (combos)", self.qty)
        form.addRow("Order type", self.order_type)
        form.addRow("Limit (net)", self.limit)
        form.addRow("Time in force", self.tif)
        thesis, tags = self._make_journal_fields()
        form.addRow("Thesis (journal)", thesis)
        form.addRow("Journal tags", tags)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.risk)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.chart, 1)
        right.addWidget(self.problems)
        right.addWidget(self.status)
        right.addWidget(self.error)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addLayout(right, 1)
        column = QVBoxLayout(self)
        column.addLayout(body)
        column.addWidget(self.buttons)
        self.expiry.currentIndexChanged.connect(self._on_expiry_changed)
        self.far_expiry.currentIndexChanged.connect(self._on_expiry_changed)
        for box in (*self.strikes.values(), self.order_type, self.tif):
            box.currentIndexChanged.connect(self.update_preview)
        self.limit.valueChanged.connect(self._on_limit_edited)  # before the preview: it reads the flag
        for spin in (self.qty, self.limit):
            spin.valueChanged.connect(self.update_preview)
        if self.kind == "roll":
            self.qty.setValue(abs(self.position[1]))  # type: ignore[index]

    # ---- the chain ----------------------------------------------------------------------------
    def _on_vm_chain_received(self, key: str, chain: pd.DataFrame | None, error: str) -> None:
        if key != self._chain_key:
            return  # another dialog's chain
        if chain is None or chain.empty:
            self.status.setText(error or f"The {self.underlying} chain of the replay day is empty.")
            return
        self.chain = chain[chain["underlying"].str.upper() == self.underlying.upper()]
        self.und_price = float(self.chain["und_price"].iloc[0]) if len(self.chain) else math.nan
        earliest = self.position[0].expiry if self.position is not None else self.vm.replay_day()
        expiries = sorted({pd.Timestamp(x).date() for x in self.chain["expiry"]})
        expiries = [e for e in expiries if earliest is None or e >= earliest]
        self.expiry.blockSignals(True)
        self.expiry.clear()
        for e in expiries:
            self.expiry.addItem(e.isoformat(), e)
        want = self._want_expiry
        if want in expiries:
            self.expiry.setCurrentIndex(expiries.index(want))
        self.expiry.blockSignals(False)
        self._fill_far(expiries)
        self.status.setText(f"Underlying {fmt_num(self.und_price)} (index points); quotes: the recorded chain of "
                            f"{pd.Timestamp(self.chain['quote_date'].iloc[0]).date()}." if len(self.chain) else
                            "No expiry of this chain is open for this ticket.")
        self._on_expiry_changed()

    def _fill_far(self, expiries: list[date]) -> None:
        """A calendar's far expiries: those after the near one (the preselected one kept)."""
        if self.kind != "calendar":
            return
        near = self.expiry.currentData()
        current = self.far_expiry.currentData() or self._want_far
        later = [e for e in expiries if near is not None and e > near]
        self.far_expiry.blockSignals(True)
        self.far_expiry.clear()
        for e in later:
            self.far_expiry.addItem(e.isoformat(), e)
        if current in later:
            self.far_expiry.setCurrentIndex(later.index(current))
        self.far_expiry.blockSignals(False)
        self._want_far = None

    def _on_expiry_changed(self) -> None:
        """Refill the strike pickers with the strikes quoted at the chosen expiry (a calendar: at both)."""
        expiry = self.expiry.currentData()
        if self.chain is None or expiry is None:
            self.update_preview()
            return
        rows = self.chain[self.chain["expiry"] == pd.Timestamp(expiry)]
        if self.kind == "calendar":
            if self.sender() is self.expiry:
                self._fill_far(sorted({pd.Timestamp(x).date() for x in self.chain["expiry"]}))
            far = self.far_expiry.currentData()
            far_rows = self.chain[self.chain["expiry"] == pd.Timestamp(far)] if far is not None else rows.iloc[0:0]
            both = set(far_rows.loc[far_rows["right"] == self.right, "strike"])
            rows = rows[rows["strike"].isin(both)]
        wanted = list(self._want_strikes) or self._default_strikes(rows)
        names = list(self.strikes)
        for i, name in enumerate(names):
            right = self._right_of(name)
            strikes = sorted(float(k) for k in rows.loc[rows["right"] == right, "strike"])
            box = self.strikes[name]
            box.blockSignals(True)
            current = box.currentData()
            box.clear()
            for k in strikes:
                box.addItem(f"{k:,.0f}" if k == int(k) else f"{k:,.2f}", k)
            target = wanted[i] if i < len(wanted) else current
            if target in strikes:
                box.setCurrentIndex(strikes.index(target))
            box.blockSignals(False)
        self._want_strikes = ()
        self.update_preview()

    def _right_of(self, name: str) -> Right:
        if name == "new":
            return self.position[0].right  # type: ignore[index]
        if self.kind in ("vertical", "calendar"):
            return self.right
        return "P" if name.endswith("put") else "C"

    def _default_strikes(self, rows: pd.DataFrame) -> list[float]:
        """Strikes near the underlying: a vertical 25 points out of the money, 25 wide; a condor
        ~50 points out on each side, 25 wide; a roll keeps the held strike."""
        if self.kind == "roll":
            return [self.position[0].strike]  # type: ignore[index]
        u = self.und_price
        if self.kind == "calendar":
            return [_nearest(rows, self.right, u)]
        if self.kind == "vertical":
            sign = -1.0 if self.right == "P" else 1.0
            return [_nearest(rows, self.right, u + sign * 25), _nearest(rows, self.right, u + sign * 50)]
        return [_nearest(rows, "P", u - 75), _nearest(rows, "P", u - 50), _nearest(rows, "C", u + 50),
                _nearest(rows, "C", u + 75)]

    # ---- the ticket ---------------------------------------------------------------------------
    def legs(self) -> tuple[OrderLeg, ...] | None:
        """The legs picked (None until every picker has a strike)."""
        expiry = self.expiry.currentData()
        if expiry is None or any(box.currentData() is None for box in self.strikes.values()):
            return None
        if self.kind == "roll":
            held, qty = self.position  # type: ignore[misc]
            close = "BUY" if qty < 0 else "SELL"
            new = OptionContract(held.underlying, expiry, float(self.strikes["new"].currentData()), held.right,
                                 held.multiplier)
            return (OrderLeg(held, close), OrderLeg(new, "SELL" if close == "BUY" else "BUY"))
        if self.kind == "calendar":
            far = self.far_expiry.currentData()
            if far is None:
                return None
            k = float(self.strikes["strike"].currentData())
            return (OrderLeg(OptionContract(self.underlying, expiry, k, self.right), "SELL"),
                    OrderLeg(OptionContract(self.underlying, far, k, self.right), "BUY"))
        return tuple(OrderLeg(OptionContract(self.underlying, expiry, float(self.strikes[name].currentData()),
                                             self._right_of(name)), action)  # type: ignore[arg-type]
                     for name, _right, action, _label in _PICKS[self.kind])

    def quotes(self, legs: tuple[OrderLeg, ...]) -> dict[Contract, BidAsk | None]:
        """Each leg's bid/ask from the chain (None: the chain does not list it)."""
        out: dict[Contract, BidAsk | None] = {}
        for leg in legs:
            c = leg.contract
            if not isinstance(c, OptionContract) or self.chain is None:
                out[c] = None
                continue
            rows = self.chain[(self.chain["expiry"] == pd.Timestamp(c.expiry)) & (self.chain["strike"] == c.strike)
                              & (self.chain["right"] == c.right)]
            out[c] = BidAsk(float(rows["bid"].iloc[0]), float(rows["ask"].iloc[0])) if len(rows) else None
        return out

    def _on_limit_edited(self, _value: float) -> None:
        self._limit_edited = True

    def _follow_natural(self, net: float, contract: Contract) -> None:
        """Preset the limit to the natural net price (USD per share, + credit), on the combo's tick
        (rounded so the natural price still meets it), until the trader types a limit."""
        if self._limit_edited or not math.isfinite(net):
            return
        tick = tick_size(contract, abs(net), combo=True)
        value = math.floor(round(net / tick, 6)) * tick
        if abs(self.limit.value() - value) > 1e-9:
            self.limit.blockSignals(True)
            self.limit.setValue(value)
            self.limit.blockSignals(False)

    def limit_price(self) -> float:
        return self.limit.value() if self.order_type.currentText() == "LMT" else math.nan

    def build_ticket(self) -> Ticket | None:
        legs = self.legs()
        if legs is None:
            return None
        return self.vm.new_combo(self.kind, legs, self.qty.value(), self.limit_price(),
                                 order_type=self.order_type.currentText(), tif=self.tif.currentText())

    def update_preview(self, *_args: object) -> TicketPreview | None:
        """Preview the picked combo; show its figures, width, problems and payoff chart."""
        self.limit.setEnabled(self.order_type.currentText() == "LMT")
        ticket = self.build_ticket()
        self.ticket = ticket
        if ticket is None:
            self.preview = None
            self._show_problems(("Pick a strike for every leg (waiting for the option chain).",))
            return None
        quotes = self.quotes(ticket.legs)
        p = self.vm.preview(ticket, quotes)
        if not self._limit_edited and self.order_type.currentText() == "LMT" and math.isfinite(p.net_price):
            before = self.limit.value()
            self._follow_natural(p.net_price, ticket.legs[0].contract)
            if self.limit.value() != before:
                ticket = self.build_ticket()
                assert ticket is not None
                p = self.vm.preview(ticket, quotes)
            self.ticket = ticket
        self.preview = p
        self.risk.show_preview(p)
        self._show_legs(ticket.legs, quotes)
        draw_payoff(self.chart, self.vm.payoff(ticket, p, quotes, self.und_price), p)
        refusal = self.vm.refusal()
        self._show_problems(((refusal,) if refusal else ()) + p.problems)
        return p

    def _show_legs(self, legs: tuple[OrderLeg, ...], quotes: dict[Contract, BidAsk | None]) -> None:
        lines = []
        for leg in legs:
            q = quotes.get(leg.contract)
            price = "not in the chain" if q is None else f"{fmt_num(q.bid)} / {fmt_num(q.ask)}"
            lines.append(f"{leg.action} {leg.contract.describe()}  {price}")  # type: ignore[union-attr]
        self.legs_label.setText("\n".join(lines))
        strikes = {leg.contract.right: [] for leg in legs}  # type: ignore[union-attr]
        for leg in legs:
            strikes[leg.contract.right].append(leg.contract.strike)  # type: ignore[union-attr]
        if self.kind == "calendar":
            near, far = legs[0].contract, legs[1].contract
            self.width_label.setText(f"strike {near.strike:,.2f}: sell {near.expiry} / buy {far.expiry} "  # type: ignore[union-attr]
                                     f"({(far.expiry - near.expiry).days} days apart)")  # type: ignore[union-attr]
        elif self.kind == "roll":
            old, new = legs[0].contract, legs[1].contract
            self.width_label.setText(f"strike {old.strike:,.0f} → {new.strike:,.0f} ({new.strike - old.strike:+,.0f} "  # type: ignore[union-attr]
                                     f"points), expiry {old.expiry} → {new.expiry}")  # type: ignore[union-attr]
        else:
            parts = [f"{'put' if r == 'P' else 'call'} {abs(ks[0] - ks[-1]):,.0f} points "
                     f"(${abs(ks[0] - ks[-1]) * 100:,.0f} per combo)" for r, ks in sorted(strikes.items(), reverse=True)]
            self.width_label.setText("; ".join(parts))

    def _show_problems(self, problems: tuple[str, ...]) -> None:
        self.problems.setText(problem_text(problems) if problems else "")
        self.problems.setVisible(bool(problems))
        if self.pending_ref is None:
            self.place.setText("Place LIVE order…" if self.vm.tier() == "live" else "Place…")
            self.place.setEnabled(not problems)
            self.place.setToolTip("Fix the problems listed first" if problems else "")

    # ---- placing ------------------------------------------------------------------------------
    def submit(self) -> ConfirmOrderDialog | None:
        """Ask the confirmation of the risk tier; a confirmed order goes to the view model."""
        p = self.update_preview()
        if p is None or p.problems or self.ticket is None or not self.place.isEnabled():
            return None
        self.error.hide()
        self.confirmation = ask_confirmation(self, self.vm.tier(), self.vm.active_account(), self.ticket, p,
                                             self.send)
        return self.confirmation

    def _after_refusal(self) -> None:
        self.update_preview()

    def _on_vm_account_changed(self, _summary: object) -> None:
        self.update_preview()

    def journal_quote(self) -> tuple[float, float, float, float]:
        """The first leg's bid/ask from the chain and the underlying price (NaN where unknown)."""
        legs = self.ticket.legs if self.ticket is not None else ()
        q = self.quotes(legs[:1]).get(legs[0].contract) if legs else None
        return (q.bid if q else math.nan, q.ask if q else math.nan, math.nan, self.und_price)

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        self._disconnect_vm()
        super().done(result)


def _nearest(rows: pd.DataFrame, right: str, target: float) -> float:
    strikes = rows.loc[rows["right"] == right, "strike"]
    if strikes.empty or not math.isfinite(target):
        return math.nan
    return float(strikes.iloc[(strikes - target).abs().argmin()])
