"""`skyseg mask` and `skyseg methods` through the real entry point."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import skyseg_core as sky
from skyseg_core.cli import main
from tests.conftest import synthetic_landscape


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        image, _ = synthetic_landscape(60, 80, seed=i)
        sky.save_image(folder / f"p{i}.jpg", image)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_mask_folder_writes_one_png_per_photo(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["mask", str(photos), "--out-dir", str(out), "--method", "color", "--json"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["p0.png", "p1.png", "p2.png"]
    matte = sky.load_image(out / "p0.png")
    assert matte.shape == (60, 80, 3) and matte.dtype == np.uint8
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["ok"] for r in records] == [True, True, True]


def test_bad_input_fails_alone_and_batch_continues(photos, tmp_path, capsys):
    bad = photos / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "out"
    code = main(
        [
            "mask",
            str(bad),
            str(photos / "p1.jpg"),
            str(tmp_path / "missing.jpg"),
            "--out-dir",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 2 and "broken.jpg" in err[0] and "missing.jpg" in err[1]
    assert sorted(p.name for p in out.iterdir()) == ["p1.png"]


def test_existing_output_is_kept_unless_overwrite(photos, tmp_path):
    target = tmp_path / "m.png"
    target.write_bytes(b"keep me")
    assert main(["mask", str(photos / "p0.jpg"), "-o", str(target)]) == 2
    assert target.read_bytes() == b"keep me"
    assert main(["mask", str(photos / "p0.jpg"), "-o", str(target), "--overwrite"]) == 0
    assert sky.load_matte(target).shape == (60, 80)


def test_output_equal_to_input_is_refused(photos):
    source = photos / "p0.png"
    shutil.copy(photos / "p0.jpg", source)
    before = source.read_bytes()
    assert main(["mask", str(source), "-o", str(source), "--overwrite"]) == 2
    assert source.read_bytes() == before


def test_unknown_method_is_a_usage_error(photos, capsys):
    assert main(["mask", str(photos / "p0.jpg"), "--method", "nope"]) == 2
    assert "choose one of" in capsys.readouterr().err


def test_methods_lists_every_registered_method(capsys):
    assert main(["methods", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["name"] for row in rows} == {name for name, _ in sky.list_methods()}
