"""Run INSIDE GIMP 3's GUI (under Xvfb) by harness.gimp_dialog_screenshot: open the photo in a
window and the Replace Sky dialog as a user would (interactive run mode), for a screenshot."""

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402

image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path("/e2e/photo.png"))
Gimp.Display.new(image)
proc = Gimp.get_pdb().lookup_procedure("plug-in-skyseg-replace-sky")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
config.set_property("image", image)
config.set_core_object_array("drawables", image.get_layers())
proc.run(config)
