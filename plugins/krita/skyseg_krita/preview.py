"""The docker's live preview: a "skyseg preview" layer above the photo showing the effect being
set up, rendered on a working copy at screen size (``skyseg_client.Preview``) and scaled to the
canvas by Qt.

The working copy (long side ``skyseg_client.LONG_SIDE``) is made once when the preview is turned
on; its matte is cached, so a control change costs one effect at screen size. Renders run on a
thread (``skyseg_client.LatestRender``: debounced, the last change wins), which also decodes the
result and scales it to the canvas; a Qt timer on the GUI thread collects the newest one and
puts its pixels into the layer. The layer goes when the preview is turned off, before any action
runs (Apply makes the full-resolution result as before), when the image closes and on an error.

Undo: Krita's scripting adds a layer with an undo command ("Add Layer"; filling it adds none),
and in a window that command enters the document's history. When the preview goes and nothing
happened since (the Undo action still names that command, the layers are as they were), the
preview undoes its own command, so the history is as before the preview (with one Redo entry);
otherwise it removes the layer, which Krita records as "Remove Layer". Without a window
(kritarunner) Krita records neither.
"""

import time

import skyseg_client

from .host import SRGB, encoding, is_exchange
from .logic import PluginError
from .qt import QtCore, QtGui

PREVIEW_NAME = "skyseg preview"
"""The preview layer's name (it says what the layer is and where it comes from)."""

DEBOUNCE = 0.12
"""Seconds without a newer change before a render starts (a dragged slider makes one render)."""

SCREEN = ("RGBA", "U8", SRGB)
"""The working copy's and the preview layer's colour space (the preview is for the eye)."""


def _enum(scope, name, group):
    return getattr(scope, name, None) or getattr(getattr(scope, group), name)


def _is_screen(space):
    return is_exchange(space) and space[1] == "U8"


def _image_bytes(image):
    """A QImage's pixel bytes (its rows are ``bytesPerLine`` long)."""
    return bytes(image.constBits().asstring(image.sizeInBytes()))


def write_working_copy(host, doc, node, path, size):
    """Write ``node``'s pixels over the canvas, converted to 8-bit sRGB by Krita where they are
    in another colour space and scaled to ``size`` by Qt's smooth scaling, as a binary PPM."""
    width, height = doc.width(), doc.height()
    if node.type() == "paintlayer":
        data = bytes(node.pixelData(0, 0, width, height))
    else:
        data = bytes(node.projectionPixelData(0, 0, width, height))
    space = encoding(node)
    if not _is_screen(space):
        data = host.convert(data, width, height, space, SCREEN)
    argb = _enum(QtGui.QImage, "Format_ARGB32", "Format")  # B, G, R, A bytes, as Krita's
    image = QtGui.QImage(data, width, height, width * 4, argb)
    small = image.scaled(
        size[0],
        size[1],
        _enum(QtCore.Qt, "IgnoreAspectRatio", "AspectRatioMode"),
        _enum(QtCore.Qt, "SmoothTransformation", "TransformationMode"),
    ).convertToFormat(_enum(QtGui.QImage, "Format_RGB888", "Format"))
    if not small.save(path, "PPM"):
        raise PluginError(f"could not write the preview's working copy to {path}")


def scaled_bgra(path, width, height):
    """The rendered working copy at ``path`` scaled to ``width`` x ``height`` as opaque B, G, R, A
    bytes (Qt's smooth scaling; called on the render thread)."""
    image = QtGui.QImage(path)
    if image.isNull():
        raise PluginError(f"the preview {path} could not be read")
    big = image.scaled(
        width,
        height,
        _enum(QtCore.Qt, "IgnoreAspectRatio", "AspectRatioMode"),
        _enum(QtCore.Qt, "SmoothTransformation", "TransformationMode"),
    )
    opaque = _enum(QtGui.QImage, "Format_RGB32", "Format")  # B, G, R, 255: no conversion
    if big.format() != opaque:
        big = big.convertToFormat(_enum(QtGui.QImage, "Format_ARGB32", "Format"))
    return _image_bytes(big)


def _tree(node):
    return [(child.name(), child.type(), _tree(child)) for child in node.childNodes()]


class LivePreview:
    """The preview of one layer while the docker's Preview is on.

    Parameters
    ----------
    host : KritaHost
    actions : SkysegActions
        Its ``source`` says which layer a run reads (a result group's original photo).
    client : callable
        Returns the worker's client.
    on_stopped : callable
        Called with a message (or None) when the preview stops by itself (an error, the image
        closed), so the docker can show it off.
    """

    INTERVAL_MS = 40
    SETTLE_S = 1.0
    """How long after adding the layer Krita may still select it and name its undo step."""

    def __init__(self, host, actions, client, on_stopped):
        self.host = host
        self.actions = actions
        self.client = client
        self.on_stopped = on_stopped
        self.doc = self.anchor = self.layer = None
        self.preview = self.runner = None
        self._active = None
        """The layer selected before the preview layer was added."""
        self._added = (None, None)
        """The Undo action's text and the layers right after the preview layer was added."""
        self._settling = None
        """(until when, the Undo action's text before the add) while Krita catches up."""
        self.shown = 0
        """How many renders the layer has shown (tests and the benchmark read it)."""
        self.timer = QtCore.QTimer()
        self.timer.setInterval(self.INTERVAL_MS)
        self.timer.timeout.connect(self.tick)

    @property
    def active(self):
        return self.runner is not None

    def start(self, settings, effect):
        """Make the working copy of the active layer (the photo of a result group) and ask for
        the first render of ``effect``."""
        self.stop()
        doc, node = self.host.active_layer()
        node, anchor = self.actions.source(node)
        preview = skyseg_client.Preview(self.client, suffix=".ppm")
        try:
            path = preview.photo_path(".ppm")
            size = skyseg_client.working_size(doc.width(), doc.height())
            write_working_copy(self.host, doc, node, path, size)
            preview.set_photo(path)
        except BaseException:
            preview.close()
            raise
        width, height = doc.width(), doc.height()
        selection = self.host.selection_bytes(doc)  # the effect shows where the result will

        def prepare(rendered):
            bgra = scaled_bgra(rendered, width, height)
            if selection is None:
                return bgra
            bgra = bytearray(bgra)
            bgra[3::4] = selection  # transparent where nothing is selected: the photo shows
            return bytes(bgra)

        self.doc, self.anchor, self.preview, self.shown = doc, anchor, preview, 0
        self.runner = skyseg_client.LatestRender(preview, DEBOUNCE, prepare=prepare)
        self.change(settings, effect)
        self.timer.start()

    def change(self, settings, effect):
        """A control of ``effect`` (or the matte source) changed: render it (the last one wins)."""
        if self.runner is not None:
            self.runner.submit(effect, settings.params(effect))

    def tick(self):
        """The GUI thread's timer: stop when the image or the photo went, else show the newest
        finished render, or stop on its error."""
        if self.runner is None:
            return
        try:
            self.host.check_open(self.doc, self.anchor)
        except PluginError:
            self.stop(remove=False)  # the image closed: nothing to remove from
            self.on_stopped(None)
            return
        if self._settling is not None:
            self._settle()
        self._handle(self.runner.poll())

    def wait(self, timeout=60.0):
        """Block until the newest change is rendered, then show it (scripts and tests)."""
        if self.runner is not None:
            self._handle(self.runner.wait(timeout))

    def _handle(self, result):
        if result is None:
            return
        if result.error is not None:
            error = result.error
            self.stop()
            self.on_stopped(
                error.for_user() if isinstance(error, skyseg_client.WorkerError) else str(error)
            )
            return
        self._show(result.prepared)

    def _show(self, bgra):
        doc = self.doc
        width, height = doc.width(), doc.height()
        layer = self.layer
        try:
            alive = layer is not None and layer.parentNode() is not None
        except RuntimeError:
            alive = False
        if not alive:
            layer = doc.createNode(PREVIEW_NAME, "paintlayer")
            if not _is_screen(encoding(layer)):  # an empty layer: converted at no cost
                layer.setColorSpace(*SCREEN)
            self._active = doc.activeNode()
            before = self.host.undo_text(doc)
            self.anchor.parentNode().addChildNode(layer, self.anchor)
            self.layer = layer
            self._added = (None, None)
            self._settling = (time.monotonic() + self.SETTLE_S, before)
        layer.setPixelData(bgra, 0, 0, width, height)
        doc.refreshProjection()
        self.shown += 1

    def _settle(self):
        """After the layer was added, while Krita catches up (its window selects the new layer
        and names the undo step a little later): keep the user's layer selected, and note the
        step when the Undo action first names a new one (or, the same name, when the time is
        up)."""
        deadline, before = self._settling
        active = self.doc.activeNode()
        if self._active is not None and active is not None:
            if active.uniqueId() == self.layer.uniqueId():  # the user's layer stays selected
                self.doc.setActiveNode(self._active)
        text = self.host.undo_text(self.doc)
        if self._added == (None, None) and (text != before or time.monotonic() > deadline):
            self._added = (text, _tree(self.doc.rootNode()))  # once: later steps are the user's
        if time.monotonic() > deadline:
            self._settling = None

    def _remove(self, layer):
        """Undo the layer's own "Add Layer" when it is the last thing done, else remove it."""
        doc, (text, tree) = self.doc, self._added or (None, None)
        if text is not None and self.host.undo_text(doc) == text and _tree(doc.rootNode()) == tree:
            self.host.undo(doc)
        if layer.parentNode() is not None:
            layer.remove()
        doc.refreshProjection()

    def stop(self, remove=True):
        """Stop rendering, remove the preview layer (``remove``: the image is still open) and the
        preview's files."""
        self.timer.stop()
        runner, preview, layer = self.runner, self.preview, self.layer
        self.runner = self.preview = self.layer = None
        self._settling = None
        if runner is not None:
            runner.close(timeout=2.0)
        if layer is not None and remove:
            try:
                if layer.parentNode() is not None:
                    self._remove(layer)
            except RuntimeError:  # a deleted wrapper: the image went meanwhile
                pass
        if preview is not None:
            preview.close()
        self.doc = self.anchor = None
