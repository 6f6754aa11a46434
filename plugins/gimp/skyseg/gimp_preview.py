"""skyseg for GIMP 3, the effect dialogs' live preview on the canvas, as GEGL filters have.

While "Preview" is ticked, a temporary layer above the photo shows the effect rendered on a
working copy at screen size (``skyseg_client.Preview``: the matte made once, each change one
effect with that matte), scaled by GIMP to the photo's size and limited to the selection like
the real run. The image's undo history is frozen meanwhile and its clean state kept, so closing
the dialog (OK or Cancel) leaves no preview layer, no undo step and no change mark; OK then runs
at full resolution as without a preview.
"""

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
import gimp_pixels  # noqa: E402
import gimp_worker  # noqa: E402
import skyseg_client  # noqa: E402
from gi.repository import Gegl, Gimp, GLib  # noqa: E402

PREVIEW_LAYER = "skyseg preview"
POLL_MS = 50
"""How often the dialog collects a finished render (the renders run on their own thread)."""


class CanvasPreview:
    """The preview layer over ``layer`` in ``image``, shown and removed without an undo step.

    Creating it freezes the image's undo history (what it adds and removes is not recorded);
    :meth:`close` removes the layer, thaws the history and marks the image clean again when it
    was clean before, and gives back the layers that were selected.
    """

    def __init__(self, image, layer):
        self.image, self.layer = image, layer
        self.shown = None
        """The preview layer now in the image, None before the first :meth:`show`."""
        self._was_dirty = image.is_dirty()
        self._selected = list(image.get_selected_layers())
        image.undo_freeze()
        self._frozen = True

    def write_working_copy(self, path):
        """The layer's own pixels (no mask, no offsets) at the working size
        (``skyseg_client.working_size``), scaled by GIMP and converted to sRGB 8-bit (a scratch
        image does both, so the user's image is not touched), as a PPM at ``path``."""
        width, height = skyseg_client.working_size(self.layer.get_width(), self.layer.get_height())
        scratch = Gimp.Image.new(
            self.layer.get_width(), self.layer.get_height(), Gimp.ImageBaseType.RGB
        )
        try:
            scratch.undo_disable()
            copy = Gimp.Layer.new_from_drawable(self.layer, scratch)
            scratch.insert_layer(copy, None, 0)
            if copy.get_mask() is not None:
                copy.remove_mask(Gimp.MaskApplyMode.DISCARD)
            copy.set_offsets(0, 0)
            copy.scale(width, height, False)
            rect = Gegl.Rectangle.new(0, 0, width, height)
            data = copy.get_buffer().get(rect, 1.0, "R'G'B' u8", Gegl.AbyssPolicy.CLAMP)
        finally:
            scratch.delete()
        skyseg_client.write_netpbm(path, width, height, 3, data)
        return width, height

    def show(self, pixels):
        """Show a rendered working copy (``read_preview``'s pixels) over the layer: a new
        preview layer of the layer's size and place (GIMP scales it up), masked by the
        selection, in place of the previous one."""
        width, height, data = pixels
        new = gimp_pixels.grey_layer(self.image, PREVIEW_LAYER, width, height)  # the image's type
        buffer = new.get_buffer()  # sRGB samples, converted to the image's own encoding
        buffer.set(Gegl.Rectangle.new(0, 0, width, height), "R'G'B' u8", data)
        buffer.flush()
        if self.shown is not None:  # first, or GIMP names the new one "skyseg preview #1"
            self.image.remove_layer(self.shown)
            self.shown = None
        gimp_pixels.insert_above(self.image, new, self.layer)
        # nearest neighbour: the working copy is about the screen's size, and at 24 MP a smooth
        # upscale takes seconds (3 x the time with linear, 6 x with cubic)
        Gimp.context_push()
        try:
            Gimp.context_set_interpolation(Gimp.InterpolationType.NONE)
            new.scale(self.layer.get_width(), self.layer.get_height(), True)
        finally:
            Gimp.context_pop()
        _, x, y = self.layer.get_offsets()
        new.set_offsets(x, y)
        gimp_pixels.limit_to_selection(new)
        self.shown = new
        self.image.set_selected_layers(self._selected)
        Gimp.displays_flush()

    def close(self):
        """Remove the preview layer and leave the image as it was (history, clean state,
        selected layers)."""
        if self.shown is not None:
            self.image.remove_layer(self.shown)
            self.shown = None
        if self._frozen:
            self._frozen = False
            self.image.undo_thaw()
            if not self._was_dirty:
                self.image.clean_all()
            self.image.set_selected_layers(self._selected)
            Gimp.displays_flush()


def read_preview(path):
    """(width, height, sRGB bytes) of a rendered working copy (8-bit PPM); read on the render
    thread, off GIMP's."""
    width, height, channels, sixteen, data = skyseg_client.read_netpbm(path)
    if channels != 3 or sixteen:
        raise skyseg_client.WorkerError(f"the preview {path} is not an 8-bit RGB image")
    return width, height, data


class DialogPreview:
    """The dialog's "Preview" toggle: renders ``op`` with ``params_of(config)`` (the values the
    full run would take) on a working copy of ``layer`` as the controls change, and shows each
    result with a :class:`CanvasPreview`; ``status`` (a callable taking a line of text, or
    None) is told when a render fails."""

    def __init__(self, image, layer, op, params_of, status=None):
        self.image, self.layer, self.op, self.params_of = image, layer, op, params_of
        self.status = status or (lambda text: None)
        self.canvas = self.client = self.preview = self.renders = None
        self._timer = None

    @property
    def active(self):
        return self.renders is not None

    def start(self, config):
        """Make the working copy, render the current values and keep rendering changes."""
        if self.active:
            return
        self.canvas = CanvasPreview(self.image, self.layer)
        self.client = gimp_worker.client()  # its own connection, used by the render thread
        self.preview = skyseg_client.Preview(self.client, suffix=".ppm")
        self.renders = skyseg_client.LatestRender(self.preview, prepare=read_preview)
        try:
            path = self.preview.photo_path(".ppm")
            self.canvas.write_working_copy(path)
            self.preview.set_photo(path)
        except (OSError, skyseg_client.WorkerError) as exc:
            self.stop()
            self.status(f"No preview: {exc}")
            return
        self.status("")
        self._timer = GLib.timeout_add(POLL_MS, self._collect)
        self.changed(config)

    def changed(self, config):
        """A control changed: render the new values (the newest change wins)."""
        if self.active:
            self.renders.submit(self.op, self.params_of(config))

    def _collect(self):
        if not self.active:
            return False
        result = self.renders.poll()
        if result is not None:
            self.show(result)
        return True

    def show(self, result):
        """Show one finished render (``skyseg_client.RenderResult``) or say why it failed."""
        if result.error is not None:
            error = result.error
            self.status(f"No preview: {error.for_user() if hasattr(error, 'for_user') else error}")
            return
        try:
            self.canvas.show(result.prepared)
        except (OSError, skyseg_client.WorkerError) as exc:
            self.status(f"No preview: {exc}")
            return
        self.status("")

    def stop(self):
        """Stop rendering and remove the preview, leaving the image as it was."""
        if self._timer is not None:
            GLib.source_remove(self._timer)
            self._timer = None
        if self.renders is not None:
            self.renders.close()
            self.renders = None
        if self.preview is not None:
            self.preview.close()
            self.preview = None
        if self.client is not None:
            self.client.stop()
            self.client = None
        if self.canvas is not None:
            self.canvas.close()
            self.canvas = None
