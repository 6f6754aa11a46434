"""Issue 22, "internal errors and aborted batches": hostile paths, sizes, numbers and names that
used to end a run with "internal error" (exit 1) or abort a batch without naming the culprit.

Each case builds its input here. What must happen: exit 2, exactly one ``skyseg: error:`` line
per refused input or option naming it, and the rest of the batch done.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import skyseg_core as sky
from skyseg_core.cli import main
from skyseg_core.cli._common import printable
from skyseg_core.errors import InputError, OutputError
from skyseg_core.io import path_kind
from tests.corpus import IS_ROOT, ROOT_DIR, _good_jpeg, snapshot
from tests.test_evaluate import _write_dataset

TOO_LONG = "n" * 300
"""A name component no file system takes (over 255 bytes): looking at it raises
OSError(ENAMETOOLONG) even for root, where Path.is_dir() used to escape as "internal error"."""


def error_lines(capfd) -> list[str]:
    out, err = capfd.readouterr()
    lines = err.splitlines()
    assert all(line.startswith("skyseg: error: ") for line in lines), err
    assert "internal error" not in err and "Traceback" not in err
    return lines


@pytest.fixture
def photos(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(_good_jpeg())
    return tmp_path


# -- one safe check of a path --------------------------------------------------------------------


def test_path_kind_names_what_is_there_and_refuses_what_cannot_be_looked_at(tmp_path):
    (tmp_path / "file.jpg").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert path_kind(tmp_path) == "folder"
    assert path_kind(tmp_path / "file.jpg") == "file"
    assert path_kind(tmp_path / "fifo.png") == "other"
    assert path_kind("/dev/null") == "other"
    assert path_kind(tmp_path / "missing") == "missing"
    assert path_kind(tmp_path / "dangling") == "missing"
    assert path_kind(tmp_path / "file.jpg" / "below") == "missing"
    with pytest.raises(InputError, match="cannot be looked at .File name too long"):
        path_kind(tmp_path / TOO_LONG)
    with pytest.raises(OutputError, match=TOO_LONG):
        path_kind(tmp_path / TOO_LONG / "x.png", OutputError)
    with pytest.raises(InputError, match="not a valid file name"):
        path_kind("a\x00b")


@pytest.mark.parametrize(
    "argv",
    [
        ["mask", "a.jpg", "-o", f"{TOO_LONG}.png"],
        ["mask", "a.jpg", "b.jpg", "--out-dir", TOO_LONG],
        ["replace", "a.jpg", "--sky", TOO_LONG],
        ["relight", "a.jpg", "--sky", f"{TOO_LONG}.jpg"],
        ["replace", "a.jpg", "--matte", TOO_LONG],
        ["replace", "a.jpg", "--layers", f"{TOO_LONG}.ora"],
        ["tint", "a.jpg", "b.jpg", "--matte-out", f"{TOO_LONG}/"],
        ["cutout", "a.jpg", "--matte", TOO_LONG],
        ["eval", "--data", TOO_LONG],
        ["eval", "--data", ".", "--report", TOO_LONG],
    ],
    ids=lambda argv: f"{argv[0]}{argv[-2]}",
)
def test_an_option_path_that_cannot_be_looked_at_costs_one_line(argv, photos, capfd):
    before = snapshot(photos)
    assert main([*argv, "--method", "color"]) == 2
    (line,) = error_lines(capfd)
    assert TOO_LONG in line and "File name too long" in line
    assert snapshot(photos) == before


def test_an_input_or_output_name_too_long_costs_its_input_only(photos, capfd):
    """No --quiet: the note about sub-folders looks at every input too."""
    long_stem = "s" * 130  # its own name fits; '{stem}{stem}.png' does not
    (photos / f"{long_stem}.jpg").write_bytes(_good_jpeg())
    argv = ["mask", f"{TOO_LONG}.jpg", f"{long_stem}.jpg", "a.jpg", "--method", "color"]
    assert main([*argv, "--out-dir", "out", "--name", "{stem}{stem}.png"]) == 2
    first, second = error_lines(capfd)
    assert TOO_LONG in first and f"{long_stem}{long_stem}.png" in second
    assert sorted(p.name for p in (photos / "out").iterdir()) == ["aa.png"]


def test_a_mirrored_output_folder_that_cannot_be_looked_at_costs_its_photos_only(
    photos, monkeypatch, capfd
):
    """-r mirrors sub-folders under --out-dir; a locked one there (EACCES, as os.stat raises for
    a user without search permission) costs the photos that go into it."""
    (photos / "in" / "sub").mkdir(parents=True)
    (photos / "in" / "a.jpg").write_bytes(_good_jpeg())
    (photos / "in" / "sub" / "b.jpg").write_bytes(_good_jpeg())
    (photos / "out" / "sub").mkdir(parents=True)
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path).startswith(os.path.join("out", "sub")):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    argv = ["mask", "in", "-r", "--out-dir", "out", "--method", "color", "--jobs", "1"]
    assert main(argv) == 2  # one job: the patched os.stat reaches this process only
    (line,) = error_lines(capfd)
    assert line.endswith(f"{os.path.join('out', 'sub')}: cannot be looked at (Permission denied)")
    assert (photos / "out" / "a.png").is_file()


def _segment_failing(monkeypatch, failing_calls: set[int]) -> None:
    """Segmentation raises OSError(EIO) on the given calls (1-based), as a disk error would."""
    import errno
    import importlib

    module = importlib.import_module("skyseg_core.segment")  # the package re-exports the function
    segment, calls = module.segment, []

    def segment_or_fail(image, *args, **kwargs):
        calls.append(None)
        if len(calls) in failing_calls:
            raise OSError(errno.EIO, "Input/output error", "b.jpg")
        return segment(image, *args, **kwargs)

    monkeypatch.setattr(module, "segment", segment_or_fail)


def test_an_os_error_no_check_foresaw_costs_its_input_only(photos, monkeypatch, capfd):
    _segment_failing(monkeypatch, {2})
    argv = ["mask", "a.jpg", "b.jpg", "--out-dir", "out", "--method", "color"]
    assert main([*argv, "--jobs", "1"]) == 2  # the calls are counted in this process
    assert error_lines(capfd) == ["skyseg: error: b.jpg: Input/output error"]
    assert sorted(p.name for p in (photos / "out").iterdir()) == ["a.png"]


def test_the_worker_answers_an_os_error_as_the_request_s_error(photos, monkeypatch):
    from skyseg_core.worker import Worker, answer

    _segment_failing(monkeypatch, {1})
    worker = Worker()
    replies = [
        answer(worker, json.dumps({"id": n, "op": "mask", "input": "a.jpg", "output": f"{n}.png"}))[
            0
        ]
        for n in (1, 2)
    ]
    assert replies[0]["kind"] == "InputError" and replies[0]["error"] == "b.jpg: Input/output error"
    assert replies[1]["ok"] and (photos / "2.png").is_file()


def _as_nobody(argv: list[str], cwd: Path, warm_up: Path) -> subprocess.CompletedProcess:
    """``skyseg ARGV`` where permissions hold: as user nobody under root, else as this user.
    The interpreter may live where nobody may not look, so one warm-up run on the photo
    ``warm_up`` imports what the command needs before the privileges are dropped."""
    warm = warm_up.with_name("warm.png")
    drop = (
        "import os, sys\nfrom skyseg_core.cli import main\n"
        f"main(['mask', {str(warm_up)!r}, '-o', {str(warm)!r}, '--method', 'color', '--quiet'])\n"
        f"os.remove({str(warm)!r})\n"
        + ("os.setgroups([]); os.setgid(65534); os.setuid(65534)\n" if IS_ROOT else "")
        + "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", drop, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


@pytest.mark.parametrize("variable", ["SKYSEG_CLASSIFIER_MODEL", "SKYSEG_MODELS_DIR"])
def test_a_model_path_that_cannot_be_looked_at_costs_one_line(variable, photos, monkeypatch, capfd):
    monkeypatch.setenv(variable, str(photos / TOO_LONG))
    assert main(["mask", "a.jpg", "-o", "m.png", "--method", "classifier"]) == 2
    (line,) = error_lines(capfd)
    assert TOO_LONG in line and "File name too long" in line


@pytest.mark.parametrize(
    "params",
    [{"sky": TOO_LONG}, {"sky": f"{TOO_LONG}.jpg"}, {"matte": f"{TOO_LONG}.png"}],
    ids=["sky", "sky-file", "matte"],
)
def test_the_worker_answers_a_path_that_cannot_be_looked_at(params, photos):
    from skyseg_core.worker import Worker, answer

    request = {"id": 1, "op": "replace", "input": "a.jpg", "output": "r.png", "params": params}
    reply, _ = answer(Worker(), json.dumps(request))
    assert reply["kind"] == "InputError" and "File name too long" in reply["error"], reply


def test_locked_folders_under_recursion_each_cost_one_line(tmp_path):
    """A real chmod: an unreadable input sub-folder is named (not skipped in silence), a mirrored
    output folder that cannot be looked at or written costs its photos, the rest is done."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="skyseg-locked-"))  # tmp_path's parents may be 0700
    try:
        folder.chmod(0o777)
        tree = folder / "in"
        for sub in ("locked", "open/deep"):
            (tree / sub).mkdir(parents=True)
        for rel in ("a.jpg", "locked/c.jpg", "open/b.jpg", "open/deep/d.jpg"):
            (tree / rel).write_bytes(_good_jpeg())
        out = folder / "out"
        (out / "open" / "deep").mkdir(parents=True)
        for path in (tree, tree / "open", tree / "open" / "deep", out):
            path.chmod(0o777)
        for path in [*tree.rglob("*.jpg")]:
            path.chmod(0o644)
        (tree / "locked").chmod(0)
        (out / "open").chmod(0o600)  # no search permission: out/open/deep cannot be looked at
        argv = ["mask", "in", "-r", "--out-dir", "out", "--method", "color"]
        argv += ["--jobs", "1"]  # worker processes would import modules after the drop
        result = _as_nobody(argv, folder, warm_up=tree / "a.jpg")
        (out / "open").chmod(0o755)
        (tree / "locked").chmod(0o755)
        lines = result.stderr.splitlines()
        assert result.returncode == 2, result.stderr
        assert len(lines) == 3, result.stderr
        locked, b, d = lines
        assert locked == (
            "skyseg: error: in/locked: cannot read the folder (Permission denied); its photos "
            "are left out"
        )
        assert b.startswith("skyseg: error: out/open/b.png: ") and "Permission denied" in b
        assert d == "skyseg: error: out/open/deep: cannot be looked at (Permission denied)"
        assert sorted(p.name for p in out.iterdir()) == ["a.png", "open"]
    finally:
        for path in (folder / "in" / "locked", folder / "out" / "open"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


# -- thin photos, full stdout, make-sky's numbers -----------------------------------------------


@pytest.mark.parametrize("command", ["replace", "relight", "tint"])
@pytest.mark.parametrize("size", [(1, 2000), (2000, 1), (4, 30000)])
def test_thin_photos_through_every_effect_command(command, size, tmp_path, capfd):
    h, w = size
    photo = np.full((h, w, 3), (90, 150, 235), np.uint8)
    photo[:, : w // 2] = (40, 70, 30)
    sky.save_image(tmp_path / "thin.png", photo)
    matte = np.zeros((h, w), np.float32)
    matte[:, w // 2 :] = 1.0
    sky.save_matte(tmp_path / "matte.png", matte)
    argv = [command, str(tmp_path / "thin.png"), "--matte", str(tmp_path / "matte.png")]
    assert main([*argv, "-o", str(tmp_path / "out.png"), "--quiet"]) == 0, capfd.readouterr()
    assert sky.load_image(tmp_path / "out.png").shape == (h, w, 3)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stdout_is_the_full_disk_line(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_good_jpeg())
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "skyseg_core", "mask", "a.jpg", "-o", "-", "--format", "png"]
            + ["--method", "color"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "skyseg: error: -: cannot write to standard output (No space left on device: the disk "
        "is full; the image there is incomplete)"
    ]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--seed", "-1", "--size", "16x8"], "the seed must be a whole number >= 0, got -1"),
        (
            ["--size", "100x100", "--max-pixels", "5000"],
            "10,000 pixels, more than the limit of 5,000",
        ),
        (["--size", "100x100"], "more than the limit of 4,000"),  # SKYSEG_MAX_PIXELS below
    ],
)
def test_make_sky_refuses_a_negative_seed_and_a_size_over_the_pixel_limit(
    options, message, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("SKYSEG_MAX_PIXELS", "4000")
    assert main(["make-sky", "clouds", "-o", str(tmp_path / "s.png"), *options]) == 2
    (line,) = error_lines(capfd)
    assert message in line
    assert not list(tmp_path.iterdir())


def test_make_sky_takes_any_seed_numpy_takes(tmp_path):
    big = str(10**40)
    assert (
        main(["make-sky", "clouds", "-o", str(tmp_path / "s.png"), "--size", "16x8", "--seed", big])
        == 0
    )


def test_the_worker_refuses_a_number_no_float_holds_and_goes_on():
    from skyseg_core.worker import Worker, answer

    big = int("9" * 400)
    worker = Worker()
    for params in (
        {"stops": [[0, "#000000"], [big, "#ffffff"]]},
        {"stops": [[0, [big, 0, 0]], [1, "#ffffff"]]},
        {"strength": big},
    ):
        request = {"id": 7, "op": "tint", "input": "a.jpg", "output": "t.png", "params": params}
        reply, _ = answer(worker, json.dumps(request))
        assert reply["kind"] == "InputError" and reply["id"] == 7, reply
        assert "400 digits" in reply["error"]
    reply, _ = answer(worker, json.dumps({"id": 8, "op": "ping"}))
    assert reply["ok"]


def test_the_worker_quotes_a_huge_key_short():
    """A 3000-character key whose value holds a lone surrogate: the reply names the key cut
    short (it used to be quoted whole, 18 KB of JSON escapes)."""
    from skyseg_core.worker import MAX_ERROR_CHARS, Worker, answer

    line = json.dumps({"id": 1, "op": "replace", "params": {"é" * 3000: "\ud800"}})
    reply, _ = answer(Worker(), line)
    assert reply["kind"] == "InputError" and "3,000 characters" in reply["error"]
    assert len(json.dumps(reply)) < MAX_ERROR_CHARS


# -- eval ----------------------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    _write_dataset(folder, "alpha", 3, with_mattes=True)
    return folder


@pytest.mark.parametrize(
    "option",
    [
        ["--threshold", "nan"],
        ["--threshold", "inf"],
        ["--threshold", "1.5"],
        ["--threshold", "-0.1"],
        ["--tolerance", "nan"],
        ["--tolerance", "-1"],
    ],
)
def test_eval_refuses_a_threshold_or_tolerance_that_means_nothing(option, data, capfd):
    argv = ["eval", "--data", str(data), "--method", "color", "--json", *option]
    assert main(argv) == 2
    out, err = capfd.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and option[1] in err


def test_eval_names_a_truth_file_of_the_wrong_size_and_measures_the_rest(data, capfd):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(data / "alpha" / "masks" / "img0.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(data / "alpha" / "mattes" / "img1.png")
    evil = "img3\x1b[31m\u202e"  # its line shows the escapes, not a red reversed name
    (data / "alpha" / "images" / f"{evil}.jpg").write_bytes(_good_jpeg())
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(data / "alpha" / "masks" / f"{evil}.png")
    argv = ["eval", "--data", str(data), "--method", "color", "--split", "all", "--json"]
    assert main([*argv, "--quiet"]) == 2
    out, err = capfd.readouterr()
    mask_line, matte_line, evil_line = err.splitlines()
    assert str(data / "alpha" / "masks" / "img0.png") in mask_line and "8x8" in mask_line
    assert str(data / "alpha" / "mattes" / "img1.png") in matte_line
    assert "img3\\x1b[31m\\u202e.png: mask is 8x8" in evil_line
    payload = json.loads(out)
    assert payload["failed"] == 3 and payload["summaries"]["overall"]["images"] == 1


def test_eval_reads_a_mask_of_zeros_and_ones_as_one_is_sky(data, capfd):
    argv = ["eval", "--data", str(data), "--method", "color", "--split", "all", "--json", "--quiet"]
    assert main(argv) == 0
    as_255 = json.loads(capfd.readouterr().out)["summaries"]["overall"]
    for mask_path in (data / "alpha" / "masks").iterdir():
        mask = np.asarray(Image.open(mask_path))
        Image.fromarray(np.where(mask == 255, 1, mask).astype(np.uint8)).save(mask_path)
    assert main(argv) == 0
    as_01 = json.loads(capfd.readouterr().out)["summaries"]["overall"]
    assert as_01["images_with_sky"] == as_255["images_with_sky"] == 2
    assert as_01 == as_255 and math.isfinite(as_01["micro_iou"]) and as_01["micro_iou"] > 0.5


def test_a_truth_mask_of_only_zeros_and_ones_is_read_as_0_255(tmp_path):
    from skyseg_core.datasets import Sample
    from skyseg_core.evaluate import load_truth

    def truth_of(values: list[int]) -> np.ndarray:
        Image.fromarray(np.array([values], np.uint8)).save(tmp_path / "m.png")
        sample = Sample("d", "m", tmp_path / "i.jpg", tmp_path / "m.png", None, "m")
        return load_truth(sample)[0][0].tolist()

    assert truth_of([0, 1, 1, 0]) == [0, 255, 255, 0]
    assert truth_of([0, 1, 128, 1]) == [0, 255, 128, 255]
    assert truth_of([0, 1, 255, 128]) == [0, 1, 255, 128]  # a 0/255 mask with a stray 1
    assert truth_of([0, 0, 128, 0]) == [0, 0, 128, 0]


# -- special files, --format, names in messages and JSON, --name templates ---------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["replace", "a.jpg", "--sky", "{fifo}"],
        ["relight", "a.jpg", "--sky", "/dev/zero"],
        ["replace", "a.jpg", "--matte", "{fifo}"],
        ["cutout", "a.jpg", "--matte", "/dev/null"],
    ],
)
def test_a_fifo_or_device_named_as_a_side_file_is_not_a_regular_file(argv, photos, capfd):
    os.mkfifo(photos / "pipe.png")
    argv = [arg.format(fifo="pipe.png") for arg in argv]
    assert main([*argv, "--method", "color", "-o", "out.png"]) == 2
    (line,) = error_lines(capfd)
    assert line.endswith(": not a regular file (a pipe, socket or device)"), line
    assert not (photos / "out.png").exists()


def test_an_openraster_path_that_is_a_fifo_is_not_read(tmp_path):
    from skyseg_core.ora import read_ora

    os.mkfifo(tmp_path / "layers.ora")
    with pytest.raises(InputError, match="not a regular file"):
        read_ora(tmp_path / "layers.ora")  # opening the pipe would wait for a writer forever


@pytest.mark.parametrize(
    "argv",
    [
        ["mask", "--format", "png", "-o", "out.jpg"],
        ["replace", "--format", "jpg", "-o", "out.png"],
        ["cutout", "--format", "webp", "-o", "out.tiff"],
    ],
)
def test_a_format_that_contradicts_the_output_name_is_refused(argv, photos, capfd):
    before = snapshot(photos)
    assert main([argv[0], "a.jpg", *argv[1:], "--method", "color"]) == 2
    (line,) = error_lines(capfd)
    assert "contradicts" in line and "out." in line
    assert snapshot(photos) == before
    assert (
        main([argv[0], "a.jpg", "--format", argv[2], "-o", f"x.{argv[2]}", "--method", "color"])
        == 0
    )


@pytest.mark.parametrize("code", [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_bidi_controls_in_a_name_are_escaped_in_messages(code, photos, capfd):
    name = f"evil{chr(code)}gpj.jpg"
    assert main(["mask", name, "b.jpg", "--method", "color", "--out-dir", "out"]) == 2
    (line,) = error_lines(capfd)
    assert chr(code) not in line and f"evil\\u{code:04x}gpj.jpg: no such file" in line
    assert printable(chr(code)) == f"\\u{code:04x}"
    assert (photos / "out" / "b.png").is_file()


def test_json_records_of_a_name_that_is_not_utf8_parse_strictly(photos, capfd):
    raw = b"caf\xe9.jpg"  # Latin-1, not UTF-8
    (photos / os.fsdecode(raw)).write_bytes(_good_jpeg())
    missing = os.fsdecode(b"gone\xff.jpg")
    argv = ["mask", os.fsdecode(raw), missing, "--method", "color", "--json", "--out-dir", "out"]
    assert main(argv) == 2
    out, _ = capfd.readouterr()
    done, failed = (json.loads(line) for line in out.splitlines())

    def strings(value):
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        return [value] if isinstance(value, str) else []

    for record in (done, failed):
        for text in strings(record):
            text.encode("utf-8")  # a strict parser holds no lone surrogate
    assert done["input"] == "caf\\xe9.jpg" and base64.b64decode(done["input_base64"]) == raw
    assert base64.b64decode(done["output_base64"]) == b"out/caf\xe9.png"
    assert failed["ok"] is False and base64.b64decode(failed["input_base64"]) == b"gone\xff.jpg"
    assert (photos / "out" / os.fsdecode(b"caf\xe9.png")).is_file()


@pytest.mark.parametrize(
    "template",
    ["{stem.x}.png", "{stem[0]}.png", "{stem:{x}}.png", "{stem:>300}.png", "{stem!r}.png"],
)
def test_nested_or_formatted_name_fields_are_refused_before_any_work(template, photos, capfd):
    before = snapshot(photos)
    assert main(["mask", "a.jpg", "b.jpg", "--name", template, "--method", "color"]) == 2
    (line,) = error_lines(capfd)  # one line for the run, not one per input
    assert f"--name {template!r}" in line
    assert snapshot(photos) == before
