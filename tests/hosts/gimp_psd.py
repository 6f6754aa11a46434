"""Driver run INSIDE GIMP 3 (gimp-console-3.0 --batch-interpreter=python-fu-eval) by
tests/test_psd.py: open $SKYSEG_E2E_DIR/layers.psd as a user would and write its layer stack
(names, visibility, opacity, blend mode, mask) and each layer's and mask's pixels (PGM/PPM)
into $SKYSEG_E2E_DIR/psd.json. Only GIMP's API and the standard library are used here.
"""

import json
import os
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

DIR = os.environ["SKYSEG_E2E_DIR"]
result = {}


def dump(drawable, name, fmt, magic, channels):
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    data = drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)
    with open(os.path.join(DIR, name), "wb") as fh:
        fh.write(b"%s\n%d %d\n255\n" % (magic, drawable.get_width(), drawable.get_height()))
        fh.write(data)
    return name


def main():
    image = Gimp.file_load(
        Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.join(DIR, "layers.psd"))
    )
    result["size"] = [image.get_width(), image.get_height()]
    result["precision"] = str(image.get_precision().value_nick)
    stack = []
    for i, layer in enumerate(image.get_layers()):  # top first
        mask = layer.get_mask()
        stack.append(
            {
                "name": layer.get_name(),
                "visible": layer.get_visible(),
                "opacity": round(layer.get_opacity(), 1),
                "mode": layer.get_mode().value_nick,
                "mask": mask is not None,
                "size": [layer.get_width(), layer.get_height()],
                "pixels": dump(layer, f"psd_layer{i}.ppm", "R'G'B' u8", b"P6", 3),
                "mask_pixels": dump(mask, f"psd_mask{i}.pgm", "Y u8", b"P5", 1)
                if mask is not None
                else None,
            }
        )
    result["stack"] = stack


try:
    main()
except Exception:  # noqa: BLE001 - the test reads the traceback
    result["exception"] = traceback.format_exc()
with open(os.path.join(DIR, "psd.json"), "w") as fh:
    json.dump(result, fh, indent=1, default=str)
