"""The live preview's and the selection's checks, run INSIDE Krita by krita_e2e.py (scenarios
"preview", "preview_bench" and "selection" in kritarunner 5.1 and 5.2, "preview" in the GUI
under Xvfb): installed beside it as ``skyseg_e2e_preview``.

Only Krita's API, PyQt5 and the standard library. Raw B, G, R, A pixels go to files the test
compares with the core's results.
"""

import os
import time

from krita import Krita

PREVIEW = "skyseg preview"


def _layer(doc, name=PREVIEW):
    return next((n for n in doc.rootNode().childNodes() if n.name() == name), None)


def _names(doc):
    return [n.name() for n in doc.rootNode().childNodes()]


def _pixels(doc, name=PREVIEW):
    layer = _layer(doc, name)
    return bytes(layer.pixelData(0, 0, doc.width(), doc.height())) if layer else b""


def checks(doc, run, result, ext, path, tag, change=None):
    """``change(key, value)`` sets a Replace control (the GUI: through the docker's widget;
    else the settings and ``preview_changed``, as the docker does)."""
    import skyseg_client

    def set_control(key, value):
        if change is not None:
            change(key, value)
        else:
            ext.settings.set("replace", key, value)
            ext.preview_changed("replace")

    sky = os.environ.get("SKYSEG_E2E_SKY", "golden_hour")
    ext.settings.set("replace", "sky", sky)
    ext.settings.set("replace", "sky_opacity", 1.0)
    doc.waitForDone()
    doc.setModified(False)
    result["size"] = [doc.width(), doc.height()]
    # on: a preview layer above the photo; a control change updates its pixels
    result["start_ok"] = [ext.set_preview(True, "replace"), ext.last_error]
    ext.live.wait(60)
    result["stack_on"] = _names(doc)
    first = _pixels(doc)
    set_control("sky_opacity", 0.4)
    ext.live.wait(60)
    second = _pixels(doc)
    result["changed"] = first != second and len(second) == doc.width() * doc.height() * 4
    with open(path(f"preview_first{tag}.raw"), "wb") as fh:
        fh.write(first)
    with open(path(f"preview_second{tag}.raw"), "wb") as fh:
        fh.write(second)
    # rapid changes: coalesced, the last one wins
    shown = ext.live.shown
    for opacity in (0.5, 0.6, 0.7, 0.8, 0.9):
        set_control("sky_opacity", opacity)
    ext.live.wait(60)
    result["rapid_renders_shown"] = ext.live.shown - shown
    with open(path(f"preview_rapid{tag}.raw"), "wb") as fh:
        fh.write(_pixels(doc))
    result["modified_with_preview"] = doc.modified()
    result["undo"] = _undo_state()
    folder = ext.live.preview.folder
    # Apply: the full-resolution result as before, the preview gone
    result["apply_ok"] = [run("replace_sky"), ext.last_error]
    result["stack_after_apply"] = _names(doc)
    result["active_after_apply"] = ext.live.active
    result["folder_removed_after_apply"] = not os.path.exists(folder)
    doc.refreshProjection()
    doc.waitForDone()
    group = _layer(doc, "Sky replaced")
    if group is not None:
        with open(path(f"preview_apply{tag}.raw"), "wb") as fh:
            fh.write(bytes(group.projectionPixelData(0, 0, doc.width(), doc.height())))
        group.remove()
    # off: the layer goes
    ext.set_preview(True, "replace")
    ext.live.wait(60)
    result["stack_on_again"] = _names(doc)
    ext.set_preview(False, "replace")
    result["stack_off"] = _names(doc)
    # an error (a sky file that is not there): one message, the layer removed, the preview off
    ext.set_preview(True, "replace")
    ext.live.wait(60)
    ext.settings.set("replace", "sky_file", path("no_such_sky.png"))
    set_control("sky", skyseg_client.SKY_FILE)
    ext.live.wait(60)
    result["error_message"] = ext.last_error
    result["stack_after_error"] = _names(doc)
    result["active_after_error"] = ext.live.active
    ext.settings.set("replace", "sky", sky)
    ext.settings.set("replace", "sky_file", "")
    # the image closed while the preview is on: the preview stops, nothing raised
    other = Krita.instance().openDocument(path("photo.png"))
    ext.host.document = other
    result["other_ok"] = [ext.set_preview(True, "replace"), ext.last_error]
    ext.live.wait(60)
    other.close()
    ext.live.tick()
    result["active_after_close"] = ext.live.active
    ext.host.document = doc
    result["modified_at_end"] = doc.modified()
    result["stack_at_end"] = _names(doc)


def scaled(doc, ext, path, tag, width=2560):
    """A document ``width`` pixels wide, larger than the working copy: the preview layer covers
    the canvas, scaled up; the time from a control change to the layer's new pixels (the
    submission, the render, the scaling and Krita taking the pixels; this host, this machine)."""
    height = round(doc.height() * width / doc.width())
    doc.scaleImage(width, height, 72, 72, "Bicubic")
    doc.waitForDone()
    ext.host.document = doc
    out = {"size": [width, height]}
    out["start_ok"] = [ext.set_preview(True, "replace"), ext.last_error]
    start = time.monotonic()
    ext.live.wait(60)
    out["first_seconds"] = round(time.monotonic() - start, 3)
    out["changes_seconds"] = []
    for opacity in (0.9, 0.8, 0.7):  # the last one is the picture the test compares
        ext.settings.set("replace", "sky_opacity", opacity)
        start = time.monotonic()
        ext.preview_changed("replace")
        ext.live.wait(60)
        out["changes_seconds"].append(round(time.monotonic() - start, 3))
    out["change_seconds"] = out["changes_seconds"][-1]
    out["working_size"] = list(ext.live.preview.size or ())
    with open(path(f"preview_scaled{tag}.raw"), "wb") as fh:
        fh.write(_pixels(doc))
    ext.set_preview(False, "replace")
    out["stack_off"] = _names(doc)
    return out


SELECTED = (40, 10, 200, 140)
"""The rectangle the selection scenario selects (x, y, width, height): sky and ground."""


def selection(doc, run, result, ext, path, tag):
    """With an active selection, Replace's group shows only inside it (the merged image is the
    photo outside) and the preview layer is transparent outside it."""
    from krita import Selection

    ext.settings.set("replace", "sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))
    chosen = Selection()
    chosen.select(*SELECTED, 255)
    doc.setSelection(chosen)
    doc.waitForDone()
    result["replace_ok"] = [run("replace_sky"), ext.last_error]
    group = _layer(doc, "Sky replaced")
    result["group"] = [[c.name(), c.type(), c.blendingMode()] for c in group.childNodes()]
    doc.refreshProjection()
    doc.waitForDone()
    with open(path(f"selection_merged{tag}.raw"), "wb") as fh:
        fh.write(bytes(doc.pixelData(0, 0, doc.width(), doc.height())))
    group.remove()
    result["preview_ok"] = [ext.set_preview(True, "replace"), ext.last_error]
    ext.live.wait(60)
    with open(path(f"selection_preview{tag}.raw"), "wb") as fh:
        fh.write(_pixels(doc))
    ext.set_preview(False, "replace")
    result["stack_at_end"] = [  # the selection itself is a global selection mask here
        n.name() for n in doc.rootNode().childNodes() if n.type() != "selectionmask"
    ]


def _undo_state():
    """The Undo action's text and whether it is enabled (None without a window: kritarunner)."""
    action = Krita.instance().action("edit_undo")
    return None if action is None else [action.text(), action.isEnabled()]


def gui(doc, window, docker, ext, path, result, finish):
    """The preview through the docker's own widgets in the GUI, driven from Krita's own event
    loop (each step returns to it, as a user's clicks do); ``finish()`` when done."""
    import traceback

    from PyQt5.QtCore import QTimer

    steps = _gui_steps(doc, window, docker, ext, path, result)

    def advance():
        try:
            wait = next(steps)
        except StopIteration:
            finish()
            return
        except Exception:  # noqa: BLE001 - the test reads the traceback
            result["exception"] = traceback.format_exc()
            finish()
            return
        QTimer.singleShot(int(wait * 1000), advance)

    advance()


def _until(condition, seconds=60.0):
    """Yield short waits until ``condition()`` holds (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        yield 0.02


def _gui_steps(doc, window, docker, ext, path, result):
    from PyQt5.QtWidgets import QAbstractItemView, QDockWidget

    ext.settings.method = os.environ.get("SKYSEG_E2E_METHOD", "auto")
    qwindow = window.qwindow()
    qwindow.setGeometry(0, 0, 1920, 1080)  # Xvfb has no window manager to maximise it
    for other in qwindow.findChildren(QDockWidget):
        if other.windowTitle() in ("Advanced Color Selector", "Brush Presets", "Tool Options"):
            other.close()
    docker.setVisible(True)
    docker.raise_()
    yield 2.0
    zoom = Krita.instance().action("zoom_to_fit")
    if zoom is not None:
        zoom.trigger()
    doc.setModified(False)
    result["undo_before"] = _undo_state()
    start = time.monotonic()
    docker.preview_box.setChecked(True)
    yield from _until(lambda: ext.live.shown >= 1)
    result["first_seconds"] = round(time.monotonic() - start, 3)
    first = _pixels(doc)
    start = time.monotonic()
    combo = docker.fields["replace.sky"]
    combo.setCurrentIndex(combo.findData("sunset"))
    yield from _until(lambda: ext.live.shown >= 2 and not ext.live.runner.busy)
    result["change_seconds"] = round(time.monotonic() - start, 3)
    result["changed"] = _pixels(doc) != first
    result["stack_on"] = _names(doc)
    result["undo_with_preview"] = _undo_state()
    result["modified_with_preview"] = doc.modified()
    yield 3.0  # the canvas and the Layers docker show the preview layer
    layers = next(d for d in qwindow.findChildren(QDockWidget) if d.windowTitle() == "Layers")
    model = next(
        v.model()
        for v in layers.findChildren(QAbstractItemView)
        if v.metaObject().className() == "NodeView"
    )
    result["layers_docker"] = [model.data(model.index(i, 0)) for i in range(model.rowCount())]
    result["active_with_preview"] = doc.activeNode().name()
    qwindow.grab().save(path("krita_preview_window.png"))
    docker.grab().save(path("krita_preview_docker.png"))
    docker.preview_box.setChecked(False)
    yield 1.0
    result["stack_off"] = _names(doc)
    result["undo_after"] = _undo_state()
    result["modified_after"] = doc.modified()
