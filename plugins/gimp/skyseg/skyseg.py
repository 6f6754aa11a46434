#!/usr/bin/env python3
"""skyseg for GIMP 3: sky masks, sky selection, sky replacement, tint and relighting (one file
of about 580 lines, all of it GIMP API: the file GIMP runs, with its pixel exchange).

Menus: Filters > Sky > Create Sky Mask... / Replace Sky... / Tint Sky... / Relight... / Save Sky Mask...,
and Select > Sky (no dialog: it uses the last method chosen). The heavy work runs in a ``skyseg worker`` process started from the skyseg
environment recorded by ``skyseg install-plugin gimp`` (``skyseg_worker.json`` beside this file),
shared by the plug-in's calls on a per-user Unix socket (it exits after 10 idle minutes);
pixels travel through temporary files: raw PPM/PGM read from and written into the layers'
buffers (16-bit kept), or for an image with its own colour profile or not in RGB an uncompressed TIFF
and a PNG result. This file imports only GIMP's API and the standard
library: GIMP runs it with the system Python, which has no numpy.

Every procedure can be called from the PDB (scripts, batch mode) with the same arguments the
dialog shows. The arguments are generated from the effect recipe's schema (``skyseg_schema.json``,
written beside this file by ``skyseg install-plugin gimp``; the worker's ``schema`` operation when
it is missing): names, labels, help, ranges, defaults and menus are the declared ones, none is
restated here. Results are new layers above the active one (the original and its mask are never
changed): a grey "Sky mask" layer, a channel named "Sky", the selection, or a layer group holding
the layered file's layers (Replace, Tint, Relight; a run on a group reads its original photo), each inside one undo group. A failure is one error
message (the procedure's return value, which GIMP shows).
"""

import os
import shutil
import sys
import tempfile
import threading

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
from gi.repository import Babl, Gegl, Gimp, Gio, GLib, GObject  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))
# The client package is copied beside this file at install time; in a source checkout it is in
# ../../common.
for _folder in (HERE, os.path.join(HERE, os.pardir, os.pardir, "common")):
    if os.path.isfile(os.path.join(_folder, "skyseg_client", "__init__.py")):
        sys.path.insert(0, os.path.abspath(_folder))
        break
import skyseg_client  # noqa: E402

PROC_PREFIX = "plug-in-skyseg-"
PROC_MASK = PROC_PREFIX + "create-mask"
PROC_SELECT = PROC_PREFIX + "select-sky"
PROC_SAVE_MASK = PROC_PREFIX + "save-mask"
SKY_MENU = "<Image>/Filters/Sky"
RW = GObject.ParamFlags.READWRITE


# -- talking to the worker -----------------------------------------------------------------------


def _client():
    """The shared worker (GIMP runs each call in a new plug-in process: a private worker would
    start, load its models and stop every time); a private one where it cannot be used."""
    return skyseg_client.SkysegClient.from_folder(HERE, shared=True)


_SCHEMA = {}


def schema():
    """The parameter schema (read once per plug-in process); raises WorkerError without one."""
    if "value" not in _SCHEMA:
        try:
            _SCHEMA["value"] = skyseg_client.load_schema(HERE, timeout=30.0)
        except skyseg_client.WorkerError as exc:
            _SCHEMA["value"], _SCHEMA["error"] = None, exc
    if _SCHEMA["value"] is None:
        raise _SCHEMA["error"]
    return _SCHEMA["value"]


def _run_worker(op, input_path, output_path, params, what, aliases=None):
    """One worker request with GIMP's progress bar pulsing while it runs; returns the reply."""
    Gimp.progress_init(what)
    result = {}

    def work():
        try:
            with _client() as client:
                result["reply"] = client.request(
                    op, input_path, output_path, params, aliases=aliases
                )
        except skyseg_client.WorkerError as exc:
            result["error"] = exc
        except Exception as exc:  # noqa: BLE001 - reported to the user, never crashes GIMP
            result["error"] = skyseg_client.WorkerError(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        Gimp.progress_pulse()
        thread.join(0.1)
    Gimp.progress_end()
    if "error" in result:
        raise result["error"]
    return result["reply"]


# -- pixels in and out -----------------------------------------------------------------------------


def _raw_exchange(image):
    """Whether pixels travel as raw PPM/PGM: an RGB image in GIMP's built-in sRGB. An image with a
    profile of its own goes as TIFF, which carries the profile the effects compute in."""
    return image.get_base_type() == Gimp.ImageBaseType.RGB and image.get_color_profile() is None


def _rgb_format(image):
    """The perceptual RGB format the layer's samples are read in (16-bit above 8-bit precision)."""
    return "R'G'B' u8" if image.get_precision().value_nick.startswith("u8") else "R'G'B' u16"


def _export_layer(layer, tmp):
    """Write the layer's own pixels (no mask, no offsets) for the worker; returns the file.

    Raw PPM straight from the layer's buffer (16-bit above 8-bit precision): no export plug-in
    to start and nothing to compress (GIMP's default PNG export took 25 s of a 29 s call at
    12 MP, an uncompressed TIFF export six times what this takes). Other images: an uncompressed TIFF.
    """
    image = layer.get_image()
    width, height = layer.get_width(), layer.get_height()
    if _raw_exchange(image):
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


def _read_grey(path, width, height):
    """The grey bytes (one per pixel, 255 = sky) of the worker's PGM matte."""
    got_width, got_height, channels, sixteen, data = skyseg_client.read_netpbm(path)
    if (got_width, got_height) != (width, height) or channels != 1 or sixteen:
        raise skyseg_client.WorkerError(
            f"the worker's matte is {got_width}x{got_height}x{channels}, expected 8-bit {width}x{height}"
        )
    return data


def _new_layer(image, path, name):
    """A layer (not yet in the image) holding the worker's result file."""
    if not path.endswith(".ppm"):
        layer = Gimp.file_load_layer(
            Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path)
        )
        layer.set_name(name)
        return layer
    width, height, channels, sixteen, data = skyseg_client.read_netpbm(path)
    if channels != 3:
        raise skyseg_client.WorkerError(f"the worker's result {path} is not an RGB image")
    layer = Gimp.Layer.new(
        image, name, width, height, Gimp.ImageType.RGB_IMAGE, 100.0, Gimp.LayerMode.NORMAL
    )
    buffer = layer.get_buffer()
    buffer.set(
        Gegl.Rectangle.new(0, 0, width, height), "R'G'B' u16" if sixteen else "R'G'B' u8", data
    )
    buffer.flush()
    return layer


def grey_format(drawable):
    """The 8-bit grey format with the drawable's own encoding, so bytes go in unconverted.

    GIMP reads mask, channel and selection values as they are stored (a channel of an 8-bit
    perceptual image is "Y' u8", a layer mask "Y u8"): 128 must land as 128, i.e. 50 % sky.
    """
    return "Y' u8" if Babl.get_name(drawable.get_format()).startswith("Y'") else "Y u8"


def _write_grey(drawable, data, x, y, width, height):
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


def _skyseg_group(item):
    """The skyseg result group ``item`` is or lies in (a group whose bottom layer is the core's
    "original photo"), else None."""
    while item is not None:
        if item.is_group():
            children = item.get_children()  # top first
            if children and not children[-1].is_group() and _is_original(children[-1]):
                return item
        item = item.get_parent()
    return None


def _source_layer(image, drawables):
    """The layer to work on: the selected layer (a selected mask means its layer); in or on a
    skyseg result group, the group's original photo, never a previous result."""
    drawable = drawables[0] if drawables else None
    if isinstance(drawable, Gimp.LayerMask):
        drawable = Gimp.Layer.from_mask(drawable)
    if isinstance(drawable, Gimp.Layer):
        group = _skyseg_group(drawable)
        if group is not None:
            return group.get_children()[-1]
    if not isinstance(drawable, Gimp.Layer) or drawable.is_group():
        raise skyseg_client.WorkerError("select a pixel layer first")
    return drawable


def _insert_above(image, new, layer):
    """Put ``new`` directly above ``layer``, or above the skyseg group ``layer`` is the source
    of (a new result never goes inside a previous one)."""
    anchor = _skyseg_group(layer) or layer
    image.insert_layer(new, anchor.get_parent(), image.get_item_position(anchor))


def _aliases(layer, *paths):
    return {path: f"layer {layer.get_name()!r}" for path in paths}


def _matte_for_layer(layer, params, tmp):
    """Run ``mask`` on the layer; returns its matte as grey bytes of the layer's size."""
    source, matte = _export_layer(layer, tmp), os.path.join(tmp, "matte.pgm")
    _run_worker("mask", source, matte, params, "Finding the sky", _aliases(layer, source))
    return _read_grey(matte, layer.get_width(), layer.get_height())


# -- arguments from the schema ---------------------------------------------------------------------


def _arg_name(key):
    return key.replace("_", "-")


def _label(control, used=None):
    """The dialog label: the declared one, its unit, and a mnemonic (the first letter not yet taken
    in this procedure, in ``used``)."""
    unit = control.get("unit")
    label = f"{control['label']} ({unit})" if unit else control["label"]
    if used is None:
        return label
    for i, char in enumerate(label):
        if char.isalpha() and char.lower() not in used:
            used.add(char.lower())
            return label[:i] + "_" + label[i:]
    return label


def _add_argument(procedure, control, used=None):
    """One PDB argument for one control of the schema (see skyseg_client.effect_controls)."""
    name, label, help_text, default = (
        _arg_name(control["key"]),
        _label(control, used),
        control["help"],
        control["default"],
    )
    kind = control["kind"]
    if kind == "float":
        procedure.add_double_argument(
            name, label, help_text, control["low"], control["high"], default, RW
        )
    elif kind == "bool":
        procedure.add_boolean_argument(name, label, help_text, default, RW)
    elif kind == "choice":
        choice = Gimp.Choice.new()
        helps = control.get("choice_help", {})
        for i, (nick, text) in enumerate(control["choices"]):
            choice.add(nick, i, text, helps.get(nick, ""))
        procedure.add_choice_argument(name, label, help_text, choice, default, RW)
    elif kind == "colour":
        procedure.add_color_argument(name, label, help_text, False, Gegl.Color.new(default), RW)
    elif kind == "file":
        procedure.add_file_argument(
            name, label, help_text, Gimp.FileChooserAction.OPEN, True, None, RW
        )
    else:  # pragma: no cover - effect_controls makes only the kinds above
        raise skyseg_client.WorkerError(f"no GIMP argument for a {kind} control")


def _hex(color, default):
    """``#rrggbb`` of a colour argument. GIMP 3.0 does not carry a colour argument's default
    to PDB callers: one that leaves it unset sends transparent black. The arguments have no
    alpha, so a user's colour is opaque and a transparent one means "the declared default"."""
    if color is None:
        return default
    data = color.get_bytes(Babl.format("R'G'B'A u8")).get_data()
    if data[3] == 0:
        return default
    return "#" + "".join(f"{b:02x}" for b in data[:3])


def _values(config, controls):
    """key -> the argument's value, as effect_params takes it."""
    values = {}
    for control in controls:
        value = config.get_property(_arg_name(control["key"]))
        if control["kind"] == "colour":
            value = _hex(value, control["default"])
        elif control["kind"] == "file":
            value = (value.get_path() or "") if value is not None else ""
        values[control["key"]] = value
    return values


def _mask_params(config):
    return _values(config, skyseg_client.source_controls(schema()))


# -- the procedures ------------------------------------------------------------------------------


def _success(procedure):
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def _failure(procedure, message):
    """The one error message of a failed call: GIMP shows the returned error (a Gimp.message as
    well would show it twice)."""
    return procedure.new_return_values(
        Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"skyseg: {message}")
    )


def _dialog(procedure, config, title):
    from gi.repository import GimpUi  # only dialogs need GTK: batch calls skip loading it

    GimpUi.init("skyseg")
    dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config, title=title)
    follow_dialog(config, procedure.get_name())
    for control in procedure_controls(procedure.get_name()):
        if (
            control["kind"] == "float" and "decimals" in control
        ):  # GIMP's own guess shows 4 decimals
            dialog.get_spin_scale(_arg_name(control["key"]), 1.0).set_digits(control["decimals"])
    dialog.fill(None)
    ok = dialog.run()
    dialog.destroy()
    return ok


def _set_control(config, control, value):
    """Set one argument to a control's value (a colour from its ``#rrggbb``)."""
    if control["kind"] == "colour":
        value = Gegl.Color.new(value)
    config.set_property(_arg_name(control["key"]), value)


def follow_dialog(config, name):
    """What the dialog's controls do to each other (connected to ``config``'s notifications):
    choosing a Look moves every control to that look (the declared defaults with its changes;
    the sky kept), and picking a file in "Sky file" chooses "Image file..." in the Sky menu."""
    effect = procedures()[name][4]
    if effect is None:
        return
    controls = skyseg_client.effect_controls(schema(), effect)
    by_key = {c["key"]: c for c in controls}

    def on_look(cfg, _pspec):
        values = skyseg_client.look_values(schema(), effect, cfg.get_property("look"))
        for key, value in values.items():
            _set_control(cfg, by_key[key], value)

    def on_file(cfg, pspec):
        control = next(c for c in controls if _arg_name(c["key"]) == pspec.get_name())
        picked = cfg.get_property(pspec.get_name())
        if picked is not None and picked.get_path() and control["field"] in by_key:
            cfg.set_property(_arg_name(control["field"]), skyseg_client.SKY_FILE)

    if "look" in by_key:
        config.connect("notify::look", on_look)
    for control in controls:
        if control["kind"] == "file":
            config.connect("notify::" + _arg_name(control["key"]), on_file)


def _file_means_image(values, controls):
    """A PDB call that gives a sky file and leaves the sky menu at its default means the file
    (as picking it in the dialog does)."""
    for control in controls:
        menu = next((c for c in controls if c["key"] == control["field"]), None)
        if control["kind"] == "file" and values.get(control["key"]) and menu is not None:
            if values[menu["key"]] == menu["default"]:
                values[menu["key"]] = skyseg_client.SKY_FILE
    return values


class _Cancelled(Exception):
    """The user declined (e.g. replacing a file): nothing done, no error."""


_RUN_MODE = {}


def _guarded(title, body):
    """A procedure's run function: dialog when interactive, one undo group, errors as messages."""

    def run(procedure, run_mode, image, drawables, config, data):
        try:
            schema()
        except skyseg_client.WorkerError as exc:
            return _failure(procedure, exc.for_user())
        _RUN_MODE["value"] = run_mode
        if run_mode == Gimp.RunMode.INTERACTIVE and procedure.get_name() != PROC_SELECT:
            if not _dialog(procedure, config, title):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        tmp = tempfile.mkdtemp(prefix="skyseg-gimp-")
        image.undo_group_start()
        try:
            layer = _source_layer(image, drawables)
            body(image, layer, config, tmp)
        except skyseg_client.WorkerError as exc:
            return _failure(procedure, exc.for_user())
        except _Cancelled:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        except Exception as exc:  # noqa: BLE001 - GIMP must get an answer, not a dead plug-in
            return _failure(procedure, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            image.undo_group_end()
            shutil.rmtree(tmp, ignore_errors=True)
        Gimp.displays_flush()
        return _success(procedure)

    return run


MASK_LAYER = "Sky mask"
"""The grey layer Create Sky Mask adds above the user's layer (255 = sky)."""


def _grey_layer(image, name, width, height):
    """A new opaque grey layer (an RGB layer in an RGB image) of the image's base type."""
    kind = (
        Gimp.ImageType.GRAY_IMAGE
        if image.get_base_type() == Gimp.ImageBaseType.GRAY
        else Gimp.ImageType.RGB_IMAGE
    )
    return Gimp.Layer.new(image, name, width, height, kind, 100.0, Gimp.LayerMode.NORMAL)


def create_mask(image, layer, config, tmp):
    """A new grey "Sky mask" layer directly above the user's layer (or a channel "Sky"); the
    user's layer and its own mask are never touched. No sky: an error, nothing added."""
    width, height = layer.get_width(), layer.get_height()
    data = _matte_for_layer(layer, _mask_params(config), tmp)
    skyseg_client.require_sky(data, layer.get_name(), "no sky mask added", schema())
    _, x, y = layer.get_offsets()
    if config.get_property("as-channel"):
        channel = Gimp.Channel.new(
            image, "Sky", image.get_width(), image.get_height(), 50.0, Gegl.Color.new("red")
        )
        image.insert_channel(channel, None, 0)
        channel.fill(Gimp.FillType.TRANSPARENT)
        _write_grey(channel, data, x, y, width, height)
        image.set_selected_layers([layer])  # the new channel took the selection: give it back
        return
    mask = _grey_layer(image, MASK_LAYER, width, height)
    _insert_above(image, mask, layer)
    mask.set_offsets(x, y)
    # stored grey values are the matte's bytes: "Y' u8" for a perceptual image, "Y u8" linear
    linear = image.get_precision().value_nick.split("-", 1)[-1] == "linear"
    fmt = "Y u8" if linear else "Y' u8"
    buffer = mask.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), fmt, data)
    buffer.flush()
    mask.update(0, 0, width, height)
    image.set_selected_layers([mask])


def save_mask(image, layer, config, tmp):
    """The matte written by the worker itself: 8-bit grey PNG, 255 = sky, the values `skyseg
    mask` writes (an exported layer mask is converted by GIMP: a linear mask becomes a
    gamma-encoded 16-bit PNG, 128 turning into about 188)."""
    target = config.get_property("file")
    path = target.get_path() if target is not None else None
    if not path:
        raise skyseg_client.WorkerError("choose the file to save the sky mask to")
    if not os.path.splitext(os.path.basename(path))[1]:  # "sky" -> "sky.png", as GIMP's export
        path += ".png"
    if not path.lower().endswith(".png"):
        raise skyseg_client.WorkerError(
            f"the sky mask is saved as PNG: choose a name ending in .png, not {path}"
        )
    interactive = _RUN_MODE.get("value") == Gimp.RunMode.INTERACTIVE
    if interactive and os.path.exists(path) and not _confirm_replace(path):
        raise _Cancelled()
    source = _export_layer(layer, tmp)
    _run_worker(
        "mask", source, path, _mask_params(config), "Saving the sky mask", _aliases(layer, source)
    )


def _confirm_replace(path):
    """Ask before replacing a file (the dialog's own question, as GIMP's exports ask)."""
    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk

    dialog = Gtk.MessageDialog(
        message_type=Gtk.MessageType.QUESTION,
        buttons=Gtk.ButtonsType.NONE,
        text=f"A file named \u201c{os.path.basename(path)}\u201d already exists. Replace it?",
    )
    dialog.format_secondary_text(f"It is in {os.path.dirname(path) or os.curdir}.")
    dialog.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_Replace", Gtk.ResponseType.OK)
    dialog.set_default_response(Gtk.ResponseType.CANCEL)
    answer = dialog.run()
    dialog.destroy()
    return answer == Gtk.ResponseType.OK


def select_sky(image, layer, config, tmp):
    data = _matte_for_layer(layer, _mask_params(config), tmp)
    skyseg_client.require_sky(data, layer.get_name(), "nothing selected", schema())
    channel = Gimp.Channel.new(
        image,
        "skyseg selection",
        image.get_width(),
        image.get_height(),
        50.0,
        Gegl.Color.new("black"),
    )
    image.insert_channel(channel, None, 0)
    try:
        channel.fill(Gimp.FillType.TRANSPARENT)
        _, x, y = layer.get_offsets()
        _write_grey(channel, data, x, y, layer.get_width(), layer.get_height())
        image.select_item(Gimp.ChannelOps.REPLACE, channel)
    finally:
        image.remove_channel(channel)


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


def _result_group(image, layer, name, path):
    """The worker's layer stack as a layer group named ``name`` above ``layer`` (or above the
    skyseg group it came from): the original photo at the bottom, the effect's layers with their
    blend modes, the new sky with the matte as its layer mask, the matte itself hidden."""
    width, height, stack = skyseg_client.read_layers(path)
    if (width, height) != (layer.get_width(), layer.get_height()):
        raise skyseg_client.WorkerError(
            f"the worker's layers are {width}x{height}, the layer {layer.get_width()}x"
            f"{layer.get_height()}"
        )
    group = Gimp.GroupLayer.new(image, name)
    _insert_above(image, group, layer)
    _, x, y = layer.get_offsets()
    for spec in stack:  # bottom to top: each goes on top of the group
        new = _stack_layer(image, spec, width, height)
        image.insert_layer(new, group, 0)
        if spec["alpha"] is not None:
            _add_stack_mask(new, spec, width, height)
        new.set_offsets(x, y)
        new.update(0, 0, width, height)
    return group


def _effect(op, name):
    def body(image, layer, config, tmp):
        controls = skyseg_client.effect_controls(schema(), op)
        values = _values(config, controls)
        # the dialog's sliders already show the look (follow_dialog); a script's call gets the
        # look in the controls it left at their default, and its sky file used
        scripted = _RUN_MODE.get("value") == Gimp.RunMode.NONINTERACTIVE
        if scripted:
            values = _file_means_image(values, controls)
        fields = skyseg_client.effect_params(schema(), op, values, apply_look=scripted)
        source = _export_layer(layer, tmp)
        result = os.path.join(tmp, "result.ppm" if source.endswith(".ppm") else "result.png")
        if image.get_color_profile() is not None:  # raw samples would be read as sRGB
            params = dict(_mask_params(config), **fields)
            _run_worker(op, source, result, params, name, _aliases(layer, source))
            new = _new_layer(image, result, name)
            _, x, y = layer.get_offsets()
            new.set_offsets(x, y)
            _insert_above(image, new, layer)
            image.set_selected_layers([new])
            return
        layers = os.path.join(tmp, "result.layers")
        params = dict(_mask_params(config), steps=[dict(fields, effect=op)], layers=layers)
        _run_worker("render", source, result, params, name, _aliases(layer, source))
        group = _result_group(image, layer, name, layers)
        image.set_selected_layers([group])

    return body


def _menu_title(title):
    """Each word capitalised, as in GIMP's menus ("Replace sky" -> "Replace Sky")."""
    return " ".join(word[:1].upper() + word[1:] for word in title.split())


def _menu_label(title, used):
    """``title`` with a mnemonic not in ``used``: a word's first letter, else a consonant, else
    any letter ("Replace Sky" -> "_Replace Sky", then "Relight" -> "Re_light")."""
    starts = [i for i, c in enumerate(title) if c.isalpha() and (i == 0 or title[i - 1] == " ")]
    consonants = [i for i, c in enumerate(title) if c.isalpha() and c.lower() not in "aeiou"]
    letters = [i for i, c in enumerate(title) if c.isalpha()]
    for i in starts + consonants + letters:
        if title[i].lower() not in used:
            used.add(title[i].lower())
            return title[:i] + "_" + title[i:]
    return title


_PROCEDURES = {}


def procedures():
    """name -> (menu label, menu path, title, run body, effect whose controls it takes): the mask
    procedures and one per effect of the schema (``skyseg_client.effect_actions``), named after
    its title; without a schema the mask procedures alone (running one says how to install)."""
    if _PROCEDURES:
        return _PROCEDURES
    try:
        effects = skyseg_client.effect_actions(schema())
    except skyseg_client.WorkerError:
        effects = []
    made = {
        PROC_MASK: ("Create Sky _Mask...", SKY_MENU, "Create Sky Mask", create_mask, None),
        PROC_SELECT: ("_Sky", "<Image>/Select", "Select Sky", select_sky, None),
    }
    used = set("mv")  # the mnemonics of Create Sky Mask and Save Sky Mask in the same menu
    for action in effects:
        title = _menu_title(action["title"])
        made[PROC_PREFIX + action["action"].replace("_", "-")] = (
            _menu_label(title, used) + "...",
            SKY_MENU,
            title,
            _effect(action["effect"], action["layer_name"]),
            action["effect"],
        )
    made[PROC_SAVE_MASK] = ("Sa_ve Sky Mask...", SKY_MENU, "Save Sky Mask", save_mask, None)
    _PROCEDURES.update(made)
    return _PROCEDURES


def procedure_controls(name):
    """The schema's controls that become procedure ``name``'s arguments, in order."""
    effect = procedures()[name][4]
    controls = skyseg_client.source_controls(schema())
    if effect is not None:
        controls += skyseg_client.effect_controls(schema(), effect)
    return controls


class SkysegPlugIn(Gimp.PlugIn):
    def do_set_i18n(self, name):
        return False

    def do_query_procedures(self):
        return list(procedures())

    def do_create_procedure(self, name):
        Gegl.init(None)
        label, menu, title, body, _effect_name = procedures()[name]
        procedure = Gimp.ImageProcedure.new(
            self, name, Gimp.PDBProcType.PLUGIN, _guarded(title, body), None
        )
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(label)
        procedure.add_menu_path(menu)
        procedure.set_documentation(
            f"skyseg: {title.lower()}",
            "Finds the sky with skyseg (a worker process from the skyseg environment "
            "recorded by `skyseg install-plugin gimp`).",
            name,
        )
        procedure.set_attribution("skyseg developers", "skyseg developers", "2025")
        try:
            controls = procedure_controls(name)
        except skyseg_client.WorkerError:
            return procedure  # no schema: no arguments; running it says how to install skyseg
        used = set(
            "ohclrs"
        )  # the dialog's own buttons: OK, Help, Cancel, Load Saved Settings, Reset, Save Settings
        for control in controls:
            _add_argument(procedure, control, used)
        if name == PROC_SAVE_MASK:
            procedure.add_file_argument(
                "file",
                _label({"label": "Mask file"}, used),
                "The PNG to write the sky mask to (the layer's size, "
                "255 = sky: what `skyseg mask` writes)",
                Gimp.FileChooserAction.SAVE,
                True,
                None,
                RW,
            )
        if name == PROC_MASK:
            procedure.add_boolean_argument(
                "as-channel",
                _label({"label": "As channel"}, used),
                'Add the matte as a channel named "Sky" instead of a grey "Sky mask" layer',
                False,
                RW,
            )
        return procedure


if __name__ == "__main__":
    Gimp.main(SkysegPlugIn.__gtype__, sys.argv)
