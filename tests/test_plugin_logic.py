"""The Krita plug-in's logic and adapter against a fake ``krita`` module, and `skyseg install-plugin`.

The real worker runs (this venv's Python); only Krita is replaced (tests/fake_krita/krita.py).
The real hosts are driven by tests/test_hosts_*.py.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import sys
import types

import numpy as np
import pytest
from conftest import ROOT, synthetic_landscape
from PIL import Image

from skyseg_core import effects
from skyseg_core.cli import main as cli_main
from skyseg_core.cli.install_plugin import enable_in_kritarc, install
from skyseg_core.effects.params import REPLACE_PRESETS, ReplaceParams, TintParams, replace_preset
from skyseg_core.errors import InputError
from skyseg_core.io import load_image, save_image, save_matte
from skyseg_core.ora import Layer, composite
from skyseg_core.segment import segment
from skyseg_core.skygen import load_sky
from skyseg_core.worker import PROTOCOL_VERSION
from skyseg_core.worker import schema as worker_schema

WORKER = [sys.executable, "-m", "skyseg_core", "worker"]


@pytest.fixture(scope="module")
def pykrita(tmp_path_factory):
    """The plug-in as `skyseg install-plugin krita` installs it (client, worker config, schema)."""
    dest = tmp_path_factory.mktemp("pykrita")
    install("krita", dest=dest, kritarc=dest / "kritarc")
    return dest


@pytest.fixture
def krita_plugin(monkeypatch, pykrita):
    """Import the installed plug-in with the fake ``krita`` module; yields (krita, skyseg_krita package)."""
    monkeypatch.setenv("SKYSEG_WORKER_LOG", str(pykrita / "worker.log"))
    for folder in (ROOT / "tests" / "fake_krita", pykrita):
        monkeypatch.syspath_prepend(str(folder))
    for name in [m for m in sys.modules if m == "krita" or m.startswith("skyseg_krita")]:
        monkeypatch.delitem(sys.modules, name)
    krita = importlib.import_module("krita")
    monkeypatch.setattr(krita.Krita, "_instance", None)
    package = importlib.import_module("skyseg_krita")
    yield krita, package
    package.extension.stop_worker()
    for name in [
        m
        for m in sys.modules
        if m == "krita" or m.startswith("skyseg_krita") or m.split(".")[0] == "skyseg_client"
    ]:
        sys.modules.pop(name, None)


def rgb_to_bgra(rgb):
    h, w, _ = rgb.shape
    out = np.full((h, w, 4), 255, np.uint8)
    out[..., :3] = rgb[..., ::-1]
    return out.tobytes()


def make_doc(krita, rgb, api_version="5.2", above_name=None):
    """A document with one paint layer "photo" holding ``rgb`` (and optionally a layer above it)."""
    h, w, _ = rgb.shape
    doc = krita.Document(w, h, api_version)
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    photo.setPixelData(rgb_to_bgra(rgb), 0, 0, w, h)
    if above_name:
        doc.rootNode().addChildNode(doc.createNode(above_name, "paintlayer"), photo)
    doc.setActiveNode(photo)
    krita.Krita.instance().document = doc
    return doc, photo


@pytest.fixture
def landscape_rgb():
    return synthetic_landscape(60, 80)[0]


def core_matte_bytes(rgb, tmp_path):
    path = save_image(tmp_path / "core.png", rgb, overwrite=True)
    return np.round(segment(load_image(path), method="color") * 255).astype(np.uint8)


def test_plugin_registers_extension_and_docker(krita_plugin):
    krita, package = krita_plugin
    app = krita.Krita.instance()
    assert app.extensions == [package.extension]
    assert [f.name for f in app.docker_factories] == ["skyseg_docker"]
    names = [a[0] for a in package.extension.actions_list()]  # made from the schema
    assert names == [
        "skyseg_create_mask",
        "skyseg_select_sky",
        "skyseg_cut_out_sky",  # the schema's RGBA step, next to the mask actions
        "skyseg_replace_sky",
        "skyseg_tint_sky",
        "skyseg_relight",
        "skyseg_save_mask",
    ]


@pytest.mark.parametrize("decontaminate", [True, False])
def test_cut_out_sky_adds_the_cores_cutout_above_the_photo(
    krita_plugin, landscape_rgb, tmp_path, monkeypatch, decontaminate
):
    """Cut out sky: a new layer "Photo without sky" above the photo holding `skyseg cutout`'s
    picture (colours and alpha, read back from the worker's PNG), the photo untouched."""
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb, above_name="notes")
    before = photo.pixelData(0, 0, 80, 60)
    ext = package.extension
    ext.settings.method = "color"
    ext.settings.set("cutout", "decontaminate", decontaminate)
    assert ext.run("cut_out_sky"), ext.last_error
    assert [n.name() for n in doc.rootNode().childNodes()] == [
        "photo",
        "Photo without sky",
        "notes",
    ]
    layer = doc.rootNode().childNodes()[1]
    assert doc.activeNode() is layer and photo.pixelData(0, 0, 80, 60) == before
    got = np.frombuffer(layer.pixelData(0, 0, 80, 60), np.uint8).reshape(60, 80, 4)
    source = save_image(tmp_path / "photo.png", landscape_rgb, overwrite=True)
    out = tmp_path / "core_cutout.png"
    args = ["cutout", str(source), "-o", str(out), "--method", "color", "--jobs", "1"]
    assert cli_main(args + ([] if decontaminate else ["--no-decontaminate"])) == 0
    want = _rgba(out)
    assert (want[..., 3] == 0).any() and (want[..., 3] == 255).any()
    assert np.array_equal(got[..., 3], want[..., 3])
    assert np.array_equal(got[..., 2::-1], want[..., :3])


def _rgba(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def test_cut_out_sky_on_a_photo_without_sky_adds_nothing(krita_plugin, monkeypatch):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    ground = np.zeros((60, 80, 3), np.uint8)
    ground[...] = (70, 90, 40)
    doc, _ = make_doc(krita, ground)
    ext = package.extension
    ext.settings.method = "color"
    assert not ext.run("cut_out_sky")
    assert 'no "Photo without sky" layer added' in ext.last_error, ext.last_error
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo"]


def sky_mask_grey(layer, width, height):
    """The "Sky mask" layer's matte: its R, G and B are equal and opaque; returns the grey."""
    bgra = np.frombuffer(layer.pixelData(0, 0, width, height), np.uint8).reshape(height, width, 4)
    assert (bgra[..., 0] == bgra[..., 1]).all() and (bgra[..., 1] == bgra[..., 2]).all()
    assert (bgra[..., 3] == 255).all()
    return bgra[..., 0]


@pytest.mark.parametrize("api_version", ["5.1", "5.2"])
def test_create_mask_adds_a_grey_layer_and_leaves_the_photo_and_its_mask_alone(
    krita_plugin, landscape_rgb, tmp_path, monkeypatch, api_version
):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb, api_version=api_version, above_name="notes")
    user_mask = doc.createSelectionMask("user mask")  # a mask of the user's own: a ramp
    photo.addChildNode(user_mask, None)
    ramp = krita.Selection()
    ramp.setPixelData(bytes(i % 251 for i in range(80 * 60)), 0, 0, 80, 60)
    user_mask.setSelection(ramp)
    before, mask_before = photo.pixelData(0, 0, 80, 60), user_mask.pixelData(0, 0, 80, 60)
    ext = package.extension
    ext.settings.method = "color"
    assert ext.run("create_mask"), ext.last_error
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo", "Sky mask", "notes"]
    layer = doc.rootNode().childNodes()[1]
    assert layer.type() == "paintlayer" and doc.activeNode() is layer
    got = sky_mask_grey(layer, 80, 60)
    assert np.array_equal(got, core_matte_bytes(landscape_rgb, tmp_path))
    assert photo.pixelData(0, 0, 80, 60) == before  # the user's paint layer is untouched
    assert photo.childNodes() == [user_mask] and user_mask.pixelData(0, 0, 80, 60) == mask_before
    doc.setActiveNode(photo)
    assert ext.run("select_sky")
    assert doc.selection().pixelData(0, 0, 80, 60) == got.tobytes()


def test_save_mask_writes_what_skyseg_mask_writes(
    krita_plugin, landscape_rgb, tmp_path, monkeypatch
):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    make_doc(krita, landscape_rgb)
    ext = package.extension
    ext.settings.method = "color"
    assert ext.run("save_mask", str(tmp_path / "sky.png")), ext.last_error
    assert (
        not ext.run("save_mask", str(tmp_path / "sky.jpg")) and "ending in .png" in ext.last_error
    )
    save_image(tmp_path / "in.png", landscape_rgb)
    assert (
        cli_main(
            [
                "mask",
                str(tmp_path / "in.png"),
                "--method",
                "color",
                "-o",
                str(tmp_path / "cli.png"),
                "--quiet",
            ]
        )
        == 0
    )
    assert np.array_equal(load_image(tmp_path / "sky.png"), load_image(tmp_path / "cli.png"))


def group_children(group, width, height, dtype=np.uint8):
    """A result group's layers, bottom to top: (name, blend mode, visible, R G B, alpha): the
    alpha is the transparency mask's (Krita 5.2) or the layer's own (5.1), None when opaque."""
    out = []
    for child in group.childNodes():
        bgra = np.frombuffer(child.pixelData(0, 0, width, height), dtype).reshape(height, width, 4)
        masks = child.childNodes()
        if masks:
            (mask,) = masks
            assert mask.type() == "transparencymask" and mask.name() == child.name() + " mask"
            alpha = np.frombuffer(mask.pixelData(0, 0, width, height), np.uint8)
            alpha = alpha.reshape(height, width)
            assert (bgra[..., 3] == np.iinfo(dtype).max).all()
        else:
            alpha = None if (bgra[..., 3] == np.iinfo(dtype).max).all() else bgra[..., 3]
        out.append((child.name(), child.blendingMode(), child.visible(), bgra[..., 2::-1], alpha))
    return out


@pytest.mark.parametrize("api_version", ["5.1", "5.2"])
def test_replace_makes_a_group_mirroring_the_layered_file(
    krita_plugin, landscape_rgb, tmp_path, monkeypatch, api_version
):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb, api_version=api_version, above_name="notes")
    before = photo.pixelData(0, 0, 80, 60)
    ext = package.extension
    ext.settings.method = "color"
    ext.settings.set("replace", "sky", "sunset")
    assert ext.run("replace_sky"), ext.last_error
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo", "Sky replaced", "notes"]
    group = doc.rootNode().childNodes()[1]
    assert group.type() == "grouplayer" and doc.activeNode() is group
    assert photo.pixelData(0, 0, 80, 60) == before and photo.childNodes() == []
    image = load_image(save_image(tmp_path / "in.png", landscape_rgb))
    matte = segment(image, method="color")
    result, layers = effects.replace_sky_layers(image, matte, load_sky("sunset"))
    got = group_children(group, 80, 60)
    modes = {"svg:src-over": "normal", "svg:screen": "screen"}
    assert [(n, b, v) for n, b, v, _, _ in got] == [
        (layer.name, modes[layer.composite_op], layer.visible) for layer in layers
    ]
    assert [n for n, *_ in got] == [
        "original photo",
        "foreground light",
        "edge light",
        "new sky",
        "sky matte",
    ]
    for (name, _, _, rgb, alpha), layer in zip(got, layers, strict=True):
        pixels = layer.pixels
        assert np.array_equal(rgb, pixels[..., :3]), name
        if pixels.shape[2] == 4:  # the new sky: its matte as the mask (a 5.1 script: the alpha)
            assert alpha is not None and np.array_equal(alpha, pixels[..., 3]), name
        else:
            assert alpha is None, name
    rebuilt = [
        Layer(name, rgb if alpha is None else np.dstack([rgb, alpha]), visible, 1.0, op)
        for (name, _, visible, rgb, alpha), op in zip(
            got, [layer.composite_op for layer in layers], strict=True
        )
    ]
    assert np.array_equal(composite(rebuilt, (80, 60)), composite(layers, (80, 60)))
    # a second run, with the group (then a layer inside it) active, reads the original photo
    # and puts its group above the first one
    for active in (group, group.childNodes()[3]):
        doc.setActiveNode(active)
        assert ext.run("replace_sky"), ext.last_error
        names = [n.name() for n in doc.rootNode().childNodes()]
        assert names == ["photo", "Sky replaced", "Sky replaced", "notes"]
        second = doc.rootNode().childNodes()[2]
        assert second.childNodes()[0].pixelData(0, 0, 80, 60) == before
        assert [c[3].tobytes() for c in group_children(second, 80, 60)] == [
            c[3].tobytes() for c in got
        ]
        doc.rootNode()._children.remove(second)
        second._parent = None


def test_tint_and_relight_layers(krita_plugin, landscape_rgb, monkeypatch):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb)
    ext = package.extension
    ext.settings.method = "color"
    ext.settings.set("tint", "stops_0", "#ff0000")
    ext.settings.set("relight", "temperature", 3200.0)
    assert ext.run("tint_sky") and ext.run("relight"), ext.last_error
    # each result group becomes the active layer; relight read the tint group's original photo
    # (not the tint) and went above that group
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo", "Sky tinted", "Relit"]
    tinted, relit = doc.rootNode().childNodes()[1:]
    assert [c.name() for c in tinted.childNodes()] == [
        "original photo",
        "sky tint (soft_light)",
        "sky matte",
    ]
    assert [c.blendingMode() for c in tinted.childNodes()] == ["normal", "soft_light_svg", "normal"]
    assert relit.childNodes()[0].pixelData(0, 0, 80, 60) == photo.pixelData(0, 0, 80, 60)
    relight = ext.settings.params("relight")
    assert (relight["temperature"], relight["sky"], relight["method"]) == (3200.0, None, "color")
    assert ext.settings.params("tint")["stops"] == [
        [0.0, "#ff0000"],
        [1.0, TintParams().stops[1][1]],
    ]
    ext.settings.set("relight", "sky", "file")
    assert not ext.run("relight") and "choose an image file" in ext.last_error
    ext.settings.set("relight", "sky_file", str(ROOT / "nowhere.png"))
    assert not ext.run("relight") and "nowhere.png" in ext.last_error


def test_photo_without_sky_is_one_readable_error(krita_plugin, monkeypatch):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    ground = np.zeros((60, 80, 3), np.uint8)
    ground[...] = (70, 95, 40)  # grass, no sky anywhere
    doc, photo = make_doc(krita, ground)
    ext = package.extension
    ext.settings.method = "color"
    for action, done in (
        ("replace_sky", "nothing replaced"),
        ("tint_sky", "nothing tinted"),
        ("create_mask", "no sky mask added"),
        ("select_sky", "nothing selected"),
    ):
        assert not ext.run(action)
        assert ext.last_error.startswith("no sky found in layer 'photo' ("), ext.last_error
        assert (
            ext.last_error.endswith(done)
            and "/tmp" not in ext.last_error
            and "\n" not in ext.last_error
        )
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo"]
    assert photo.childNodes() == [] and doc.selection() is None


def test_export_writes_rgb_from_bgra(krita_plugin, tmp_path):
    krita, package = krita_plugin
    host = importlib.import_module("skyseg_krita.host").KritaHost(krita.Krita.instance())
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)  # red
    rgb[1, 2] = (0, 0, 255)  # blue
    rgb[0, 2] = (10, 20, 30)
    doc, photo = make_doc(krita, rgb)
    bgra = bytearray(rgb_to_bgra(rgb))
    bgra[3::4] = bytes(range(0, 60, 10))  # alpha does not reach the worker (the core ignores it)
    photo.setPixelData(bytes(bgra), 0, 0, 3, 2)
    assert host.export_layer(doc, photo, str(tmp_path / "x.ppm")) == (3, 2)
    assert (tmp_path / "x.ppm").read_bytes() == b"P6\n3 2\n255\n" + rgb.tobytes()
    assert np.array_equal(load_image(tmp_path / "x.ppm"), rgb)
    save_image(tmp_path / "back.ppm", rgb)  # what the worker writes
    assert host.read_bgra(str(tmp_path / "back.ppm"), 3, 2) == rgb_to_bgra(rgb)  # opaque B, G, R, A
    grey = np.arange(6 * 5, dtype=np.uint8).reshape(5, 6) * 8
    save_matte(tmp_path / "g.pgm", (grey / 255.0).astype(np.float32))
    assert host.read_grey(str(tmp_path / "g.pgm"), 6, 5) == grey.tobytes()
    with pytest.raises(
        package.logic.PluginError, match="is 6x5x1 at 8 bits, expected 7x5x1 at 8 bits"
    ):
        host.read_grey(str(tmp_path / "g.pgm"), 7, 5)
    with pytest.raises(package.logic.PluginError, match="expected 6x5x3"):
        host.read_bgra(str(tmp_path / "g.pgm"), 6, 5)


def test_other_colour_spaces_go_out_and_come_back_through_kritas_conversion(
    krita_plugin, tmp_path, monkeypatch
):
    """Issue 25 point 6: a layer that is not sRGB-encoded RGBA (here linear 16-bit grey, a
    group's projection) is converted to sRGB RGBA by Krita's engine before the worker sees it
    (16-bit: deeper than 8 bits), and a result layer made for it is converted back to its
    colour space after its sRGB pixels are in; sRGB RGBA layers are not converted."""
    krita, _ = krita_plugin
    adapter = importlib.import_module("skyseg_krita.host")
    host = adapter.KritaHost(krita.Krita.instance())
    converted = []
    rgba = np.arange(5 * 2 * 4, dtype=np.uint16).reshape(2, 5, 4) * 1000

    def convert(data, width, height, source, target):
        converted.append((len(data), width, height, source, target))
        return rgba[..., [2, 1, 0, 3]].tobytes()

    monkeypatch.setattr(host, "convert", convert)
    space = ("GRAYA", "U16", "Gray-D50-elle-V2-g10.icc")
    node = types.SimpleNamespace(
        type=lambda: "grouplayer",
        colorModel=lambda: space[0],
        colorDepth=lambda: space[1],
        colorProfile=lambda: space[2],
        projectionPixelData=lambda x, y, w, h: bytes(w * h * 4),  # grey + alpha, 16-bit
        name=lambda: "group",
    )
    doc = types.SimpleNamespace(width=lambda: 5, height=lambda: 2)
    assert host.depth(node) == "U16" and host.space(node) == space
    assert host.export_layer(doc, node, str(tmp_path / "t.ppm")) == (5, 2)
    assert converted == [(40, 5, 2, space, ("RGBA", "U16", adapter.SRGB))]
    loaded = load_image(tmp_path / "t.ppm")
    assert loaded.dtype == np.uint16 and np.array_equal(loaded, rgba[..., :3])
    calls = []
    layer = types.SimpleNamespace(
        colorModel=lambda: "GRAYA",
        colorDepth=lambda: "U16",
        colorProfile=lambda: space[2],
        setColorSpace=lambda *a: calls.append(("space", a)) or True,
        setPixelData=lambda data, *a: calls.append(("pixels", len(data))),
    )
    host._fill(layer, bytes(80), 5, 2, space)
    assert calls == [
        ("space", ("RGBA", "U16", adapter.SRGB)),  # the worker's pixels go in as sRGB ...
        ("pixels", 80),
        ("space", space),  # ... and the layer is converted to the photo's colour space
    ]
    calls.clear()
    srgb8 = ("RGBA", "U8", "sRGB built-in")
    layer.colorModel, layer.colorDepth, layer.colorProfile = (lambda v=v: v for v in srgb8)
    host._fill(layer, bytes(40), 5, 2, srgb8)
    assert calls == [("pixels", 40)]  # sRGB RGBA: no conversion either way
    converted.clear()
    node.colorModel, node.colorDepth, node.colorProfile = (lambda v=v: v for v in srgb8)
    node.projectionPixelData = lambda x, y, w, h: rgb_to_bgra(np.full((h, w, 3), 7, np.uint8))
    assert host.export_layer(doc, node, str(tmp_path / "u.ppm")) == (5, 2) and converted == []
    assert np.array_equal(load_image(tmp_path / "u.ppm"), np.full((2, 5, 3), 7, np.uint8))


def test_16_bit_layer_goes_out_and_comes_back_at_16_bits(krita_plugin, tmp_path):
    krita, package = krita_plugin
    host = importlib.import_module("skyseg_krita.host").KritaHost(krita.Krita.instance())
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 65536, (5, 7, 4), dtype=np.uint16)
    bgra = rgba[..., [2, 1, 0, 3]].tobytes()
    node = types.SimpleNamespace(
        type=lambda: "paintlayer",
        colorModel=lambda: "RGBA",
        colorDepth=lambda: "U16",
        pixelData=lambda x, y, w, h: bgra,
        name=lambda: "deep",
    )
    doc = types.SimpleNamespace(width=lambda: 7, height=lambda: 5)
    assert host.depth(node) == "U16" and host.export_layer(
        doc, node, str(tmp_path / "deep.ppm")
    ) == (7, 5)
    assert (tmp_path / "deep.ppm").read_bytes() == b"P6\n7 5\n65535\n" + rgba[..., :3].astype(
        ">u2"
    ).tobytes()
    loaded = load_image(tmp_path / "deep.ppm")
    assert loaded.dtype == np.uint16 and np.array_equal(
        loaded, rgba[..., :3]
    )  # 16 bits reach the worker
    save_image(tmp_path / "back.ppm", rgba[..., :3])
    opaque = rgba.copy()
    opaque[..., 3] = 65535
    assert (
        host.read_bgra(str(tmp_path / "back.ppm"), 7, 5, "U16")
        == opaque[..., [2, 1, 0, 3]].tobytes()
    )
    with pytest.raises(package.logic.PluginError, match="at 16 bits, expected 7x5x3 at 8 bits"):
        host.read_bgra(str(tmp_path / "back.ppm"), 7, 5)


def make_doc_16(krita, rgb, monkeypatch):
    """A document whose paint layer "photo" is 16-bit RGBA holding ``rgb`` (uint16), as B, G, R, A
    words; the fake's paint layers get 16-bit pixels when set to U16."""

    def set_color_space(node, model, depth, profile):
        node._space = (model, depth)
        node._pixels = krita._Pixels(
            node._doc.width(), node._doc.height(), 8 if depth == "U16" else 4
        )
        return True

    monkeypatch.setattr(krita.Node, "setColorSpace", set_color_space)
    h, w, _ = rgb.shape
    doc = krita.Document(w, h)
    photo = doc.createNode("photo", "paintlayer")
    photo.setColorSpace("RGBA", "U16", "")
    doc.rootNode().addChildNode(photo, None)
    bgra = np.full((h, w, 4), 65535, np.uint16)
    bgra[..., :3] = rgb[..., ::-1]
    photo.setPixelData(bgra.tobytes(), 0, 0, w, h)
    doc.setActiveNode(photo)
    krita.Krita.instance().document = doc
    return doc, photo


def test_16_bit_layer_through_the_worker(krita_plugin, tmp_path, monkeypatch):
    """Mask and replace on a 16-bit layer: the worker sees the 16-bit values in R, G, B order and
    the result layer holds its 16-bit output as B, G, R, A words."""
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    image = synthetic_landscape(60, 80, dtype=np.uint16)[0]
    assert np.count_nonzero(image % 257) > image.size // 2  # 16-bit values, not 8-bit ones widened
    doc, photo = make_doc_16(krita, image, monkeypatch)
    ext = package.extension
    ext.settings.method = "color"
    matte = segment(image, method="color")
    assert ext.run("create_mask"), ext.last_error
    mask = doc.rootNode().childNodes()[1]
    assert mask.name() == "Sky mask" and photo.childNodes() == []
    got = sky_mask_grey(mask, 80, 60)  # the 8-bit matte, in an 8-bit layer of a 16-bit document
    assert np.array_equal(got, np.round(matte * 255).astype(np.uint8))
    mask.parentNode()._children.remove(mask)  # the fake's remove(): the rest on the photo alone
    doc.setActiveNode(photo)
    ext.settings.set("replace", "sky", "sunset")
    ext.settings.apply_look("plain")
    assert ext.run("replace_sky"), ext.last_error
    group = doc.rootNode().childNodes()[1]
    assert group.name() == "Sky replaced"
    assert {c.colorDepth() for c in group.childNodes()} == {"U16"}
    got = group_children(group, 80, 60, np.uint16)
    _, layers = effects.replace_sky_layers(
        image, matte, load_sky("sunset"), replace_preset("plain")
    )
    assert layers[0].pixels.dtype == np.uint16
    for (name, _, _, rgb, alpha), layer in zip(got, layers, strict=True):
        assert np.array_equal(rgb, layer.pixels[..., :3]), name  # 16-bit samples kept
        if layer.pixels.shape[2] == 4:  # the mask: a selection is 8-bit
            assert np.abs(alpha.astype(int) - layer.pixels[..., 3] // 257).max() <= 1


def test_worker_crash_and_timeout_give_errors_and_nothing_changes(
    krita_plugin, landscape_rgb, tmp_path, monkeypatch
):
    krita, package = krita_plugin
    doc, photo = make_doc(krita, landscape_rgb)
    ext = package.extension
    crash = tmp_path / "crash.sh"
    crash.write_text("#!/bin/sh\necho 'simulated worker crash' >&2\nexit 7\n")
    crash.chmod(0o755)
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", str(crash))
    assert not ext.run("create_mask")
    log = os.environ["SKYSEG_WORKER_LOG"]
    # one line for the user: what happened and where the worker's messages are, not the messages
    assert (
        ext.last_error
        == f"the skyseg worker stopped during start (exit status 7) (the worker's messages are in {log})"
    )
    with open(log, encoding="utf-8") as fh:
        assert f"{crash} -m skyseg_core worker\nsimulated worker crash\n" in fh.read()
    ext.stop_worker()
    hang = tmp_path / "hang.sh"
    hang.write_text(
        f'#!/bin/sh\necho \'{{"ready": true, "protocol": {PROTOCOL_VERSION}}}\'\nexec sleep 60\n'
    )
    hang.chmod(0o755)
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", str(hang))
    monkeypatch.setenv("SKYSEG_WORKER_TIMEOUT", "1")
    assert not ext.run("replace_sky")
    assert "did not answer within 1 s" in ext.last_error
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo"] and photo.childNodes() == []
    ext.stop_worker()
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    monkeypatch.delenv("SKYSEG_WORKER_TIMEOUT")
    ext.settings.method = "color"
    assert ext.run("create_mask"), ext.last_error  # the next action works again


def test_no_document_or_mask_selected(krita_plugin, landscape_rgb, monkeypatch):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    ext = package.extension
    assert not ext.run("create_mask") and ext.last_error == "open an image first"
    doc, photo = make_doc(krita, landscape_rgb)
    ext.settings.method = "color"
    user_mask = doc.createSelectionMask("user mask")
    photo.addChildNode(user_mask, None)
    doc.setActiveNode(user_mask)  # a mask is selected: work on its layer
    assert ext.run("replace_sky") and [n.name() for n in doc.rootNode().childNodes()] == [
        "photo",
        "Sky replaced",
    ]
    assert doc.rootNode().childNodes()[1].childNodes()[0].name() == "original photo"


def test_docker_edits_settings_and_runs_actions(krita_plugin, qtbot, landscape_rgb, monkeypatch):
    krita, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb)
    docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
    qtbot.addWidget(docker)
    ext = package.extension
    docker.fields["replace.fade_edge"].setValue(3.5)
    docker.fields["replace.flip"].setChecked(True)
    method = docker.fields["source.method"]
    method.setCurrentIndex(method.findData("color"))
    values = ext.settings.values["replace"]
    assert (values["fade_edge"], values["flip"], ext.settings.method) == (3.5, True, "color")
    saved = json.loads(krita.Krita.instance().readSetting("skyseg", "settings", ""))
    assert saved["replace"]["fade_edge"] == 3.5 and saved["source"]["method"] == "color"
    look = docker.fields["replace.look"]
    look.setCurrentIndex(look.findData("dramatic"))  # a look sets replace's controls
    for key, value in REPLACE_PRESETS["dramatic"].items():
        assert docker.fields[f"replace.{key}"].value() == pytest.approx(value) == values[key]
    assert (
        values["fade_edge"] == ReplaceParams().fade_edge
        and not docker.fields["replace.flip"].isChecked()
    )
    sky, sky_file = docker.fields["replace.sky"], docker.fields["replace.sky_file"]
    assert not sky_file.isEnabled()
    sky.setCurrentIndex(sky.findData("file"))
    assert sky_file.isEnabled() and values["sky"] == "file"
    from PyQt6.QtCore import Qt

    from skyseg_core.methods import PLAIN_NAMES, describe_methods

    runnable = [m["name"] for m in describe_methods() if m["available"]]
    for refreshed in (False, True):  # as built from the schema, then from the worker's reply
        if refreshed:
            docker._list_methods()
        items = [
            (
                method.itemData(i),
                method.itemText(i),
                method.itemData(i, Qt.ItemDataRole.ToolTipRole),
            )
            for i in range(method.count())
        ]
        assert items == [
            (n, PLAIN_NAMES[n], f"{PLAIN_NAMES[n]} (technical name: {n})") for n in runnable
        ]
    assert "ade20k" not in runnable and method.currentData() == "color"
    docker._run("create_mask")
    assert ext.last_error is None and doc.rootNode().childNodes()[1].name() == "Sky mask"


def test_docker_fits_a_1080_screen_in_a_scroll_area(krita_plugin, qtbot, monkeypatch):
    from PyQt6.QtCore import QPoint
    from PyQt6.QtWidgets import QAbstractButton, QScrollArea

    _, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
    qtbot.addWidget(docker)
    assert isinstance(docker.widget(), QScrollArea)
    assert docker.minimumSizeHint().height() < 300  # Krita's window leaves ~900 px for dockers
    titles = ["Find the sky", "Replace sky", "Tint sky", "Relight"]
    assert list(docker.sections) == titles
    # docked low (Krita 1080p: the docker below Layers), every section's title is in view
    docker.resize(300, 380)
    docker.show()
    qtbot.waitExposed(docker)
    buttons = [
        b
        for b in docker.toolbox.findChildren(QAbstractButton)
        if b.metaObject().className() == "QToolBoxButton"
    ]
    assert [b.text() for b in buttons] == titles
    for button in buttons:
        top = button.mapTo(docker, QPoint(0, 0)).y()
        assert button.isVisible() and 0 <= top and top + button.height() <= docker.height()
    tint = docker.sections["Tint sky"]
    assert docker.toolbox.currentWidget() is docker.sections["Replace sky"]
    assert not tint.isVisible() and docker.sections["Replace sky"].isVisible()
    buttons[2].click()
    assert tint.isVisible() and docker.preview_effect == "tint"
    assert (
        docker.fields["tint.stops_0"].toolTip()
        == TintParams.__dataclass_fields__["stops"].metadata["control"].help
    )


def test_settings_survive_bad_saved_values(krita_plugin, monkeypatch):
    _, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    logic = importlib.import_module("skyseg_krita.logic")
    schema = package.extension.settings.schema
    s = logic.Settings.from_dict(
        schema,
        {
            "replace": {
                "fade_edge": 3.5,
                "flip": "true",
                "halo": 7.0,
                "unknown": 1,
                "sky": "sunset",
                "look": "nope",
            },
            "tint": {"stops_0": "red", "mode": "multiply"},
            "source": {"method": "color"},
            "fade_edge": 1.0,
        },
    )
    values, defaults = s.values["replace"], ReplaceParams()
    assert (values["fade_edge"], values["flip"], values["halo"]) == (
        3.5,
        defaults.flip,
        defaults.halo,
    )
    assert (values["sky"], values["look"], s.method) == ("sunset", "natural", "color")
    assert (s.values["tint"]["stops_0"], s.values["tint"]["mode"]) == (
        TintParams().stops[0][1],
        "multiply",
    )
    assert logic.Settings.from_dict(schema, "garbage").to_dict() == logic.Settings(schema).to_dict()


# -- skyseg install-plugin ------------------------------------------------------------------------


def test_install_gimp_records_this_interpreter(tmp_path):
    (target,) = install("gimp", dest=tmp_path / "plug-ins")
    assert target == tmp_path / "plug-ins" / "skyseg"
    assert os.stat(target / "skyseg.py").st_mode & stat.S_IXUSR
    client = ROOT / "plugins" / "common" / "skyseg_client"
    copied = {p.name: p.read_bytes() for p in (target / "skyseg_client").iterdir()}
    assert copied == {p.name: p.read_bytes() for p in client.glob("*.py")}  # the whole package
    config = json.loads((target / "skyseg_worker.json").read_text())
    assert config["python"] == sys.executable and config["args"] == ["-m", "skyseg_core", "worker"]
    assert json.loads((target / "skyseg_schema.json").read_text()) == json.loads(
        json.dumps(worker_schema())
    )


def test_schema_comes_from_the_file_else_from_the_worker(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "plugins" / "common"))
    skyseg_client = importlib.import_module("skyseg_client")
    (target,) = install("gimp", dest=tmp_path)
    expected = json.loads((target / "skyseg_schema.json").read_text())
    (target / "skyseg_worker.json").unlink()  # the file is enough: no worker is started
    assert skyseg_client.load_schema(str(target)) == expected
    (target / "skyseg_schema.json").write_text("{not json")
    with pytest.raises(skyseg_client.WorkerNotConfigured, match="cannot read .*skyseg_schema.json"):
        skyseg_client.load_schema(str(target))
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    (target / "skyseg_schema.json").unlink()
    assert skyseg_client.load_schema(str(target)) == expected  # asked the worker's schema op


def test_install_krita_enables_plugin_and_keeps_kritarc(tmp_path, monkeypatch):
    kritarc = tmp_path / "kritarc"
    kritarc.write_text(
        "[General]\ntheme=Krita dark\n\n[python]\nenable_other=true\nenable_skyseg_krita=false\n\n[X]\na=1\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    (tmp_path / "data" / "krita").mkdir(parents=True)  # Krita has been run once
    assert cli_main(["install-plugin", "krita"]) == 0
    pykrita = tmp_path / "data" / "krita" / "pykrita"
    assert (pykrita / "skyseg_krita.desktop").is_file() and (
        pykrita / "skyseg_krita" / "skyseg_client" / "__init__.py"
    ).is_file()
    text = kritarc.read_text()
    assert "enable_skyseg_krita=true" in text and "enable_skyseg_krita=false" not in text
    assert "theme=Krita dark" in text and "enable_other=true" in text and "[X]\na=1" in text
    enable_in_kritarc(kritarc)
    assert kritarc.read_text() == text  # idempotent
    fresh = tmp_path / "fresh" / "kritarc"
    enable_in_kritarc(fresh)
    assert fresh.read_text() == "[python]\nenable_skyseg_krita=true\n"


def test_install_without_host_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(
        InputError,
        match="GIMP 3 .* was not found; install it, or give the plug-in folder with --dest",
    ):
        install("gimp")
    assert cli_main(["install-plugin", "krita"]) == 2
    assert "Krita (no krita on PATH" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_plugins_import_only_host_api_and_stdlib():
    import ast

    allowed = set(sys.stdlib_module_names) | {"gi", "krita", "PyQt5", "PyQt6", "skyseg_client"}
    files = sorted((ROOT / "plugins").rglob("*.py"))
    assert len(files) >= 6
    for path in files:
        siblings = {p.stem for p in path.parent.glob("*.py")}  # the plug-in's own modules
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed | siblings, (
                    f"{path.relative_to(ROOT)} imports {name}"
                )


# -- the shared worker on a per-user Unix socket (GIMP's plug-in processes) -----------------------


@pytest.fixture
def shared(monkeypatch):
    """A socket path in a fresh private folder (short: Unix socket paths have ~100 bytes), the
    client module, and a cleanup that stops every worker started on it."""
    import shutil
    import signal
    import tempfile

    monkeypatch.syspath_prepend(str(ROOT / "plugins" / "common"))
    client_module = importlib.import_module("skyseg_client")
    folder = tempfile.mkdtemp(prefix="skyseg-t-", dir="/tmp")
    path = os.path.join(folder, "run", "worker.sock")
    pids = []

    def client(**kwargs):
        kwargs.setdefault("socket_path", path)
        kwargs.setdefault("idle_timeout", 60)
        kwargs.setdefault("log_path", os.path.join(folder, "worker.log"))
        kwargs.setdefault("start_timeout", 60)
        c = client_module.SkysegClient(WORKER, **kwargs)
        return c

    yield types.SimpleNamespace(
        path=path, folder=folder, client=client, module=client_module, pids=pids
    )
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _log(shared):
    return _read(os.path.join(shared.folder, "worker.log"))


def _track(shared, c):
    pid = c.ready_info["pid"]
    if pid not in shared.pids:
        shared.pids.append(pid)
    return pid


def _gone(pid, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        try:  # our own child (a worker started by the test itself): reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def test_two_calls_in_a_row_reuse_one_shared_worker(shared, photo_png, tmp_path):
    first = shared.client()
    reply = first.request("mask", photo_png, tmp_path / "m1.png", {"method": "color"})
    assert reply["ok"] and first.shared and first.shared_problem is None
    pid = _track(shared, first)
    first.stop()  # a plug-in process ends: the worker stays
    assert not _gone(pid, timeout=0.5)
    second = shared.client()
    second.request("mask", photo_png, tmp_path / "m2.png", {"method": "color"})
    assert second.ready_info["pid"] == pid and second.request("ping")["served"] >= 2
    second.stop()
    assert stat.S_IMODE(os.stat(shared.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(shared.path + ".token").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(shared.path)).st_mode) == 0o700
    assert _log(shared).count("starts the shared worker") == 1


def test_stale_socket_is_replaced(shared):
    import socket

    os.makedirs(os.path.dirname(shared.path), mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(shared.path)  # a socket file nobody listens on (its worker was killed)
    dead.close()
    c = shared.client()
    assert c.request("ping")["ok"] and c.shared
    _track(shared, c)
    c.stop()
    assert "removed the stale socket" in _log(shared)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a file to another user")
def test_another_users_socket_or_folder_is_not_used(shared):
    import socket

    folder = os.path.dirname(shared.path)
    os.makedirs(folder, mode=0o700)
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(shared.path)
    other.listen(1)
    try:
        os.chown(shared.path, 4242, 4242)
        c = shared.client()
        assert c.request("ping")["ok"] and not c.shared  # a private worker instead
        assert "belongs to another user (uid 4242)" in c.shared_problem
        c.stop()
        os.chown(shared.path, 0, 0)
        os.chown(folder, 4242, 4242)
        c = shared.client()
        assert (
            c.request("ping")["ok"]
            and not c.shared
            and "belongs to another user" in c.shared_problem
        )
        c.stop()
    finally:
        other.close()
    assert os.path.exists(shared.path)  # never removed: it is not ours


def test_folder_open_to_others_is_not_used(shared):
    os.makedirs(os.path.dirname(shared.path), mode=0o700)
    os.chmod(os.path.dirname(shared.path), 0o755)
    c = shared.client()
    assert (
        c.request("ping")["ok"]
        and not c.shared
        and "open to other users (mode 755)" in c.shared_problem
    )
    c.stop()


def test_worker_of_another_version_makes_way(shared):
    import subprocess

    code = (
        "import sys, skyseg_core; skyseg_core.__version__ = '0.0-old'; "
        "from skyseg_core.worker.socket_server import main; main(sys.argv[1], 60)"
    )
    old = subprocess.Popen(
        [sys.executable, "-c", code, shared.path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    shared.pids.append(old.pid)
    assert b"listening" in old.stdout.readline()
    old.stdout.close()
    from skyseg_core import __version__

    c = shared.client(expected_version=__version__)
    assert c.request("ping")["version"] == __version__ and c.shared
    assert c.ready_info["pid"] != old.pid and old.wait(10) == 0  # the old one exited
    _track(shared, c)
    c.stop()
    log = _log(shared)
    assert (
        f"the shared worker (pid {old.pid}) refused: the client expects skyseg {__version__}, this worker 0.0-old"
        in log
    )


def test_shared_worker_checks_token_and_protocol_and_exits_when_idle(shared):
    import json as json_module
    import socket
    import subprocess

    server = subprocess.Popen(
        [*WORKER, "--socket", shared.path, "--idle-timeout", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    shared.pids.append(server.pid)
    assert json_module.loads(server.stdout.readline())["listening"] == shared.path
    server.stdout.close()
    token = _read(shared.path + ".token")

    def hello(**fields):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(shared.path)
        s.sendall((json_module.dumps({"hello": True, **fields}) + "\n").encode())
        answer = json_module.loads(s.makefile("rb").readline())
        s.close()
        return answer

    assert hello(token="0" * 32, protocol=PROTOCOL_VERSION) == {
        **hello(token="0" * 32, protocol=PROTOCOL_VERSION),
        "ready": False,
        "error": "wrong token",
    }
    assert hello(token=token, protocol=PROTOCOL_VERSION)["ready"] and server.poll() is None
    assert server.wait(15) == 0 and not os.path.exists(
        shared.path
    )  # idle for 3 s: gone, socket removed
    server = subprocess.Popen(
        [*WORKER, "--socket", shared.path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    shared.pids.append(server.pid)
    server.stdout.readline()
    server.stdout.close()
    refused = hello(token=_read(shared.path + ".token"), protocol=99)
    assert (
        not refused["ready"] and f"protocol 99, this worker {PROTOCOL_VERSION}" in refused["error"]
    )
    assert server.wait(15) == 0  # a client of another protocol: the worker makes way


def test_hanging_shared_worker_is_stopped(shared):
    c = shared.client()
    c.start()
    pid = _track(shared, c)
    with pytest.raises(shared.module.WorkerTimeout, match="did not answer within 0 s"):
        c.request("ping", timeout=0.0)  # no reply can come in time, as from a worker that hangs
    assert _gone(pid)  # a shared worker that hangs is stopped, not left holding the socket
    c2 = shared.client()
    assert c2.request("ping")["ok"] and c2.ready_info["pid"] != pid  # a fresh one
    _track(shared, c2)
    c2.stop()


@pytest.fixture
def photo_png(tmp_path, landscape_rgb):
    return save_image(tmp_path / "photo.png", landscape_rgb)


def test_a_command_that_is_no_socket_worker_falls_back_to_a_private_one(shared, tmp_path):
    hang = tmp_path / "hang.sh"
    hang.write_text(
        f'#!/bin/sh\necho \'{{"ready": true, "protocol": {PROTOCOL_VERSION}}}\'\nexec sleep 60\n'
    )
    hang.chmod(0o755)
    c = shared.module.SkysegClient(
        [str(hang)],
        socket_path=shared.path,
        start_timeout=10,
        request_timeout=1,
        log_path=os.path.join(shared.folder, "worker.log"),
    )
    with pytest.raises(shared.module.WorkerTimeout, match="did not answer within 1 s"):
        c.request("ping")  # the private worker it fell back to (the same script) hangs: stopped
    assert "the shared worker did not start (its first line: " in c.shared_problem
    c.stop()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_plugin_layer_stack_round_trip(tmp_path, monkeypatch, dtype):
    """write_plugin_layers -> skyseg_client.read_layers: names, modes, visibility and samples
    (16-bit ones as native words); a truncated file is a WorkerError."""
    from skyseg_core.layered import write_layers

    monkeypatch.syspath_prepend(str(ROOT / "plugins" / "common"))
    skyseg_client = importlib.import_module("skyseg_client")
    rng = np.random.default_rng(1)
    top = np.iinfo(dtype).max
    rgb = rng.integers(0, top + 1, (5, 7, 3), dtype=dtype)
    rgba = rng.integers(0, top + 1, (5, 7, 4), dtype=dtype)
    grey = rng.integers(0, top + 1, (5, 7), dtype=dtype)
    layers = [
        Layer("original photo", rgb),
        Layer("light", rgba, composite_op="svg:screen", opacity=0.5),
        Layer("matte", grey, visible=False),
    ]
    path = write_layers(tmp_path / "x.layers", layers, (7, 5))
    width, height, got = skyseg_client.read_layers(str(path))
    assert (width, height) == (7, 5)
    assert [(g["name"], g["mode"], g["visible"], g["opacity"], g["mask"]) for g in got] == [
        ("original photo", "normal", True, 1.0, False),
        ("light", "screen", True, 0.5, True),
        ("matte", "normal", False, 1.0, False),
    ]
    native = np.dtype(dtype).newbyteorder("=")
    assert got[0]["rgb"] == rgb.astype(native).tobytes() and got[0]["alpha"] is None
    assert got[1]["rgb"] == np.ascontiguousarray(rgba[..., :3]).astype(native).tobytes()
    assert got[1]["alpha"] == np.ascontiguousarray(rgba[..., 3]).astype(native).tobytes()
    assert got[2]["rgb"] == np.repeat(grey[..., None], 3, axis=2).tobytes()
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(skyseg_client.WorkerError, match="truncated"):
        skyseg_client.read_layers(str(path))


def test_look_values_are_the_defaults_with_the_look_and_keep_the_sky(monkeypatch):
    """What a dialog sets when a Look is chosen (GIMP's follow_dialog)."""
    monkeypatch.syspath_prepend(str(ROOT / "plugins" / "common"))
    skyseg_client = importlib.import_module("skyseg_client")
    schema = worker_schema()
    defaults = ReplaceParams()
    for look, changes in REPLACE_PRESETS.items():
        values = skyseg_client.look_values(schema, "replace", look)
        assert not {"look", "sky", "sky_file"} & set(values)
        for key in ("lighting", "halo", "fade_edge", "color_match", "sky_brightness"):
            assert values[key] == pytest.approx(changes.get(key, getattr(defaults, key))), key


def test_docker_shows_a_run_busy_and_cancels_it(
    krita_plugin, qtbot, landscape_rgb, monkeypatch, tmp_path
):
    """Issue 25 point 5: while an action runs (the worker hung), the docker's and the menu's
    actions are disabled and a busy bar with the time and Cancel shows; Cancel (as Esc) stops
    it with nothing added, and the docker is idle again."""
    krita, package = krita_plugin
    hang = tmp_path / "hang_worker.sh"  # ready, then never answers
    hang.write_text(
        f'#!/bin/sh\necho \'{{"ready": true, "protocol": {PROTOCOL_VERSION}}}\'\nexec sleep 600\n'
    )
    hang.chmod(0o755)
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    doc, photo = make_doc(krita, landscape_rgb)
    docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
    qtbot.addWidget(docker)
    ext = package.extension
    ext.settings.method = "color"
    menu = types.SimpleNamespace(enabled=[], setEnabled=lambda v: menu.enabled.append(v))
    ext.menu_actions.append(menu)
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", str(hang))
    seen = []

    def look():
        seen.append(
            (
                ext.busy,
                [b.isEnabled() for b in docker.buttons],
                docker.busy.isVisibleTo(docker),
                docker.busy_label.text(),
            )
        )
        docker.cancel_button.click()

    from PyQt6.QtCore import QTimer

    QTimer.singleShot(1500, look)
    assert not ext.run("replace_sky")
    assert ext.last_error == "replace sky cancelled: nothing added"
    ((busy, enabled, shown, label),) = seen
    assert busy == "replace_sky" and not any(enabled) and shown
    assert label.startswith("Replace sky: ") and label.endswith(" s (Esc cancels)")
    assert menu.enabled == [False, True]
    assert [n.name() for n in doc.rootNode().childNodes()] == ["photo"]
    assert all(b.isEnabled() for b in docker.buttons) and not docker.busy.isVisibleTo(docker)
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    assert ext.run("create_mask"), ext.last_error  # a new worker for the next action


def test_docker_controls_take_the_wheel_only_when_focused(krita_plugin, qtbot, monkeypatch):
    """Issue 25 point 5: the wheel over a combo or spin box that has no focus scrolls the docker
    and changes nothing (it used to change the sky and save it); focused, it changes the value."""
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication

    _, package = krita_plugin
    monkeypatch.setenv("SKYSEG_WORKER_PYTHON", sys.executable)
    docker = importlib.import_module("skyseg_krita.docker").SkysegDocker()
    qtbot.addWidget(docker)
    docker.show()
    qtbot.waitExposed(docker)
    sky, fade = docker.fields["replace.sky"], docker.fields["replace.fade_edge"]
    values = package.extension.settings.values["replace"]
    before = (sky.currentIndex(), fade.value(), values["sky"], values["fade_edge"])

    def wheel(widget):
        event = QWheelEvent(
            QPointF(5, 5),
            QPointF(widget.mapToGlobal(QPoint(5, 5))),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(widget, event)

    for widget in (sky, fade):
        assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus
        wheel(widget)
    assert (sky.currentIndex(), fade.value(), values["sky"], values["fade_edge"]) == before
    for widget in (sky, fade):
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus)
        wheel(widget)
    assert sky.currentIndex() != before[0] and fade.value() != before[1]
    assert values["sky"] != before[2] and values["fade_edge"] != before[3]
