"""The worker's server: :class:`Worker` answers validated requests through the pipeline
(:mod:`skyseg_core.pipeline`), with methods and skies kept loaded between them; :func:`serve`
speaks the protocol on a pair of text streams and :func:`main` on this process's stdin and
stdout. The shared socket server (:mod:`skyseg_core.worker.socket_server`) answers with the
same :func:`answer`."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from .. import __version__
from .._signals import signals_as_interrupt
from ..errors import OutputError, SkysegNote
from ..io import MATTE_SUFFIXES, check_output
from ..layered import LAYERED_SUFFIXES, PLUGIN_LAYERS_SUFFIX
from ..methods import describe_methods
from ..outputs import Job, plan_one
from ..pipeline import MatteSource, SkyCache, check_chain, load_photo, write_rendered
from .protocol import (
    OPS,
    PROTOCOL_VERSION,
    EffectRequest,
    MaskParams,
    Request,
    error_reply,
    is_effect_op,
    parse_request,
    request_id_of,
    schema,
)


class Worker:
    """Serves requests; methods stay loaded between them (see :func:`skyseg_core.methods.get_method`)."""

    def __init__(self, max_pixels: int | None = None):
        self.max_pixels = max_pixels
        self.served = 0
        self.skies = SkyCache(max_pixels)

    # Each handler returns the reply fields besides id/ok.
    def handle(self, request: Request) -> dict:
        if is_effect_op(request.op):
            return self._render(request)
        handler: Callable[[Request], dict] = getattr(self, f"_op_{request.op}")
        return handler(request)

    def _op_ping(self, request: Request) -> dict:
        return {
            "output": "pong",
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "served": self.served,
        }

    def _op_methods(self, request: Request) -> dict:
        return {"output": describe_methods()}

    def _op_schema(self, request: Request) -> dict:
        return {"output": schema()}

    def _op_shutdown(self, request: Request) -> dict:
        return {"output": "bye"}

    def _check_outputs(
        self,
        request: Request,
        outputs: dict[str, Path],
        suffixes: tuple[str, ...],
        reads: tuple[Path, ...] = (),
        shared_reads: tuple[Path, ...] = (),
    ) -> None:
        """Check every output of the request before any work: the main one and the side files.

        None may be the input, a side input (a matte file, a sky file) or another output.
        """
        if outputs["output"].suffix.lower() not in suffixes:
            raise OutputError(f"output must end in {' or '.join(suffixes)}", outputs["output"])
        layered = (*LAYERED_SUFFIXES, PLUGIN_LAYERS_SUFFIX)
        for role, suffixes in (("matte", MATTE_SUFFIXES), ("layers", layered)):
            if role in outputs and outputs[role].suffix.lower() not in suffixes:
                raise OutputError(
                    f"{'matte_output' if role == 'matte' else role} must end in "
                    f"{' or '.join(suffixes)}",
                    outputs[role],
                )
        source, _ = request.files()
        plan_one(Job(Path(source), outputs, reads=reads), shared_reads)
        for out in outputs.values():
            check_output(out, overwrite=request.overwrite, source=source)

    def _op_mask(self, request: Request) -> dict:
        """The matte through the pipeline: load, matte (inverted on request), write."""
        source, output = request.files()
        target = Path(output)
        self._check_outputs(request, {"output": target}, MATTE_SUFFIXES)
        p: MaskParams = request.params
        photo = load_photo(source, MatteSource(p.method, p.refine), max_pixels=self.max_pixels)
        if p.invert:
            photo.matte = (np.float32(1.0) - photo.matte).astype(np.float32)
        report = write_rendered(photo, [], {"matte": target}, overwrite=request.overwrite)
        return {
            "output": report["matte"],
            "size": [photo.image.shape[1], photo.image.shape[0]],
            "sky_fraction": report["sky_fraction"],
            "method": report["method"],
        }

    def _render(self, request: Request) -> dict:
        """Every effect's op and ``render``: one chain through the pipeline."""
        p: EffectRequest = request.params
        src = p.source
        source, output = request.files()
        outputs = {"output": Path(output)}
        if src.matte_output:
            outputs["matte"] = Path(src.matte_output)
        if p.layers:
            outputs["layers"] = Path(p.layers)
        reads = (Path(src.matte),) if src.matte else ()
        check_chain(p.steps, layers="layers" in outputs, output=outputs["output"])
        self._check_outputs(
            request, outputs, (".png", ".tif", ".tiff", ".ppm"), reads, self.skies.files(p.steps)
        )
        photo = load_photo(
            source,
            MatteSource(src.method, src.refine, src.matte),
            overwrite=request.overwrite,
            max_pixels=self.max_pixels,
        )
        report = write_rendered(
            photo, p.steps, outputs, overwrite=request.overwrite, skies=self.skies
        )
        reply = {
            "output": report["output"],
            "size": [photo.image.shape[1], photo.image.shape[0]],
            "method": "file" if src.matte else report["method"],
            "sky_fraction": report["sky_fraction"],
        }
        if "matte" in report:
            reply["matte_output"] = report["matte"]
        if "layers" in report:
            reply["layers"] = report["layers"]
        return reply


def serve(
    stdin: TextIO, stdout: TextIO, worker: Worker | None = None, log: TextIO | None = None
) -> int:
    """Read requests from ``stdin`` and answer each on ``stdout`` until EOF or ``shutdown``.

    Returns the number of requests served. Never raises for a bad request.
    """
    worker = worker or Worker()

    def send(obj: dict) -> None:
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    send(ready_line())
    for line in stdin:
        if not line.strip():
            continue
        reply, shutdown = answer(worker, line, log)
        send(reply)
        if shutdown:
            break
    return worker.served


def ready_line() -> dict:
    """The first line a worker writes (on stdout, or on each socket connection)."""
    return {
        "ready": True,
        "protocol": PROTOCOL_VERSION,
        "version": __version__,
        "pid": os.getpid(),
        "ops": list(OPS),
    }


def answer(worker: Worker, line: str, log: TextIO | None = None) -> tuple[dict, bool]:
    """The reply to one request line, and whether it was ``shutdown``. Never raises for a bad
    request (every failure becomes an error reply)."""
    request_id = None
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkysegNote)
        try:
            request = parse_request(line)
            request_id = request.id
            reply = {"id": request_id, "ok": True, **worker.handle(request)}
        except Exception as exc:  # every failure becomes a reply; the worker goes on
            reply = error_reply(request_id if request_id is not None else request_id_of(line), exc)
            request = None
    notes = [str(w.message) for w in caught if issubclass(w.category, SkysegNote)]
    if notes:  # what was left out or not converted (a metadata block, a colour profile)
        reply["notes"] = notes
    for w in caught:  # other warnings are shown as they would have been
        if not issubclass(w.category, SkysegNote):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    reply["seconds"] = round(time.perf_counter() - start, 3)
    worker.served += 1
    if log is not None:
        print(
            f"skyseg worker: {reply.get('id')!r} {'ok' if reply['ok'] else 'error: ' + reply['error']} "
            f"({reply['seconds']} s)",
            file=log,
            flush=True,
        )
    return reply, request is not None and request.op == "shutdown"


def main(max_pixels: int | None = None) -> int:
    """Run the worker on this process's stdin/stdout (stdout is kept for protocol lines only)."""
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints (C libraries too) go to stderr
    sys.stdout = sys.stderr
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    try:
        with (
            signals_as_interrupt()
        ):  # SIGTERM/SIGHUP mid-write: the .part file is removed on the way out
            serve(stdin, protocol_out, Worker(max_pixels=max_pixels), log=sys.stderr)
    finally:
        protocol_out.close()
    return 0
