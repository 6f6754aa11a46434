"""The worker's protocol: the operations, their requests, the error replies and the schema.

The operations and their parameter dataclasses, the parsing of a JSON line into a typed
:class:`Request` (its parameters checked by the one validator,
:func:`skyseg_core.declare.check_value`: unknown keys, wrong types and values out of range
refused with a message that names them), the error replies, and the schema the plug-ins build their controls
from. See :mod:`skyseg_core.worker` for the lines themselves.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..declare import check_text, describe, from_plain, quote_name
from ..effects.params import identity
from ..effects.params import schema as effect_schema
from ..effects.registry import STEPS, effect_params
from ..errors import QUOTE_CHARS, InputError, SkysegError, is_text, shorten
from ..pipeline import MatteSource
from ..resources import plugin_contract

PROTOCOL_VERSION: int = plugin_contract()["PROTOCOL_VERSION"]
"""The protocol's version, as the plug-ins' client declares it (the worker speaks that one)."""

_SOURCE = MatteSource()


@dataclasses.dataclass(frozen=True)
class MaskParams:
    """Parameters of ``mask``: the matte of ``input`` written to ``output`` (8-bit PNG or PGM, 255 = sky)."""

    method: str = _SOURCE.method
    refine: bool = _SOURCE.refine
    invert: bool = False


@dataclasses.dataclass(frozen=True)
class SourceParams:
    """What every effect request shares: where the matte comes from, and an optional matte output."""

    method: str = _SOURCE.method
    refine: bool = _SOURCE.refine
    matte: str | None = None
    """A matte PNG to use instead of segmenting (e.g. one refined by hand)."""
    matte_output: str | None = None
    """Also write the matte used to this PNG."""


@dataclasses.dataclass(frozen=True)
class EffectRequest:
    """Parameters of each effect's op (one effect: the source fields above and the effect's
    own, flat, as declared in its module) and ``render`` (a chain: ``steps``, each
    ``{"effect": name, ...its fields}``; ``layers``, a .ora file to write)."""

    source: SourceParams
    steps: tuple
    layers: str | None = None


@dataclasses.dataclass(frozen=True)
class NoParams:
    """Operations without parameters (``ping``, ``methods``, ``schema``, ``shutdown``)."""


FIXED_OPS: dict[str, type] = {
    "mask": MaskParams,
    "render": EffectRequest,
    "ping": NoParams,
    "methods": NoParams,
    "schema": NoParams,
    "shutdown": NoParams,
}
"""The operations besides the effects'."""


class _Ops(Mapping):
    """Operation name -> its parameter dataclass: ``mask``, one per registered step (the effects
    in the registry's order, then the cut-out: :data:`~skyseg_core.effects.registry.STEPS`),
    then the rest of :data:`FIXED_OPS`."""

    def _names(self) -> list[str]:
        return ["mask", *STEPS, *(op for op in FIXED_OPS if op != "mask")]

    def __getitem__(self, op: str) -> type:
        if op in FIXED_OPS:
            return FIXED_OPS[op]
        if op in STEPS:
            return EffectRequest
        raise KeyError(op)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


OPS: Mapping[str, type] = _Ops()
"""Operation name -> its parameter dataclass (a live view: an effect registered later is an op)."""


def is_effect_op(op: str) -> bool:
    """Whether ``op`` runs steps: a registered effect, the cut-out, or ``render`` (a chain)."""
    return op in STEPS or op == "render"


@dataclasses.dataclass(frozen=True)
class Request:
    """One validated request."""

    id: str | int | None
    op: str
    params: Any
    input: str | None = None
    output: str | None = None
    overwrite: bool = False

    def files(self) -> tuple[str, str]:
        """(input, output) of a file operation, which :func:`parse_request` requires."""
        assert self.input is not None and self.output is not None, self.op
        return self.input, self.output


# -- (de)serialisation of the dataclasses --------------------------------------------

MAX_ERROR_CHARS = 2000
"""Longest error message a reply carries."""


def _quote(value: Any) -> str:
    """``value`` as JSON, cut to :data:`QUOTE_CHARS` characters for an error message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return shorten(text)


def _member(where: str, key: str) -> str:
    """``where.key`` for an error message, the key quoted and cut short unless it is a plain
    name (a request's key may be thousands of characters, or hold a lone surrogate)."""
    if key.isidentifier() and len(key) <= QUOTE_CHARS:
        return f"{where}.{key}"
    return f"{where}[{quote_name(key)}]"


def from_dict(cls: type, data: Any, where: str = "params"):
    """Build dataclass ``cls`` from a JSON object through the one validator
    (:func:`skyseg_core.declare.from_plain`), its errors prefixed with ``where``.

    Raises :class:`InputError` naming the unknown key or the field with the wrong type.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected an object, got {_quote(data)}")
    try:
        return from_plain(cls, data)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def to_dict(obj: Any) -> dict:
    """A parameter dataclass as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


def _json_integer(text: str) -> int:
    """A JSON integer of a request; one no float can hold (over 308 digits) is refused while
    decoding, since parameters, colours and stop positions are used as floats."""
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise InputError(
            f"malformed request: a number of {len(text.lstrip('-')):,} digits, too large for "
            "any parameter"
        ) from None
    return value


def parse_request(line: str | bytes) -> Request:
    """Decode and validate one request line; raises :class:`InputError` on any problem."""
    try:
        data = json.loads(line, parse_int=_json_integer)
    except RecursionError:
        raise InputError("malformed request: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed request: not JSON ({_reason(exc)})") from None
    if not isinstance(data, dict):
        raise InputError("malformed request: expected a JSON object")
    known = {"id", "op", "input", "output", "overwrite", "params"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"unknown request field {quote_name(unknown[0])}; valid: {', '.join(sorted(known))}"
        )
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise InputError(
            f"unknown op {quote_name(op) if isinstance(op, str) else _quote(op)}; choose one of: {', '.join(OPS)}"
        )
    params = (
        _effect_request(op, data.get("params"))
        if is_effect_op(op)
        else from_dict(OPS[op], data.get("params"))
    )
    fields = {}
    for key in ("input", "output"):
        value = data.get(key)
        if (op == "mask" or is_effect_op(op)) and not (isinstance(value, str) and value):
            raise InputError(f"op {op!r} needs {key!r}: a file path")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{key!r} must be a file path string, got {_quote(value)}")
        fields[key] = None if value is None else check_text(value, key)
    overwrite = data.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InputError(f"'overwrite' must be true or false, got {_quote(overwrite)}")
    return Request(
        id=_plain_id(data.get("id")), op=op, params=params, overwrite=overwrite, **fields
    )


def _effect_request(op: str, data: Any) -> EffectRequest:
    """Split an effect request's params into the matte source and the effect's own fields
    (checked against the declaration, which names the field, its range and the value)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"params: expected an object, got {_quote(data)}")
    source_keys = {f.name for f in dataclasses.fields(SourceParams)}
    source = from_dict(SourceParams, {k: v for k, v in data.items() if k in source_keys})
    rest = {k: v for k, v in data.items() if k not in source_keys}
    if op != "render":
        return EffectRequest(source, (_effect_step(op, rest, "params"),))
    unknown = sorted(set(rest) - {"steps", "layers"})
    if unknown:
        raise InputError(
            f"params: unknown parameter {quote_name(unknown[0])}; valid: "
            f"{', '.join(sorted(source_keys | {'steps', 'layers'}))}"
        )
    steps = rest.get("steps")
    if not isinstance(steps, list) or not steps:
        raise InputError(
            f"params.steps: expected a list of one or more effects, got {_quote(steps)}"
        )
    chain = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("effect"), str):
            raise InputError(
                f'params.steps[{i}]: expected an object with "effect", got {_quote(step)}'
            )
        chain.append(
            _effect_step(
                step["effect"],
                {k: v for k, v in step.items() if k != "effect"},
                f"params.steps[{i}]",
            )
        )
    layers = rest.get("layers")
    if layers is not None and not isinstance(layers, str):
        raise InputError(f"params.layers: expected a file path, got {_quote(layers)}")
    return EffectRequest(
        source, tuple(chain), None if layers is None else check_text(layers, "params.layers")
    )


def _effect_step(effect: str, values: dict, where: str):
    for key, value in values.items():
        if isinstance(value, str):  # checked before the key is known to be a field: quote it
            check_text(value, _member(where, key))
    try:
        return effect_params(effect, values)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _plain_id(value: Any) -> str | int | None:
    """A request id the reply can echo: a short string or an integer, else none."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    if isinstance(value, str) and (len(value) > QUOTE_CHARS * 4 or not is_text(value)):
        return None
    return value


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "..."


def schema(own_looks: bool = True) -> dict:
    """What the plug-ins build their dialogs and menus from: every effect's declared fields and
    identity, the looks (your own too, unless not ``own_looks``), sky presets and methods
    (:func:`skyseg_core.effects.params.schema`), ``mask``'s fields, the matte source's
    declaration (``source_fields``) and the ops whose output is not an RGB picture
    (``rgba_steps``: the cut-out's fields and identity, apart from the effects)."""
    return {
        **effect_schema(own_looks),
        "rgba_steps": {
            name: {"output": step.output, **identity(name), "fields": describe(step.params)}
            for name, step in STEPS.items()
            if step.output == "rgba"
        },
        "protocol": PROTOCOL_VERSION,
        "mask": to_dict(MaskParams()),
        "source": to_dict(SourceParams()),
        "source_fields": describe(MatteSource),
    }


def error_reply(request_id: Any, exc: BaseException) -> dict:
    """The error reply to a request that failed: a typed error's message and kind, an internal
    error said as such, cut to :data:`MAX_ERROR_CHARS`."""
    if isinstance(exc, OSError):  # a file system refusal no check foresaw: the request's fault
        exc = InputError(exc.strerror or str(exc), exc.filename)
    if isinstance(exc, SkysegError):
        reply = {"id": request_id, "ok": False, "error": str(exc), "kind": type(exc).__name__}
    elif isinstance(exc, MemoryError):
        reply = {"id": request_id, "ok": False, "error": "out of memory", "kind": "MemoryError"}
    else:
        reply = {
            "id": request_id,
            "ok": False,
            "error": f"internal error: {type(exc).__name__}: {exc}",
            "kind": "InternalError",
        }
    if len(reply["error"]) > MAX_ERROR_CHARS:
        reply["error"] = (
            reply["error"][:MAX_ERROR_CHARS] + f"... ({len(reply['error']):,} characters)"
        )
    return reply


def request_id_of(line: str) -> Any:
    """The id of a request that failed validation, if it can be read at all."""
    try:
        data = json.loads(line)
        return _plain_id(data.get("id")) if isinstance(data, dict) else None
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
