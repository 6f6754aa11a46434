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
        assert "\n" not in message
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

    from skyseg_core import io as skyio

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
    from skyseg_core import io as skyio

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
