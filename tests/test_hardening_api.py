"""Every corpus case through the Python API: load_image -> segment -> save_matte.

Either a matte of the expected size is written, or one typed SkysegError naming the file is
raised; the input stays byte-identical and no partial or temporary file is left behind.
"""

from __future__ import annotations

import numpy as np
import pytest

import skyseg_core as sky
from tests.corpus import (
    CASES,
    jpeg_with_exif,
    matches_orientation_pattern,
    orientation_pattern,
    snapshot,
    stored_for_orientation,
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_api_survives(case, tmp_path, monkeypatch):
    job = case.prepare(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    try:
        image = sky.load_image(job.input, max_pixels=job.max_pixels)
        matte = sky.segment(image, method=job.method)
        sky.save_matte(job.output, matte, overwrite=job.overwrite, source=job.input)
    except sky.SkysegError as exc:
        assert not case.ok, f"unexpected error: {exc}"
        assert type(exc).__name__ == case.error, f"{type(exc).__name__}: {exc}"
        message = str(exc)
        assert "\n" not in message.replace(
            job.mentioned, ""
        )  # one line (a file name may hold anything)
        assert job.mentioned in message
        if case.match:
            assert case.match in message
        job.check_files(before, produced=False)
        return
    assert case.ok, f"expected {case.error}, got a matte"
    assert image.dtype == np.dtype(case.dtype) and image.shape == (*case.shape, 3)
    if case.check is not None:
        assert case.check(image), "loaded pixels are not what was written"
    job.check_files(before, produced=True)
    back = sky.load_matte(job.output)
    assert back.shape == case.shape
    assert np.abs(back - matte).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_cases_are_not_vacuous(orientation):
    """The stored pixels differ from the pattern (except for 1), and Pillow's own
    exif_transpose agrees that the file displays the pattern: an independent reference."""
    import io

    from PIL import Image, ImageOps

    stored = stored_for_orientation(orientation_pattern(), orientation)
    assert matches_orientation_pattern(stored) == (orientation == 1)
    with Image.open(io.BytesIO(jpeg_with_exif(stored, orientation))) as img:
        upright = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    assert matches_orientation_pattern(upright)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_write_leaves_nothing(tmp_path, monkeypatch, failure):
    """A full disk (OutputError) or Ctrl-C (passes through) while writing: no file, no .part."""
    import os

    from skyseg_core.io import atomic as skyio  # the module that writes and calls os.fsync

    existing = tmp_path / "kept.png"
    sky.save_matte(existing, np.zeros((4, 5), np.float32))
    before = existing.read_bytes()

    def broken_fsync(fd):
        raise failure

    monkeypatch.setattr(skyio.os, "fsync", broken_fsync)
    expected = sky.OutputError if isinstance(failure, OSError) else KeyboardInterrupt
    for target, overwrite in ((tmp_path / "new.png", False), (existing, True)):
        with pytest.raises(expected) as info:
            sky.save_matte(target, np.ones((4, 5), np.float32), overwrite=overwrite)
        if expected is sky.OutputError:
            assert str(target) in str(info.value) and "No space left" in str(info.value)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["kept.png"]
    assert existing.read_bytes() == before


def test_no_overwrite_never_replaces_a_file_that_appears_during_the_write(tmp_path, monkeypatch):
    """Without overwrite, a file created by someone else while we encode is kept (hard-link publish)."""
    from skyseg_core.io import atomic as skyio  # the module that writes and calls os.fsync

    target = tmp_path / "race.png"
    real_fsync = skyio.os.fsync

    def fsync_then_race(fd):
        real_fsync(fd)
        target.write_bytes(b"theirs")

    monkeypatch.setattr(skyio.os, "fsync", fsync_then_race)
    with pytest.raises(sky.OutputError, match="already exists"):
        sky.save_matte(target, np.ones((4, 5), np.float32))
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["race.png"]


def test_pillow_bomb_limit_never_overrides_ours(tmp_path, monkeypatch):
    """A valid 181 MP TIFF was refused as corrupt: Pillow's own limit (179 MP), checked again
    while loading TIFF tiles and GIF frames, won over skyseg's 200 MP. Scaled down here: with
    Pillow's limit at 1,000 pixels every good corpus image still loads, and it is restored."""
    from PIL import Image

    from tests.corpus import BATCHABLE

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for case in BATCHABLE:
        if case.ok and case.shape is not None:
            job = case.prepare(tmp_path / case.name)
            assert sky.load_image(job.input).shape[:2] == case.shape, case.name
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_nan_images_are_refused_by_every_entry_point():
    """segment refused NaN only when refining; the raw methods and the effects took it."""
    from skyseg_core.effects import relight, replace_sky, tint_sky

    image = np.full((8, 8, 3), 0.5, np.float32)
    image[2, 3, 1] = np.nan
    matte = np.full((8, 8), 0.5, np.float32)
    sky_image = np.full((8, 8, 3), 0.7, np.float32)
    calls = {
        "segment(refine=False)": lambda: sky.segment(image, method="color", refine=False),
        "segment": lambda: sky.segment(image, method="color"),
        "replace_sky": lambda: replace_sky(image, matte, sky_image),
        "relight": lambda: relight(image, matte, 3200.0),
        "tint_sky": lambda: tint_sky(image, matte),
        "inf": lambda: sky.segment(
            np.full((8, 8, 3), np.inf, np.float32), method="color", refine=False
        ),
    }
    for name, call in calls.items():
        with pytest.raises(sky.InputError, match="NaN or infinite"):
            call()
            pytest.fail(f"{name} accepted a NaN image")


@pytest.mark.parametrize(
    ("data", "called"),
    [
        (b"\x00\x01\x02binary\x00\x00" * 40, "not an image file"),
        (bytes(range(1, 128)) * 3, "not an image file"),
        ("Grüße aus dem Tal, ".encode() * 30, "a text file"),
        (b"plain text\r\n\tindented\f" * 20, "a text file"),
    ],
)
def test_binary_files_are_not_called_text(data, called):
    with pytest.raises(sky.InputError, match=called):
        sky.io.decode_image(data, "x.bin")


def test_all_or_nothing_writes_every_output_or_none(tmp_path):
    """An input's outputs (result, layers, matte) appear together: a failure after the first
    was written, or a file appearing in the way of the second, leaves none and no .part file."""
    from skyseg_core.io import all_or_nothing

    image = np.zeros((4, 4, 3), np.uint8)
    matte = np.zeros((4, 4), np.float32)
    with pytest.raises(RuntimeError), all_or_nothing():
        sky.save_image(tmp_path / "a.png", image)
        raise RuntimeError("the second output failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(sky.OutputError, match="already exists"), all_or_nothing():
        sky.save_image(tmp_path / "a.png", image)
        sky.save_matte(tmp_path / "b.png", matte)
        (tmp_path / "b.png").write_bytes(
            b"appeared meanwhile"
        )  # after the checks, before publishing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png"]
    assert (tmp_path / "b.png").read_bytes() == b"appeared meanwhile"
    with all_or_nothing():
        sky.save_image(tmp_path / "c.png", image)
        sky.save_matte(tmp_path / "d.png", matte)
        assert not (tmp_path / "c.png").exists()  # held back until the block ends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "c.png", "d.png"]
