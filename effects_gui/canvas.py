"""The photo view: zoom, the pictures (photo, matte overlay, result, split view, the 100 % view's
full-size detail) and the notices; its gestures (pan, brush strokes, sky dragging, file drops)
are :mod:`effects_gui.gestures`.

The canvas shows what the model says and forwards gestures as signals in preview-pixel
coordinates; it changes no state itself.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from .gestures import CanvasGestures, local_paths  # noqa: F401  (importable from here)
from .qimage import grey_to_qimage, overlay_qimage, rgb_to_qimage

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0


class Canvas(CanvasGestures, QGraphicsView):
    strokeFinished = pyqtSignal(list)  # [(x, y), ...] in preview pixels
    skyDragged = pyqtSignal(
        float, float, bool
    )  # dx, dy as fractions of the preview; True on release
    filesDropped = pyqtSignal(list, bool)  # paths, "open as photo" (a file; a folder: skies)
    zoomChanged = pyqtSignal(float)
    detailWanted = pyqtSignal()
    """The view moved or changed while zoomed in past the preview: full-size pixels wanted."""
    dividerMoved = pyqtSignal(float)  # the split view's divider, 0 left .. 1 right
    DIVIDER_GRAB = 8  # view pixels either side of the divider that grab it

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.model = model
        self.setObjectName("canvas")
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QColor(38, 38, 40))
        self.setAcceptDrops(True)
        self.viewport().setMouseTracking(True)
        self._clip = None  # the clip whose frame is shown (effects_gui.clip.ClipFrames)
        self.photo_item = QGraphicsPixmapItem()
        self.photo_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.overlay_item = QGraphicsPixmapItem()
        self.stroke_item = QGraphicsPathItem()
        self.cursor_item = QGraphicsEllipseItem()
        self.cursor_item.setPen(QPen(QColor(255, 255, 255, 220), 0))
        self.cursor_item.setVisible(False)
        self.before_item = QGraphicsPixmapItem()  # the photo left of the split divider
        self.before_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.divider_item = QGraphicsLineItem()
        self.divider_item.setPen(QPen(QColor(255, 255, 255, 230), 2))
        self.divider_handle = QGraphicsEllipseItem(-9, -9, 18, 18)
        self.divider_handle.setBrush(QColor(255, 255, 255, 230))
        self.divider_handle.setPen(QPen(QColor(40, 40, 40), 1))
        self.divider_handle.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.split_labels = (QGraphicsSimpleTextItem("Before"), QGraphicsSimpleTextItem("After"))
        for label in self.split_labels:
            label.setBrush(QColor(255, 255, 255))
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        # the visible region at full resolution, over the preview (the real 100 % view)
        self.detail_item = QGraphicsPixmapItem()
        self.detail_overlay_item = QGraphicsPixmapItem()
        for item in (self.detail_item, self.detail_overlay_item):
            item.setTransformationMode(
                Qt.TransformationMode.FastTransformation
            )  # pixels as they are
            item.setVisible(False)
        self.detail_state = ""
        items = (
            self.photo_item,
            self.detail_item,
            self.before_item,
            self.overlay_item,
            self.detail_overlay_item,
            self.divider_item,
            self.divider_handle,
            *self.split_labels,
            self.stroke_item,
            self.cursor_item,
        )
        for z, item in enumerate(items):
            item.setZValue(z)
            self.scene().addItem(item)
        self._show_split(False)
        self._divider_drag = False
        self.zoomChanged.connect(lambda _zoom: self._show_split(self.shown() == "split"))
        self._fit = True
        self._stroke: list[tuple[float, float]] = []
        self._drag_origin: QPointF | None = None
        self._pan_origin = None
        self.space_held = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.notice = ""
        self._prepared = None
        self._pixmaps: dict[str, QPixmap | None] = {
            "photo": None,
            "matte": None,
            "result": None,
            "overlay": None,
        }
        model.photoChanged.connect(self._on_photo)
        model.matteChanged.connect(self._on_matte)
        model.resultChanged.connect(self._on_result)
        model.viewChanged.connect(self.refresh)
        model.brushChanged.connect(self._on_brush)
        self._on_brush()
        from PyQt6.QtCore import QTimer

        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(40)  # a scroll or a zoom settles first
        self._detail_timer.timeout.connect(self._emit_detail_wanted)
        self.zoomChanged.connect(lambda _zoom: self.want_detail())
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.want_detail(False))
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.want_detail(False))
        for signal in (model.matteChanged, model.resultChanged, model.viewChanged):
            signal.connect(self.want_detail)

    # ----------------------------------------------------------------- model -> pixmaps
    def _on_photo(self) -> None:
        proxy = self.model.proxy
        before = self.scene().sceneRect()
        self._pixmaps = dict.fromkeys(self._pixmaps)
        if proxy is not None:
            self._pixmaps["photo"] = QPixmap.fromImage(rgb_to_qimage(proxy))
            self.scene().setSceneRect(QRectF(0, 0, proxy.shape[1], proxy.shape[0]))
        # another frame of the open clip keeps the zoom and the place (scrubbing a zoomed edge)
        clip, self._clip = self._clip, self.model.clip
        if clip is not None and clip is self._clip and self.scene().sceneRect() == before:
            self.refresh()
            return
        self._fit = True
        self.refresh()
        self.fit()

    def prepared_matte_images(self, base_proxy_matte, overlay, grey) -> None:
        """Overlay and matte images a job already made for this unbrushed matte."""
        self._prepared = (base_proxy_matte, overlay, grey)

    def _on_matte(self) -> None:
        m, prepared = self.model, self._prepared
        if m.matte is None:
            overlay = grey = None
        elif (
            prepared is not None
            and prepared[0] is m.base_proxy_matte
            and not m.strokes
            and not m.close_gaps
        ):
            overlay, grey = prepared[1], prepared[2]
        else:
            overlay, grey = overlay_qimage(m.matte), grey_to_qimage(m.matte)
        self._pixmaps["matte"] = None if grey is None else QPixmap.fromImage(grey)
        self._pixmaps["overlay"] = None if overlay is None else QPixmap.fromImage(overlay)
        self.refresh()

    def _on_result(self) -> None:
        self.set_result_image(
            None if self.model.result is None else rgb_to_qimage(self.model.result)
        )

    def set_result_image(self, qimage) -> None:
        """Show a rendered result (the render job already made the QImage off the GUI thread)."""
        self._pixmaps["result"] = None if qimage is None else QPixmap.fromImage(qimage)
        self.refresh()
        self.want_detail()  # a new result: its full-size pixels too

    # ----------------------------------------------------------------- the 100 % view
    def visible_region(self) -> tuple[int, int, int, int] | None:
        """The full-size pixels (x0, y0, x1, y1) the viewport shows, when it is zoomed in past
        the preview (a preview pixel larger than a screen pixel); else None."""
        m = self.model
        if m.image is None or self.zoom() <= 1.0 + 1e-6 or m.scale >= 1.0:
            return None
        rect = self.mapToScene(self.viewport().rect()).boundingRect()
        rect = rect.intersected(self.scene().sceneRect())
        if rect.isEmpty():
            return None
        h, w = m.image.shape[:2]
        s = m.scale
        x0, y0 = max(0, int(rect.left() / s) - 1), max(0, int(rect.top() / s) - 1)
        x1, y1 = min(w, int(rect.right() / s) + 2), min(h, int(rect.bottom() / s) + 2)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def _emit_detail_wanted(self) -> None:
        self.detailWanted.emit()

    def want_detail(self, clear: bool = True) -> None:
        """Ask (soon) for the full-size pixels of the view; ``clear``: what is shown changed,
        so the last ones go at once (a scroll keeps them until the new ones come)."""
        if clear:
            self.clear_detail()
        self._detail_timer.start()

    def clear_detail(self) -> None:
        for item in (self.detail_item, self.detail_overlay_item):
            item.setVisible(False)
            item.setPixmap(QPixmap())
        self.overlay_item.setVisible(True)
        self.detail_state = ""

    def set_detail(self, region, picture, overlay, state: str) -> None:
        """Show full-size pixels of ``region`` for ``state`` (dropped if the view moved on)."""
        if state != self.shown() or self.visible_region() is None:
            return
        x0, y0 = region[0], region[1]
        s = self.model.scale
        for item, image in ((self.detail_item, picture), (self.detail_overlay_item, overlay)):
            if image is None:
                item.setVisible(False)
                continue
            item.setPixmap(QPixmap.fromImage(image))
            item.setScale(s)  # one full-size pixel is ``scale`` preview pixels
            item.setPos(x0 * s, y0 * s)
            item.setVisible(True)
        self.detail_overlay_item.setOpacity(self.model.view.opacity)
        self.overlay_item.setVisible(overlay is None)  # the preview's overlay is under it
        self.detail_state = state
        self.viewport().update()

    def shown(self) -> str:
        """What the canvas shows now: "empty", "before", "photo", "matte", "result" or "split"
        (the photo left of the divider, the result right of it)."""
        view = self.model.view
        if self._pixmaps["photo"] is None:
            return "empty"
        if view.before:
            return "before"
        if view.mode == "matte" and self._pixmaps["matte"] is not None:
            return "matte"
        if view.mode == "result" and self._pixmaps["result"] is not None:
            return "split" if view.split else "result"
        return "photo"

    def refresh(self) -> None:
        view, state = self.model.view, self.shown()
        base = {
            "empty": None,
            "before": "photo",
            "photo": "photo",
            "matte": "matte",
            "result": "result",
            "split": "result",
        }[state]
        self.photo_item.setPixmap(self._pixmaps[base] if base else QPixmap())
        overlay = self._pixmaps["overlay"]
        show_overlay = overlay is not None and view.overlay and state in ("photo", "result")
        self.overlay_item.setPixmap(overlay if show_overlay else QPixmap())
        self.overlay_item.setOpacity(view.opacity)
        self._show_split(state == "split")
        self.viewport().update()

    def _divider_x(self) -> float:
        return self.scene().sceneRect().width() * self.model.view.divider

    def _show_split(self, on: bool) -> None:
        for item in (self.before_item, self.divider_item, self.divider_handle, *self.split_labels):
            item.setVisible(on)
        if not on:
            return
        rect = self.scene().sceneRect()
        x = self._divider_x()
        photo = self._pixmaps["photo"]
        self.before_item.setPixmap(
            photo.copy(0, 0, max(1, round(x)), photo.height()) if x >= 1 else QPixmap()
        )
        self.divider_item.setLine(x, 0, x, rect.height())
        self.divider_handle.setPos(x, rect.height() / 2)
        scale = max(self.zoom(), 1e-6)
        before, after = self.split_labels
        before.setPos(x - (before.boundingRect().width() + 8) / scale, 6 / scale)
        after.setPos(x + 8 / scale, 6 / scale)

    def near_divider(self, view_pos) -> bool:
        """Whether a point of the viewport grabs the split view's divider."""
        if self.shown() != "split":
            return False
        x = self.mapFromScene(QPointF(self._divider_x(), 0)).x()
        return abs(view_pos.x() - x) <= self.DIVIDER_GRAB

    # ----------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fit = True
        self.zoomChanged.emit(self.zoom())

    def zoom_by(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * factor)) / self.zoom()
        self.scale(factor, factor)
        self._fit = False
        self.zoomChanged.emit(self.zoom())
        self._on_brush()

    def actual_pixels(self) -> None:
        """100 % of the full-size photo (the preview is enlarged accordingly)."""
        self.resetTransform()
        target = 1.0 / max(self.model.scale, 1e-6)
        self.scale(target, target)
        self._fit = False
        self.zoomChanged.emit(self.zoom())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    # ----------------------------------------------------------------- painting hints
    def set_notice(self, text: str) -> None:
        """A message shown over the top of the photo until cleared (``""``)."""
        self.notice = text
        self.viewport().update()

    def _draw_notice(self, painter: QPainter) -> None:
        painter.save()
        painter.resetTransform()
        area = self.viewport().rect()
        height = painter.fontMetrics().height() * 2
        banner = QRectF(0, 0, area.width(), height)
        painter.fillRect(banner, QBrush(QColor(20, 20, 22, 200)))
        painter.setPen(QColor(255, 200, 90))
        painter.drawText(banner, Qt.AlignmentFlag.AlignCenter, self.notice)
        painter.restore()

    def drawForeground(self, painter: QPainter, rect) -> None:
        if self.notice and self.model.has_photo:
            self._draw_notice(painter)
        text = self.drop_hint or (
            "" if self.model.has_photo else "Open a photo (Ctrl+O) or drop one here"
        )
        if not text:
            return
        painter.save()
        painter.resetTransform()
        area = self.viewport().rect()
        if self.drop_hint:
            painter.fillRect(area, QBrush(QColor(20, 120, 200, 70)))
        font = painter.font()
        font.setPointSizeF(max(font.pointSizeF(), 10) * 1.4)
        painter.setFont(font)
        painter.setPen(QColor(220, 220, 225))
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
