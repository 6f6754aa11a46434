"""The canvas's gestures: the tools under the mouse and the keys (pan, brush strokes, dragging the
sky, the split view's divider) and files dragged onto the photo. A part of
:class:`effects_gui.canvas.Canvas` (its base class :class:`CanvasGestures`), whose items,
transform and signals they use; they change no state, only emit what the user did.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsView

from skyseg_core.video import is_video_file


def local_paths(mime) -> list[Path]:
    return (
        [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if mime.hasUrls()
        else []
    )


def canvas_drop_hint(paths: list[Path], has_photo: bool) -> str:
    """What a drop on the photo will do, shown while dragging over it."""
    if paths[0].is_dir():
        return "Drop to add this folder's skies to the library"
    what = "video" if is_video_file(paths[0]) else "photo"
    if not has_photo:
        return f"Drop to open this {what}"
    return f"Drop to open this {what} instead\n(to use it as a sky, drop it on the Sky library)"


class FileDropTarget:
    """Drags of local files onto a scroll view (a base before the Qt class): while they hover,
    ``drop_hint`` says what a drop will do (the view paints it); a drop goes to
    ``files_dropped``."""

    drop_hint = ""

    def hint_for(self, paths: list[Path]) -> str:
        raise NotImplementedError

    def files_dropped(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def _show_drop_hint(self, text: str) -> None:
        self.drop_hint = text
        self.viewport().update()

    def dragEnterEvent(self, event) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            self._show_drop_hint(self.hint_for(paths))
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._show_drop_hint("")
        event.accept()

    def dropEvent(self, event) -> None:
        self._show_drop_hint("")
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped(paths)


class CanvasGestures(FileDropTarget):
    """Mouse, keys and drops on the canvas (a base of :class:`~effects_gui.canvas.Canvas`)."""

    # ----------------------------------------------------------------- tools
    def _on_brush(self) -> None:
        tool = self.model.brush.tool
        self.setDragMode(
            QGraphicsView.DragMode.ScrollHandDrag
            if tool == "pan"
            else QGraphicsView.DragMode.NoDrag
        )
        cursor = {
            "pan": Qt.CursorShape.OpenHandCursor,
            "brush": Qt.CursorShape.CrossCursor,
            "move_sky": Qt.CursorShape.SizeAllCursor,
        }[tool]
        self.viewport().setCursor(cursor)
        r = self.model.brush.radius
        self.cursor_item.setRect(-r, -r, 2 * r, 2 * r)
        self.cursor_item.setVisible(tool == "brush" and self.cursor_item.isVisible())
        colour = QColor(80, 200, 255) if self.model.brush.add else QColor(255, 90, 60)
        pen = QPen(colour, 0)
        self.cursor_item.setPen(pen)

    def _scene_point(self, event) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    # Space held pans with the left button, whatever the tool (as in every editor)
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.space_held = True
                if not self._stroke:
                    self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.space_held = False
                if self._pan_origin is None:
                    self._on_brush()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self.space_held = False  # the release goes elsewhere
        super().focusOutEvent(event)

    def enterEvent(self, event) -> None:
        """Keys (Space to pan) go to the photo under the mouse, unless text is being typed."""
        from PyQt6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

        if not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def mousePressEvent(self, event) -> None:
        tool, button = self.model.brush.tool, event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self.space_held and not self._stroke
        ):
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            self._pan_origin = (
                event.position(),
                self.horizontalScrollBar().value(),
                self.verticalScrollBar().value(),
            )
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self.near_divider(event.position()):
            self._divider_drag = True
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self.model.has_photo:
            p = self._scene_point(event)
            if tool == "brush" and self.model.matte is not None:
                self._stroke = [(p.x(), p.y())]
                self._update_stroke_item()
                event.accept()
                return
            if tool == "move_sky" and self.model.sky is not None:
                self._drag_origin = p
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        p = self._scene_point(event)
        if self._divider_drag:
            self.dividerMoved.emit(p.x() / max(self.scene().sceneRect().width(), 1.0))
            return
        if self.near_divider(event.position()):
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor)
        elif self.viewport().cursor().shape() == Qt.CursorShape.SplitHCursor:
            self._on_brush()  # back to the tool's cursor
        if self._pan_origin is not None:
            origin, h, v = self._pan_origin
            delta = event.position() - origin
            self.horizontalScrollBar().setValue(int(h - delta.x()))
            self.verticalScrollBar().setValue(int(v - delta.y()))
            return
        if self.model.brush.tool == "brush" and self.model.has_photo:
            self.cursor_item.setPos(p)
            self.cursor_item.setVisible(True)
        if self._stroke:
            last = self._stroke[-1]
            if (p.x() - last[0]) ** 2 + (p.y() - last[1]) ** 2 >= 1.0:
                self._stroke.append((p.x(), p.y()))
                self._update_stroke_item()
            return
        if self._drag_origin is not None:
            self._emit_sky_drag(p, False)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._divider_drag and event.button() == Qt.MouseButton.LeftButton:
            self._divider_drag = False
            return
        if self._pan_origin is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_origin = None
            if not self.space_held:
                self._on_brush()
            return
        if self._stroke and event.button() == Qt.MouseButton.LeftButton:
            points, self._stroke = self._stroke, []
            self.stroke_item.setPath(QPainterPath())
            self.strokeFinished.emit(points)
            return
        if self._drag_origin is not None and event.button() == Qt.MouseButton.LeftButton:
            self._emit_sky_drag(self._scene_point(event), True)
            self._drag_origin = None
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursor_item.setVisible(False)
        super().leaveEvent(event)

    def _emit_sky_drag(self, p: QPointF, done: bool) -> None:
        rect = self.scene().sceneRect()
        delta = p - self._drag_origin
        self.skyDragged.emit(delta.x() / rect.width(), delta.y() / rect.height(), done)

    def _update_stroke_item(self) -> None:
        path = QPainterPath(QPointF(*self._stroke[0]))
        for x, y in self._stroke[1:]:
            path.lineTo(x, y)
        if len(self._stroke) == 1:
            path.lineTo(self._stroke[0][0] + 0.01, self._stroke[0][1])
        colour = QColor(80, 200, 255, 110) if self.model.brush.add else QColor(255, 90, 60, 110)
        pen = QPen(
            colour,
            2 * self.model.brush.radius,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        self.stroke_item.setPen(pen)
        self.stroke_item.setPath(path)

    # ----------------------------------------------------------------- drops
    def hint_for(self, paths: list[Path]) -> str:
        return canvas_drop_hint(paths, self.model.has_photo)

    def files_dropped(self, paths: list[Path]) -> None:
        """A file dropped here is a photo to open (the window asks about unsaved work); a folder
        brings its skies to the library. Skies are dropped on the library."""
        self.filesDropped.emit(paths, not paths[0].is_dir())
