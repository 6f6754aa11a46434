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
from tests.corpus import CASES, snapshot


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_worker_survives(case, tmp_path, monkeypatch):
    job = case.prepare(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    request = {"id": 1, "op": "mask", "input": str(job.input), "output": str(job.output),
               "overwrite": job.overwrite, "params": {"method": job.method}}
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
