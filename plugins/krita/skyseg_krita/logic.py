"""What the Krita plug-in does, independent of Krita: standard library only.

:class:`SkysegActions` runs each action against a *host* (the adapter in ``host.py`` around
Krita's API, or a fake one in tests) and a *client* (``skyseg_client.SkysegClient``). Every
action adds something new (a transparency mask, a selection, a paint layer above the active
one) and never changes the user's paint layer.
"""

import os
import shutil
import tempfile


class PluginError(Exception):
    """A problem to show to the user (no layer selected, the worker failed...)."""


EFFECTS = ("replace", "tint", "relight")


def _valid(control, value):
    """``value`` if it suits ``control`` (as saved JSON brings it back), else None."""
    kind = control["kind"]
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value) if control["low"] <= value <= control["high"] else None
    if kind == "choice":
        return value if value in [nick for nick, _ in control["choices"]] else None
    if kind == "colour":
        return value if isinstance(value, str) and _is_hex(value) else None
    return value if isinstance(value, str) else None


def _is_hex(text):
    text = text.strip()
    return (
        len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    )


class Settings:
    """The docker's values: one per control of the schema (``skyseg_client.effect_controls``).

    ``source`` holds the method and refine; ``values[effect]`` the controls of each effect, by
    key. Defaults, ranges and menus are the schema's. What ``Application.writeSetting`` keeps
    between sessions is :meth:`to_dict`.
    """

    def __init__(self, schema):
        import skyseg_client

        self.schema = schema
        self.source_controls = skyseg_client.source_controls(schema)
        self.controls = {
            effect: skyseg_client.effect_controls(schema, effect) for effect in EFFECTS
        }
        self.source = skyseg_client.control_defaults(self.source_controls)
        self.values = {
            effect: skyseg_client.control_defaults(c) for effect, c in self.controls.items()
        }

    @property
    def method(self):
        return self.source["method"]

    @method.setter
    def method(self, value):
        self.source["method"] = value

    def control(self, effect, key):
        controls = self.source_controls if effect == "source" else self.controls[effect]
        return next(c for c in controls if c["key"] == key)

    def set(self, effect, key, value):
        """Set one control (``effect`` "source" for the method and refine)."""
        (self.source if effect == "source" else self.values[effect])[key] = value

    def apply_look(self, name):
        """Replace's controls at the look ``name``: the declared defaults with the look's changes
        (the sky is kept)."""
        values = self.values["replace"]
        for control in self.controls["replace"]:
            if control["key"] not in ("look", "sky", "sky_file"):
                values[control["key"]] = control["default"]
        for key, value in self.schema.get("looks", {}).get(name, {}).items():
            if key in values:
                values[key] = (
                    float(value)
                    if isinstance(value, (int, float)) and not isinstance(value, bool)
                    else value
                )
        values["look"] = name

    def to_dict(self):
        return {
            "source": dict(self.source),
            **{effect: dict(v) for effect, v in self.values.items()},
        }

    @classmethod
    def from_dict(cls, schema, data):
        """Settings from saved values; unknown keys and values that do not suit the control (the
        wrong type, out of the declared range, not in the menu) are dropped."""
        settings = cls(schema)
        data = data if isinstance(data, dict) else {}
        for effect, controls in [("source", settings.source_controls), *settings.controls.items()]:
            saved = data.get(effect)
            if not isinstance(saved, dict):
                continue
            for control in controls:
                value = _valid(control, saved.get(control["key"]))
                if value is not None:
                    settings.set(effect, control["key"], value)
        return settings

    # -- worker parameters ----------------------------------------------------------------------

    def mask_params(self):
        return {"method": self.source["method"], "refine": bool(self.source["refine"])}

    def params(self, effect):
        """The worker's parameters of ``effect``: the matte source and the effect's fields."""
        import skyseg_client

        try:
            fields = skyseg_client.effect_params(
                self.schema, effect, self.values[effect], apply_look=False
            )
        except skyseg_client.WorkerError as exc:
            raise PluginError(exc.for_user()) from None
        return dict(self.mask_params(), **fields)


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

    def _request(self, op, source, output, params, layer_name=""):
        import skyseg_client

        aliases = {source: f"layer {layer_name!r}"} if layer_name else None

        def work():
            return self._client().request(op, source, output, params, aliases=aliases)

        try:
            return self.host.run_blocking(work, f"skyseg: {op}")
        except skyseg_client.WorkerError as exc:
            raise PluginError(exc.for_user()) from None

    def _matte(self, doc, node, settings, tmp):
        source, matte = os.path.join(tmp, "layer.ppm"), os.path.join(tmp, "matte.pgm")
        width, height = self.host.export_layer(doc, node, source)
        self._request("mask", source, matte, settings.mask_params(), node.name())
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

    def save_mask(self, settings, path):
        """Write the active layer's matte to ``path`` (8-bit grey PNG, 255 = sky, over the whole
        canvas): the worker writes it, so it holds what `skyseg mask` writes."""
        if not path:
            raise PluginError("choose the file to save the sky mask to")
        if not str(path).lower().endswith(".png"):
            raise PluginError(
                f"the sky mask is saved as PNG: choose a name ending in .png, not {path}"
            )
        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            source = os.path.join(tmp, "layer.ppm")
            self.host.export_layer(doc, node, source)
            self._request("mask", source, str(path), settings.mask_params(), node.name())
            return str(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _effect(self, op, settings):
        params = settings.params(op)
        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            source, result = os.path.join(tmp, "layer.ppm"), os.path.join(tmp, "result.ppm")
            width, height = self.host.export_layer(doc, node, source)
            self._request(op, source, result, params, node.name())
            depth = self.host.depth(node)  # a 16-bit layer's result is a 16-bit layer
            pixels = self.host.read_bgra(result, width, height, depth)
            return self.host.add_paint_layer(
                doc, node, self.LAYER_NAMES[op], pixels, width, height, depth
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def replace_sky(self, settings):
        return self._effect("replace", settings)

    def tint_sky(self, settings):
        return self._effect("tint", settings)

    def relight(self, settings):
        return self._effect("relight", settings)
