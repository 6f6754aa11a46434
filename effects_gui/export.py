"""The export dialog: every output the command line writes, with its options, in one place."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from skyseg_core.io import DEFAULT_QUALITY

FORMATS = {
    # key: (menu text, suffix, what it is)
    "jpeg": ("JPEG", ".jpg", "the result, 8 bits; EXIF, XMP and colour profile kept"),
    "png": ("PNG", ".png", "the result, lossless; metadata kept"),
    "tiff": ("TIFF, 16 bits", ".tif", "the result blended and written at 16 bits; metadata kept"),
    "ora": (
        "Layers: OpenRaster (.ora)",
        ".ora",
        "photo, each effect's layers, the matte hidden: GIMP, Krita",
    ),
    "psd": (
        "Layers: Photoshop (.psd)",
        ".psd",
        "the same layers, the matte as layer masks: Photoshop, Affinity, "
        "Photopea; colour profile kept",
    ),
    "matte": ("Sky matte (PNG)", "_matte.png", "the edited matte at full size, white = sky"),
}


def add_file_row(form: QFormLayout, object_name: str, browse, start: str = "") -> QLineEdit:
    """A "File" row of an export dialog: the path's field and a Browse… button calling
    ``browse``; returns the field."""
    row = QWidget()
    row_layout = QHBoxLayout(row)
    row_layout.setContentsMargins(0, 0, 0, 0)
    path = QLineEdit(start)
    path.setObjectName(object_name)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row_layout.addWidget(path, 1)
    row_layout.addWidget(button)
    form.addRow("File", row)
    return path


def add_save_cancel(dialog: QDialog, form: QFormLayout) -> None:
    """An export dialog's Save and Cancel buttons, as the form's last row."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)


class ExportDialog(QDialog):
    """Choose what to write and where; :meth:`choice` gives ``(kind, path, quality)``. It opens
    on ``kind`` (a key of :data:`FORMATS`), ``quality`` and ``folder``: the last export's."""

    def __init__(
        self,
        stem: str,
        folder: Path,
        parent=None,
        kind: str = "jpeg",
        quality: int | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.stem, self.folder = stem, Path(folder)
        form = QFormLayout(self)
        self.kind = QComboBox()
        self.kind.setObjectName("exportKind")
        for key, (text, _suffix, tip) in FORMATS.items():
            self.kind.addItem(text, key)
            self.kind.setItemData(self.kind.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Format", self.kind)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color: gray")
        form.addRow("", self.about)
        self.quality = QSpinBox()
        self.quality.setObjectName("exportQuality")
        self.quality.setRange(1, 100)
        self.quality.setValue(DEFAULT_QUALITY if quality is None else quality)
        self.quality.setToolTip("JPEG quality: 1 smallest file .. 100 best")
        form.addRow("JPEG quality", self.quality)
        self.path = add_file_row(form, "exportPath", self._browse)
        add_save_cancel(self, form)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))  # the last export's format
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.resize(520, self.sizeHint().height())

    def _suffix(self) -> str:
        return FORMATS[self.kind.currentData()][1]

    def _kind_changed(self, *_args) -> None:
        key = self.kind.currentData()
        self.about.setText(FORMATS[key][2])
        self.quality.setEnabled(key == "jpeg")
        self.path.setText(
            str(self.folder / f"{self.stem}{'_sky' if key != 'matte' else ''}{self._suffix()}")
        )

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if path:
            self.path.setText(path)

    def choice(self) -> tuple[str, Path, int | None]:
        key = self.kind.currentData()
        path = Path(self.path.text())
        if not path.suffix:
            path = path.with_suffix(Path(self._suffix()).suffix)
        return key, path, self.quality.value() if key == "jpeg" else None
