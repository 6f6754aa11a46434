"""skyseg for GIMP 3, the procedures' arguments and dialogs: one PDB argument per control of the
schema, the values a call's config holds, and the dialog (its controls following each other)."""

import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
import skyseg_client  # noqa: E402
from gi.repository import Babl, Gegl, Gimp, GObject  # noqa: E402
from gimp_worker import schema  # noqa: E402

RW = GObject.ParamFlags.READWRITE


def arg_name(key):
    return key.replace("_", "-")


def dialog_label(control, used=None):
    """The dialog label: the declared one, its unit, and a mnemonic (the first letter not yet taken
    in this procedure, in ``used``)."""
    unit = control.get("unit")
    text = f"{control['label']} ({unit})" if unit else control["label"]
    if used is None:
        return text
    for i, char in enumerate(text):
        if char.isalpha() and char.lower() not in used:
            used.add(char.lower())
            return text[:i] + "_" + text[i:]
    return text


def menu_title(title):
    """Each word capitalised, as in GIMP's menus ("Replace sky" -> "Replace Sky")."""
    return " ".join(word[:1].upper() + word[1:] for word in title.split())


def menu_label(title, used):
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


def add_argument(procedure, control, used=None):
    """One PDB argument for one control of the schema (see skyseg_client.effect_controls)."""
    name, label, help_text, default = (
        arg_name(control["key"]),
        dialog_label(control, used),
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


def values_of(config, controls):
    """key -> the argument's value, as effect_params takes it."""
    values = {}
    for control in controls:
        value = config.get_property(arg_name(control["key"]))
        if control["kind"] == "colour":
            value = _hex(value, control["default"])
        elif control["kind"] == "file":
            value = (value.get_path() or "") if value is not None else ""
        values[control["key"]] = value
    return values


def mask_params(config):
    """The matte source's values (method, refine) of a call's config."""
    return values_of(config, skyseg_client.source_controls(schema()))


def run_dialog(procedure, config, title, controls, effect, preview=None, problem=""):
    """The procedure's dialog on ``config`` (its ``controls``; ``effect``: the effect whose
    controls follow each other, or None; ``preview``: a ``gimp_preview.DialogPreview`` behind a
    "Preview" toggle, or None; ``problem``: why the last try failed, shown under the controls);
    whether the user chose OK. The preview is gone when it returns."""
    from gi.repository import GimpUi  # only dialogs need GTK: batch calls skip loading it

    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk

    GimpUi.init("skyseg")
    dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config, title=title)
    help_button = dialog.get_widget_for_response(Gtk.ResponseType.HELP)
    if help_button is not None:  # the plug-in has no help pages for GIMP's help system
        help_button.hide()
        help_button.set_no_show_all(True)
    note = Gtk.Label(xalign=0.0, label=f"Not done: {problem}" if problem else "")
    note.set_line_wrap(True)
    note.set_max_width_chars(50)  # wraps within the controls' width instead of widening them
    note.set_margin_start(12)
    note.set_margin_end(12)
    dialog.get_content_area().pack_end(note, False, False, 6)
    note.show()
    follow_controls(config, effect)
    for control in controls:
        if (
            control["kind"] == "float" and "decimals" in control
        ):  # GIMP's own guess shows 4 decimals
            dialog.get_spin_scale(arg_name(control["key"]), 1.0).set_digits(control["decimals"])
    names = [p.get_name() for p in procedure.get_arguments()]
    names = [n for n in names if n not in ("run-mode", "image", "drawables")]
    if preview is not None:
        names.append(PREVIEW_ARGUMENT)
        preview.status = note.set_text
        _follow_preview(config, preview)
    dialog.fill(names)
    try:
        ok = dialog.run()
    finally:
        if preview is not None:
            preview.stop()
        dialog.destroy()
    return ok


PREVIEW_ARGUMENT = "preview"
"""The effect procedures' "Preview" toggle: an aux argument (not in the PDB call; GIMP keeps its
last state, as for its own filters)."""
PREVIEW_MNEMONIC = "p"
"""The "Preview" toggle's mnemonic, kept free among the arguments' labels."""


def add_preview_argument(procedure):
    procedure.add_boolean_aux_argument(
        PREVIEW_ARGUMENT,
        "_Preview",
        "Show the effect on the canvas while you change the controls (rendered at screen "
        "size; OK renders it at full size)",
        False,
        RW,
    )


def _follow_preview(config, preview):
    """Start and stop ``preview`` with the toggle (at once when it was left on) and render each
    change of the other controls."""
    from gi.repository import GLib

    def toggled(cfg, _pspec):
        if cfg.get_property(PREVIEW_ARGUMENT):
            preview.start(cfg)
        else:
            preview.stop()

    def changed(cfg, pspec):
        if pspec.get_name() != PREVIEW_ARGUMENT:
            preview.changed(cfg)

    config.connect("notify::" + PREVIEW_ARGUMENT, toggled)
    config.connect("notify", changed)
    if config.get_property(PREVIEW_ARGUMENT):  # once the dialog is up
        GLib.idle_add(lambda: toggled(config, None) and False)


def _set_control(config, control, value):
    """Set one argument to a control's value (a colour from its ``#rrggbb``)."""
    if control["kind"] == "colour":
        value = Gegl.Color.new(value)
    config.set_property(arg_name(control["key"]), value)


def follow_controls(config, effect):
    """What the dialog's controls do to each other (connected to ``config``'s notifications):
    choosing a Look moves every control to that look (the declared defaults with its changes;
    the sky kept), and picking a file in "Sky file" chooses "Image file..." in the Sky menu."""
    if effect is None:
        return
    controls = skyseg_client.effect_controls(schema(), effect)
    by_key = {c["key"]: c for c in controls}

    def on_look(cfg, _pspec):
        values = skyseg_client.look_values(schema(), effect, cfg.get_property("look"))
        for key, value in values.items():
            _set_control(cfg, by_key[key], value)

    def on_file(cfg, pspec):
        control = next(c for c in controls if arg_name(c["key"]) == pspec.get_name())
        picked = cfg.get_property(pspec.get_name())
        if picked is not None and picked.get_path() and control["field"] in by_key:
            cfg.set_property(arg_name(control["field"]), skyseg_client.SKY_FILE)

    if "look" in by_key:
        config.connect("notify::look", on_look)
    for control in controls:
        if control["kind"] == "file":
            config.connect("notify::" + arg_name(control["key"]), on_file)


def file_means_image(values, controls):
    """A PDB call that gives a sky file and leaves the sky menu at its default means the file
    (as picking it in the dialog does)."""
    for control in controls:
        menu = next((c for c in controls if c["key"] == control["field"]), None)
        if control["kind"] == "file" and values.get(control["key"]) and menu is not None:
            if values[menu["key"]] == menu["default"]:
                values[menu["key"]] = skyseg_client.SKY_FILE
    return values


def confirm_replace(path):
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
