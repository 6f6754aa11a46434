"""Layered outputs: OpenRaster (.ora: GIMP, Krita) and Photoshop (.psd: Photoshop, Affinity
Photo, Photopea, GIMP, Krita), from one list of :class:`~skyseg_core.ora.Layer` objects.

The PSD has the same layers, names, order, visibility, opacity and blend modes as the .ora. An
RGBA layer (the new sky, a tint, the relight) keeps its colours in the layer and its alpha as
a **layer mask**, so the matte can be refined in the editor with a brush; written with
psd-tools (8-bit, or 16-bit when any layer is 16-bit; masks at 8 bits of precision).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .blend_modes import BLENDS, HOST_MODES
from .depth import convert_depth
from .errors import OutputError
from .io import write_bytes_atomic
from .ora import Layer, check_layers, composite, rgba_float, write_ora

__all__ = [
    "LAYERED_SUFFIXES",
    "PLUGIN_LAYERS_SUFFIX",
    "PSD_BLEND_MODES",
    "write_layers",
    "write_plugin_layers",
    "write_psd",
]

LAYERED_SUFFIXES = (".ora", ".psd")
"""The layered formats :func:`write_layers` writes, by file suffix."""

PSD_BLEND_MODES = {m.ora_op: m.psd_mode for m in BLENDS.values()}
"""OpenRaster composite operation -> psd-tools ``BlendMode`` name."""

PLUGIN_LAYERS_SUFFIX = ".layers"
"""The raw layer stack the host plug-ins rebuild as a layer group (:func:`write_plugin_layers`)."""

BLEND_NAMES = {m.ora_op: m.name for m in BLENDS.values()}


def write_layers(
    path: str | os.PathLike,
    layers: list[Layer],
    size: tuple[int, int],
    overwrite: bool = False,
    merged: np.ndarray | None = None,
    icc_profile: bytes = b"",
) -> Path:
    """Write layers as OpenRaster or Photoshop, chosen by the suffix of ``path`` (.ora or .psd).

    Parameters are those of :func:`skyseg_core.ora.write_ora` (layers bottom to top, ``size``
    as (width, height), ``merged`` the full composite), plus ``icc_profile``: the photo's
    profile, embedded in a PSD (OpenRaster has no place for one). Written atomically.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ora":
        return write_ora(path, layers, size, overwrite=overwrite, merged=merged)
    if suffix == ".psd":
        return write_psd(
            path, layers, size, overwrite=overwrite, merged=merged, icc_profile=icc_profile
        )
    if suffix == PLUGIN_LAYERS_SUFFIX:
        return write_plugin_layers(path, layers, size, overwrite=overwrite)
    raise OutputError(
        "layered output is OpenRaster or Photoshop; give a .ora or .psd file name", path
    )


def _plane(pixels: np.ndarray, deep: bool) -> np.ndarray:
    """Layer pixels as the document's dtype (uint16 in a 16-bit document)."""
    if deep and pixels.dtype == np.uint8:
        return convert_depth(pixels, np.uint16)
    return pixels


def write_psd(
    path: str | os.PathLike,
    layers: list[Layer],
    size: tuple[int, int],
    overwrite: bool = False,
    merged: np.ndarray | None = None,
    icc_profile: bytes = b"",
) -> Path:
    """Write a layered Photoshop file atomically (see the module docstring for what it holds).

    ``merged`` (RGB or RGBA, uint8/uint16) becomes the flattened image that viewers without
    layer support show; by default the visible layers are composited as for OpenRaster.
    """
    from PIL import Image
    from psd_tools import PSDImage
    from psd_tools.api import numpy_io
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import BlendMode, Compression, Resource
    from psd_tools.psd.image_resources import ImageResource

    path = Path(path)
    if path.suffix.lower() != ".psd":
        raise OutputError("give a .psd file name", path)
    W, H = check_layers(layers, size, path)
    if max(W, H) > 30_000:
        raise OutputError(f"a PSD holds at most 30000x30000 pixels, the canvas is {W}x{H}", path)
    for layer in layers:
        if layer.composite_op not in PSD_BLEND_MODES:
            raise OutputError(
                f"layer {layer.name!r}: no Photoshop blend mode for {layer.composite_op!r}"
            )
    deep = any(layer.pixels.dtype == np.uint16 for layer in layers) or (
        merged is not None and merged.dtype == np.uint16
    )
    if merged is None:
        flat = composite(layers, (W, H))
    else:
        if merged.shape[:2] != (H, W):
            raise OutputError(
                f"merged image is {merged.shape[1]}x{merged.shape[0]}, canvas is {W}x{H}"
            )
        flat = rgba_float(merged)

    psd = PSDImage.new("RGB", (W, H), depth=16 if deep else 8)
    for layer in layers:
        pixels = layer.pixels
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        colour, alpha = pixels[..., :3], pixels[..., 3] if pixels.shape[2] == 4 else None
        added = PixelLayer.fromarray(
            np.ascontiguousarray(_plane(colour, deep)),
            psd,
            name=layer.name,
            top=int(layer.y),
            left=int(layer.x),
            compression=Compression.RLE,
        )
        if alpha is not None:
            alpha8 = convert_depth(alpha, np.uint8)
            added.create_mask(
                Image.fromarray(np.ascontiguousarray(alpha8), "L"), compression=Compression.RLE
            )
        added.visible = bool(layer.visible)
        added.opacity = int(round(float(np.clip(layer.opacity, 0.0, 1.0)) * 255))
        added.blend_mode = getattr(BlendMode, PSD_BLEND_MODES[layer.composite_op])
    if icc_profile:
        psd.image_resources[Resource.ICC_PROFILE] = ImageResource(
            key=Resource.ICC_PROFILE, data=bytes(icc_profile)
        )
    record = psd._record  # the flattened image is ours (the effect's own result), not a re-render
    record.image_data.set_data(
        numpy_io.encode_image_data(
            psd, np.clip(flat[..., :3], 0, 1), np.clip(flat[..., 3:4], 0, 1)
        ),
        record.header,
    )

    def write(fh) -> None:
        record.write(fh)

    return write_bytes_atomic(path, write, overwrite=overwrite)


def write_plugin_layers(
    path: str | os.PathLike, layers: list[Layer], size: tuple[int, int], overwrite: bool = False
) -> Path:
    """The layers for a host plug-in, read with the standard library alone: one JSON line, then
    each layer's raw samples, written atomically.

    The line: ``{"size": [W, H], "layers": [...]}``, bottom to top, each layer ``name``,
    ``visible``, ``opacity`` (0-1), ``mode`` (a :data:`~skyseg_core.blend_modes.BLENDS` name)
    and the hosts' own names for it (``gimp_mode``, ``krita_mode``: ``HOST_MODES``),
    ``sixteen`` (16-bit samples, big-endian as in Netpbm) and ``mask`` (whether an alpha plane
    follows). Then per layer its R, G, B samples (H x W x 3; a grey layer repeated) and, with
    ``mask``, its alpha (H x W): what the plug-ins make the layer's mask.
    """
    import json

    path = Path(path)
    W, H = check_layers(layers, size, path)
    header, planes = [], []
    for layer in layers:
        pixels = layer.pixels
        if pixels.shape[:2] != (H, W) or (layer.x, layer.y) != (0, 0):
            raise OutputError(f"layer {layer.name!r} does not cover the {W}x{H} canvas", path)
        if layer.composite_op not in BLEND_NAMES:
            raise OutputError(f"layer {layer.name!r}: unknown blend {layer.composite_op!r}")
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        big = ">u2" if pixels.dtype == np.uint16 else np.uint8
        planes.append(np.ascontiguousarray(pixels[..., :3], big))
        if pixels.shape[2] == 4:
            planes.append(np.ascontiguousarray(pixels[..., 3], big))
        header.append(
            {
                "name": layer.name,
                "visible": bool(layer.visible),
                "opacity": float(np.clip(layer.opacity, 0.0, 1.0)),
                "mode": BLEND_NAMES[layer.composite_op],
                "gimp_mode": HOST_MODES[BLEND_NAMES[layer.composite_op]][0],
                "krita_mode": HOST_MODES[BLEND_NAMES[layer.composite_op]][1],
                "sixteen": bool(pixels.dtype == np.uint16),
                "mask": bool(pixels.shape[2] == 4),
            }
        )
    line = json.dumps({"size": [W, H], "layers": header}).encode() + b"\n"

    def write(fh) -> None:
        fh.write(line)
        for plane in planes:
            fh.write(plane.view(np.uint8).data)

    return write_bytes_atomic(path, write, overwrite=overwrite)
