"""The tint's gradient editor: a bar of colour stops the user adds, drags, recolours and removes
(the control :class:`effects_gui.controls.ParamControl` shows for a field of colour stops)."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QColorDialog, QWidget


class GradientEditor(QWidget):
    """A gradient bar with stop handles: click the bar to add a stop, drag a handle to move
    it, double-click it to change its colour, right-click it to remove it (two stay)."""

    stopsChanged = pyqtSignal(tuple)
    stepStarted = pyqtSignal()  # a new action (add, remove, recolour, start of a drag)
    HANDLE = 7

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stops: list[tuple[float, tuple[int, int, int]]] = [
            (0.0, (0, 0, 0)),
            (1.0, (255, 255, 255)),
        ]
        self._drag: int | None = None
        self.setMinimumSize(160, 44)
        self.setToolTip(
            "Click to add a stop, drag to move it, double-click to pick its colour, "
            "right-click to remove it"
        )

    def sizeHint(self) -> QSize:
        return QSize(220, 44)

    def set_stops(self, stops) -> None:
        self.stops = [(float(p), tuple(int(c) for c in rgb)) for p, rgb in stops]
        self.update()

    def _bar(self) -> QRectF:
        m = self.HANDLE + 1
        return QRectF(m, 2, self.width() - 2 * m, self.height() - 2 * self.HANDLE - 6)

    def _x(self, pos: float) -> float:
        bar = self._bar()
        return bar.left() + pos * bar.width()

    def _stop_at(self, x: float) -> int | None:
        best = min(range(len(self.stops)), key=lambda i: abs(self._x(self.stops[i][0]) - x))
        return best if abs(self._x(self.stops[best][0]) - x) <= self.HANDLE + 2 else None

    def _colour_at(self, pos: float) -> tuple[int, int, int]:
        stops = sorted(self.stops)
        for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
            if p0 <= pos <= p1:
                t = 0.0 if p1 == p0 else (pos - p0) / (p1 - p0)
                return tuple(round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
        return stops[0][1] if pos < stops[0][0] else stops[-1][1]

    def _emit(self) -> None:
        self.stopsChanged.emit(tuple(sorted(self.stops)))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = self._bar()
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, rgb in self.stops:
            gradient.setColorAt(pos, QColor(*rgb))
        painter.fillRect(bar, QBrush(gradient))
        painter.setPen(QPen(QColor(90, 90, 90)))
        painter.drawRect(bar)
        for pos, rgb in self.stops:
            x, top = self._x(pos), bar.bottom() + 2
            tri = QPolygonF(
                [
                    QPointF(x, top),
                    QPointF(x - self.HANDLE, top + 2 * self.HANDLE),
                    QPointF(x + self.HANDLE, top + 2 * self.HANDLE),
                ]
            )
            painter.setBrush(QColor(*rgb))
            painter.setPen(QPen(QColor(230, 230, 230), 1.2))
            painter.drawPolygon(tri)

    def _pos(self, x: float) -> float:
        bar = self._bar()
        return min(1.0, max(0.0, (x - bar.left()) / max(bar.width(), 1.0)))

    def mousePressEvent(self, event) -> None:
        x = event.position().x()
        index = self._stop_at(x)
        self.stepStarted.emit()
        if event.button() == Qt.MouseButton.RightButton:
            if index is not None and len(self.stops) > 2:
                del self.stops[index]
                self.update()
                self._emit()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if index is None:
            pos = self._pos(x)
            self.stops.append((pos, self._colour_at(pos)))
            index = len(self.stops) - 1
            self.update()
            self._emit()
        self._drag = index

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self.stops[self._drag] = (self._pos(event.position().x()), self.stops[self._drag][1])
            self.update()
            self._emit()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:
        index = self._stop_at(event.position().x())
        if index is None:
            return
        pos, rgb = self.stops[index]
        colour = QColorDialog.getColor(QColor(*rgb), self, "Gradient stop colour")
        if colour.isValid():
            self.stepStarted.emit()
            self.stops[index] = (pos, (colour.red(), colour.green(), colour.blue()))
            self.update()
            self._emit()
