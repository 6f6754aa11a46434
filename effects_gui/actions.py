"""The editor's actions, menus and tool bar, built onto the main window (as Qt Designer's
``setupUi`` builds a form): every action is an attribute of the window, its slot a method of
the window, the model or the controller."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
)

from skyseg_core.methods import list_methods, method_label

from .looks import open_save_look


def make_action(window, text, slot, shortcut=None, checkable=False, tip="", icon=None) -> QAction:
    """An action of the window: shortcut(s), its tip with the keys, ``slot`` on trigger or toggle."""
    action = QAction(text, window)
    if isinstance(shortcut, (list, tuple)):
        action.setShortcuts([QKeySequence(k) for k in shortcut])
    elif shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    tip = tip or text.replace("&", "").rstrip("…")
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({keys})" if keys else tip)
    action.setStatusTip(tip)
    (action.toggled if checkable else action.triggered).connect(slot)
    window.addAction(action)
    return action


def split_icon(colour) -> QIcon:
    """The split view's icon: a frame halved by a divider, its left half (before) filled."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour, 2))
    painter.drawRect(QRectF(4, 7, 24, 18))
    painter.fillRect(QRectF(5, 8, 11, 16), colour)
    painter.drawLine(QPointF(16, 3), QPointF(16, 29))
    painter.end()
    return QIcon(pixmap)


def build_actions(window) -> None:
    """The window's actions (``window.open_action``, ...), its menus and its tool bar."""
    m = window.model
    K = QKeySequence.StandardKey
    icons = QStyle.StandardPixmap
    # files: one line each (name, text, slot, keys, tip, icon)
    for name, text, slot, keys, tip, icon in (
        ("open", "&Open…", window.choose_photo, K.Open, "Open a photo", icons.SP_DialogOpenButton),
        ("export", "&Export result…", window.export_result, K.Save, "Save the result at full size (JPEG, PNG, 16-bit TIFF)", icons.SP_DialogSaveButton),
        ("export_dialog", "Export…", window.export_dialog, "Ctrl+Shift+E", "Export with options: JPEG quality, 16-bit TIFF, PNG, layers (.ora, .psd), the matte", icons.SP_DriveFDIcon),
        ("export_matte", "Export &matte…", window.export_matte, "Ctrl+Shift+M", "Save the sky matte as a PNG", None),
        ("export_layers", "Export &layers…", window.export_layers, "Ctrl+Shift+S", "Save a layered OpenRaster file (GIMP, Krita)", None),
        ("export_cutout", "Export &cut-out…", window.export_cutout, "Ctrl+Shift+C", "Save the photo at full size with its sky transparent (PNG, TIFF, WebP): the foreground as edited, the sky removed", None),
        ("save_session", "Save e&dit…", window.save_session, "Ctrl+Alt+S", "Save the edit (photo, strokes, settings, sky) to reopen later; Open reads it", None),
        ("series", "&Apply to photos…", window.apply_to_series, "Ctrl+Shift+A", "Put this sky and these settings on other photos: each gets its own matte, its sky placed by its horizon", None),
    ):  # fmt: skip
        action = make_action(window, text, slot, keys, tip=tip, icon=icon)
        setattr(window, f"{name}_action", action)  # window.open_action, ...
    window.quit_action = make_action(window, "&Quit", window.close, K.Quit)
    window.undo_action = m.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence(K.Undo))
    window.redo_action = m.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.addActions([window.undo_action, window.redo_action])
    window.segment_action = make_action(
        window,
        "Find sky",
        window.controller.segment,
        "Ctrl+R",
        tip="Find the sky with the chosen method",
        icon=icons.SP_BrowserReload,
    )
    window.cancel_action = make_action(
        window,
        "Cancel",
        window.controller.cancel_jobs,
        "Esc",
        tip="Stop the running job",
        icon=icons.SP_BrowserStop,
    )
    # tools: one checked at a time
    window.tool_group = QActionGroup(window)
    for name, text, key, tip, icon, choose in (
        ("pan", "Pan", "H", "Pan and zoom (wheel)", icons.SP_ArrowUp, lambda: m.set_brush(tool="pan")),
        ("add", "Add sky", "B", "Brush sky in", icons.SP_DialogYesButton, lambda: window._brush_tool(True)),
        ("remove", "Remove sky", "E", "Brush sky out", icons.SP_DialogNoButton, lambda: window._brush_tool(False)),
        ("move", "Move sky", "V", "Drag the new sky into place", icons.SP_TitleBarNormalButton, lambda: m.set_brush(tool="move_sky")),
    ):  # fmt: skip
        action = make_action(window, text, lambda on, c=choose: on and c(), key, True, tip, icon)
        setattr(window, f"{name}_action", action)  # window.pan_action, ...
        window.tool_group.addAction(action)
    window.smaller_action = make_action(
        window, "Smaller brush", lambda: m.set_brush(radius=m.brush.radius / 1.2), "["
    )
    window.larger_action = make_action(
        window, "Larger brush", lambda: m.set_brush(radius=m.brush.radius * 1.2), "]"
    )
    # hardness: one plain key sequence each (Shift+[ arrives as "{" or "Shift+{" by platform, and
    # an action holding both spellings matches twice: ambiguous, so nothing happened)
    window.softer_action = make_action(
        window, "Softer brush", lambda: m.set_brush(hardness=m.brush.hardness - 0.1), "Ctrl+["
    )
    window.harder_action = make_action(
        window, "Harder brush", lambda: m.set_brush(hardness=m.brush.hardness + 0.1), "Ctrl+]"
    )
    # view: one mode at a time, and switches
    window.view_group = QActionGroup(window)
    for mode, key, tip, icon in (
        ("photo", "P", "The photo (with the matte overlay)", icons.SP_FileDialogContentsView),
        ("matte", "M", "The matte alone (white = sky)", icons.SP_FileDialogDetailedView),
        ("result", "R", "The edited result", icons.SP_DialogApplyButton),
    ):
        show = lambda on, mode=mode: on and m.set_view(mode=mode)  # noqa: E731
        action = make_action(window, mode.title(), show, key, True, tip, icon)
        setattr(window, f"{mode}_view_action", action)  # window.photo_view_action, ...
        window.view_group.addAction(action)
    for name, key, tip, icon, switch in (
        ("overlay", "O", "Show the matte as a coloured overlay", icons.SP_FileDialogInfoView, lambda on: m.set_view(overlay=on)),
        ("split", "Y", "Before and after side by side: drag the divider", None, lambda on: m.set_view(split=on, mode="result")),
        ("before", "\\", "Show the whole original photo (before/after)", icons.SP_MediaSeekBackward, lambda on: m.set_view(before=on)),
    ):  # fmt: skip
        action = make_action(window, name.title(), switch, key, True, tip, icon)
        setattr(window, f"{name}_action", action)  # window.overlay_action, ...
    # its own picture: the style's nearest one was the tool bar's overflow chevron
    window.split_action.setIcon(split_icon(window.palette().color(window.foregroundRole())))
    window.fit_action = make_action(
        window, "Fit", window.canvas.fit, "Ctrl+0", tip="Fit the photo in the window"
    )
    window.actual_action = make_action(
        window, "100 %", window.canvas.actual_pixels, "Ctrl+1", tip="Actual pixels"
    )
    # Ctrl++ needs Shift on most layouts: Ctrl+= (the same key unshifted) too
    window.zoom_in_action = make_action(
        window, "Zoom in", lambda: window.canvas.zoom_by(1.25), ["Ctrl+=", "Ctrl++"]
    )
    window.zoom_out_action = make_action(
        window, "Zoom out", lambda: window.canvas.zoom_by(0.8), K.ZoomOut
    )

    menu = window.menuBar().addMenu("&File")
    menu.addAction(window.open_action)
    window.recent_menu = menu.addMenu("Open &recent")
    menu.addAction(window.save_session_action)
    menu.addSeparator()
    for action in (
        window.export_dialog_action,
        window.export_action,
        window.export_matte_action,
        window.export_layers_action,
        window.export_cutout_action,
        window.series_action,
    ):
        menu.addAction(action)
    menu.addSeparator()
    menu.addAction(window.quit_action)
    menu = window.menuBar().addMenu("&Edit")
    menu.addActions([window.undo_action, window.redo_action])
    menu.addSeparator()
    menu.addActions([window.segment_action, window.cancel_action])
    menu.addSeparator()
    window.save_look_action = make_action(
        window,
        "Save &look…",
        lambda: open_save_look(window),
        tip="Save the Sky panel's settings as a look of your own (the command line's --look and "
        "the plug-ins offer it too)",
    )
    menu.addAction(window.save_look_action)
    menu = window.menuBar().addMenu("&Tools")
    menu.addActions(window.tool_group.actions())
    menu.addActions(
        [window.smaller_action, window.larger_action, window.softer_action, window.harder_action]
    )
    menu = window.menuBar().addMenu("&View")
    menu.addActions(window.view_group.actions())
    menu.addActions([window.overlay_action, window.split_action, window.before_action])
    menu.addSeparator()
    menu.addActions(
        [window.fit_action, window.actual_action, window.zoom_in_action, window.zoom_out_action]
    )
    menu = window.menuBar().addMenu("&Help")
    window.shortcuts_action = make_action(
        window, "&Keyboard shortcuts", window.show_shortcuts, K.HelpContents
    )
    menu.addAction(window.shortcuts_action)
    window._rebuild_recent()

    bar = QToolBar("Main")
    bar.setObjectName("mainToolbar")
    bar.setMovable(False)
    # text under the icons: every tool fits a 1280 px window (beside them, Before, Undo and
    # Redo went behind the overflow chevron)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    window.addToolBar(bar)
    bar.addAction(window.open_action)
    bar.addAction(window.export_dialog_action)
    bar.addSeparator()
    window.method_combo = QComboBox()
    window.method_combo.setObjectName("methodCombo")
    for name, description in list_methods():  # plain names; the technical one in the tip
        window.method_combo.addItem(method_label(name), name)
        window.method_combo.setItemData(
            window.method_combo.count() - 1,
            f"{name}: {description}",
            Qt.ItemDataRole.ToolTipRole,
        )
    window.method_combo.setToolTip("How to find the sky")
    bar.addWidget(QLabel(" Method "))
    bar.addWidget(window.method_combo)
    window.segment_button = QPushButton(
        window.style().standardIcon(icons.SP_BrowserReload), "Find sky"
    )
    window.segment_button.setToolTip("Find the sky with the chosen method (Ctrl+R)")
    window.segment_button.setObjectName("segmentButton")
    window.segment_button.clicked.connect(window.controller.segment)
    bar.addWidget(window.segment_button)
    bar.addSeparator()
    bar.addActions(window.tool_group.actions())
    bar.addSeparator()
    bar.addActions(window.view_group.actions())
    bar.addAction(window.overlay_action)
    bar.addAction(window.split_action)
    bar.addAction(window.before_action)
    bar.addSeparator()
    window.undo_tool = QAction(window.style().standardIcon(icons.SP_ArrowBack), "Undo", window)
    window.undo_tool.setToolTip("Undo (Ctrl+Z)")
    window.undo_tool.triggered.connect(m.undo_stack.undo)
    m.undo_stack.canUndoChanged.connect(window.undo_tool.setEnabled)
    window.redo_tool = QAction(window.style().standardIcon(icons.SP_ArrowForward), "Redo", window)
    window.redo_tool.setToolTip("Redo (Ctrl+Shift+Z)")
    window.redo_tool.triggered.connect(m.undo_stack.redo)
    m.undo_stack.canRedoChanged.connect(window.redo_tool.setEnabled)
    window.undo_tool.setEnabled(False)
    window.redo_tool.setEnabled(False)
    bar.addActions([window.undo_tool, window.redo_tool])


GESTURES = (
    ("Shift+[, Shift+]", "Softer brush, harder brush (as Ctrl+[, Ctrl+])"),
    ("Space + drag", "Pan (with any tool)"),
    ("Middle button drag", "Pan"),
    ("Wheel", "Zoom"),
    ("Double-click a slider", "Back to its default"),
    ("Drop a photo on the photo", "Open it (asks about unsaved work)"),
    ("Drop skies on the Sky library", "Add them to your skies and use the first"),
)
"""What the mouse and the keyboard do beyond the actions' shortcuts (the Help dialog lists them)."""


def shortcut_rows(window) -> list[tuple[str, str]]:
    """(keys, what they do) for every action of ``window`` with a shortcut, in menu order, then
    the :data:`GESTURES`."""
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        for action in menu.actions() if menu is not None else ():
            keys = ", ".join(
                s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
            )
            if keys:
                rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows + list(GESTURES)


class ShortcutsDialog(QDialog):
    """Every shortcut and gesture of the editor, read from its actions (never out of date)."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 640)
