"""Orders dock: working and recent orders (status, filled quantity, average fill price, times),
newest activity first, every update keyed by ``order_ref``; Cancel and Modify for a working order.

Paper orders fill or are rejected the moment they are placed, so on the demo account no order is
ever working and Cancel/Modify stay disabled; a real broker's working orders can be cancelled here,
or modified (quantity, limit price: checked by the order rules before anything is sent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.audit import OrderLine
from magnus_desktop.ui.orders_blotter.view_model import OrdersBlotterViewModel
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.formatting import MISSING, fmt_num
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import Column, RecordTableModel, text_color

_STATE_TEXT = {"submitted": "working", "partially_filled": "partly filled", "filled": "filled",
               "cancelled": "cancelled", "rejected": "rejected"}


def fmt_time(value: Any) -> str:
    """UTC time as ``2026-03-02 14:30:05``."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else MISSING


def fmt_time_ms(value: Any) -> str:
    """UTC time to the millisecond, ``2026-03-02 14:30:05.123``."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if isinstance(value, datetime) else MISSING


def fmt_qty(value: Any) -> str:
    return MISSING if not isinstance(value, (int, float)) or value != value else f"{value:g}"


def _state_color(state: Any) -> Any:
    if state == "rejected":
        return text_color("loss")
    if state in ("working", "partly filled"):
        return text_color("stale")
    return None


COLUMNS = (
    Column("placed_at", "Placed (UTC)", fmt_time, numeric=False, tooltip="When the order was placed, UTC"),
    Column("account", "Account", str, numeric=False, max_width=180),
    Column("description", "Contract", str, numeric=False, tooltip="Underlying, expiry, strike, right"),
    Column("action", "Side", str, numeric=False),
    Column("qty", "Qty", fmt_qty, tooltip="Contracts ordered"),
    Column("limit_price", "Limit", fmt_num, tooltip="Limit price, USD per share; — = market"),
    Column("state", "Status", str, numeric=False, color=_state_color,
           tooltip="working = at the broker, not yet filled or cancelled"),
    Column("filled_qty", "Filled", fmt_qty, tooltip="Contracts filled so far"),
    Column("avg_fill_price", "Avg fill", fmt_num, tooltip="Average fill price, USD per share"),
    Column("updated_at", "Updated (UTC)", fmt_time, numeric=False, hidden=True, tooltip="The last status, UTC"),
    Column("message", "Result", str, numeric=False, max_width=320,
           tooltip="The broker's or our rules' answer (hover a cell for all of it)"),
    Column("broker_order_id", "Broker id", str, numeric=False, hidden=True),
    Column("order_ref", "Order ref", str, numeric=False, hidden=True,
           tooltip="Our idempotent client order reference"),
)


class FullTextTableModel(RecordTableModel):
    """Records whose text cells (``numeric=False``) show their whole text as a tooltip (long
    results are elided in the cell)."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.row() < self.rowCount()
                and not self.columns[index.column()].numeric):
            return self.display_text(self.record(index.row()), index.column()) or None
        return super().data(index, role)


def order_record(line: OrderLine) -> dict[str, Any]:
    return {"order_ref": line.order_ref, "placed_at": line.placed_at, "description": line.description or MISSING,
            "action": line.action, "qty": line.qty, "limit_price": line.limit_price,
            "state": _STATE_TEXT.get(line.state, line.state), "working": line.working,
            "filled_qty": line.filled_qty, "avg_fill_price": line.avg_fill_price, "updated_at": line.updated_at,
            "message": line.message, "account": line.account, "broker_order_id": line.broker_order_id}


class OrdersBlotterPanel(QWidget):
    def __init__(self, vm: OrdersBlotterViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.model = FullTextTableModel(COLUMNS, key=lambda r: r["order_ref"], parent=self)
        self.table = record_table(self.model, self, "orders_table")
        self.cancel_button = QPushButton("Cancel order")
        self.cancel_button.setObjectName("orders_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Ask the broker to cancel the selected working order")
        self.modify_button = QPushButton("Modify…")
        self.modify_button.setObjectName("orders_modify")
        self.modify_button.setEnabled(False)
        self.modify_button.setToolTip("Change the quantity or limit price of the selected working order")
        self.status = QLabel("Orders of this and earlier sessions (from the audit log). Paper orders fill or "
                             "are rejected at once, so only a real broker's orders stay working.")
        self.status.setWordWrap(True)
        self.empty = QLabel("No orders yet. Place one from the Scanner or close a position.")
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.modify_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self._lines: dict[str, OrderLine] = {line.order_ref: line for line in vm.order_lines()}
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.modify_button.clicked.connect(self.modify_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_cancel())
        self.model.dataChanged.connect(lambda *_: self._update_cancel())
        self.model.layoutChanged.connect(lambda *_: self._update_cancel())
        vm.order_changed.connect(self._on_vm_order_changed)
        vm.cancel_answered.connect(self._on_vm_cancel_answered)
        vm.modify_answered.connect(self._on_vm_cancel_answered)
        self._show()

    def _on_vm_order_changed(self, line: OrderLine) -> None:
        self._lines.pop(line.order_ref, None)
        self._lines[line.order_ref] = line  # newest activity last
        self._show()

    def _on_vm_cancel_answered(self, order_ref: str, answer: str) -> None:
        line = self._lines.get(order_ref)
        what = line.description if line is not None else order_ref
        set_label(self.status, f"{what}: {answer}")

    def _show(self) -> None:
        self.model.set_records([order_record(line) for line in reversed(self._lines.values())])
        self.empty.setVisible(not self._lines)

    def _update_cancel(self) -> None:
        record = self.table.selected_record()
        self.cancel_button.setEnabled(bool(record and record["working"]))
        self.modify_button.setEnabled(bool(record and record["working"]))

    def cancel_selected(self) -> None:
        """Cancel the selected order if it is working (the broker's answer shows in the status line)."""
        record = self.table.selected_record()
        if record is None or not record["working"]:
            return
        self.cancel_button.setEnabled(False)
        set_label(self.status, f"{record['description']}: asking the broker to cancel…")
        self.vm.cancel(record["order_ref"])

    def modify_selected(self) -> ModifyOrderDialog | None:
        """Open the modify dialog for the selected working order (modal); on OK the view model sends
        the modification and its answer shows in the status line. Returns the dialog (tests)."""
        record = self.table.selected_record()
        if record is None or not record["working"]:
            return None
        dialog = ModifyOrderDialog(record, self)
        dialog.accepted.connect(lambda: self._send_modification(record, dialog))
        dialog.open()
        return dialog

    def _send_modification(self, record: dict[str, Any], dialog: ModifyOrderDialog) -> None:
        qty, limit = dialog.changes()
        if qty is None and limit is None:
            set_label(self.status, f"{record['description']}: nothing changed.")
            return
        set_label(self.status, f"{record['description']}: checking and sending the modification…")
        self.vm.modify(record["order_ref"], qty, limit)


class ModifyOrderDialog(QDialog):
    """New quantity (contracts) and limit price (USD per share) of a working order; the limit box is
    shown for a limit order only. The order rules check the result before it is sent (tick size,
    buying power, covering shares)."""

    def __init__(self, record: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Modify order — {record['description']}")
        self._qty0 = int(record["qty"]) if record["qty"] == record["qty"] else 1
        limit0 = record["limit_price"]
        self._limit0 = float(limit0) if isinstance(limit0, (int, float)) and limit0 == limit0 else None
        filled = record["filled_qty"] if record["filled_qty"] == record["filled_qty"] else 0
        form = QFormLayout(self)
        form.addRow("Order", QLabel(f"{record['action']} {record['description']} ({record['account']})"))
        self.qty = QSpinBox(self)
        self.qty.setObjectName("modify_qty")
        self.qty.setRange(max(1, int(filled)), 100_000)
        self.qty.setValue(self._qty0)
        self.qty.setSuffix(" contracts")
        form.addRow("Quantity", self.qty)
        self.limit = QDoubleSpinBox(self)
        self.limit.setObjectName("modify_limit")
        self.limit.setDecimals(2)
        self.limit.setRange(0.01, 1_000_000.0)
        self.limit.setSingleStep(0.05)
        self.limit.setPrefix("$ ")
        if self._limit0 is not None:
            self.limit.setValue(self._limit0)
            form.addRow("Limit (USD/share)", self.limit)
        else:
            self.limit.hide()
            form.addRow("Limit", QLabel("market order — no limit price"))
        form.addRow(QLabel("The order rules check the modified order before it is sent; the broker's "
                           "answer shows in the Orders dock."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Send modification")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def changes(self) -> tuple[int | None, float | None]:
        """(new qty or None when unchanged, new limit USD per share or None when unchanged/market)."""
        qty = self.qty.value()
        limit = round(self.limit.value(), 2) if self._limit0 is not None else None
        return (qty if qty != self._qty0 else None,
                limit if limit is not None and abs(limit - (self._limit0 or 0.0)) > 1e-9 else None)
