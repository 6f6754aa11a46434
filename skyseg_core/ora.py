"""OpenRaster (.ora) files: the layered format GIMP and Krita both open.

An .ora file is a zip: ``mimetype`` first and stored (``image/openraster``), ``stack.xml``
describing the layers (top first), one PNG per layer under ``data/``, ``mergedimage.png`` (the
full composite) and ``Thumbnails/thumbnail.png`` (at most 256 x 256). Neither GIMP nor Krita
reads layer masks from OpenRaster, so skyseg writes a masked layer as RGBA with the mask in
alpha. Spec: https://www.openraster.org/

Layers are given and returned bottom to top (the order they are painted in).
"""

from __future__ import annotations

import os
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .blend_modes import BLEND_MODES, BLENDS, BY_ORA_OP, blend
from .depth import convert_depth, to_codes, to_float
from .errors import InputError, OutputError
from .io import NOT_REGULAR_FILE, max_pixels_limit, path_kind, write_bytes_atomic

MIMETYPE = b"image/openraster"

COMPOSITE_OPS = tuple(BLENDS[name].ora_op for name in BLEND_MODES)
"""The composite operations :func:`write_ora` can also render into ``mergedimage.png``."""


@dataclass
class Layer:
    """One raster layer.

    ``pixels`` is (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, uint8 or uint16 (16-bit is kept).
    ``x``, ``y`` place its top-left corner on the canvas.
    """

    name: str
    pixels: np.ndarray
    visible: bool = True
    opacity: float = 1.0
    composite_op: str = "svg:src-over"
    x: int = 0
    y: int = 0


class OraLayers(list):
    """The layers of an .ora file (bottom to top), with the canvas ``size`` (W, H) and ``merged``."""

    size: tuple[int, int] = (0, 0)
    merged: np.ndarray | None = None


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (control characters, lone surrogates)."""
    return _NOT_XML.sub("", str(text))


def _encode_png(pixels: np.ndarray) -> bytes:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise OutputError(f"layers must be uint8 or uint16, got {pixels.dtype}")
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        data = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        data = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    elif pixels.ndim == 2:
        data = pixels
    else:
        raise OutputError(
            f"layers must be (H, W), (H, W, 3) or (H, W, 4), got shape {pixels.shape}"
        )
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(data), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OutputError("could not encode a layer as PNG")
    return buf.tobytes()


def _decode_png(data: bytes, name: str) -> np.ndarray:
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        pixels = None
    if pixels is None:
        raise InputError(f"layer {name!r} is not a readable PNG")
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
    if pixels.ndim == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    return pixels


def rgba_float(pixels: np.ndarray) -> np.ndarray:
    """8/16-bit grey, RGB or RGBA codes as float32 RGBA in [0, 1] (opaque where there is no alpha)."""
    p = to_float(pixels)
    if p.ndim == 2:
        p = np.repeat(p[..., None], 3, axis=2)
    if p.shape[2] == 3:
        p = np.concatenate([p, np.ones(p.shape[:2] + (1,), np.float32)], axis=2)
    return p


def composite(layers: list[Layer], size: tuple[int, int]) -> np.ndarray:
    """Render the visible layers (bottom to top) into float RGBA (H, W, 4) in [0, 1].

    Blending happens on the stored (sRGB) values, as GIMP and Krita do for OpenRaster.
    """
    W, H = size
    out = np.zeros((H, W, 4), np.float32)
    for layer in layers:
        if not layer.visible or layer.opacity <= 0:
            continue
        src = rgba_float(layer.pixels)
        x0, y0 = max(layer.x, 0), max(layer.y, 0)
        x1, y1 = min(layer.x + src.shape[1], W), min(layer.y + src.shape[0], H)
        if x1 <= x0 or y1 <= y0:
            continue
        s = src[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
        b = out[y0:y1, x0:x1]
        a_s = s[..., 3:4] * np.float32(layer.opacity)
        a_b = b[..., 3:4]
        cs, cb = s[..., :3], b[..., :3]
        mode = BY_ORA_OP.get(layer.composite_op)
        plain = mode is None or mode.formula is None or mode.name == "normal"
        mixed = cs if plain or mode is None else (1 - a_b) * cs + a_b * blend(cb, cs, mode.name)
        a_o = a_s + a_b * (1 - a_s)
        premult = a_s * mixed + (1 - a_s) * a_b * cb
        b[..., :3] = np.where(a_o > 0, premult / np.maximum(a_o, 1e-8), 0.0)
        b[..., 3:4] = a_o
    return out


def _to_codes(rgba: np.ndarray, dtype) -> np.ndarray:
    codes = to_codes(rgba, dtype)
    return codes[..., :3] if np.all(rgba[..., 3] >= 1.0) else codes


def check_layers(layers: list[Layer], size: tuple[int, int], path: Path) -> tuple[int, int]:
    """What every layered file needs: a positive canvas and one or more 8/16-bit layers.
    Returns the canvas (width, height); raises :class:`OutputError` naming the problem."""
    W, H = (int(v) for v in size)
    if W < 1 or H < 1:
        raise OutputError(f"canvas size must be positive, got {size}")
    if not layers:
        raise OutputError("a layered file needs at least one layer", path)
    for layer in layers:
        if layer.pixels.dtype not in (np.uint8, np.uint16):
            raise OutputError(
                f"layer {layer.name!r}: pixels must be uint8 or uint16, got {layer.pixels.dtype}"
            )
    return W, H


def write_ora(
    path: str | os.PathLike,
    layers: list[Layer],
    size: tuple[int, int],
    overwrite: bool = False,
    merged: np.ndarray | None = None,
) -> Path:
    """Write an OpenRaster file atomically.

    Parameters
    ----------
    path : path-like
        The ``.ora`` file to write.
    layers : list of Layer
        Bottom to top.
    size : (width, height)
        The canvas size.
    overwrite : bool
        Replace an existing file (otherwise :class:`OutputError`).
    merged : ndarray, optional
        The full composite (RGB or RGBA, uint8/uint16) for ``mergedimage.png``; by default the
        visible layers are composited here (normal and the ``COMPOSITE_OPS`` modes).
    """
    path = Path(path)
    if path.suffix.lower() != ".ora":
        raise OutputError("layered output is OpenRaster; give a .ora file name", path)
    W, H = check_layers(layers, size, path)
    if merged is None:
        deep = any(layer.pixels.dtype == np.uint16 for layer in layers)
        merged = _to_codes(composite(layers, (W, H)), np.uint16 if deep else np.uint8)
    if merged.shape[:2] != (H, W):
        raise OutputError(f"merged image is {merged.shape[1]}x{merged.shape[0]}, canvas is {W}x{H}")

    root = ET.Element(
        "image", {"version": "0.0.5", "w": str(W), "h": str(H), "xres": "72", "yres": "72"}
    )
    stack = ET.SubElement(root, "stack")
    files: list[tuple[str, bytes]] = []
    for i, layer in enumerate(layers):
        src = f"data/layer{i:03d}.png"
        files.append((src, _encode_png(layer.pixels)))
    for i, layer in reversed(list(enumerate(layers))):  # stack.xml lists the top layer first
        ET.SubElement(
            stack,
            "layer",
            {
                "name": xml_safe(layer.name),
                "src": f"data/layer{i:03d}.png",
                "x": str(int(layer.x)),
                "y": str(int(layer.y)),
                "opacity": f"{float(np.clip(layer.opacity, 0.0, 1.0)):.4f}",
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": layer.composite_op,
            },
        )
    stack_xml = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    merged8 = convert_depth(merged, np.uint8)
    scale = min(1.0, 256 / max(W, H))
    thumb = cv2.resize(
        merged8, (max(1, round(W * scale)), max(1, round(H * scale))), interpolation=cv2.INTER_AREA
    )

    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            info = zipfile.ZipInfo("mimetype", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, MIMETYPE)
            zf.writestr("stack.xml", stack_xml, compress_type=zipfile.ZIP_DEFLATED)
            for name, data in files:
                zf.writestr(
                    name, data, compress_type=zipfile.ZIP_STORED
                )  # PNG is compressed already
            zf.writestr("mergedimage.png", _encode_png(merged), compress_type=zipfile.ZIP_STORED)
            zf.writestr(
                "Thumbnails/thumbnail.png", _encode_png(thumb), compress_type=zipfile.ZIP_STORED
            )

    return write_bytes_atomic(path, write, overwrite=overwrite)


_MAX_XML_BYTES = 16 << 20
"""Largest stack.xml read (a zip entry can claim any size: a zip bomb)."""


def _attr_float(node, key: str, default: float) -> float:
    try:
        value = float(node.get(key, default))
    except (TypeError, ValueError):
        return default
    return value if np.isfinite(value) else default


def _attr_int(node, key: str, default: int = 0) -> int:
    value = _attr_float(node, key, default)
    return int(np.clip(value, -(2**31), 2**31 - 1))


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR, or None if ``data`` does not start like a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _read_entry(zf: zipfile.ZipFile, name: str, limit_bytes: int, path: Path) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit_bytes:
        raise InputError(f"{name} claims {info.file_size:,} bytes, more than skyseg reads", path)
    return zf.read(info)


def _layer_pixels(zf: zipfile.ZipFile, src: str, limit: int, path: Path) -> np.ndarray:
    """A layer PNG, its size checked against the pixel limit before decoding."""
    try:
        data = _read_entry(zf, src, limit * 8 + (1 << 20), path)  # 16-bit RGBA + slack
    except KeyError:
        raise InputError(f"layer file {src!r} missing", path) from None
    size = _png_size(data)
    if size is None:
        raise InputError(f"layer {src!r} is not a PNG", path)
    if size[0] * size[1] > limit:
        raise InputError(f"layer {src!r} is {size[0]}x{size[1]}, larger than the pixel limit", path)
    return _decode_png(data, src)


def read_ora(path: str | os.PathLike, max_pixels: int | None = None) -> OraLayers:
    """Read an OpenRaster file's layers, bottom to top (with ``.size`` and ``.merged``).

    Raises :class:`InputError` for a file that is not a valid OpenRaster zip, a missing layer
    PNG, or a canvas or layer larger than the pixel limit. Hostile attribute values (NaN,
    huge numbers, text) fall back to the defaults; opacity is clipped to [0, 1].
    """
    path = Path(path)
    kind = path_kind(path)
    if kind != "file":  # a pipe or device is never opened: reading it could wait forever
        reason = {"missing": "no such file", "folder": "is a folder, not an OpenRaster file"}
        raise InputError(reason.get(kind, NOT_REGULAR_FILE), path)
    limit = max_pixels_limit(max_pixels)
    try:
        return _read_ora(path, limit)
    except InputError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        ValueError,
        struct.error,
        KeyError,
    ) as exc:
        # zipfile raises all of these for damaged archives
        raise InputError(
            f"not a readable OpenRaster file ({type(exc).__name__}: {exc})".replace("\n", " "), path
        ) from None


def _read_ora(path: Path, limit: int) -> OraLayers:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if (
            not names
            or names[0] != "mimetype"
            or _read_entry(zf, "mimetype", 1024, path).strip() != MIMETYPE
        ):
            raise InputError("not an OpenRaster file (mimetype entry missing or wrong)", path)
        try:
            root = ET.fromstring(_read_entry(zf, "stack.xml", _MAX_XML_BYTES, path))
        except (KeyError, ET.ParseError) as exc:
            raise InputError(f"stack.xml missing or malformed ({exc})", path) from None
        try:
            W, H = int(root.get("w", "")), int(root.get("h", ""))
        except (TypeError, ValueError):
            raise InputError("stack.xml has no valid canvas size", path) from None
        if W < 1 or H < 1:
            raise InputError(f"canvas size {W}x{H} is not positive", path)
        if W * H > limit:
            raise InputError(f"canvas {W}x{H} is larger than the pixel limit", path)
        layers = OraLayers()
        for node in root.iter("layer"):
            layers.append(
                Layer(
                    name=node.get("name", ""),
                    pixels=_layer_pixels(zf, node.get("src", ""), limit, path),
                    visible=node.get("visibility", "visible") != "hidden",
                    opacity=float(np.clip(_attr_float(node, "opacity", 1.0), 0.0, 1.0)),
                    composite_op=node.get("composite-op", "svg:src-over"),
                    x=_attr_int(node, "x"),
                    y=_attr_int(node, "y"),
                )
            )
        layers.reverse()  # stack.xml is top first
        layers.size = (W, H)
        if "mergedimage.png" in names:
            layers.merged = _layer_pixels(zf, "mergedimage.png", limit, path)
    return layers
