#!/usr/bin/env python3
"""skyseg for GIMP 3, the file GIMP runs: procedures and run bodies (over 400 lines: a body per result).

Menus: Filters > Sky > Create Sky Mask... / Cut Out Sky... / Replace Sky... / Tint Sky... /
Relight... / Save Sky Mask..., and Select > Sky (no dialog: it uses the last method chosen). The
heavy work runs in a ``skyseg worker`` process started from the skyseg environment recorded by
``skyseg install-plugin gimp`` (``skyseg_worker.json`` beside this file), shared by the plug-in's
calls on a per-user Unix socket (it exits after 10 idle minutes). The plug-in's modules, one per role:
this one (procedures), ``gimp_dialog`` (arguments and dialogs), ``gimp_pixels`` (pixels in and
out of GIMP), ``gimp_worker`` (the worker's client). They import only GIMP's API and the standard
library: GIMP runs them with the system Python, which has no numpy.

Every procedure can be called from the PDB (scripts, batch mode) with the same arguments the
dialog shows. The arguments are generated from the effect recipe's schema (``skyseg_schema.json``,
written beside this file by ``skyseg install-plugin gimp``; the worker's ``schema`` operation when
it is missing): names, labels, help, ranges, defaults and menus are the declared ones, none is
restated here. Results are new layers above the active one (the original and its mask are never
changed): a grey "Sky mask" layer, a channel named "Sky", the selection, a layer group holding
the layered file's layers (Replace, Tint, Relight; a run on a group reads its original photo), or
the photo with its sky transparent (Cut Out Sky: one procedure per step of the schema's
``rgba_steps``, its options the step's declared fields), each inside one undo group. A failure is one error message (the procedure's return value, which
GIMP shows).
"""

import os
import shutil
import sys
import tempfile

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GLib  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))
# The client package is copied beside this file at install time; in a source checkout it is in
# ../../common. The plug-in's own modules (gimp_*.py) are beside this file.
sys.path.insert(0, HERE)
for _folder in (HERE, os.path.join(HERE, os.pardir, os.pardir, "common")):
    if os.path.isfile(os.path.join(_folder, "skyseg_client", "__init__.py")):
        sys.path.insert(0, os.path.abspath(_folder))
        break
import gimp_dialog  # noqa: E402
import gimp_pixels  # noqa: E402
import gimp_preview  # noqa: E402
import skyseg_client  # noqa: E402
from gimp_worker import layer_aliases, run_worker, schema  # noqa: E402

PROC_PREFIX = "plug-in-skyseg-"
PROC_MASK = PROC_PREFIX + "create-mask"
PROC_SELECT = PROC_PREFIX + "select-sky"
PROC_SAVE_MASK = PROC_PREFIX + "save-mask"
SKY_MENU = "<Image>/Filters/Sky"


def _matte_for_layer(layer, params, tmp):
    """Run ``mask`` on the layer; returns its matte as grey bytes of the layer's size."""
    source, matte = gimp_pixels.export_layer(layer, tmp), os.path.join(tmp, "matte.pgm")
    run_worker("mask", source, matte, params, "Finding the sky", layer_aliases(layer, source))
    return gimp_pixels.read_grey(matte, layer.get_width(), layer.get_height())


# -- the procedures ------------------------------------------------------------------------------


def _success(procedure):
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def _failure(procedure, message):
    """The one error message of a failed call: GIMP shows the returned error (a Gimp.message as
    well would show it twice)."""
    return procedure.new_return_values(
        Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"skyseg: {message}")
    )


class _Cancelled(Exception):
    """The user declined (e.g. replacing a file): nothing done, no error."""


_RUN_MODE = {}


def _guarded(title, body):
    """A procedure's run function: the dialog when interactive, the body's worker part, then its
    changes to the image in one undo group (opened only once the worker has answered, so runs
    at once each get their own step); errors as messages. An interactive run that fails shows
    its dialog again with the error and the edits as they were (GIMP keeps a dialog's values
    only after a run that succeeded)."""

    def run(procedure, run_mode, image, drawables, config, data):
        try:
            schema()
        except skyseg_client.WorkerError as exc:
            return _failure(procedure, exc.for_user())
        _RUN_MODE["value"] = run_mode
        try:
            layer = gimp_pixels.source_layer(image, drawables)
        except skyseg_client.WorkerError as exc:
            return _failure(procedure, exc.for_user())
        interactive = run_mode == Gimp.RunMode.INTERACTIVE and procedure.get_name() != PROC_SELECT
        problem = ""
        while True:
            if interactive and not _ask(procedure, config, title, image, layer, problem):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
            tmp = tempfile.mkdtemp(prefix="skyseg-gimp-")
            try:
                change = body(image, layer, config, tmp)
                if change is not None:
                    image.undo_group_start()
                    try:
                        change()
                    finally:
                        image.undo_group_end()
            except skyseg_client.WorkerError as exc:
                if interactive:
                    problem = exc.for_user()
                    continue  # the dialog again, as the user left it
                return _failure(procedure, exc.for_user())
            except _Cancelled:
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
            except Exception as exc:  # noqa: BLE001 - GIMP must get an answer, not a dead plug-in
                return _failure(procedure, f"internal error: {type(exc).__name__}: {exc}")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            Gimp.displays_flush()
            return _success(procedure)

    return run


def _ask(procedure, config, title, image, layer, problem):
    """The procedure's dialog (with the preview for an effect; ``problem``: why the last try
    failed, shown under the controls); whether the user chose OK."""
    name = procedure.get_name()
    controls, effect = procedure_controls(name), procedures()[name][4]
    preview = None
    if effect in _effect_names():
        preview = gimp_preview.DialogPreview(
            image, layer, effect, lambda cfg: preview_params(cfg, effect)
        )
    return gimp_dialog.run_dialog(procedure, config, title, controls, effect, preview, problem)


MASK_LAYER = "Sky mask"
"""The grey layer Create Sky Mask adds above the user's layer (255 = sky)."""


def create_mask(image, layer, config, tmp):
    """A new grey "Sky mask" layer directly above the user's layer (or a channel "Sky"); the
    user's layer and its own mask are never touched. No sky: an error, nothing added."""
    width, height = layer.get_width(), layer.get_height()
    data = _matte_for_layer(layer, gimp_dialog.mask_params(config), tmp)
    skyseg_client.require_sky(data, layer.get_name(), "no sky mask added", schema())
    _, x, y = layer.get_offsets()

    def as_channel():
        channel = Gimp.Channel.new(
            image, "Sky", image.get_width(), image.get_height(), 50.0, Gegl.Color.new("red")
        )
        image.insert_channel(channel, None, 0)
        channel.fill(Gimp.FillType.TRANSPARENT)
        gimp_pixels.write_grey(channel, data, x, y, width, height)
        image.set_selected_layers([layer])  # the new channel took the selection: give it back

    def as_layer():
        mask = gimp_pixels.grey_layer(image, MASK_LAYER, width, height)
        gimp_pixels.insert_above(image, mask, layer)
        mask.set_offsets(x, y)
        # stored grey values are the matte's bytes: "Y' u8" for a perceptual image, "Y u8" linear
        linear = image.get_precision().value_nick.split("-", 1)[-1] == "linear"
        fmt = "Y u8" if linear else "Y' u8"
        buffer = mask.get_buffer()
        buffer.set(Gegl.Rectangle.new(0, 0, width, height), fmt, data)
        buffer.flush()
        mask.update(0, 0, width, height)
        image.set_selected_layers([mask])

    return as_channel if config.get_property("as-channel") else as_layer


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
    if interactive and os.path.exists(path) and not gimp_dialog.confirm_replace(path):
        raise _Cancelled()
    source = gimp_pixels.export_layer(layer, tmp)
    run_worker(
        "mask",
        source,
        path,
        gimp_dialog.mask_params(config),
        "Saving the sky mask",
        layer_aliases(layer, source),
    )


def select_sky(image, layer, config, tmp):
    data = _matte_for_layer(layer, gimp_dialog.mask_params(config), tmp)
    skyseg_client.require_sky(data, layer.get_name(), "nothing selected", schema())

    def select():
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
            gimp_pixels.write_grey(channel, data, x, y, layer.get_width(), layer.get_height())
            image.select_item(Gimp.ChannelOps.REPLACE, channel)
        finally:
            image.remove_channel(channel)

    return select


def effect_fields(config, op, scripted):
    """The fields of effect ``op`` from a call's config, as its op takes them. The dialog's
    sliders already show the look (gimp_dialog.follow_controls); a script's call gets the look
    in the controls it left at their default, and its sky file used."""
    controls = skyseg_client.effect_controls(schema(), op)
    values = gimp_dialog.values_of(config, controls)
    if scripted:
        values = gimp_dialog.file_means_image(values, controls)
    return skyseg_client.effect_params(schema(), op, values, apply_look=scripted)


def preview_params(config, op):
    """What the dialog's preview renders ``op`` with: the values OK would run with."""
    return dict(gimp_dialog.mask_params(config), **effect_fields(config, op, scripted=False))


def _effect(op, name):
    def body(image, layer, config, tmp):
        scripted = _RUN_MODE.get("value") == Gimp.RunMode.NONINTERACTIVE
        fields = effect_fields(config, op, scripted)
        source = gimp_pixels.export_layer(layer, tmp)
        result = os.path.join(tmp, "result.ppm" if source.endswith(".ppm") else "result.png")
        layers = os.path.join(tmp, "result.layers")
        params = dict(
            gimp_dialog.mask_params(config), steps=[dict(fields, effect=op)], layers=layers
        )
        run_worker("render", source, result, params, name, layer_aliases(layer, source))

        def add_group():
            group = gimp_pixels.result_group(image, layer, name, layers)
            image.set_selected_layers([group])

        return add_group

    return body


_OPAQUE = bytes(255 - value for value in range(256))
"""Alpha to sky matte bytes: a pixel an RGBA step left transparent is sky."""


def _rgba_step(op, name):
    """The run body of an RGBA step (the cut-out): a new layer ``name`` above the user's, the
    step's picture (its transparency where the sky was). No transparent sky: an error, nothing
    added."""

    def body(image, layer, config, tmp):
        scripted = _RUN_MODE.get("value") == Gimp.RunMode.NONINTERACTIVE
        params = dict(gimp_dialog.mask_params(config), **effect_fields(config, op, scripted))
        source = gimp_pixels.export_layer(layer, tmp)
        result = os.path.join(tmp, "result.png")
        run_worker(op, source, result, params, name, layer_aliases(layer, source))
        fmt, samples, alpha = gimp_pixels.read_rgba(result, layer)
        skyseg_client.require_sky(
            alpha.translate(_OPAQUE), layer.get_name(), f'no "{name}" layer added', schema()
        )

        def add_layer():
            new = gimp_pixels.rgba_layer(image, name, layer, fmt, samples)
            image.set_selected_layers([new])

        return add_layer

    return body


_PROCEDURES = {}


def procedures():
    """name -> (menu label, menu path, title, run body, effect whose controls it takes): the mask
    procedures, one per effect of the schema (``skyseg_client.effect_actions``) and one per RGBA
    step (``skyseg_client.rgba_actions``: the cut-out), named after its title; without a schema the mask procedures alone (running one says how to install)."""
    if _PROCEDURES:
        return _PROCEDURES
    try:
        effects = skyseg_client.effect_actions(schema())
        rgba_steps = skyseg_client.rgba_actions(schema())
    except skyseg_client.WorkerError:
        effects, rgba_steps = [], []
    used = set("mv")  # the mnemonics of Create Sky Mask and Save Sky Mask in the same menu

    def entry(action, body):
        title = gimp_dialog.menu_title(action["title"])
        name = PROC_PREFIX + action["action"].replace("_", "-")
        label = gimp_dialog.menu_label(title, used) + "..."
        return name, (
            label,
            SKY_MENU,
            title,
            body(action["effect"], action["layer_name"]),
            action["effect"],
        )

    effect_entries = [entry(action, _effect) for action in effects]
    # after the effects (whose mnemonics stay as they were), listed next to Create Sky Mask:
    # an RGBA step (the cut-out) also adds one layer made of the photo
    rgba_entries = [entry(action, _rgba_step) for action in rgba_steps]
    made = {PROC_MASK: ("Create Sky _Mask...", SKY_MENU, "Create Sky Mask", create_mask, None)}
    made.update(rgba_entries)
    made[PROC_SELECT] = ("_Sky", "<Image>/Select", "Select Sky", select_sky, None)
    made.update(effect_entries)
    made[PROC_SAVE_MASK] = ("Sa_ve Sky Mask...", SKY_MENU, "Save Sky Mask", save_mask, None)
    _PROCEDURES.update(made)
    return _PROCEDURES


def _effect_names():
    """The effects (RGB results, previewed in the dialog); the RGBA steps are not among them."""
    try:
        return skyseg_client.effect_names(schema())
    except skyseg_client.WorkerError:
        return []


def follow_dialog(config, name):
    """Connect the dialog's controls of procedure ``name`` to each other on ``config``
    (:func:`gimp_dialog.follow_controls`)."""
    gimp_dialog.follow_controls(config, procedures()[name][4])


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
        # the dialog's own buttons (OK, Help, Cancel, Load Saved Settings, Reset, Save Settings)
        # and its Preview toggle
        used = set("ohclrs" + gimp_dialog.PREVIEW_MNEMONIC)
        for control in controls:
            gimp_dialog.add_argument(procedure, control, used)
        if procedures()[name][4] in _effect_names():
            gimp_dialog.add_preview_argument(procedure)
        if name == PROC_SAVE_MASK:
            procedure.add_file_argument(
                "file",
                gimp_dialog.dialog_label({"label": "Mask file"}, used),
                "The PNG to write the sky mask to (the layer's size, "
                "255 = sky: what `skyseg mask` writes)",
                Gimp.FileChooserAction.SAVE,
                True,
                None,
                gimp_dialog.RW,
            )
        if name == PROC_MASK:
            procedure.add_boolean_argument(
                "as-channel",
                gimp_dialog.dialog_label({"label": "As channel"}, used),
                'Add the matte as a channel named "Sky" instead of a grey "Sky mask" layer',
                False,
                gimp_dialog.RW,
            )
        return procedure


if __name__ == "__main__":
    Gimp.main(SkysegPlugIn.__gtype__, sys.argv)
