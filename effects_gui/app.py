"""``skyseg-editor [PHOTO] [--method NAME]``: start the desktop editor."""

from __future__ import annotations

import argparse
import sys
import traceback


def proxy_long_side_for_screen(app) -> int:
    """The preview's longer side: the screen's, in device pixels, within 1280..2560."""
    screen = app.primaryScreen()
    if screen is None:
        return 2048
    size = screen.size()
    side = max(size.width(), size.height()) * screen.devicePixelRatio()
    return int(min(2560, max(1280, side)))


def _install_excepthook(window) -> None:
    """An exception escaping a slot shows a dialog instead of aborting the application."""

    def hook(kind, value, tb):
        traceback.print_exception(kind, value, tb)
        try:
            window.show_error("Something went wrong", value)
        except Exception:  # the dialog itself failed: the trace above is all we can do
            pass

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="skyseg-editor", description="Find, refine and replace the sky in a photo."
    )
    parser.add_argument("photo", nargs="?", help="photo to open")
    parser.add_argument("--method", default=None, help="sky method (see `skyseg methods`)")
    args = parser.parse_args(argv)

    from PyQt6.QtWidgets import QApplication

    from .window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("skyseg-editor")
    app.setOrganizationName("skyseg")
    from .theme import apply_dark_theme

    apply_dark_theme(app)
    window = MainWindow(proxy_long_side=proxy_long_side_for_screen(app))
    _install_excepthook(window)
    if args.method:
        window.model.set_method(args.method)
    window.show()
    if args.photo:
        window.open_photo(args.photo)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
