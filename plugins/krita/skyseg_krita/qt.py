"""Krita's Qt binding: PyQt5 in Krita 5, PyQt6 in Krita 6. The plug-in names its classes as
``QtWidgets.QLabel`` and so on, from whichever binding the host has."""

try:
    from PyQt5 import QtCore, QtGui, QtWidgets
except ImportError:  # pragma: no cover - depends on the host
    from PyQt6 import QtCore, QtGui, QtWidgets  # type: ignore[no-redef]

__all__ = ["QtCore", "QtGui", "QtWidgets"]
