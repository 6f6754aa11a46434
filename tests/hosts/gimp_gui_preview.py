"""Run INSIDE GIMP 3's GUI (under Xvfb) by harness.gimp_gui_preview: open the photo in a window
and Replace Sky's dialog as a user would, once per name in $SKYSEG_E2E_DIALOGS (default
"cancel,ok": the test's clicks tick Preview each time, then choose Cancel, then OK). Writes what
the image holds after each to /e2e/gui_preview.json, under that name."""

import json
import os

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402

result = {}


def state(image, values):
    return {
        "status": values.index(0).value_nick,
        "layers": [item.get_name() for item in image.get_layers()],
        "dirty": image.is_dirty(),
        "undo_enabled": image.undo_is_enabled(),
        "selected": [item.get_name() for item in image.get_selected_layers()],
    }


image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path("/e2e/photo.png"))
image.get_layers()[0].set_name("photo")
Gimp.Display.new(image)
image.clean_all()
proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-replace-sky")
for answer in os.environ.get("SKYSEG_E2E_DIALOGS", "cancel,ok").split(","):
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [image.get_layers()[-1]])
    result[answer] = state(image, proc.run(config))
    with open("/e2e/gui_preview.json", "w") as fh:
        json.dump(result, fh)
