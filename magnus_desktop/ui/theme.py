"""Light and dark themes (Fusion style + palette); charts follow via ``chart_colors``."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_DARK = {
    QPalette.ColorRole.Window: "#1f2227",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#17191d",
    QPalette.ColorRole.AlternateBase: "#22262c",
    QPalette.ColorRole.ToolTipBase: "#2b2f36",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#2b2f36",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.Highlight: "#2f6db5",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8a8f98",
    QPalette.ColorRole.Link: "#6aa7ff",
}


def relative_luminance(color: str | QColor) -> float:
    """WCAG 2.x relative luminance of an sRGB colour, 0 (black) .. 1 (white).

    Source: https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
    """
    c = QColor(color)

    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast_ratio(foreground: str | QColor, background: str | QColor) -> float:
    """WCAG contrast ratio, 1 .. 21; AA asks >= 4.5 for text (>= 3 for large text and graphics).

    Source: https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio
    """
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def apply_theme(app: QApplication, theme: str) -> None:
    """Apply ``"light"`` or ``"dark"`` to the whole application."""
    app.setStyle("Fusion")
    if theme == "dark":
        palette = QPalette()
        for role, color in _DARK.items():
            palette.setColor(role, QColor(color))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b7078"))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7078"))
    else:
        palette = app.style().standardPalette()
    app.setPalette(palette)
    app.setProperty("magnus_theme", theme)


def chart_colors(theme: str) -> dict[str, str]:
    """Background, foreground and series colours for pyqtgraph charts."""
    if theme == "dark":
        return {"bg": "#17191d", "fg": "#c8c8c8", "line": "#4fa3ff", "line2": "#f0ad4e", "zero": "#555a62"}
    return {"bg": "#ffffff", "fg": "#333333", "line": "#1f5fbf", "line2": "#c7780a", "zero": "#bbbbbb"}
