"""skyseg for GIMP 3, talking to the worker: the shared worker's client, the parameter schema, and
one request with GIMP's progress bar pulsing while it runs."""

import os
import threading

import gi

gi.require_version("Gimp", "3.0")
import skyseg_client  # noqa: E402
from gi.repository import Gimp  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))


def client():
    """The shared worker (GIMP runs each call in a new plug-in process: a private worker would
    start, load its models and stop every time); a private one where it cannot be used."""
    return skyseg_client.SkysegClient.from_folder(HERE, shared=True)


_SCHEMA = {}


def schema():
    """The parameter schema (read once per plug-in process); raises WorkerError without one."""
    if "value" not in _SCHEMA:
        try:
            _SCHEMA["value"] = skyseg_client.load_schema(HERE, timeout=30.0)
        except skyseg_client.WorkerError as exc:
            _SCHEMA["value"], _SCHEMA["error"] = None, exc
    if _SCHEMA["value"] is None:
        raise _SCHEMA["error"]
    return _SCHEMA["value"]


def run_worker(op, input_path, output_path, params, what, aliases=None):
    """One worker request with GIMP's progress bar pulsing while it runs; returns the reply."""
    Gimp.progress_init(what)
    result = {}

    def work():
        try:
            with client() as worker:
                result["reply"] = worker.request(
                    op, input_path, output_path, params, aliases=aliases
                )
        except skyseg_client.WorkerError as exc:
            result["error"] = exc
        except Exception as exc:  # noqa: BLE001 - reported to the user, never crashes GIMP
            result["error"] = skyseg_client.WorkerError(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        Gimp.progress_pulse()
        thread.join(0.1)
    Gimp.progress_end()
    if "error" in result:
        raise result["error"]
    return result["reply"]


def layer_aliases(layer, *paths):
    """How the worker's messages name the files made from ``layer``."""
    return {path: f"layer {layer.get_name()!r}" for path in paths}
