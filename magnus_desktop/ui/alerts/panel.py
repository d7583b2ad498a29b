"""The Alerts dock: a sortable list coloured by priority, the unread count on the dock tab, a
detail pane with the facts and action buttons, and keyboard triage (j/k move, a acknowledge,
s snooze 1 h, d dismiss, Enter open). The triage keys are ``QAction`` shortcuts that work while the
keyboard is in the dock; the window lists them in its Alerts menu (:meth:`AlertsPanel.panel_actions`)
and Settings → Shortcuts can change them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.models.alerts import ACTION_LABELS, Alert, Priority
from magnus_desktop.models.domain import OptionContract
from magnus_desktop.ui.actions import PanelAction, panel_action
from magnus_desktop.ui.alerts.view_model import AlertsViewModel
from magnus_desktop.ui.journal.dialog import JournalDialog
from magnus_desktop.ui.orders.ticket import OrderTicketDialog, replace_ticket
from magnus_desktop.ui.tables import record_table
from magnus_desktop.widgets.docking import enclosing_dock, show_dock
from magnus_desktop.widgets.labels import set_label
from magnus_desktop.widgets.table_model import Column, RecordTableModel

TITLE = "Alerts"
_PRIORITY_COLORS = {Priority.CRITICAL: "#e5484d", Priority.HIGH: "#f08c00", Priority.MEDIUM: "#3b82f6",
                    Priority.LOW: "#8b949e"}
#: where an action that is not a ticket takes the trader
_ACTION_DOCKS = {"open_position": "dock_positions", "open_ticket": "dock_scanner", "open_chart": "dock_dashboard"}


def _priority_color(value: Any) -> QColor | None:
    try:
        return QColor(_PRIORITY_COLORS[Priority(value)])
    except (KeyError, ValueError):
        return None


COLUMNS = (
    Column("priority", "Priority", lambda p: Priority(p).name, numeric=False, color=_priority_color),
    Column("day", "Day", str, numeric=False),
    Column("monitor", "Monitor", str, numeric=False),
    Column("subject", "Subject", str, numeric=False),
    Column("title", "Alert", str, numeric=False, max_width=420),
    Column("state", "State", str, numeric=False),
)


def alert_record(a: Alert) -> dict[str, Any]:
    """One table row; ``priority`` is the ``Priority`` (sorts by urgency, shows its name)."""
    return {"id": a.alert_id, "priority": a.priority, "day": a.day.isoformat(), "monitor": a.monitor,
            "subject": a.subject.strip(), "title": a.title, "state": a.state, "alert": a}


class AlertsPanel(QWidget):
    def __init__(self, vm: AlertsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vm = vm
        self.ticket_dialog: OrderTicketDialog | None = None
        #: the tray icon notifying for this dock (set by the dock factory)
        self.tray: object | None = None
        self.unread = 0
        self._problems: tuple[str, ...] = ()
        self._tray_note = ""
        self.model = RecordTableModel(COLUMNS, key=lambda r: r["id"], parent=self)
        self.table = record_table(self.model, self, "alerts_table")
        self.table.setSelectionMode(self.table.SelectionMode.SingleSelection)
        self._triage = self._triage_actions()
        self.header = QLabel("No alerts yet: the monitors run on every replay day and on their schedule.")
        self.header.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setObjectName("alerts_problems")
        self.problems.setStyleSheet("color: palette(placeholder-text);")
        self.detail_title = QLabel("Select an alert (j/k to move, a acknowledge, s snooze 1 h, d dismiss, Enter open).")
        self.detail_title.setWordWrap(True)
        self.detail_facts = QLabel()
        self.detail_facts.setWordWrap(True)
        self.detail_facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.buttons = QHBoxLayout()
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.addWidget(self.detail_title)
        dl.addWidget(self.detail_facts, 1)
        dl.addLayout(self.buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 440])
        self.model.sort(1, Qt.SortOrder.DescendingOrder)  # newest first
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.problems)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show_detail(cur.row()))
        self.table.activated.connect(lambda index: self.open_alert(index.row()))
        # the list follows the model's own (throttled) flush: a burst of alerts is not laid out, measured
        # and painted in the same turn of the event loop that built its records (bench_alerts: burst)
        self._after_flush_timer = QTimer(self)
        self._after_flush_timer.setSingleShot(True)
        self._after_flush_timer.setInterval(0)
        self._after_flush_timer.timeout.connect(self._on_model_flushed)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.layoutChanged,
                       self.model.dataChanged, self.model.modelReset):
            signal.connect(lambda *_args: self._after_flush_timer.start())
        vm.alerts_changed.connect(self._on_vm_alerts_changed)
        vm.unread_changed.connect(self._on_vm_unread_changed)
        vm.problems_changed.connect(self._on_vm_problems_changed)
        vm.republish()

    # ---- list ------------------------------------------------------------------------------------
    def _on_vm_alerts_changed(self, alerts: tuple[Alert, ...]) -> None:
        self.model.set_records([alert_record(a) for a in alerts])  # shown on the model's next flush
        if alerts:
            unread = sum(1 for a in alerts if a.state == "new")
            set_label(self.header, f"{len(alerts)} alert(s), {unread} unread — newest in the replay at "
                                   f"{max(a.day for a in alerts)}. Click a column title to sort.")

    def _on_model_flushed(self) -> None:
        """The rows changed: keep a current row and show its detail (state, facts, buttons)."""
        if self.model.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._show_detail(self.table.currentIndex().row())

    def _on_vm_unread_changed(self, count: int) -> None:
        self.unread = count
        dock = enclosing_dock(self)
        if dock is not None:
            dock.setWindowTitle(f"{TITLE} ({count})" if count else TITLE)

    def _on_vm_problems_changed(self, problems: tuple[str, ...]) -> None:
        self._problems = tuple(problems)
        self.problems.setText("\n".join((self._tray_note, *problems) if self._tray_note else problems))

    def set_tray_note(self, note: str) -> None:
        """Say once, above the other problems, that there is no system tray (alerts stay here)."""
        self._tray_note = note
        self._on_vm_problems_changed(self._problems)

    def current_alert(self) -> Alert | None:
        record = self.table.record_at(self.table.currentIndex().row())
        return None if record is None else record["alert"]

    # ---- detail -----------------------------------------------------------------------------------
    def _show_detail(self, row: int) -> None:
        while self.buttons.count():
            item = self.buttons.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        record = self.table.record_at(row) if row >= 0 else None
        if record is None:
            self.detail_facts.setText("")
            return
        alert: Alert = record["alert"]
        self.detail_title.setText(f"<b style='color:{_PRIORITY_COLORS[alert.priority]}'>{alert.priority.name}</b> "
                                  f"· {alert.monitor} · {alert.day} · {alert.state}<br>{alert.title}")
        self.detail_facts.setText("\n".join(f"• {f.text()}" for f in alert.facts))
        for action in alert.actions:
            button = QPushButton(ACTION_LABELS.get(action, action))
            button.setObjectName(f"alert_action_{action}")
            button.clicked.connect(lambda _=False, a=action: self.run_action(a))
            self.buttons.addWidget(button)
        for text, slot in (("Acknowledge (a)", self.acknowledge), ("Snooze 1 h (s)", self.snooze),
                           ("Dismiss (d)", self.dismiss), ("Journal…", self.journal_current)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)

    # ---- triage -----------------------------------------------------------------------------------
    def _triage_actions(self) -> list[PanelAction]:
        """One action per triage key; its shortcut works while the keyboard is in this dock."""
        return [panel_action(self, action_id, "Alerts", text, key, slot) for action_id, text, key, slot in (
            ("alerts.next", "Next alert", "J", lambda: self.move_selection(1)),
            ("alerts.previous", "Previous alert", "K", lambda: self.move_selection(-1)),
            ("alerts.acknowledge", "Acknowledge alert", "A", self.acknowledge),
            ("alerts.snooze", "Snooze alert 1 h", "S", self.snooze),
            ("alerts.dismiss", "Dismiss alert", "D", self.dismiss),
            ("alerts.open", "Open alert (first action)", "Return", self.open_current))]

    def panel_actions(self) -> list[PanelAction]:
        """The triage actions for the window's Alerts menu (shortcuts local to this dock)."""
        return list(self._triage)

    def move_selection(self, step: int) -> None:
        rows = self.model.rowCount()
        if rows:
            row = min(max(self.table.currentIndex().row() + step, 0), rows - 1)
            self.table.setCurrentIndex(self.table.model().index(row, 0))

    def _ids(self) -> list[int]:
        alert = self.current_alert()
        return [] if alert is None else [alert.alert_id]

    def acknowledge(self) -> None:
        if ids := self._ids():
            self.vm.acknowledge(ids)

    def snooze(self) -> None:
        if ids := self._ids():
            self.vm.snooze(ids)

    def dismiss(self) -> None:
        if ids := self._ids():
            self.vm.dismiss(ids)

    def journal_current(self) -> JournalDialog | None:
        """The "Journal…" dialog of the current alert (its facts shown; saved with a thesis and tags)."""
        alert = self.current_alert()
        if alert is None:
            return None
        self.journal_dialog = JournalDialog(self, alert.title, [f.text() for f in alert.facts],
                                            lambda thesis, tags: self.vm.journal_alert(alert, thesis, tags))
        self.journal_dialog.open()
        return self.journal_dialog

    def open_current(self) -> None:
        self.open_alert(self.table.currentIndex().row())

    def open_alert(self, row: int) -> None:
        """Enter / double-click: the alert's first suggested action."""
        record = self.table.record_at(row)
        if record is not None and record["alert"].actions:
            self.run_action(record["alert"].actions[0])

    def focus_alerts(self) -> None:
        """Raise the dock and put the keyboard in the list (then j/k/a/s/d/Enter work)."""
        self._raise_dock("dock_alerts")
        self.table.setFocus()
        if not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.selectRow(0)

    def select_alert(self, alert_id: int) -> bool:
        """Make ``alert_id`` current (a tray notification was clicked)."""
        for row in range(self.model.rowCount()):
            if self.table.record_at(row)["id"] == alert_id:  # type: ignore[index]
                self.table.setCurrentIndex(self.table.model().index(row, 0))
                self.table.setFocus()
                return True
        return False

    def run_action(self, action: str) -> None:
        """close/roll: a closing ticket for the position; the others raise the dock that does it."""
        alert = self.current_alert()
        if alert is None:
            return
        if action in ("close", "roll"):
            self._close_ticket(alert)
        if action == "roll":
            self._raise_dock("dock_scanner")  # the new expiry is picked in the scanner
        elif action in _ACTION_DOCKS:
            self._raise_dock(_ACTION_DOCKS[action])

    def _close_ticket(self, alert: Alert) -> None:
        summary = self.vm.orders.last_summary()
        position = next((p for p in (summary.positions if summary else ())
                         if isinstance(p.contract, OptionContract) and p.contract.local_symbol == alert.subject), None)
        if position is None or not isinstance(position.contract, OptionContract):
            set_label(self.header, f"{alert.subject.strip()} is no longer held: nothing to close.")
            return
        self.ticket_dialog = replace_ticket(self.ticket_dialog, self.vm.orders, position.contract,
                                            "BUY" if position.qty < 0 else "SELL", abs(position.qty), self, closing=True)

    def _raise_dock(self, dock_id: str) -> None:
        window = self.window()
        dock = window.findChild(QDockWidget, dock_id) if isinstance(window, QMainWindow) else None
        if dock is not None:
            show_dock(dock)
