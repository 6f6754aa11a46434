"""Layered Photoshop files: written by write_layers, read back with psd-tools and opened in GIMP 3.

The layer stack is the one the effects build for OpenRaster (original photo, foreground light,
edge light in screen mode, new sky with the matte, a hidden matte layer); in the PSD an RGBA
layer's alpha is its layer mask.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skyseg_core.errors import OutputError
from skyseg_core.layered import write_layers
from skyseg_core.ora import Layer, read_ora
from tests.iccmake import ADOBE_RGB

psd_tools = pytest.importorskip("psd_tools")
from psd_tools import PSDImage  # noqa: E402

H, W = 36, 48


def stack(deep: bool = False) -> list[Layer]:
    rng = np.random.default_rng(5)
    photo = rng.integers(30, 200, (H, W, 3), dtype=np.uint8)
    sky = np.zeros((H, W, 3), np.uint8)
    sky[..., 2], sky[..., 0] = 230, np.linspace(40, 200, W).astype(np.uint8)[None]
    matte = np.zeros((H, W), np.uint8)
    matte[:14] = 255
    matte[14:18] = np.array([192, 128, 64, 16], np.uint8)[:, None]
    glow = np.dstack([np.full((H, W, 3), 250, np.uint8), (matte // 3).astype(np.uint8)])
    layers = [
        Layer("original photo", photo),
        Layer("colour match", photo // 2 + 60, opacity=0.4),
        Layer("edge light", glow, composite_op="svg:screen", opacity=0.5),
        Layer("new sky", np.dstack([sky, matte])),
        Layer("sky matte", np.repeat(matte[..., None], 3, axis=2), visible=False),
    ]
    if deep:
        for layer in layers:
            layer.pixels = layer.pixels.astype(np.uint16) * np.uint16(257)
    return layers


@pytest.mark.parametrize("deep", [False, True], ids=["8bit", "16bit"])
def test_psd_reads_back_with_psd_tools(tmp_path, deep):
    layers = stack(deep)
    merged = np.full((H, W, 3), 77, np.uint16 if deep else np.uint8)
    path = write_layers(tmp_path / "out.psd", layers, (W, H), merged=merged, icc_profile=ADOBE_RGB)
    psd = PSDImage.open(path)
    assert (psd.width, psd.height, psd.depth) == (W, H, 16 if deep else 8)
    got = list(psd)  # bottom to top, as given
    assert [layer.name for layer in got] == [layer.name for layer in layers]
    assert [layer.visible for layer in got] == [True, True, True, True, False]
    assert [layer.opacity for layer in got] == [255, 102, 128, 255, 255]
    assert [layer.blend_mode.name for layer in got] == [
        "NORMAL",
        "NORMAL",
        "SCREEN",
        "NORMAL",
        "NORMAL",
    ]
    assert [layer.has_mask() for layer in got] == [False, False, True, True, False]
    top = 65535.0 if deep else 255.0
    for layer, source in zip(got, layers, strict=True):
        colour = layer.numpy()[..., :3]
        assert np.abs(colour * top - source.pixels[..., :3]).max() <= (1.0 if deep else 0.5), (
            layer.name
        )
    sky_mask = np.asarray(got[3].mask.topil())
    assert np.array_equal(
        sky_mask, (layers[3].pixels[..., 3] // (257 if deep else 1)).astype(np.uint8)
    )
    assert np.abs(psd.numpy()[..., :3] * top - 77).max() <= 1.0, (
        "the flattened image is the given merged image"
    )
    assert psd.image_resources.get_data(psd_tools.constants.Resource.ICC_PROFILE) == ADOBE_RGB


def test_psd_composite_default_matches_ora_layers(tmp_path):
    layers = stack()
    path = write_layers(tmp_path / "flat.psd", layers, (W, H))
    ora = read_ora(write_layers(tmp_path / "same.ora", layers, (W, H)))
    assert [layer.name for layer in ora] == [layer.name for layer in layers]
    psd = PSDImage.open(path)
    flattened = psd.numpy()[..., :3] * 255
    assert np.abs(flattened - ora.merged[..., :3]).max() <= 1.0
    rendered = np.asarray(psd.composite(force=True))[..., :3].astype(
        float
    )  # psd-tools' own renderer
    assert np.abs(rendered - ora.merged[..., :3]).mean() < 3.0


def test_write_layers_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(OutputError, match=r"\.ora or \.psd"):
        write_layers(tmp_path / "x.tif", stack(), (W, H))
    bad = stack()
    bad[2].composite_op = "svg:plus"
    with pytest.raises(OutputError, match="no Photoshop blend mode"):
        write_layers(tmp_path / "x.psd", bad, (W, H))
    (tmp_path / "keep.psd").write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"):
        write_layers(tmp_path / "keep.psd", stack(), (W, H))
    assert (tmp_path / "keep.psd").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.psd"]


sys.path.insert(0, str(Path(__file__).parent / "hosts"))


@pytest.mark.hosts
@pytest.mark.slow
def test_gimp_opens_the_psd_with_its_layers_and_masks(tmp_path):
    """GIMP 3 (the Debian 13 chroot of scripts/setup_hosts.sh) opens the PSD: the layer stack
    top first, masks, modes, opacity, visibility, and the sky layer's mask and pixels."""
    import harness

    harness.require_hosts()
    layers = stack()
    write_layers(tmp_path / "layers.psd", layers, (W, H))
    result = _open_in_gimp(tmp_path)
    assert result["size"] == [W, H]
    got = result["stack"]
    assert [layer["name"] for layer in got] == [layer.name for layer in reversed(layers)]
    assert [layer["mask"] for layer in got] == [False, True, True, False, False]
    assert [layer["visible"] for layer in got] == [False, True, True, True, True]
    assert [layer["mode"] for layer in got][2] == "screen"
    assert [layer["opacity"] for layer in got] == [100.0, 100.0, 50.2, 40.0, 100.0]
    mask = harness.read_pgm(tmp_path / got[1]["mask_pixels"])
    assert np.abs(mask.astype(int) - layers[3].pixels[..., 3]).max() <= 1
    sky = _read_ppm(tmp_path / got[1]["pixels"])
    assert np.abs(sky.astype(int) - layers[3].pixels[..., :3]).max() <= 1
    photo = _read_ppm(tmp_path / got[4]["pixels"])
    assert np.array_equal(photo, layers[0].pixels)


def _open_in_gimp(tmp_path: Path) -> dict:
    """GIMP 3 opens tmp_path/layers.psd (tests/hosts/gimp_psd.py); what it read, as a dict."""
    import harness

    cmd = [
        str(harness.ROOT / "scripts" / "in_chroot.sh"),
        "--bind",
        f"{tmp_path}:/e2e",
        "env",
        "HOME=/e2e",
        "SKYSEG_E2E_DIR=/e2e",
        "gimp-console-3.0",
        "-i",
        "--batch-interpreter=python-fu-eval",
        "-b",
        'exec(open("/skyseg/tests/hosts/gimp_psd.py").read())',
        "--quit",
    ]
    log = tmp_path / "gimp.log"
    with open(log, "wb") as fh:
        subprocess.run(
            cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=600, env=dict(os.environ), check=False
        )
    return harness.load_result(tmp_path, "psd.json", log)


@pytest.mark.hosts
@pytest.mark.slow
def test_gimp_opens_the_psd_that_skyseg_replace_writes(tmp_path):
    """The command a user runs: `skyseg replace photo --layers out.psd`, then open it in GIMP 3."""
    import harness
    from conftest import synthetic_landscape

    from skyseg_core.cli import main
    from skyseg_core.io import load_image, save_image

    harness.require_hosts()
    image, _ = synthetic_landscape(60, 80, seed=8)
    photo = save_image(tmp_path / "photo.png", image)
    assert (
        main(
            [
                "replace",
                str(photo),
                "--sky",
                "sunset",
                "--method",
                "color",
                "-o",
                str(tmp_path / "out.png"),
                "--layers",
                str(tmp_path / "layers.psd"),
            ]
        )
        == 0
    )
    names = [layer.name for layer in PSDImage.open(tmp_path / "layers.psd")]
    assert names == ["original photo", "foreground light", "edge light", "new sky", "sky matte"]
    result = _open_in_gimp(tmp_path)
    assert result["size"] == [80, 60]
    got = result["stack"]
    assert [layer["name"] for layer in got] == names[::-1]
    assert [layer["visible"] for layer in got] == [False, True, True, True, True]
    assert [layer["mask"] for layer in got][1] is True  # the new sky's matte is its layer mask
    assert np.array_equal(_read_ppm(tmp_path / got[-1]["pixels"]), load_image(photo))


def _read_ppm(path: Path) -> np.ndarray:
    magic, size, _maxval, data = path.read_bytes().split(b"\n", 3)
    width, height = map(int, size.split())
    return np.frombuffer(data, np.uint8).reshape(height, width, 3)
