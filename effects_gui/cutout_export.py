"""The cut-out export's dialog: the photo at full size with its sky transparent, in a format
that holds alpha, with the options the registered ``cutout`` step declares."""

from __future__ import annotations

import typing
from pathlib import Path

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLabel,
)

from skyseg_core.declare import controls
from skyseg_core.effects.registry import get_step
from skyseg_core.pipeline import ALPHA_SUFFIXES

from .controls import ParamControl
from .export import add_file_row, add_save_cancel

STEP = "cutout"
"""The registered step the dialog writes (its parameters make the dialog's options)."""

FORMAT_NAMES = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WebP"}
"""How the format menu names a suffix the core's cut-out writer takes (:data:`ALPHA_SUFFIXES`)."""

ABOUT = (
    "The photo at full size with its sky transparent: the foreground as the result shows it "
    "(your brush strokes, Close gaps and the effects' relight and colour match applied), the "
    "sky removed instead of replaced. Colour profile and metadata kept; TIFF at 16 bits."
)


def alpha_formats() -> dict[str, str]:
    """Menu name -> suffix, one per format the cut-out writer takes (``.tif`` for TIFF)."""
    formats: dict[str, str] = {}
    for suffix in ALPHA_SUFFIXES:
        formats.setdefault(FORMAT_NAMES.get(suffix, suffix[1:].upper()), suffix)
    return formats


class CutoutDialog(QDialog):
    """Choose the format, the step's options and the file; :meth:`choice` gives ``(path,
    params)``, ``params`` the cut-out step's parameters."""

    def __init__(self, stem: str, folder: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export cut-out")
        self.stem, self.folder = stem, Path(folder)
        self.params_class = get_step(STEP).params
        form = QFormLayout(self)
        about = QLabel(ABOUT)
        about.setWordWrap(True)
        about.setStyleSheet("color: gray")
        form.addRow(about)
        self.kind = QComboBox()
        self.kind.setObjectName("cutoutFormat")
        for name, suffix in alpha_formats().items():
            self.kind.addItem(name, suffix)
        form.addRow("Format", self.kind)
        hints = typing.get_type_hints(self.params_class)
        self.options: dict[str, ParamControl] = {}
        for name, (field, ctl) in controls(self.params_class).items():
            widget = ParamControl(name, field, ctl, hints[name])
            widget.setObjectName(f"cutout_{name}")
            title = QLabel(ctl.label)
            title.setToolTip(widget.toolTip())
            form.addRow(title, widget)
            self.options[name] = widget
        self.path = add_file_row(form, "cutoutPath", self._browse)
        add_save_cancel(self, form)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.resize(520, self.sizeHint().height())

    def _kind_changed(self, *_args) -> None:
        # the command line's name for a cut-out: <stem>_cutout.<ext>
        self.path.setText(str(self.folder / f"{self.stem}_cutout{self.kind.currentData()}"))

    def _browse(self) -> None:
        suffixes = " ".join(f"*{suffix}" for suffix in ALPHA_SUFFIXES)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the cut-out to", self.path.text(), f"With transparency ({suffixes})"
        )
        if path:
            self.path.setText(path)

    def choice(self) -> tuple[Path, typing.Any]:
        path = Path(self.path.text())
        if not path.suffix:
            path = path.with_suffix(self.kind.currentData())
        values = {name: widget.value() for name, widget in self.options.items()}
        return path, self.params_class(**values)
