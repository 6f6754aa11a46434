"""Memory at the pixel limit: `make-sky` sizes and standard input are bounded by the pixel limit
before anything is allocated, and the peak of the banded commands stays a few bytes per pixel
(peak RSS of a child process, as ``benchmarks/bench_peak.py`` measures it)."""

from __future__ import annotations

import numpy as np
import pytest

import skyseg_core.cutout as cutout_module
import skyseg_core.skygen as skygen
from benchmarks.bench_memory import measure
from benchmarks.bench_memory import skyseg as skyseg_measured
from skyseg_core.cli import main
from skyseg_core.io import max_file_bytes
from tests.conftest import synthetic_landscape
from tests.test_cli_files import landscape, skyseg


def test_make_sky_beyond_the_pixel_limit_is_refused_in_one_line(tmp_path, capfd, monkeypatch):
    target = tmp_path / "sky.png"
    # 268 MP, within 16384 a side but over the default 200 MP: refused before any painting
    assert main(["make-sky", "clear_day", "-o", str(target), "--size", "16384x16384"]) == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "more than the limit of 200,000,000" in lines[0], lines
    monkeypatch.setenv("SKYSEG_MAX_PIXELS", "9999")
    assert main(["make-sky", "clear_day", "-o", str(target), "--size", "100x100"]) == 2
    assert "more than the limit of 9,999" in capfd.readouterr().err
    assert not target.exists()
    assert (
        main(["make-sky", "night", "-o", str(target), "--size", "100x100", "--max-pixels", "10000"])
        == 0
    )
    assert target.is_file()


def test_stdin_with_a_huge_pixel_limit_reads_only_what_arrives(tmp_path):
    """A limit of 10^12 pixels allows 12 TB on standard input; reading it must not reserve that."""
    photo = landscape(tmp_path / "p.png").read_bytes()
    done = skyseg(
        "mask", "-", "-o", "m.png", "--method", "color", "--max-pixels", str(10**12),
        stdin=photo, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.png").is_file()


def test_stdin_over_the_bound_of_the_pixel_limit_is_refused_in_one_line(tmp_path):
    photo = landscape(tmp_path / "p.png").read_bytes()
    limit = max_file_bytes(1)  # what a one-pixel limit lets through
    data = photo + bytes(limit + 1 - len(photo))
    done = skyseg("mask", "-", "-o", "m.png", "--max-pixels", "1", stdin=data, cwd=tmp_path)
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, lines
    assert f"more than {limit:,} bytes on standard input" in lines[0]
    assert not (tmp_path / "m.png").exists()
    accepted = skyseg(
        "mask", "-", "-o", "m.png", "--method", "color", "--max-pixels", "1",
        stdin=data[:limit], cwd=tmp_path,
    )  # fmt: skip
    # as many bytes as the bound are taken; the photo is then refused by its pixels
    assert b"more than the limit of 1 " in accepted.stderr, accepted.stderr


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_cutout_in_bands_is_the_cutout_of_the_whole_photo(dtype, monkeypatch):
    """Each band is computed with the rows its box filters reach, so bands of any size give
    the same codes and foreground colours, to the bit."""
    image, truth = synthetic_landscape(150, 170, dtype=dtype, seed=2)
    rng = np.random.default_rng(2)
    matte = np.clip(truth + rng.normal(0, 0.3, truth.shape), 0, 1).astype(np.float32)
    whole = cutout_module.cutout(image, matte, radius=31)  # one band: 256 K pixels > the photo
    foreground = cutout_module.estimate_foreground(image, 1 - matte, radius=31)
    monkeypatch.setattr(cutout_module, "BAND_PIXELS", 1)  # bands of 21 rows (the filters' reach)
    assert np.array_equal(cutout_module.cutout(image, matte, radius=31), whole)
    assert np.array_equal(
        cutout_module.estimate_foreground(image, 1 - matte, radius=31), foreground
    )


@pytest.mark.parametrize("preset", skygen.SKY_PRESETS)
def test_a_sky_painted_in_bands_is_the_sky_painted_whole(preset, monkeypatch):
    whole = skygen.make_sky(preset, 97, 61, seed=4)
    monkeypatch.setattr(skygen, "SKY_BAND_PIXELS", 97 * 5)  # bands of 5 rows
    assert np.array_equal(skygen.make_sky(preset, 97, 61, seed=4), whole)


def _added_bytes_per_pixel(command, size: tuple[int, int]) -> float:
    """What a ``size`` (width, height) image adds to the peak RSS of ``skyseg
    command(width, height)``, per pixel; the same command at 64x48 gives the fixed cost."""
    peaks = []
    for width, height in ((64, 48), size):
        result = measure(skyseg_measured(*command(width, height), "--overwrite"))
        assert result["code"] == 0, result["stderr"]
        peaks.append(result["peak_mb"])
    return (peaks[1] - peaks[0]) * 2**20 / (size[0] * size[1])


@pytest.mark.slow
def test_cutout_peak_stays_a_few_bytes_per_pixel(tmp_path):
    """2400x1600: about 25 bytes a pixel measured (mostly the band work, a fixed amount);
    110 before the bands."""

    def cutout(width: int, height: int) -> list[str]:
        photo = landscape(tmp_path / f"p{width}.jpg", size=(height, width))
        return ["cutout", str(photo), "--method", "color", "-o", str(tmp_path / "c.png")]

    per_pixel = _added_bytes_per_pixel(cutout, (2400, 1600))
    assert per_pixel < 50, per_pixel


@pytest.mark.slow
def test_make_sky_peak_stays_a_few_bytes_per_pixel(tmp_path):
    """2400x1600: about 8 bytes a pixel measured; 100 before the bands."""

    def make_sky(width: int, height: int) -> list[str]:
        target = str(tmp_path / "s.jpg")
        return ["make-sky", "golden_hour", "-o", target, "--size", f"{width}x{height}"]

    per_pixel = _added_bytes_per_pixel(make_sky, (2400, 1600))
    assert per_pixel < 30, per_pixel
