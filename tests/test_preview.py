"""The plug-ins' shared live preview (plugins/common/skyseg_client/preview.py) against a real
worker: the working copy's matte is made once per source and reused, a preview render equals
the effect run on the working copy by segmenting, and rapid changes coalesce."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
from conftest import ROOT, synthetic_landscape

from skyseg_core.io import load_image, save_image

sys.path.insert(0, str(ROOT / "plugins" / "common"))
import skyseg_client  # noqa: E402
from skyseg_client.preview import LatestRender, Preview, working_size  # noqa: E402

WORKER = [sys.executable, "-m", "skyseg_core", "worker"]
TINT = {"method": "color", "refine": False, "strength": 0.7, "mode": "overlay"}


class Counting:
    """A client that records the ops it was asked for (and can be held at a gate)."""

    def __init__(self, client):
        self.client = client
        self.ops: list = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def request(self, op, *args, **kwargs):
        self.entered.set()
        self.gate.wait(30)
        self.ops.append((op, dict(args[2]) if len(args) > 2 else {}))
        return self.client.request(op, *args, **kwargs)


@pytest.fixture(scope="module")
def worker():
    client = skyseg_client.SkysegClient(WORKER, start_timeout=60)
    yield client
    client.stop()


@pytest.fixture
def client(worker):
    return Counting(worker)


@pytest.fixture
def photo(tmp_path):
    return str(save_image(tmp_path / "working.png", synthetic_landscape(90, 120)[0]))


def ops(client):
    return [op for op, _ in client.ops]


def test_working_size_fits_the_long_side_and_never_enlarges():
    assert working_size(6000, 4000) == (1280, 853)
    assert working_size(4000, 6000) == (853, 1280)
    assert working_size(800, 600) == (800, 600)
    assert working_size(100000, 10) == (1280, 1)


def test_the_matte_is_made_once_and_a_render_equals_segmenting(client, worker, photo, tmp_path):
    with Preview(client) as preview:
        preview.set_photo(photo)
        first = preview.render("tint", TINT)
        second = preview.render("tint", dict(TINT, strength=0.3))
        assert ops(client) == ["mask", "tint", "tint"]
        assert preview.size == (120, 90) and 0.2 < preview.sky_fraction < 0.8
        assert client.ops[1][1]["matte"] == client.ops[2][1]["matte"]
        assert "method" not in client.ops[1][1]  # the effect never segments
        # the same effect run by segmenting the working copy gives the same pixels
        direct = str(tmp_path / "direct.png")
        worker.request("tint", photo, direct, TINT)
        assert np.array_equal(load_image(direct), load_image(first))
        assert not np.array_equal(load_image(first), load_image(second))
        # another matte source is another matte; going back is the cached one
        preview.render("tint", dict(TINT, refine=True))
        preview.render("tint", TINT)
        assert ops(client) == ["mask", "tint", "tint", "mask", "tint", "tint"]
        assert client.ops[5][1]["matte"] == client.ops[1][1]["matte"]


def test_the_cache_follows_the_working_copys_content(client, photo, tmp_path):
    with Preview(client) as preview:
        preview.set_photo(photo)
        preview.render("tint", TINT)
        same = preview.photo_path(".png")
        with open(photo, "rb") as src, open(same, "wb") as dst:
            dst.write(src.read())
        preview.set_photo(same)  # the same pixels again: no new matte
        preview.render("tint", TINT)
        assert ops(client) == ["mask", "tint", "tint"]
        other = save_image(tmp_path / "other.png", synthetic_landscape(90, 120, seed=3)[0])
        preview.set_photo(str(other))
        preview.render("tint", TINT)
        assert ops(client) == ["mask", "tint", "tint", "mask", "tint"]
        # the host's incoming copy was moved in, not kept beside the one in use
        assert not [n for n in os.listdir(preview.folder) if n.startswith("incoming")]


def test_old_renders_are_removed_and_close_removes_everything(client, photo):
    preview = Preview(client, suffix=".ppm")
    preview.set_photo(photo)
    paths = [preview.render("tint", dict(TINT, strength=s)) for s in (0.2, 0.4, 0.6)]
    assert [os.path.exists(p) for p in paths] == [False, True, True]
    assert skyseg_client.read_netpbm(paths[-1])[:3] == (120, 90, 3)
    folder = preview.folder
    preview.close()
    assert not os.path.exists(folder)
    with pytest.raises(skyseg_client.WorkerError, match="closed"):
        preview.set_photo(photo)


def test_rapid_changes_coalesce_and_the_last_one_wins(client, photo):
    with Preview(client) as preview:
        preview.set_photo(photo)
        runner = LatestRender(preview, delay=0.05)
        try:
            client.gate.clear()  # the first render waits in the worker's place...
            runner.submit("tint", dict(TINT, strength=0.1))
            assert client.entered.wait(30)
            for strength in (0.2, 0.3, 0.4, 0.5):  # ...while four more changes come
                runner.submit("tint", dict(TINT, strength=strength))
            client.gate.set()
            result = runner.wait(60)
            assert result.error is None and result.latest
            assert result.params["strength"] == 0.5
            strengths = [p.get("strength") for op, p in client.ops if op == "tint"]
            assert strengths == [0.1, 0.5]  # 0.2-0.4 never ran
            assert runner.poll() is None  # collected once
        finally:
            runner.close()


def test_a_failed_render_is_a_result_with_the_error(client, photo):
    with Preview(client) as preview:
        preview.set_photo(photo)
        runner = LatestRender(preview, delay=0.0)
        try:
            runner.submit("tint", dict(TINT, strength=7.0))
            result = runner.wait(60)
            assert result.path is None
            assert isinstance(result.error, skyseg_client.RequestFailed)
            assert "strength" in result.error.for_user()
            runner.submit("tint", TINT)  # the next change works again
            assert runner.wait(60).error is None
        finally:
            runner.close()


def test_prepare_runs_on_the_thread_and_its_failure_is_the_results_error(client, photo):
    threads = []

    def prepare(path):
        threads.append(threading.current_thread())
        width, height, channels, _, _ = skyseg_client.read_netpbm(path)
        if width < 1000:
            raise ValueError(f"too small to show: {width}x{height}x{channels}")
        return width

    with Preview(client, suffix=".ppm") as preview:
        preview.set_photo(photo)
        runner = LatestRender(preview, delay=0.0, prepare=prepare)
        try:
            runner.submit("tint", TINT)
            result = runner.wait(60)
            assert threads == [runner._thread] and result.path and result.prepared is None
            assert isinstance(result.error, ValueError) and "120x90x3" in str(result.error)
        finally:
            runner.close()
