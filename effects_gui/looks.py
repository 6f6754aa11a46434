"""Edit > Save look...: the replacement's settings saved as one of your own looks.

The look is a file in :func:`skyseg_core.effects.looks.looks_folder` (``NAME.json``), which the
Sky panel's "Your looks" menu, ``skyseg replace --look NAME`` and the plug-ins' look menus offer. A
name that is a bundled look or one of yours is replaced only after asking.
"""

from __future__ import annotations

from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
)

from skyseg_core.effects.looks import LookExistsError, looks_folder
from skyseg_core.errors import SkysegError


class SaveLookDialog(QDialog):
    """Asks for a name and saves the look (window-modal, opened with :meth:`open`)."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("saveLookDialog")
        self.setWindowTitle("Save look")
        layout = QVBoxLayout(self)
        text = QLabel(
            "Save the Sky panel's settings (not the sky or where it sits) as a look of your own.\n"
            f"It is kept in {looks_folder()} and offered by the Sky panel's Your looks menu,\n"
            "skyseg replace --look NAME and the GIMP and Krita plug-ins."
        )
        layout.addWidget(text)
        self.name = QLineEdit()
        self.name.setObjectName("lookName")
        self.name.setPlaceholderText("Name: letters, digits, spaces, - and _")
        self.name.setMaxLength(64)
        layout.addWidget(self.name)
        self.error = QLabel("")
        self.error.setObjectName("lookError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.name.textChanged.connect(lambda t: self.save_button.setEnabled(bool(t.strip())))
        layout.addWidget(self.buttons)

    def save(self) -> None:
        """Save under the name given; a taken name is replaced only if the user says so."""
        name = self.name.text().strip()
        model = self.window_.model
        try:
            try:
                path = model.save_look(name)
            except LookExistsError as exc:
                what = "the bundled look" if exc.bundled else "your look"
                answer = QMessageBox.question(
                    self,
                    "Save look",
                    f"Replace {what} '{name}' with these settings?"
                    + (
                        "\n(The bundled one comes back if you delete yours.)" if exc.bundled else ""
                    ),
                    QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Cancel,
                )
                if answer != QMessageBox.StandardButton.Save:
                    return
                path = model.save_look(name, replace=True)
        except SkysegError as exc:
            self.error.setText(str(exc))
            return
        self.window_.status_label.setText(f"Look '{name}' saved ({path})")
        self.accept()


def open_save_look(window) -> SaveLookDialog:
    """Open the Save look dialog over ``window`` (kept as ``window.save_look_dialog``)."""
    dialog = SaveLookDialog(window)
    window.save_look_dialog = dialog
    dialog.open()
    return dialog
