"""The adapter between the plug-in's logic and Krita's API (``krita`` module and PyQt).

Everything that touches Krita objects or Qt is here, so ``logic.py`` stays plain Python and the
tests can run it against a fake ``krita`` module.

Pixels: an 8-bit RGBA Krita layer hands out its pixels as B, G, R, A bytes, a 16-bit one as B,
G, R, A 16-bit words. They go to the worker as raw binary PPM (8- or 16-bit, alpha dropped: the
core ignores it) and the result comes back as PPM, channels reordered with byte slices, so a
16-bit layer's result is a 16-bit layer too (opaque, as before). Masks and selections take one
byte per pixel (the worker's PGM matte). Layers in other colour spaces are read through their
8-bit sRGB thumbnail at full size.
"""

import sys
import threading

import skyseg_client
from krita import Krita, Selection

from .logic import PluginError
from .qt import QtCore, QtGui


def _fmt(name):
    return getattr(QtGui.QImage, name, None) or getattr(QtGui.QImage.Format, name)


FORMAT_BGRA = _fmt("Format_ARGB32")
LAYER_TYPES = ("paintlayer", "grouplayer", "filelayer", "clonelayer", "filllayer", "vectorlayer")


def _packed(image, bytes_per_pixel):
    """The image's pixels without the scanline padding QImage may add."""
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = bytes(image.constBits().asstring(stride * height))
    row = width * bytes_per_pixel
    if stride == row:
        return data
    return b"".join(data[y * stride : y * stride + row] for y in range(height))


def _bgra_to_rgb(data, sample=1):
    """B, G, R, A pixels as R, G, B (alpha dropped); ``sample``: bytes a sample (2: 16-bit words,
    moved whole, so their byte order is kept)."""
    rgb = bytearray(len(data) // 4 * 3)
    for channel, source in enumerate((2, 1, 0)):
        for byte in range(sample):  # byte slices: faster than array("H") ones
            rgb[channel * sample + byte :: 3 * sample] = data[source * sample + byte :: 4 * sample]
    return rgb


def _rgb_to_bgra(data, sample=1):
    """R, G, B pixels as opaque B, G, R, A (``sample`` as for :func:`_bgra_to_rgb`)."""
    bgra = bytearray(b"\xff") * (len(data) // 3 * 4)
    for channel, source in enumerate((2, 1, 0)):
        for byte in range(sample):
            bgra[channel * sample + byte :: 4 * sample] = data[source * sample + byte :: 3 * sample]
    return bytes(bgra)


def _read_netpbm(path, width, height, channels, sixteen):
    """The samples of the worker's PPM/PGM output, checked against what was asked for."""
    got_width, got_height, got_channels, got_sixteen, data = skyseg_client.read_netpbm(path)
    if (got_width, got_height, got_channels, got_sixteen) != (width, height, channels, sixteen):
        got = f"{got_width}x{got_height}x{got_channels} at {16 if got_sixteen else 8} bits"
        raise PluginError(
            f"the worker's output is {got}, expected {width}x{height}x{channels} at "
            f"{16 if sixteen else 8} bits"
        )
    return data


def _resample(data, sixteen):
    """Samples from 16 to 8 bits (``sixteen``: the high byte of each native word) or 8 to 16."""
    if sixteen:
        return data[1::2] if sys.byteorder == "little" else data[0::2]
    out = bytearray(len(data) * 2)
    out[0::2], out[1::2] = data, data  # v * 257
    return bytes(out)


class KritaHost:
    """Krita, as the plug-in's logic sees it."""

    def __init__(self, app=None, document=None):
        self.app = app or Krita.instance()
        self.document = document
        """A document to work on instead of the active one (scripts, windowless kritarunner)."""

    # -- where to work -------------------------------------------------------------------------

    def active_layer(self):
        doc = self.document or self.app.activeDocument()
        if doc is None:
            raise PluginError("open an image first")
        node = doc.activeNode()
        if node is None:  # no view (scripted): the top layer
            layers = [n for n in doc.rootNode().childNodes() if n.type() in LAYER_TYPES]
            node = layers[-1] if layers else None
        while node is not None and node.type() not in LAYER_TYPES:
            node = node.parentNode()  # a selected mask means its layer
        if node is None or node.parentNode() is None:
            raise PluginError("select a layer first")
        return doc, node

    # -- pixels out and in -----------------------------------------------------------------------

    def depth(self, node):
        """ "U16" for a 16-bit RGBA paint layer (kept 16-bit through the worker), else "U8"."""
        if (
            node.type() == "paintlayer"
            and node.colorModel() == "RGBA"
            and node.colorDepth() == "U16"
        ):
            return "U16"
        return "U8"

    def export_layer(self, doc, node, path):
        """Write the layer's pixels over the whole canvas to a binary PPM (16-bit for a 16-bit
        layer); returns (width, height)."""
        width, height = doc.width(), doc.height()
        sixteen = self.depth(node) == "U16"
        if sixteen or (
            node.type() == "paintlayer"
            and node.colorModel() == "RGBA"
            and node.colorDepth() == "U8"
        ):
            bgra = bytes(node.pixelData(0, 0, width, height))
        else:
            image = node.thumbnail(width, height).convertToFormat(FORMAT_BGRA)
            if image.isNull() or (image.width(), image.height()) != (width, height):
                raise PluginError(f"could not export the layer {node.name()!r} to {path}")
            bgra = _packed(image, 4)
        try:
            skyseg_client.write_netpbm(
                path, width, height, 3, _bgra_to_rgb(bgra, 2 if sixteen else 1), sixteen=sixteen
            )
        except (OSError, ValueError) as exc:
            raise PluginError(
                f"could not export the layer {node.name()!r} to {path} ({exc})"
            ) from None
        return width, height

    def read_grey(self, path, width, height):
        """The worker's PGM matte as one byte per pixel (255 = sky)."""
        return _read_netpbm(path, width, height, 1, False)

    def read_bgra(self, path, width, height, depth="U8"):
        """The worker's PPM result as opaque B, G, R, A bytes (16-bit words for ``depth`` "U16")."""
        sixteen = depth == "U16"
        return _rgb_to_bgra(_read_netpbm(path, width, height, 3, sixteen), 2 if sixteen else 1)

    # -- new nodes -------------------------------------------------------------------------------

    def add_grey_layer(self, doc, above, name, grey, width, height):
        """A new opaque 8-bit paint layer directly above ``above`` whose R, G and B are the
        matte's bytes (255 = sky)."""
        bgra = bytearray(b"\xff") * (len(grey) * 4)
        for channel in range(3):
            bgra[channel::4] = grey
        return self.add_paint_layer(doc, above, name, bytes(bgra), width, height, "U8")

    def add_group(self, doc, above, name, stack, width, height, depth="U8"):
        """A group layer ``name`` directly above ``above`` holding the worker's layer ``stack``
        (bottom to top; see ``skyseg_client.read_layers``): each a paint layer with its blend
        mode, opacity and visibility; a layer's alpha (the new sky's matte) becomes its
        transparency mask where Krita's scripting can fill one (5.2), else the layer's alpha."""
        group = doc.createGroupLayer(name)
        above.parentNode().addChildNode(group, above)
        sample = 2 if depth == "U16" else 1
        previous = None
        for spec in stack:
            rgb = spec["rgb"]
            if spec["sixteen"] != (sample == 2):  # the layer's depth: 8 <-> 16 bits
                rgb = _resample(rgb, spec["sixteen"])
            bgra = bytearray(_rgb_to_bgra(rgb, sample))
            alpha = spec["alpha"]
            mask = None
            if alpha is not None:
                mask = _resample(alpha, True) if spec["sixteen"] else alpha  # selections: 8-bit
                if not hasattr(doc, "createTransparencyMask"):
                    if spec["sixteen"] != (sample == 2):
                        alpha = _resample(alpha, spec["sixteen"])
                    for byte in range(sample):
                        bgra[3 * sample + byte :: 4 * sample] = alpha[byte::sample]
                    mask = None
            layer = doc.createNode(spec["name"], "paintlayer")
            group.addChildNode(layer, previous)
            previous = layer
            if (layer.colorModel(), layer.colorDepth()) != ("RGBA", depth):
                profile = above.colorProfile() if hasattr(above, "colorProfile") else ""
                layer.setColorSpace("RGBA", depth, profile or "sRGB-elle-V2-srgbtrc.icc")
            layer.setPixelData(bytes(bgra), 0, 0, width, height)
            layer.setBlendingMode(spec["krita_mode"])
            layer.setOpacity(int(round(255 * spec["opacity"])))
            layer.setVisible(bool(spec["visible"]))
            if mask is not None:
                selection = Selection()
                selection.setPixelData(bytes(mask), 0, 0, width, height)
                transparency = doc.createTransparencyMask(spec["name"] + " mask")
                layer.addChildNode(transparency, None)
                transparency.setSelection(selection)
        doc.setActiveNode(group)
        doc.refreshProjection()
        return group

    def set_selection(self, doc, grey, width, height):
        selection = Selection()
        selection.setPixelData(grey, 0, 0, width, height)
        doc.setSelection(selection)
        doc.waitForDone()

    def add_paint_layer(self, doc, above, name, bgra, width, height, depth="U8"):
        layer = doc.createNode(name, "paintlayer")
        above.parentNode().addChildNode(layer, above)
        if (layer.colorModel(), layer.colorDepth()) != ("RGBA", depth):
            profile = (
                above.colorProfile() if depth == "U16" and hasattr(above, "colorProfile") else ""
            )
            layer.setColorSpace("RGBA", depth, profile or "sRGB-elle-V2-srgbtrc.icc")
        layer.setPixelData(bgra, 0, 0, width, height)
        doc.setActiveNode(layer)
        doc.refreshProjection()
        return layer

    # -- running and reporting -------------------------------------------------------------------

    def run_blocking(self, work, what=""):
        """Run ``work()`` on a thread while Krita keeps processing events; return its result."""
        outcome = {}

        def target():
            try:
                outcome["value"] = work()
            except BaseException as exc:  # re-raised on the GUI thread below
                outcome["error"] = exc

        thread = threading.Thread(target=target, name=what or "skyseg", daemon=True)
        thread.start()
        while thread.is_alive():
            self._process_events(50)
            thread.join(0.02)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    @staticmethod
    def _process_events(milliseconds):
        flags = (
            QtCore.QEventLoop.AllEvents
            if hasattr(QtCore.QEventLoop, "AllEvents")
            else QtCore.QEventLoop.ProcessEventsFlag.AllEvents
        )
        QtCore.QCoreApplication.processEvents(flags, milliseconds)

    def notify(self, message, error=False):
        """A floating message on the canvas (never a modal box: it would block scripted runs)."""
        print(f"skyseg: {message}", file=sys.stderr)
        window = self.app.activeWindow()
        view = window.activeView() if window is not None else None
        if view is not None:
            try:
                from PyQt5.QtGui import QIcon
            except ImportError:  # pragma: no cover
                from PyQt6.QtGui import QIcon
            view.showFloatingMessage(f"skyseg: {message}", QIcon(), 8000 if error else 3000, 1)
