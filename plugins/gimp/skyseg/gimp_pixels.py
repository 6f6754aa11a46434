"""skyseg for GIMP 3, pixels in and out of GIMP: a layer's samples for the worker, the worker's
mattes and layer stacks back into masks, channels, layers and result groups, and which layer a
run reads (a result group's original photo, never a previous result)."""

import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
import skyseg_client  # noqa: E402
from gi.repository import Babl, Gegl, Gimp, Gio  # noqa: E402


def raw_exchange(image):
    """Whether pixels travel as raw PPM/PGM: an RGB image. Its samples are read and written in
    sRGB ("R'G'B'" formats): for an image with a colour profile of its own, GIMP's colour
    engine (babl) converts between the profile and sRGB, in which the effects compute."""
    return image.get_base_type() == Gimp.ImageBaseType.RGB


def _rgb_format(image):
    """The perceptual RGB format the layer's samples are read in (16-bit above 8-bit precision)."""
    return "R'G'B' u8" if image.get_precision().value_nick.startswith("u8") else "R'G'B' u16"


def export_layer(layer, tmp):
    """Write the layer's own pixels (no mask, no offsets) for the worker; returns the file.

    Raw PPM straight from the layer's buffer (16-bit above 8-bit precision): no export plug-in
    to start and nothing to compress (GIMP's default PNG export took 25 s of a 29 s call at
    12 MP, an uncompressed TIFF export six times what this takes). Other images: an uncompressed TIFF.
    """
    image = layer.get_image()
    width, height = layer.get_width(), layer.get_height()
    if raw_exchange(image):
        path = os.path.join(tmp, "layer.ppm")
        fmt = _rgb_format(image)
        data = layer.get_buffer().get(
            Gegl.Rectangle.new(0, 0, width, height), 1.0, fmt, Gegl.AbyssPolicy.CLAMP
        )
        skyseg_client.write_netpbm(path, width, height, 3, data, sixteen=fmt.endswith("u16"))
        return path
    path = os.path.join(tmp, "layer.tif")
    tmp_image = Gimp.Image.new_with_precision(
        width, height, image.get_base_type(), image.get_precision()
    )
    try:
        if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
            tmp_image.set_palette(image.get_palette())
        copy = Gimp.Layer.new_from_drawable(layer, tmp_image)
        tmp_image.insert_layer(copy, None, 0)
        if copy.get_mask() is not None:
            copy.remove_mask(Gimp.MaskApplyMode.DISCARD)
        copy.set_offsets(0, 0)
        _save_uncompressed(tmp_image, path)
    finally:
        tmp_image.delete()
    return path


def _save_uncompressed(image, path):
    procedure = Gimp.get_pdb().lookup_procedure("file-tiff-export")
    if procedure is None:  # a GIMP without the TIFF plug-in: its default PNG export
        Gimp.file_save(
            Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path + ".png"), None
        )
        os.replace(path + ".png", path)
        return
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_property("file", Gio.File.new_for_path(path))
    config.set_property("compression", "none")
    for name in (
        "include-exif",
        "include-iptc",
        "include-xmp",
        "include-thumbnail",
        "include-comment",
    ):
        config.set_property(name, False)
    values = procedure.run(config)
    if values.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise skyseg_client.WorkerError(f"GIMP could not write the layer to {path}")


def read_grey(path, width, height):
    """The grey bytes (one per pixel, 255 = sky) of the worker's PGM matte."""
    got_width, got_height, channels, sixteen, data = skyseg_client.read_netpbm(path)
    if (got_width, got_height) != (width, height) or channels != 1 or sixteen:
        raise skyseg_client.WorkerError(
            f"the worker's matte is {got_width}x{got_height}x{channels}, expected 8-bit {width}x{height}"
        )
    return data


def grey_format(drawable):
    """The 8-bit grey format with the drawable's own encoding, so bytes go in unconverted.

    GIMP reads mask, channel and selection values as they are stored (a channel of an 8-bit
    perceptual image is "Y' u8", a layer mask "Y u8"): 128 must land as 128, i.e. 50 % sky.
    """
    return "Y' u8" if Babl.get_name(drawable.get_format()).startswith("Y'") else "Y u8"


def write_grey(drawable, data, x, y, width, height):
    """Write matte bytes (255 = sky) into a mask or channel."""
    buffer = drawable.get_buffer()
    buffer.set(Gegl.Rectangle.new(x, y, width, height), grey_format(drawable), data)
    buffer.flush()
    drawable.update(x, y, width, height)


def _is_original(layer):
    """Whether ``layer`` is a result group's "original photo" (GIMP makes layer names unique in
    an image: the second group's is "original photo #1")."""
    name, original = layer.get_name(), skyseg_client.ORIGINAL_LAYER
    return name == original or (
        name.startswith(original + " #") and name[len(original) + 2 :].isdigit()
    )


def skyseg_group(item):
    """The skyseg result group ``item`` is or lies in (a group whose bottom layer is the core's
    "original photo"), else None."""
    while item is not None:
        if item.is_group():
            children = item.get_children()  # top first
            if children and not children[-1].is_group() and _is_original(children[-1]):
                return item
        item = item.get_parent()
    return None


def source_layer(image, drawables):
    """The layer to work on: the selected layer (a selected mask means its layer); in or on a
    skyseg result group, the group's original photo, never a previous result."""
    drawable = drawables[0] if drawables else None
    if isinstance(drawable, Gimp.LayerMask):
        drawable = Gimp.Layer.from_mask(drawable)
    if isinstance(drawable, Gimp.Layer):
        group = skyseg_group(drawable)
        if group is not None:
            return group.get_children()[-1]
    if not isinstance(drawable, Gimp.Layer) or drawable.is_group():
        raise skyseg_client.WorkerError("select a pixel layer first")
    return drawable


def insert_above(image, new, layer):
    """Put ``new`` directly above ``layer``, or above the skyseg group ``layer`` is the source
    of (a new result never goes inside a previous one)."""
    anchor = skyseg_group(layer) or layer
    image.insert_layer(new, anchor.get_parent(), image.get_item_position(anchor))


def limit_to_selection(item):
    """Give ``item`` (a result group, a preview layer) the image's selection as its layer mask,
    so that it changes only the selected pixels, as GIMP's own filters do (no selection: the
    whole image). The mask stays editable."""
    if Gimp.Selection.is_empty(item.get_image()):
        return
    item.add_mask(item.create_mask(Gimp.AddMaskType.SELECTION))


def grey_layer(image, name, width, height):
    """A new opaque grey layer (an RGB layer in an RGB image) of the image's base type."""
    kind = (
        Gimp.ImageType.GRAY_IMAGE
        if image.get_base_type() == Gimp.ImageBaseType.GRAY
        else Gimp.ImageType.RGB_IMAGE
    )
    return Gimp.Layer.new(image, name, width, height, kind, 100.0, Gimp.LayerMode.NORMAL)


def _stack_layer(image, spec, width, height):
    """One layer of the worker's stack: its pixels, blend mode, opacity and visibility; its
    alpha (the new sky's matte) as an editable layer mask. Blended and composited on the stored
    (perceptual) values, as the core and the layered files do."""
    kind = (
        Gimp.ImageType.GRAY_IMAGE
        if image.get_base_type() == Gimp.ImageBaseType.GRAY
        else Gimp.ImageType.RGB_IMAGE
    )
    mode = getattr(Gimp.LayerMode, spec["gimp_mode"], Gimp.LayerMode.NORMAL)
    layer = Gimp.Layer.new(image, spec["name"], width, height, kind, 100.0 * spec["opacity"], mode)
    layer.set_blend_space(Gimp.LayerColorSpace.RGB_PERCEPTUAL)
    layer.set_composite_space(Gimp.LayerColorSpace.RGB_PERCEPTUAL)
    rect = Gegl.Rectangle.new(0, 0, width, height)
    depth = "u16" if spec["sixteen"] else "u8"
    buffer = layer.get_buffer()
    buffer.set(rect, f"R'G'B' {depth}", spec["rgb"])
    buffer.flush()
    layer.set_visible(bool(spec["visible"]))
    return layer


def _add_stack_mask(layer, spec, width, height):
    """The layer's alpha as its layer mask (stored values: 255 = the layer shows)."""
    mask = layer.create_mask(Gimp.AddMaskType.WHITE)
    layer.add_mask(mask)
    fmt = grey_format(mask).replace("u8", "u16" if spec["sixteen"] else "u8")
    buffer = mask.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), fmt, spec["alpha"])
    buffer.flush()


def read_rgba(path, layer):
    """The worker's RGBA picture (an RGBA step's output) as ``(format, samples, alpha)``:
    R'G'B'A samples at the layer's image's depth (16-bit above 8-bit precision) and its alpha
    as one byte a pixel. GIMP's own loader reads the file (the plug-in's Python has no PNG
    decoder); the picture holds sRGB values, as the layer's exported samples were."""
    loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    try:
        picture = loaded.get_layers()[0]
        width, height = picture.get_width(), picture.get_height()
        if (width, height) != (layer.get_width(), layer.get_height()):
            raise skyseg_client.WorkerError(
                f"the worker's picture is {width}x{height}, the layer {layer.get_width()}x"
                f"{layer.get_height()}"
            )
        fmt = _rgb_format(layer.get_image()).replace("R'G'B'", "R'G'B'A")
        rect, buffer = Gegl.Rectangle.new(0, 0, width, height), picture.get_buffer()
        samples = buffer.get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)
        alpha = buffer.get(rect, 1.0, "A u8", Gegl.AbyssPolicy.CLAMP)
    finally:
        loaded.delete()
    return fmt, samples, alpha


def rgba_layer(image, name, layer, fmt, samples):
    """A new layer ``name`` with transparency directly above ``layer`` at its offsets, holding
    ``samples`` (in ``fmt``: sRGB, converted by GIMP's colour engine to the image's profile and
    base type, as the effects' layers are)."""
    kind = (
        Gimp.ImageType.GRAYA_IMAGE
        if image.get_base_type() == Gimp.ImageBaseType.GRAY
        else Gimp.ImageType.RGBA_IMAGE
    )
    width, height = layer.get_width(), layer.get_height()
    new = Gimp.Layer.new(image, name, width, height, kind, 100.0, Gimp.LayerMode.NORMAL)
    insert_above(image, new, layer)
    _, x, y = layer.get_offsets()
    new.set_offsets(x, y)
    buffer = new.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), fmt, samples)
    buffer.flush()
    new.update(0, 0, width, height)
    return new


def result_group(image, layer, name, path):
    """The worker's layer stack as a layer group named ``name`` above ``layer`` (or above the
    skyseg group it came from): the original photo at the bottom, the effect's layers with their
    blend modes, the new sky with the matte as its layer mask, the matte itself hidden; with a
    selection, the group's mask is the selection (only the selected pixels change)."""
    width, height, stack = skyseg_client.read_layers(path)
    if (width, height) != (layer.get_width(), layer.get_height()):
        raise skyseg_client.WorkerError(
            f"the worker's layers are {width}x{height}, the layer {layer.get_width()}x"
            f"{layer.get_height()}"
        )
    group = Gimp.GroupLayer.new(image, name)
    insert_above(image, group, layer)
    _, x, y = layer.get_offsets()
    for spec in stack:  # bottom to top: each goes on top of the group
        new = _stack_layer(image, spec, width, height)
        image.insert_layer(new, group, 0)
        if spec["alpha"] is not None:
            _add_stack_mask(new, spec, width, height)
        new.set_offsets(x, y)
        new.update(0, 0, width, height)
    limit_to_selection(group)
    return group
