"""The skyseg worker: a long-lived process that host plug-ins talk to in JSON lines.

GIMP and Krita run plug-ins in Pythons that cannot be relied on to have numpy or onnxruntime,
so the plug-ins start ``skyseg worker`` from the user's skyseg environment and exchange pixels
through temporary image files. The protocol, one JSON object per line:

* On start the worker writes ``{"ready": true, "protocol": 1, "version": ..., "pid": ...}``.
* Request: ``{"id": ..., "op": "mask"|"replace"|"tint"|"relight"|"ping"|"methods"|"shutdown",
  "input": path, "output": path, "overwrite": bool, "params": {...}}``. The parameters of each
  operation are a dataclass below (:class:`MaskParams`, :class:`ReplaceParams`, ...); unknown
  keys and wrong types are refused with a message that names them.
* Reply: ``{"id": ..., "ok": true, "output": ..., ...}`` or ``{"id": ..., "ok": false,
  "error": "...", "kind": "InputError"}``.

A bad request (malformed JSON, unknown operation, bad parameters, unreadable file) gets an
error reply and the worker serves the next one; methods and models stay loaded between
requests. stdout carries only protocol lines: anything else the process prints goes to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .errors import InputError, SkysegError

PROTOCOL_VERSION = 1


@dataclasses.dataclass(frozen=True)
class MaskParams:
    """Parameters of ``mask``: the matte of ``input`` written to ``output`` (8-bit PNG, 255 = sky)."""

    method: str = "auto"
    refine: bool = True
    invert: bool = False


@dataclasses.dataclass(frozen=True)
class _EffectParams:
    """What every effect shares: where the matte comes from, and an optional matte output."""

    method: str = "auto"
    refine: bool = True
    matte: str | None = None
    """A matte PNG to use instead of segmenting (e.g. one refined by hand)."""
    matte_output: str | None = None
    """Also write the matte used to this PNG."""


@dataclasses.dataclass(frozen=True)
class ReplaceParams(_EffectParams):
    """Parameters of ``replace`` (see :func:`skyseg_core.effects.replace_sky` for units)."""

    sky: str = "golden_hour"
    shift_edge: float = 0.0
    fade_edge: float = 0.0
    color_match: float = 0.0
    halo: float = 0.0
    defocus: float = 0.0
    flip: bool = False
    position: tuple[float, float] = (0.5, 0.5)
    scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class TintParams(_EffectParams):
    """Parameters of ``tint`` (see :func:`skyseg_core.effects.tint_sky`); colours are 0-255 RGB."""

    stops: tuple[tuple[float, tuple[float, float, float]], ...] = (
        (0.0, (255.0, 140.0, 60.0)),
        (1.0, (70.0, 90.0, 170.0)),
    )
    angle: float = 90.0
    mode: str = "soft_light"
    strength: float = 1.0


@dataclasses.dataclass(frozen=True)
class RelightParams(_EffectParams):
    """Parameters of ``relight``: ``target`` is a sky (preset name or file) or a temperature in K."""

    target: str | float = 5500.0
    strength: float = 1.0


@dataclasses.dataclass(frozen=True)
class NoParams:
    """Operations without parameters (``ping``, ``methods``, ``shutdown``)."""


OPS: dict[str, type] = {
    "mask": MaskParams,
    "replace": ReplaceParams,
    "tint": TintParams,
    "relight": RelightParams,
    "ping": NoParams,
    "methods": NoParams,
    "shutdown": NoParams,
}
"""Operation name -> its parameter dataclass."""

_FILE_OPS = ("mask", "replace", "tint", "relight")


@dataclasses.dataclass(frozen=True)
class Request:
    """One validated request."""

    id: str | int | None
    op: str
    params: Any
    input: str | None = None
    output: str | None = None
    overwrite: bool = False


# -- generic (de)serialisation of the dataclasses --------------------------------------------

QUOTE_CHARS = 80
"""Longest prefix of a bad value an error reply quotes (a 50 MB value must not come back whole)."""

MAX_ERROR_CHARS = 2000
"""Longest error message a reply carries."""

MAX_PATH_CHARS = 4096
"""Longest file path a request may give (PATH_MAX on Linux)."""


def _quote(value: Any) -> str:
    """``value`` as JSON, cut to :data:`QUOTE_CHARS` characters for an error message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= QUOTE_CHARS else f"{text[:QUOTE_CHARS]}... ({len(text):,} characters)"


def _name(value: Any) -> str:
    """A name from a request (op, field, parameter) for an error message: quoted, cut short."""
    if not isinstance(value, str):
        return _quote(value)
    if len(value) <= QUOTE_CHARS:
        return repr(value)
    return f"{value[:QUOTE_CHARS]!r}... ({len(value):,} characters)"


def _check_text(value: str, where: str) -> str:
    """Refuse strings no file name or option can hold: NUL bytes, lone surrogates, huge sizes."""
    if len(value) > MAX_PATH_CHARS:
        raise InputError(f"{where}: longer than {MAX_PATH_CHARS} characters, got {_quote(value)}")
    if "\x00" in value:
        raise InputError(f"{where}: contains a NUL character, got {_quote(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{where}: contains a lone surrogate (not valid text), got {_quote(value)}") from None
    return value



def _convert(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` (decoded JSON) against the type ``hint``; return it in that type."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _convert(value, option, where)
            except InputError:
                continue
        names = " or ".join(_type_name(a) for a in typing.get_args(hint))
        raise InputError(f"{where}: expected {names}, got {_quote(value)}")
    if hint is type(None):
        if value is None:
            return None
        raise InputError(f"{where}: expected null, got {_quote(value)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise InputError(f"{where}: expected true or false, got {_quote(value)}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # a JSON integer with hundreds of digits
                number = float("inf")
            if math.isfinite(number):
                return number
        raise InputError(f"{where}: expected a finite number, got {_quote(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise InputError(f"{where}: expected an integer, got {_quote(value)}")
    if hint is str:
        if isinstance(value, str):
            return _check_text(value, where)
        raise InputError(f"{where}: expected a string, got {_quote(value)}")
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list, got {_quote(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise InputError(f"{where}: expected a list of {len(args)} items, got {_quote(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    raise TypeError(f"unsupported type hint {hint!r}")  # a bug in the dataclasses above


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def from_dict(cls: type, data: Any, where: str = "params"):
    """Build dataclass ``cls`` from a JSON object, checking keys and types.

    Raises :class:`InputError` naming the unknown key or the field with the wrong type.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected an object, got {_quote(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        valid = ", ".join(sorted(fields)) or "none"
        raise InputError(f"{where}: unknown parameter {_name(unknown[0])}; valid: {valid}")
    return cls(**{key: _convert(value, hints[key], f"{where}.{key}") for key, value in data.items()})


def to_dict(obj: Any) -> dict:
    """A parameter dataclass as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))


def parse_request(line: str | bytes) -> Request:
    """Decode and validate one request line; raises :class:`InputError` on any problem."""
    try:
        data = json.loads(line)
    except RecursionError:
        raise InputError("malformed request: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed request: not JSON ({_reason(exc)})") from None
    if not isinstance(data, dict):
        raise InputError("malformed request: expected a JSON object")
    known = {"id", "op", "input", "output", "overwrite", "params"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown request field {_name(unknown[0])}; valid: {', '.join(sorted(known))}")
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise InputError(f"unknown op {_name(op)}; choose one of: {', '.join(OPS)}")
    params = from_dict(OPS[op], data.get("params"))
    fields = {}
    for key in ("input", "output"):
        value = data.get(key)
        if op in _FILE_OPS and not (isinstance(value, str) and value):
            raise InputError(f"op {op!r} needs {key!r}: a file path")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{key!r} must be a file path string, got {_quote(value)}")
        fields[key] = None if value is None else _check_text(value, key)
    overwrite = data.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise InputError(f"'overwrite' must be true or false, got {_quote(overwrite)}")
    return Request(id=_plain_id(data.get("id")), op=op, params=params, overwrite=overwrite, **fields)


def _plain_id(value: Any) -> str | int | None:
    """A request id the reply can echo: a short string or an integer, else none."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    if isinstance(value, str) and (len(value) > QUOTE_CHARS * 4 or not _encodable(value)):
        return None
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "..."


def schema() -> dict:
    """Every operation's parameters with their defaults (what ``methods`` also reports)."""
    return {op: to_dict(cls()) for op, cls in OPS.items() if cls is not NoParams}


# -- the worker ------------------------------------------------------------------------------


class Worker:
    """Serves requests; methods stay loaded between them (see :func:`skyseg_core.methods.get_method`)."""

    def __init__(self, max_pixels: int | None = None):
        self.max_pixels = max_pixels
        self.served = 0

    # Each handler returns the reply fields besides id/ok.
    def handle(self, request: Request) -> dict:
        handler: Callable[[Request], dict] = getattr(self, f"_op_{request.op}")
        return handler(request)

    def _op_ping(self, request: Request) -> dict:
        from . import __version__

        return {"output": "pong", "version": __version__, "protocol": PROTOCOL_VERSION, "served": self.served}

    def _op_methods(self, request: Request) -> dict:
        from .methods import _REGISTRY, list_methods

        methods = [{"name": n, "description": d, "available": n == "auto" or _REGISTRY[n].available()}
                   for n, d in list_methods()]
        extra: dict[str, Any] = {}
        try:
            from .effects import BLEND_MODES
            from .skygen import SKY_PRESETS

            extra = {"skies": list(SKY_PRESETS), "blend_modes": list(BLEND_MODES)}
        except ImportError:  # the effects are optional for mask-only use
            pass
        return {"output": methods, "params": schema(), **extra}

    def _op_shutdown(self, request: Request) -> dict:
        return {"output": "bye"}

    def _load(self, request: Request) -> np.ndarray:
        from .io import load_image

        return load_image(request.input, max_pixels=self.max_pixels)

    def _check_output(self, request: Request, suffixes: tuple[str, ...], shared_reads: tuple[str, ...] = ()) -> Path:
        """Check every output of the request before any work: the main one and ``matte_output``.

        None may be the input, a side input (``params.matte``, a sky file) or another output.
        """
        from .errors import OutputError
        from .io import check_output
        from .outputs import Job, plan_one

        path = Path(request.output)
        if path.suffix.lower() not in suffixes:
            raise OutputError(f"output must end in {' or '.join(suffixes)}", path)
        outputs = {"output": path}
        matte_output = getattr(request.params, "matte_output", None)
        if matte_output is not None:
            if Path(matte_output).suffix.lower() != ".png":
                raise OutputError("matte_output must end in .png", matte_output)
            outputs["matte_output"] = Path(matte_output)
        matte = getattr(request.params, "matte", None)
        reads = (Path(matte),) if matte else ()
        shared = tuple(Path(name) for name in shared_reads if name and Path(name).is_file())
        plan_one(Job(Path(request.input), outputs, reads=reads), shared)
        for out in outputs.values():
            check_output(out, overwrite=request.overwrite, source=request.input)
        return path

    def _matte(self, image: np.ndarray, params) -> tuple[np.ndarray, dict]:
        from .matte import check_matte
        from .methods import resolve_name
        from .segment import segment

        if getattr(params, "matte", None):
            from .io import load_matte

            matte = load_matte(params.matte, max_pixels=self.max_pixels)
            if matte.shape != image.shape[:2]:
                raise InputError(f"matte is {matte.shape[1]}x{matte.shape[0]} but the image is "
                                 f"{image.shape[1]}x{image.shape[0]}", params.matte)
            return check_matte(matte), {"method": "file"}
        method = resolve_name(params.method)
        return segment(image, method=method, refine=params.refine), {"method": method}

    def _op_mask(self, request: Request) -> dict:
        from .io import save_matte

        target = self._check_output(request, (".png",))
        image = self._load(request)
        matte, info = self._matte(image, request.params)
        if request.params.invert:
            matte = (np.float32(1.0) - matte).astype(np.float32)
        save_matte(target, matte, overwrite=request.overwrite, source=request.input)
        return {"output": str(target), "size": [image.shape[1], image.shape[0]],
                "sky_fraction": round(float(matte.mean()), 4), **info}

    def _effect(self, request: Request, apply: Callable[[np.ndarray, np.ndarray], np.ndarray],
                shared_reads: tuple[str, ...] = ()) -> dict:
        from .io import all_or_nothing, save_image, save_matte

        target = self._check_output(request, (".png", ".tif", ".tiff"), shared_reads)
        image = self._load(request)
        matte, info = self._matte(image, request.params)
        result = apply(image, matte)
        reply = {"output": str(target), "size": [image.shape[1], image.shape[0]], **info}
        with all_or_nothing():  # the output and matte_output are written both or neither
            save_image(target, result, overwrite=request.overwrite, source=request.input)
            if request.params.matte_output:
                save_matte(request.params.matte_output, matte, overwrite=request.overwrite, source=request.input)
                reply["matte_output"] = request.params.matte_output
        return reply

    def _sky(self, name: str) -> np.ndarray:
        from .skygen import load_sky

        return load_sky(name, max_pixels=self.max_pixels)

    def _op_replace(self, request: Request) -> dict:
        from .effects import replace_sky

        p: ReplaceParams = request.params

        def apply(image, matte):
            return replace_sky(image, matte, self._sky(p.sky), shift_edge=p.shift_edge, fade_edge=p.fade_edge,
                               color_match=p.color_match, halo=p.halo, defocus=p.defocus, flip=p.flip,
                               position=p.position, scale=p.scale)

        return self._effect(request, apply, shared_reads=(p.sky,))

    def _op_tint(self, request: Request) -> dict:
        from .effects import tint_sky

        p: TintParams = request.params
        stops = tuple((pos, tuple(c / 255.0 for c in colour)) for pos, colour in p.stops)
        return self._effect(request, lambda image, matte: tint_sky(
            image, matte, stops=stops, angle=p.angle, mode=p.mode, strength=p.strength))

    def _op_relight(self, request: Request) -> dict:
        from .effects import relight

        p: RelightParams = request.params

        def apply(image, matte):
            target = p.target if isinstance(p.target, float) else self._sky(p.target)
            return relight(image, matte, target, strength=p.strength)

        return self._effect(request, apply, shared_reads=(p.target,) if isinstance(p.target, str) else ())


def _error_reply(request_id: Any, exc: BaseException) -> dict:
    if isinstance(exc, SkysegError):
        reply = {"id": request_id, "ok": False, "error": str(exc), "kind": type(exc).__name__}
    elif isinstance(exc, MemoryError):
        reply = {"id": request_id, "ok": False, "error": "out of memory", "kind": "MemoryError"}
    else:
        reply = {"id": request_id, "ok": False, "error": f"internal error: {type(exc).__name__}: {exc}",
                 "kind": "InternalError"}
    if len(reply["error"]) > MAX_ERROR_CHARS:
        reply["error"] = reply["error"][:MAX_ERROR_CHARS] + f"... ({len(reply['error']):,} characters)"
    return reply


def _request_id(line: str) -> Any:
    """The id of a request that failed validation, if it can be read at all."""
    try:
        data = json.loads(line)
        return _plain_id(data.get("id")) if isinstance(data, dict) else None
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None


def serve(stdin: TextIO, stdout: TextIO, worker: Worker | None = None, log: TextIO | None = None) -> int:
    """Read requests from ``stdin`` and answer each on ``stdout`` until EOF or ``shutdown``.

    Returns the number of requests served. Never raises for a bad request.
    """
    from . import __version__

    worker = worker or Worker()

    def send(obj: dict) -> None:
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    send({"ready": True, "protocol": PROTOCOL_VERSION, "version": __version__, "pid": os.getpid(),
          "ops": list(OPS)})
    for line in stdin:
        if not line.strip():
            continue
        request_id = None
        start = time.perf_counter()
        try:
            request = parse_request(line)
            request_id = request.id
            reply = {"id": request_id, "ok": True, **worker.handle(request)}
        except Exception as exc:  # every failure becomes a reply; the worker goes on
            reply = _error_reply(request_id if request_id is not None else _request_id(line), exc)
            request = None
        reply["seconds"] = round(time.perf_counter() - start, 3)
        worker.served += 1
        if log is not None:
            print(f"skyseg worker: {reply.get('id')!r} {'ok' if reply['ok'] else 'error: ' + reply['error']} "
                  f"({reply['seconds']} s)", file=log, flush=True)
        send(reply)
        if request is not None and request.op == "shutdown":
            break
    return worker.served


def main(max_pixels: int | None = None) -> int:
    """Run the worker on this process's stdin/stdout (stdout is kept for protocol lines only)."""
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints (C libraries too) go to stderr
    sys.stdout = sys.stderr
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    from ._signals import signals_as_interrupt

    try:
        with signals_as_interrupt():  # SIGTERM/SIGHUP mid-write: the .part file is removed on the way out
            serve(stdin, protocol_out, Worker(max_pixels=max_pixels), log=sys.stderr)
    finally:
        protocol_out.close()
    return 0


__all__ = ["OPS", "PROTOCOL_VERSION", "MaskParams", "ReplaceParams", "TintParams", "RelightParams", "Request",
           "Worker", "from_dict", "to_dict", "parse_request", "schema", "serve", "main"]
