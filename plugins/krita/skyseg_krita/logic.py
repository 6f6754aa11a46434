"""What the Krita plug-in does, independent of Krita: standard library only.

:class:`SkysegActions` runs each action against a *host* (the adapter in ``host.py`` around
Krita's API, or a fake one in tests) and a *client* (``skyseg_client.SkysegClient``). Every
action adds something new (a grey "Sky mask" layer, a selection, a layer group or the photo
without its sky above the active one) and never changes the user's layer or its masks.
"""

import os
import shutil
import tempfile

INVERT = bytes(range(255, -1, -1))
"""A ``bytes.translate`` table: 255 - v."""


class PluginError(Exception):
    """A problem to show to the user (no layer selected, the worker failed...)."""


class Cancelled(PluginError):
    """The user stopped the run (Esc or the docker's Cancel): nothing was added."""


FIRST_ACTIONS = (
    # id, menu text, action name
    ("skyseg_create_mask", "skyseg: Create sky mask", "create_mask"),
    ("skyseg_select_sky", "skyseg: Select sky", "select_sky"),
)
LAST_ACTIONS = (("skyseg_save_mask", "skyseg: Save sky mask...", "save_mask"),)
FIND_SECTION = (
    "Find the sky",
    None,
    (
        ("Create sky mask", "create_mask"),
        ("Select sky", "select_sky"),
        ("Save mask...", "save_mask"),
    ),
    True,
)


def effect_actions(schema):
    """Action name -> effect: one action per effect the worker offers ("tint_sky" -> "tint")."""
    import skyseg_client

    return {a["action"]: a["effect"] for a in skyseg_client.effect_actions(schema or {})}


def rgba_actions(schema):
    """Action name -> RGBA step: one action per step of the schema's ``rgba_steps`` (the
    cut-out: "cut_out_sky" -> "cutout"), whose picture becomes a new layer."""
    import skyseg_client

    return {a["action"]: a["effect"] for a in skyseg_client.rgba_actions(schema or {})}


def actions(schema):
    """The menu actions (Tools > Scripts): (id, text, action name), the RGBA steps' after the
    mask actions, then one per effect of the schema; the mask actions alone without a schema."""
    import skyseg_client

    made = tuple(
        (f"skyseg_{a['action']}", f"skyseg: {a['title']}", a["action"])
        for a in (
            *skyseg_client.rgba_actions(schema or {}),
            *skyseg_client.effect_actions(schema or {}),
        )
    )
    return (*FIRST_ACTIONS, *made, *LAST_ACTIONS)


def sections(schema):
    """The docker's sections: (title, effect whose controls it shows (None: the method, and the
    RGBA steps' options), buttons (text, action name), open at start); the first effect's is
    open. The RGBA steps' buttons are in the mask section: they use its matte."""
    import skyseg_client

    title, effect, buttons, expanded = FIND_SECTION
    rgba = tuple((a["title"], a["action"]) for a in skyseg_client.rgba_actions(schema or {}))
    out = [(title, effect, buttons[:2] + rgba + buttons[2:], expanded)]
    for i, a in enumerate(skyseg_client.effect_actions(schema or {})):
        out.append((a["title"], a["effect"], ((a["title"], a["action"]),), i == 0))
    return out


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
        self.rgba_steps = list(schema.get("rgba_steps", {}))
        """The RGBA steps (the cut-out): their controls are in :attr:`controls` too."""
        self.controls = {
            effect: skyseg_client.effect_controls(schema, effect)
            for effect in [*skyseg_client.effect_names(schema), *self.rgba_steps]
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

    def apply_look(self, name, effect=None):
        """``effect``'s controls (default: the effect that has the look) at its look ``name``: the
        declared defaults with the look's changes (a sky and its file are kept)."""
        import skyseg_client

        if effect is None:
            effect = next(
                (e for e in self.controls if name in skyseg_client.effect_looks(self.schema, e)),
                None,
            )
            if effect is None:
                return
        values = self.values[effect]
        skies = {c["field"] for c in self.controls[effect] if c["kind"] == "file"}
        for control in self.controls[effect]:
            if control["key"] != "look" and control["field"] not in skies:
                values[control["key"]] = control["default"]
        for key, value in skyseg_client.effect_looks(self.schema, effect).get(name, {}).items():
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

    MASK_NAME = "Sky mask"

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
        self.host.check_open(doc, node)
        return self.host.read_grey(matte, width, height), width, height

    def create_mask(self, settings, as_selection=False):
        """A new grey paint layer "Sky mask" (255 = sky) directly above the active layer, or
        (``as_selection``) the selection. The user's layer and its masks are never touched; a
        layer without sky is an error and nothing is added."""
        import skyseg_client

        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            grey, width, height = self._matte(doc, node, settings, tmp)
            action = "nothing selected" if as_selection else "no sky mask added"
            try:
                skyseg_client.require_sky(grey, node.name(), action, settings.schema)
            except skyseg_client.WorkerError as exc:
                raise PluginError(exc.for_user()) from None
            if as_selection:
                self.host.set_selection(doc, grey, width, height)
                return None
            return self.host.add_grey_layer(doc, node, self.MASK_NAME, grey, width, height)
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

    def source(self, node):
        """(layer to read, node to put a result above): in or on a skyseg result group (a group
        whose bottom layer is the core's "original photo"), that layer and the group, so a run
        always reads the original photo, never a previous result; else the node twice."""
        import skyseg_client

        item = node
        while item is not None and item.parentNode() is not None:
            children = item.childNodes() if item.type() == "grouplayer" else []
            if (
                children
                and children[0].type() == "paintlayer"
                and children[0].name() == skyseg_client.ORIGINAL_LAYER
            ):
                return children[0], item
            item = item.parentNode()
        return node, node

    def cut_out(self, op, settings):
        """Run RGBA step ``op`` (the cut-out) on the active layer: a new paint layer directly
        above it, named as the worker declares ("Photo without sky"), holding the step's picture
        (the photo, its sky transparent) in the layer's colour space. No sky: an error, nothing
        added."""
        import skyseg_client

        layer_name = skyseg_client.effect_identity(settings.schema, op)["layer_name"]
        doc, node = self.host.active_layer()
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            # PNG: the worker writes an RGBA step's picture only in a format with alpha
            source, result = os.path.join(tmp, "layer.ppm"), os.path.join(tmp, "result.png")
            width, height = self.host.export_layer(doc, node, source)
            self._request(op, source, result, settings.params(op), node.name())
            self.host.check_open(doc, node)
            bgra, alpha = self.host.read_rgba(result, width, height, self.host.depth(node))
            try:  # transparent is sky
                skyseg_client.require_sky(
                    alpha.translate(INVERT),
                    node.name(),
                    f'no "{layer_name}" layer added',
                    settings.schema,
                )
            except skyseg_client.WorkerError as exc:
                raise PluginError(exc.for_user()) from None
            return self.host.add_rgba_layer(
                doc, node, layer_name, bgra, width, height, self.host.space(node)
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def run_effect(self, op, settings):
        """Run effect ``op`` on the active layer: its result becomes a layer group above it, named
        as the worker declares (``layer_name``), holding the layers of the layered file (the
        original photo, the effect's layers with their blend modes, the new sky with the matte as
        its transparency mask, the matte hidden); an active selection limits where it shows."""
        import skyseg_client

        layer_name = skyseg_client.effect_identity(settings.schema, op)["layer_name"]
        fields = settings.params(op)
        source = {k: fields.pop(k) for k in ("method", "refine")}
        doc, node = self.host.active_layer()
        node, anchor = self.source(node)
        selection = self.host.selection_bytes(doc)  # as it was when the user asked
        tmp = tempfile.mkdtemp(prefix="skyseg-krita-")
        try:
            photo, result = os.path.join(tmp, "layer.ppm"), os.path.join(tmp, "result.ppm")
            layers = os.path.join(tmp, "result.layers")
            width, height = self.host.export_layer(doc, node, photo)
            params = dict(source, steps=[dict(fields, effect=op)], layers=layers)
            self._request("render", photo, result, params, node.name())
            self.host.check_open(doc, anchor)
            got_width, got_height, stack = skyseg_client.read_layers(layers)
            if (got_width, got_height) != (width, height):
                raise PluginError(
                    f"the worker's layers are {got_width}x{got_height}, expected {width}x{height}"
                )
            space = self.host.space(node)  # the result is in the photo layer's colour space
            return self.host.add_group(
                doc, anchor, layer_name, stack, width, height, space, selection, source=node
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
