"""The main window's files: opening a photo, a saved edit, a video or a timelapse, the recent
files, adding skies, and the exports, each asking the user (file dialogs, questions) before
the controller (:mod:`effects_gui.controller`) does the work. A part of
:class:`effects_gui.window.MainWindow` (its base class :class:`FileActions`), apart from the
widgets and the window's state."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from skyseg_core.errors import SkysegError
from skyseg_core.io import IMAGE_SUFFIXES
from skyseg_core.pipeline import check_chain
from skyseg_core.raw import RAW_SUFFIXES
from skyseg_core.video import VIDEO_EXTENSIONS

from .cutout_export import CutoutDialog
from .export import ExportDialog
from .scrubber import export_clip_dialog

APP_NAME = "skyseg editor"
MAX_RECENT = 10
IMAGE_FILTER = (
    f"Images ({' '.join(f'*{suffix}' for suffix in IMAGE_SUFFIXES)});;"
    f"Videos ({' '.join(f'*{suffix}' for suffix in VIDEO_EXTENSIONS)});;"
    "skyseg edits (*.skyedit);;"
    f"Camera RAW ({' '.join(f'*{suffix}' for suffix in RAW_SUFFIXES)});;All files (*)"
)
"""What the open dialogs list: what ``load_image`` reads, camera RAWs included."""


def settings() -> QSettings:
    return QSettings("skyseg", "skyseg-editor")


class FileActions:
    """The window's file actions (a base of :class:`~effects_gui.window.MainWindow`, whose
    model, controller and widgets they use)."""

    # ================================================================= opening
    def choose_photo(self) -> None:
        if not self.maybe_discard():
            return
        start = str(Path(self._recent()[0]).parent) if self._recent() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo or video", start, IMAGE_FILTER)
        if path:
            self.open_photo(path, ask=False)

    def open_photo(self, path, ask: bool = True) -> None:
        """Open a photo, a saved edit (``.skyedit``), a video or a timelapse folder."""
        from .clipcontrol import is_clip
        from .session import SUFFIX

        if ask and not self.maybe_discard():
            return
        self.clips.cancel_open()  # a clip still being read is not opened after this
        if is_clip(path):
            self.clips.open(path)
        elif Path(path).suffix.lower() == SUFFIX:
            self.controller.open_session(path)
        else:
            self.controller.open_photo(path)

    def apply_to_series(self) -> None:
        """File > Apply to photos: the sky and settings of this edit on other photos."""
        if not self._can_export():
            return
        if not self.model.has_effects:
            QMessageBox.information(self, APP_NAME, "Choose a sky or an effect first.")
            return
        start = str(self.model.path.parent if self.model.path else Path.home())
        photos, _ = QFileDialog.getOpenFileNames(
            self, "Apply the edit to these photos", start, IMAGE_FILTER
        )
        if not photos:
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Write the edited photos to", str(self.export_folder())
        )
        if folder:
            settings().setValue("export/folder", folder)
            self.controller.apply_to_series(photos, folder)

    def save_session(self) -> None:
        """File > Save edit: the edit as a small file that reopens it (no export)."""
        from .session import SUFFIX

        if not self._can_export():
            return
        m = self.model
        start = str((m.path.parent if m.path else Path.home()) / f"{m.path.stem}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the edit", start, f"skyseg edit (*{SUFFIX})"
        )
        if path:
            path = Path(path)
            self.controller.save_session(path if path.suffix else path.with_suffix(SUFFIX))

    # ================================================================= recent files
    def _recent(self) -> list[str]:
        value = settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self._recent() if p != path]
        settings().setValue("recent", recent[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_photo(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    # ================================================================= skies
    def choose_sky(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add skies to the library", "", IMAGE_FILTER)
        if paths:
            self.controller.add_skies(paths)

    def rename_sky(self, source: str, label: str) -> None:
        from PyQt6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Rename the sky", "Name", text=label)
        if ok:
            self.controller.library.rename(source, name)

    def choose_sky_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of skies to the library")
        if folder:
            self.controller.add_skies([folder], apply=False)

    # ================================================================= export
    def export_folder(self) -> Path:
        """Where exports go: the last export's folder (kept across sessions), else the photo's."""
        folder = settings().value("export/folder", "")
        if folder and Path(str(folder)).is_dir():
            return Path(str(folder))
        return self.model.path.parent if self.model.path else Path.home()

    def _remember_export(self, kind: str, path: Path, quality: int | None) -> None:
        store = settings()
        store.setValue("export/folder", str(Path(path).parent))
        store.setValue("export/format", kind)
        if quality is not None:
            store.setValue("export/quality", int(quality))

    def _ask_save(self, title: str, suffix: str, filters: str) -> Path | None:
        m = self.model
        stem = m.path.stem if m.path else "photo"
        start = str(self.export_folder() / f"{stem}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix else path.with_suffix(Path(suffix).suffix)

    def _close_with_export_running(self) -> bool | None:
        """Asked when the window closes during an export (a clip's can take minutes): close
        when it is done, stop it and close (nothing written), or stay. None: no export runs;
        True: close now; False: not now."""
        if not self.controller.export_jobs or self._close_after_export:
            return None
        buttons = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, "", buttons.NoButton, self)
        box.setText(f"{self.progress_label.toolTip()}.\n\nClose the editor when it is done?")
        box.setStandardButtons(buttons.Yes | buttons.Discard | buttons.Cancel)
        box.button(buttons.Yes).setText("Close when done")
        box.button(buttons.Discard).setText("Stop it and close")
        box.setDefaultButton(buttons.Yes)
        answer = box.exec()
        if answer == buttons.Discard:
            self.controller.cancel_jobs()  # the export writes nothing
            return True
        self._close_after_export = answer == buttons.Yes
        return False

    def _export_finished(self, written: bool) -> None:
        if not written:
            self._close_after_export = False
        elif self._close_after_export:
            self.close()

    def _can_export(self) -> bool:
        if self.model.base_matte is None:
            QMessageBox.information(self, APP_NAME, "Find the sky first (Ctrl+R).")
            return False
        return True

    def export_result(self, path=None, quality: int | None = None) -> None:
        if self.model.clip is not None:
            export_clip_dialog(self)
            return
        if not self._can_export():
            self._close_after_export = False
            return
        path = path or self._ask_save(
            "Export the result",
            "_sky.jpg",
            "JPEG (*.jpg *.jpeg);;PNG (*.png);;16-bit TIFF (*.tif *.tiff)",
        )
        if not path:
            self._close_after_export = False
            return
        kind = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
        self._remember_export(kind.get(Path(path).suffix.lower(), "png"), Path(path), quality)
        self.controller.export_result(path, quality)

    def export_dialog(self) -> None:
        """The export dialog (format, JPEG quality, file), then that export."""
        if self.model.clip is not None:
            export_clip_dialog(self)
            return
        if not self._can_export():
            return
        m = self.model
        store = settings()
        self.export_box = box = ExportDialog(
            m.path.stem if m.path else "photo",
            self.export_folder(),
            self,
            kind=str(store.value("export/format", "jpeg")),
            quality=int(quality) if (quality := store.value("export/quality")) else None,
        )
        box.accepted.connect(lambda: self._export_chosen(*box.choice()))
        box.open()

    def _export_chosen(self, kind: str, path: Path, quality: int | None) -> None:
        self._remember_export(kind, path, quality)
        if kind == "matte":
            self.export_matte(path)
        elif kind in ("ora", "psd"):
            self.export_layers(path)
        else:
            self.export_result(path, quality)

    def export_matte(self, path=None) -> None:
        if not self._can_export():
            return
        path = path or self._ask_save("Export the sky matte", "_matte.png", "PNG (*.png)")
        if path:
            self._remember_export("matte", Path(path), None)
            self.controller.export_matte(path)

    def export_layers(self, path=None) -> None:
        if not self._can_export():
            return
        path = path or self._ask_save(
            "Export layers", ".ora", "OpenRaster (*.ora);;Photoshop (*.psd)"
        )
        if path:
            self._remember_export(
                "psd" if Path(path).suffix.lower() == ".psd" else "ora", Path(path), None
            )
            self.controller.export_layers(path)

    def export_cutout(self) -> None:
        """File > Export cut-out: the photo with its sky transparent, from its dialog."""
        if self.model.clip is not None:
            QMessageBox.information(self, APP_NAME, "A cut-out is made of a photo, not a clip.")
            return
        if not self._can_export():
            return
        m = self.model
        self.cutout_box = box = CutoutDialog(
            m.path.stem if m.path else "photo", self.export_folder(), self
        )
        box.accepted.connect(lambda: self._cutout_chosen(*box.choice()))
        box.open()

    def _cutout_chosen(self, path: Path, cutout) -> None:
        try:  # a name without alpha is refused here, before any work
            check_chain([cutout], output=path)
        except SkysegError as exc:
            QMessageBox.critical(self, APP_NAME, str(exc))
            return
        if path.exists() and path not in self.controller.made_files:
            answer = QMessageBox.question(
                self,
                APP_NAME,
                f"{path.name} already exists and the editor did not write it. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        settings().setValue("export/folder", str(path.parent))
        self.controller.export_cutout(path, cutout)

    # ================================================================= discarding
    def maybe_discard(self) -> bool:
        """Ask before an unsaved edit is thrown away; True when it may go."""
        if not self.model.modified:
            return True
        answer = QMessageBox.question(
            self,
            APP_NAME,
            "The edit has unsaved changes. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard
