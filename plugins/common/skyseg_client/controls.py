"""The plug-ins' controls, made from the worker's parameter schema.

The schema comes from the effect recipe (``skyseg_core.effects.params``): ``skyseg
install-plugin`` writes it beside the plug-in (``skyseg_schema.json``), and :func:`load_schema`
reads it (or asks the worker's ``schema`` operation when it is missing). :func:`effect_controls`
turns one effect's declared fields into the controls both plug-ins show (names, labels, help,
ranges, defaults and choices as declared; nothing is restated here), and :func:`effect_params`
turns the controls' values back into the worker's parameters.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .client import SkysegClient
from .contract import PROTOCOL_VERSION, SCHEMA_NAME
from .errors import RequestFailed, WorkerError

SKY_FILE = "file"
"""The sky choice that means "an image file" (given in the ``<field>_file`` control)."""
SKY_NONE = "none"
"""The sky choice of an optional sky (relight's) that means "no sky: use the temperature"."""
STOP_LABELS = {0.0: "Horizon colour", 1.0: "Top colour"}
"""Labels of the tint's colour stops by position (position 0 is painted at the horizon)."""


def load_schema(folder: str, client=None, timeout: float = 60.0) -> dict:
    """The parameter schema: ``skyseg_schema.json`` in ``folder`` (written by ``skyseg
    install-plugin``), else the worker's ``schema`` reply.

    ``client`` is the :class:`SkysegClient` to ask, or a function that returns it (default: one
    configured from ``folder``, stopped afterwards). Raises :class:`WorkerError` when neither works.
    """
    path = os.path.join(folder, SCHEMA_NAME)
    problem = ""
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as fh:
                schema = json.load(fh)
            if (
                isinstance(schema, dict)
                and schema.get("protocol", PROTOCOL_VERSION) == PROTOCOL_VERSION
                and isinstance(schema.get("effects"), dict)
            ):
                return add_own_looks(schema)
            problem = f"{path} is from another skyseg version"
        except (OSError, ValueError) as exc:
            problem = f"cannot read {path}: {exc}"
    own = client is None
    try:
        if own:
            client = SkysegClient.from_folder(folder, start_timeout=timeout)
        elif callable(client):
            client = client()
        return client.request("schema", timeout=timeout)["output"]
    except RequestFailed as exc:
        raise RequestFailed(f"{exc}" + (f" ({problem})" if problem else ""), exc.kind) from None
    except WorkerError as exc:
        raise type(exc)(
            exc.message + (f" ({problem})" if problem else ""), exc.details, exc.log_path
        ) from None
    finally:
        if own and client is not None:
            client.stop()


def own_looks_folder() -> str:
    """Where the user's own looks are (``skyseg_core.effects.looks.looks_folder``)."""
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "skyseg", "looks")


def add_own_looks(schema: dict) -> dict:
    """``schema`` (the installed file, which holds the bundled looks only) with the user's own
    looks, read now from :func:`own_looks_folder` (``NAME.json``: ``{"skyseg_look": 1, "effect":
    ..., "changes": {...}}``, as the worker's live ``schema`` lists them). A file that is not a
    look of an effect with looks is left out; the worker checks the values when they are used."""
    steps: dict = schema.get("steps") or {}
    folder = own_looks_folder()
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return schema
    for file_name in names:
        try:
            with open(os.path.join(folder, file_name), encoding="utf-8") as fh:
                look = json.load(fh)
            effect, changes = look["effect"], look["changes"]
            looks = steps[effect]["looks"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (
            look.get("skyseg_look") == 1
            and isinstance(changes, dict)
            and isinstance(looks, dict)
            and looks
        ):
            looks[file_name[: -len(".json")]] = changes
            schema.setdefault("looks", {})[file_name[: -len(".json")]] = changes
    return schema


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def sky_choices(schema: dict, optional: bool = False) -> list:
    """(nick, label) of a sky menu: the presets, then "file"; an optional sky starts with "none"."""
    out = [(SKY_NONE, "None (use the temperature)")] if optional else []
    out += [(name, _title(name.replace("_", " "))) for name in schema.get("skies", [])]
    return out + [(SKY_FILE, "Image file...")]


def method_choices(methods) -> list:
    """(nick, plain name) of the methods that can run here (``schema["methods"]``, or the
    worker's ``methods`` reply, or a schema holding it): those that cannot are left out."""
    if isinstance(methods, dict):
        methods = methods.get("methods", [])
    return [(m["name"], m.get("label") or m["name"]) for m in methods if m.get("available", True)]


def source_controls(schema: dict) -> list:
    """The controls every request shares: the method (a menu of the registry's methods) and
    refine, with the labels, help and defaults of the matte source's declaration
    (``source_fields``)."""
    declared = {f["name"]: f for f in schema.get("source_fields", [])}
    method, refine = declared.get("method", {}), declared.get("refine", {})
    default = method.get("default", schema.get("source", {}).get("method"))
    shown = method_choices(schema)
    if default not in [nick for nick, _ in shown]:  # the default stays choosable
        shown.insert(0, (default, default))
    names = "; ".join(f"{label}: {nick}" for nick, label in shown)
    return [
        {
            "key": "method",
            "field": "method",
            "kind": "choice",
            "label": method.get("label", "Method"),
            "help": method.get("help", "how the sky is found") + f" (technical names: {names})",
            "default": default,
            "choices": shown,
            "choice_help": {nick: f"{label} (technical name: {nick})" for nick, label in shown},
        },
        {
            "key": "refine",
            "field": "refine",
            "kind": "bool",
            "label": refine.get("label", "Refine edges"),
            "help": refine.get("help", ""),
            "default": bool(refine.get("default", schema.get("source", {}).get("refine", True))),
        },
    ]


def effect_names(schema: dict) -> list:
    """The effects the worker offers, in its registry's order (each is also an op)."""
    return list(schema.get("effects", {}))


def effect_actions(schema: dict) -> list:
    """One plug-in action per effect the worker offers, in its order: ``effect``, ``action``
    (its title as a name: "tint_sky"), ``title`` ("Tint sky"), ``layer_name`` ("Sky tinted").
    Each host names its procedure or menu action after ``action``."""
    out = []
    for effect in effect_names(schema):
        identity = effect_identity(schema, effect)
        out.append(
            {
                "effect": effect,
                "action": "_".join(identity["title"].lower().split()),
                "title": identity["title"],
                "layer_name": identity["layer_name"],
            }
        )
    return out


def rgba_actions(schema: dict) -> list:
    """One plug-in action per step whose output is an RGBA picture (``rgba_steps``: the cut-out),
    as :func:`effect_actions` gives them (``layer_name``: the new layer, "Photo without sky")."""
    return [
        {
            "effect": step,
            "action": "_".join(effect_identity(schema, step)["title"].lower().split()),
            "title": effect_identity(schema, step)["title"],
            "layer_name": effect_identity(schema, step)["layer_name"],
        }
        for step in schema.get("rgba_steps", {})
    ]


def _declared_fields(schema: dict, effect: str) -> list | None:
    """The declared fields of an effect or of an RGBA step (None: neither)."""
    if effect in schema.get("effects", {}):
        return schema["effects"][effect]
    return (schema.get("rgba_steps", {}).get(effect) or {}).get("fields")


def effect_identity(schema: dict, effect: str) -> dict:
    """What the plug-ins call ``effect``: ``title`` (menus: "Tint sky"), ``layer_name`` (the
    result layer: "Sky tinted"), ``verb``, ``summary``, ``needs_sky``, as the worker declares
    (an RGBA step's under ``rgba_steps``)."""
    declared = dict(
        schema.get("steps", {}).get(effect) or schema.get("rgba_steps", {}).get(effect) or {}
    )
    declared.pop("fields", None)
    title = declared.get("title") or _title(effect.replace("_", " "))
    declared.setdefault("title", title)
    declared.setdefault("layer_name", title)
    declared.setdefault("summary", "")
    return declared


def effect_looks(schema: dict, effect: str) -> dict:
    """The named looks of ``effect`` (look -> changes from the defaults)."""
    steps = schema.get("steps")
    if steps is not None:
        return dict((steps.get(effect) or {}).get("looks") or {})
    return dict(schema.get("looks") or {}) if effect == "replace" else {}  # an older schema


def default_look(schema: dict, effect: str = "replace") -> str:
    """The look of ``effect`` that is the declared defaults (no changes), else the first one."""
    looks = effect_looks(schema, effect)
    return next((name for name, changes in looks.items() if not changes), next(iter(looks), ""))


def effect_controls(schema: dict, effect: str) -> list:
    """The controls of ``effect``, in declaration order, each a dict.

    ``key`` (unique, the plug-ins' argument/widget name), ``field`` (the declared field), ``kind``
    (float, bool, choice, colour, file), ``label``, ``help``, ``default`` and, by kind, ``low``,
    ``high``, ``unit``, ``decimals`` (float), ``choices`` ((nick, label) pairs) or ``position``
    (colour: the stop's position). A pair becomes two floats ``<name>_x``/``<name>_y``; the
    gradient one colour per default stop; a sky (free text: a preset, a bundled name or a file)
    a menu of the presets plus "file" and a ``<name>_file`` control; an effect with looks starts
    with a menu of them.
    """
    fields = _declared_fields(schema, effect)
    if fields is None:
        raise WorkerError(f"the skyseg schema has no effect {effect!r}")
    out: list[dict[str, Any]] = []
    looks = effect_looks(schema, effect)
    if looks:
        out.append(
            {
                "key": "look",
                "field": "look",
                "kind": "choice",
                "label": "Look",
                "help": "a named look; it sets the controls left at their default",
                "default": default_look(schema, effect),
                "choices": [(name, _title(name)) for name in looks],
            }
        )
    for f in fields:
        base = {"field": f["name"], "help": f.get("help", ""), "label": f["label"]}
        number = {
            "kind": "float",
            "low": f.get("low"),
            "high": f.get("high"),
            "unit": f.get("unit", ""),
            "decimals": f.get("decimals", 2),
        }
        if f["type"] == "float":
            out.append(dict(base, key=f["name"], default=float(f["default"]), **number))
        elif f["type"] == "pair":
            for axis, value in zip("xy", f["default"], strict=True):
                out.append(
                    dict(
                        base,
                        key=f"{f['name']}_{axis}",
                        label=f"{f['label']} {axis}",
                        default=float(value),
                        **number,
                    )
                )
        elif f["type"] == "bool":
            out.append(dict(base, key=f["name"], kind="bool", default=bool(f["default"])))
        elif f["type"] == "stops":
            for i, (pos, colour) in enumerate(f["default"]):
                label = STOP_LABELS.get(float(pos), f"Colour at {float(pos):g}")
                out.append(
                    dict(
                        base,
                        key=f"{f['name']}_{i}",
                        kind="colour",
                        label=label,
                        default=colour,
                        position=float(pos),
                    )
                )
        elif f["type"] == "text" and f.get("choices"):
            out.append(
                dict(
                    base,
                    key=f["name"],
                    kind="choice",
                    default=f["default"],
                    choices=[(c, _title(c.replace("_", " "))) for c in f["choices"]],
                )
            )
        elif f["type"] == "text":  # a sky: a preset, a bundled name or an image file
            optional = f["default"] is None
            out.append(
                dict(
                    base,
                    key=f["name"],
                    kind="choice",
                    default=SKY_NONE if optional else f["default"],
                    choices=sky_choices(schema, optional),
                )
            )
            out.append(
                dict(
                    base,
                    key=f"{f['name']}_file",
                    kind="file",
                    label=f"{f['label']} file",
                    help=f'the image file when {f["label"]} is "file"',
                    default="",
                )
            )
        else:
            raise WorkerError(
                f"the skyseg schema has a field of unknown type {f['type']!r} ({f['name']})"
            )
    return out


def look_values(schema: dict, effect: str, look: str) -> dict:
    """key -> value of ``effect``'s controls at its look ``look``: the declared defaults with the
    look's changes. The look itself and the sky (its menu and file) are not among them: choosing
    a look keeps the sky."""
    controls = effect_controls(schema, effect)
    skies = {c["field"] for c in controls if c["kind"] == "file"}
    values = {
        c["key"]: c["default"] for c in controls if c["key"] != "look" and c["field"] not in skies
    }
    for key, value in effect_looks(schema, effect).get(look, {}).items():
        if key in values:
            plain = isinstance(value, (int, float)) and not isinstance(value, bool)
            values[key] = float(value) if plain else value
    return values


def control_defaults(controls: list) -> dict:
    """key -> default of ``controls``."""
    return {c["key"]: c["default"] for c in controls}


def effect_params(schema: dict, effect: str, values: dict, apply_look: bool = True) -> dict:
    """The worker parameters of ``effect`` from the controls' ``values`` (key -> value; missing
    keys take the default).

    With ``apply_look``, the look's values replace those left at their declared default. A sky
    of "file" takes the ``<field>_file`` path (a :class:`WorkerError` when it is empty), "none"
    means no sky.
    """
    controls = effect_controls(schema, effect)
    values = dict(control_defaults(controls), **{k: v for k, v in values.items() if v is not None})
    fields = {f["name"]: f for f in _declared_fields(schema, effect) or []}
    params: dict[str, Any] = {}
    for c in controls:
        name, value = c["field"], values[c["key"]]
        if name == "look":
            continue
        if c["kind"] == "colour":
            params.setdefault(name, []).append([c["position"], str(value)])
        elif c["key"] in (f"{name}_x", f"{name}_y") and fields.get(name, {}).get("type") == "pair":
            params.setdefault(name, []).append(float(value))
        elif c["kind"] == "file":
            continue
        elif (
            c["kind"] == "choice"
            and name in fields
            and fields[name]["type"] == "text"
            and not fields[name].get("choices")
        ):
            if value == SKY_FILE:
                path = str(values.get(f"{name}_file") or "").strip()
                if not path:
                    raise WorkerError(f"{c['label']}: choose an image file (or a preset)")
                value = path
            params[name] = None if value == SKY_NONE else value
        elif c["kind"] == "float":
            params[name] = float(value)
        else:
            params[name] = value
    look = values.get("look")
    looks = effect_looks(schema, effect)
    if apply_look and look and look in looks:
        for name, changed in looks[look].items():
            if name in fields and params.get(name) == fields[name]["default"]:
                params[name] = changed
    return params
