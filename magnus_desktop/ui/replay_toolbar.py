"""Replay controls: play/pause, step a day back/forward, speed, jump to a date.

The buttons carry drawn icons (``widgets.icons``) in the palette's button-text colour, never font
glyphs such as ▶ or ⏸: a font without them (Xvfb, minimal Linux installs) shows an empty box.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import QComboBox, QDateEdit, QLabel, QToolBar, QWidget

from magnus_desktop.ui.app_view_model import AppViewModel
from magnus_desktop.widgets.icons import media_icon

SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)


class ReplayToolbar(QToolBar):
    def __init__(self, vm: AppViewModel, parent: QWidget | None = None) -> None:
        super().__init__("Replay", parent)
        self.setObjectName("toolbar_replay")
        self.vm = vm
        self.addWidget(QLabel(" Replay (recorded EOD data) "))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_action = self._action("Day", "step_back", "Step back one trading day", "Ctrl+Left", lambda: vm.step(-1))
        self.play_action = self._action("Play", "play", "Play / pause the replay", "Space", self._toggle)
        self.forward_action = self._action("Day", "step_forward", "Step forward one trading day", "Ctrl+Right",
                                           lambda: vm.step(1))
        self.addSeparator()
        self.addWidget(QLabel(" Speed "))
        self.speed = QComboBox(self)
        self.speed.setObjectName("replay_speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g} days/s", s)
        self.show_speed(vm.replay_speed)
        self.speed.currentIndexChanged.connect(lambda _i: vm.set_speed(float(self.speed.currentData())))
        self.addWidget(self.speed)
        self.addSeparator()
        self.addWidget(QLabel(" Date "))
        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("replay_date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.editingFinished.connect(self._on_date_edited)
        self.addWidget(self.date_edit)
        self.day_label = QLabel("")
        self.addWidget(self.day_label)
        self.goto_action = QAction("Go to date…", self)  # menu only: the date box is on the toolbar
        self.goto_action.triggered.connect(self.focus_date)
        vm.date_changed.connect(self._on_vm_date_changed)
        vm.playing_changed.connect(self._on_vm_playing_changed)
        vm.settings_applied.connect(lambda settings: self.show_speed(settings.replay_speed))

    def _action(self, text: str, icon: str, tip: str, shortcut: str, slot: object) -> QAction:
        action = QAction(text if icon == "play" else tip, self)  # the menu shows the text,
        action.setIconText(text)  # the button its short icon text ("Day" beside an arrow)
        action.setProperty("icon_kind", icon)
        action.setProperty("tip", tip)
        action.setIcon(self._icon(icon))
        action.setToolTip(f"{tip} ({shortcut})")
        action.setShortcut(QKeySequence(shortcut))
        action.changed.connect(lambda: self._show_shortcut(action))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    @staticmethod
    def _show_shortcut(action: QAction) -> None:
        """The tool tip names the current shortcut (it can be changed in Settings → Shortcuts)."""
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        tip = str(action.property("tip"))
        text = f"{tip} ({key})" if key else tip
        if action.toolTip() != text:
            action.setToolTip(text)

    def menu_actions(self) -> list[tuple[str, str, QAction, str]]:
        """(id, menu text, action, default shortcut) of the Replay menu (the same actions as the buttons)."""
        return [("replay.step_back", "Step back one trading day", self.back_action, "Ctrl+Left"),
                ("replay.play", "Play / pause the replay", self.play_action, "Space"),
                ("replay.step_forward", "Step forward one trading day", self.forward_action, "Ctrl+Right"),
                ("replay.go_to_date", "Go to date…", self.goto_action, "Ctrl+G")]

    def focus_date(self) -> None:
        """Replay → Go to date (Ctrl+G): the keyboard goes to the date box (type a date, Enter)."""
        self.date_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.date_edit.selectAll()

    def show_speed(self, days_per_second: float) -> None:
        """Select ``days_per_second`` in the speed list (added if missing, e.g. set in Settings)."""
        index = self.speed.findData(days_per_second)
        if index < 0:  # a speed typed in Settings that the list does not have
            self.speed.addItem(f"{days_per_second:g} days/s", days_per_second)
            index = self.speed.count() - 1
        self.speed.blockSignals(True)
        self.speed.setCurrentIndex(index)
        self.speed.blockSignals(False)

    def set_range(self, first: date, last: date) -> None:
        self.date_edit.setDateRange(QDate(first.year, first.month, first.day), QDate(last.year, last.month, last.day))

    def _toggle(self) -> None:
        if self.vm.is_playing():
            self.vm.pause()
        else:
            self.vm.play()

    def _on_date_edited(self) -> None:
        d = self.date_edit.date()
        self.vm.jump(date(d.year(), d.month(), d.day()))

    def _on_vm_date_changed(self, day: date) -> None:
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.date_edit.blockSignals(False)
        days = self.vm.replay_days()
        if day in days:
            self.day_label.setText(f"  {day:%a %d %b %Y} · day {days.index(day) + 1} of {len(days)}")

    def _on_vm_playing_changed(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIconText("Pause" if playing else "Play")
        self.play_action.setProperty("icon_kind", "pause" if playing else "play")
        self.play_action.setIcon(self._icon("pause" if playing else "play"))

    def _icon(self, kind: str) -> QIcon:
        return media_icon(kind, self.palette().color(QPalette.ColorRole.ButtonText))

    def changeEvent(self, event: QEvent) -> None:
        """Redraw the icons in the new text colour when the theme (palette) changes."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "forward_action"):
            for action in (self.back_action, self.play_action, self.forward_action):
                action.setIcon(self._icon(str(action.property("icon_kind"))))
        super().changeEvent(event)
