"""The adapter between the plug-in's logic and Krita's API (``krita`` module and PyQt).

Everything that touches Krita objects or Qt is here, so ``logic.py`` stays plain Python and the
tests can run it against a fake ``krita`` module.

Pixels: an 8-bit RGBA Krita layer hands out its pixels as B, G, R, A bytes, a 16-bit one as B,
G, R, A 16-bit words. They go to the worker as raw binary PPM (8- or 16-bit, alpha dropped: the
core ignores it) and the result comes back as PPM, channels reordered with byte slices, so a
16-bit layer's result is a 16-bit layer too (opaque, as before). Masks and selections take one
byte per pixel (the worker's PGM matte).

The core reads sRGB-encoded RGB. A layer in any other colour space (a linear or other profile,
greyscale, float, CMYK, Lab) is converted to sRGB-encoded RGBA (U8 from U8, else U16) by Krita's
own colour engine on a scratch document that is closed afterwards (the user's document gets no
step from it); the result layers are converted back to the layer's colour space, so they hold
the document's own encoding. Float layers reach the core clipped to 0..1 (it is 8/16-bit); the
result group's "original photo" is the user's layer's own pixels, so values above 1.0 stay there.
"""

import sys
import threading
import time

import skyseg_client
from krita import Krita, Selection

from .channels import INVERT, bgra_to_rgb, read_netpbm, read_rgba, resample, rgb_to_bgra
from .logic import Cancelled, PluginError
from .qt import QtCore

LAYER_TYPES = ("paintlayer", "grouplayer", "filelayer", "clonelayer", "filllayer", "vectorlayer")
SRGB = "sRGB-elle-V2-srgbtrc.icc"
"""The profile of the pixels the worker exchanges (sRGB primaries and tone curve)."""
SRGB_ENCODED = frozenset({SRGB, "sRGB built-in", "sRGB IEC61966-2.1"})
"""Profiles whose RGBA pixels go to the worker as they are (the others are converted)."""


def encoding(node):
    """The node's colour space as (model, depth, profile); a node without a profile (a test's
    fake) counts as sRGB."""
    profile = node.colorProfile() if hasattr(node, "colorProfile") else SRGB
    return node.colorModel(), node.colorDepth(), profile or SRGB


def exchange(space):
    """The colour space the worker's pixels of a layer in ``space`` travel in: sRGB-encoded
    RGBA, 8-bit from an 8-bit RGB or grey layer, else 16-bit (CMYK and Lab through 8 bits lose
    more to rounding in the conversion)."""
    eight = space[1] == "U8" and space[0] in ("RGBA", "GRAYA")
    return "RGBA", "U8" if eight else "U16", SRGB


def is_exchange(space):
    return space[0] == "RGBA" and space[1] in ("U8", "U16") and space[2] in SRGB_ENCODED


def _enum(scope, name, group):
    return getattr(scope, name, None) or getattr(getattr(scope, group), name)


class _EscapeFilter(QtCore.QObject):
    """Calls ``on_escape`` for an Esc key press anywhere in the application (and eats it)."""

    def __init__(self, on_escape):
        super().__init__()
        self.on_escape = on_escape
        self.key_press = _enum(QtCore.QEvent, "KeyPress", "Type")
        self.escape = _enum(QtCore.Qt, "Key_Escape", "Key")

    def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
        if event.type() == self.key_press and event.key() == self.escape:
            self.on_escape()
            return True
        return False


class KritaHost:
    """Krita, as the plug-in's logic sees it."""

    def __init__(self, app=None, document=None):
        self.app = app or Krita.instance()
        self.document = document
        """A document to work on instead of the active one (scripts, windowless kritarunner)."""
        self.on_cancel = None
        """Called on Esc while a run is in flight (the extension stops the worker)."""
        self.on_tick = None
        """Called with the seconds a run has taken, about 20 times a second while it runs."""
        self.cancelled = False
        """Set by the canceller; the run in flight then ends in :class:`Cancelled`."""

    def check_open(self, doc, node):
        """Raise :class:`PluginError` when ``doc`` was closed, or ``node`` removed from it,
        while the worker ran (nothing is added then)."""
        try:
            gone = doc.rootNode() is None or node.parentNode() is None
        except (RuntimeError, AttributeError):  # a deleted wrapper
            gone = True
        if gone:
            raise PluginError("the image or its layer was closed while skyseg ran; nothing added")

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

    @staticmethod
    def space(node):
        """The layer's colour space (model, depth, profile): its results are made in it."""
        return encoding(node)

    def depth(self, node):
        """ "U16" for a layer deeper than 8 bits (kept 16-bit through the worker), else "U8"."""
        return exchange(encoding(node))[1]

    def convert(self, data, width, height, source, target):
        """``width`` x ``height`` pixels from colour space ``source`` to ``target`` ((model, depth,
        profile) each) by Krita's own conversion, on a scratch document closed afterwards (the
        user's document gets no undo step from it)."""
        scratch = self.app.createDocument(width, height, "skyseg conversion", *source, 72.0)
        if scratch is None:
            raise PluginError(f"Krita cannot make a {' '.join(source)} image to convert from")
        try:
            layer = scratch.createNode("pixels", "paintlayer")
            scratch.rootNode().addChildNode(layer, None)
            layer.setPixelData(data, 0, 0, width, height)
            if not layer.setColorSpace(*target):
                raise PluginError(f"Krita cannot convert {' '.join(source)} to {' '.join(target)}")
            scratch.waitForDone()
            return bytes(layer.pixelData(0, 0, width, height))
        finally:
            scratch.close()

    @staticmethod
    def pixels(doc, node):
        """The layer's pixels over the whole canvas in its own colour space (groups, file, fill
        and vector layers: what they show)."""
        width, height = doc.width(), doc.height()
        if node.type() == "paintlayer":
            return bytes(node.pixelData(0, 0, width, height))
        return bytes(node.projectionPixelData(0, 0, width, height))

    def export_layer(self, doc, node, path):
        """Write the layer's pixels over the whole canvas to a binary PPM, sRGB-encoded (16-bit
        for a layer deeper than 8 bits); returns (width, height)."""
        width, height = doc.width(), doc.height()
        space = encoding(node)
        data = self.pixels(doc, node)
        if not is_exchange(space):
            data = self.convert(data, width, height, space, exchange(space))
        sixteen = exchange(space)[1] == "U16"
        try:
            skyseg_client.write_netpbm(
                path, width, height, 3, bgra_to_rgb(data, 2 if sixteen else 1), sixteen=sixteen
            )
        except (OSError, ValueError) as exc:
            raise PluginError(
                f"could not export the layer {node.name()!r} to {path} ({exc})"
            ) from None
        return width, height

    def read_grey(self, path, width, height):
        """The worker's PGM matte as one byte per pixel (255 = sky)."""
        return read_netpbm(path, width, height, 1, False)

    def read_bgra(self, path, width, height, depth="U8"):
        """The worker's PPM result as opaque B, G, R, A bytes (16-bit words for ``depth`` "U16")."""
        sixteen = depth == "U16"
        return rgb_to_bgra(read_netpbm(path, width, height, 3, sixteen), 2 if sixteen else 1)

    def read_rgba(self, path, width, height, depth="U8"):
        """The worker's RGBA picture (an RGBA step's PNG) as (B, G, R, A at ``depth``: 16-bit
        words for "U16", its alpha one byte a pixel); see :func:`channels.read_rgba`."""
        return read_rgba(path, width, height, depth == "U16")

    # -- new nodes -------------------------------------------------------------------------------

    def add_grey_layer(self, doc, above, name, grey, width, height):
        """A new opaque 8-bit paint layer directly above ``above`` whose R, G and B are the
        matte's bytes (255 = sky)."""
        bgra = bytearray(b"\xff") * (len(grey) * 4)
        for channel in range(3):
            bgra[channel::4] = grey
        return self.add_paint_layer(doc, above, name, bytes(bgra), width, height, "U8")

    def add_group(
        self,
        doc,
        above,
        name,
        stack,
        width,
        height,
        space=("RGBA", "U8", SRGB),
        limit=None,
        source=None,
    ):
        """A group layer ``name`` directly above ``above`` holding the worker's layer ``stack``
        (bottom to top; see ``skyseg_client.read_layers``): each a paint layer with its blend
        mode, opacity and visibility, in colour space ``space`` (the photo layer's: see
        :func:`encoding`); a layer's alpha (the new sky's matte) becomes its transparency mask
        where Krita's scripting can fill one (5.2), else the layer's alpha.

        ``limit``, the active selection (one byte per pixel, :meth:`selection_bytes`), limits
        where the result shows, as a host filter's: the group gets it as a transparency mask
        "selection" (5.2), or (5.1, which cannot fill one) a top layer "outside the selection"
        that erases the group's pixels where nothing is selected; outside, the layers below
        show through. ``source``, the layer the worker read: the "original photo" layer gets its
        own pixels, exactly (float values above 1.0, CMYK, Lab and transparency included)."""
        group = doc.createGroupLayer(name)
        above.parentNode().addChildNode(group, above)
        depth = exchange(space)[1]
        sample = 2 if depth == "U16" else 1
        previous = None
        for spec in stack:
            rgb = spec["rgb"]
            if spec["sixteen"] != (sample == 2):  # the layer's depth: 8 <-> 16 bits
                rgb = resample(rgb, spec["sixteen"])
            bgra = bytearray(rgb_to_bgra(rgb, sample))
            alpha = spec["alpha"]
            mask = None
            if alpha is not None:
                mask = resample(alpha, True) if spec["sixteen"] else alpha  # selections: 8-bit
                if not hasattr(doc, "createTransparencyMask"):
                    if spec["sixteen"] != (sample == 2):
                        alpha = resample(alpha, spec["sixteen"])
                    for byte in range(sample):
                        bgra[3 * sample + byte :: 4 * sample] = alpha[byte::sample]
                    mask = None
            layer = doc.createNode(spec["name"], "paintlayer")
            group.addChildNode(layer, previous)
            previous = layer
            if spec["name"] == skyseg_client.ORIGINAL_LAYER and source is not None:
                # the user's own pixels, not their round trip through the worker: values a
                # conversion or the core's 8/16 bits would change (float above 1.0, CMYK, Lab,
                # transparency) are kept exactly
                if encoding(layer) != tuple(space):  # an empty layer: converted at no cost
                    layer.setColorSpace(*space)
                layer.setPixelData(self.pixels(doc, source), 0, 0, width, height)
            else:
                self._fill(layer, bytes(bgra), width, height, space)
            layer.setBlendingMode(spec["krita_mode"])
            layer.setOpacity(int(round(255 * spec["opacity"])))
            layer.setVisible(bool(spec["visible"]))
            if mask is not None:
                selection = Selection()
                selection.setPixelData(bytes(mask), 0, 0, width, height)
                transparency = doc.createTransparencyMask(spec["name"] + " mask")
                layer.addChildNode(transparency, None)
                transparency.setSelection(selection)
        if limit is not None:
            self._limit_to(doc, group, previous, limit, width, height)
        doc.setActiveNode(group)
        doc.refreshProjection()
        return group

    @staticmethod
    def _limit_to(doc, group, top, selection, width, height):
        """Show ``group`` only where ``selection`` selects (see :meth:`add_group`)."""
        if hasattr(doc, "createTransparencyMask"):
            mask = Selection()
            mask.setPixelData(selection, 0, 0, width, height)
            transparency = doc.createTransparencyMask("selection")
            group.addChildNode(transparency, top)
            transparency.setSelection(mask)
            return
        eraser = doc.createNode("outside the selection", "paintlayer")
        group.addChildNode(eraser, top)
        bgra = bytearray(len(selection) * 4)  # black, opaque where nothing is selected
        bgra[3::4] = selection.translate(INVERT)
        KritaHost._fill(eraser, bytes(bgra), width, height, ("RGBA", "U8", SRGB))
        eraser.setBlendingMode("erase")

    def selection_bytes(self, doc):
        """The active selection over the canvas, one byte per pixel (255 selected), or None when
        there is none (the whole image)."""
        selection = doc.selection()
        if selection is None:
            return None
        return bytes(selection.pixelData(0, 0, doc.width(), doc.height()))

    @staticmethod
    def _fill(layer, bgra, width, height, space):
        """Put the worker's pixels (sRGB-encoded B, G, R, A at the exchange depth of ``space``)
        into the new ``layer``, then convert it to ``space`` where that differs."""
        target = exchange(space)
        model, depth, profile = encoding(layer)
        if (model, depth) != target[:2] or profile not in SRGB_ENCODED:
            layer.setColorSpace(*target)
        layer.setPixelData(bgra, 0, 0, width, height)
        if not is_exchange(space):
            layer.setColorSpace(*space)

    def set_selection(self, doc, grey, width, height):
        selection = Selection()
        selection.setPixelData(grey, 0, 0, width, height)
        doc.setSelection(selection)
        doc.waitForDone()

    def add_rgba_layer(self, doc, above, name, bgra, width, height, space):
        """A new paint layer ``name`` directly above ``above`` holding sRGB-encoded B, G, R, A
        pixels with their transparency (at the exchange depth of ``space``), converted to
        ``space`` (the photo layer's: see :func:`encoding`) by Krita's colour engine."""
        layer = doc.createNode(name, "paintlayer")
        above.parentNode().addChildNode(layer, above)
        self._fill(layer, bgra, width, height, space)
        doc.setActiveNode(layer)
        doc.refreshProjection()
        return layer

    def add_paint_layer(self, doc, above, name, bgra, width, height, depth="U8"):
        """A new paint layer above ``above`` holding sRGB-encoded RGBA pixels at ``depth``."""
        layer = doc.createNode(name, "paintlayer")
        above.parentNode().addChildNode(layer, above)
        self._fill(layer, bgra, width, height, ("RGBA", depth, SRGB))
        doc.setActiveNode(layer)
        doc.refreshProjection()
        return layer

    # -- undo ------------------------------------------------------------------------------------

    def undo_text(self, doc):
        """The Undo action's text while ``doc`` is the active document and has something to undo,
        else None (no window: kritarunner records no undo steps)."""
        action = self.app.action("edit_undo")
        if action is None or not action.isEnabled() or self.app.activeDocument() != doc:
            return None
        return action.text()

    def undo(self, doc):
        """Undo the last step of ``doc`` (the active document), as Edit > Undo does."""
        self.app.action("edit_undo").trigger()
        doc.waitForDone()

    # -- running and reporting -------------------------------------------------------------------

    def run_blocking(self, work, what=""):
        """Run ``work()`` on a thread while Krita keeps processing events; return its result."""
        outcome = {}

        def target():
            try:
                outcome["value"] = work()
            except BaseException as exc:  # re-raised on the GUI thread below
                outcome["error"] = exc

        if self.cancelled:
            raise Cancelled("cancelled: nothing added")
        thread = threading.Thread(target=target, name=what or "skyseg", daemon=True)
        escape = None
        application = QtCore.QCoreApplication.instance()
        if self.on_cancel is not None and application is not None:
            escape = _EscapeFilter(self.on_cancel)
            application.installEventFilter(escape)
        start = time.monotonic()
        thread.start()
        try:
            while thread.is_alive() and not self.cancelled:  # cancelled: no waiting for it
                self._process_events(50)
                thread.join(0.02)
                if self.on_tick is not None:
                    self.on_tick(time.monotonic() - start)
        finally:
            if escape is not None:
                application.removeEventFilter(escape)
        if self.cancelled:  # the worker was stopped: its error is the cancel's doing
            raise Cancelled("cancelled: nothing added")
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
