"""Files and the command line as photographers use them: default and templated names,
recursive folders, pipes, a full disk, mistyped options, cut-outs, and one real-process batch
that mixes them all."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import skyseg_core as sky
from skyseg_core.cli import main
from skyseg_core.cutout import cutout
from skyseg_core.io import load_image, load_matte, read_metadata, save_image
from tests.conftest import synthetic_landscape
from tests.iccmake import ADOBE_RGB
from tests.test_files_metadata import LENS, camera_exif, pil_open

ROOT = Path(__file__).resolve().parents[1]


def landscape(path: Path, seed: int = 0, size=(60, 80)) -> Path:
    image, _ = synthetic_landscape(*size, seed=seed)
    return sky.save_image(path, image)


def skyseg(*argv: str, stdin: bytes = b"", cwd: Path | None = None, fsize: int | None = None):
    """``python -m skyseg_core`` in a real process; ``fsize`` limits every file it writes (RLIMIT_FSIZE)."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "skyseg_core", *argv],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=300,
        preexec_fn=limit,
    )


# -- names --------------------------------------------------------------------------------------


def test_mask_of_a_png_beside_it_is_stem_sky(tmp_path, capfd):
    photo = landscape(tmp_path / "pic.png")
    before = photo.read_bytes()
    assert main(["mask", str(photo), "--method", "color"]) == 0
    assert photo.read_bytes() == before
    assert sky.load_matte(tmp_path / "pic_sky.png").shape == (60, 80)
    assert main(["mask", str(photo), "--method", "color", "--out-dir", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "pic.png").is_file(), (
        "in an output folder the matte is <stem>.png (what --matte DIR reads)"
    )
    assert capfd.readouterr().err == ""


def test_name_template(tmp_path, capfd):
    photo = landscape(tmp_path / "a.jpg")
    out = tmp_path / "out"
    assert (
        main(
            [
                "mask",
                str(photo),
                "--method",
                "color",
                "--out-dir",
                str(out),
                "--name",
                "{stem}_{method}_{tag}.{ext}",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["a_color_sky.png"]
    assert main(["mask", str(photo), "--method", "color", "--name", "{stem}_{method}.png"]) == 0
    assert (tmp_path / "a_color.png").is_file()
    capfd.readouterr()
    for template, message in (
        ("{stem}_{lens}.png", "unknown field {lens}"),
        ("sub/{stem}.png", "not a path"),
        ("", "--name is empty"),
    ):
        assert main(["mask", str(photo), "--method", "color", "--name", template]) == 2
        (line,) = capfd.readouterr().err.splitlines()
        assert line.startswith("skyseg: error:") and message in line
    assert main(["mask", str(photo), "--method", "color", "--name", "same.png", "-o", "x.png"]) == 2
    assert "with -o the name is given" in capfd.readouterr().err


def test_name_template_collisions_go_through_the_plan(tmp_path, capfd):
    for i in range(2):
        landscape(tmp_path / f"p{i}.jpg", seed=i)
    code = main(
        [
            "mask",
            str(tmp_path),
            "--method",
            "color",
            "--out-dir",
            str(tmp_path / "o"),
            "--name",
            "one.png",
            "--quiet",
        ]
    )
    lines = capfd.readouterr().err.splitlines()
    assert (
        code == 2
        and len(lines) == 2
        and all("would all be written to this file" in line for line in lines)
    )
    assert not (tmp_path / "o" / "one.png").exists()


def test_recursive_mirrors_sub_folders(tmp_path, capfd):
    tree = tmp_path / "shoot"
    for rel, seed in (
        ("x.jpg", 0),
        ("day1/y.jpg", 1),
        ("day1/raw/z.png", 2),
        (".cache/hidden.jpg", 3),
    ):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        landscape(tree / rel, seed)
    out = tmp_path / "mattes"
    assert main(["mask", str(tree), "--method", "color", "--out-dir", str(out)]) == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["x.png"]
    assert "1 sub-folder(s) not read (add --recursive)" in capfd.readouterr().err
    assert (
        main(
            [
                "mask",
                str(tree),
                "-r",
                "--method",
                "color",
                "--out-dir",
                str(out),
                "--overwrite",
                "--json",
            ]
        )
        == 0
    )
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == [
        "day1/raw/z.png",
        "day1/y.png",
        "x.png",
    ]
    records = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert [Path(r["output"]).relative_to(out).as_posix() for r in records] == [
        "x.png",
        "day1/y.png",
        "day1/raw/z.png",
    ]
    # beside the inputs, in their own folders; an output folder inside the tree is not read back
    assert main(["mask", str(tree), "-r", "--method", "color", "--quiet"]) == 0
    assert (tree / "day1" / "raw" / "z_sky.png").is_file() and (
        tree / "day1" / "y_sky.png"
    ).is_file()
    inner = tree / "masks"
    assert (
        main(["mask", str(tree), "-r", "--method", "color", "--out-dir", str(inner), "--quiet"])
        == 0
    )
    assert (
        main(
            [
                "mask",
                str(tree),
                "-r",
                "--method",
                "color",
                "--out-dir",
                str(inner),
                "--overwrite",
                "--json",
                "--quiet",
            ]
        )
        == 0
    )
    inputs = [json.loads(line)["input"] for line in capfd.readouterr().out.splitlines()]
    assert inputs and not any("/masks/" in name for name in inputs)


# -- pipes --------------------------------------------------------------------------------------


def test_mask_through_pipes(tmp_path):
    photo = landscape(tmp_path / "in.jpg")
    piped = skyseg("mask", "-", "-o", "-", "--method", "color", stdin=photo.read_bytes())
    assert piped.returncode == 0 and piped.stderr == b""
    assert main(["mask", str(photo), "-o", str(tmp_path / "file.png"), "--method", "color"]) == 0
    assert piped.stdout == (tmp_path / "file.png").read_bytes(), (
        "stdout holds exactly the matte PNG"
    )
    to_file = skyseg(
        "mask",
        "-",
        "-o",
        "m.png",
        "--method",
        "color",
        "--json",
        stdin=photo.read_bytes(),
        cwd=tmp_path,
    )
    record = json.loads(to_file.stdout)
    assert record["input"] == "-" and record["output"] == "m.png" and (tmp_path / "m.png").is_file()


def test_cutout_through_pipes_with_format(tmp_path):
    photo = landscape(tmp_path / "in.jpg")
    piped = skyseg(
        "cutout",
        "-",
        "-o",
        "-",
        "--format",
        "webp",
        "--method",
        "color",
        "--quality",
        "90",
        stdin=photo.read_bytes(),
    )
    assert piped.returncode == 0 and piped.stderr == b"" and piped.stdout[8:12] == b"WEBP"
    (tmp_path / "c.webp").write_bytes(piped.stdout)
    assert np.asarray(pil_open(tmp_path / "c.webp")).shape == (60, 80, 4)


def test_pipe_usage_errors(tmp_path):
    photo = landscape(tmp_path / "in.jpg")
    for argv, message in (
        (["mask", "-", "--method", "color"], "give -o FILE, -o - (stdout) or --out-dir"),
        (["mask", "-", "-o", "-", "--json"], "--json cannot print there"),
        (["mask", "-", "-", "--out-dir", "o"], "can be given once"),
    ):
        result = skyseg(*argv, stdin=photo.read_bytes(), cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == b""
        (line,) = result.stderr.decode().splitlines()
        assert message in line
    bad = skyseg("mask", "-", "-o", "-", "--method", "color", stdin=b"<html>not a photo</html>")
    (line,) = bad.stderr.decode().splitlines()
    assert (
        bad.returncode == 2
        and bad.stdout == b""
        and line.startswith("skyseg: error: -: ")
        and "HTML" in line
    )


# -- a full disk --------------------------------------------------------------------------------


def _noise_photo(path: Path, side: int) -> Path:
    rng = np.random.default_rng(9)
    return save_image(path, rng.integers(0, 256, (side, side, 3), dtype=np.uint8))


def test_disk_full_mid_batch_costs_one_line_and_no_partial_file(tmp_path):
    """RLIMIT_FSIZE makes every write past 64 KB fail (EFBIG), as a full disk does (ENOSPC):
    the big matte is one error line, exit 2, nothing left of it; the small ones are written."""
    folder = tmp_path / "in"
    folder.mkdir()
    landscape(folder / "a.jpg", 0)
    _noise_photo(folder / "b_big.png", 900)
    landscape(folder / "c.jpg", 2)
    out = tmp_path / "out"
    result = skyseg(
        "mask",
        str(folder),
        "--out-dir",
        str(out),
        "--method",
        "color",
        "--no-refine",
        fsize=64 * 1024,
    )
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "b_big.png" in lines[0] and "nothing was written" in lines[0], lines
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"], (
        "no partial file, no .part file"
    )


# -- mistyped options -----------------------------------------------------------------------------


def test_typo_in_a_sub_command_prints_its_usage_and_a_suggestion(capfd):
    with pytest.raises(SystemExit) as stop:
        main(["mask", "x.jpg", "--metod", "color"])
    err = capfd.readouterr().err
    assert stop.value.code == 2
    assert (
        err.startswith("usage: skyseg mask ") and "did you mean --method?" in err.splitlines()[-1]
    )
    with pytest.raises(SystemExit):
        main(["maks", "x.jpg"])
    assert "did you mean mask?" in capfd.readouterr().err
    with pytest.raises(SystemExit):
        main(["cutout", "x.jpg", "--formt", "png"])
    err = capfd.readouterr().err
    assert "usage: skyseg cutout" in err and "did you mean --format?" in err


# -- cut-outs -----------------------------------------------------------------------------------


def test_cutout_alpha_is_one_minus_matte_and_metadata_is_kept(tmp_path):
    image, _ = synthetic_landscape(60, 80, seed=4)
    photo = tmp_path / "cam.jpg"
    Image.fromarray(image).save(
        photo, "JPEG", quality=95, exif=camera_exif(orientation=1).tobytes(), icc_profile=ADOBE_RGB
    )
    assert main(["mask", str(photo), "-o", str(tmp_path / "m.png"), "--method", "color"]) == 0
    assert main(["cutout", str(photo), "--matte", str(tmp_path / "m.png")]) == 0
    out = tmp_path / "cam_cutout.png"
    rgba = np.asarray(pil_open(out))
    matte = load_matte(tmp_path / "m.png")
    assert rgba.shape == (60, 80, 4)
    assert np.abs(rgba[..., 3].astype(int) - np.round((1 - matte) * 255)).max() <= 1
    solid = rgba[..., 3] == 255
    assert np.array_equal(rgba[..., :3][solid], load_image(photo)[solid]), (
        "opaque pixels keep the photo's values"
    )
    meta = read_metadata(out)
    assert meta.icc_profile == ADOBE_RGB
    assert pil_open(out).getexif().get_ifd(0x8769)[LENS] == "RF24-70mm F2.8"


def test_cutout_keeps_sixteen_bits_and_refuses_jpeg(tmp_path, capfd):
    image, _ = synthetic_landscape(40, 50, seed=1)
    photo = save_image(tmp_path / "deep.tif", image.astype(np.uint16) * 257)
    assert main(["cutout", str(photo), "--method", "color"]) == 0
    back = cv2.imread(str(tmp_path / "deep_cutout.tif"), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and back.shape == (40, 50, 4)
    assert main(["cutout", str(photo), "--method", "color", "-o", str(tmp_path / "x.jpg")]) == 2
    assert "needs transparency" in capfd.readouterr().err


def test_decontamination_removes_the_sky_from_soft_edges():
    """A soft 20-pixel edge between a red-orange foreground and a blue sky: the colours of
    half-transparent pixels come out near the foreground's, not sky-tinted."""
    H, W = 120, 160
    rows = np.arange(H, dtype=np.float32)[:, None].repeat(W, 1)
    matte = np.clip((60 - rows) / 20 + 0.5, 0, 1).astype(np.float32)
    rng = np.random.default_rng(0)
    fg = np.zeros((H, W, 3), np.float32)
    fg[..., 0], fg[..., 1] = 0.8, 0.3 + 0.1 * rng.random((H, W))
    bg = np.zeros((H, W, 3), np.float32)
    bg[..., 1], bg[..., 2] = 0.6, 0.9
    a = (1 - matte)[..., None]
    image = np.round((a * fg + (1 - a) * bg) * 255).astype(np.uint8)
    band = (matte > 0.05) & (matte < 0.95)
    raw = np.abs(image[band] / 255 - fg[band]).mean()
    clean = np.abs(cutout(image, matte)[..., :3][band] / 255 - fg[band]).mean()
    kept = np.abs(cutout(image, matte, decontaminate=False)[..., :3][band] / 255 - fg[band]).mean()
    assert raw > 0.25 and kept == pytest.approx(raw, abs=1e-3) and clean < 0.06, (raw, clean)


# -- everything at once ---------------------------------------------------------------------------


@pytest.mark.slow
def test_one_real_batch_mixes_stdin_recursion_names_failures_and_a_full_disk(tmp_path):
    tree = tmp_path / "shoot"
    (tree / "day1").mkdir(parents=True)
    landscape(tree / "a.png", 0)  # a PNG: its output must not be the input
    landscape(tree / "day1" / "b.jpg", 1)
    _noise_photo(tree / "day1" / "big.png", 900)
    (tree / "day1" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    stdin = landscape(tmp_path / "piped.jpg", 3).read_bytes()
    out = tmp_path / "out"
    result = skyseg(
        "cutout",
        "-",
        str(tree),
        "-r",
        "--out-dir",
        str(out),
        "--name",
        "{stem}_{tag}.{ext}",
        "--method",
        "color",
        "--no-refine",
        "--json",
        stdin=stdin,
        fsize=200 * 1024,
    )
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2
    assert len(lines) == 2 and "big_cutout.png" in lines[0] and "nothing was written" in lines[0]
    assert "broken.jpg" in lines[1]
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(Path(r["input"]).name, r["ok"]) for r in records] == [
        ("-", True),
        ("a.png", True),
        ("b.jpg", True),
        ("big.png", False),
        ("broken.jpg", False),
    ]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a_cutout.png", "day1/b_cutout.png", "stdin_cutout.png"]
    assert all(np.asarray(pil_open(out / name)).shape[2] == 4 for name in written)
