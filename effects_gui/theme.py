"""The editor's look: Qt's Fusion style with a neutral dark palette, as photo editors use (a
grey surround does not bias how the photo's colours are judged)."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QToolTip, QWidget

_ROLES = {
    "Window": (45, 45, 48),
    "WindowText": (222, 222, 222),
    "Base": (32, 32, 34),
    "AlternateBase": (50, 50, 53),
    "ToolTipBase": (58, 58, 62),
    "ToolTipText": (235, 235, 235),
    "PlaceholderText": (130, 130, 130),
    "Text": (222, 222, 222),
    "Button": (56, 56, 60),
    "ButtonText": (222, 222, 222),
    "BrightText": (255, 90, 80),
    "Link": (90, 160, 230),
    "Highlight": (62, 120, 190),
    "HighlightedText": (255, 255, 255),
    "Light": (75, 75, 80),
    "Midlight": (62, 62, 66),
    "Mid": (40, 40, 43),
    "Dark": (28, 28, 30),
    "Shadow": (15, 15, 16),
}
_DISABLED = {
    "WindowText": (120, 120, 120),
    "Text": (120, 120, 120),
    "ButtonText": (120, 120, 120),
    "Highlight": (70, 70, 74),
    "HighlightedText": (160, 160, 160),
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for name, rgb in _ROLES.items():
        palette.setColor(getattr(QPalette.ColorRole, name), QColor(*rgb))
    for name, rgb in _DISABLED.items():
        palette.setColor(
            QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, name), QColor(*rgb)
        )
    return palette


def apply_dark_theme(app) -> None:
    """Fusion with the dark palette, for the whole application."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())


WRAP_TOOLTIPS_OVER = 60
"""Plain tool tips longer than this many characters are shown as wrapped paragraphs."""


class WrappedToolTips(QObject):
    """Shows every long plain tool tip of the application as a paragraph, which Qt wraps
    (a plain one is a single line as wide as its text). The widgets keep their plain text."""

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(watched, QWidget):
            text = watched.toolTip()
            if len(text) > WRAP_TOOLTIPS_OVER and not Qt.mightBeRichText(text):
                QToolTip.showText(event.globalPos(), wrapped(text), watched)
                return True
        return False


def wrapped(text: str) -> str:
    """``text`` as a paragraph Qt wraps in a tool tip."""
    import html

    return f"<p>{html.escape(text)}</p>"


_tooltips: WrappedToolTips | None = None


def wrap_tooltips(app) -> WrappedToolTips:
    """Install :class:`WrappedToolTips` on ``app`` (once)."""
    global _tooltips
    if _tooltips is None:
        _tooltips = WrappedToolTips(app)
        app.installEventFilter(_tooltips)
    return _tooltips
