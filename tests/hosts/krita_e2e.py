"""Driver run INSIDE Krita by tests/test_hosts_krita.py; only Krita's API, PyQt5 and the stdlib.

Two ways in:
* ``kritarunner -s skyseg_e2e -f main`` (no window; this file is installed as skyseg_e2e.py in the
  test's pykrita folder): drives the loaded skyseg extension's actions on an opened document.
* the GUI (``xvfb-run krita --nosplash``): installed as the pykrita plug-in ``skyseg_e2e_gui``,
  it waits for the window, opens the photo in a view and triggers the registered menu actions
  (``Krita.instance().action("skyseg_create_mask").trigger()``), then quits Krita.

Settings come from environment variables; the results go to $SKYSEG_E2E_DIR/<scenario>.json.
Scenarios: "main" (mask, selection, replace; the GUI also reads the docker's controls), "error"
(the worker fails), "nosky" (a photo without sky), "ora" (open an .ora), "cutout" (Cut out sky).
"""

import json
import os
import time
import traceback

from krita import InfoObject, Krita, Selection

DIR = os.environ.get("SKYSEG_E2E_DIR", "")
SCENARIO = os.environ.get("SKYSEG_E2E_SCENARIO", "main")
TAG = os.environ.get(
    "SKYSEG_E2E_TAG", ""
)  # "_52": the trixie chroot's Krita 5.2 (its own file names)


def path(name):
    return os.path.join(DIR, name)


def stack(node):
    return [
        {"name": child.name(), "type": child.type(), "children": stack(child)}
        for child in node.childNodes()
    ]


def extension():
    import skyseg_krita  # loaded by Krita when enabled; importing it again returns the same module

    return skyseg_krita.extension


def write_grey(name, data, width, height):
    with open(path(name), "wb") as fh:
        fh.write(b"P5\n%d %d\n255\n" % (width, height))
        fh.write(bytes(data))


def scenario(doc, run, result):
    """The checks shared by both ways in; ``run(method)`` triggers one plug-in action."""
    width, height = doc.width(), doc.height()
    result["size"] = [width, height]
    if SCENARIO != "ora":
        extension().settings.method = os.environ.get("SKYSEG_E2E_METHOD", "auto")
    if SCENARIO == "ora":
        result["ora_stack"] = stack(doc.rootNode())
        return
    if SCENARIO == "bench":  # a 12 MP photo: each action twice (the first starts Krita's worker)
        extension().settings.method = os.environ.get("SKYSEG_E2E_BENCH_METHOD", "auto")
        for action in ("create_mask", "create_mask", "replace_sky", "replace_sky"):
            start = time.monotonic()
            ok = run(action)
            result.setdefault("seconds", []).append(
                [action, round(time.monotonic() - start, 3), ok, extension().last_error]
            )
        return
    if SCENARIO == "deep":  # a 16-bit document: the replacement comes back as a 16-bit layer
        doc.setColorSpace("RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc")
        doc.waitForDone()
        extension().settings.set("replace", "sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))
        result["replace_ok"], result["replace_error"] = run("replace_sky"), extension().last_error
        group = next((n for n in doc.rootNode().childNodes() if n.name() == "Sky replaced"), None)
        if group is not None:  # the group's layers are 16-bit; its merged pixels are read
            result["type"] = group.type()
            result["depth"] = sorted({child.colorDepth() for child in group.childNodes()})
            doc.refreshProjection()
            doc.waitForDone()
            with open(path(f"krita_replace16{TAG}.raw"), "wb") as fh:
                fh.write(bytes(group.projectionPixelData(0, 0, width, height)))
        return
    if SCENARIO == "busy":
        busy(doc, run, result)
        return
    if SCENARIO == "preview":  # the docker's live preview (krita_preview.py)
        import skyseg_e2e_preview

        ext = extension()
        skyseg_e2e_preview.checks(doc, run, result, ext, path, TAG)
        big = Krita.instance().openDocument(path("photo.png"))
        result["scaled"] = skyseg_e2e_preview.scaled(big, ext, path, TAG)
        big.close()
        ext.host.document = doc
        return
    if SCENARIO == "selection":  # the active selection limits where an effect shows
        import skyseg_e2e_preview

        skyseg_e2e_preview.selection(doc, run, result, extension(), path, TAG)
        return
    if SCENARIO == "preview_bench":  # the preview of a 24 MP image (6000 px wide)
        import skyseg_e2e_preview

        result["scaled"] = skyseg_e2e_preview.scaled(doc, extension(), path, TAG, width=6000)
        return
    if SCENARIO == "colour":
        colour_spaces(result)
        return
    if SCENARIO == "cutout":
        cut_outs(result)
        return
    if SCENARIO == "nosky":
        result["selection_before"] = doc.selection() is not None
        for action in ("replace_sky", "tint_sky", "create_mask", "select_sky", "cut_out_sky"):
            result[action] = [run(action), extension().last_error]
        result["stack_after"] = stack(doc.rootNode())
        result["selection_after"] = doc.selection() is not None
        return
    if SCENARIO == "error":
        ext = extension()
        os.environ["SKYSEG_WORKER_PYTHON"] = path("crash_worker.sh")
        result["crash_ok"], result["crash_error"] = run("create_mask"), ext.last_error
        ext.stop_worker()
        os.environ["SKYSEG_WORKER_PYTHON"] = path("hang_worker.sh")
        os.environ["SKYSEG_WORKER_TIMEOUT"] = "3"
        result["hang_ok"], result["hang_error"] = run("replace_sky"), ext.last_error
        ext.stop_worker()
        result["stack_after_error"] = stack(doc.rootNode())
        del os.environ["SKYSEG_WORKER_PYTHON"], os.environ["SKYSEG_WORKER_TIMEOUT"]
        result["recovered_ok"] = run("create_mask")  # Krita is alive and the next action works
        result["recovered_error"] = ext.last_error
        result["stack_after_recovery"] = stack(doc.rootNode())
        return
    # Create sky mask on a photo with a mask of its own (a ramp; Krita 5.1's scripting cannot
    # fill a transparency mask without a window: a local selection mask there): a new grey
    # "Sky mask" layer above it, the photo's pixels and its mask byte-identical.
    layer = next(n for n in doc.rootNode().childNodes() if n.type() == "paintlayer")
    ramp = bytes((x * 7 + y * 3) % 256 for y in range(height) for x in range(width))
    selection = Selection()
    selection.setPixelData(ramp, 0, 0, width, height)
    create = getattr(doc, "createTransparencyMask", None)
    user_mask = create("user mask") if create else doc.createSelectionMask("user mask")
    layer.addChildNode(user_mask, None)
    user_mask.setSelection(selection)
    doc.waitForDone()
    mask_before = bytes(user_mask.pixelData(0, 0, width, height))
    result["user_mask_is_a_ramp"] = len(set(mask_before)) > 200
    result["mask_ok"] = run("create_mask")
    result["mask_error"] = extension().last_error
    doc.waitForDone()
    result["stack_after_mask"] = stack(doc.rootNode())
    result["photo_unchanged_by_mask"] = bytes(layer.pixelData(0, 0, width, height)) == result.get(
        "_original"
    )
    result["user_mask_unchanged"] = bytes(user_mask.pixelData(0, 0, width, height)) == mask_before
    active = doc.activeNode()
    result["active_after_mask"] = active.name() if active is not None else None
    sky_mask = next((n for n in doc.rootNode().childNodes() if n.name() == "Sky mask"), None)
    if sky_mask is not None:
        result["sky_mask_space"] = [sky_mask.colorModel(), sky_mask.colorDepth()]
        bgra = bytes(sky_mask.pixelData(0, 0, width, height))
        result["sky_mask_grey"] = bgra[0::4] == bgra[1::4] == bgra[2::4]
        write_grey(f"krita_mask{TAG}.pgm", bgra[0::4], width, height)
        sky_mask.remove()  # the rest works on the photo alone, as before
    user_mask.remove()
    doc.waitForDone()
    doc.setActiveNode(layer)
    result["select_ok"] = run("select_sky")
    doc.waitForDone()
    selection = doc.selection()
    if selection is not None:
        write_grey(
            f"krita_selection{TAG}.pgm", selection.pixelData(0, 0, width, height), width, height
        )
    doc.setSelection(None) if hasattr(doc, "setSelection") else None
    result["save_mask_ok"] = extension().run(
        "save_mask", path(result["prefix"] + "_saved_mask.png")
    )
    result["save_mask_error"] = extension().last_error
    extension().settings.set("replace", "sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))
    result["replace_ok"] = run("replace_sky")
    result["replace_error"] = extension().last_error
    result["stack"] = stack(doc.rootNode())
    group = next((n for n in doc.rootNode().childNodes() if n.name() == "Sky replaced"), None)
    if group is not None:
        result["group"] = [
            {
                "name": child.name(),
                "blending": child.blendingMode(),
                "visible": child.visible(),
                "opacity": child.opacity(),
                "depth": child.colorDepth(),
            }
            for child in group.childNodes()
        ]
    result["paint_layer_unchanged"] = bytes(layer.pixelData(0, 0, width, height)) == result.get(
        "_original"
    )
    doc.setBatchmode(True)
    doc.waitForDone()
    doc.refreshProjection()
    # exportImage, not saveAs: Krita 5.1's saveAs crashes without a main window (kritarunner).
    result["saved_kra"] = doc.exportImage(path(result["prefix"] + ".kra"), InfoObject())
    result["saved_png"] = doc.exportImage(path(result["prefix"] + ".png"), InfoObject())
    # A second run, the group active (headless: the top layer): it reads the original photo (the
    # group's source), never the first result, and its group goes above the first.
    if group is not None:
        doc.setActiveNode(group)
    result["second_ok"], result["second_error"] = run("replace_sky"), extension().last_error
    top = doc.rootNode().childNodes()[-1]
    result["second_top_level"] = [n.name() for n in doc.rootNode().childNodes()]
    result["second_source_is_the_photo"] = top.type() == "grouplayer" and bytes(
        top.childNodes()[0].pixelData(0, 0, width, height)
    ) == result.get("_original")
    if top is not group:
        top.remove()
    doc.waitForDone()
    if group is not None:  # the GUI had the removed group active: the first one is
        doc.setActiveNode(group)
    # Tint and relight: each result group lands above the first one (it read the original).
    ext = extension()
    ext.settings.set("tint", "mode", "multiply")
    ext.settings.set("relight", "temperature", 3200.0)
    result["tint_ok"], result["relight_ok"] = run("tint_sky"), run("relight")
    result["effects_error"] = ext.last_error
    result["names_after_effects"] = [n.name() for n in doc.rootNode().childNodes()]


def busy(doc, run, result):
    """Issue 25 point 5: a second action while one runs is refused (one group, not two); Esc
    stops a run (nothing added, the document unmodified) and the next one works; the document
    closed while the worker runs is one readable message. A slow worker (2 s to start) and a
    hung one (never answers) make the runs last."""
    import skyseg_client
    import skyseg_krita
    from PyQt5.QtCore import QEvent, Qt, QTimer
    from PyQt5.QtGui import QKeyEvent
    from PyQt5.QtWidgets import QApplication, QWidget

    ext = extension()
    folder = os.path.dirname(os.path.abspath(skyseg_krita.__file__))
    python = skyseg_client.load_config(folder)["python"]
    slow = path(f"slow_worker{TAG}.sh")
    with open(slow, "w") as fh:
        fh.write(f'#!/bin/sh\nsleep 2\nexec {python} "$@"\n')
    os.chmod(slow, 0o755)
    ext.settings.set("replace", "sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))

    def replaced():
        return [n.name() for n in doc.rootNode().childNodes()].count("Sky replaced")

    # a second click while the first runs
    ext.stop_worker()
    os.environ["SKYSEG_WORKER_PYTHON"] = slow
    second = []
    QTimer.singleShot(
        500, lambda: second.append([ext.busy, ext.run("replace_sky"), ext.last_error])
    )
    result["first_ok"], result["first_error"] = run("replace_sky"), ext.last_error
    result["second"], result["groups_after_double"] = second, replaced()
    result["busy_after"] = ext.busy
    # Esc while the worker never answers
    ext.stop_worker()
    os.environ["SKYSEG_WORKER_PYTHON"] = path("hang_worker.sh")
    before = stack(doc.rootNode())
    doc.waitForDone()
    for _ in range(10):
        QApplication.processEvents()
        time.sleep(0.05)
    doc.setModified(False)
    result["modified_before_esc"] = doc.modified()
    target = QWidget()
    escape = QKeyEvent(QEvent.KeyPress, Qt.Key_Escape, Qt.NoModifier)
    QTimer.singleShot(1000, lambda: QApplication.sendEvent(target, escape))
    start = time.monotonic()
    result["esc_ok"], result["esc_error"] = run("replace_sky"), ext.last_error
    result["esc_seconds"] = round(time.monotonic() - start, 2)
    result["esc_stack_unchanged"] = stack(doc.rootNode()) == before
    result["esc_modified"] = doc.modified()
    # the next run starts a new worker and works
    del os.environ["SKYSEG_WORKER_PYTHON"]
    result["after_esc_ok"], result["after_esc_error"] = run("create_mask"), ext.last_error
    # the document closed while the worker starts
    ext.stop_worker()
    os.environ["SKYSEG_WORKER_PYTHON"] = slow
    other = Krita.instance().openDocument(path("photo.png"))
    ext.host.document = other
    QTimer.singleShot(500, other.close)
    result["closed_ok"], result["closed_error"] = run("replace_sky"), ext.last_error
    ext.host.document = doc
    del os.environ["SKYSEG_WORKER_PYTHON"]
    result["after_close_ok"], result["after_close_error"] = run("create_mask"), ext.last_error


COLOUR_SPACES = (  # name, model, depth, profile (None: Krita's first one for the model)
    ("linear16", "RGBA", "U16", "sRGB-elle-V2-g10.icc"),
    ("grey8", "GRAYA", "U8", "Gray-D50-elle-V2-srgbtrc.icc"),
    ("grey16linear", "GRAYA", "U16", "Gray-D50-elle-V2-g10.icc"),
    ("float16", "RGBA", "F16", "sRGB-elle-V2-g10.icc"),
    ("float32", "RGBA", "F32", "sRGB-elle-V2-g10.icc"),
    ("cmyk8", "CMYKA", "U8", None),
    ("lab16", "LABA", "U16", None),
)


def take_photo(ext, doc):
    """``doc`` made the extension's document and its paint layer named "photo": (that layer,
    width, height)."""
    ext.host.document = doc
    photo = next(n for n in doc.rootNode().childNodes() if n.type() == "paintlayer")
    photo.setName("photo")
    return photo, doc.width(), doc.height()


def colour_spaces(result):
    """For each colour space: the photo converted to it by Krita, then Create sky mask and Replace
    sky. Written for the test: the Sky mask layer's grey (<name>_mask.pgm), and, after the
    document is converted to 16-bit sRGB by Krita, the photo layer (<name>_photo.raw: the pixels
    the core should see) and the result group's merged pixels (<name>_group.raw)."""
    app, ext = Krita.instance(), extension()
    ext.settings.set("replace", "sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))
    for name, model, depth, profile in COLOUR_SPACES:
        out = result.setdefault(name, {})
        doc = app.openDocument(path("photo.png"))
        try:
            photo, width, height = take_photo(ext, doc)
            profile = profile or app.profiles(model, depth)[0]
            out["asked"] = [model, depth, profile]
            out["converted"] = bool(doc.setColorSpace(model, depth, profile))
            doc.waitForDone()
            out["space"] = [photo.colorModel(), photo.colorDepth(), photo.colorProfile()]
            out["mask_ok"], out["mask_error"] = ext.run("create_mask"), ext.last_error
            mask = next((n for n in doc.rootNode().childNodes() if n.name() == "Sky mask"), None)
            if mask is not None:
                write_grey(
                    f"colour_{name}{TAG}_mask.pgm",
                    bytes(mask.pixelData(0, 0, width, height))[0::4],
                    width,
                    height,
                )
                mask.remove()
                doc.waitForDone()
            out["replace_ok"], out["replace_error"] = ext.run("replace_sky"), ext.last_error
            group = next(
                (n for n in doc.rootNode().childNodes() if n.name() == "Sky replaced"), None
            )
            if group is not None:
                out["group_spaces"] = sorted(
                    {(c.colorModel(), c.colorDepth(), c.colorProfile()) for c in group.childNodes()}
                )
                original = group.childNodes()[0]  # the user's own pixels, not a round trip
                out["original_identical"] = [
                    original.name(),
                    bytes(original.pixelData(0, 0, width, height))
                    == bytes(photo.pixelData(0, 0, width, height)),
                ]
            out["exchange"] = ext.host.depth(photo)
            photo.setColorSpace("RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc")  # as the plug-in does
            doc.waitForDone()
            with open(path(f"colour_{name}{TAG}_photo.raw"), "wb") as fh:
                fh.write(bytes(photo.pixelData(0, 0, width, height)))
            doc.setColorSpace("RGBA", "U16", "sRGB-elle-V2-srgbtrc.icc")
            doc.refreshProjection()
            doc.waitForDone()
            if group is not None:
                with open(path(f"colour_{name}{TAG}_group.raw"), "wb") as fh:
                    fh.write(bytes(group.projectionPixelData(0, 0, width, height)))
        except Exception:  # noqa: BLE001 - the test reads the traceback
            out["exception"] = traceback.format_exc()
        finally:
            doc.close()
    result["hdr"] = hdr_original(app, ext)


CUT_OUTS = (
    # name, colour space the photo is converted to (None: as opened), decontaminate
    ("srgb8", None, True),
    ("srgb8_plain", None, False),
    ("linear16", ("RGBA", "U16", "sRGB-elle-V2-g10.icc"), True),
)


def cut_outs(result):
    """Cut out sky on the photo in each colour space of CUT_OUTS. Written for the test: the
    pixels the worker was given (<name>_photo.raw: the photo converted to sRGB by Krita, 8-bit
    for an 8-bit document, else 16-bit) and the new layer's, converted the same way
    (<name>_cut.raw); the stack, and whether the photo's bytes are unchanged."""
    app, ext = Krita.instance(), extension()
    for name, space, decontaminate in CUT_OUTS:
        out = result.setdefault(name, {})
        doc = app.openDocument(path("photo.png"))
        try:
            photo, width, height = take_photo(ext, doc)
            if space is not None:
                out["converted"] = bool(doc.setColorSpace(*space))
                doc.waitForDone()
            before = bytes(photo.pixelData(0, 0, width, height))
            ext.settings.set("cutout", "decontaminate", decontaminate)
            out["ok"], out["error"] = ext.run("cut_out_sky"), ext.last_error
            doc.waitForDone()
            out["stack"] = stack(doc.rootNode())
            out["photo_unchanged"] = bytes(photo.pixelData(0, 0, width, height)) == before
            layer = next(
                (n for n in doc.rootNode().childNodes() if n.name() == "Photo without sky"), None
            )
            sent = ("RGBA", "U8" if space is None else "U16", "sRGB-elle-V2-srgbtrc.icc")
            for node, suffix in ((layer, "cut"), (photo, "photo")):
                if node is None:
                    continue
                if suffix == "cut":
                    out["space"] = [node.colorModel(), node.colorDepth(), node.colorProfile()]
                node.setColorSpace(*sent)  # as the plug-in sends the photo to the worker
                doc.waitForDone()
                with open(path(f"cutout_{name}{TAG}_{suffix}.raw"), "wb") as fh:
                    fh.write(bytes(node.pixelData(0, 0, width, height)))
        except Exception:  # noqa: BLE001 - the test reads the traceback
            out["exception"] = traceback.format_exc()
        finally:
            doc.close()


def hdr_original(app, ext):
    """A float document with values above 1.0: the result group's original photo keeps them."""
    import struct

    out = {}
    doc = app.openDocument(path("photo.png"))
    try:
        ext.host.document = doc
        photo = next(n for n in doc.rootNode().childNodes() if n.type() == "paintlayer")
        doc.setColorSpace("RGBA", "F32", "sRGB-elle-V2-g10.icc")
        doc.waitForDone()
        patch = struct.pack("<4f", 4.0, 2.5, 1.5, 1.0) * (16 * 16)  # B, G, R, A
        photo.setPixelData(patch, 0, 0, 16, 16)
        out["replace_ok"] = [ext.run("replace_sky"), ext.last_error]
        group = next(n for n in doc.rootNode().childNodes() if n.name() == "Sky replaced")
        original = group.childNodes()[0]
        out["kept"] = [original.name(), bytes(original.pixelData(0, 0, 16, 16)) == patch]
    except Exception:  # noqa: BLE001 - the test reads the traceback
        out["exception"] = traceback.format_exc()
    finally:
        doc.close()
    return out


def write(result):
    with open(path(SCENARIO + result.get("suffix", "") + ".json"), "w") as fh:
        json.dump(result, fh, indent=1, default=str)


def main(*args):
    """kritarunner entry point (it passes the remaining command-line arguments)."""
    result = {
        "scenario": SCENARIO,
        "way": "kritarunner",
        "prefix": "krita_result" + TAG,
        "suffix": TAG,
        "krita_version": Krita.instance().version(),
    }
    import faulthandler

    fault = open(path("krita_faulthandler.txt"), "w")  # noqa: SIM115 - must outlive a crash
    faulthandler.enable(fault)
    try:
        app = Krita.instance()
        doc = app.openDocument(
            path(
                {"ora": "layers.ora", "nosky": "no_sky.png", "bench": "photo12.png"}.get(
                    SCENARIO, "photo.png"
                )
            )
        )
        ext = extension()
        ext.host.document = doc
        layer = next((n for n in doc.rootNode().childNodes() if n.type() == "paintlayer"), None)
        if layer is not None and SCENARIO != "ora":
            layer.setName("photo")
            result["_original"] = bytes(layer.pixelData(0, 0, doc.width(), doc.height()))
        scenario(doc, ext.run, result)
        result.pop("_original", None)
        result["reopened_stack"] = None
        if SCENARIO == "main" and result.get("saved_kra"):
            again = app.openDocument(path(result["prefix"] + ".kra"))
            result["reopened_stack"] = stack(again.rootNode())
            again.close()
        doc.close()
    except Exception:  # noqa: BLE001 - the test reads the traceback
        result["exception"] = traceback.format_exc()
    result.pop("_original", None)
    write(result)


# -- the GUI way: a pykrita plug-in that drives the real menu actions ------------------------------


def screenshot(window, docker, result):
    """The maximised window with the docker shown (on the Xvfb screen), and where the docker lies."""
    from PyQt5.QtCore import QPoint
    from PyQt5.QtWidgets import QAbstractButton, QApplication, QDockWidget

    qwindow = window.qwindow()
    qwindow.setGeometry(0, 0, 1920, 1080)  # Xvfb has no window manager to maximise it
    for other in qwindow.findChildren(
        QDockWidget
    ):  # the skyseg docker beside the layers, as a user sets it up
        if other.windowTitle() in ("Advanced Color Selector", "Brush Presets", "Tool Options"):
            other.close()
    docker.setVisible(True)
    docker.raise_()
    for _ in range(40):
        QApplication.processEvents()
        time.sleep(0.05)
    top_left = docker.mapToGlobal(QPoint(0, 0))
    screen = QApplication.primaryScreen().geometry()
    result["screen"] = [screen.width(), screen.height()]
    result["docker_rect"] = [top_left.x(), top_left.y(), docker.width(), docker.height()]
    result["docker_sections_in_view"] = [  # the tool box's section titles, docked at 1080p
        [
            b.text(),
            b.isVisible()
            and 0 <= b.mapTo(docker, QPoint(0, 0)).y() <= docker.height() - b.height(),
        ]
        for b in docker.findChildren(QAbstractButton)
        if b.metaObject().className() == "QToolBoxButton"
    ]
    qwindow.grab().save(path("krita_window.png"))
    docker.grab().save(path("krita_docker.png"))


def docker_controls(docker):
    """The docker's widgets as plain values: key -> [kind, value, low, high, choices]."""
    out = {}
    for key, widget in getattr(docker, "fields", {}).items():
        kind = type(widget).__name__
        if kind == "QDoubleSpinBox":
            out[key] = ["float", widget.value(), widget.minimum(), widget.maximum(), None]
        elif kind == "QCheckBox":
            out[key] = ["bool", widget.isChecked(), None, None, None]
        elif kind == "QComboBox":
            out[key] = [
                "choice",
                widget.currentData(),
                None,
                None,
                [widget.itemData(i) for i in range(widget.count())],
            ]
        else:
            out[key] = [kind, widget.text(), None, None, None]
    return out


def gui_start():
    from PyQt5.QtCore import QTimer

    app = Krita.instance()
    state = {"started": False}

    def begin():
        if state["started"]:
            return
        state["started"] = True
        QTimer.singleShot(500, gui_run)

    app.notifier().windowCreated.connect(begin)


def gui_run():
    result = {
        "scenario": SCENARIO,
        "way": "gui",
        "prefix": "krita_gui_result",
        "suffix": "_gui" + TAG,
        "krita_version": Krita.instance().version(),
    }
    app = Krita.instance()
    try:
        window = app.activeWindow()
        doc = app.openDocument(path("photo.png"))
        window.addView(doc)
        app.setActiveDocument(doc)
        layer = next(n for n in doc.rootNode().childNodes() if n.type() == "paintlayer")
        layer.setName("photo")
        doc.setActiveNode(layer)
        result["_original"] = bytes(layer.pixelData(0, 0, doc.width(), doc.height()))
        result["actions_registered"] = [
            name
            for name in (
                "skyseg_create_mask",
                "skyseg_select_sky",
                "skyseg_cut_out_sky",
                "skyseg_replace_sky",
                "skyseg_tint_sky",
                "skyseg_relight",
            )
            if app.action(name) is not None
        ]
        result["menu_text"] = (
            app.action("skyseg_create_mask").text() if app.action("skyseg_create_mask") else None
        )
        from PyQt5.QtWidgets import QDockWidget

        dockers = [
            d for d in window.qwindow().findChildren(QDockWidget) if d.windowTitle() == "skyseg"
        ]
        result["dockers"] = [d.windowTitle() for d in dockers]
        result["docker_visible_at_start"] = bool(dockers) and dockers[0].isVisible()
        if SCENARIO == "docker_shown":  # a first start after the install: is the docker shown?
            gui_end(result)
        if dockers:
            result["docker_controls"] = docker_controls(dockers[0])
            from PyQt5.QtCore import Qt

            combo = dockers[0].fields["source.method"]
            result["method_items"] = [
                [combo.itemData(i), combo.itemText(i), combo.itemData(i, Qt.ToolTipRole)]
                for i in range(combo.count())
            ]
            result["docker_min_height"] = dockers[0].minimumSizeHint().height()
            result["docker_scrolls"] = type(dockers[0].widget()).__name__
            if SCENARIO == "preview":  # the preview through the docker's own widgets
                import skyseg_e2e_preview

                skyseg_e2e_preview.gui(
                    doc, window, dockers[0], extension(), path, result, lambda: gui_end(result)
                )
                return
            screenshot(window, dockers[0], result)

        def trigger(method):
            ext = extension()
            before = (ext.last_error, ext.last_result)
            ext.last_error = ext.last_result = None
            app.action("skyseg_" + method).trigger()  # the registered action, as the menu does
            result.setdefault("triggered", []).append(method)
            del before
            return ext.last_error is None

        scenario(doc, trigger, result)
    except Exception:  # noqa: BLE001
        result["exception"] = traceback.format_exc()
    gui_end(result)


def gui_end(result):
    result.pop("_original", None)
    write(result)
    extension().stop_worker()
    os._exit(0)  # Krita 5.1 may ask about unsaved documents on quit: nothing left to check here
