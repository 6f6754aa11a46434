"""Every corpus case through the worker's JSON-lines loop: a reply per request, never a crash.

Correct output, or an error reply naming the file; the input stays byte-identical, nothing
partial is left behind, and the worker serves the next request (a ping) afterwards.
"""

from __future__ import annotations

import io
import json

import pytest

import skyseg_core as sky
from skyseg_core.worker import Worker, serve
from tests.corpus import CASES, REQUEST_CASES, snapshot


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_worker_survives(case, tmp_path, monkeypatch):
    job = case.prepare(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    request = {
        "id": 1,
        "op": "mask",
        "input": str(job.input),
        "output": str(job.output),
        "overwrite": job.overwrite,
        "params": {"method": job.method},
    }
    requests = json.dumps(request) + "\n" + json.dumps({"id": 2, "op": "ping"}) + "\n"
    stdout = io.StringIO()
    serve(io.StringIO(requests), stdout, Worker(max_pixels=job.max_pixels), log=io.StringIO())
    replies = {reply.get("id"): reply for reply in map(json.loads, stdout.getvalue().splitlines())}
    assert replies[2]["ok"], "the worker must serve the request after a bad one"
    reply = replies[1]
    if case.ok:
        assert reply["ok"], reply
        job.check_files(before, produced=True)
        assert sky.load_matte(job.output).shape == case.shape
    else:
        assert not reply["ok"] and job.mentioned in reply["error"], reply
        if case.match:
            assert case.match.lower() in reply["error"].lower()
        job.check_files(before, produced=False)


def _grey_png() -> bytes:
    from tests.corpus import _from_array, _pil_bytes, photo

    return _pil_bytes(_from_array(photo()[..., 0]), "PNG")


# (name, request fields given the folder, files laid out first, what must be written)
_SIDE_CASES = [
    (
        "output_is_params_matte",
        lambda d: {"op": "tint", "output": str(d / "m.png"), "params": {"matte": str(d / "m.png")}},
        "would overwrite the side input",
        [],
    ),
    (
        "output_is_sky_file",
        lambda d: {
            "op": "replace",
            "output": str(d / "sky.png"),
            "params": {"sky": str(d / "sky.png"), "method": "color"},
        },
        "would overwrite the side input",
        [],
    ),
    (
        "matte_output_is_output",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "params": {"matte_output": str(d / "r.png"), "method": "color"},
        },
        "same file",
        [],
    ),
    (
        "matte_output_is_input",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "params": {"matte_output": str(d / "a.png"), "method": "color"},
        },
        "overwrite the input",
        [],
    ),
    (
        "matte_output_in_missing_folder",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "params": {"matte_output": str(d / "no" / "m.png"), "method": "color"},
        },
        "does not exist",
        [],
    ),
    (
        "matte_output_exists",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "overwrite": False,
            "params": {"matte_output": str(d / "earlier.png"), "method": "color"},
        },
        "already exists",
        [],
    ),
    (
        "matte_output_not_png",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "params": {"matte_output": str(d / "m.jpg"), "method": "color"},
        },
        ".png",
        [],
    ),
    (
        "both_written",
        lambda d: {
            "op": "tint",
            "output": str(d / "r.png"),
            "params": {"matte_output": str(d / "new.png"), "method": "color"},
        },
        None,
        ["r.png", "new.png"],
    ),
]


@pytest.mark.parametrize(
    ("name", "fields", "message", "written"), _SIDE_CASES, ids=[c[0] for c in _SIDE_CASES]
)
def test_worker_side_files_both_or_neither(name, fields, message, written, tmp_path):
    """Output plan of one request: output and matte_output are written both or neither, and
    neither may be the input, params.matte, the sky file or the other one."""
    from tests.corpus import _good_png

    (tmp_path / "a.png").write_bytes(_good_png())
    (tmp_path / "m.png").write_bytes(_grey_png())
    (tmp_path / "sky.png").write_bytes(_good_png())
    (tmp_path / "earlier.png").write_bytes(b"an earlier matte, keep it")
    before = snapshot(tmp_path)
    request = {"id": 1, "input": str(tmp_path / "a.png"), "overwrite": True, **fields(tmp_path)}
    stdout = io.StringIO()
    serve(io.StringIO(json.dumps(request) + "\n"), stdout, Worker(), log=io.StringIO())
    reply = json.loads(stdout.getvalue().splitlines()[1])
    after = snapshot(tmp_path)
    assert {key: after.get(key) for key in before} == before
    assert sorted(set(after) - set(before)) == sorted(written)
    if message is None:
        assert reply["ok"], reply
    else:
        assert not reply["ok"] and message in reply["error"], reply


@pytest.mark.parametrize(("name", "make"), REQUEST_CASES, ids=[name for name, _ in REQUEST_CASES])
def test_no_request_ends_the_worker(name, make, tmp_path, monkeypatch):
    """Deep nesting, wrong types, lone surrogates, NUL bytes and huge values: an InputError
    reply that quotes only a short prefix, and the next request is served."""
    monkeypatch.chdir(tmp_path)
    stdout = io.StringIO()
    serve(
        io.StringIO(make() + "\n" + json.dumps({"id": "next", "op": "ping"}) + "\n"),
        stdout,
        Worker(),
        log=io.StringIO(),
    )
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 3, lines[1:]
    reply, after = json.loads(lines[1]), json.loads(lines[2])
    assert not reply["ok"] and reply["kind"] == "InputError", reply
    assert len(lines[1]) < 1000, f"reply is {len(lines[1]):,} characters"
    assert after == {**after, "id": "next", "ok": True}
