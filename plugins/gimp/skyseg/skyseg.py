#!/usr/bin/env python3
"""skyseg for GIMP 3: sky masks, sky selection, sky replacement, tint and relighting.

Menus: Filters > Sky > Create Sky Mask... / Replace Sky... / Tint Sky... / Relight...,
and Select > Sky (no dialog: it uses the last method chosen). The heavy work runs in a ``skyseg worker`` process started from the skyseg
environment recorded by ``skyseg install-plugin gimp`` (``skyseg_worker.json`` beside this file);
pixels travel through temporary PNG files. This file imports only GIMP's API and the standard
library: GIMP runs it with the system Python, which has no numpy.

Every procedure can be called from the PDB (scripts, batch mode) with the same arguments the
dialog shows. Results are new layers above the active one (the original is kept), a layer mask,
a channel named "Sky" or the selection, each inside one undo group.
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
from gi.repository import Babl, Gegl, Gimp, GimpUi, Gio, GLib, GObject  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))
# The client is copied beside this file at install time; in a source checkout it is in ../../common.
for _folder in (HERE, os.path.join(HERE, os.pardir, os.pardir, "common")):
    if os.path.isfile(os.path.join(_folder, "skyseg_client.py")):
        sys.path.insert(0, os.path.abspath(_folder))
        break
import skyseg_client  # noqa: E402

PROC_MASK = "plug-in-skyseg-create-mask"
PROC_SELECT = "plug-in-skyseg-select-sky"
PROC_REPLACE = "plug-in-skyseg-replace-sky"
PROC_TINT = "plug-in-skyseg-tint-sky"
PROC_RELIGHT = "plug-in-skyseg-relight"
RW = GObject.ParamFlags.READWRITE


# -- talking to the worker -----------------------------------------------------------------------

def _client():
    return skyseg_client.SkysegClient.from_folder(HERE)


def _run_worker(op, input_path, output_path, params, what):
    """One worker request with GIMP's progress bar pulsing while it runs; returns the reply."""
    Gimp.progress_init(what)
    result = {}

    def work():
        try:
            with _client() as client:
                result["reply"] = client.request(op, input_path, output_path, params)
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

def _export_drawable(drawable, path):
    """Write the drawable's own pixels (no mask, no offsets) to a PNG."""
    image = drawable.get_image()
    tmp_image = Gimp.Image.new(drawable.get_width(), drawable.get_height(), image.get_base_type())
    try:
        if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
            tmp_image.set_palette(image.get_palette())
        layer = Gimp.Layer.new_from_drawable(drawable, tmp_image)
        tmp_image.insert_layer(layer, None, 0)
        if layer.get_mask() is not None:
            layer.remove_mask(Gimp.MaskApplyMode.DISCARD)
        layer.set_offsets(0, 0)
        Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, tmp_image, Gio.File.new_for_path(path), None)
    finally:
        tmp_image.delete()


def _read_grey(image, path, width, height):
    """The grey bytes (one per pixel, as stored in the file) of a matte PNG, read through GIMP."""
    layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path))
    try:
        if (layer.get_width(), layer.get_height()) != (width, height):
            raise skyseg_client.WorkerError(
                f"the worker's matte is {layer.get_width()}x{layer.get_height()}, expected {width}x{height}")
        rect = Gegl.Rectangle.new(0, 0, width, height)
        return layer.get_buffer().get(rect, 1.0, "Y' u8", Gegl.AbyssPolicy.CLAMP)
    finally:
        layer.delete()


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


def _source_layer(image, drawables):
    """The layer to work on: the selected layer (a selected mask means its layer)."""
    drawable = drawables[0] if drawables else None
    if isinstance(drawable, Gimp.LayerMask):
        drawable = Gimp.Layer.from_mask(drawable)
    if not isinstance(drawable, Gimp.Layer) or drawable.is_group():
        raise skyseg_client.WorkerError("select a pixel layer first")
    return drawable


def _matte_for_layer(image, layer, params, tmp):
    """Run ``mask`` on the layer; returns its matte as grey bytes of the layer's size."""
    source, matte = os.path.join(tmp, "layer.png"), os.path.join(tmp, "matte.png")
    _export_drawable(layer, source)
    _run_worker("mask", source, matte, params, "Finding the sky")
    return _read_grey(image, matte, layer.get_width(), layer.get_height())


def _mask_params(config):
    return {"method": config.get_property("method") or "auto", "refine": config.get_property("refine")}


# -- the procedures ------------------------------------------------------------------------------

def _success(procedure):
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def _failure(procedure, message):
    Gimp.message(f"skyseg: {message}")
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"skyseg: {message}"))


def _dialog(procedure, config, title):
    GimpUi.init("skyseg")
    dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config, title=title)
    dialog.fill(None)
    ok = dialog.run()
    dialog.destroy()
    return ok


def _guarded(title, body):
    """A procedure's run function: dialog when interactive, one undo group, errors as messages."""

    def run(procedure, run_mode, image, drawables, config, data):
        if run_mode == Gimp.RunMode.INTERACTIVE and procedure.get_name() != PROC_SELECT:
            if not _dialog(procedure, config, title):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        tmp = tempfile.mkdtemp(prefix="skyseg-gimp-")
        image.undo_group_start()
        try:
            layer = _source_layer(image, drawables)
            body(image, layer, config, tmp)
        except skyseg_client.WorkerError as exc:
            return _failure(procedure, str(exc))
        except Exception as exc:  # noqa: BLE001 - GIMP must get an answer, not a dead plug-in
            return _failure(procedure, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            image.undo_group_end()
            shutil.rmtree(tmp, ignore_errors=True)
        Gimp.displays_flush()
        return _success(procedure)

    return run


def create_mask(image, layer, config, tmp):
    width, height = layer.get_width(), layer.get_height()
    data = _matte_for_layer(image, layer, _mask_params(config), tmp)
    if config.get_property("as-channel"):
        channel = Gimp.Channel.new(image, "Sky", image.get_width(), image.get_height(), 50.0,
                                   Gegl.Color.new("red"))
        image.insert_channel(channel, None, 0)
        channel.fill(Gimp.FillType.TRANSPARENT)
        _, x, y = layer.get_offsets()
        _write_grey(channel, data, x, y, width, height)
        return
    if layer.get_mask() is not None:
        layer.remove_mask(Gimp.MaskApplyMode.DISCARD)
    if not layer.has_alpha():
        layer.add_alpha()
    mask = layer.create_mask(Gimp.AddMaskType.WHITE)
    layer.add_mask(mask)
    _write_grey(mask, data, 0, 0, width, height)


def select_sky(image, layer, config, tmp):
    data = _matte_for_layer(image, layer, _mask_params(config), tmp)
    channel = Gimp.Channel.new(image, "skyseg selection", image.get_width(), image.get_height(), 50.0,
                               Gegl.Color.new("black"))
    image.insert_channel(channel, None, 0)
    try:
        channel.fill(Gimp.FillType.TRANSPARENT)
        _, x, y = layer.get_offsets()
        _write_grey(channel, data, x, y, layer.get_width(), layer.get_height())
        image.select_item(Gimp.ChannelOps.REPLACE, channel)
    finally:
        image.remove_channel(channel)


def _effect(op, name, params_of):
    def body(image, layer, config, tmp):
        source, result = os.path.join(tmp, "layer.png"), os.path.join(tmp, "result.png")
        _export_drawable(layer, source)
        params = dict(_mask_params(config), **params_of(config))
        _run_worker(op, source, result, params, name)
        new = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(result))
        new.set_name(name)
        _, x, y = layer.get_offsets()
        new.set_offsets(x, y)
        image.insert_layer(new, layer.get_parent(), image.get_item_position(layer))
        image.set_selected_layers([new])

    return body


def _replace_params(config):
    return {"sky": config.get_property("sky"), "shift_edge": config.get_property("shift-edge"),
            "fade_edge": config.get_property("fade-edge"), "color_match": config.get_property("color-match"),
            "halo": config.get_property("halo"), "defocus": config.get_property("defocus"),
            "flip": config.get_property("flip"), "scale": config.get_property("scale")}


def _rgb255(color):
    r, g, b, _a = color.get_rgba()
    return [round(max(0.0, min(1.0, c)) * 255.0, 3) for c in (r, g, b)]


def _tint_params(config):
    return {"stops": [[0.0, _rgb255(config.get_property("color-top"))],
                      [1.0, _rgb255(config.get_property("color-bottom"))]],
            "angle": config.get_property("angle"), "mode": config.get_property("mode"),
            "strength": config.get_property("strength")}


def _relight_params(config):
    target = (config.get_property("target") or "").strip()
    try:
        value = float(target.lower().rstrip("k"))
    except ValueError:
        value = target
    return {"target": value, "strength": config.get_property("strength")}


PROCEDURES = {
    # name: (menu label, menu path, title, run body, needs a dialog)
    PROC_MASK: ("Create Sky _Mask...", "<Image>/Filters/Sky", "Create Sky Mask", create_mask),
    PROC_SELECT: ("_Sky", "<Image>/Select", "Select Sky", select_sky),
    PROC_REPLACE: ("_Replace Sky...", "<Image>/Filters/Sky", "Replace Sky",
                   _effect("replace", "Sky replaced", _replace_params)),
    PROC_TINT: ("_Tint Sky...", "<Image>/Filters/Sky", "Tint Sky", _effect("tint", "Sky tinted", _tint_params)),
    PROC_RELIGHT: ("Re_light...", "<Image>/Filters/Sky", "Relight", _effect("relight", "Relit", _relight_params)),
}


class SkysegPlugIn(Gimp.PlugIn):
    def do_set_i18n(self, name):
        return False

    def do_query_procedures(self):
        return list(PROCEDURES)

    def do_create_procedure(self, name):
        Gegl.init(None)
        label, menu, title, body = PROCEDURES[name]
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, _guarded(title, body), None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(label)
        procedure.add_menu_path(menu)
        procedure.set_documentation(f"skyseg: {title.lower()}",
                                    "Finds the sky with skyseg (a worker process from the skyseg environment "
                                    "recorded by `skyseg install-plugin gimp`).", name)
        procedure.set_attribution("skyseg developers", "skyseg developers", "2025")
        procedure.add_string_argument("method", "_Method", "Sky method (see `skyseg methods`)", "auto", RW)
        procedure.add_boolean_argument("refine", "Re_fine edges", "Edge-aware refinement of the matte", True, RW)
        if name == PROC_MASK:
            procedure.add_boolean_argument("as-channel", "As _channel",
                                           "Add the matte as a channel named \"Sky\" instead of a layer mask",
                                           False, RW)
        elif name == PROC_REPLACE:
            procedure.add_string_argument("sky", "_Sky", "Sky preset name or image file", "golden_hour", RW)
            procedure.add_double_argument("shift-edge", "Shift _edge (%)",
                                          "Grow (+) or shrink (-) the sky, % of the longer side", -20.0, 20.0, 0.0, RW)
            procedure.add_double_argument("fade-edge", "_Fade edge (%)",
                                          "Feather the sky border, % of the longer side", 0.0, 20.0, 0.0, RW)
            procedure.add_double_argument("color-match", "_Colour match", "Foreground toward the sky's light",
                                          0.0, 1.0, 0.0, RW)
            procedure.add_double_argument("halo", "_Halo", "Sky light over the horizon", 0.0, 1.0, 0.0, RW)
            procedure.add_double_argument("defocus", "_Defocus", "Blur the new sky like the old one (1 = match)",
                                          0.0, 4.0, 0.0, RW)
            procedure.add_boolean_argument("flip", "F_lip sky", "Mirror the new sky", False, RW)
            procedure.add_double_argument("scale", "Sca_le", "Extra zoom of the new sky", 0.1, 20.0, 1.0, RW)
        elif name == PROC_TINT:
            top, bottom = Gegl.Color.new("black"), Gegl.Color.new("black")
            top.set_rgba(1.0, 0.55, 0.24, 1.0)
            bottom.set_rgba(0.27, 0.35, 0.67, 1.0)
            procedure.add_color_argument("color-top", "_Top colour", "Gradient start", True, top, RW)
            procedure.add_color_argument("color-bottom", "_Bottom colour", "Gradient end", True, bottom, RW)
            procedure.add_double_argument("angle", "_Angle", "Gradient angle in degrees", -360.0, 360.0, 90.0, RW)
            procedure.add_string_argument("mode", "_Blend mode",
                                          "normal, multiply, screen, overlay, soft_light or color", "soft_light", RW)
            procedure.add_double_argument("strength", "_Strength", "Tint strength", 0.0, 1.0, 1.0, RW)
        elif name == PROC_RELIGHT:
            procedure.add_string_argument("target", "_Target",
                                          "Colour temperature in K (e.g. 3200) or a sky preset/file", "5500", RW)
            procedure.add_double_argument("strength", "_Strength", "Relighting strength", 0.0, 1.0, 1.0, RW)
        return procedure


if __name__ == "__main__":
    Gimp.main(SkysegPlugIn.__gtype__, sys.argv)
