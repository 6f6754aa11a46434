"""Save the X screen (after a delay) as a PNG, with GTK 3 from the chroot: grab_screen.py SECONDS OUT.png"""

import sys
import time

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

time.sleep(float(sys.argv[1]))
w = Gdk.get_default_root_window()
pb = Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height())
pb.savev(sys.argv[2], "png", [], [])
print("grabbed", w.get_width(), w.get_height())
