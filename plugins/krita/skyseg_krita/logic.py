"""What the Krita plug-in does, independent of Krita: standard library only.

:class:`SkysegActions` runs each action against a *host* (the adapter in ``host.py`` around
Krita's API, or a fake one in tests) and a *client* (``skyseg_client.SkysegClient``). Every
action adds something new (a transparency mask, a selection, a paint layer above the active
one) and never changes the user's paint layer.
"""

import dataclasses
import os
import shutil
import tempfile


class PluginError(Exception):
    """A problem to show to the user (no layer selected, the worker failed...)."""


@dataclasses.dataclass
class Settings:
    """The docker's controls; also what ``Application.writeSetting`` keeps between sessions."""

    method: str = "auto"
    refine: bool = True
    sky: str = "golden_hour"
    shift_edge: float = 0.0
    fade_edge: float = 0.0
    color_match: float = 0.0
    halo: float = 0.0
    defocus: float = 0.0
    flip: bool = False
    tint_top: str = "#ff8c3c"
    tint_bottom: str = "#465aaa"
    tint_angle: float = 90.0
    tint_mode: str = "soft_light"
    tint_strength: float = 1.0
    relight_target: str = "5500"
    relight_strength: float = 1.0

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Settings from saved values; unknown keys and values of the wrong type are dropped."""
        defaults = cls()
        values = {}
        for field in dataclasses.fields(cls):
            if field.name in (data or {}):
                default = getattr(defaults, field.name)
                try:
                    value = data[field.name]
                    if isinstance(default, bool):
                        value = value if isinstance(value, bool) else str(value).lower() == "true"
                    else:
                        value = type(default)(value)
                    values[field.name] = value
                except (TypeError, ValueError):
                    pass
        return cls(**values)

    # -- worker parameters (names and units of skyseg_core.worker's dataclasses) --------------

    def mask_params(self):
        return {"method": self.method or "auto", "refine": bool(self.refine)}

    def replace_params(self):
        return dict(self.mask_params(), sky=self.sky, shift_edge=self.shift_edge, fade_edge=self.fade_edge,
                    color_match=self.color_match, halo=self.halo, defocus=self.defocus, flip=self.flip)

    def tint_params(self):
        return dict(self.mask_params(), stops=[[0.0, hex_to_rgb(self.tint_top)], [1.0, hex_to_rgb(self.tint_bottom)]],
                    angle=self.tint_angle, mode=self.tint_mode, strength=self.tint_strength)

    def relight_params(self):
        target = self.relight_target.strip()
        try:
            value = float(target.lower().rstrip("k"))
        except ValueError:
            value = target
        return dict(self.mask_params(), target=value, strength=self.relight_strength)


def hex_to_rgb(text):
    """'#rrggbb' -> [r, g, b] in 0..255."""
    text = text.strip().lstrip("#")
    if len(text) != 6:
        raise PluginError(f"colour must look like #rrggbb, got {text!r}")
    try:
        return [float(int(text[i:i + 2], 16)) for i in (0, 2, 4)]
    except ValueError:
        raise PluginError(f"colour must look like #rrggbb, got {text!r}") from None


class SkysegActions:
    """The plug-in's actions.

    Parameters
    ----------
    host : object
        The Krita adapter (see ``host.KritaHost``): active layer, pixel export, new nodes.
    client : callable
        Returns the ``SkysegClient`` to use (created lazily: the worker starts on first use).
    """

    MASK_NAME = "Sky"
    LAYER_NAMES = {"replace": "Sky replaced", "tint": "Sky tinted", "relight": "Relit"}

    def __init__(self, host, client):
        self.host = host
        self._client = client

    def _request(self, op, source, output, params):
        import skyseg_client

        def work():
            return self._client().request(op, source, output, params)

        try:
            return self.host.run_blocking(work, f"skyseg: {op}")
        except skyseg_client.WorkerError as exc:
            raise PluginError(str(exc)) from None

    def _matte(self, doc, node, settings, tmp):
        source, matte = os.path.join(tmp, "layer.png"), os.path.join(tmp, "matte.png")
        width, height = self.host.export_layer(doc, node, source)
        self._request("mask", source, matte, settings.mask_params())
        return self.host.read_grey(matte, width, height), width, height

    def create_mask(self, settings, as_selection=False):
        """A transparency mask named "Sky" on the active layer, or (``as_selection``) the selection."""
        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            grey, width, height = self._matte(doc, node, settings, tmp)
            if as_selection:
                self.host.set_selection(doc, grey, width, height)
                return None
            return self.host.add_transparency_mask(doc, node, self.MASK_NAME, grey, width, height)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _effect(self, op, params, settings):
        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            source, result = os.path.join(tmp, "layer.png"), os.path.join(tmp, "result.png")
            width, height = self.host.export_layer(doc, node, source)
            self._request(op, source, result, params)
            pixels = self.host.read_bgra(result, width, height)
            return self.host.add_paint_layer(doc, node, self.LAYER_NAMES[op], pixels, width, height)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def replace_sky(self, settings):
        return self._effect("replace", settings.replace_params(), settings)

    def tint_sky(self, settings):
        return self._effect("tint", settings.tint_params(), settings)

    def relight(self, settings):
        return self._effect("relight", settings.relight_params(), settings)
