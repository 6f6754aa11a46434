"""``skyseg replace``, ``tint``, ``relight`` and ``make-sky`` end to end (small files)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import synthetic_landscape

from skyseg_core.cli import main
from skyseg_core.io import load_image, load_matte, save_image, save_matte
from skyseg_core.ora import read_ora


@pytest.fixture
def photo(tmp_path):
    image, truth = synthetic_landscape(96, 128, seed=1)
    path = save_image(tmp_path / "scene.png", image)
    return path, image, truth


def test_replace_writes_result_layers_and_matte(tmp_path, photo, capsys):
    path, image, truth = photo
    out = tmp_path / "out"
    status = main(
        [
            "replace",
            str(path),
            "--sky",
            "sunset",
            "--out-dir",
            str(out),
            "--layers",
            str(tmp_path / "x.ora"),
            "--matte-out",
            str(tmp_path / "m.png"),
            "--fade-edge",
            "0.5",
            "--color-match",
            "0.5",
            "--halo",
            "0.3",
            "--position",
            "0.4,0.5",
            "--flip",
            "--json",
        ]
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["output"].endswith("scene_replaced.png")
    result = load_image(out / "scene_replaced.png")
    assert result.shape == image.shape and not np.array_equal(result, image)
    layers = read_ora(tmp_path / "x.ora")
    assert [lay.name for lay in layers][-2:] == ["new sky", "sky matte"]
    assert np.array_equal(layers.merged, result)
    matte = load_matte(tmp_path / "m.png")
    assert matte.shape == image.shape[:2] and ((matte > 0.5) == truth).mean() > 0.9


def test_replace_reuses_a_given_matte_and_keeps_16_bit(tmp_path):
    image, truth = synthetic_landscape(64, 80, dtype=np.uint16, seed=2)
    src = save_image(tmp_path / "deep.png", image)
    matte = np.zeros(truth.shape, np.float32)
    matte[:10] = 1.0  # deliberately not the true sky: the file must be used as given
    save_matte(tmp_path / "hand.png", matte)
    assert (
        main(
            [
                "replace",
                str(src),
                "--sky",
                "storm",
                "-o",
                str(tmp_path / "r.png"),
                "--matte",
                str(tmp_path / "hand.png"),
                "--look",
                "plain",
            ]
        )
        == 0
    )
    result = load_image(tmp_path / "r.png")
    assert result.dtype == np.uint16
    assert np.array_equal(result[10:], image[10:]) and not np.array_equal(result[:10], image[:10])


def test_replace_with_sky_file_and_mismatched_matte(tmp_path, photo, capsys):
    path, image, _ = photo
    sky = save_image(tmp_path / "sky.jpg", np.full((30, 50, 3), (10, 200, 90), np.uint8))
    assert main(["replace", str(path), "--sky", str(sky), "-o", str(tmp_path / "a.jpg")]) == 0
    save_matte(tmp_path / "small.png", np.ones((10, 10), np.float32))
    status = main(
        [
            "replace",
            str(path),
            "--sky",
            "night",
            "-o",
            str(tmp_path / "b.jpg"),
            "--matte",
            str(tmp_path / "small.png"),
        ]
    )
    assert status == 2 and "must match" in capsys.readouterr().err
    assert not (tmp_path / "b.jpg").exists()


def test_existing_output_needs_overwrite(tmp_path, photo, capsys):
    path, _, _ = photo
    target = tmp_path / "r.png"
    target.write_bytes(b"keep")
    assert main(["replace", str(path), "--sky", "night", "-o", str(target)]) == 2
    assert target.read_bytes() == b"keep" and "already exists" in capsys.readouterr().err
    assert main(["replace", str(path), "--sky", "night", "-o", str(target), "--overwrite"]) == 0
    assert load_image(target).shape == (96, 128, 3)


def test_batch_goes_on_after_a_bad_input(tmp_path, photo, capsys):
    path, _, _ = photo
    folder = tmp_path / "in"
    folder.mkdir()
    save_image(folder / "a.png", load_image(path))
    (folder / "b.jpg").write_bytes(b"not an image")
    save_image(folder / "c.png", load_image(path))
    status = main(
        [
            "tint",
            str(folder),
            "--out-dir",
            str(tmp_path / "out"),
            "--layers",
            str(tmp_path / "ora") + "/",
            "--mode",
            "overlay",
            "--stops",
            "0:#ff8040,0.5:#c04080,1:#203060",
        ]
    )
    assert status == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_tinted.png", "c_tinted.png"]
    assert sorted(p.name for p in (tmp_path / "ora").iterdir()) == ["a.ora", "c.ora"]
    assert "b.jpg" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["replace", "--sky", "no_such_preset"],
        ["replace", "--sky", "sunset", "--halo", "2"],
        ["replace", "--sky", "sunset", "--position", "left"],
        ["tint", "--stops", "0:#ff0000"],
        ["tint", "--mode", "dissolve"],
        ["relight", "--sky", "not_a_sky"],
        ["relight", "--temperature", "3000", "--strength", "5"],
        ["relight", "--temperature", "300"],
        ["replace", "--sky", "sunset", "--look", "moody"],
        ["replace", "--sky", "sunset", "--all"],
    ],
)
def test_bad_options_exit_2(tmp_path, photo, args, capsys):
    path, _, _ = photo
    try:
        status = main([args[0], str(path), "-o", str(tmp_path / "o.png"), *args[1:]])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    assert status == 2
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "o.png").exists()


def test_relight_by_temperature_and_by_sky(tmp_path, photo):
    path, image, truth = photo
    assert (
        main(["relight", str(path), "-o", str(tmp_path / "warm.png"), "--temperature", "3000"]) == 0
    )
    assert (
        main(
            [
                "relight",
                str(path),
                "-o",
                str(tmp_path / "sunset.png"),
                "--sky",
                "sunset",
                "--strength",
                "0.5",
            ]
        )
        == 0
    )
    warm = load_image(tmp_path / "warm.png").astype(int)
    ground = ~truth
    assert (warm[ground][:, 0] - warm[ground][:, 2]).mean() > (
        image[ground][:, 0].astype(int) - image[ground][:, 2]
    ).mean()


def test_make_sky(tmp_path, capsys):
    target = tmp_path / "s.jpg"
    assert (
        main(
            [
                "make-sky",
                "golden_hour",
                "-o",
                str(target),
                "--size",
                "160x90",
                "--seed",
                "3",
                "--json",
            ]
        )
        == 0
    )
    assert load_image(target).shape == (90, 160, 3)
    assert json.loads(capsys.readouterr().out)["preset"] == "golden_hour"
    assert main(["make-sky", "golden_hour", "-o", str(target)]) == 2  # exists
    with pytest.raises(SystemExit) as exc:
        main(["make-sky", "rainbow", "-o", str(tmp_path / "r.jpg")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["make-sky", "sunset", "-o", str(tmp_path / "r.jpg"), "--size", "big"])
