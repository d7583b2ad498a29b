"""Persistent banners across the top of the main window: problems the trader must not miss.

A banner stays until its cause is gone or the trader dismisses it (a status-bar message vanishes
after seconds and is cut off). Each has a key, so raising the same problem again replaces it, a
level (``warning``/``error``) and optional actions (buttons that run a callback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from magnus_desktop.services.redact import mask_secrets

Level = Literal["warning", "error"]
BannerAction = tuple[str, Callable[[], object]]

_STYLE = {
    # text / background / border: contrast of text on background >= 7:1 in both themes
    "warning": "QFrame#banner { background: #fff4d6; border: 1px solid #c7780a; } QLabel { color: #3d2a00; }",
    "error": "QFrame#banner { background: #fde2e1; border: 1px solid #b3261e; } QLabel { color: #5c0a06; }",
}


class Banner(QFrame):
    """One banner: a wrapped message and action buttons (the last one may dismiss it)."""

    def __init__(self, key: str, text: str, level: Level, actions: Sequence[BannerAction],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("banner")
        self.setStyleSheet(_STYLE[level])
        self.label = QLabel(mask_secrets(text))
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setObjectName("banner_text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        for title, callback in actions:
            button = QPushButton(title)
            button.clicked.connect(lambda _checked=False, cb=callback: cb())
            row.addWidget(button)
            self.buttons[title] = button

    def text(self) -> str:
        return self.label.text()


class BannerBar(QToolBar):
    """The banners' row: a non-movable toolbar on its own line under the menus (hidden when empty)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Notices", parent)
        self.setObjectName("toolbar_banners")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        holder = QWidget(self)
        self._column = QVBoxLayout(holder)
        self._column.setContentsMargins(2, 2, 2, 2)
        self._column.setSpacing(2)
        holder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(holder)
        self.banners: dict[str, Banner] = {}
        self.setVisible(False)

    def show_banner(self, key: str, text: str, level: Level = "warning",
                    actions: Sequence[BannerAction] = ()) -> Banner:
        """Show (or replace) the banner ``key``."""
        self.remove_banner(key)
        banner = Banner(key, text, level, actions)
        self._column.addWidget(banner)
        self.banners[key] = banner
        self.setVisible(True)
        return banner

    def remove_banner(self, key: str) -> None:
        banner = self.banners.pop(key, None)
        if banner is not None:
            self._column.removeWidget(banner)
            banner.deleteLater()
        self.setVisible(bool(self.banners))
