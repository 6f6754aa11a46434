"""Driver run INSIDE GIMP 3 by tests/test_hosts_gimp.py (over 400 lines: one file GIMP execs).

Run by gimp-console-3.0 --batch-interpreter=python-fu-eval.

It calls the skyseg plug-in's registered PDB procedures like a script would, saves what a user
would save (XCF and PNG), and writes everything the test checks into $SKYSEG_E2E_DIR/<scenario>.json.
The scenario is $SKYSEG_E2E_SCENARIO: "main" (mask, selection, replace, and the registered
arguments), "error" (the worker fails), "nosky" (a photo without sky), "cutout" (Cut Out Sky) or
"ora" (open an OpenRaster file). Only GIMP's API and the standard library are used here.
"""

import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
from gi.repository import Babl, Gegl, Gimp, Gio, GObject  # noqa: E402

DIR = os.environ["SKYSEG_E2E_DIR"]
SCENARIO = os.environ.get("SKYSEG_E2E_SCENARIO", "main")
METHOD = os.environ.get("SKYSEG_E2E_METHOD", "auto")
result = {"scenario": SCENARIO}


def path(name):
    return os.path.join(DIR, name)


def call(name, image, drawables, **args):
    """Run a PDB procedure non-interactively; returns (status name, error message)."""
    proc = Gimp.get_pdb().lookup_procedure(name)
    if proc is None:
        return "NOT-REGISTERED", name
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in args.items():
        config.set_property(key.replace("_", "-"), value)
    start = time.monotonic()
    values = proc.run(config)
    result.setdefault("seconds", []).append(
        [name.removeprefix("plug-in-skyseg-"), round(time.monotonic() - start, 3)]
    )
    status = values.index(0)
    message = (
        values.index(1) if values.length() > 1 and status != Gimp.PDBStatusType.SUCCESS else ""
    )
    return status.value_nick, str(message or "")


def grey_bytes(drawable):
    """The stored values (what GIMP uses as opacity) of a mask, channel or selection."""
    fmt = "Y' u8" if Babl.get_name(drawable.get_format()).startswith("Y'") else "Y u8"
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    return drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)


def write_pgm(name, drawable):
    with open(path(name), "wb") as fh:
        fh.write(b"P5\n%d %d\n255\n" % (drawable.get_width(), drawable.get_height()))
        fh.write(grey_bytes(drawable))


def stack(image):
    return [
        {
            "name": layer.get_name(),
            "mask": layer.get_mask() is not None,
            "visible": layer.get_visible(),
            "size": [layer.get_width(), layer.get_height()],
            "offsets": list(layer.get_offsets()[1:]),
        }
        for layer in image.get_layers()
    ]


def group_tree(group):
    """A layer group's children, top first: name, mode, opacity, visibility, mask and spaces."""
    return [
        {
            "name": child.get_name(),
            "mode": child.get_mode().value_nick,
            "opacity": round(child.get_opacity(), 1),
            "visible": child.get_visible(),
            "mask": child.get_mask() is not None,
            "composite_space": child.get_composite_space().value_nick,
            "group": child.is_group(),
        }
        for child in group.get_children()
    ]


def merged(image, name, fmt, out, below=()):
    """Write the merged pixels of the top-level layer ``name`` alone (a flattened duplicate
    with every other top-level layer, but those named in ``below``, hidden) to ``out`` as raw
    samples in ``fmt``."""
    dup = image.duplicate()
    for item in dup.get_layers():
        item.set_visible(item.get_name() == name or item.get_name() in below)
    flat = dup.flatten()
    rect = Gegl.Rectangle.new(0, 0, flat.get_width(), flat.get_height())
    with open(path(out), "wb") as fh:
        if fmt.endswith("u8"):
            fh.write(b"P6\n%d %d\n255\n" % (flat.get_width(), flat.get_height()))
        fh.write(flat.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP))
    dup.delete()


def write_raw(name, drawable):
    """The drawable's pixels as an 8-bit PPM."""
    with open(path(name), "wb") as fh:
        fh.write(b"P6\n%d %d\n255\n" % (drawable.get_width(), drawable.get_height()))
        fh.write(raw(drawable, "R'G'B' u8"))


def raw(drawable, fmt):
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    return drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)


def plugin_module():
    """The installed plug-in's own module (its functions, on this GIMP's objects)."""
    import importlib.util

    where = os.path.join(
        os.environ["HOME"], ".config", "GIMP", "3.0", "plug-ins", "skyseg", "skyseg.py"
    )
    spec = importlib.util.spec_from_file_location("skyseg_plugin", where)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save(image, name):
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path(name)), None)


def argument(pspec, config):
    """A registered argument as plain values: kind, default, low, high, choices, label, help
    (``config``: a fresh config of its procedure, holding the defaults)."""
    kind = GObject.type_name(pspec.value_type)
    out = {
        "name": pspec.get_name(),
        "type": kind,
        "pspec": GObject.type_name(pspec.__gtype__),
        "label": pspec.get_nick(),
        "help": pspec.get_blurb(),
    }
    if out["pspec"] == "GimpParamChoice":
        out["kind"] = "choice"
        choice = Gimp.param_spec_choice_get_choice(pspec)
        out["choices"] = list(choice.list_nicks())
        out["choice_labels"] = [choice.get_label(nick) for nick in out["choices"]]
        out["choice_helps"] = [choice.get_help(nick) for nick in out["choices"]]
        out["default"] = Gimp.param_spec_choice_get_default(pspec)
    elif kind == "gdouble":
        out.update(
            kind="float", default=pspec.get_default_value(), low=pspec.minimum, high=pspec.maximum
        )
    elif kind == "gboolean":
        out.update(kind="bool", default=pspec.get_default_value())
    elif kind == "GeglColor":
        color = config.get_property(pspec.get_name())
        data = color.get_bytes(Babl.format("R'G'B'A u8")).get_data()
        # GIMP 3.0 loses a colour argument's default over the PDB (transparent black arrives)
        out.update(
            kind="colour", default="#" + "".join(f"{b:02x}" for b in data[:3]) if data[3] else None
        )
    elif kind == "GFile":
        out.update(kind="file", default=None)
    else:
        out.update(kind=kind, default=str(pspec.get_default_value()))
    return out


def preview_layer(image):
    return next((item for item in image.get_layers() if item.get_name() == "skyseg preview"), None)


def preview_scenario():
    """The Replace Sky dialog's preview, driven as its toggle and controls drive it (the dialog
    itself needs the GUI): shown over the photo, updated on a change, limited to the selection,
    and gone with nothing left when it stops; then at 24 MP, timed."""
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png")))
    layer = image.get_layers()[0]
    layer.set_name("photo")
    plugin = plugin_module()
    import gimp_preview  # beside the plug-in, on the path it set

    proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-replace-sky")
    config = proc.create_config()
    config.set_property("method", METHOD)
    config.set_property("sky", os.environ.get("SKYSEG_E2E_SKY", "golden_hour"))
    before = raw(layer, "R'G'B' u8")
    image.clean_all()
    lines = []
    preview = gimp_preview.DialogPreview(
        image, layer, "replace", lambda cfg: plugin.preview_params(cfg, "replace"), lines.append
    )
    preview.start(config)  # the toggle ticked
    preview.show(preview.renders.wait(120))  # what the dialog's timer does when it is done
    shown = preview_layer(image)
    result["preview_status"] = lines[-1:]
    result["preview_stack"] = stack(image)
    result["preview_selected"] = [item.get_name() for item in image.get_selected_layers()]
    if shown is not None:
        with open(path("gimp_preview.ppm"), "wb") as fh:
            fh.write(b"P6\n%d %d\n255\n" % (shown.get_width(), shown.get_height()))
            fh.write(raw(shown, "R'G'B' u8"))
    first = raw(shown, "R'G'B' u8") if shown is not None else b""
    config.set_property("sky-brightness", 0.3)  # a control moved: the dialog calls changed
    preview.changed(config)
    second = preview.renders.wait(120)
    preview.show(second)
    again = preview_layer(image)
    result["preview_changed"] = again is not None and raw(again, "R'G'B' u8") != first
    result["preview_layers_while_shown"] = [item.get_name() for item in image.get_layers()]
    preview.stop()  # Cancel, OK or the toggle cleared
    result["after_stop"] = {
        "stack": stack(image),
        "dirty": image.is_dirty(),
        "photo_unchanged": raw(layer, "R'G'B' u8") == before,
        "selected": [item.get_name() for item in image.get_selected_layers()],
        "undo_enabled": image.undo_is_enabled(),
    }
    # with a selection, the preview covers only what the run will change
    image.select_rectangle(Gimp.ChannelOps.REPLACE, 0, 0, 100, 60)
    image.clean_all()
    preview.start(config)
    preview.show(preview.renders.wait(120))
    shown = preview_layer(image)
    result["selection_preview_mask"] = shown is not None and shown.get_mask() is not None
    if shown is not None and shown.get_mask() is not None:
        mask = grey_bytes(shown.get_mask())
        width = shown.get_width()
        result["selection_mask_inside_outside"] = [mask[10 * width + 10], mask[100 * width + 200]]
    preview.stop()
    result["after_selection_stop"] = [stack(image), image.is_dirty()]
    Gimp.Selection.none(image)
    # Tint and Relight preview the same way (their own procedures' configs)
    image.clean_all()
    for effect, name in (("tint", "tint-sky"), ("relight", "relight")):
        effect_config = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-" + name).create_config()
        effect_config.set_property("method", METHOD)
        other = gimp_preview.DialogPreview(
            image, layer, effect, lambda cfg, e=effect: plugin.preview_params(cfg, e), lines.append
        )
        other.start(effect_config)
        other.show(other.renders.wait(120))
        shown = preview_layer(image)
        changed = shown is not None and raw(shown, "R'G'B' u8") != raw(layer, "R'G'B' u8")
        other.stop()
        result.setdefault("other_previews", {})[effect] = [
            changed,
            lines[-1:],
            len(image.get_layers()),
            image.is_dirty(),
        ]
    # a greyscale 16-bit image: the preview in its own type, gone afterwards
    grey = image.duplicate()
    grey.convert_grayscale()
    grey.convert_precision(Gimp.Precision.U16_NON_LINEAR)
    grey.clean_all()
    grey_preview = gimp_preview.DialogPreview(
        grey,
        grey.get_layers()[0],
        "replace",
        lambda cfg: plugin.preview_params(cfg, "replace"),
        lines.append,
    )
    grey_preview.start(config)
    grey_preview.show(grey_preview.renders.wait(120))
    shown = preview_layer(grey)
    result["grey_preview"] = {
        "shown": shown is not None and shown.get_width() == grey.get_width(),
        "status": lines[-1:],
    }
    grey_preview.stop()
    result["grey_preview"]["after"] = [len(grey.get_layers()), grey.is_dirty()]
    grey.delete()
    # 24 MP: the working copy, one render with the matte cached, and showing it, timed
    image.scale(6000, 4000)
    image.clean_all()
    timings = {}
    start = time.monotonic()
    preview.start(config)
    first = preview.renders.wait(300)
    timings["first (working copy, matte, render)"] = round(time.monotonic() - start, 3)
    start = time.monotonic()
    preview.show(first)
    timings["show"] = round(time.monotonic() - start, 3)
    config.set_property("sky-brightness", 0.6)
    start = time.monotonic()
    preview.changed(config)
    changed = preview.renders.wait(300)
    preview.show(changed)
    timings["control change to shown"] = round(time.monotonic() - start, 3)
    timings["of which render"] = round(changed.seconds, 3)
    shown = preview_layer(image)
    result["preview_24mp_size"] = [shown.get_width(), shown.get_height()] if shown else None
    preview.stop()
    result["preview_24mp_timings"] = timings
    result["after_24mp_stop"] = [len(image.get_layers()), image.is_dirty()]


def cutout_scenario():
    """Cut Out Sky on the photo in sRGB (the free edge colours on and off), in Adobe RGB and as
    16-bit greyscale: what each adds, the user's layer before and after, the new layer's
    samples (R'G'B'A, 16-bit for the grey image) and the samples the worker was given."""
    a98 = Gio.File.new_for_path("/usr/share/color/icc/ghostscript/a98.icc")
    for case, decontaminate in (
        ("srgb", True),
        ("plain", False),
        ("profile", True),
        ("grey16", True),
    ):
        image = Gimp.file_load(
            Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png"))
        )
        layer = image.get_layers()[0]
        layer.set_name("photo")
        if case == "profile":
            image.convert_color_profile(
                Gimp.ColorProfile.new_from_file(a98),
                Gimp.ColorRenderingIntent.RELATIVE_COLORIMETRIC,
                True,
            )
        if case == "grey16":
            image.convert_grayscale()
            image.convert_precision(Gimp.Precision.U16_NON_LINEAR)
        image.clean_all()
        deep = case == "grey16"
        given = "Y' u16" if deep else "R'G'B' u8"  # what the worker reads of the layer
        with open(path(f"gimp_cutout_{case}_photo.raw"), "wb") as fh:
            fh.write(raw(layer, given))
        before = raw(layer, Babl.get_name(layer.get_format()))
        status = call(
            "plug-in-skyseg-cut-out-sky", image, [layer], method=METHOD, decontaminate=decontaminate
        )
        top = image.get_layers()[0]
        made = {
            "status": status,
            "stack": [item.get_name() for item in image.get_layers()],
            "selected": [d.get_name() for d in image.get_selected_layers()],
            "photo_unchanged": raw(layer, Babl.get_name(layer.get_format())) == before,
            "has_alpha": top.has_alpha(),
            "format": Babl.get_name(top.get_format()),
            "offsets": list(top.get_offsets()[1:]),
            "size": [top.get_width(), top.get_height()],
            "dirty": image.is_dirty(),
        }
        result.setdefault("cutout", {})[case] = made
        with open(path(f"gimp_cutout_{case}.raw"), "wb") as fh:
            fh.write(raw(top, "R'G'B'A u16" if deep else "R'G'B'A u8"))
        image.delete()


def main():
    if (
        SCENARIO == "bench"
    ):  # 640 x 480, then 12 MP: each call twice (the very first starts the shared worker)
        method = os.environ.get("SKYSEG_E2E_BENCH_METHOD", METHOD)
        for photo, calls in (
            ("photo_vga.png", ("create-mask", "create-mask")),
            ("photo12.png", ("create-mask", "create-mask", "replace-sky", "replace-sky")),
        ):
            image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path(photo)))
            layer = image.get_layers()[0]
            for name in calls:
                result.setdefault("statuses", []).append(
                    call("plug-in-skyseg-" + name, image, [layer], method=method)
                )
            result.setdefault("sizes", []).append([image.get_width(), image.get_height()])
        return
    if SCENARIO == "nosky":  # a photo without sky: each effect is one readable error, nothing added
        image = Gimp.file_load(
            Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("no_sky.png"))
        )
        layer = image.get_layers()[0]
        layer.set_name("ground")
        for name in ("replace-sky", "tint-sky", "create-mask", "select-sky", "cut-out-sky"):
            result[name] = call("plug-in-skyseg-" + name, image, [layer], method=METHOD)
        result["create-mask-channel"] = call(
            "plug-in-skyseg-create-mask", image, [layer], method=METHOD, as_channel=True
        )
        result["stack_after"] = stack(image)
        result["channels_after"] = [c.get_name() for c in image.get_channels()]
        result["selection_empty"] = Gimp.Selection.is_empty(image)
        return
    if SCENARIO == "profile":  # an image with a colour profile of its own (Adobe RGB)
        image = Gimp.file_load(
            Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png"))
        )
        layer = image.get_layers()[0]
        layer.set_name("photo")
        a98 = Gio.File.new_for_path("/usr/share/color/icc/ghostscript/a98.icc")
        image.convert_color_profile(
            Gimp.ColorProfile.new_from_file(a98),
            Gimp.ColorRenderingIntent.RELATIVE_COLORIMETRIC,
            True,
        )
        native = Babl.get_name(layer.get_format())
        result["stored_differs_from_srgb"] = raw(layer, native) != raw(layer, "R'G'B' u8")
        write_raw("gimp_profile_photo.ppm", layer)  # its sRGB values, as GIMP converts them
        result["replace_status"] = call(
            "plug-in-skyseg-replace-sky",
            image,
            [layer],
            method=METHOD,
            sky=os.environ.get("SKYSEG_E2E_SKY", "golden_hour"),
        )
        result["stack"] = stack(image)
        top = image.get_layers()[0]
        result["group"] = group_tree(top) if top.is_group() else None
        merged(image, top.get_name(), "R'G'B' u8", "gimp_profile_merged.ppm")
        result["mask_status"] = call("plug-in-skyseg-create-mask", image, [layer], method=METHOD)
        sky_mask = next(
            (item for item in image.get_layers() if item.get_name() == "Sky mask"), None
        )
        if sky_mask is not None:
            with open(path("gimp_profile_mask.pgm"), "wb") as fh:
                fh.write(b"P5\n%d %d\n255\n" % (sky_mask.get_width(), sky_mask.get_height()))
                fh.write(raw(sky_mask, "Y' u8"))
        result["profile_kept"] = image.get_color_profile() is not None
        return
    if SCENARIO == "selection":  # effects change only the selected pixels
        image = Gimp.file_load(
            Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png"))
        )
        layer = image.get_layers()[0]
        layer.set_name("photo")
        write_raw("gimp_selection_photo.ppm", layer)
        image.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 20, 200, 120)
        for name in ("replace-sky", "tint-sky", "relight"):
            result[name] = call(
                "plug-in-skyseg-" + name,
                image,
                [layer],
                method=METHOD,
                **(
                    {"sky": os.environ.get("SKYSEG_E2E_SKY", "golden_hour")}
                    if name == "replace-sky"
                    else {}
                ),
            )
        result["stack"] = stack(image)
        group = next(item for item in image.get_layers() if item.get_name() == "Sky replaced")
        if group.get_mask() is not None:
            write_pgm("gimp_selection_mask.pgm", group.get_mask())
        merged(image, "Sky replaced", "R'G'B' u8", "gimp_selection_merged.ppm", below=["photo"])
        return
    if SCENARIO == "preview":
        preview_scenario()
        return
    if SCENARIO == "cutout":
        cutout_scenario()
        return
    if SCENARIO == "ora":
        image = Gimp.file_load(
            Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("layers.ora"))
        )
        result["ora_stack"] = stack(image)
        result["ora_size"] = [image.get_width(), image.get_height()]
        return
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png")))
    layer = image.get_layers()[0]
    layer.set_name("photo")
    names = ("create-mask", "select-sky", "replace-sky", "tint-sky", "relight", "save-mask")
    result["registered"] = [
        n for n in names if Gimp.get_pdb().procedure_exists("plug-in-skyseg-" + n)
    ]
    if SCENARIO == "looks":  # the user's own look: in the Look menu, moving the dialog, by name
        proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-replace-sky")
        config = proc.create_config()
        look = next(a for a in proc.get_arguments() if a.get_name() == "look")
        result["look_argument"] = argument(look, config)
        plugin_module().follow_dialog(config, "plug-in-skyseg-replace-sky")
        config.set_property("look", "Misty")
        keys = ("halo", "horizon-haze", "sky-opacity", "lighting")
        result["misty"] = {k: config.get_property(k) for k in keys}
        result["replace_status"] = call(
            "plug-in-skyseg-replace-sky", image, [layer], method=METHOD, look="Misty"
        )
        result["stack_after"] = stack(image)
        return
    if SCENARIO == "main":
        result["arguments"] = {}
        for n in result["registered"]:
            proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-" + n)
            config = proc.create_config()
            result["arguments"][n] = [
                argument(a, config)
                for a in proc.get_arguments()
                if a.get_name() not in ("run-mode", "image", "drawables")
            ]
    if SCENARIO.startswith(
        "error"
    ):  # the worker is made to crash or hang by the test's environment
        image.clean_all()
        result["mask_status"] = call("plug-in-skyseg-create-mask", image, [layer], method=METHOD)
        result["replace_status"] = call("plug-in-skyseg-replace-sky", image, [layer], method=METHOD)
        result["stack_after_error"] = stack(image)
        result["dirty_after_error"] = image.is_dirty()  # no undo step either
        result["mask_after_error"] = layer.get_mask() is not None
        # GIMP is still alive: it keeps answering PDB calls and saves the image.
        save(image, SCENARIO + ".xcf")
        result["alive"] = os.path.getsize(path(SCENARIO + ".xcf")) > 0 and image.get_width() > 0
        return
    # 1. Create Sky Mask: a new grey "Sky mask" layer above the photo, which already has a mask
    # of the user's own (a ramp): the photo's pixels and that mask stay byte-identical.
    user_mask = layer.create_mask(Gimp.AddMaskType.WHITE)
    layer.add_mask(user_mask)
    width, height = layer.get_width(), layer.get_height()
    ramp = bytes((x * 7 + y * 3) % 256 for y in range(height) for x in range(width))
    buffer = user_mask.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), "Y u8", ramp)
    buffer.flush()
    rect = Gegl.Rectangle.new(0, 0, width, height)

    def native(drawable):  # the stored bytes, in the drawable's own format
        fmt = Babl.get_name(drawable.get_format())
        return drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)

    photo_before, mask_before = native(layer), native(user_mask)
    result["mask_status"] = call("plug-in-skyseg-create-mask", image, [layer], method=METHOD)
    result["stack_after_mask"] = stack(image)
    result["selected_after_mask"] = [d.get_name() for d in image.get_selected_layers()]
    result["photo_unchanged"] = native(layer) == photo_before
    result["user_mask_unchanged"] = (
        layer.get_mask() is not None and native(layer.get_mask()) == mask_before
    )
    result["user_mask_is_a_ramp"] = len(set(mask_before)) > 200
    sky_mask = next((lay for lay in image.get_layers() if lay.get_name() == "Sky mask"), None)
    if sky_mask is not None:
        result["mask_format"] = Babl.get_name(sky_mask.get_format())
        with open(path("gimp_mask.pgm"), "wb") as fh:
            fh.write(b"P5\n%d %d\n255\n" % (sky_mask.get_width(), sky_mask.get_height()))
            fh.write(
                sky_mask.get_buffer().get(
                    Gegl.Rectangle.new(0, 0, sky_mask.get_width(), sky_mask.get_height()),
                    1.0,
                    "Y' u8",
                    Gegl.AbyssPolicy.CLAMP,
                )
            )
        image.remove_layer(sky_mask)  # the rest works on the photo alone, as before
    layer.remove_mask(Gimp.MaskApplyMode.DISCARD)
    # 2. The same as a channel named "Sky".
    result["channel_status"] = call(
        "plug-in-skyseg-create-mask", image, [layer], method=METHOD, as_channel=True
    )
    channels = image.get_channels()
    result["channels"] = [c.get_name() for c in channels]
    sky = next((c for c in channels if c.get_name() == "Sky"), None)
    if sky is not None:
        write_pgm("gimp_channel.pgm", sky)
    # the next action works on what is selected now (the photo, not the new channel)
    result["selected_after_channel"] = [d.get_name() for d in image.get_selected_drawables()]
    result["next_after_channel"] = call(
        "plug-in-skyseg-select-sky", image, image.get_selected_drawables(), method=METHOD
    )
    Gimp.Selection.none(image)
    # 2b. Save Sky Mask: the worker writes the PNG itself (what `skyseg mask` writes).
    result["save_mask_status"] = call(
        "plug-in-skyseg-save-mask",
        image,
        [layer],
        method=METHOD,
        file=Gio.File.new_for_path(path("gimp_saved_mask.png")),
    )
    result["save_mask_jpg"] = call(
        "plug-in-skyseg-save-mask",
        image,
        [layer],
        method=METHOD,
        file=Gio.File.new_for_path(path("gimp_saved_mask.jpg")),
    )
    result["save_mask_no_suffix"] = call(
        "plug-in-skyseg-save-mask",
        image,
        [layer],
        method=METHOD,
        file=Gio.File.new_for_path(path("gimp_saved_mask_plain")),
    )
    # 2c. The dialog's controls follow each other (the handlers the dialog connects, on a real
    # config of the procedure): a Look moves the sliders, a picked sky file chooses the file.
    plugin = plugin_module()
    proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-replace-sky")
    config = proc.create_config()
    plugin.follow_dialog(config, "plug-in-skyseg-replace-sky")
    keys = ("lighting", "halo", "sky-brightness", "fade-edge", "defocus", "sky")
    config.set_property("sky", "sunset")
    for look in ("dramatic", "plain", "natural"):
        config.set_property("look", look)
        result.setdefault("looks", {})[look] = {k: config.get_property(k) for k in keys}
    config.set_property("sky-file", Gio.File.new_for_path(path("red_sky.png")))
    result["sky_after_file"] = config.get_property("sky")
    # 3. Select > Sky.
    result["select_status"] = call("plug-in-skyseg-select-sky", image, [layer], method=METHOD)
    result["selection_empty"] = Gimp.Selection.is_empty(image)
    write_pgm("gimp_selection.pgm", image.get_selection())
    Gimp.Selection.none(image)
    # 4. Replace Sky: a new layer above the photo.
    result["replace_status"] = call(
        "plug-in-skyseg-replace-sky",
        image,
        [layer],
        method=METHOD,
        sky=os.environ.get("SKYSEG_E2E_SKY", "golden_hour"),
    )
    result["stack"] = stack(image)
    group = image.get_layers()[0]
    result["group_is_group"] = group.is_group()
    result["group"] = group_tree(group) if group.is_group() else None
    result["selected_after_replace"] = [d.get_name() for d in image.get_selected_layers()]
    save(image, "gimp_result.xcf")
    flat = image.duplicate()
    flat.flatten()
    save(flat, "gimp_result.png")
    flat.delete()
    # 4b. A second run, with the group (then a layer inside it) selected, reads the original
    # photo (the group's source), not the first result; each makes a new group above the first.
    photo_bytes = raw(layer, "R'G'B' u8")
    result["second_runs"] = []
    for picked in ("group", "new sky"):
        chosen = (
            group
            if picked == "group"
            else next(c for c in group.get_children() if c.get_name() == picked)
        )
        status = call(
            "plug-in-skyseg-replace-sky",
            image,
            [chosen],
            method=METHOD,
            sky=os.environ.get("SKYSEG_E2E_SKY", "golden_hour"),
        )
        second = image.get_layers()[0]
        original = second.get_children()[-1] if second.is_group() else second
        result["second_runs"].append(
            {
                "status": status,
                "top_level": [item.get_name() for item in image.get_layers()],
                "source_is_the_photo": raw(original, "R'G'B' u8") == photo_bytes,
                "children": [c.get_name() for c in second.get_children()],
            }
        )
        if picked == "new sky":  # a run on the second group (its names made unique: "#1")
            result["third_run"] = call("plug-in-skyseg-replace-sky", image, [second], method=METHOD)
            third = image.get_layers()[0]
            result["third_source_is_the_photo"] = third.is_group() and (
                raw(third.get_children()[-1], "R'G'B' u8") == photo_bytes
            )
            result["third_top_level"] = [item.get_name() for item in image.get_layers()]
            image.remove_layer(third)
        image.remove_layer(second)
    # 4c. A script that gives a sky file and leaves the sky menu alone gets that file.
    result["sky_file_status"] = call(
        "plug-in-skyseg-replace-sky",
        image,
        [layer],
        method=METHOD,
        sky_file=Gio.File.new_for_path(path("red_sky.png")),
    )
    made = [item for item in image.get_layers() if item.get_id() != group.get_id()]
    top = made[0]  # above the photo, below the first group
    if top.is_group():
        sky_layer = next(c for c in top.get_children() if c.get_name().startswith("new sky"))
        pixels = raw(sky_layer, "R'G'B' u8")
        result["file_sky_mean"] = [
            round(sum(pixels[c::3]) / (len(pixels) // 3), 1) for c in range(3)
        ]
        image.remove_layer(top)
    # 5. Tint and relight on the photo: two more layers, each directly above it.
    result["tint_status"] = call(
        "plug-in-skyseg-tint-sky", image, [layer], method=METHOD, mode="multiply"
    )
    result["relight_status"] = call(
        "plug-in-skyseg-relight", image, [layer], method=METHOD, temperature=3200.0
    )
    result["stack_after_effects"] = [item["name"] for item in stack(image)]
    if "Sky tinted" in result["stack_after_effects"]:  # colours left unset: the declared gradient
        merged(image, "Sky tinted", "R'G'B' u8", "gimp_tint.ppm")
    # 7. A 16-bit image: the layer goes to the worker at 16 bits and the result comes back at 16 bits.
    deep = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("photo.png")))
    deep.convert_precision(Gimp.Precision.U16_NON_LINEAR)
    result["replace16_status"] = call(
        "plug-in-skyseg-replace-sky",
        deep,
        [deep.get_layers()[0]],
        method=METHOD,
        sky=os.environ.get("SKYSEG_E2E_SKY", "golden_hour"),
    )
    top = deep.get_layers()[0]
    result["replace16"] = {
        "name": top.get_name(),
        "precision": deep.get_precision().value_nick,
        "size": [top.get_width(), top.get_height()],
        "group": group_tree(top) if top.is_group() else None,
    }
    merged(deep, top.get_name(), "R'G'B' u16", "gimp_replace16.raw")
    deep.delete()
    # 6. The saved XCF reopens with the same stack.
    reopened = Gimp.file_load(
        Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path("gimp_result.xcf"))
    )
    result["xcf_stack"] = stack(reopened)
    result["xcf_channels"] = [c.get_name() for c in reopened.get_channels()]


try:
    main()
except Exception:  # noqa: BLE001 - the test reads the traceback
    result["exception"] = traceback.format_exc()
with open(path(SCENARIO + ".json"), "w") as fh:
    json.dump(result, fh, indent=1, default=str)
