"""The real 100 % view: when the canvas is zoomed in past the preview's own resolution, the
visible region is shown from the photo's full resolution (the photo, the matte, its overlay and
the result), the preview standing in until it arrives.

The full-resolution layers are made once per state of the edit on a worker (the edited matte:
strokes replayed and gaps closed at full size; the result: the effect chain rendered at full
size as the export renders it), kept, and cut to the visible region on request, so scrolling at
100 % costs a crop. No widget here: the canvas says what region it shows
(:meth:`~effects_gui.canvas.Canvas.visible_region`) and shows what comes back
(:meth:`~effects_gui.canvas.Canvas.set_detail`).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from . import jobs
from .qimage import grey_to_qimage, overlay_qimage, rgb_to_qimage

DETAIL_STATES = ("photo", "before", "matte", "result")
"""What the canvas shows that has a full-resolution version (the split view keeps the preview)."""


def _full_matte(job, image, base, strokes, close_gaps):
    from .brush import edited_matte

    job.report(0, "Matte at full size")
    return edited_matte(image, base, strokes, close_gaps)


def _full_result(job, image, matte, steps, skies, icc):
    from skyseg_core.matte import to_uint8_rgb
    from skyseg_core.pipeline import render, skies_in_profile

    job.report(0, "Result at full size")
    converted = skies_in_profile(skies.__getitem__, icc)  # as the export brings them in
    return to_uint8_rgb(render(image, matte, steps, converted).image)


class FullResolution(QObject):
    """Full-resolution layers of the edit, made on ``runner``'s threads and cut to regions."""

    detailReady = pyqtSignal(object, object, object, str)
    """(x0, y0, x1, y1) in full-size pixels, the base QImage, the overlay QImage or None, and
    the canvas state they are for."""

    def __init__(self, model, runner, parent=None):
        super().__init__(parent)
        self.model, self.runner = model, runner
        self.layers: dict[str, tuple[object, np.ndarray]] = {}
        """Layer name -> (the key of the edit it was made for, the array)."""
        self.running: dict[str, object] = {}
        """Layer name -> the key of the job making it."""
        self.wanted: tuple | None = None
        self.made = 0
        """Layers made so far (tests and benchmarks wait on it)."""

    # ----------------------------------------------------------------- keys
    def _matte_key(self) -> tuple:
        m = self.model
        return (id(m.base_matte), tuple(m.strokes), m.close_gaps)

    def _result_key(self) -> tuple:
        m = self.model
        sky = None if m.sky is None else id(m.sky.full)
        return (self._matte_key(), m.edit, sky)

    # ----------------------------------------------------------------- layers
    def _layer(self, name: str):
        """The layer ``name`` for the edit now, or None (a job to make it is started)."""
        m = self.model
        if name == "photo":
            from skyseg_core.matte import to_uint8_rgb

            key: object = id(m.image)
            if self.layers.get(name, (None,))[0] != key:
                self.layers[name] = (key, to_uint8_rgb(m.image))
            return self.layers[name][1]
        if name == "matte":
            if not m.strokes and not m.close_gaps:
                return m.base_matte  # the method's own, at full size already
            key = self._matte_key()
            fn, args = _full_matte, (m.image, m.base_matte, list(m.strokes), m.close_gaps)
        else:
            matte = self._layer("matte")
            if matte is None:
                return None
            key = self._result_key()
            icc = getattr(m.metadata, "icc_profile", b"")
            fn, args = _full_result, (m.image, matte, m.steps(), m.skies(full=True), icc)
        held = self.layers.get(name)
        if held is not None and held[0] == key:
            return held[1]
        if self.running.get(name) != key:
            self._start(name, key, fn, args)
        return None

    def _start(self, name: str, key, fn, args) -> None:
        if name in self.running:  # one at a time per layer: asked again when it ends
            return
        self.running[name] = key

        def done(array):
            self.layers[name] = (key, array)
            self.made += 1

        def finished():
            self.running.pop(name, None)
            self.request(*(self.wanted or (None, "")))

        self.runner.start(jobs.Job(f"full {name}", fn, *args), on_result=done, on_finished=finished)

    # ----------------------------------------------------------------- regions
    def request(self, region, state: str, overlay: bool = False) -> None:
        """Send the full-resolution ``region`` of what the canvas shows (``state``), now if its
        layers are there, else once they are made; None: nothing is wanted (zoomed out)."""
        self.wanted = None if region is None else (region, state, overlay)
        if region is None or state not in DETAIL_STATES or self.model.image is None:
            return
        base_name = {"photo": "photo", "before": "photo", "matte": "matte"}.get(state, "result")
        base = self._layer(base_name)
        with_overlay = overlay and state in ("photo", "result")
        matte = self._layer("matte") if with_overlay or state == "matte" else None
        if base is None or (with_overlay and matte is None):
            return
        x0, y0, x1, y1 = region
        if base_name == "matte":
            picture = grey_to_qimage(np.ascontiguousarray(base[y0:y1, x0:x1]))
        else:
            picture = rgb_to_qimage(base[y0:y1, x0:x1])
        over = overlay_qimage(np.ascontiguousarray(matte[y0:y1, x0:x1])) if with_overlay else None
        self.detailReady.emit(region, picture, over, state)

    def forget(self) -> None:
        """A new photo: drop every layer."""
        self.layers.clear()
        self.wanted = None
