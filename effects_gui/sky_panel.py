"""The editor's "Sky" panel: the sky library (bundled skies, presets, the user's own, dropped
files) on top, then the looks and every control of the effect that needs a sky (replace)."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon, QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skyseg_core.declare import controls, sky_fields
from skyseg_core.effects.registry import REGISTRY

from .controls import ParamForm, hint_label, reset_all_button
from .gestures import FileDropTarget


class SkyLibraryView(FileDropTarget, QListWidget):
    """The sky library as a grid of thumbnails; files or folders dropped on it are added."""

    filesDropped = pyqtSignal(list)
    removeRequested = pyqtSignal(str)
    renameRequested = pyqtSignal(str, str)  # source, its name now
    THUMB = QSize(136, 85)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("skyLibrary")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(self.THUMB)
        self.setGridSize(QSize(self.THUMB.width() + 10, self.THUMB.height() + 26))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setUniformItemSizes(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long name keeps both ends
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.setMinimumHeight(self.THUMB.height() + 40)
        self.setDragEnabled(False)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.setToolTip(
            "Click a sky to put it in. Drop sky files or folders here to add them "
            "to your library (kept for next time); right-click a sky to rename it, or one of "
            "yours to remove it"
        )

    def sources(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def _menu(self, pos) -> None:
        from PyQt6.QtWidgets import QMenu

        item = self.itemAt(pos)
        if item is None:
            return
        source = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        rename = menu.addAction("Rename…")
        remove = (
            menu.addAction("Remove from the library")
            if item.data(Qt.ItemDataRole.UserRole + 1)
            else None
        )
        chosen = menu.exec(self.viewport().mapToGlobal(pos))
        if chosen is rename:
            self.renameRequested.emit(source, item.text())
        elif chosen is not None and chosen is remove:
            self.removeRequested.emit(source)

    DROP_HINT = "Drop to add to your skies\nand use it"

    def hint_for(self, paths) -> str:
        return self.DROP_HINT

    def files_dropped(self, paths) -> None:
        self.filesDropped.emit(paths)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.drop_hint:
            from PyQt6.QtGui import QColor, QPainter

            painter = QPainter(self.viewport())
            painter.fillRect(self.viewport().rect(), QColor(20, 120, 200, 90))
            painter.setPen(QColor(235, 235, 240))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.drop_hint)
            painter.end()


class SkyPanel(QWidget):
    """The one "Sky" panel: the sky library on top (as tall as the panel lets it be), then
    the looks and every replacement control of the recipe, in a scroll area."""

    skyRequested = pyqtSignal(object)  # a library source: a path or a bundled/preset name
    openSkyRequested = pyqtSignal()
    addFolderRequested = pyqtSignal()

    def __init__(self, model, group: str, parent=None):
        from PyQt6.QtWidgets import QScrollArea, QSplitter

        super().__init__(parent)
        self.model, self.group = model, group
        effect = REGISTRY[group]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("skySearch")
        self.search.setPlaceholderText("Search skies")
        self.search.setClearButtonEnabled(True)
        self.category = QComboBox()
        self.category.setObjectName("skyCategory")
        for text, key in (("All skies", "all"), ("Your skies", "own"), ("Bundled", "bundled")):
            self.category.addItem(text, key)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.category)
        top_layout.addLayout(filters)
        self.palette = self.library = SkyLibraryView()
        top_layout.addWidget(self.library, 1)
        self.search.textChanged.connect(self._filter)
        self.category.currentIndexChanged.connect(self._filter)
        self.thumbnail_path = None
        """``source -> Path`` of a sky's cached thumbnail (the hover preview), set by the window."""
        buttons = QHBoxLayout()
        style = self.style()
        self.open_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_FileIcon), "Add skies…"
        )
        self.open_button.setToolTip("Add sky images to your library and put the first in")
        self.folder_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_DirIcon), "Add folder…"
        )
        self.folder_button.setToolTip(
            "Add a folder of your own skies to the library (kept for next time)"
        )
        self.none_button = QPushButton("Original sky")
        self.none_button.setToolTip("Take the new sky out")
        for button in (self.open_button, self.folder_button, self.none_button):
            buttons.addWidget(button)
        top_layout.addLayout(buttons)
        self.splitter.addWidget(top)

        controls_widget = QWidget()
        layout = QVBoxLayout(controls_widget)
        layout.setContentsMargins(0, 0, 0, 0)
        looks = QHBoxLayout()
        looks.addWidget(QLabel("Look"))
        self.looks: dict[str, QPushButton] = {}
        fields = controls(effect.params)
        for name, changes in effect.looks.items():
            button = QPushButton(name)
            button.setObjectName(f"look_{name}")
            button.setCheckable(True)
            button.setStyleSheet(
                "QPushButton:checked { background-color: palette(highlight); "
                "color: palette(highlighted-text); }"
            )
            button.setToolTip(
                "The defaults"
                if not changes
                else "From the defaults: "
                + ", ".join(f"{fields[k][1].label} {v:g}" for k, v in changes.items())
            )
            button.clicked.connect(lambda _c=False, n=name: model.apply_look(n))
            looks.addWidget(button)
            self.looks[name] = button
        layout.addLayout(looks)
        # your own looks (Edit > Save look...): a menu on a row of its own (the bundled looks
        # fill theirs), filled again when they change
        own_row = QHBoxLayout()
        self.own_looks = QToolButton()
        self.own_looks.setObjectName("ownLooks")
        self.own_looks.setText("Your looks")
        self.own_looks.setCheckable(True)
        self.own_looks.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.own_looks.setMenu(QMenu(self.own_looks))
        own_row.addWidget(self.own_looks)
        own_row.addStretch(1)
        model.looksChanged.connect(lambda: (self._fill_own_looks(), self.refresh()))
        self._fill_own_looks()
        layout.addLayout(own_row)
        self.form = ParamForm(model, group, skip=tuple(sky_fields(effect.params)[0]))
        self.controls = self.form.controls
        self.sliders = {name: c.slider for name, c in self.controls.items() if c.kind == "number"}
        layout.addWidget(self.form)
        reset_row = QHBoxLayout()
        reset_row.addWidget(hint_label("V: drag the sky into place"), 1)
        self.reset_all = reset_all_button(model, group)
        reset_row.addWidget(self.reset_all)
        layout.addLayout(reset_row)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(controls_widget)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 1)  # the library grows with the panel
        self.splitter.setStretchFactor(1, 0)

        self.library.itemClicked.connect(
            lambda item: self.skyRequested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.open_button.clicked.connect(self.openSkyRequested.emit)
        self.folder_button.clicked.connect(self.addFolderRequested.emit)
        self.none_button.clicked.connect(lambda: model.set_sky(None))
        model.settingsChanged.connect(lambda changed: changed == group and self.refresh())
        model.skyChanged.connect(self.refresh)
        self.refresh()

    def set_library(self, items) -> None:
        """Show ``(SkyEntry, QImage)`` thumbnails, in order, with a larger preview on hover."""
        import html

        self.library.clear()
        for entry, qimage in items:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(qimage)), entry.label)
            item.setData(Qt.ItemDataRole.UserRole, entry.source)
            item.setData(Qt.ItemDataRole.UserRole + 1, entry.own)
            where = html.escape(entry.source if entry.own else "bundled")
            tip = f"<b>{html.escape(entry.label)}</b><br>{where}"
            thumb = self.thumbnail_path(entry.source) if self.thumbnail_path else None
            if thumb is not None and thumb.is_file():
                tip = f'<img src="{html.escape(str(thumb))}" width="{qimage.width()}"><br>{tip}'
            item.setToolTip(tip)
            self.library.addItem(item)
        self._filter()
        self._highlight()

    def _filter(self, *_args) -> None:
        """Show the skies whose name (or file) holds every word searched, of the category."""
        words = self.search.text().lower().split()
        category = self.category.currentData()
        for i in range(self.library.count()):
            item = self.library.item(i)
            own = bool(item.data(Qt.ItemDataRole.UserRole + 1))
            text = f"{item.text()} {item.data(Qt.ItemDataRole.UserRole)}".lower()
            shown = all(w in text for w in words) and (
                category == "all" or (category == "own") == own
            )
            item.setHidden(not shown)

    def _highlight(self) -> None:
        from .library import same_source

        chosen = None if self.model.sky is None else self.model.sky.source
        self.library.clearSelection()
        for i in range(self.library.count()):
            item = self.library.item(i)
            if same_source(item.data(Qt.ItemDataRole.UserRole), chosen):
                item.setSelected(True)
                self.library.setCurrentItem(item)
                self.library.scrollToItem(item)
                break

    def _fill_own_looks(self) -> None:
        """Your looks in the menu, and those that cannot be used (greyed, with the reason)."""
        menu = self.own_looks.menu()
        menu.clear()
        bundled = REGISTRY[self.group].looks
        for name in self.model.looks:
            if name not in bundled:
                action = menu.addAction(name)
                action.triggered.connect(lambda _c=False, n=name: self.model.apply_look(n))
        for name, why in self.model.look_problems.items():
            action = menu.addAction(f"{name} (damaged)")
            action.setEnabled(False)
            action.setToolTip(why)
        menu.setToolTipsVisible(True)
        if menu.isEmpty():
            menu.addAction("None yet: Edit > Save look…").setEnabled(False)
        self._own_tip = "Your own looks (Edit > Save look… adds one)"
        self.own_looks.setToolTip(self._own_tip)

    def refresh(self) -> None:
        on = self.model.sky is not None
        self.form.set_enabled(on)
        look = self.model.look()
        own = look is not None and look not in self.looks
        self.own_looks.setChecked(own)
        text = f"Your look: {look}" if own else "Your looks"
        self.own_looks.setText(  # elided: a long name never widens the panel
            self.own_looks.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, 260)
        )
        self.own_looks.setToolTip(
            f"Your look '{look}' (Edit > Save look… adds one)" if own else self._own_tip
        )
        self.own_looks.setEnabled(on)
        for name, button in self.looks.items():
            button.setChecked(name == look)
            button.setEnabled(on)
        self.reset_all.setEnabled(on)
        self.none_button.setEnabled(on)
        self._highlight()
