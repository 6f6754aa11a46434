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
