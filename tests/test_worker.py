"""The JSON-lines worker and the plug-ins' stdlib client (plugins/common/skyseg_client/)."""

from __future__ import annotations

import io
import json
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, synthetic_landscape

from skyseg_core import effects
from skyseg_core.effects.params import ReplaceParams, TintParams
from skyseg_core.errors import InputError
from skyseg_core.io import load_image, load_matte, save_image, save_matte
from skyseg_core.segment import segment
from skyseg_core.skygen import load_sky
from skyseg_core.worker import (
    PROTOCOL_VERSION,
    MaskParams,
    Worker,
    parse_request,
    schema,
    serve,
    to_dict,
)

sys.path.insert(0, str(ROOT / "plugins" / "common"))
import skyseg_client  # noqa: E402

WORKER = [sys.executable, "-m", "skyseg_core", "worker"]


@pytest.fixture
def photo(tmp_path):
    image, _ = synthetic_landscape(90, 120)
    return save_image(tmp_path / "photo.png", image)


@pytest.fixture
def client():
    with skyseg_client.SkysegClient(WORKER, start_timeout=60, request_timeout=60) as c:
        yield c


# -- request validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": 1, "op": "explode"}', "unknown op 'explode'"),
        ('{"id": 1, "op": "mask", "output": "o.png"}', "needs 'input'"),
        (
            '{"id": 1, "op": "mask", "input": "a.png", "output": "o.png", "params": {"method": 3}}',
            "params: method must be a string",
        ),
        (
            '{"id": 1, "op": "mask", "input": "a.png", "output": "o.png", "params": {"refine": "yes"}}',
            "params: refine must be true or false",
        ),
        (
            '{"id": 1, "op": "mask", "input": "a.png", "output": "o.png", "params": {"fade": 1}}',
            "unknown parameter 'fade'",
        ),
        (
            '{"id": 1, "op": "replace", "input": "a", "output": "b", "params": {"position": [0.5]}}',
            r"position must be a pair",
        ),
        (
            '{"id": 1, "op": "replace", "input": "a", "output": "b", "params": {"halo": NaN}}',
            r"halo must be in 0..1, got nan",
        ),
        (
            '{"id": 1, "op": "replace", "input": "a", "output": "b", "params": {"halo": 3}}',
            r"params: halo must be in 0..1, got 3",
        ),
        (
            '{"id": 1, "op": "replace", "input": "a", "output": "b", "params": {"target": 3}}',
            r"unknown replace parameter 'target'",
        ),
        (
            '{"id": 1, "op": "tint", "input": "a", "output": "b", "params": {"mode": "dissolve"}}',
            r"mode must be one of",
        ),
        (
            '{"id": 1, "op": "render", "input": "a", "output": "b", "params": {"steps": []}}',
            r"params.steps: expected a list",
        ),
        (
            '{"id": 1, "op": "render", "input": "a", "output": "b", "params": {"steps": [{"effect": "blur"}]}}',
            r"params.steps\[0\]: unknown effect 'blur'",
        ),
        (
            '{"id": 1, "op": "render", "input": "a", "output": "b", "params": {"steps": [{"effect": "tint", "angle": 999}]}}',
            r"params.steps\[0\]: angle must be in -360..360 deg, got 999",
        ),
        ('{"id": 1, "op": "ping", "extra": 1}', "unknown request field 'extra'"),
    ],
)
def test_bad_requests_are_refused_with_a_message(line, message):
    with pytest.raises(InputError, match=message):
        parse_request(line)


def test_params_round_trip_through_json():
    params = ReplaceParams(sky="storm", position=(0.25, 0.75), flip=True, fade_edge=4.0)
    line = json.dumps({"op": "replace", "input": "a", "output": "b", "params": params.to_dict()})
    assert parse_request(line).params.steps == (params,)
    tint = parse_request(
        json.dumps(
            {
                "op": "tint",
                "input": "a",
                "output": "b",
                "params": {"stops": [[0, [10, 20, 30]], [1, "#010203"]], "angle": 45},
            }
        )
    )
    assert tint.params.steps == (
        TintParams(stops=((0.0, "#0a141e"), (1.0, "#010203")), angle=45.0),
    )
    relight = parse_request(
        '{"op": "relight", "input": "a", "output": "b", "params": {"sky": "storm"}}'
    )
    assert relight.params.steps[0].sky == "storm"
    warm = parse_request(
        '{"op": "relight", "input": "a", "output": "b", "params": {"temperature": 3200, "method": "color"}}'
    )
    assert warm.params.steps[0].temperature == 3200.0 and warm.params.source.method == "color"
    chain = parse_request(
        json.dumps(
            {
                "op": "render",
                "input": "a",
                "output": "b",
                "params": {
                    "steps": [
                        {"effect": "replace", "sky": "night"},
                        {"effect": "tint", "strength": 0.2},
                    ],
                    "layers": "x.ora",
                },
            }
        )
    )
    assert [type(step).__name__ for step in chain.params.steps] == ["ReplaceParams", "TintParams"]
    assert chain.params.layers == "x.ora"
    assert schema()["mask"] == to_dict(MaskParams())


# -- the serve loop in-process ----------------------------------------------------------------


def test_serve_answers_every_line_and_survives_bad_ones(photo, tmp_path):
    out = tmp_path / "m.png"
    lines = [
        "this is not json",
        json.dumps({"id": "a", "op": "nope"}),
        json.dumps(
            {"id": "b", "op": "mask", "input": str(tmp_path / "missing.png"), "output": str(out)}
        ),
        json.dumps(
            {
                "id": "c",
                "op": "mask",
                "input": str(photo),
                "output": str(out),
                "params": {"method": "color"},
            }
        ),
        json.dumps({"id": "d", "op": "shutdown"}),
        json.dumps({"id": "e", "op": "ping"}),  # after shutdown: not served
    ]
    stdout = io.StringIO()
    served = serve(io.StringIO("\n".join(lines) + "\n"), stdout, Worker())
    replies = [json.loads(x) for x in stdout.getvalue().splitlines()]
    assert replies[0]["ready"] is True and replies[0]["protocol"] == PROTOCOL_VERSION
    assert [r.get("id") for r in replies[1:]] == [None, "a", "b", "c", "d"]
    assert [r["ok"] for r in replies[1:]] == [False, False, False, True, True]
    assert "not JSON" in replies[1]["error"] and "unknown op" in replies[2]["error"]
    assert "no such file" in replies[3]["error"] and replies[3]["kind"] == "InputError"
    assert served == 5 and out.exists()


def test_output_is_not_overwritten_unless_asked(photo, tmp_path):
    out = tmp_path / "m.png"
    out.write_bytes(b"keep")
    worker = Worker()
    with pytest.raises(Exception, match="already exists"):
        worker.handle(
            parse_request(json.dumps({"op": "mask", "input": str(photo), "output": str(out)}))
        )
    assert out.read_bytes() == b"keep"


# -- the real process through the plug-ins' client --------------------------------------------


def test_mask_through_client_equals_core_matte(client, photo, tmp_path):
    ready = client.start()
    assert ready["ready"] and ready["pid"] == client.process.pid
    out = tmp_path / "matte.png"
    reply = client.request("mask", photo, out, {"method": "color"})
    expected = segment(load_image(photo), method="color")
    got = load_matte(out)
    assert reply["output"] == str(out) and reply["size"] == [120, 90]
    assert np.abs(got - expected).max() <= 0.5 / 255 + 1e-6
    inverted = client.request(
        "mask", photo, tmp_path / "inv.png", {"method": "color", "invert": True}
    )
    assert np.allclose(load_matte(inverted["output"]), 1 - got, atol=1.5 / 255)
    assert client.process.pid == ready["pid"]  # one process served all requests


def test_worker_process_survives_malformed_request(client, photo, tmp_path):
    client.start()
    client.process.stdin.write(b"{this is not json\n")
    client.process.stdin.flush()
    bad = client._wait_line(30, "test")
    assert bad["ok"] is False and "not JSON" in bad["error"]
    with pytest.raises(skyseg_client.RequestFailed, match="unknown parameter 'bogus'"):
        client.request("mask", photo, tmp_path / "x.png", {"bogus": 1})
    with pytest.raises(skyseg_client.RequestFailed, match="no such file"):
        client.request("mask", tmp_path / "missing.jpg", tmp_path / "x.png")
    assert client.request("ping")["output"] == "pong"
    methods = client.request("methods")
    assert {"name": "color"}.items() <= next(
        m for m in methods["output"] if m["name"] == "color"
    ).items()
    described = client.request("schema")["output"]
    assert [f["name"] for f in described["effects"]["replace"]][0] == "sky"


def test_worker_killed_during_a_request_is_detected():
    code = (
        "import os, signal, sys; from skyseg_core import worker; "
        "worker.Worker._op_ping = lambda self, r: (sys.stderr.write('about to die\\n'), sys.stderr.flush(), "
        "os.kill(os.getpid(), signal.SIGKILL)); sys.exit(worker.main())"
    )
    with skyseg_client.SkysegClient(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT)},
        start_timeout=60,
        request_timeout=60,
    ) as c:
        with pytest.raises(
            skyseg_client.WorkerDied,
            match=r"(?s)stopped during ping \(exit status -9\).*about to die",
        ):
            c.request("ping")
        assert not c.running


def test_dead_worker_is_restarted_on_the_next_request(client, photo, tmp_path):
    first = client.start()["pid"]
    client.process.kill()
    client.process.wait()
    reply = client.request("mask", photo, tmp_path / "m.png", {"method": "color"})
    assert reply["ok"] and client.process.pid != first


def test_crash_at_start_reports_stderr():
    crashing = [
        sys.executable,
        "-c",
        "import sys; sys.stderr.write('boom: no numpy here\\n'); sys.exit(3)",
    ]
    with (
        skyseg_client.SkysegClient(crashing, start_timeout=30) as c,
        pytest.raises(skyseg_client.WorkerDied, match=r"(?s)exit status 3.*boom: no numpy here"),
    ):
        c.request("ping")


def test_hanging_worker_times_out_and_is_stopped():
    ready = json.dumps({"ready": True, "protocol": PROTOCOL_VERSION})
    hanging = [sys.executable, "-c", f"import time; print({ready!r}, flush=True); time.sleep(60)"]
    with skyseg_client.SkysegClient(hanging, start_timeout=30, request_timeout=1.0) as c:
        c.start()
        process = c.process
        with pytest.raises(skyseg_client.WorkerTimeout, match="did not answer within 1 s"):
            c.request("ping")
        assert process.poll() is not None and not c.running


def test_missing_interpreter_and_missing_config(tmp_path, monkeypatch):
    monkeypatch.delenv("SKYSEG_WORKER_PYTHON", raising=False)
    with pytest.raises(skyseg_client.WorkerNotConfigured, match="install-plugin"):
        skyseg_client.SkysegClient.from_folder(str(tmp_path))
    (tmp_path / "skyseg_worker.json").write_text(
        json.dumps({"python": str(tmp_path / "no-python")})
    )
    c = skyseg_client.SkysegClient.from_folder(str(tmp_path))
    with pytest.raises(skyseg_client.WorkerDied, match="cannot start the skyseg worker"):
        c.request("ping")
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    assert skyseg_client.SkysegClient.from_folder(str(tmp_path)).command[0] == sys.executable


def test_stray_prints_go_to_stderr_not_the_protocol():
    code = (
        "import sys; from skyseg_core import worker; orig = worker.Worker._op_ping; "
        "worker.Worker._op_ping = lambda self, r: (print('noise from a library'), orig(self, r))[1]; "
        "sys.exit(worker.main())"
    )
    with skyseg_client.SkysegClient(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(ROOT)}, start_timeout=60
    ) as c:
        assert c.request("ping")["output"] == "pong"
        assert c.request("ping")["served"] == 1
        deadline = time.monotonic() + 10
        while "noise from a library" not in c.stderr_tail(20) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "noise from a library" in c.stderr_tail(20)


@pytest.mark.parametrize(
    ("op", "params", "apply"),
    [
        (
            "replace",
            {"sky": "storm", "fade_edge": 2.0, "flip": True},
            lambda im, m: effects.replace_sky(im, m, load_sky("storm"), fade_edge=2.0, flip=True),
        ),
        (
            "tint",
            {
                "stops": [[0, "#ff0000"], [1, [0, 0, 255]]],
                "angle": 45,
                "mode": "multiply",
                "strength": 0.5,
            },
            lambda im, m: effects.tint_sky(
                im,
                m,
                stops=((0.0, (1.0, 0.0, 0.0)), (1.0, (0.0, 0.0, 1.0))),
                angle=45.0,
                mode="multiply",
                strength=0.5,
            ),
        ),
        (
            "relight",
            {"temperature": 3200, "strength": 0.8},
            lambda im, m: effects.relight(im, m, 3200.0, strength=0.8),
        ),
        ("relight", {"sky": "sunset"}, lambda im, m: effects.relight(im, m, load_sky("sunset"))),
        (
            "render",
            {
                "steps": [
                    {"effect": "replace", "sky": "night", "halo": 0.5},
                    {"effect": "tint", "strength": 0.3},
                ]
            },
            lambda im, m: effects.tint_sky(
                effects.replace_sky(im, m, load_sky("night"), halo=0.5), m, strength=0.3
            ),
        ),
    ],
)
def test_each_effect_through_the_client_equals_the_library(
    client, photo, tmp_path, op, params, apply
):
    out, matte_out = tmp_path / f"{op}.png", tmp_path / f"{op}_matte.png"
    reply = client.request(
        op, photo, out, dict(params, method="color", matte_output=str(matte_out))
    )
    image = load_image(photo)
    matte = segment(image, method="color")
    expected = apply(image, matte)
    assert reply["output"] == str(out) and reply["matte_output"] == str(matte_out)
    assert np.array_equal(load_image(out), expected)
    assert np.abs(load_matte(matte_out) - matte).max() <= 0.5 / 255 + 1e-6


def test_effect_reuses_a_given_matte_and_checks_its_size(client, photo, tmp_path):
    image = load_image(photo)
    half = np.zeros(image.shape[:2], np.float32)
    half[: image.shape[0] // 2] = 1.0
    save_matte(tmp_path / "half.png", half)
    reply = client.request(
        "replace", photo, tmp_path / "r.png", {"matte": str(tmp_path / "half.png"), "sky": "night"}
    )
    assert reply["method"] == "file"
    assert np.array_equal(
        load_image(tmp_path / "r.png"), effects.replace_sky(image, half, load_sky("night"))
    )
    save_matte(tmp_path / "small.png", np.zeros((3, 3), np.float32))
    with pytest.raises(skyseg_client.RequestFailed, match="matte is 3x3, the photo 120x90"):
        client.request("tint", photo, tmp_path / "t.png", {"matte": str(tmp_path / "small.png")})
    with pytest.raises(skyseg_client.RequestFailed, match="sky"):
        client.request("replace", photo, tmp_path / "r2.png", {"sky": "no-such-sky-preset"})
    assert client.request("ping")["ok"]


# -- raw Netpbm exchange: what the GIMP plug-in writes from a layer's buffer and reads back --------


@pytest.mark.parametrize("sixteen", [False, True])
def test_netpbm_exchange_through_the_worker_keeps_every_sample(client, tmp_path, sixteen):
    image, _ = synthetic_landscape(90, 120)
    if sixteen:
        image = (
            image.astype(np.uint16) * 257 + np.arange(120, dtype=np.uint16)[None, :, None]
        )  # low bits matter
    height, width = image.shape[:2]
    source = tmp_path / "layer.ppm"
    skyseg_client.write_netpbm(str(source), width, height, 3, image.tobytes(), sixteen=sixteen)
    assert np.array_equal(
        load_image(source), image
    )  # 16-bit samples stay 16-bit (Pillow alone keeps 8)

    reply = client.request("mask", source, tmp_path / "matte.pgm", {"method": "color"})
    got_width, got_height, channels, deep, data = skyseg_client.read_netpbm(reply["output"])
    assert (got_width, got_height, channels, deep) == (width, height, 1, False)
    expected = segment(image, method="color")
    assert (
        np.abs(np.frombuffer(data, np.uint8).reshape(height, width) / 255.0 - expected).max()
        <= 0.5 / 255 + 1e-6
    )

    reply = client.request(
        "replace", source, tmp_path / "result.ppm", {"method": "color", "sky": "storm"}
    )
    got_width, got_height, channels, deep, data = skyseg_client.read_netpbm(reply["output"])
    assert (got_width, got_height, channels, deep) == (width, height, 3, sixteen)
    result = np.frombuffer(data, np.uint16 if sixteen else np.uint8).reshape(height, width, 3)
    assert np.array_equal(result, effects.replace_sky(image, expected, load_sky("storm")))


def test_netpbm_reader_refuses_what_the_worker_never_writes(tmp_path):
    for name, blob, message in (
        ("text.pgm", b"hello", "not a PPM/PGM"),
        ("ascii.pgm", b"P2\n2 1\n255\n0 255\n", "binary PPM/PGM"),
        ("short.pgm", b"P5\n4 4\n255\n" + bytes(10), "truncated"),
    ):
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(skyseg_client.WorkerError, match=message):
            skyseg_client.read_netpbm(str(tmp_path / name))
    with open(tmp_path / "commented.pgm", "wb") as fh:
        fh.write(b"P5\n# made by hand\n2 1\n255\n\x00\xff")
    assert skyseg_client.read_netpbm(str(tmp_path / "commented.pgm")) == (
        2,
        1,
        1,
        False,
        b"\x00\xff",
    )
    with pytest.raises(ValueError, match="expected 6"):
        skyseg_client.write_netpbm(str(tmp_path / "x.ppm"), 2, 1, 3, bytes(5))


# -- the cut-out: a registered step whose output is RGBA ----------------------------------------


def _rgba(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as picture:
        assert picture.mode == "RGBA", picture.mode
        return np.asarray(picture)


def _answer(request: dict) -> dict:
    from skyseg_core.worker import answer

    return answer(Worker(), json.dumps({"id": 1, **request}))[0]


def test_cutout_op_writes_what_skyseg_cutout_writes(photo, tmp_path):
    from skyseg_core.cli import main

    matte = save_matte(tmp_path / "m.png", segment(load_image(photo), "color"))
    request = {"input": str(photo), "params": {"matte": str(matte)}}
    for decontaminate in (True, False):
        out = tmp_path / f"worker_{decontaminate}.png"
        params = {**request["params"], "decontaminate": decontaminate}
        reply = _answer({**request, "op": "cutout", "output": str(out), "params": params})
        assert reply["ok"], reply
        cli = tmp_path / f"cli_{decontaminate}.png"
        argv = ["cutout", str(photo), "--matte", str(matte), "-o", str(cli)]
        assert main(argv + ([] if decontaminate else ["--no-decontaminate"])) == 0
        got = _rgba(out)
        assert got.shape == (90, 120, 4) and np.array_equal(got, _rgba(cli))
    assert not np.array_equal(
        _rgba(tmp_path / "worker_True.png"), _rgba(tmp_path / "worker_False.png")
    ), "decontaminate changes the soft edges' colours"


def test_a_chain_may_end_in_a_cutout(photo, tmp_path):
    matte = save_matte(tmp_path / "m.png", segment(load_image(photo), "color"))
    tint = {"effect": "tint", "strength": 1.0}
    steps = [tint, {"effect": "cutout", "decontaminate": False}]
    base = {"op": "render", "input": str(photo), "params": {"matte": str(matte)}}
    reply = _answer(
        {**base, "output": str(tmp_path / "c.png"), "params": {**base["params"], "steps": steps}}
    )
    assert reply["ok"], reply
    reply = _answer(
        {**base, "output": str(tmp_path / "t.png"), "params": {**base["params"], "steps": [tint]}}
    )
    assert reply["ok"], reply
    rgba, tinted = _rgba(tmp_path / "c.png"), load_image(tmp_path / "t.png")
    opaque = rgba[..., 3] == 255
    assert opaque.any() and (rgba[..., 3] == 0).any()
    assert np.array_equal(rgba[..., :3][opaque], tinted[opaque]), "the tinted photo, cut out"


@pytest.mark.parametrize(
    ("op", "params", "output", "message"),
    [
        ("render", {"steps": [{"effect": "cutout"}, {"effect": "tint"}]}, "o.png", "must be last"),
        ("render", {"steps": [{"effect": "cutout"}], "layers": "o.ora"}, "o.png", "has no layers"),
        ("cutout", {}, "o.ppm", "needs a .png, .tif or .webp name"),
    ],
)
def test_a_cutout_that_no_file_can_come_of_is_refused_before_any_work(
    photo, tmp_path, op, params, output, message
):
    before = sorted(tmp_path.iterdir())
    reply = _answer(
        {"op": op, "input": str(photo), "output": str(tmp_path / output), "params": params}
    )
    assert not reply["ok"] and message in reply["error"], reply
    assert sorted(tmp_path.iterdir()) == before
