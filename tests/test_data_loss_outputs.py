"""Issue 22's data-loss classes, each with the hostile input built here.

- ``replace --sky FOLDER --all``: skies sharing a stem get distinct output names, and each sky's
  outputs are a unit of their own (an unreadable sky costs that variant only).
- A photo oriented by XMP alone comes out upright, and its XMP says so.
- ``eval --report DIR`` never writes over a file it did not make.
- A termination signal at any moment of an atomic write leaves no ``.part`` file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from skyseg_core.cli import main
from skyseg_core.io import load_image, load_matte, save_image, save_matte
from skyseg_core.outputs import distinct_names
from tests.corpus import snapshot


def _photo_and_matte(folder):
    image = np.zeros((60, 80, 3), np.uint8)
    image[:25] = (120, 160, 220)
    image[25:] = (40, 80, 30)
    matte = np.zeros((60, 80), np.float32)
    matte[:25] = 1.0
    save_image(folder / "p.jpg", image)
    save_matte(folder / "m.png", matte)
    return folder / "p.jpg", folder / "m.png"


def _sky(path, colour):
    save_image(path, np.full((40, 60, 3), colour, np.uint8))


def _replace_all(photo, matte, skies, *extra):
    return main(
        ["replace", str(photo), "--matte", str(matte), "--sky", str(skies), "--all", *extra]
    )


# -- replace --all: one output name per sky, one unit per sky ---------------------------------


def test_distinct_names_keep_stems_and_split_clashes():
    assert distinct_names(["sunset.jpg", "dusk.png"]) == ["sunset", "dusk"]
    assert distinct_names(["a.jpg", "a.png", "b.jpg"]) == ["a_jpg", "a_png", "b"]
    # a file system that ignores case would make A and a one file
    assert distinct_names(["A.jpg", "a.png"]) == ["A_jpg", "a_png"]
    # a name still taken after the split is numbered
    assert distinct_names(["a.jpg", "a.png", "a_jpg.tif"]) == ["a_jpg", "a_png", "a_jpg-2"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_skies_with_one_stem_each_get_their_own_output(overwrite, tmp_path, capfd):
    photo, matte = _photo_and_matte(tmp_path)
    skies = tmp_path / "skies"
    skies.mkdir()
    _sky(skies / "a.jpg", (230, 120, 40))
    _sky(skies / "a.png", (40, 120, 230))
    extra = ["--overwrite"] if overwrite else []
    assert _replace_all(photo, matte, skies, *extra) == 0, capfd.readouterr().err
    warm = load_image(tmp_path / "p_replaced_a_jpg.jpg")[5:20].mean(axis=(0, 1))
    cool = load_image(tmp_path / "p_replaced_a_png.jpg")[5:20].mean(axis=(0, 1))
    assert warm[0] > warm[2] and cool[2] > cool[0], "each output holds its own sky"


def test_an_unreadable_sky_costs_only_its_variant(tmp_path, capfd):
    photo, matte = _photo_and_matte(tmp_path)
    skies = tmp_path / "skies"
    skies.mkdir()
    _sky(skies / "a.jpg", (230, 120, 40))
    (skies / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not a sky")
    _sky(skies / "c.png", (40, 120, 230))
    code = _replace_all(photo, matte, skies, "--json")
    out, err = capfd.readouterr()
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("skyseg: error: ") and "p_replaced_b.jpg" in line and "b.png" in line
    assert (tmp_path / "p_replaced_a.jpg").is_file() and (tmp_path / "p_replaced_c.jpg").is_file()
    assert not (tmp_path / "p_replaced_b.jpg").exists()
    (record,) = [json.loads(text) for text in out.splitlines()]
    assert record["ok"] is False
    assert [entry["variant"] for entry in record["done"]["outputs"]] == ["a", "c"]


def test_an_existing_output_costs_only_its_variant(tmp_path, capfd):
    photo, matte = _photo_and_matte(tmp_path)
    skies = tmp_path / "skies"
    skies.mkdir()
    _sky(skies / "a.jpg", (230, 120, 40))
    _sky(skies / "b.jpg", (40, 120, 230))
    (tmp_path / "p_replaced_a.jpg").write_bytes(b"the user's own file")
    before = snapshot(tmp_path)
    assert _replace_all(photo, matte, skies, "--matte-out", str(tmp_path / "used.png")) == 2
    (line,) = capfd.readouterr().err.splitlines()
    assert "p_replaced_a.jpg" in line and "already exists" in line
    assert (tmp_path / "p_replaced_a.jpg").read_bytes() == b"the user's own file"
    made = set(snapshot(tmp_path)) - set(before)
    assert made == {"p_replaced_b.jpg", "used.png"}, "the side matte comes with the first variant"


# -- an orientation given only in XMP ---------------------------------------------------------

_XMP_TURNED = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    b'tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_xmp_orientation_is_applied_once(suffix, tmp_path, capfd):
    from skyseg_core.metadata import PhotoMetadata, read_metadata

    stored = np.zeros((80, 60, 3), np.uint8)  # stored on its side: 60 wide, 80 high
    stored[:, 35:] = (120, 160, 220)  # the sky, at the right until turned by 90 degrees
    stored[:, :35] = (40, 80, 30)
    photo = tmp_path / f"p{suffix}"
    save_image(photo, stored, metadata=PhotoMetadata(xmp=_XMP_TURNED))
    upright = load_image(photo)
    assert upright.shape == (60, 80, 3), "the XMP orientation is applied on load"
    matte = np.zeros((60, 80), np.float32)
    matte[:25] = 1.0
    save_matte(tmp_path / "m.png", matte)
    out = tmp_path / f"out{suffix}"
    code = main(["replace", str(photo), "--matte", str(tmp_path / "m.png"), "-o", str(out)])
    assert code == 0, capfd.readouterr().err
    assert load_image(out).shape == upright.shape, "the output turned a second time"
    xmp = read_metadata(out).xmp
    assert b'tiff:Orientation="1"' in xmp and b"rdf:Description" in xmp, "the rest of XMP kept"


# -- eval --report: every file the report writes is planned -----------------------------------


def _eval(data, report, *extra):
    return main(
        ["eval", "--data", str(data), "--method", "color", "--split", "all"]
        + ["--report", str(report), "--quiet", *extra]
    )


def test_eval_report_refuses_any_file_it_would_write(tmp_path, capfd):
    pytest.importorskip("matplotlib")
    from tests.test_evaluate import _write_dataset

    data = tmp_path / "data"
    _write_dataset(data, "alpha", 3)
    report = tmp_path / "report"
    report.mkdir()
    for name in ("iou_histogram.png", "worst_02.jpg"):
        (report / name).write_bytes(b"the user's own " + name.encode())
    before = snapshot(tmp_path)
    assert _eval(data, report) == 2
    (line,) = capfd.readouterr().err.splitlines()
    assert "iou_histogram.png" in line and "--overwrite" in line
    assert snapshot(tmp_path) == before, "nothing is written when one file is refused"
    assert _eval(data, report, "--overwrite") == 0, capfd.readouterr().err
    assert (report / "report.md").is_file()
    assert (report / "iou_histogram.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_report_never_writes_over_the_data(tmp_path, capfd):
    pytest.importorskip("matplotlib")
    from tests.test_evaluate import _write_dataset

    data = tmp_path / "data"
    _write_dataset(data, "alpha", 3)
    images = data / "alpha" / "images"
    (images / "img0.jpg").rename(images / "worst_01.jpg")  # an image named as a report picture
    (data / "alpha" / "masks" / "img0.png").rename(data / "alpha" / "masks" / "worst_01.png")
    before = snapshot(tmp_path)
    assert _eval(data, images, "--overwrite") == 2
    (line,) = capfd.readouterr().err.splitlines()
    assert "worst_01.jpg" in line and "input" in line
    assert snapshot(tmp_path) == before


# -- a termination signal at any moment of an atomic write ------------------------------------


def _write_pair(folder):
    """What an effect writes: a result and its matte, all together or not at all."""
    from skyseg_core.io import all_or_nothing

    image = np.random.default_rng(0).integers(0, 255, (32, 48, 3), np.uint8)
    with all_or_nothing():
        save_image(folder / "out.png", image)
        save_matte(folder / "matte.png", np.ones((32, 48), np.float32))


def _write_lines(signal_at: int | None) -> tuple[int, bool]:
    """Run :func:`_write_pair`, sending SIGTERM to this process at line event ``signal_at`` of
    skyseg's writing code (the io package and _signals.py). Returns (events seen, whether it
    ended by the signal)."""
    import os
    import signal
    from pathlib import Path

    from skyseg_core import _signals, io

    files = {str(p) for p in Path(io.__file__).parent.glob("*.py")} | {_signals.__file__}
    seen = 0

    def local(frame, event, arg):
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == signal_at:
                os.kill(os.getpid(), signal.SIGTERM)  # handled at the next check: this line
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    return tracer, lambda: seen


# an interrupt between open() and its ``with`` leaves the file object to the garbage collector,
# which closes it (and says so): an open file of a process that is ending, not a file on disk
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_sigterm_at_every_line_of_a_write_leaves_no_part_file(tmp_path):
    """The signal handler raises at whichever line runs: just after a .part file is made, at
    the ``try`` of a group's publishing... The files are registered as they are created, and
    whatever an interrupt leaves is removed on the way out."""
    import contextvars
    import sys

    from skyseg_core._signals import Terminated, signals_as_interrupt

    previous = sys.gettrace()
    tracer, seen = _write_lines(None)
    sys.settrace(tracer)
    try:
        _write_pair(tmp_path)
    finally:
        sys.settrace(previous)
    total = seen()
    assert total > 50
    interrupted = 0

    def attempt(folder, tracer) -> bool:
        try:
            with signals_as_interrupt():
                sys.settrace(tracer)
                try:
                    _write_pair(folder)
                finally:
                    sys.settrace(previous)
        except Terminated:
            return True
        return False

    for at in range(1, total + 1):
        folder = tmp_path / f"at{at}"
        folder.mkdir()
        tracer, _ = _write_lines(at)
        # in a context of its own: an interrupt inside a ``finally`` may leave the group of
        # writes set in it, which matters to a process going on (this one), not to one ending
        interrupted += contextvars.copy_context().run(attempt, folder, tracer)
        left = sorted(p.name for p in folder.iterdir())
        assert not [name for name in left if name.endswith(".part")], (at, left)
        assert left in ([], ["matte.png", "out.png"]), (at, left)
    assert interrupted > total // 2


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1, 0.3])
def test_sigterm_while_a_large_png_is_written_leaves_no_part_file(delay, tmp_path):
    """A real process writing a large PNG (and its matte, all or nothing), killed from outside
    ``delay`` seconds after its first ``.part`` file appears."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.corpus import ROOT_DIR

    rng = np.random.default_rng(1)
    save_image(tmp_path / "big.png", rng.integers(0, 255, (1800, 2400, 3), np.uint8))
    matte = np.zeros((1800, 2400), np.float32)
    matte[:700] = 1.0
    save_matte(tmp_path / "m.png", matte)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["replace", str(tmp_path / "big.png"), "--matte", str(tmp_path / "m.png")]
    argv += ["-o", str(out / "r.png"), "--matte-out", str(out / "used.png"), "--quiet"]
    process = subprocess.Popen(
        [sys.executable, "-m", "skyseg_core", *argv],
        cwd=ROOT_DIR,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT_DIR)},
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if any(name.endswith(".part") for name in os.listdir(out)):
            break
        time.sleep(0.001)
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    left = sorted(os.listdir(out))
    assert not [name for name in left if name.endswith(".part")], (left, err)
    # 143: stopped; 0 or killed by the signal's default action after the handlers were
    # restored: the work was done before the signal came. Either way all or nothing: a signal
    # between the last publication and the exit (143) finds both files whole.
    assert process.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM), err
    stopped = process.returncode == 128 + signal.SIGTERM
    assert left in ([[], ["r.png", "used.png"]] if stopped else [["r.png", "used.png"]]), err
    if left:
        assert load_image(out / "r.png").shape == (1800, 2400, 3)
        assert np.array_equal(load_matte(out / "used.png") > 0.5, matte > 0.5)
