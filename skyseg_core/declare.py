"""Declared parameters: one frozen dataclass per parameter set, each field with its control (one
module of about 430 lines: the declaration and the one validator that reads it change together).

Each field carries its default and a :class:`Control` (label, one-line help, range, unit,
choices). Building an instance of a :class:`Declared` dataclass validates it (an
:class:`InputError` names the field, its range and the value); :func:`describe` gives the fields
as plain dicts, which the command line, the worker's schema, the editor's panels and both
plug-ins' dialogs build their controls from. The effects (:mod:`skyseg_core.effects`) and the
matte source (:class:`skyseg_core.pipeline.MatteSource`) are declared this way.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import QUOTE_CHARS, InputError, is_text, shorten


@dataclass(frozen=True)
class Control:
    """How one parameter is shown and checked on every surface."""

    label: str
    help: str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    choices: tuple[str, ...] | None = None
    """The only accepted values of a text field (a menu); None = free text (a name or a file)."""
    decimals: int = 2
    """Decimals a slider or spin box shows."""
    unless: str | None = None
    """Another field of the same set whose value, when set, makes this one unused (a surface
    greys it out)."""

    def describe_range(self) -> str:
        if self.choices is not None:
            return ", ".join(self.choices)
        if self.low is None:
            return ""
        unit = f" {self.unit}" if self.unit and self.unit != "%" else self.unit
        return f"{self.low:g}..{self.high:g}{unit}"


def control(
    default,
    label: str,
    help: str,
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
    choices: tuple[str, ...] | None = None,
    decimals: int = 2,
    unless: str | None = None,
):
    """A dataclass field with its :class:`Control` (``metadata["control"]``)."""
    meta = {"control": Control(label, help, low, high, unit, choices, decimals, unless)}
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for sequence defaults (the dataclasses are frozen)")
    return field(default=default, metadata=meta)


def controls(cls_or_params) -> dict[str, tuple[dataclasses.Field, Control]]:
    """Field name -> (field, control) of an effect dataclass, in declaration order."""
    return {
        f.name: (f, f.metadata["control"])
        for f in dataclasses.fields(cls_or_params)
        if "control" in f.metadata
    }


def sky_fields(cls_or_params) -> tuple[list[str], list[str]]:
    """The fields that name a sky (free text: a preset, a bundled name or an image file): the
    required ones and the optional ones (None = no sky)."""
    hints = typing.get_type_hints(
        cls_or_params if isinstance(cls_or_params, type) else type(cls_or_params)
    )
    required, optional = [], []
    for name, (_, ctl) in controls(cls_or_params).items():
        if ctl.choices is None and hints[name] is str:
            required.append(name)
        elif ctl.choices is None and hints[name] == (str | None):
            optional.append(name)
    return required, optional


# -- validation --------------------------------------------------------------------------------


def _quoted(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = type(value).__name__
    return shorten(text)


def _fail(name: str, ctl: Control, value: Any, what: str | None = None) -> InputError:
    expected = what or f"in {ctl.describe_range()}"
    return InputError(f"{name} must be {expected}, got {_quoted(value)}")


def _number(name: str, ctl: Control, value: Any) -> float:
    what = "a finite number" if ctl.low is None else f"a number in {ctl.describe_range()}"
    if isinstance(value, bool):
        raise _fail(name, ctl, value, what)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _fail(name, ctl, value, what) from None
    low = -math.inf if ctl.low is None else ctl.low
    high = math.inf if ctl.high is None else ctl.high
    if not math.isfinite(number) or not low <= number <= high:
        raise _fail(name, ctl, value, None if ctl.low is not None else what)
    return number


_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def parse_stops_text(text: str) -> tuple[tuple[float, str], ...]:
    """``"0:#ff8040,1:#203060"`` -> ((0.0, "#ff8040"), (1.0, "#203060"))."""
    stops = []
    for item in str(text).split(","):
        try:
            pos, colour = item.split(":")
            stops.append((float(pos), colour.strip()))
        except ValueError:
            raise InputError(f"stops look like 0:#ff8040,1:#203060, got {_quoted(text)}") from None
    return tuple(stops)


def stops_text(stops) -> str:
    """The inverse of :func:`parse_stops_text`."""
    return ",".join(f"{p:g}:{c}" for p, c in stops)


def _stops(name: str, ctl: Control, value: Any) -> tuple[tuple[float, str], ...]:
    if isinstance(value, str):
        value = parse_stops_text(value)
    what = "two or more (position 0..1, '#rrggbb') pairs"
    try:
        items = [(p, c) for p, c in value]
    except (TypeError, ValueError):
        raise _fail(name, ctl, value, what) from None
    if len(items) < 2:
        raise _fail(name, ctl, value, what)
    out = []
    for pos, colour in items:
        if (
            isinstance(pos, bool)
            or not isinstance(pos, (int, float))
            or not 0.0 <= float(pos) <= 1.0
        ):
            raise _fail(name, ctl, value, what)
        out.append((float(pos), _hex_colour(colour)))
    return tuple(sorted(out))


def _hex_colour(colour: Any) -> str:
    """A stop colour as ``#rrggbb``: from that, or (r, g, b) floats 0..1 or integers 0..255."""
    if isinstance(colour, str) and _HEX.fullmatch(colour.strip()):
        return colour.strip().lower()
    rgb = parse_colour(colour)
    return "#" + "".join(f"{round(float(c) * 255):02x}" for c in rgb)


def parse_colour(value) -> np.ndarray:
    """A colour as float sRGB in [0, 1]: ``"#rrggbb"``, 0..1 floats or 0..255 integers."""
    if isinstance(value, str):
        m = re.fullmatch(r"#?([0-9a-fA-F]{6})", value.strip())
        if not m:
            raise InputError(f"colour must look like #rrggbb, got {value!r}")
        h = m.group(1)
        return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
    try:
        rgb = np.asarray(value, np.float64).reshape(3)
    except (TypeError, ValueError):
        raise InputError(f"colour must be (r, g, b) or #rrggbb, got {value!r}") from None
    if not np.isfinite(rgb).all() or rgb.min() < 0:
        raise InputError(f"colour values must be finite and >= 0, got {value!r}")
    if rgb.max() > 1.0:
        if rgb.max() > 255.0:
            raise InputError(f"colour values must be 0..1 or 0..255, got {value!r}")
        rgb = rgb / 255.0
    return rgb.astype(np.float32)


MAX_TEXT_CHARS = 4096
"""Longest text a parameter or a file path may hold (PATH_MAX on Linux)."""


def quote_name(value: Any) -> str:
    """A name from a request or a file (a key, a field) for an error message: quoted, cut
    short, its length said when cut (a key may be thousands of characters)."""
    if not isinstance(value, str):
        return _quoted(value)
    if len(value) <= QUOTE_CHARS:
        return repr(value)
    return f"{value[:QUOTE_CHARS]!r}... ({len(value):,} characters)"


def check_text(value: str, name: str) -> str:
    """Refuse text no file name or option can hold: NUL bytes, lone surrogates, huge sizes."""
    if len(value) > MAX_TEXT_CHARS:
        raise InputError(f"{name}: longer than {MAX_TEXT_CHARS} characters, got {_quoted(value)}")
    if "\x00" in value:
        raise InputError(f"{name}: contains a NUL character, got {_quoted(value)}")
    if not is_text(value):
        raise InputError(
            f"{name}: contains a lone surrogate (not valid text), got {_quoted(value)}"
        )
    return value


_PLAIN = Control("", "")
"""The control of a field declared without one: no range, free text."""


def check_value(value: Any, hint: Any, name: str, ctl: Control | None = None) -> Any:
    """The one type-driven check of a parameter: ``value`` (a plain value, lists for tuples)
    against the type ``hint`` and, for a declared field, its control's range and choices.

    Returns the value in that type (ints become floats, stops sorted); raises
    :class:`InputError` saying ``"<name> must be <what>, got <value>"``. Every declared
    parameter set and the worker's requests are checked here.
    """
    declared = ctl is not None
    ctl = ctl or _PLAIN
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        typed = [option for option in options if option is not type(None)]
        if len(typed) == 1:  # Optional[X]: X's own message
            return check_value(value, typed[0], name, ctl if declared else None)
        for option in typed:
            try:
                return check_value(value, option, name, ctl if declared else None)
            except InputError:
                continue
        raise _fail(name, ctl, value, " or ".join(_kind(option) for option in options))
    if hint is type(None):
        if value is None:
            return None
        raise _fail(name, ctl, value, "null")
    if hint is bool:
        if not isinstance(value, bool):
            raise _fail(name, ctl, value, "true or false")
        return value
    if hint is float:
        return _number(name, ctl, value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(name, ctl, value, "an integer")
        return value
    if hint is str:
        if not isinstance(value, str) or (declared and not value.strip()):
            what = "a string" if not declared else "a name"
            raise _fail(
                name, ctl, value, what if ctl.choices is None else f"one of {ctl.describe_range()}"
            )
        check_text(value, name)
        if ctl.choices is not None and value not in ctl.choices:
            raise _fail(name, ctl, value, f"one of {ctl.describe_range()}")
        return value
    if hint == tuple[tuple[float, str], ...]:
        return _stops(name, ctl, value)
    if hint == tuple[float, float] and declared:
        try:
            x, y = value
        except (TypeError, ValueError):
            raise _fail(
                name, ctl, value, f"a pair (x, y), each in {ctl.describe_range()}"
            ) from None
        return _number(f"{name} x", ctl, x), _number(f"{name} y", ctl, y)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise _fail(name, ctl, value, "a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(v, args[0], f"{name}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise _fail(name, ctl, value, f"a list of {len(args)} items")
        return tuple(
            check_value(v, a, f"{name}[{i}]")
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if isinstance(hint, type):  # a plain class (os.PathLike)
        if isinstance(value, hint):
            return value
        raise _fail(name, ctl, value, _kind(hint))
    raise TypeError(f"{name}: no check for {hint!r}")  # a bug in a dataclass


def _kind(hint: Any) -> str:
    """What a value of type ``hint`` is called in an error message."""
    names = {
        type(None): "null",
        bool: "true or false",
        float: "a number",
        int: "an integer",
        str: "a string",
    }
    return names.get(hint) or getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def from_plain(cls: type, values: dict | None = None):
    """An instance of the dataclass ``cls`` from plain values (decoded JSON: lists stand for
    tuples), every value checked by :func:`check_value`; an unknown name raises
    :class:`InputError` listing the valid ones. A :class:`Declared` set checks its declared
    fields itself on construction."""
    values = dict(values or {})
    declared = issubclass(cls, Declared)
    valid = list(controls(cls)) if declared else [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(valid), key=str)
    if unknown:
        what = f"{cls.what()} " if issubclass(cls, Declared) else ""
        raise InputError(
            f"unknown {what}parameter {quote_name(unknown[0])}; valid: {', '.join(valid) or 'none'}"
        )
    if declared:
        return cls(**{k: _tupled(v) for k, v in values.items()})
    hints = typing.get_type_hints(cls)
    return cls(**{k: check_value(v, hints[k], k) for k, v in values.items()})


class Declared:
    """Checks and normalises every field on construction (ints become floats, stops sorted)."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for name, (_, ctl) in controls(self).items():
            object.__setattr__(self, name, check_value(getattr(self, name), hints[name], name, ctl))

    def replace(self, **changes):
        """A copy with ``changes`` (validated); unknown names raise :class:`InputError`."""
        unknown = sorted(set(changes) - set(controls(self)))
        if unknown:
            raise InputError(
                f"unknown {self.what()} parameter {quote_name(unknown[0])}; "
                f"valid: {', '.join(controls(self))}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def what(cls) -> str:
        """What an error message calls these parameters (an effect's name)."""
        return getattr(cls, "effect", cls.__name__)

    @classmethod
    def from_dict(cls, values: dict | None = None):
        """An instance from plain values (decoded JSON: lists stand for tuples); unknown names
        raise :class:`InputError` listing the valid ones."""
        return from_plain(cls, values)

    def to_dict(self) -> dict:
        """JSON-ready values (tuples become lists)."""
        return {name: _plain(getattr(self, name)) for name in controls(self)}


def _tupled(value: Any) -> Any:
    """A list (decoded JSON) as a tuple, and the lists in it (pairs, stops); deeper ones are
    left to the field's check."""
    if isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _type_name(hint: Any) -> str:
    return {
        bool: "bool",
        float: "float",
        str: "text",
        str | None: "text",
        tuple[float, float]: "pair",
        tuple[tuple[float, str], ...]: "stops",
    }[hint]


def describe(cls) -> list[dict]:
    """The fields of an effect dataclass as plain dicts (what surfaces build their controls from)."""
    hints = typing.get_type_hints(cls)
    out = []
    for name, (f, ctl) in controls(cls).items():
        out.append(
            {
                "name": name,
                "type": _type_name(hints[name]),
                "default": _plain(f.default),
                "label": ctl.label,
                "help": ctl.help,
                "low": ctl.low,
                "high": ctl.high,
                "unit": ctl.unit,
                "choices": None if ctl.choices is None else list(ctl.choices),
                "decimals": ctl.decimals,
            }
        )
    return out


__all__ = [
    "Control",
    "Declared",
    "check_text",
    "check_value",
    "control",
    "controls",
    "describe",
    "from_plain",
    "parse_colour",
    "sky_fields",
    "parse_stops_text",
    "quote_name",
    "stops_text",
]
