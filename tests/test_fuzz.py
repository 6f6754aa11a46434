"""Fuzzing with hypothesis: decoders, matte and OpenRaster round trips, the worker's request line, the output planner.

The property everywhere: hostile bytes give a typed :class:`~skyseg_core.errors.SkysegError`
or a valid result, never another exception, a hang or a crash. Example counts come from the
hypothesis profile (tests/conftest.py): ``ci`` (default) runs about 10,000 cases in all,
``HYPOTHESIS_PROFILE=long`` (``make fuzz``) many more. Every failure found becomes a
regression test at the end of this file.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skyseg_core.errors import InputError, SkysegError
from skyseg_core.io import decode_image, encode_image, load_matte, matte_to_uint8, save_matte
from tests.corpus import (
    PRECISE16,
    _cv2_bytes,
    _good_jpeg,
    _good_png,
    jpeg_with_exif,
    photo,
    png_chunk,
)

pytestmark = pytest.mark.timeout(600)


def budget(multiple: float) -> settings:
    """This target's examples: a multiple of the active profile's (profiles: tests/conftest.py).

    The multiples below add up to 10.6, so the ``ci`` profile's 1,000 make 10,600 cases in all.
    """
    return settings(
        max_examples=max(10, round(settings.default.max_examples * multiple)),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def assert_decodes_or_refuses(data: bytes) -> None:
    try:
        image = decode_image(data, "fuzz.bin", max_pixels=4_000_000)
    except SkysegError as exc:
        message = str(exc)
        assert message.startswith("fuzz.bin: ") and "\n" not in message
        return
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype in (np.uint8, np.uint16)
    assert image.shape[0] * image.shape[1] <= 4_000_000 and image.flags.c_contiguous


SEEDS = {
    "png": _good_png(),
    "jpeg": _good_jpeg(),
    "png16": _cv2_bytes(PRECISE16, ".png"),
    "tiff16": _cv2_bytes(PRECISE16, ".tif"),
    "exif_jpeg": jpeg_with_exif(photo(16, 24), 6),
    "gif": encode_image(photo(16, 24), "PNG"),  # replaced below by a real GIF
    "webp": b"",
}


def _pil_seed(fmt: str, **params) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(photo(16, 24)).save(buf, fmt, **params)
    return buf.getvalue()


SEEDS["gif"] = _pil_seed("GIF")
SEEDS["webp"] = _pil_seed("WEBP", lossless=True)
SEEDS["bmp"] = _pil_seed("BMP")
SEEDS["tiff_lzw"] = _pil_seed("TIFF", compression="tiff_lzw")


@st.composite
def mutated(draw, seed_names=tuple(SEEDS)):
    """A valid file with bytes flipped, overwritten, inserted, deleted or cut off."""
    data = bytearray(SEEDS[draw(st.sampled_from(seed_names))])
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(("flip", "set", "insert", "delete", "truncate", "splice")))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from((0x00, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255)))))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":  # big-endian integers in headers: make them huge or zero
            data[at : at + 4] = draw(
                st.sampled_from((b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff"))
            )
    return bytes(data)


@budget(1.5)
@given(st.binary(max_size=2048))
@example(b"")
@example(b"\x89PNG\r\n\x1a\n")
@example(b"\xff\xd8\xff")
@example(b"II*\x00")
@example(b"MM\x00*\x00\x00\x00\x08")
@example(b"GIF89a")
@example(b"BM")
@example(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
def test_random_bytes_are_refused_cleanly(data):
    assert_decodes_or_refuses(data)


@budget(2.5)
@given(mutated())
def test_mutated_files_decode_or_are_refused(data):
    assert_decodes_or_refuses(data)


@st.composite
def crafted_png(draw):
    """A PNG with valid CRCs and a drawn header: any size, bit depth, colour type, interlace."""
    width = draw(st.one_of(st.integers(0, 64), st.sampled_from((2**31 - 1, 2**32 - 1, 100_000))))
    height = draw(st.one_of(st.integers(0, 64), st.sampled_from((2**31 - 1, 2**32 - 1, 100_000))))
    depth = draw(st.sampled_from((1, 2, 4, 8, 16, 3, 0, 32)))
    colour = draw(st.sampled_from((0, 2, 3, 4, 6, 1, 5, 7)))
    interlace = draw(st.sampled_from((0, 1, 2)))
    ihdr = (
        width.to_bytes(4, "big")
        + height.to_bytes(4, "big")
        + bytes((depth, colour, 0, 0, interlace))
    )
    raw = draw(st.binary(max_size=512))
    import zlib

    idat = zlib.compress(raw) if draw(st.booleans()) else raw
    chunks = [png_chunk(b"IHDR", ihdr)]
    if colour == 3 and draw(st.booleans()):
        chunks.append(png_chunk(b"PLTE", draw(st.binary(min_size=0, max_size=48))))
    if draw(st.booleans()):
        chunks.append(png_chunk(b"tRNS", draw(st.binary(max_size=8))))
    if draw(st.booleans()):
        chunks.append(png_chunk(b"eXIf", draw(st.binary(max_size=64))))
    chunks.append(png_chunk(b"IDAT", idat))
    chunks.append(png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


@budget(1.5)
@given(crafted_png())
def test_crafted_png_headers_decode_or_are_refused(data):
    assert_decodes_or_refuses(data)


mattes = st.builds(
    lambda h, w, seed, kind: _matte(h, w, seed, kind),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.sampled_from(("uniform", "binary", "edges", "constant")),
)


def _matte(h: int, w: int, seed: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "binary":
        return (rng.random((h, w)) > 0.5).astype(np.float32)
    if kind == "edges":  # exactly on the rounding boundaries k / 255 +- half a step
        k = rng.integers(0, 255, (h, w))
        return np.clip((k + 0.5) / 255.0 + rng.choice([-1e-7, 0.0, 1e-7], (h, w)), 0, 1).astype(
            np.float32
        )
    if kind == "constant":
        return np.full(
            (h, w),
            rng.choice([0.0, 1.0, 0.5, np.nextafter(np.float32(1), np.float32(0))]),
            np.float32,
        )
    return rng.random((h, w), dtype=np.float32)


@budget(1.0)
@given(mattes)
def test_matte_quantisation_is_round_to_nearest(matte):
    expected = np.round(matte.astype(np.float64) * 255.0)
    assert (
        np.abs(matte_to_uint8(matte).astype(np.float64) - expected).max() <= 1
    )  # ties may go either way
    assert np.abs(matte_to_uint8(matte) / 255.0 - matte).max() <= 0.5 / 255 + 1e-6


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@budget(1.0)
@given(matte=mattes)
def test_matte_write_read_round_trip(matte, scratch):
    path = scratch / "m.png"
    save_matte(path, matte, overwrite=True)
    back = load_matte(path)
    assert back.shape == matte.shape and back.dtype == np.float32
    assert np.abs(back - matte).max() <= 0.5 / 255 + 1e-6
    assert [p.name for p in scratch.iterdir()] == ["m.png"]  # no temporary files left


# -- OpenRaster ------------------------------------------------------------------------------


def _ora_module():
    try:
        from skyseg_core import ora
    except ImportError:  # the effects helper's module is not there yet
        return None
    return ora


ORA = _ora_module()
needs_ora = pytest.mark.skipif(ORA is None, reason="skyseg_core.ora not present")


@st.composite
def ora_layers(draw):
    width, height = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    layers = []
    for i in range(draw(st.integers(1, 4))):
        h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
        channels = draw(st.sampled_from((None, 3, 4)))
        dtype = draw(st.sampled_from((np.uint8, np.uint16)))
        shape = (h, w) if channels is None else (h, w, channels)
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        pixels = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
        layers.append(
            ORA.Layer(
                name=draw(st.text(max_size=12)) or f"layer {i}",
                pixels=pixels,
                visible=draw(st.booleans()),
                opacity=draw(st.floats(0, 1)),
                composite_op=draw(st.sampled_from(ORA.COMPOSITE_OPS)),
                x=draw(st.integers(-30, 30)),
                y=draw(st.integers(-30, 30)),
            )
        )
    return layers, (width, height)


def _xml_safe(text: str) -> bool:
    return all(
        ch in "\t\n\r"
        or (0x20 <= ord(ch) <= 0xD7FF)
        or (0xE000 <= ord(ch) <= 0xFFFD)
        or ord(ch) >= 0x10000
        for ch in text
    )


@needs_ora
@budget(0.5)
@given(spec=ora_layers())
def test_ora_write_read_round_trip(spec, scratch):
    layers, size = spec
    path = scratch / "fuzz.ora"
    ORA.write_ora(path, layers, size, overwrite=True)
    back = ORA.read_ora(path)
    assert back.size == size and len(back) == len(layers)
    for mine, theirs in zip(layers, back, strict=True):
        assert theirs.name == "".join(ch for ch in mine.name if _xml_safe(ch))
        assert np.array_equal(theirs.pixels, mine.pixels)
        assert theirs.visible == mine.visible and (theirs.x, theirs.y) == (mine.x, mine.y)
        assert abs(theirs.opacity - mine.opacity) <= 5e-5 + 1e-9  # written with 4 decimals
        assert theirs.composite_op == mine.composite_op
    assert back.merged is not None and back.merged.shape[:2] == (size[1], size[0])


def _valid_ora() -> bytes:
    if ORA is None:
        return b""
    buf = io.BytesIO()
    layers = [
        ORA.Layer("sky", photo(8, 12)),
        ORA.Layer("mask", (photo(8, 12)[..., 0] > 100).astype(np.uint8) * 255),
    ]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.ora"
        ORA.write_ora(path, layers, (12, 8))
        buf.write(path.read_bytes())
    return buf.getvalue()


@st.composite
def hostile_stack_xml(draw):
    """A structurally valid .ora whose stack.xml attributes are hostile strings."""
    attr = st.one_of(
        st.sampled_from(("nan", "inf", "-inf", "1e999", "", "-1", "0x10", "  3 ", "1e20", "NaN")),
        st.text(max_size=8),
    )
    w, h, x, y, opacity = (draw(attr) for _ in range(5))
    src = draw(
        st.sampled_from(
            ("data/layer000.png", "../../etc/passwd", "", "mergedimage.png", "missing.png")
        )
    )
    from xml.sax.saxutils import quoteattr

    xml = (
        f"<?xml version='1.0' encoding='UTF-8'?><image w={quoteattr(w)} h={quoteattr(h)}><stack>"
        f"<layer src={quoteattr(src)} x={quoteattr(x)} y={quoteattr(y)} opacity={quoteattr(opacity)} "
        f"visibility='visible'/></stack></image>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"image/openraster")
        zf.writestr(
            "stack.xml", xml.encode("utf-8", "surrogatepass") if _xml_safe(xml) else b"<image/>"
        )
        zf.writestr("data/layer000.png", _good_png())
        zf.writestr("mergedimage.png", _good_png())
    return buf.getvalue()


@needs_ora
@budget(0.5)
@given(data=st.one_of(st.just(None), hostile_stack_xml()), draw=st.data())
def test_ora_reader_refuses_hostile_files(data, draw, scratch):
    if data is None:  # a mutated valid .ora
        seed = bytearray(_ORA_SEED)
        for _ in range(draw.draw(st.integers(1, 6))):
            at = draw.draw(st.integers(0, len(seed) - 1))
            seed[at] = draw.draw(st.integers(0, 255))
        data = bytes(seed)
    path = scratch / "hostile.ora"
    path.write_bytes(data)
    try:
        layers = ORA.read_ora(path, max_pixels=1_000_000)
    except SkysegError as exc:
        assert "\n" not in str(exc)
        return
    for layer in layers:
        assert layer.pixels.dtype in (np.uint8, np.uint16)
        assert 0.0 <= layer.opacity <= 1.0


_ORA_SEED = _valid_ora()


# -- the worker's request parser -----------------------------------------------------------


def _worker_module():
    try:
        from skyseg_core import worker
    except ImportError:
        return None
    return worker


WORKER = _worker_module()
needs_worker = pytest.mark.skipif(WORKER is None, reason="skyseg_core.worker not present")

hostile_text = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda t, s: t + s,
        st.text(max_size=6),
        st.sampled_from(("\ud800", "\udfff", "\x00", "\x1b[31m", "\n")),
    ),
    st.builds(lambda n, c: c * n, st.integers(4_000, 100_000), st.sampled_from("xé/")),
)
"""Strings as they arrive from a hostile client: lone surrogates, NUL, escapes, huge sizes."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300)
    | st.floats(allow_nan=True)
    | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=5),
    max_leaves=12,
)


def nested(depth: int, leaf: str = "1") -> str:
    """A JSON value nested ``depth`` deep in lists and objects."""
    return (
        "".join("[" if i % 2 else '{"a": ' for i in range(depth))
        + leaf
        + "".join("]" if i % 2 else "}" for i in reversed(range(depth)))
    )


@st.composite
def requests(draw):
    """Request lines from near-valid to garbage."""
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(st.text(max_size=200))
    if choice == 1:
        return json.dumps(draw(json_values))
    if choice == 4:  # deep nesting in one field of an otherwise plausible request
        field = draw(st.sampled_from(("id", "op", "params", "input", "overwrite")))
        depth = draw(st.integers(1, 20_000))
        return (
            '{"op": "mask", "input": "a.png", "output": "b.png", "'
            + field
            + '": '
            + nested(depth)
            + "}"
        )
    op = draw(st.sampled_from((*WORKER.OPS, "bogus")))
    params_cls = WORKER.OPS.get(op)
    params = {}
    if params_cls is not None and draw(st.booleans()):
        import dataclasses

        for f in dataclasses.fields(params_cls):
            if draw(st.booleans()):
                params[f.name] = draw(json_values)
    request = {
        "id": draw(json_values),
        "op": op,
        "params": params if draw(st.booleans()) else draw(json_values),
    }
    for key in ("input", "output", "overwrite"):
        if draw(st.booleans()):
            request[key] = draw(json_values)
    if draw(st.booleans()):
        request[draw(st.text(max_size=8))] = draw(json_values)
    return json.dumps(request)


@needs_worker
@budget(1.5)
@given(requests())
def test_worker_request_parser_accepts_or_refuses(line):
    try:
        request = WORKER.parse_request(line)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert request.op in WORKER.OPS
    assert isinstance(request.params, WORKER.OPS[request.op])
    json.dumps(WORKER.to_dict(request.params))  # what was accepted serialises back


@needs_worker
@budget(0.3)
@given(requests())
def test_worker_answers_every_line_and_goes_on(line):
    """The whole loop: one short reply per line, and the next request is served."""
    stdout = io.StringIO()
    served = WORKER.serve(
        io.StringIO(line.replace("\n", " ") + "\n" + '{"id": "next", "op": "ping"}\n'),
        stdout,
        WORKER.Worker(),
        log=io.StringIO(),
    )
    replies = [json.loads(text) for text in stdout.getvalue().splitlines()[1:]]
    if not line.strip():
        assert served == 1 and replies[-1]["id"] == "next"
        return
    if replies[0].get("output") == "bye":  # a valid shutdown ends the loop, as it should
        assert len(replies) == 1
        return
    assert len(replies) == 2 and replies[1]["id"] == "next" and replies[1]["ok"], replies
    assert replies[0]["ok"] or replies[0]["kind"] != "InternalError", replies[0]
    if not replies[0][
        "ok"
    ]:  # an error reply stays short (a schema or methods reply is long by design)
        assert len(json.dumps(replies[0])) < 3 * WORKER.MAX_ERROR_CHARS


# -- the output planner ----------------------------------------------------------------------

_PLAN_FOLDERS = ("a", "b", "a/sub", "link_to_a", ".")
_PLAN_STEMS = ("x", "y", "x.tar", "X")
_PLAN_SUFFIXES = (".jpg", ".png", ".tif", ".PNG")


@pytest.fixture(scope="module")
def plan_tree(tmp_path_factory) -> Path:
    """Folders with some of the names below present, a symlinked folder and a hard link."""
    root = tmp_path_factory.mktemp("plan")
    for folder in ("a", "b", "a/sub"):
        (root / folder).mkdir(parents=True)
        for stem in _PLAN_STEMS[:2]:
            (root / folder / f"{stem}.png").write_bytes(b"png")
            (root / folder / f"{stem}.jpg").write_bytes(b"jpg")
    (root / "link_to_a").symlink_to(root / "a")
    import os

    os.link(root / "a" / "x.png", root / "b" / "hard.png")
    return root


@st.composite
def batches(draw):
    """A run as the CLI plans it: inputs, each with an output beside it or in an --out-dir, and
    maybe a side matte in (``--matte DIR``) and out (``--matte-out DIR``)."""
    names = st.builds(
        lambda f, s, x: f"{f}/{s}{x}",
        st.sampled_from(_PLAN_FOLDERS),
        st.sampled_from(_PLAN_STEMS),
        st.sampled_from(_PLAN_SUFFIXES + (".ora",)),
    )
    sources = draw(st.lists(st.one_of(names, st.just("b/hard.png")), min_size=1, max_size=8))
    out_dir = draw(st.sampled_from((None, *_PLAN_FOLDERS)))
    suffix = draw(st.sampled_from((".png", "_tinted.jpg", ".jpg")))
    matte_in = draw(st.sampled_from((None, *_PLAN_FOLDERS)))
    matte_out = draw(st.sampled_from((None, *_PLAN_FOLDERS)))
    return sources, out_dir, suffix, matte_in, matte_out


@budget(0.3)
@given(batch=batches())
def test_output_plan_never_maps_two_outputs_to_one_file_or_an_output_to_an_input(batch, plan_tree):
    from skyseg_core.outputs import Job, file_keys, plan_outputs

    sources, out_dir, suffix, matte_in, matte_out = batch
    jobs = []
    for name in sources:
        source = plan_tree / name
        folder = plan_tree / out_dir if out_dir else source.parent
        outputs = {"output": folder / f"{Path(name).stem}{suffix}"}
        if matte_out:
            outputs["matte"] = plan_tree / matte_out / f"{Path(name).stem}.png"
        reads = (plan_tree / matte_in / f"{Path(name).stem}.png",) if matte_in else ()
        jobs.append(Job(source, outputs, reads))
    plan_outputs(jobs)
    read = set().union(*(file_keys(p) for job in jobs for p in (job.source, *job.reads)))
    written: set = set()
    for job in jobs:
        if job.error is not None:
            assert "\n" not in str(job.error)
            continue
        keys = [file_keys(p) for p in job.outputs.values()]
        for k in keys:
            assert not k & read, f"{job.outputs} would overwrite an input"
            assert not k & written, f"{job.outputs} collides with another output"
            written |= k


# -- regressions found by fuzzing ------------------------------------------------------------
# (Decoder crashes found while building the corpus are corpus cases: pipe.jpg hung the loader,
# symlink_loop.jpg crashed a whole CLI batch, bogus_exif.jpg failed under warnings-as-errors,
# rgb16.png came back 8-bit after reading EXIF. See tests/corpus.py.)


@needs_ora
def test_regression_ora_layer_name_with_control_character(scratch):
    """Found by test_ora_write_read_round_trip: a name XML cannot hold made an unreadable file."""
    path = scratch / "control.ora"
    ORA.write_ora(
        path,
        [ORA.Layer(name="\x1fsky\x00", pixels=np.array([[217]], np.uint8))],
        (1, 1),
        overwrite=True,
    )
    assert ORA.read_ora(path)[0].name == "sky"


@needs_ora
def test_regression_ora_damaged_zip_directory(scratch):
    """Found by test_ora_reader_refuses_hostile_files: a damaged offset raised a raw OSError."""
    import struct

    data = bytearray(_ORA_SEED)
    end = data.rfind(b"PK\x05\x06")  # end of central directory record
    (offset,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<I", data, end + 16, offset + 1000)  # entries now seek before the file start
    path = scratch / "damaged.ora"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged.ora"):
        ORA.read_ora(path)


@needs_ora
@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "abc", ""])
def test_regression_ora_hostile_attribute_values(scratch, value):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"image/openraster")
        zf.writestr(
            "stack.xml",
            f"<image w='64' h='48'><stack><layer src='data/a.png' x='{value}' y='{value}' "
            f"opacity='{value}'/></stack></image>",
        )
        zf.writestr("data/a.png", _good_png())
    path = scratch / "attrs.ora"
    path.write_bytes(buf.getvalue())
    (layer,) = ORA.read_ora(path)
    assert (layer.x, layer.y) == (0, 0) and layer.opacity == 1.0


@needs_ora
def test_regression_ora_layer_bomb_is_refused_before_decoding(scratch):
    from tests.corpus import png_claiming

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"image/openraster")
        zf.writestr(
            "stack.xml", "<image w='10' h='10'><stack><layer src='data/bomb.png'/></stack></image>"
        )
        zf.writestr("data/bomb.png", png_claiming(100_000, 100_000))
    path = scratch / "bomb.ora"
    path.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match="larger than the pixel limit"):
        ORA.read_ora(path)
