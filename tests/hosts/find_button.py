"""Where a widget painted #ff00ff (by a test's user.css) is on a screenshot: find_button.py
SHOT.png prints "X Y" (its centre) and exits 0, or exits 1 when there is none. Runs with the
darktable chroot's skyseg venv (numpy, OpenCV)."""

import sys

import cv2
import numpy as np

shot = cv2.imread(sys.argv[1])
if shot is None:
    sys.exit(1)
blue, green, red = (shot[..., i].astype(np.int32) for i in range(3))
ys, xs = np.nonzero((red > 200) & (blue > 200) & (green < 80))
if len(xs) < 200:  # a button, not a stray pixel
    sys.exit(1)
print(int(np.median(xs)), int(np.median(ys)))
