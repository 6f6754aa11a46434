"""The skyseg worker: a long-lived process that host plug-ins talk to in JSON lines.

GIMP and Krita run plug-ins in Pythons that cannot be relied on to have numpy or onnxruntime,
so the plug-ins start ``skyseg worker`` from the user's skyseg environment and exchange pixels
through temporary image files (binary PPM/PGM: no compression to spend seconds on at 12 MP). The protocol, one JSON object per line:

* On start the worker writes ``{"ready": true, "protocol": 2, "version": ..., "pid": ...}``.
* Request: ``{"id": ..., "op": "mask"|<an effect>|"cutout"|"render"|"ping"|"methods"|
  "schema"|"shutdown", "input": path, "output": path, "overwrite": bool, "params": {...}}``.
  ``mask`` takes :class:`MaskParams`; every registered step
  (:data:`skyseg_core.effects.registry.STEPS`: replace, tint, relight, ..., and ``cutout``,
  whose output is RGBA: a .png or .tif) is an op that takes the matte source
  (:class:`SourceParams`) and the step's fields as declared, and ``render`` a chain of them
  (:class:`EffectRequest`; a cut-out only last); ``schema`` returns those declarations and the
  effects' identities, which the plug-ins build their dialogs and menus from (the cut-out
  apart, under ``rgba_steps``). Unknown keys, wrong types and values out of range are refused
  with a message that names them.
* Reply: ``{"id": ..., "ok": true, "output": ..., ...}`` or ``{"id": ..., "ok": false,
  "error": "...", "kind": "InputError"}``.

A bad request (malformed JSON, unknown operation, bad parameters, unreadable file) gets an
error reply and the worker serves the next one; methods and models stay loaded between
requests. stdout carries only protocol lines: anything else the process prints goes to stderr.
"""

# the package's face: the modules list no __all__ of their own
from .protocol import (
    FIXED_OPS,
    MAX_ERROR_CHARS,
    OPS,
    PROTOCOL_VERSION,
    EffectRequest,
    MaskParams,
    Request,
    SourceParams,
    from_dict,
    is_effect_op,
    parse_request,
    schema,
    to_dict,
)
from .server import Worker, answer, main, ready_line, serve

__all__ = [
    "FIXED_OPS",
    "MAX_ERROR_CHARS",
    "OPS",
    "PROTOCOL_VERSION",
    "EffectRequest",
    "MaskParams",
    "Request",
    "SourceParams",
    "Worker",
    "answer",
    "from_dict",
    "is_effect_op",
    "main",
    "parse_request",
    "ready_line",
    "schema",
    "serve",
    "to_dict",
]
