"""OpenRaster output: the zip layout GIMP and Krita expect, and a round trip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import cv2
import numpy as np
import pytest
from conftest import synthetic_landscape

from skyseg_core.effects import relight_layers, replace_preset, replace_sky_layers, tint_sky_layers
from skyseg_core.errors import InputError, OutputError
from skyseg_core.ora import Layer, composite, read_ora, write_ora
from skyseg_core.skygen import make_sky


def _layers(h=30, w=40):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    rgba = np.dstack(
        [
            np.full((h, w, 3), (250, 120, 30), np.uint8),
            np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0),
        ]
    )
    matte = np.repeat(np.linspace(0, 255, h, dtype=np.uint8)[:, None, None], w, 1).repeat(3, 2)
    return [
        Layer("photo", photo),
        Layer("sky & <glow>", rgba, opacity=0.8, composite_op="svg:screen"),
        Layer("matte", matte, visible=False),
    ]


def test_zip_layout(tmp_path):
    path = write_ora(tmp_path / "a.ora", _layers(), (40, 30))
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "mimetype"
        assert infos[0].compress_type == zipfile.ZIP_STORED and not infos[0].extra
        assert zf.read("mimetype") == b"image/openraster"
        names = set(zf.namelist())
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= names
        root = ET.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and (root.get("w"), root.get("h")) == ("40", "30")
        nodes = root.find("stack").findall("layer")
        assert [n.get("name") for n in nodes] == ["matte", "sky & <glow>", "photo"]  # top first
        assert nodes[0].get("visibility") == "hidden" and nodes[2].get("visibility") == "visible"
        assert nodes[1].get("composite-op") == "svg:screen" and float(
            nodes[1].get("opacity")
        ) == pytest.approx(0.8)
        for node in nodes:
            png = cv2.imdecode(
                np.frombuffer(zf.read(node.get("src")), np.uint8), cv2.IMREAD_UNCHANGED
            )
            assert png.shape[:2] == (30, 40)
        merged = cv2.imdecode(
            np.frombuffer(zf.read("mergedimage.png"), np.uint8), cv2.IMREAD_UNCHANGED
        )
        assert merged.shape[:2] == (30, 40)
        thumb = cv2.imdecode(
            np.frombuffer(zf.read("Thumbnails/thumbnail.png"), np.uint8), cv2.IMREAD_UNCHANGED
        )
        assert max(thumb.shape[:2]) <= 256
    # the bytes start with the stored mimetype, which is how file(1) and hosts sniff the format
    assert path.read_bytes()[30 : 38 + 16] == b"mimetypeimage/openraster"


def test_round_trip(tmp_path):
    layers = _layers()
    back = read_ora(write_ora(tmp_path / "a.ora", layers, (40, 30)))
    assert back.size == (40, 30) and back.merged is not None
    assert [lay.name for lay in back] == [lay.name for lay in layers]
    for a, b in zip(layers, back, strict=True):
        assert np.array_equal(a.pixels, b.pixels)
        assert (a.visible, a.composite_op) == (b.visible, b.composite_op)
        assert a.opacity == pytest.approx(b.opacity, abs=1e-4)


def test_16_bit_layers_stay_16_bit(tmp_path):
    image, _ = synthetic_landscape(20, 30, dtype=np.uint16)
    back = read_ora(write_ora(tmp_path / "d.ora", [Layer("deep", image)], (30, 20)))
    assert back[0].pixels.dtype == np.uint16 and np.array_equal(back[0].pixels, image)
    assert back.merged.dtype == np.uint16


def test_composite_src_over_and_hidden_layers():
    base = np.full((2, 2, 3), 100, np.uint8)
    top = np.dstack([np.full((2, 2, 3), 200, np.uint8), np.full((2, 2), 128, np.uint8)])
    out = composite(
        [
            Layer("b", base),
            Layer("t", top),
            Layer("x", np.zeros((2, 2, 3), np.uint8), visible=False),
        ],
        (2, 2),
    )
    np.testing.assert_allclose(out[..., 0], (100 + (200 - 100) * 128 / 255) / 255, atol=1e-5)
    assert np.all(out[..., 3] == 1.0)


def test_refuses_to_overwrite_and_leaves_no_partial_file(tmp_path):
    path = write_ora(tmp_path / "a.ora", _layers(), (40, 30))
    with pytest.raises(OutputError):
        write_ora(path, _layers(), (40, 30))
    bad = [Layer("float", np.zeros((30, 40, 3), np.float32))]
    with pytest.raises(OutputError):
        write_ora(tmp_path / "b.ora", bad, (40, 30))
    with pytest.raises(OutputError):
        write_ora(tmp_path / "c.png", _layers(), (40, 30))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ora"]


def test_read_rejects_non_ora(tmp_path):
    (tmp_path / "x.ora").write_bytes(b"not a zip")
    with pytest.raises(InputError):
        read_ora(tmp_path / "x.ora")
    with zipfile.ZipFile(tmp_path / "y.ora", "w") as zf:
        zf.writestr("stack.xml", "<image/>")
    with pytest.raises(InputError):
        read_ora(tmp_path / "y.ora")
    with pytest.raises(InputError):
        read_ora(tmp_path / "missing.ora")


def _rmse(a, b):
    return float(np.sqrt(((a.astype(float) - b.astype(float)) ** 2).mean()))


def test_replacement_layers_rebuild_the_result(tmp_path):
    """Original, foreground light, edge light (screen), new sky (matte in alpha), hidden matte:
    compositing the layers as a viewer does gives the result (up to sRGB vs linear mixing)."""
    image, truth = synthetic_landscape(60, 80, seed=2)
    matte = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 1.0)
    raw = replace_preset("plain", cleanup=0.0)  # the engine's alpha against the given matte
    result, layers = replace_sky_layers(
        image, matte, make_sky("sunset", 120, 68), raw, color_match=0.7, halo=0.7
    )
    assert [lay.name for lay in layers] == [
        "original photo",
        "foreground light",
        "edge light",
        "new sky",
        "sky matte",
    ]
    assert np.array_equal(layers[0].pixels, image)
    sky = layers[3].pixels
    assert sky.shape == (60, 80, 4)
    alpha, given = sky[..., 3].astype(int), np.round(matte * 255).astype(int)
    # the alpha used: the matte, raised where edge pixels look like the old sky
    assert np.all(alpha >= given - 1) and np.all(alpha[matte == 0] == 0)
    assert not layers[4].visible
    back = read_ora(write_ora(tmp_path / "r.ora", layers, (80, 60), merged=result))
    assert np.array_equal(back.merged, result)
    rebuilt = np.round(composite(back, (80, 60))[..., :3] * 255)
    assert _rmse(rebuilt, result) < 4.0


def test_tint_and_relight_layers(tmp_path):
    image, truth = synthetic_landscape(60, 80, seed=2)
    matte = truth.astype(np.float32)
    for mode in ("soft_light", "multiply", "color"):
        # full strength: a viewer mixes a layer's opacity in sRGB, the effect in linear light
        result, layers = tint_sky_layers(image, matte, mode=mode, strength=1.0)
        rebuilt = np.round(composite(layers, (80, 60))[..., :3] * 255)
        assert _rmse(rebuilt, result) < 3.0, mode
    result, layers = relight_layers(image, matte, 3000)
    assert [lay.name for lay in layers] == ["original photo", "relight", "sky matte"]
    rebuilt = np.round(composite(layers, (80, 60))[..., :3] * 255)
    assert _rmse(rebuilt, result) < 3.0
    assert read_ora(write_ora(tmp_path / "t.ora", layers, (80, 60), merged=result))[
        1
    ].pixels.shape == (60, 80, 4)
