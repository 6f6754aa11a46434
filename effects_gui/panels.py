"""Side panels: brush, sky, tint and relight controls. They show the model and forward edits."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QIcon, QLinearGradient, QPainter, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from . import _effects

SKY_SLIDERS = (
    # key, label, minimum, maximum, tooltip
    ("shift_edge", "Shift edge", -3.0, 3.0, "Grow (+) or shrink (−) the sky region, in % of the photo's longer side"),
    ("fade_edge", "Fade edge", 0.0, 3.0, "Feather the border between the new sky and the photo, in % of the longer side"),
    ("color_match", "Colour match", 0.0, 1.0, "Harmonise the foreground's colour and tone with the new sky"),
    ("halo", "Halo", 0.0, 1.0, "Let the new sky's light spill over the horizon"),
    ("defocus", "Defocus", 0.0, 2.0, "Blur the new sky: 1 matches the original sky's blur"),
    ("scale", "Sky scale", 1.0, 3.0, "Enlarge the new sky"),
)


class LabeledSlider(QWidget):
    """A horizontal slider over a float range with its value shown; emits ``valueChanged(float)``."""

    valueChanged = pyqtSignal(float)
    STEPS = 200

    def __init__(self, minimum: float, maximum: float, value: float = 0.0, decimals: int = 2,
                 suffix: str = "", parent=None):
        super().__init__(parent)
        self.minimum, self.maximum, self.decimals, self.suffix = minimum, maximum, decimals, suffix
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.slider.setPageStep(self.STEPS // 10)
        self.label = QLabel()
        self.label.setMinimumWidth(48)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._changed)
        self.setValue(value)

    def value(self) -> float:
        return self.minimum + (self.maximum - self.minimum) * self.slider.value() / self.STEPS

    def setValue(self, value: float) -> None:
        span = (self.maximum - self.minimum) or 1.0
        self.slider.blockSignals(True)
        self.slider.setValue(round((float(value) - self.minimum) / span * self.STEPS))
        self.slider.blockSignals(False)
        self._show(float(value))

    def _show(self, value: float) -> None:
        self.label.setText(f"{value:.{self.decimals}f}{self.suffix}")

    def _changed(self, _steps: int) -> None:
        value = round(self.value(), 6)
        self._show(value)
        self.valueChanged.emit(value)


class GradientEditor(QWidget):
    """A gradient bar with stop handles: click the bar to add a stop, drag a handle to move
    it, double-click it to change its colour, right-click it to remove it (two stay)."""

    stopsChanged = pyqtSignal(tuple)
    stepStarted = pyqtSignal()  # a new action (add, remove, recolour, start of a drag)
    HANDLE = 7

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stops: list[tuple[float, tuple[int, int, int]]] = [(0.0, (0, 0, 0)), (1.0, (255, 255, 255))]
        self._drag: int | None = None
        self.setMinimumSize(160, 44)
        self.setToolTip("Click to add a stop, drag to move it, double-click to pick its colour, "
                        "right-click to remove it")

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
            tri = QPolygonF([QPointF(x, top), QPointF(x - self.HANDLE, top + 2 * self.HANDLE),
                             QPointF(x + self.HANDLE, top + 2 * self.HANDLE)])
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


def _form() -> tuple[QWidget, QFormLayout]:
    widget = QWidget()
    form = QFormLayout(widget)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return widget, form


def _hint(text: str) -> QLabel:
    """A grey, wrapped line of help under a panel's controls."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: gray")
    return label


class BrushPanel(QWidget):
    """Brush mode, size, hardness, edge-aware; overlay opacity."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        modes = QHBoxLayout()
        self.add_button = QRadioButton("Add sky")
        self.remove_button = QRadioButton("Remove sky")
        modes.addWidget(self.add_button)
        modes.addWidget(self.remove_button)
        layout.addLayout(modes)
        form_widget, form = _form()
        self.size = LabeledSlider(1, 300, model.brush.radius, 0, " px")
        self.hardness = LabeledSlider(0, 1, model.brush.hardness)
        self.edge_aware = QCheckBox("Follow edges")
        self.edge_aware.setToolTip("Re-run the edge-aware refinement under each stroke, so a rough "
                                   "stroke along a tree line snaps to it")
        self.opacity = LabeledSlider(0, 1, model.view.opacity)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("", self.edge_aware)
        form.addRow("Overlay", self.opacity)
        layout.addWidget(form_widget)
        hint = _hint("B: add sky   E: remove sky   [ ]: size   O: overlay   \\: before/after")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.add_button.toggled.connect(lambda on: on and model.set_brush(add=True, tool="brush"))
        self.remove_button.toggled.connect(lambda on: on and model.set_brush(add=False, tool="brush"))
        self.size.valueChanged.connect(lambda v: model.set_brush(radius=v))
        self.hardness.valueChanged.connect(lambda v: model.set_brush(hardness=v))
        self.edge_aware.toggled.connect(lambda on: model.set_brush(edge_aware=on))
        self.opacity.valueChanged.connect(lambda v: model.set_view(opacity=v))
        model.brushChanged.connect(self.refresh)
        model.viewChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        brush = self.model.brush
        for widget, value in ((self.add_button, brush.add), (self.remove_button, not brush.add),
                              (self.edge_aware, brush.edge_aware)):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        self.size.setValue(brush.radius)
        self.hardness.setValue(brush.hardness)
        self.opacity.setValue(self.model.view.opacity)


class SkyPanel(QWidget):
    """Palette of bundled skies, open/remove, and the replacement sliders."""

    skyRequested = pyqtSignal(object)  # a path or preset name
    openSkyRequested = pyqtSignal()
    THUMB = QSize(84, 52)

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        self.palette = QListWidget()
        self.palette.setObjectName("skyPalette")
        self.palette.setViewMode(QListWidget.ViewMode.IconMode)
        self.palette.setIconSize(self.THUMB)
        self.palette.setGridSize(QSize(self.THUMB.width() + 8, self.THUMB.height() + 24))
        self.palette.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.palette.setMovement(QListWidget.Movement.Static)
        self.palette.setMinimumHeight(2 * (self.THUMB.height() + 26) + 8)
        self.palette.setToolTip("Click a sky to put it in; or drop any image file on the photo")
        layout.addWidget(self.palette)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Sky from file…")
        self.none_button = QPushButton("Original sky")
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.none_button)
        layout.addLayout(buttons)
        form_widget, form = _form()
        self.sliders: dict[str, LabeledSlider] = {}
        for key, label, lo, hi, tip in SKY_SLIDERS:
            slider = LabeledSlider(lo, hi, model.edit.sky_params[key])
            slider.setObjectName(f"sky_{key}")
            slider.setToolTip(tip)
            slider.valueChanged.connect(lambda v, k=key: model.set_sky_param(k, v))
            slider.slider.sliderPressed.connect(model.new_step)  # each drag is its own undo step
            form.addRow(label, slider)
            self.sliders[key] = slider
        self.flip = QCheckBox("Flip sky")
        self.flip.toggled.connect(lambda on: model.set_sky_param("flip", on))
        form.addRow("", self.flip)
        layout.addWidget(form_widget)
        hint = _hint("V: drag the sky into place")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.palette.itemClicked.connect(lambda item: self.skyRequested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.open_button.clicked.connect(self.openSkyRequested.emit)
        self.none_button.clicked.connect(lambda: model.set_sky(None))
        model.settingsChanged.connect(lambda group: group == "sky" and self.refresh())
        model.skyChanged.connect(self.refresh)
        self.refresh()

    def add_thumbnail(self, source, qimage) -> None:
        label = Path(str(source)).stem.replace("_", " ")
        item = QListWidgetItem(QIcon(QPixmap.fromImage(qimage)), label)
        item.setData(Qt.ItemDataRole.UserRole, str(source))
        item.setToolTip(str(source))
        self.palette.addItem(item)

    def refresh(self) -> None:
        params = self.model.edit.sky_params
        for key, slider in self.sliders.items():
            slider.setValue(params[key])
            slider.setEnabled(self.model.sky is not None)
        self.flip.blockSignals(True)
        self.flip.setChecked(bool(params["flip"]))
        self.flip.blockSignals(False)
        self.flip.setEnabled(self.model.sky is not None)
        self.none_button.setEnabled(self.model.sky is not None)


class TintPanel(QWidget):
    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        self.enabled = QCheckBox("Tint the sky")
        layout.addWidget(self.enabled)
        self.gradient = GradientEditor()
        self.gradient.setObjectName("gradientEditor")
        layout.addWidget(self.gradient)
        form_widget, form = _form()
        self.angle = LabeledSlider(0, 360, 90, 0, "°")
        self.mode = QComboBox()
        self.mode.addItems(_effects.blend_modes())
        self.strength = LabeledSlider(0, 1, 0.7)
        form.addRow("Angle", self.angle)
        form.addRow("Blend", self.mode)
        form.addRow("Strength", self.strength)
        layout.addWidget(form_widget)
        hint = _hint("At 90° the left stop colours the horizon and the right stop the top "
                      "of the sky.")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.enabled.toggled.connect(lambda on: model.set_tint(enabled=on))
        self.gradient.stepStarted.connect(model.new_step)
        self.gradient.stopsChanged.connect(lambda stops: model.set_tint(stops=stops))
        for slider in (self.angle, self.strength):
            slider.slider.sliderPressed.connect(model.new_step)
        self.angle.valueChanged.connect(lambda v: model.set_tint(angle=v))
        self.mode.currentTextChanged.connect(lambda text: model.set_tint(mode=text))
        self.strength.valueChanged.connect(lambda v: model.set_tint(strength=v))
        model.settingsChanged.connect(lambda group: group == "tint" and self.refresh())
        self.refresh()

    def refresh(self) -> None:
        tint = self.model.edit.tint
        self.enabled.blockSignals(True)
        self.enabled.setChecked(tint.enabled)
        self.enabled.blockSignals(False)
        self.gradient.set_stops(tint.stops)
        self.angle.setValue(tint.angle)
        self.mode.blockSignals(True)
        self.mode.setCurrentText(tint.mode)
        self.mode.blockSignals(False)
        self.strength.setValue(tint.strength)
        for widget in (self.gradient, self.angle, self.mode, self.strength):
            widget.setEnabled(tint.enabled)


class RelightPanel(QWidget):
    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        self.enabled = QCheckBox("Relight the foreground")
        layout.addWidget(self.enabled)
        form_widget, form = _form()
        self.strength = LabeledSlider(0, 1, 0.6)
        self.use_sky = QRadioButton("The new sky")
        self.use_kelvin = QRadioButton("Colour temperature")
        self.kelvin = LabeledSlider(2000, 12000, 4500, 0, " K")
        form.addRow("Strength", self.strength)
        form.addRow("Light of", self.use_sky)
        form.addRow("", self.use_kelvin)
        form.addRow("", self.kelvin)
        layout.addWidget(form_widget)
        hint = _hint("Matches the foreground's exposure, white balance and contrast to the "
                      "light of the sky, strongest near the horizon.")
        layout.addWidget(hint)
        layout.addStretch(1)
        self.enabled.toggled.connect(lambda on: model.set_relight(enabled=on))
        for slider in (self.strength, self.kelvin):
            slider.slider.sliderPressed.connect(model.new_step)
        self.strength.valueChanged.connect(lambda v: model.set_relight(strength=v))
        self.use_sky.toggled.connect(lambda on: model.set_relight(use_sky=on))
        self.kelvin.valueChanged.connect(lambda v: model.set_relight(kelvin=v))
        model.settingsChanged.connect(lambda group: group == "relight" and self.refresh())
        model.skyChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        relight = self.model.edit.relight
        use_sky = relight.use_sky and self.model.sky is not None
        for widget, value in ((self.enabled, relight.enabled), (self.use_sky, use_sky),
                              (self.use_kelvin, not use_sky)):
            widget.blockSignals(True)
            widget.setChecked(value)
            widget.blockSignals(False)
        self.strength.setValue(relight.strength)
        self.kelvin.setValue(relight.kelvin)
        self.use_sky.setEnabled(relight.enabled and self.model.sky is not None)
        for widget in (self.strength, self.use_kelvin):
            widget.setEnabled(relight.enabled)
        self.kelvin.setEnabled(relight.enabled and not use_sky)
