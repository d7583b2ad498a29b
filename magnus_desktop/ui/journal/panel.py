"""Journal dock: the journaled decisions with their outcomes, the review (outcome by tag, by setup
and by p_win bucket) and the learned preferences, which change the scanner's filters only when the
trader confirms them ("Apply to scanner…" → "Confirm"), and can be reset to the defaults."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.analytics.journal import Preferences, ReviewRow
from magnus_desktop.models.journal import JournalEntry
from magnus_desktop.ui.journal.view_model import JournalViewModel
from magnus_desktop.widgets.formatting import MISSING, fmt_money, fmt_pct
from magnus_desktop.widgets.table_model import pnl_color

ENTRY_HEADERS = ("Date", "Source", "Action", "Symbol", "Setup", "Thesis", "Tags", "|Δ|", "DTE", "p_win",
                 "Outcome", "Closed")
REVIEW_HEADERS = ("Group", "Entries", "Closed", "Wins", "Win rate", "Total P&L", "Avg P&L")
EMPTY = ("No journal entries yet. Journal a decision from the order ticket (Thesis field, saved when you send or "
         "cancel), from an alert (Journal…) or from an assistant answer (Journal…).")


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return t


def _fill(table: QTableWidget, rows: Sequence[Sequence[object]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, float):
                item = QTableWidgetItem(fmt_money(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                color = pnl_color(value)
                if color is not None:
                    item.setForeground(color)
            else:
                item = QTableWidgetItem(str(value))
            table.setItem(r, c, item)


def entry_row(e: JournalEntry) -> list[object]:
    thesis = e.thesis if len(e.thesis) <= 80 else e.thesis[:79] + "…"
    return [e.trade_date.isoformat(), e.source, e.action, e.symbol or MISSING, e.strategy or MISSING,
            thesis or MISSING, ", ".join(e.tags) or MISSING,
            f"{abs(e.delta):.3f}" if e.delta is not None else MISSING, str(e.dte) if e.dte is not None else MISSING,
            fmt_pct(e.p_win) if e.p_win is not None else MISSING,
            e.outcome_pnl if e.outcome_pnl is not None else ("open" if e.contract_keys else "no position"),
            f"{e.outcome_closed_at:%Y-%m-%d}" if e.outcome_closed_at else MISSING]


def review_row(r: ReviewRow) -> list[object]:
    return [r.key, str(r.entries), str(r.closed), str(r.wins), fmt_pct(r.win_rate),
            r.total_pnl if r.closed else MISSING, r.avg_pnl if not math.isnan(r.avg_pnl) else MISSING]


def describe_preferences(prefs: Preferences) -> str:
    """What the preferences are and what they come from (shown as is)."""
    if not prefs.ready:
        return f"No learned preference yet: {prefs.reason}"
    lines = [f"From {prefs.n} winning journaled trades you sent (entries {', '.join(map(str, prefs.entry_ids[:12]))}"
             + ("…" if len(prefs.entry_ids) > 12 else "") + "), 25th–75th percentile:"]
    if prefs.delta_range is not None:
        lines.append(f"• preferred |delta| {prefs.delta_range[0]:.3f} – {prefs.delta_range[1]:.3f}")
    if prefs.dte_range is not None:
        lines.append(f"• preferred DTE {prefs.dte_range[0]} – {prefs.dte_range[1]} days")
    if prefs.underlyings:
        lines.append("• most traded winners: " + ", ".join(f"{s} ({n})" for s, n in prefs.underlyings)
                     + " (shown only: the scanner has no underlying filter)")
    return "\n".join(lines)


class JournalPanel(QWidget):
    """The Journal dock's content (talks to its view model only)."""

    def __init__(self, vm: JournalViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._prefs: Preferences | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.status = QLabel(EMPTY, objectName="journal_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tabs = QTabWidget(objectName="journal_tabs")
        self.entries = _table("journal_entries", ENTRY_HEADERS)
        self.tabs.addTab(self.entries, "Entries")
        review = QWidget()
        rl = QHBoxLayout(review)
        rl.setContentsMargins(0, 0, 0, 0)
        self.by_tag = _table("journal_by_tag", REVIEW_HEADERS)
        self.by_setup = _table("journal_by_setup", REVIEW_HEADERS)
        self.by_p_win = _table("journal_by_p_win", REVIEW_HEADERS)
        for title, table in (("By tag", self.by_tag), ("By setup", self.by_setup), ("By p_win", self.by_p_win)):
            col = QVBoxLayout()
            col.addWidget(QLabel(f"<b>{title}</b>"))
            col.addWidget(table)
            rl.addLayout(col)
        self.tabs.addTab(review, "Review")
        prefs = QWidget()
        pl = QVBoxLayout(prefs)
        self.prefs_label = QLabel(objectName="journal_preferences")
        self.prefs_label.setWordWrap(True)
        self.prefs_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pl.addWidget(self.prefs_label)
        buttons = QHBoxLayout()
        self.apply_button = QPushButton("Apply to scanner…", objectName="journal_apply")
        self.apply_button.setToolTip("Shows the scanner filters this would change; nothing changes until you confirm")
        self.apply_button.clicked.connect(self.propose)
        self.confirm_button = QPushButton("Confirm: set these filters", objectName="journal_confirm")
        self.confirm_button.setVisible(False)
        self.confirm_button.clicked.connect(self.confirm)
        self.reset_button = QPushButton("Reset scanner filters", objectName="journal_reset")
        self.reset_button.setToolTip("Put the scanner's |delta| and DTE filters back to their defaults")
        self.reset_button.clicked.connect(vm.reset_scanner)
        self.link_button = QPushButton("Link outcomes now", objectName="journal_link")
        self.link_button.clicked.connect(vm.link_now)
        for b in (self.apply_button, self.confirm_button, self.reset_button, self.link_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        pl.addLayout(buttons)
        self.prefs_message = QLabel(objectName="journal_preferences_message")
        self.prefs_message.setWordWrap(True)
        pl.addWidget(self.prefs_message)
        pl.addStretch(1)
        self.tabs.addTab(prefs, "Learned preferences")
        layout.addWidget(self.tabs, 1)
        vm.entries_changed.connect(self.show_entries)
        vm.message.connect(self._on_message)
        self.show_entries(vm.entries())

    def show_entries(self, entries: list[JournalEntry]) -> None:
        closed = sum(1 for e in entries if e.closed)
        self.status.setText(EMPTY if not entries else
                            f"{len(entries)} journal entr{'y' if len(entries) == 1 else 'ies'}, {closed} with an "
                            "outcome (linked automatically when the position closes; P&L in the account's base currency).")
        _fill(self.entries, [entry_row(e) for e in entries])
        review = self._vm.review(entries)
        _fill(self.by_tag, [review_row(r) for r in review["tag"]])
        _fill(self.by_setup, [review_row(r) for r in review["setup"]])
        _fill(self.by_p_win, [review_row(r) for r in review["p_win"]])
        self._prefs = self._vm.preferences()
        self.prefs_label.setText(describe_preferences(self._prefs))
        self.apply_button.setEnabled(self._prefs.ready)
        self.confirm_button.setVisible(False)

    def propose(self) -> None:
        """Show what "Apply" would change; the Confirm button applies it."""
        if self._prefs is None or not self._prefs.ready:
            return
        changes = self._vm.scanner_changes(self._prefs)
        self.prefs_message.setText("This sets the scanner filters: " + "; ".join(
            f"{k}: {cur:g} → {new:g}" for k, (cur, new) in changes.items()) + ". Confirm to apply.")
        self.confirm_button.setVisible(True)

    def confirm(self) -> None:
        self.confirm_button.setVisible(False)
        if self._prefs is not None:
            self._vm.apply_preferences(self._prefs)

    def _on_message(self, text: str) -> None:
        self.prefs_message.setText(text)
        if text.startswith("The journal entry"):  # a failed save: say it where the trader looks
            self.status.setText(text)
